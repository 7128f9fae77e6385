#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests and the demo need. Idempotent: installs only
# what is missing. Usage: scripts/setup.sh [--bench] [--browser] [--fuzz] [--cluster] [--package]
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache mold pkg-config make
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev openssl libsodium-dev libsqlite3-dev sqlite3 libpugixml-dev libmimalloc-dev
  postgresql libpq-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 curl procps clang-format
)
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(wrk nginx haproxy nghttp2-client linux-perf) ;;
    --browser) packages+=(chromium nodejs npm fonts-dejavu-core) ;;
    --fuzz) packages+=(clang-14 libclang-rt-14-dev) ;;  # libFuzzer + sanitizers: scripts/fuzz.sh
    --cluster) packages+=(haproxy) ;;                  # scripts/demo.sh --cluster puts HAProxy in front
    --package) packages+=(debhelper lintian dpkg-dev fakeroot) ;;  # scripts/package.sh: the Debian package
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js and npm may come from outside Debian on some machines: accept any working node/npm.
if [[ " ${missing[*]} " == *" nodejs "* ]] && command -v node >/dev/null; then missing=("${missing[@]/nodejs}"); fi
if [[ " ${missing[*]} " == *" npm "* ]] && command -v npm >/dev/null; then missing=("${missing[@]/npm}"); fi
read -r -a missing <<< "${missing[*]}"

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ " $* " == *" --browser "* ]]; then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  if [[ ! -d "$root/tests/browser/node_modules/playwright-core" ]]; then
    (cd "$root/tests/browser" && npm install --no-audit --no-fund --silent)
  fi
fi
echo "setup: all packages present"
