#!/usr/bin/env bash
# Issue 2 benchmark: the gateway taking heartbeats from 10,000 simulated backends at their 10 s interval
# (1,000 req/s) for 60 s, printing CPU used and the p99 latency of /gateway/health meanwhile.
# A heartbeat from an unknown serverUrl registers it, so 10,000 backends appear; the health prober is left
# on as in production (their serverUrls are closed ports on 127.x.y.z, so each probe is refused at once),
# so the CPU figure includes probing. Usage: bench/heartbeat_bench.sh [seconds]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
secs="${1:-60}"
"$root/scripts/setup.sh" --bench >/dev/null
"$root/scripts/build.sh" release webstream >/dev/null
work="$(mktemp -d)"
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cat > "$work/app.config.xml" <<XML
<configuration>
  <gateway publicIP="127.0.0.1" port="$port" workerThreads="2">
    <limits maxConnectionsPerIp="10000" />
  </gateway>
  <storage path="$work/gw.db" />
  <logging level="warn" />
</configuration>
XML
WEBSTREAM_ADMIN_PASSWORD=bench-admin-password-1 "$root/build/release/src/app/webstream" -gw --config "$work/app.config.xml" >"$work/gw.log" 2>&1 &
gw=$!
trap 'kill $gw 2>/dev/null; wait $gw 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/gateway/health" >/dev/null && break; sleep 0.2; done
ticks_before=$(awk '{print $14+$15}' /proc/$gw/stat)
BACKENDS=10000 DELAY_MS=20 wrk -t1 -c20 -d"${secs}s" -s "$root/bench/heartbeat.lua" "http://127.0.0.1:$port" >"$work/hb.txt" 2>&1 &
hb=$!
wrk -t1 -c2 -d"${secs}s" --latency "http://127.0.0.1:$port/gateway/health" >"$work/health.txt" 2>&1
wait $hb || true
ticks_after=$(awk '{print $14+$15}' /proc/$gw/stat)
hz=$(getconf CLK_TCK)
echo "heartbeats: $(grep -E 'Requests/sec' "$work/hb.txt")"
echo "gateway CPU: $(python3 -c "print(f'{($ticks_after-$ticks_before)/$hz:.1f} s over ${secs} s = {($ticks_after-$ticks_before)/$hz/$secs*100:.1f}% of one core')")"
echo "/gateway/health meanwhile:"; grep -E '50%|99%|Requests/sec' "$work/health.txt"
echo "backends registered: $(curl -s "http://127.0.0.1:$port/metrics" | grep -E '^webstream_backends' | tr '\n' ' ')"
