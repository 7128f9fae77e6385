#!/usr/bin/env bash
# Builds everything (gateway, sim, tests) with the given CMake preset (default: release).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
preset="${1:-release}"
cd "$root"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
