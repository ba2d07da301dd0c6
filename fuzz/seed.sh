#!/usr/bin/env bash
# Builds the seed corpus fuzz/corpus/<target>/ from the inputs of tests/cases and the
# small files (< 200 KB) of ../shared/datasets when it is there. Each seed is an input
# file behind the selector bytes its target reads (see fuzz/src/lib.rs): its extension,
# no container added, and chunks of 1, 7 and 65536 bytes in turn. Safe to run again:
# seeds are rewritten, files the fuzzer added to the corpus are kept.
set -euo pipefail
cd "$(dirname "$0")"

datasets=../../shared/datasets
chunking='\x03\x00\x06\xff' # three sizes: 1, 7, (255 - 127) * 512 = 65536 bytes

# Index in EXTENSIONS (fuzz/src/lib.rs) of a file's kind, .log for anything else.
extension_index() {
  case "$1" in
    *.xml) echo 0 ;; *.json) echo 1 ;; *.jsonl | *.ndjson) echo 2 ;; *.evtx) echo 3 ;;
    *.csv) echo 4 ;; *.gz) echo 5 ;; *.zip) echo 6 ;; *.tar) echo 7 ;; *) echo 8 ;;
  esac
}

# seed TARGET NAME PREFIX FILE: writes PREFIX (printf escapes) then FILE.
seed() {
  { printf "$3"; cat "$4"; } >"corpus/$1/seed-$2"
}

mkdir -p corpus/stream corpus/differential corpus/containers corpus/xml_plain corpus/json_plain
inputs=$(find ../tests/cases -type f ! -name expected.json)
if [ -d "$datasets" ]; then
  inputs+=$'\n'$(find "$datasets" -type f -size -200k ! -name '*.md')
fi

count=0
while IFS= read -r input; do
  [ -n "$input" ] || continue
  name=${input#../../shared/}
  name=$(echo "${name#../}" | tr '/' '-')
  selector=$(printf '\\x%02x' "$(extension_index "$input")")
  seed stream "$name" "$selector$chunking" "$input"
  seed differential "$name" "$selector$chunking" "$input"
  case "$input" in
    *.gz | *.zip | *.tar | *.evtx) ;;
    *)
      # tar.gz, a .gz in a zip, and a damaged gzip; damage at the middle.
      seed containers "$name-tar-gz" "\\x07\\x00\\x80$chunking" "$input"
      seed containers "$name-gz-zip" "\\x09\\x00\\x80$chunking" "$input"
      seed containers "$name-gz-flipped" "\\x90\\x00\\x80$chunking" "$input"
      ;;
  esac
  # xml_plain reads one event: the first three of each UTF-8 XML file, one per seed.
  case "$input" in
    *.xml | *.log)
      grep -ao '<Event[ >].*</Event>' "$input" 2>/dev/null | head -3 | split -l 1 -a 1 - "corpus/xml_plain/seed-$name-" || true
      ;;
  esac
  # json_plain reads one record: the first three lines of each JSON file, one per seed.
  case "$input" in
    *.json | *.jsonl | *.ndjson | *.log)
      head -3 "$input" | split -l 1 -a 1 - "corpus/json_plain/seed-$name-" || true
      ;;
  esac
  count=$((count + 1))
done <<<"$inputs"
echo "seeded $count inputs into fuzz/corpus/{stream,differential,containers,xml_plain,json_plain}"
