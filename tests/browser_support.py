"""Driving headless Chromium for the browser tests: whether it can run here, and the page steps every test takes
(wait for Streamlit to settle, switch mode, take a screenshot).

Used by ``tests/test_browser.py``, whose fixtures install Chromium when it is missing and start the service and UI.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
WAIT_MS = int(os.environ.get("QA_BROWSER_WAIT_MS", "120000"))


def have_cjk_font() -> bool:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return False
    out = subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True).stdout
    return bool(out.strip())


def browser_ready() -> bool:
    return Path(CHROMIUM).exists() and have_cjk_font() and importlib.util.find_spec("playwright") is not None


def settle(page) -> None:
    """Wait until Streamlit has finished the current run (no 'Running…' indicator, no stale elements)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-stale=\"true\"]')", timeout=WAIT_MS)
    page.wait_for_timeout(600)


def choose_mode(page, mode: str) -> None:
    page.locator('[data-testid="stSidebar"] label').filter(has_text=re.compile(f"{mode}$")).first.click()
    page.locator("h4").filter(has_text=mode).first.wait_for()
    settle(page)


def shot(page, shots: Path, name: str) -> Path:
    """Screenshot of the viewport, stored as a 128-colour PNG (a third of the size, text stays crisp)."""
    from PIL import Image

    path = shots / name
    page.screenshot(path=str(path))
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)
    assert path.stat().st_size > 10_000
    return path
