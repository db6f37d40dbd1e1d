"""Real headless Chromium (Debian's package, driven by Playwright) for the page tests: the
wallet-link page and the dashboard.

A test module uses `CHROMIUM_MARKS` as (part of) its `pytestmark` and the `browser` fixture
(registered for every folder by tests/conftest.py). Skipped only off CI when /usr/bin/chromium is
missing; on CI (env CI set) a missing browser fails: `.ci/run` installs it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
#: Without the background-networking flags Chromium's own connections are refused, many at a
#: time, by a machine with no network.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]

CHROMIUM_MARKS = [
    pytest.mark.slow,  # a headless Chromium
    pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"),
                       reason="Debian's chromium is not installed (CI installs it)"),
]


@pytest.fixture
async def browser():
    """A launched headless Chromium, closed after the test."""
    from playwright.async_api import async_playwright

    assert CHROMIUM.exists(), "chromium is missing: .ci/run installs it with apt-get"
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                                            headless=True)
        yield launched
        await launched.close()
