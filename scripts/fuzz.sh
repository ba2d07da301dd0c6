#!/usr/bin/env bash
# Fuzzes the core through its public streaming API (fuzz/fuzz_targets: stream,
# differential, containers) and the prefilter's plain checks (xml_plain, json_plain), each
# target for SECONDS_PER_TARGET seconds (default 60), two at a time (the machine has
# 2 cores), from the seed corpus fuzz/seed.sh builds.
# Prints executions per target and exits non-zero on any crash, report mismatch, hang
# (one input over 10 s) or memory blow-up (over 2 GiB), leaving the input in
# fuzz/artifacts/<target>/ and the log in fuzz/logs/<target>.log.
# Needs nightly and cargo-fuzz, which scripts/setup.sh installs.
#
#   scripts/fuzz.sh                          # 60 s per target, as scripts/test.sh runs it
#   scripts/fuzz.sh 3600                     # an hour per target, two targets at a time
#   FUZZ_PARALLEL=1 scripts/fuzz.sh 1800     # one target at a time
#   FUZZ_TARGETS=differential scripts/fuzz.sh 600
#   FUZZ_ARGS='-fork=4 -ignore_crashes=1' FUZZ_PARALLEL=1 scripts/fuzz.sh 14400
#       # hours on 4 cores: 4 processes per target that go on past crashes, each saved
#       # in fuzz/artifacts/<target>/ (libFuzzer's -jobs=N -workers=N works too)
#   FUZZ_SANITIZER=address scripts/fuzz.sh   # with AddressSanitizer (about 2x slower)
#
# Reproduce a saved input:  cargo +nightly fuzz run -s none <target> fuzz/artifacts/<target>/<file>
# Shrink it:                cargo +nightly fuzz tmin -s none <target> fuzz/artifacts/<target>/<file>
# The corpus grows in fuzz/corpus/<target>/ from run to run; it is not committed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
parallel=${FUZZ_PARALLEL:-2}
sanitizer=${FUZZ_SANITIZER:-none}
read -r -a targets <<<"${FUZZ_TARGETS:-stream differential containers xml_plain json_plain}"
read -r -a extra_args <<<"${FUZZ_ARGS:-}"

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: needs the nightly toolchain and cargo-fuzz; run scripts/setup.sh" >&2
  exit 2
fi

fuzz/seed.sh
cargo +nightly fuzz build --sanitizer "$sanitizer"
binaries=${CARGO_TARGET_DIR:-fuzz/target}/x86_64-unknown-linux-gnu/release # cargo-fuzz builds into CARGO_TARGET_DIR when set
mkdir -p fuzz/logs

# Saved inputs that mean failure (libFuzzer's slow-unit-* files are only reported).
failures() {
  find "fuzz/artifacts/$1" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | sort
}

run_target() {
  local target=$1 status=0 started=$SECONDS
  mkdir -p "fuzz/artifacts/$target" "fuzz/corpus/$target"
  failures "$target" >"fuzz/logs/$target.before"
  "$binaries/$target" "fuzz/corpus/$target" \
    -artifact_prefix="fuzz/artifacts/$target/" -max_total_time="$seconds" \
    -max_len=1048576 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${extra_args[@]}" \
    >"fuzz/logs/$target.log" 2>&1 || status=$?
  echo "$status $((SECONDS - started))" >"fuzz/logs/$target.status"
}

running=0
for target in "${targets[@]}"; do
  if [ "$running" -ge "$parallel" ]; then
    wait -n
    running=$((running - 1))
  fi
  echo "fuzzing $target for $seconds s"
  run_target "$target" &
  running=$((running + 1))
done
wait

failed=0
for target in "${targets[@]}"; do
  log=fuzz/logs/$target.log
  # The final stats, or in fork mode the last status line's count.
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$executions" ] || executions=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -1)
  executions=${executions:-0}
  new=$(comm -13 "fuzz/logs/$target.before" <(failures "$target"))
  read -r status elapsed <"fuzz/logs/$target.status"
  echo "$target: $executions executions in $elapsed s ($((executions * 60 / (elapsed > 0 ? elapsed : 1))) per minute), exit status $status"
  if [ "$status" -ne 0 ] || [ -n "$new" ]; then
    failed=1
    grep -m3 -E "^==[0-9]+== ERROR|ALARM|out-of-memory" "$log" || tail -20 "$log"
    echo "$target: $(echo "$new" | grep -c .) saved inputs (log: $log), the first ones:"
    # Fork mode keeps no child's output: rerun a few saved inputs for their panic message.
    for input in $(echo "$new" | head -3); do
      echo "  $input"
      timeout 60 "$binaries/$target" "$input" 2>&1 | grep -A1 "panicked at" | tail -1 | cut -c1-500 | sed 's/^/    /' || true
    done
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "fuzzing found failures; reproduce with: cargo +nightly fuzz run -s none <target> <saved input>" >&2
  exit 1
fi
echo "fuzzing passed: no crash, mismatch, hang or memory blow-up"
