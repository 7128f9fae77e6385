#!/usr/bin/env bash
# The Debian package end to end, on this machine (CI: .ci/run runs it after the README's test command):
#   build it (scripts/package.sh, trusting a throwaway production licence key made here), install it with
#   dpkg -i, check what it installed, `systemd-analyze verify` the units (when the command exists), then run
#   the gateway unit's ExecStart as the webstream user the way systemd would (its capabilities, LimitNOFILE,
#   UMask, WorkingDirectory, EnvironmentFile) with a test PFX made by openssl, check /gateway/health and HTTPS,
#   the licence trust, the logs, the unit's ExecReload (refused on a broken config, a SIGHUP that loads a new
#   certificate on a good one), stop it with SIGTERM; the same start for the webstream-am unit; purge (user
#   gone, data kept), reinstall and purge with WEBSTREAM_PURGE_DATA=yes (data gone).
# Needs root and no webstream package or user already on the machine (it refuses to touch a real install).
# Listens on 127.0.0.1 only: HTTPS on 443 when nothing holds that port (so the unit's CAP_NET_BIND_SERVICE is
# tested), otherwise on a free port (said in the output); the HTTP listener always on a free port.
# Whatever it installed or started is removed however it ends.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
started=$SECONDS

fail() {
  echo "test_package: FAIL: $*" >&2
  exit 1
}
step() { echo "test_package: $*"; }

[[ $(id -u) -eq 0 ]] || fail "needs root (dpkg -i, a system user)"
if dpkg-query -W -f='${Status}' webstream 2>/dev/null | grep -q "installed"; then
  fail "a webstream package is already installed here: not touching it"
fi
getent passwd webstream >/dev/null && fail "a user webstream already exists here: not touching it"
[[ -e /etc/webstream || -e /var/lib/webstream ]] && fail "/etc/webstream or /var/lib/webstream exists: not touching it"

tmp="$(mktemp -d /tmp/webstream-package-test.XXXXXX)"
gateway_pid=""
cleanup() {
  local rc=$?
  if [[ -n "$gateway_pid" ]] && kill -0 "$gateway_pid" 2>/dev/null; then
    kill -TERM "$gateway_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$gateway_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$gateway_pid" 2>/dev/null || true
  fi
  if dpkg-query -W -f='${Status}' webstream 2>/dev/null | grep -q "installed\|config-files"; then
    WEBSTREAM_PURGE_DATA=yes dpkg --purge webstream >/dev/null 2>&1 || true
  fi
  # Files this test added beside the package's (the PFX, the licence), and data a failed run may have kept.
  rm -rf /etc/webstream /var/lib/webstream
  rm -rf "$tmp"
  if ((rc != 0)); then echo "test_package: FAILED after $((SECONDS - started)) s" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true; }

# --- 1. A throwaway "production" licence key pair: the package trusts it, never the build's test key.
make_key() {  # make_key NAME KEY_ID: $tmp/NAME.key (the private key file `license issue` reads), prints the public key
  openssl genpkey -algorithm ed25519 -outform DER -out "$tmp/$1.der" 2>/dev/null
  local seed public
  seed="$(tail -c 32 "$tmp/$1.der" | b64url)"
  public="$(openssl pkey -inform DER -in "$tmp/$1.der" -pubout -outform DER | tail -c 32 | b64url)"
  rm -f "$tmp/$1.der"
  (umask 077 && printf '{"format":"webstream-licence-key-v1","keyId":"%s","algorithm":"Ed25519","seed":"%s","publicKey":"%s"}\n' \
    "$2" "$seed" "$public" >"$tmp/$1.key")
  echo "$public"
}
production_public="$(make_key production ci-package-test)"
make_key stranger stranger-key >/dev/null
echo "ci-package-test $production_public" >"$tmp/trusted.keys"

# --- 2. Build the package.
t0=$SECONDS
step "scripts/package.sh --keys (a throwaway key made for this test)"
"$root/scripts/package.sh" --keys "$tmp/trusted.keys"
step "package built in $((SECONDS - t0)) s"
version="$("$root/build/package/src/app/webstream" --version | awk '{print $2}')"
deb="$root/build/webstream_${version}_amd64.deb"
[[ -f "$deb" ]] || fail "$deb was not made"

# --- 3. Install it.
step "dpkg -i $(basename "$deb")"
if ! dpkg -i "$deb"; then
  DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq
fi
dpkg-query -W -f='${Status}\n' webstream | grep -q "install ok installed" || fail "webstream is not installed"

