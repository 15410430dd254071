#!/usr/bin/env bash
# Set up the test environment and run the whole test suite (lint, unit, API, UI and browser tests).
# Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
if [ -f tests/setup_browser.sh ]; then
  bash tests/setup_browser.sh
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check qa ui tests bench
.venv/bin/python -m pytest -q "$@"
