#!/usr/bin/env bash
# Runs every test: lints, native unit and integration tests, wasm-vs-native
# equality, and the page in headless Chromium. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build.sh

cargo fmt --check
cargo fmt --check --manifest-path fuzz/Cargo.toml
cargo clippy --locked --all-targets -- -D warnings
cargo clippy --locked --lib --target wasm32-unknown-unknown --no-default-features -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --quiet
cargo test --locked

(cd e2e && node --test --test-reporter=spec read-file.test.mjs wasm.test.mjs page.test.mjs offline.test.mjs analyst.test.mjs hostile.test.mjs scale.test.mjs large.test.mjs workers.test.mjs suppress.test.mjs a11y.test.mjs triage.test.mjs detail.test.mjs exports.test.mjs browse.test.mjs)
# A bounded fuzzing run (a minute per target) so that a crash or a report mismatch fails here.
scripts/fuzz.sh 60
echo "all tests passed; page screenshots in e2e/artifacts/"
