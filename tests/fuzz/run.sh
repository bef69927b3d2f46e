#!/bin/bash
# Run every libFuzzer target for a while and print how many inputs each
# one executed. Builds the fuzzers first (clang, AddressSanitizer and
# UndefinedBehaviorSanitizer) into BUILD_DIR. New inputs that grow coverage
# go to WORK_DIR/<target>, never into the committed seed corpora; a crash
# or a broken invariant leaves its input in WORK_DIR/crashes and makes the
# script exit 1.
#
# usage: tests/fuzz/run.sh [-t SECONDS] [-b BUILD_DIR] [-w WORK_DIR] [TARGET...]
#   -t  seconds per target (default 60; resolving a boundary issue: 600)
#   TARGET  e.g. offload stream (default: every target that was built)
#
# Targets that feed libslirp (which opens real sockets for what the guest
# asks) run inside a private network namespace with only lo
# (tests/fuzz/slirp-ns.sh, root): nothing they send can leave the machine.
set -uo pipefail
cd "$(dirname "$0")/../.."
SECS=60 BUILD=build-fuzz WORK=/tmp/netbe-fuzz
while getopts t:b:w: o; do
  case $o in
    t) SECS=$OPTARG ;;
    b) BUILD=$OPTARG ;;
    w) WORK=$OPTARG ;;
    *) sed -n '2,17p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

if [ ! -d "$BUILD" ]; then
  CC=clang meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false \
    -Dfuzz=enabled >/dev/null || { echo "fuzz: meson setup failed (is clang with libFuzzer installed? scripts/setup.sh)"; exit 1; }
fi
ninja -C "$BUILD" >/dev/null || { echo "fuzz: build failed"; exit 1; }

# target -> extra libFuzzer flags (inputs as large as real ones: 64 KiB
# super-frames plus headers)
declare -A FLAGS=(
  [offload]="-max_len=70000" [core]="-max_len=70000" [stream]="-max_len=140000"
  [vxlan]="-max_len=70000" [dgram]="-max_len=140000" [slirp]="-max_len=70000"
  [ipfrag]="-max_len=140000" [vring]="-max_len=140000" [spec]="-max_len=512" [addr]="-max_len=300" [guestproto]="-max_len=2000" [rings]="-max_len=70000" [vhu-msg]="-max_len=400"
  [vdev]="-max_len=300000" [vhu-server]="-max_len=4096"
)
NETNS_TARGETS=" slirp "
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$BUILD"/tests/fuzz-*; do
    [ -f "$f" ] && [ -x "$f" ] && [[ $f != *-replay ]] && targets+=("${f##*/fuzz-}")
  done
fi

mkdir -p "$WORK/crashes"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
rc=0
printf '%-12s %12s %8s  %s\n' target execs secs result
for t in "${targets[@]}"; do
  bin=$BUILD/tests/fuzz-$t
  [ -x "$bin" ] || { echo "fuzz: no $bin"; rc=1; continue; }
  mkdir -p "$WORK/$t"
  wrap=()
  if [[ $NETNS_TARGETS == *" $t "* ]]; then
    [ "$(id -u)" = 0 ] || { printf '%-12s %12s %8s  %s\n' "$t" - - "skipped: needs root"; continue; }
    wrap=(tests/fuzz/slirp-ns.sh)
  fi
  log=$WORK/$t.log
  "${wrap[@]}" "$bin" ${FLAGS[$t]:-} -max_total_time="$SECS" -print_final_stats=1 \
    -artifact_prefix="$WORK/crashes/$t-" "$WORK/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
  status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  result=ok
  if [ $status != 0 ]; then
    result="FAILED (exit $status): see $log and $WORK/crashes"
    rc=1
  fi
  printf '%-12s %12s %8s  %s\n' "$t" "${execs:-?}" "$SECS" "$result"
done
exit $rc