# What the package put where, with which owner and mode.
expect_stat() {  # expect_stat PATH "OWNER:GROUP MODE"
  local got
  got="$(stat -c '%U:%G %a' "$1")" || fail "$1 is missing"
  [[ "$got" == "$2" ]] || fail "$1 is $got, expected $2"
}
[[ -x /usr/bin/webstream ]] || fail "/usr/bin/webstream missing"
expect_stat /etc/webstream/app.config.xml "root:root 644"
expect_stat /etc/webstream/am.config.xml "root:root 644"
expect_stat /etc/webstream/secrets.env "root:root 600"
expect_stat /var/lib/webstream "webstream:webstream 700"
conffiles="$(dpkg-query -W -f='${Conffiles}' webstream)"
for f in /etc/webstream/app.config.xml /etc/webstream/am.config.xml; do
  grep -q " $f " <<<"$conffiles" || fail "$f is not a conffile"
done
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd webstream)
((uid < 1000)) || fail "webstream is not a system user (uid $uid)"
[[ "$shell" == /usr/sbin/nologin && "$home" == /var/lib/webstream ]] || fail "webstream: home $home, shell $shell"
grep -q '^WEBSTREAM_BACKEND_KEY=.\{32\}$' /etc/webstream/secrets.env || fail "secrets.env has no generated backend key"
grep -q '^WEBSTREAM_ADMIN_PASSWORD=.\{32\}$' /etc/webstream/secrets.env || fail "secrets.env has no generated admin password"
unit_dir=/lib/systemd/system
[[ -f $unit_dir/webstream-gateway.service && -f $unit_dir/webstream-am.service ]] || fail "units missing in $unit_dir"
step "installed: binary, conffiles, secrets.env 0600, /var/lib/webstream 0700, system user $uid, units"

# --- 4. The units.
if command -v systemd-analyze >/dev/null; then
  for unit in webstream-gateway webstream-am; do
    out="$(systemd-analyze verify "$unit_dir/$unit.service" 2>&1)" || fail "systemd-analyze verify $unit: $out"
    # Complaints about units of this machine that are not ours are not the package's business.
    ours="$(grep -i "webstream" <<<"$out" || true)"
    [[ -z "$ours" ]] || fail "systemd-analyze verify $unit: $ours"
    step "systemd-analyze verify $unit.service: OK"
  done
  if systemd-analyze security --help 2>/dev/null | grep -q -- "--offline"; then
    for unit in webstream-gateway webstream-am; do
      step "systemd-analyze security --offline=true $unit: $(systemd-analyze security --offline=true \
        "$unit_dir/$unit.service" 2>&1 | grep -i "overall exposure" || echo "(no rating printed)")"
    done
  fi
else
  step "systemd-analyze not installed: units not verified"
fi
unit_value() { sed -n "s/^$2=//p" "$unit_dir/$1.service"; }
[[ "$(unit_value webstream-gateway LimitNOFILE)" -ge 200000 ]] || fail "LimitNOFILE below 200000"

# --- 5. A certificate, the secret, test ports on 127.0.0.1, a licence.
pfx_secret="pfx-$(head -c 12 /dev/urandom | b64url)"
make_pfx() {  # make_pfx CN: /etc/webstream/gateway.pfx, root:webstream 0640
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" -keyout "$tmp/pfx.key" -out "$tmp/pfx.crt" \
    2>/dev/null
  openssl pkcs12 -export -inkey "$tmp/pfx.key" -in "$tmp/pfx.crt" -passout "pass:$pfx_secret" \
    -out "$tmp/gateway.pfx"
  install -m 0640 -o root -g webstream "$tmp/gateway.pfx" /etc/webstream/gateway.pfx
  rm -f "$tmp/pfx.key" "$tmp/pfx.crt" "$tmp/gateway.pfx"
}
make_pfx webstream-package-test-1
sed -i "s|^WEBSTREAM_PFX_SECRET=.*|WEBSTREAM_PFX_SECRET=$pfx_secret|" /etc/webstream/secrets.env

http_port="$(free_port)"
if ss -Hltn 'sport = :443' | grep -q .; then
  https_port="$(free_port)"
  step "port 443 is taken here: HTTPS on 127.0.0.1:$https_port instead (CAP_NET_BIND_SERVICE not exercised)"
else
  https_port=443
fi
# The test's overrides of the installed conffile: loopback only, the test's ports, the licence.
sed -i -e 's/publicIP="0.0.0.0"/publicIP="127.0.0.1"/' -e "s/ port=\"9000\"/ port=\"$http_port\"/" \
  -e "s/httpsPort=\"443\"/httpsPort=\"$https_port\"/" \
  -e 's|<license file=""|<license file="/etc/webstream/webstream.licence"|' /etc/webstream/app.config.xml
