#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# one_blas.sh DIR... - in every bxsim program (bxsim, the test suites, the fuzz replays) under
# DIR, every CBLAS symbol (cblas_sgemm first of all) is bound to OpenBLAS - its own calls and
# GSL's. Debian's libgsl needs libgslcblas, GSL's slow reference CBLAS, so both are loaded; only
# the search order decides, and GSL's pkg-config file (gsl, gslcblas) put gslcblas first in the
# programs that linked it directly. The dynamic loader reports each binding (LD_DEBUG) when
# every symbol is bound at start (LD_BIND_NOW).
set -uo pipefail
n=0 bad=0
while IFS= read -r exe; do
    case $(basename "$exe") in
    bxsim) args=--version ;;
    replay_*) args= ;;
    *) args=--help ;;
    esac
    b=$(LD_BIND_NOW=1 LD_DEBUG=bindings "$exe" $args 2>&1 >/dev/null | grep "symbol \`cblas_")
    if [ -z "$b" ]; then
        continue # uses no BLAS
    fi
    n=$((n + 1))
    other=$(grep -v 'libopenblas' <<<"$b")
    if [ -n "$other" ]; then
        echo "one_blas: $exe binds CBLAS symbols elsewhere than OpenBLAS:" >&2
        head -5 <<<"$other" >&2
        bad=1
    fi
done < <(find "$@" -type f -perm -u+x \( -name bxsim -o -name 'test_*' -o -name 'replay_*' \) \
    ! -name '*.sh' -not -path '*/engine/*')
if [ "$n" -lt 5 ]; then
    echo "one_blas: only $n programs using BLAS found under $*" >&2
    exit 1
fi
[ "$bad" = 0 ] && echo "one_blas: $n programs, every CBLAS symbol bound to OpenBLAS"
exit "$bad"
