#!/usr/bin/env bash
# Create .venv (once), install the app and the tests' requirements into it and the project itself (editable, for the
# `vae-explorer` command), and -- when VAE_DATA_DIR is not set and ./data has no MNIST -- download MNIST into ./data
# once (torchvision shows its progress; offline, the app still starts and says what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e . 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import torch, torchvision, streamlit, sklearn, plotly, playwright, segno" \
  && .venv/bin/caddy version >/dev/null \
  || { echo "setup: the requirements did not install" >&2; exit 1; }
if [ -z "${VAE_DATA_DIR:-}" ] && [ ! -f data/MNIST/raw/t10k-images-idx3-ubyte ]; then
  echo "setup: MNIST is not in ./data; downloading it once (about 12 MB)..."
  .venv/bin/python -m vae_core download \
    || echo "setup: MNIST could not be downloaded (no internet?). The app starts anyway and says what is missing;" \
            "set VAE_DATA_DIR to a folder that holds MNIST/raw." >&2
fi
