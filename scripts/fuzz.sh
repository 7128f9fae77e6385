#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of fuzz/ (docs/dev/fuzzing.md). Preset `fuzz`: clang 14 with
# ASan + UBSan (scripts/setup.sh --fuzz installs it); build dir build/fuzz.
#   scripts/fuzz.sh --list             names the targets
#   scripts/fuzz.sh TARGET SECONDS [FLAG…]
#                                      builds TARGET if needed and fuzzes it for SECONDS (at nice 10), starting
#                                      from its committed seeds fuzz/corpus/TARGET/; new inputs go to
#                                      build/fuzz/corpus/TARGET/, crashes to build/fuzz/artifacts/TARGET/, the
#                                      log to build/fuzz/logs/TARGET-<time>.log; a summary line is printed
#                                      and appended to build/fuzz/runs.log. FLAGs go to libFuzzer, e.g.
#                                      -fork=1 -ignore_crashes=1 to go on past a known crash
#   scripts/fuzz.sh --corpus [TARGET…] builds the targets and runs each over its committed corpus only (no
#                                      fuzzing; seconds per target): what CI runs. Fails on any crash or report.
#   scripts/fuzz.sh --run TARGET FILE… runs TARGET on the given inputs (reproduce a crash)
# FUZZ_PRESET=asan makes --corpus and --run use the targets of the `asan` build (GCC, ASan + UBSan), linked with
# a replay driver instead of libFuzzer: CI replays the corpora on the build its sanitizer stage already made.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
preset="${FUZZ_PRESET:-fuzz}"
build="$root/build/$preset"

# fuzz/replay_main.cpp is the asan preset's driver, not a target.
targets() { (cd "$root/fuzz" && ls -1 *.cpp | sed 's/\.cpp$//' | grep -vx replay_main); }

is_target() { targets | grep -qx -- "$1"; }

build_targets() {
  [[ -n ${FUZZ_NO_BUILD:-} ]] && return 0  # the binaries are known to be current (e.g. a build is running)
  if [[ $preset == fuzz ]]; then "$root/scripts/setup.sh" --fuzz >/dev/null; fi
  "$root/scripts/build.sh" "$preset" "${@/#/fuzz_}" >/dev/null
}

# The target's libFuzzer options: fuzz/TARGET.options, one flag a line ('#' comments).
options() {
  local f="$root/fuzz/$1.options"
  [[ -f $f ]] && grep -v '^\s*\(#\|$\)' "$f" || true
}

# Any sanitizer report is fatal; leaks are reported at exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:halt_on_error=1:detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}"

case "${1:-}" in
  --list)
    targets
    ;;
  --corpus)
    shift
    if (($#)); then list=("$@"); else mapfile -t list < <(targets); fi
    build_targets "${list[@]}"
    failed=0
    for t in "${list[@]}"; do
      is_target "$t" || { echo "fuzz: no target $t" >&2; exit 2; }
      mapfile -t inputs < <(find "$root/fuzz/corpus/$t" -type f | sort)
      start=$(date +%s%N)
      if (("${#inputs[@]}")) && ! "$build/fuzz/fuzz_$t" $(options "$t") "${inputs[@]}" >"$build/corpus-$t.log" 2>&1; then
        echo "fuzz: $t FAILED on its corpus (log: $build/corpus-$t.log)"
        tail -n 30 "$build/corpus-$t.log"
        failed=1
      else
        printf 'fuzz: %-16s %3d inputs ok (%d ms)\n' "$t" "${#inputs[@]}" $((($(date +%s%N) - start) / 1000000))
      fi
    done
    exit $failed
    ;;
  --run)
    t="${2:?usage: scripts/fuzz.sh --run TARGET FILE...}"
    shift 2
    is_target "$t" || { echo "fuzz: no target $t (scripts/fuzz.sh --list)" >&2; exit 2; }
    build_targets "$t"
    exec "$build/fuzz/fuzz_$t" $(options "$t") "$@"
    ;;
  ""|-h|--help)
    sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
    ;;
  *)
    t="$1"
    seconds="${2:?usage: scripts/fuzz.sh TARGET SECONDS}"
    [[ $preset == fuzz ]] || { echo "fuzz: fuzzing needs the libFuzzer build (FUZZ_PRESET=fuzz)" >&2; exit 2; }
    shift 2
    is_target "$t" || { echo "fuzz: no target $t (scripts/fuzz.sh --list)" >&2; exit 2; }
    build_targets "$t"
    mkdir -p "$build/corpus/$t" "$build/artifacts/$t" "$build/logs" "$root/fuzz/corpus/$t"
    log="$build/logs/$t-$(date +%Y%m%d-%H%M%S).log"
    rc=0
    nice -n 10 "$build/fuzz/fuzz_$t" $(options "$t") "$@" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$t/" "$build/corpus/$t" "$root/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || echo "?")
    crashes=$(find "$build/artifacts/$t" -type f | wc -l)
    summary="fuzz: $t seconds=$seconds execs=$execs cov=$cov exit=$rc artifacts=$crashes log=$log"
    echo "$summary"
    echo "$(date -u +%FT%TZ) $summary" >>"$build/runs.log"
    exit $rc
    ;;
esac