grep -q "publicIP=\"127.0.0.1\" internalIP=\"127.0.0.1\" port=\"$http_port\" httpsPort=\"$https_port\"" \
  /etc/webstream/app.config.xml ||
  fail "could not set the test's address and ports in app.config.xml"

/usr/bin/webstream license issue --key "$tmp/production.key" --licensee "Package Test" --max 7 \
  --expires 2099-12-31 --out "$tmp/webstream.licence" >/dev/null
install -m 0640 -o root -g webstream "$tmp/webstream.licence" /etc/webstream/webstream.licence
show="$(/usr/bin/webstream license show /etc/webstream/webstream.licence)" || fail "license show: $show"
grep -q "ci-package-test" <<<"$show" || fail "license show does not name the key: $show"
grep -qi "development" <<<"$show" && fail "the production key is flagged as a development key: $show"
/usr/bin/webstream license issue --key "$tmp/stranger.key" --licensee "Stranger" --max 7 --expires 2099-12-31 \
  --out "$tmp/stranger.licence" >/dev/null
if out="$(/usr/bin/webstream license show "$tmp/stranger.licence" 2>&1)"; then
  fail "a licence signed with a key not built in is accepted: $out"
fi
ci_test_key="$root/build/ci/licence-test-key/test-private.key"
if [[ -f "$ci_test_key" ]]; then
  /usr/bin/webstream license issue --key "$ci_test_key" --licensee "CI" --max 7 --expires 2099-12-31 \
    --out "$tmp/ci.licence" >/dev/null
  if out="$(/usr/bin/webstream license show "$tmp/ci.licence" 2>&1)"; then
    fail "the package trusts the ci build's licence test key: $out"
  fi
  step "licences: the package's production key accepted; an unknown key and the ci build's test key refused"
else
  step "licences: the package's production key accepted; an unknown key refused (no build/ci test key to try)"
fi

# --- 6. The unit's ExecStart as systemd would run it.
mapfile -t unit_env < <(grep -E '^[A-Za-z_][A-Za-z0-9_]*=' /etc/webstream/secrets.env)
# LimitNOFILE: systemd (PID 1) may raise the hard limit; a test without CAP_SYS_RESOURCE (a container) cannot
# go above its own hard limit, and then uses that (said in the output).
nofile="$(unit_value webstream-gateway LimitNOFILE)"
hard_nofile="$(ulimit -Hn)"
if [[ "$hard_nofile" != unlimited ]] && ((hard_nofile < nofile)); then
  if ! prlimit --nofile="$nofile:$nofile" true 2>/dev/null; then
    step "LimitNOFILE=$nofile cannot be set here (hard limit $hard_nofile, no CAP_SYS_RESOURCE): using $hard_nofile"
    nofile="$hard_nofile"
  fi
fi
service_exec() {  # service_exec CMD...: becomes CMD as User=webstream with the unit's environment, capabilities
  # and limits (call it in a subshell or in the background: it replaces the shell it runs in)
  cd /var/lib/webstream
  umask "$(unit_value webstream-gateway UMask)"
  exec prlimit --nofile="$nofile:$nofile" \
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${unit_env[@]}" \
    setpriv --reuid=webstream --regid=webstream --init-groups --no-new-privs \
    --inh-caps=-all,+net_bind_service,+sys_nice --ambient-caps=-all,+net_bind_service,+sys_nice \
    --bounding-set=-all,+net_bind_service,+sys_nice -- "$@"
}
as_service() { (service_exec "$@"); }
[[ "$(unit_value webstream-gateway AmbientCapabilities)" == "CAP_NET_BIND_SERVICE CAP_SYS_NICE" ]] ||
  fail "the unit's AmbientCapabilities changed: update this test's setpriv line"
