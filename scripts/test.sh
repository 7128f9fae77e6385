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
# -j 4 on 2 cores: the end-to-end files mostly wait (for processes, PostgreSQL, timeouts), so at -j 2 the tests
# used 0.9 of the 2 cores (282 CPU s in 306 s wall, cold run of 2026-12-04 17:29 UTC); at -j 4, 210 s (17:53 UTC).
# Running the end-to-end files while the unit tests compile gained nothing (648 s for the whole command against
# 644, 18:06 UTC): from a cold cache the command is bound by its ~1,150 CPU seconds on 2 cores.
ctest --output-on-failure --timeout 300 -j 4 "$@"
