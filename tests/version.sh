#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The revision bxsim reports is the source tree's at build time, not the one the build folder was
# configured at: after a commit, an incremental build must report the new revision.
# usage: version.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
if ! command -v git >/dev/null || [ ! -e "$src/.git" ]; then
    echo "version: not a git checkout, skipped"
    exit 77
fi
want=$(git -C "$src" describe --always --dirty --tags)
got=$("$build/apps/bxsim" --version | head -n 1)
if [[ "$got" != *"(git $want)" ]]; then
    echo "bxsim --version says '$got'; the source tree is $want (rebuild, or the revision is stale)"
    exit 1
fi
# Regenerating the header for a different revision: the script writes the new one, and leaves
# the file untouched (same modification time) when nothing changed.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake -DSOURCE_DIR="$src" -DGIT="$(command -v git)" -DOUT="$tmp/r.h" -P "$src/cmake/BxRevision.cmake"
grep -q "#define BX_GIT_REVISION \"$want\"" "$tmp/r.h" || { echo "header: $(cat "$tmp/r.h")"; exit 1; }
touch -d '2000-01-01' "$tmp/r.h"
cmake -DSOURCE_DIR="$src" -DGIT="$(command -v git)" -DOUT="$tmp/r.h" -P "$src/cmake/BxRevision.cmake"
[ "$(stat -c %Y "$tmp/r.h")" = "$(date -d '2000-01-01' +%s)" ] || { echo "unchanged header rewritten"; exit 1; }
echo "old" > "$tmp/r.h"
cmake -DSOURCE_DIR="$src" -DGIT="$(command -v git)" -DOUT="$tmp/r.h" -P "$src/cmake/BxRevision.cmake"
grep -q "\"$want\"" "$tmp/r.h" || { echo "stale header kept"; exit 1; }
cmake -DSOURCE_DIR="$tmp" -DGIT="$(command -v git)" -DOUT="$tmp/u.h" -P "$src/cmake/BxRevision.cmake"
grep -q '"unknown"' "$tmp/u.h" || { echo "outside git: $(cat "$tmp/u.h")"; exit 1; }
echo "version: $got"
