#!/usr/bin/env bash
# The demo: builds the gateway, starts it with the embedded SQLite store and a demo app.config.xml, starts
# two simulated session hosts that register into it, seeds a demo user entitled to a demo workspace, and
# prints the URL and the passwords. Ctrl-C stops everything. --cluster: a throwaway PostgreSQL, three gateways and
# HAProxy in front of them instead (scripts/demo.py says more).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ " $* " == *" --cluster "* ]]; then "$root/scripts/setup.sh" --cluster; else "$root/scripts/setup.sh"; fi
"$root/scripts/build.sh" release webstream webstream-sim
exec python3 "$root/scripts/demo.py" --build "$root/build/release" "$@"
