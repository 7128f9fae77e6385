#!/usr/bin/env bash
# Licence check-in benchmark (issue 4): 100,000 simulated streamers checking in every 15 s (≈ 6,700 req/s) for
# 60 s against a real gateway with a SQLite store, licence for 100,000 streamers issued with the build directory's
# test key (configure with -DWEBSTREAM_LICENCE_TEST_KEY=ON, as the ci preset does; docs/licence.md).
# Prints the load client's JSON: statuses, latency percentiles (all, and refreshes only), the gateway's CPU, and
# the licence store's transaction and row-write rates.
# Usage: bench/licence_checkin_bench.sh [BUILD_DIR] [--quick]
#   BUILD_DIR: where webstream and licence_checkin_bench are built (default build/ci)
#   --quick:   10,000 streamers for 20 s (a smoke test of the script)
# Environment: STREAMERS, PERIOD, SECONDS_TO_RUN, CONNECTIONS, WORKERS override the defaults.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build/ci"
quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    *) build="$(cd "$arg" && pwd)" ;;
  esac
done
gateway="$build/src/app/webstream"
client="$build/src/licence/licence_checkin_bench"
for bin in "$gateway" "$client"; do
  [[ -x "$bin" ]] || { echo "missing $bin (build the webstream and licence_checkin_bench targets)" >&2; exit 2; }
done
key="$build/licence-test-key/test-private.key"
[[ -f "$key" ]] || { echo "missing $key (configure $build with -DWEBSTREAM_LICENCE_TEST_KEY=ON)" >&2; exit 2; }
streamers="${STREAMERS:-100000}"
seconds="${SECONDS_TO_RUN:-60}"
if [[ $quick == 1 ]]; then streamers="${STREAMERS:-10000}"; seconds=20; fi
period="${PERIOD:-15}"
connections="${CONNECTIONS:-64}"
workers="${WORKERS:-0}"

dir="$(mktemp -d /tmp/webstream-licence-bench-XXXXXX)"
gw_pid=""
cleanup() {
  if [[ -n "$gw_pid" ]] && kill -0 "$gw_pid" 2>/dev/null; then
    kill -TERM "$gw_pid"; wait "$gw_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || true

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$gateway" license issue --key "$key" --licensee "Benchmark" \
  --max "$streamers" --expires 2099-12-31 --out "$dir/licence.json" 2>/dev/null
cat >"$dir/app.config.xml" <<XML
<configuration>
  <gateway publicIP="127.0.0.1" port="$port" workerThreads="$workers" />
  <storage provider="sqlite" path="webstream.db" />
  <license file="licence.json" />
  <logging level="warn" />
</configuration>
XML
WEBSTREAM_ADMIN_PASSWORD="bench-admin-Pa55word!" "$gateway" -gw --config "$dir/app.config.xml" \
  >"$dir/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 1 200); do
  if curl -fsS "http://127.0.0.1:$port/gateway/health" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
echo "gateway pid $gw_pid on port $port; $streamers streamers every ${period}s for ${seconds}s over $connections connections" >&2
"$client" --port "$port" --streamers "$streamers" --period "$period" --seconds "$seconds" \
  --connections "$connections" --pid "$gw_pid"
echo "store: $(du -sh "$dir"/webstream.db* | tr '\n' ' ')" >&2
