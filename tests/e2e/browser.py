"""Chromium for the end-to-end tests: Debian's build (/usr/bin/chromium, which .ci/run
installs), driven by Playwright for Python; no browser is downloaded. Screenshots go to
test-artifacts/ at the top of the checkout (kept by CI, ignored by git)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


def chromium_path() -> str:
    found = (os.environ.get("IDPACK_CHROMIUM") or shutil.which("chromium")
             or shutil.which("chromium-browser"))
    if not found:
        raise RuntimeError("Chromium is not installed: `apt-get install chromium` (.ci/run "
                           "does), or set IDPACK_CHROMIUM to a Chromium binary")
    return found


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=chromium_path(),
                                      args=["--no-sandbox", "--disable-dev-shm-usage"])


class Screenshots:
    """Numbered full-page screenshots of one journey, in test-artifacts/<journey>/."""

    def __init__(self, journey: str) -> None:
        self.folder = ARTIFACTS / journey
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.count = 0

    def take(self, page: Page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
