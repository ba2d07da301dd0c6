#!/usr/bin/env bash
# Builds the page and serves it on 127.0.0.1 (PORT, default 8000).
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-8000}

scripts/setup.sh
scripts/build.sh
echo
echo "Sysmon Lens: http://127.0.0.1:${port}/"
echo
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory www
