#!/usr/bin/env bash
# Create .venv (once) and install the app's and the tests' requirements into it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import torch, torchvision, streamlit, sklearn, plotly, playwright" \
  || { echo "setup: the requirements did not install" >&2; exit 1; }
