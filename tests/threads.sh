#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# threads.sh BXSIM SRC - bxsim's threaded paths, run for real with two threads: replications of a
# ports run, template generation, exact and int8 1:N search, and a sizing search. In the release
# build it checks they work; in the tsan preset (cmake --preset tsan; ctest --preset tsan) the
# same program is built with ThreadSanitizer, which stops on the first data race. (Criterion's
# forking runner cannot start under ThreadSanitizer, so the tsan preset runs this, not the
# suites.)
set -euo pipefail
bxsim=$1 src=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/bx-threads-XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
"$bxsim" run "$src/scenarios/default.yaml" --out run --threads 2 --replications 2 --quiet
"$bxsim" gallery gen --profile visa-best --subjects 3000 --samples 2 --threads 2 --out g.h5 2>/dev/null
"$bxsim" gallery gen --profile visa-best --subjects 40 --seed 9 --out p.h5 2>/dev/null
"$bxsim" gallery search --gallery g.h5 --probes p.h5 --k 5 --threads 2 --out exact.csv 2>/dev/null
"$bxsim" gallery search --gallery g.h5 --probes p.h5 --k 5 --threads 2 --fast --out fast.csv 2>/dev/null
"$bxsim" size "$src/scenarios/default.yaml" --target-p95-wait 300 --replications 2 --threads 2 \
    --port regional-airport >/dev/null 2>&1
[ -s run/summary.json ] && [ -s exact.csv ] && [ -s fast.csv ]
echo "threads: run, gallery gen, exact and fast search, size with 2 threads each: ok"
