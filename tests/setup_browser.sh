#!/usr/bin/env bash
# Install what tests/test_browser.py needs: Debian's Chromium, a CJK font, and Playwright's Python
# package (used only as a driver for /usr/bin/chromium; `playwright install` is NOT run).
#
#   tests/setup_browser.sh [PYTHON]      # PYTHON defaults to .venv/bin/python beside this repo
#
# Safe to run repeatedly: it installs only what is missing. Needs root (or sudo) for apt-get.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${1:-$here/.venv/bin/python}"

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "WenQuanYi Zen Hei" || missing+=(fonts-wqy-zenhei)
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "setup_browser: need root or sudo to install ${missing[*]}" >&2; exit 1; }
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

"$python" -c "import playwright" 2>/dev/null || "$python" -m pip install -q "playwright>=1.40"

/usr/bin/chromium --version
"$python" -c "import playwright, importlib.metadata as m; print('playwright', m.version('playwright'))"
