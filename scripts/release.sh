#!/usr/bin/env bash
# Builds, then writes the release into dist/: sysmon-lens-<version>.zip, holding the page
# to host (www/) and the single file to open from disk (sysmon-lens.html), and
# SHA256SUMS, the checksums of the zip and of the single file (README: "Check a download").
# The zip is reproducible: entries in name order, fixed dates and modes.
# `--built`: use the build already in www/pkg and dist/ instead of building first.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "${1:-}" = "--built" ] || scripts/build.sh
version=$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["package"]["version"])')
name="sysmon-lens-$version"
rm -f dist/sysmon-lens-*.zip dist/SHA256SUMS
python3 - "$name" <<'PY'
import os, sys, zipfile
name = sys.argv[1]
entries = [(f"{name}/sysmon-lens.html", "dist/sysmon-lens.html")]
for folder, _, files in os.walk("www"):
    entries += [(f"{name}/" + os.path.join(folder, f).replace(os.sep, "/"), os.path.join(folder, f)) for f in files]
with zipfile.ZipFile(f"dist/{name}.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
    for inside, source in sorted(entries):
        info = zipfile.ZipInfo(inside, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(source, "rb") as data:
            archive.writestr(info, data.read())
PY
(cd dist && sha256sum "$name.zip" sysmon-lens.html >SHA256SUMS && cat SHA256SUMS)
