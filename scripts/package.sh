#!/usr/bin/env bash
# Builds the Debian 12 package build/webstream_<version>_amd64.deb (docs/operator-guide.md "Installing the
# package"): the release build of `webstream` (CMake preset `package`: RelWithDebInfo, the ci preset's flags,
# no tests, no licence test key), the configuration and units of packaging/, debhelper, then lintian (errors
# fail).
#
# Usage: scripts/package.sh [--keys FILE]
#   --keys FILE   the production licence public keys the binary trusts ("KEY_ID PUBLIC_KEY" per line,
#                 docs/licence.md "Keys"); also WEBSTREAM_LICENCE_TRUSTED_KEYS_FILE. Without it the package
#                 trusts no licence key: it runs the evaluation licence only (a warning says so).
# The build's licence test key is never trusted by the package: the preset turns WEBSTREAM_LICENCE_TEST_KEY off
# and this script checks the configured cache before packaging.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
keys="${WEBSTREAM_LICENCE_TRUSTED_KEYS_FILE:-}"
while (($#)); do
  case "$1" in
    --keys)
      (($# >= 2)) || { echo "package.sh: --keys needs a file" >&2; exit 2; }
      keys="$2"
      shift 2
      ;;
    -h | --help)
      sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) echo "package.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -n "$keys" ]]; then
  [[ -f "$keys" ]] || { echo "package.sh: licence keys file $keys does not exist" >&2; exit 2; }
  keys="$(cd "$(dirname "$keys")" && pwd)/$(basename "$keys")"
fi

started=$SECONDS
"$root/scripts/setup.sh" --package
cd "$root"

# 1. The binary: release flags, production licence keys only.
cmake --preset package -DWEBSTREAM_LICENCE_TRUSTED_KEYS_FILE="$keys" -DWEBSTREAM_LICENCE_TEST_KEY=OFF >/dev/null
"$root/scripts/build.sh" package webstream
cache="$root/build/package/CMakeCache.txt"
grep -qx 'WEBSTREAM_LICENCE_TEST_KEY:BOOL=OFF' "$cache" || {
  echo "package.sh: build/package trusts the licence test key (WEBSTREAM_LICENCE_TEST_KEY is not OFF)" >&2
  exit 1
}
binary="$root/build/package/src/app/webstream"
version="$("$binary" --version | awk '{print $2}')"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "package.sh: unexpected version '$version'" >&2; exit 1; }
if [[ -z "$keys" ]]; then
  echo "package.sh: WARNING: no --keys file: this package trusts no licence key (evaluation licence only)" >&2
else
  echo "package: trusting the licence keys of $keys: $(grep -cvE '^[[:space:]]*(#|$)' "$keys") key(s)"
fi

# 2. The package tree, staged apart from the repository (dpkg-buildpackage writes next to its tree).
stage="$root/build/deb"
tree="$stage/webstream-$version"
rm -rf "$stage"
mkdir -p "$tree/etc" "$tree/docs"
cp -r "$root/packaging/debian" "$tree/debian"
cp "$binary" "$tree/webstream"
cp "$root/packaging/webstream.1" "$tree/"
cp "$root/packaging/etc/app.config.xml" "$root/packaging/etc/am.config.xml" "$root/packaging/etc/secrets.env.template" \
  "$tree/etc/"
while read -r doc; do cp "$root/$doc" "$tree/docs/"; done <"$root/packaging/debian/webstream.docs"
commit="$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
when="$(git -C "$root" log -1 --format=%aD 2>/dev/null || date -R)"
maintainer="$(sed -n 's/^Maintainer: //p' "$root/packaging/debian/control")"
cat >"$tree/debian/changelog" <<EOF
webstream ($version) unstable; urgency=medium

  * WebStream Gateway $version, built by scripts/package.sh from commit
    $commit.

 -- $maintainer  $when
EOF

# 3. debhelper (Rules-Requires-Root: no, so no fakeroot needed; -d: the build tools are checked by setup.sh).
(cd "$tree" && dpkg-buildpackage -b -us -uc -d) >"$stage/dpkg-buildpackage.log" 2>&1 || {
  tail -40 "$stage/dpkg-buildpackage.log" >&2
  echo "package.sh: dpkg-buildpackage failed (log: $stage/dpkg-buildpackage.log)" >&2
  exit 1
}
deb="webstream_${version}_amd64.deb"
cp "$stage/$deb" "$root/build/$deb"

# 4. lintian: errors fail the build; every warning kept is explained in docs/operator-guide.md.
echo "package: lintian build/$deb"
lintian_rc=0
lintian --fail-on error --info "$root/build/$deb" || lintian_rc=$?
if ((lintian_rc != 0)); then
  echo "package.sh: lintian reported errors (exit $lintian_rc)" >&2
  exit 1
fi
echo "package: build/$deb ($(du -h "$root/build/$deb" | cut -f1)) in $((SECONDS - started)) s"
