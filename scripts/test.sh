#!/usr/bin/env bash
# Set up (venv, pip, Debian's chromium for the browser test) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null
  else
    sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  fi
fi
export VAE_DATA_DIR="${VAE_DATA_DIR:-./data}"
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
