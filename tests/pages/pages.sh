#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pages.sh BXSIM SOURCE_DIR - write the pages a user opens (a run's report.html, audit.html of
# that run, size.html with its weekly plan, compare.html) and check each in headless Chromium
# (check_pages.py): no broken image, no broken or escaping link, no script error.
# Chromium is optional in `make test`: without it the test is skipped (exit 77) with a message;
# scripts/deps.sh installs it when CI is set (so .ci/run runs it) or with BX_DEPS_BROWSER=1.
set -euo pipefail
bxsim=$1
src=$2
py=/usr/bin/python3
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] ||
    ! "$py" -c 'import selenium' 2>/dev/null; then
    echo "pages: SKIPPED: Debian's chromium, chromium-driver and python3-selenium are not" \
        "installed (scripts/deps.sh installs them when CI is set, or with BX_DEPS_BROWSER=1)"
    exit 77
fi
tmp=$(mktemp -d /tmp/bx-pages-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$src"
"$bxsim" run scenarios/crossing-2-units.yaml --replications 2 --out "$tmp/run" --quiet
"$bxsim" audit --run "$tmp/run" --claim-fmr 0.001 --bootstrap 100 --out "$tmp/audit" >/dev/null
"$bxsim" size scenarios/q1-2026-land.yaml --target-p95-wait 300 --resource lanes \
    --replications 2 --rollout-weeks 3 --out "$tmp/size" --quiet >/dev/null
"$bxsim" compare scenarios/crossing-2-units.yaml scenarios/crossing-3-units.yaml \
    --replications 2 --out "$tmp/compare" --quiet >/dev/null
"$py" "$src/tests/pages/check_pages.py" "$tmp/run/report.html" "$tmp/audit/audit.html" \
    "$tmp/size/size.html" "$tmp/compare/compare.html"
