#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh - the fuzz targets' seed corpora and short fuzz runs (docs/robustness.md).
#
#   run.sh replay SRC BXSIM REPLAY_DIR    every seed through each target, once (the replay_*
#                                         programs of this build: under ASan in asan-ubsan)
#   run.sh fuzz SRC BXSIM WORK [SECONDS]  build the targets with clang's libFuzzer, AddressSanitizer
#                                         and UBSan in WORK/build, and fuzz each for SECONDS (30)
#
# Seeds: the committed ones (corpus/scenario, corpus/scores), the library's scenarios and
# profiles, and HDF5 files bxsim writes here (a small gallery, probes, a short run's results.h5).
set -euo pipefail
mode=$1 src=$2 bxsim=$3 dir=$4 seconds=${5:-30}
work=$(mktemp -d "${TMPDIR:-/tmp}/bx-fuzz-run-XXXXXX")
trap 'rm -rf "$work"' EXIT

# The corpora, one folder per target.
mkdir -p "$work/corpus/scenario" "$work/corpus/scores" "$work/corpus/templates" "$work/corpus/results"
cp "$src"/tests/fuzz/corpus/scenario/* "$src"/scenarios/*.yaml "$src"/models/profiles/*.yaml \
   "$src"/tests/fuzz/seed-run.yaml "$work/corpus/scenario/"
cp "$src"/tests/fuzz/corpus/scores/* "$work/corpus/scores/"
(cd "$work" &&
 "$bxsim" gallery gen --profile visa-best --subjects 6 --samples 2 --out corpus/templates/g.h5 &&
 "$bxsim" gallery gen --profile visa-best --subjects 4 --seed 3 --device kiosk --out corpus/templates/p.h5 &&
 "$bxsim" run "$src/tests/fuzz/seed-run.yaml" --out run --quiet &&
 cp run/results.h5 corpus/results/results.h5) >/dev/null 2>&1

targets="scenario scores templates results"
case $mode in
replay)
    for t in $targets; do
        echo "fuzz replay: $t"
        "$dir/replay_$t" "$work/corpus/$t"
    done
    echo "fuzz replay: every seed of the 4 targets ran without a crash or a leak"
    ;;
fuzz)
    build=$dir/build
    mkdir -p "$dir"
    if [ ! -f "$build/CMakeCache.txt" ]; then
        cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
            -DBX_FUZZ_ENGINE=ON -DBX_WITH_MPI=OFF \
            -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
            >"$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; exit 1; }
    fi
    cmake --build "$build" -j "$(nproc)" --target $(printf 'fuzz_%s ' $targets) \
        >"$dir/build.log" 2>&1 || { tail -50 "$dir/build.log"; exit 1; }
    export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    for t in $targets; do
        echo "fuzz: $t for ${seconds} s"
        mkdir -p "$work/new/$t" "$dir/crashes/$t"
        # -rss_limit_mb: the loaders' own size limits keep far below it; -timeout: a hang is a bug
        "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
            -max_len=$([ "$t" = templates ] || [ "$t" = results ] && echo 200000 || echo 65536) \
            -artifact_prefix="$dir/crashes/$t/" -print_final_stats=1 \
            "$work/new/$t" "$work/corpus/$t" 2>"$dir/fuzz_$t.log" ||
            { tail -60 "$dir/fuzz_$t.log"; echo "fuzz: $t failed; the input is in $dir/crashes/$t"; exit 1; }
        grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb" "$dir/fuzz_$t.log" | tr '\n' ' '
        echo
    done
    echo "fuzz: 4 targets, ${seconds} s each, no crash, leak or hang"
    ;;
*)
    echo "usage: run.sh replay|fuzz SRC BXSIM DIR [SECONDS]" >&2
    exit 2
    ;;
esac
