#!/usr/bin/env bash
# Builds everything (gateway, sim, tests) with the given CMake preset (default: release), or only the
# targets named after it: scripts/build.sh release webstream webstream-sim
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
preset="${1:-release}"
shift || true
cd "$root"
# ccache: paths relative to the checkout and no cwd in the hash, so another clone of the repository (CI)
# reuses the objects; sloppiness lets it cache translation units that use precompiled headers.
export CCACHE_BASEDIR="$root"
export CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-8G}"
cmake --preset "$preset" >/dev/null
if (($#)); then
  cmake --build --preset "$preset" -j "$(nproc)" --target "$@"
else
  cmake --build --preset "$preset" -j "$(nproc)"
fi
