#!/usr/bin/env bash
# Benchmarks that print figures (not tests). Generates logs into target/bench/ (kept
# between runs), then prints:
#   1. native MB/s and events/s per shape, with the prefilter and parsing every event;
#   2. the page on generated XML logs (default 1G and 4G): MB/s, events/s, the tab's
#      peak memory, and the wasm/native ratio on the same file;
#   3. EVTX beside evtx_dump's own single-thread parse of the same file (evtx_dump is
#      installed from crates.io into target/bench/tools at the evtx version the core uses).
# Usage: scripts/bench.sh [NATIVE_SIZE [PAGE_SIZE...]]    e.g. scripts/bench.sh 1G 1G 4G
set -euo pipefail
cd "$(dirname "$0")/.."

native_size=${1:-1G}
shift || true
page_sizes=("${@:-1G 4G}")
read -r -a page_sizes <<<"${page_sizes[*]}"
bench=target/bench
mkdir -p "$bench"

scripts/setup.sh >/dev/null
scripts/build.sh >/dev/null
cli=target/release/sysmon-lens

generated() { # shape size → path, generated once
  local path="$bench/$1-$2.log"
  [[ -f $path ]] || "$cli" generate --shape "$1" --size "$2" --seed 1 --out "$path" --manifest "$path.manifest.json" >&2
  echo "$path"
}

# scan exits 1 when it finds something; only its timing line on stderr matters here.
timing() { "$cli" scan --timing --format json "$@" 2>&1 >/dev/null || true; }

echo "== native, one core: $native_size per shape (3 runs; then every event parsed)"
for shape in xml evtx-jsonl flat-json ecs; do
  file=$(generated "$shape" "$native_size")
  cat "$file" >/dev/null # into the page cache, as for every run after the first
  for _ in 1 2 3; do timing "$file" | sed "s|^|$shape: |"; done
  timing --parse-everything "$file" | sed "s|^|$shape: |"
done

echo "== page, headless Chromium"
files=()
for size in "${page_sizes[@]}"; do files+=("$(generated xml "$size")"); done
node e2e/bench.mjs "${files[@]}"

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
  ours=$(timing "${twenty[@]}" | sed -E 's/.* in ([0-9.]+) s.*/\1/')
  python3 -c 'import sys; name, size, dump, ours = sys.argv[1], int(sys.argv[2]) * 20 / 1e6, int(sys.argv[3]) / 1e9, float(sys.argv[4]); print(f"{name}: {size:.1f} MB; evtx_dump -t 1 -o xml {dump:.3f} s = {size / dump:.0f} MB/s; sysmon-lens {ours:.3f} s = {size / ours:.0f} MB/s; ratio {dump / ours:.2f}")' \
    "$(basename "$file")" "$bytes" "$dump_ns" "$ours"
done
