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
# json_plain also gets records of the shapes its extractor reads that no file above has
# in plain JSON: Splunk exports (escaped XML in `_raw`, `results` arrays, preview rows) and
# Cisco NVM flows (numbers written as numbers and as strings, fields missing).
index=0
while IFS= read -r record; do
  printf '%s' "$record" >"corpus/json_plain/seed-shape-$index"
  index=$((index + 1))
done <<'RECORDS'
{"preview":false,"offset":0,"result":{"_raw":"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID><TimeCreated SystemTime='2024-05-01T10:00:00.1234567Z'/><Computer>WS-01</Computer></System><EventData><Data Name='ProcessId'>5120</Data><Data Name='Image'>C:\\Windows\\System32\\cmd.exe</Data><Data Name='ParentImage'>C:\\Windows\\System32\\msiexec.exe</Data><Data Name='CommandLine'>cmd /c \"a &amp; b\" &gt; %TEMP%\\n.txt</Data><Data Name='User'>CORP\\alice</Data></EventData></Event>","_time":"2024-05-01T19:00:00.123+09:00","host":"splunk-host","source":"XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"}}
{"preview":false,"offset":1,"result":{"_raw":"<Event><System><Provider Name=\"Microsoft-Windows-Sysmon\"/><EventID>3</EventID></System><EventData><Data Name=\"ProcessId\">4242</Data><Data Name=\"Image\">C:\\msiexec.exe</Data><Data Name=\"DestinationIp\">93.184.216.34</Data><Data Name=\"DestinationPort\">443</Data></EventData></Event>","_time":1714557600,"host":42}}
{"results":[{"_raw":"<Event><System><EventID>1</EventID></System><EventData><Data Name='Image'>a\tb</Data></EventData></Event>"},{"_raw":"LogName=Security"},{"_raw":"<Event><System><EventID>3</EventID><Computer/></System></Event>","host":"h"}]}
{"preview":true,"result":{"_raw":"<Event><System><EventID>1</EventID></System></Event>"}}
{"fv":"nvzFlow_v4","vsn":"WS-02","udid":"1DD7","sa":"10.1.2.3","sp":50200,"da":"93.184.216.34","dp":443,"pr":6,"dh":"evil.example","pn":"msiexec.exe","pid":4242,"ppn":"cmd.exe","ppid":900,"pa":"CORP\\alice","liuid":"CORP\\alice","fss":1714558501,"fes":1714558503}
{"pn":"a.exe","da":"1.2.3.4","dp":"80","pr":"17","pid":"7","liuid":"CORP\\bob","fss":"1714558501","vsn":null}
RECORDS
echo "seeded $count inputs into fuzz/corpus/{stream,differential,containers,xml_plain,json_plain}"
