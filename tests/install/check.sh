#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check.sh BUILD_DIR SRC [CFLAGS] - `cmake --install` into a fresh prefix, then build and run a
# program of someone else's (example.c) against the installed headers, static libraries and
# bxsim.pc. CFLAGS: the build's own flags (the sanitizer presets' libraries need their runtime).
set -euo pipefail
build=$1 src=$2 extra=${3:-}
prefix=$(mktemp -d "${TMPDIR:-/tmp}/bx-install-XXXXXX")
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name bxsim.pc)
[ -n "$pc" ] || { echo "install: no bxsim.pc under $prefix" >&2; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --static --cflags --libs bxsim)
case $flags in *"$prefix"*) ;; *) echo "install: bxsim.pc does not point into $prefix: $flags" >&2; exit 1 ;; esac
${CC:-cc} -std=c17 -Wall -Werror $extra "$src/tests/install/example.c" -o "$prefix/example" $flags
out=$("$prefix/example")
[ "$out" = ok ] || { echo "install: the example printed '$out'" >&2; exit 1; }
"$prefix/bin/bxsim" --version >/dev/null
echo "install: headers, $(ls "$prefix"/lib*/libbx_*.a "$prefix"/lib/*/libbx_*.a 2>/dev/null | wc -l) static libraries and bxsim.pc installed; a program built with pkg-config runs"
