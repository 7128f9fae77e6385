#!/usr/bin/env bash
# The unit and end-to-end tests against an AddressSanitizer + UndefinedBehaviorSanitizer build (preset `asan`,
# GCC, build dir build/asan): the gateway, the simulator and every test binary instrumented. Any report fails
# the run: the sanitizers halt and abort on the first one, and write it to build/asan/sanitizer-reports/
# (log_path), which this script prints and treats as a failure even when the process that wrote it was a
# server whose death a test did not notice. Usage: scripts/asan-test.sh [extra ctest args]
# ASAN_LABELS (default "unit|e2e") picks the CTest labels; the browser test is left out (a Chromium-driven
# test adds minutes under ASan and exercises no gateway path the e2e files do not).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
reports="$root/build/asan/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
# Tells the end-to-end tests they run against a sanitizer build (test_limits skips its RSS bound: ASan's quarantine).
export WEBSTREAM_SANITIZERS="address,undefined"
rc=0
WEBSTREAM_PRESET=asan "$root/scripts/test.sh" -L "${ASAN_LABELS:-unit|e2e}" "$@" || rc=$?
shopt -s nullglob
found=("$reports"/*)
if ((${#found[@]})); then
  echo "asan-test: ${#found[@]} sanitizer report(s):"
  for f in "${found[@]}"; do
    echo "---- $f"
    head -n 60 "$f"
  done
  rc=1
fi
exit $rc
