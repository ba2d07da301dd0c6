#!/usr/bin/env bash
# Builds the page's wasm module into www/pkg, the build's id and file list into
# www/pkg/build.js, the single file dist/sysmon-lens.html (the page with everything
# inlined, to open from disk) and the native CLI into target/release (or
# $CARGO_TARGET_DIR/release). Web build settings come from wasm-pack.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

setting() {
  python3 -c 'import sys, tomllib, json; v = tomllib.load(open("wasm-pack.toml", "rb"))["web"][sys.argv[1]]; print(" ".join(v) if isinstance(v, list) else v)' "$1"
}
target=$(setting target)
out_dir=$(setting out-dir)
read -r -a opt_flags <<<"$(setting wasm-opt)"
target_dir=${CARGO_TARGET_DIR:-target}

cargo build --lib --release --locked --target wasm32-unknown-unknown --no-default-features
rm -rf "$out_dir"
wasm-bindgen --target "$target" --no-typescript --out-dir "$out_dir" \
  "$target_dir/wasm32-unknown-unknown/release/sysmon_lens.wasm"
e2e/node_modules/.bin/wasm-opt "${opt_flags[@]}" "$out_dir/sysmon_lens_bg.wasm" -o "$out_dir/sysmon_lens_bg.wasm"
node scripts/build-info.mjs
node scripts/single-file.mjs dist/sysmon-lens.html

cargo build --release --locked --bin sysmon-lens
echo "built $out_dir/sysmon_lens_bg.wasm ($(wc -c <"$out_dir/sysmon_lens_bg.wasm") bytes, $(gzip -9 -n -c "$out_dir/sysmon_lens_bg.wasm" | wc -c) gzipped)," \
  "dist/sysmon-lens.html ($(wc -c <dist/sysmon-lens.html) bytes) and $target_dir/release/sysmon-lens"
