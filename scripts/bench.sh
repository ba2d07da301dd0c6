#!/usr/bin/env bash
# Benchmarks that print figures (not tests). Generates logs into target/bench/ (kept
# between runs), then prints, each with its goal:
#   1. native, one core, per shape: the CLI's own timing line (3 runs with the prefilter,
#      one parsing every event), then the whole process's best wall time as MB/s and as a
#      ratio to `cat` reading the same file from the page cache (goal ≥ 0.6 of cat);
#   2. two cores beside one on the XML log (`--threads 2` vs `--threads 1`, goal ≥ 1.7×),
#      or that this build has no --threads;
#   3. memory held natively: peak resident memory (GNU time's %M) on generated XML logs of
#      NATIVE_SIZE and twice that; the growth divided by the growth in process creations
#      (goal ≤ 300 bytes) and in kept rows, and the projection to 10 M process creations
#      (goal < 3 GB);
#   4. the page on generated XML logs (default 1G and 4G): MB/s, events/s, the tab's
#      peak memory, and the wasm/native ratio on the same file;
#   5. EVTX beside evtx_dump's own single-thread parse of the same file (evtx_dump is
#      installed from crates.io into target/bench/tools at the evtx version the core uses).
# Usage: scripts/bench.sh [NATIVE_SIZE [PAGE_SIZE...]]    e.g. scripts/bench.sh 1G 1G 4G
# PAGE_SIZE `none` skips the page (and the wasm build): scripts/bench.sh 200M none
set -euo pipefail
cd "$(dirname "$0")/.."

native_size=${1:-1G}
shift || true
page_sizes=("${@:-1G 4G}")
read -r -a page_sizes <<<"${page_sizes[*]}"
[[ ${page_sizes[0]} == none ]] && page_sizes=()
bench=target/bench
mkdir -p "$bench"

