#!/usr/bin/env bash
# Login benchmark (issue 3): a storm of POST /iam/auth/login against the gateway with the built-in IAM, the
# latency of /gateway/health and /iam/auth/me beside it and without it, and the token check's cost in ns.
# Installs wrk if missing, builds, then prints a table (bench/README.md explains each row).
# Usage: bench/login_bench.sh [--build DIR] [--quick] [login_bench.py options: --seconds, --users, --connections,
#        --retry-ms, --probe-delay-ms]
#   --build DIR: use the binaries already built there (webstream, token_check_bench) instead of building
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build=""
args=()
while (($#)); do
  case "$1" in
    --build) build="$(cd "$2" && pwd)"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
"$root/scripts/setup.sh" --bench >/dev/null
if [[ -z "$build" ]]; then
  "$root/scripts/build.sh" release webstream token_check_bench >/dev/null
  build="$root/build/release"
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec python3 "$root/bench/login_bench.py" --build "$build" "${args[@]}"
