#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deps.sh - install the Debian 12 packages bxsim needs, and only those that are missing.
#
# Run as root (or with sudo available). Idempotent: a second run installs nothing and does not
# touch the network. Set BX_DEPS_SKIP=1 to skip entirely (e.g. on a machine set up by hand).
set -euo pipefail

if [ "${BX_DEPS_SKIP:-0}" = 1 ]; then
    exit 0
fi

# Build tools and libraries (see docs/architecture.md), clang with its libFuzzer runtime for the fuzz test
# and the lint tools (clang-format, clang-tidy, cppcheck: ctest label lint),
# then Debian's python3 modules used only by the validation tests (/usr/bin/python3, never the
# python3 that happens to be first on PATH).
pkgs=(
    build-essential cmake pkg-config git
    libgsl-dev libopenblas-dev libyaml-dev libhdf5-dev hdf5-tools
    gnuplot-nox libcriterion-dev libjansson-dev libcsv-dev libsqlite3-dev sqlite3
    openmpi-bin libopenmpi-dev
    clang libclang-rt-14-dev clang-format clang-tidy cppcheck
    python3 python3-numpy python3-scipy python3-sklearn python3-h5py
)
# The browser check of the written pages (ctest `pages`): Debian's Chromium with its driver and
# Selenium. Large, so installed only in CI (CI set, as on the CI runner that calls .ci/run) or
# on request (BX_DEPS_BROWSER=1); `make test` elsewhere skips that one test with a message.
if [ -n "${CI:-}" ] || [ "${BX_DEPS_BROWSER:-0}" = 1 ]; then
    pkgs+=(chromium chromium-driver python3-selenium)
fi

missing=()
for p in "${pkgs[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
    "install ok installed") ;;
    *) missing+=("$p") ;;
    esac
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#pkgs[@]} packages present"
    exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "deps: not root and no sudo; install these packages: ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