if ((${#page_sizes[@]})); then
  scripts/setup.sh >/dev/null
  scripts/build.sh >/dev/null
else
  cargo build --release --locked --quiet --bin sysmon-lens
fi
cli=${CARGO_TARGET_DIR:-target}/release/sysmon-lens
scan() { "$cli" scan "$@" || (($? == 1)); } # exit status 1: it found something

generated() { # shape size → path, generated once
  local path="$bench/$1-$2.log"
  [[ -f $path ]] || "$cli" generate --shape "$1" --size "$2" --seed 1 --out "$path" --manifest "$path.manifest.json" >&2
  echo "$path"
}

# Wall time of the whole process in microseconds, into $wall_us; its standard error
# into $bench/stderr, its output discarded.
timed() {
  local start=${EPOCHREALTIME/[.,]/}
  "$@" >/dev/null 2>"$bench/stderr"
  wall_us=$((${EPOCHREALTIME/[.,]/} - start))
}

# Best (shortest) wall time of `runs` runs, into $best_us; each run's stderr is printed
# with `label: ` before it when a label is given.
best_of() { # runs label command...
  local runs=$1 label=$2
  shift 2
  best_us=0
  for _ in $(seq "$runs"); do
    timed "$@"
    ((best_us == 0 || wall_us < best_us)) && best_us=$wall_us
    [[ -z $label ]] || sed "s|^|$label: |" "$bench/stderr"
  done
}

calc() { awk "BEGIN { $1 }"; } # e.g. calc 'printf "%.2f", 1 / 3'

# The CLI's one-core figure needs --threads 1 once the CLI splits work between cores.
one_core=()
threads_supported=false
if "$cli" scan --help | grep -q -- --threads; then
  one_core=(--threads 1)
  threads_supported=true
fi

# The physical limit is `cat FILE >/dev/null` from the page cache. GNU cat (coreutils 9.1,
# checked with strace) read()s 128 KiB blocks into a user buffer and write()s them to
# /dev/null, which returns without touching them: the time is the kernel's copy of every
# byte into user memory, which any reader pays — as sysmon-lens's own read() loop does. A
# cat that used copy_file_range, splice or sendfile would copy nothing, so that is checked.
cat_copies_to_user_space() {
  command -v strace >/dev/null || return 0
  strace -e trace=copy_file_range,splice,sendfile -o "$bench/cat.strace" cat "$1" >/dev/null
  ! grep -qE '^[0-9 ]*(copy_file_range|splice|sendfile)\(.*= [1-9]' "$bench/cat.strace"
}

echo "== native, one core: $native_size per shape (3 runs; then every event parsed); whole process beside cat"
for shape in xml evtx-jsonl flat-json ecs; do
  file=$(generated "$shape" "$native_size")
  bytes=$(stat -c %s "$file")
  cat "$file" >/dev/null # into the page cache, as for every run after the first
  if [[ $shape == xml ]] && ! cat_copies_to_user_space "$file"; then
    echo "warning: this cat does not copy the file into user space; its MB/s is no physical limit"
  fi
  best_of 5 "" cat "$file"
  cat_us=$best_us
  best_of 3 "$shape" scan --timing --format json "${one_core[@]}" "$file"
  ours_us=$best_us
  best_of 1 "$shape" scan --timing --format json "${one_core[@]}" --parse-everything "$file"
  calc "printf \"$shape: cat %.0f MB/s; sysmon-lens %.0f MB/s (best of 3, whole process) = %.2f of cat (goal ≥ 0.6)\n\", \
    $bytes / $cat_us, $bytes / $ours_us, $cat_us / $ours_us"
done

echo "== two cores beside one: XML, $native_size (best of 3 each, whole process)"
if $threads_supported; then
  file=$(generated xml "$native_size")
  bytes=$(stat -c %s "$file")
  best_of 3 "" scan --format json --threads 1 "$file"
  one_us=$best_us
  best_of 3 "" scan --format json --threads 2 "$file"
  two_us=$best_us
  calc "printf \"threads: 1 thread %.0f MB/s, 2 threads %.0f MB/s: %.2f× one thread (goal ≥ 1.7)\n\", \
    $bytes / $one_us, $bytes / $two_us, $one_us / $two_us"
else
  echo "threads: not supported by this build"
fi

if [[ $native_size =~ ^([0-9]+)([KMG]?)$ ]]; then
  memory_sizes=("$native_size" "$((BASH_REMATCH[1] * 2))${BASH_REMATCH[2]}")
else
  echo "NATIVE_SIZE must be a whole number with an optional K, M or G for the memory figures" >&2
  exit 2
fi
echo "== memory held natively: peak resident memory on XML logs of ${memory_sizes[*]} (default threads)"
if [[ -x /usr/bin/time ]]; then
  peaks=() processes=() kept_rows=()
  for size in "${memory_sizes[@]}"; do
    file=$(generated xml "$size")
    /usr/bin/time -f %M -o "$bench/peak" "$cli" scan --format json "$file" >/dev/null 2>&1 || (($? == 1))
    peak=$(($(tail -n 1 "$bench/peak") * 1024)) # GNU time prints KiB
    read -r creations connections < <(python3 -c 'import json, sys; ids = json.load(open(sys.argv[1]))["events_by_id"]; print(ids.get("1", 0), ids.get("3", 0))' "$file.manifest.json")
    calc "printf \"xml-$size: $creations process creations, $connections network connections (from the generator's manifest); peak resident %.1f MB\n\", $peak / 1e6"
    peaks+=("$peak") processes+=("$creations") kept_rows+=("$((creations + connections))")
  done
  # All growth is counted against process creations (and then against process creations
  # plus connections): the generated logs hold both in a fixed ratio, so one slope each.
  calc "grown = ${peaks[1]} - ${peaks[0]}; per_process = grown / (${processes[1]} - ${processes[0]}); \
    printf \"memory: %.0f bytes per process creation (goal ≤ 300), %.0f per kept row (EID 1 + EID 3); \", \
      per_process, grown / (${kept_rows[1]} - ${kept_rows[0]}); \
    printf \"10 M process creations (with their connections, as in these logs) ≈ %.2f GB natively (goal < 3 GB)\n\", \
      (${peaks[0]} + per_process * (1e7 - ${processes[0]})) / 1e9"
else
  echo "memory: needs GNU time at /usr/bin/time (Debian package time)"
fi

if ((${#page_sizes[@]})); then
  echo "== page, headless Chromium"
  files=()
  for size in "${page_sizes[@]}"; do files+=("$(generated xml "$size")"); done
  node e2e/bench.mjs "${files[@]}"
fi

echo "== EVTX beside evtx_dump (single thread), each file read 20 times"
evtx_version=$(cargo metadata --format-version 1 --locked | python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "evtx"))')
evtx_dump=$bench/tools/bin/evtx_dump
if [[ ! -x $evtx_dump ]]; then
  cargo install evtx --version "$evtx_version" --locked --root "$bench/tools" >&2
fi
datasets=${SYSMON_LENS_DATASETS:-../shared/datasets}
# Only files of a megabyte or more: below that, evtx_dump's start-up is what gets timed.
for file in "$datasets"/*/*.evtx; do
  bytes=$(stat -c %s "$file")
  ((bytes >= 1000000)) || continue
  start=$(date +%s%N)
  for _ in $(seq 20); do "$evtx_dump" -t 1 -o xml "$file" >/dev/null; done
  dump_ns=$(($(date +%s%N) - start))
  mapfile -t twenty < <(for _ in $(seq 20); do echo "$file"; done)
  best_of 1 "" scan --timing --format json "${one_core[@]}" "${twenty[@]}"
  ours=$(sed -nE 's/.* in ([0-9.]+) s.*/\1/p' "$bench/stderr")
  python3 -c 'import sys; name, size, dump, ours = sys.argv[1], int(sys.argv[2]) * 20 / 1e6, int(sys.argv[3]) / 1e9, float(sys.argv[4]); print(f"{name}: {size:.1f} MB; evtx_dump -t 1 -o xml {dump:.3f} s = {size / dump:.0f} MB/s; sysmon-lens {ours:.3f} s = {size / ours:.0f} MB/s; ratio {dump / ours:.2f} (goal ≥ 1.0)")' \
    "$(basename "$file")" "$bytes" "$dump_ns" "$ours"
  if $threads_supported; then
    # The same 20 files on every core, a file to a thread.
    best_of 1 "" scan --timing --format json "${twenty[@]}"
    ours=$(sed -nE 's/.* in ([0-9.]+) s.*/\1/p' "$bench/stderr")
    calc "printf \"  on every core (a file to a thread): %.3f s = %.0f MB/s\n\", $ours, $bytes * 20 / 1e6 / $ours"
  fi
done
