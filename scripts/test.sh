#!/usr/bin/env bash
# Set up (venv, pip, Debian's chromium for the browser test, redis-server for the class map's Redis store) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium redis-server) >/dev/null
  else
    sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium redis-server >/dev/null
  fi
fi
export VAE_DATA_DIR="${VAE_DATA_DIR:-./data}"
exec .venv/bin/python -m pytest -q -p no:cacheprovider --durations=15 "$@"
