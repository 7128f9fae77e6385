#!/usr/bin/env bash
# Side-by-side relay benchmark: direct to the simulated session host, nginx, HAProxy and the gateway, in the
# same run on 127.0.0.1. Installs wrk/nginx/haproxy if missing, builds, then prints a table.
# Usage: bench/run.sh [--quick] [--tls | --tls-only] [--tls-key rsa|ec] (--quick: shorter runs, for a smoke test
# of the script itself; --tls: also the HTTPS table, TLS terminated by each proxy; see bench/README.md)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh" --bench
"$root/scripts/build.sh" release webstream webstream-sim ws_bench tls_handshake_bench >/dev/null
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec python3 "$root/bench/run.py" --build "$root/build/release" "$@"