read -r -a exec_start <<<"$(unit_value webstream-gateway ExecStart)"
mapfile -t exec_reload < <(unit_value webstream-gateway ExecReload)
((${#exec_reload[@]} == 2)) || fail "expected two ExecReload lines (config check, then SIGHUP)"

check="$(as_service /usr/bin/webstream config check --config /etc/webstream/app.config.xml 2>&1)" ||
  fail "config check of the installed configuration: $check"
step "config check as webstream: $(tail -1 <<<"$check")"
grep -q "^warning:" <<<"$check" && step "  its warnings: $(grep '^warning:' <<<"$check")"

log="$tmp/gateway.log"
step "start: ${exec_start[*]} (as webstream, HTTPS 127.0.0.1:$https_port, HTTP 127.0.0.1:$http_port)"
service_exec "${exec_start[@]}" >"$log" 2>&1 &
gateway_pid=$!  # the gateway itself: the background shell, prlimit, env and setpriv all exec
code=000
for _ in $(seq 150); do
  code="$(http_code "http://127.0.0.1:$http_port/gateway/health")"
  [[ "$code" == 200 ]] && break
  kill -0 "$gateway_pid" 2>/dev/null || fail "the gateway exited: $(cat "$log")"
  sleep 0.2
done
[[ "$code" == 200 ]] || fail "/gateway/health answered $code: $(cat "$log")"
step "/gateway/health: 200 after $((SECONDS - t0)) s since the build began"

[[ "$(readlink "/proc/$gateway_pid/exe")" == /usr/bin/webstream ]] || fail "pid $gateway_pid is not the gateway"
[[ "$(stat -c %U "/proc/$gateway_pid")" == webstream ]] || fail "the gateway does not run as webstream"
grep -Eq "^Max open files +$nofile +$nofile" "/proc/$gateway_pid/limits" || fail "LimitNOFILE not applied"
[[ "$(stat -c '%U %a' /var/lib/webstream/webstream.db)" == "webstream 600" ]] || fail "store not webstream 0600"
cert_subject() {
  openssl s_client -connect "127.0.0.1:$https_port" -servername localhost </dev/null 2>/dev/null |
    openssl x509 -noout -subject 2>/dev/null || true
}
grep -q "webstream-package-test-1" <<<"$(cert_subject)" || fail "HTTPS does not serve the test PFX"
[[ "$(http_code -k "https://127.0.0.1:$https_port/")" =~ ^[23] ]] || fail "HTTPS / does not answer"
# elevateGatewayPriority="true" in the packaged config, with the unit's CAP_SYS_NICE: I/O threads at nice -5.
ps -L -o nice= -p "$gateway_pid" | grep -qx ' *-5' || fail "no thread of the gateway runs at nice -5"
step "runs as webstream, open files limit $nofile, store 0600, I/O threads at nice -5, HTTPS serves the PFX"

# --- 7. Reload: ExecReload[0] (config check) refuses a broken file, so no SIGHUP; then a real reload.
run_reload() {  # the unit's ExecReload lines in order, stopping at the first failure, as systemd does
  local line cmd
  for line in "${exec_reload[@]}"; do
    read -r -a cmd <<<"${line//\$MAINPID/$gateway_pid}"
    as_service "${cmd[@]}" >>"$tmp/reload.log" 2>&1 || return 1
  done
}
cp /etc/webstream/app.config.xml "$tmp/app.config.xml.good"
sed -i 's/heartbeatInterval="10"/heartbeatInterval="often"/' /etc/webstream/app.config.xml
run_reload && fail "ExecReload went ahead with a broken configuration"
grep -q "gateway.heartbeatInterval" "$tmp/reload.log" || fail "the refused check does not name the setting"
grep -q "SIGHUP" "$log" && fail "a SIGHUP reached the gateway though the check failed"
cp "$tmp/app.config.xml.good" /etc/webstream/app.config.xml
make_pfx webstream-package-test-2
run_reload || fail "ExecReload failed: $(cat "$tmp/reload.log")"
for _ in $(seq 50); do grep -q '"SIGHUP: reloaded"' "$log" && break; sleep 0.2; done
grep -q '"SIGHUP: reloaded"' "$log" || fail "no 'SIGHUP: reloaded' in the log: $(cat "$log")"
grep -q '"SIGHUP: certificate reloaded"' "$log" || fail "the certificate was not reloaded"
grep -q "webstream-package-test-2" <<<"$(cert_subject)" || fail "HTTPS does not serve the new PFX after the reload"
[[ "$(http_code "http://127.0.0.1:$http_port/gateway/health")" == 200 ]] || fail "no health after the reload"
kill -0 "$gateway_pid" || fail "the gateway died in the reload"
step "reload: refused on a broken config (no SIGHUP sent), then SIGHUP: new certificate served, health 200"

# --- 8. Stop (systemd's KillSignal=SIGTERM) and the log.
kill -TERM "$gateway_pid"
rc=0
wait "$gateway_pid" || rc=$?
gateway_pid=""
((rc == 0)) || fail "the gateway exited $rc on SIGTERM: $(tail -5 "$log")"
python3 - "$log" <<'EOF' || fail "the log is not JSON lines"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
for n, line in enumerate(lines, 1):
    record = json.loads(line)
    assert {"ts", "level", "msg"} <= record.keys(), "line %d lacks ts/level/msg" % n
print("test_package: log: %d JSON lines, messages: %s" % (len(lines), ", ".join(sorted({json.loads(l)["msg"] for l in lines}))))
EOF
for msg in "gateway started" "licence loaded" "stopped"; do
  grep -q "\"msg\":\"$msg\"" "$log" || fail "no '$msg' in the log"
done
grep -q '"keyId":"ci-package-test"' "$log" || fail "the licence loaded is not the production-key one"
grep -q "elevateGatewayPriority" "$log" && fail "the priority was not raised: $(grep elevateGatewayPriority "$log")"
for var in WEBSTREAM_PFX_SECRET WEBSTREAM_BACKEND_KEY WEBSTREAM_SERVICE_KEY WEBSTREAM_ADMIN_PASSWORD; do
  value="$(sed -n "s/^$var=//p" /etc/webstream/secrets.env)"
  [[ -n "$value" ]] || continue
  grep -qF -- "$value" "$log" "$tmp/reload.log" && fail "the value of $var appears in a log"
done
step "SIGTERM: exit 0; log: JSON lines, licence of the production key, priority raised, no secret"

# --- 9. The access-management unit's ExecStart (its own config and store), on a free port.
am_port="$(free_port)"
sed -i "s/port=\"9500\"/port=\"$am_port\"/" /etc/webstream/am.config.xml
grep -q "publicIP=\"127.0.0.1\" port=\"$am_port\"" /etc/webstream/am.config.xml || fail "could not set the am port"
read -r -a am_start <<<"$(unit_value webstream-am ExecStart)"
read -r -a am_check <<<"$(unit_value webstream-am ExecReload | head -1)"
out="$(as_service "${am_check[@]}" 2>&1)" || fail "the am unit's config check: $out"
service_exec "${am_start[@]}" >"$tmp/am.log" 2>&1 &
gateway_pid=$!
code=000
for _ in $(seq 100); do
  code="$(http_code "http://127.0.0.1:$am_port/gateway/health")"
  [[ "$code" == 200 ]] && break
  kill -0 "$gateway_pid" 2>/dev/null || fail "webstream -am exited: $(cat "$tmp/am.log")"
  sleep 0.2
done
[[ "$code" == 200 ]] || fail "webstream -am /gateway/health answered $code"
[[ "$(http_code "http://127.0.0.1:$am_port/iam/.well-known/jwks.json")" == 200 ]] || fail "webstream -am serves no JWKS"
kill -TERM "$gateway_pid"
rc=0
wait "$gateway_pid" || rc=$?
gateway_pid=""
((rc == 0)) || fail "webstream -am exited $rc on SIGTERM"
grep -q '"msg":"access-management service started"' "$tmp/am.log" || fail "no start line in the am log"
[[ -f /var/lib/webstream/access-management.db ]] || fail "webstream -am made no store in /var/lib/webstream"
step "webstream-am's ExecStart as webstream: config check OK, health 200, JWKS served, SIGTERM exit 0"

# --- 10. Purge without WEBSTREAM_PURGE_DATA: user, group and /etc files gone, the data kept.
dpkg --purge webstream
getent passwd webstream >/dev/null && fail "purge left the user webstream"
getent group webstream >/dev/null && fail "purge left the group webstream"
[[ -e /usr/bin/webstream || -e /etc/webstream/app.config.xml || -e /etc/webstream/secrets.env ]] &&
  fail "purge left package files"
[[ -f /var/lib/webstream/webstream.db ]] || fail "purge removed the data without WEBSTREAM_PURGE_DATA=yes"
step "purge: user and group gone, /etc/webstream/*.config.xml and secrets.env gone, data kept"

# --- 11. Reinstall over the kept data, then purge with WEBSTREAM_PURGE_DATA=yes.
rm -f /etc/webstream/gateway.pfx /etc/webstream/webstream.licence
dpkg -i "$deb" >/dev/null
expect_stat /var/lib/webstream "webstream:webstream 700"
WEBSTREAM_PURGE_DATA=yes dpkg --purge webstream
[[ -e /var/lib/webstream ]] && fail "WEBSTREAM_PURGE_DATA=yes did not remove /var/lib/webstream"
getent passwd webstream >/dev/null && fail "the second purge left the user"
[[ -e /etc/webstream ]] && fail "/etc/webstream is left after purge"
step "reinstall over kept data, purge with WEBSTREAM_PURGE_DATA=yes: data and /etc/webstream gone"
step "PASS in $((SECONDS - started)) s"
