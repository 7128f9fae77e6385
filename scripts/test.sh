#!/usr/bin/env bash
# Builds and runs every test: unit tests (GoogleTest) and end-to-end tests (the real binary and the
# session-host simulator on 127.0.0.1), through CTest. Installs what is missing first.
# Usage: scripts/test.sh [extra ctest args, e.g. -L unit or -R registry]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh" --browser --cluster  # Chromium for the portal test; HAProxy for the cluster failover test
preset="${WEBSTREAM_PRESET:-ci}"
"$root/scripts/build.sh" "$preset"
cd "$root/build/$preset"
ctest --output-on-failure --timeout 300 -j 2 "$@"
