"""Load and faults: rebuild the database while 5 browser sessions use the app.

A real Streamlit server on a copy of the demo database, five Chromium sessions changing the
period over and over while `wmo build` (another seed, so other numbers) replaces the file.
No session may see an error or a half-built database, and afterwards new page loads must show
the new build.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser_fixtures import Server, start_streamlit, stop
from tests.dashboard_fixtures import SNAPSHOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
SHAPES = '[data-testid="stVegaLiteChart"] svg g.mark-shape path'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
YEARS = ["2019", "2020", "2021", "2022", "2023"]


def wmo(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "etl.cli", *map(str, args)]


@pytest.fixture(scope="module")
def rebuild_setup(demo_db: Path, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[tuple[Server, Path, Path]]:
    root = tmp_path_factory.mktemp("rebuild")
    db = root / "wmo.duckdb"
    shutil.copy(demo_db, db)
    raw = root / "raw-other"
    subprocess.run(wmo("demo", "--out", raw, "--snapshot", SNAPSHOT, "--seed", "99"),
                   cwd=ROOT, check=True, capture_output=True)
    server = start_streamlit(db, root / "streamlit.log")
    yield server, db, raw
    stop(server)


def amsterdam(page: Page) -> str:
    """The map's accessible label for Amsterdam: its value in the shown build and period."""
    label = page.locator(f'{SHAPES}[aria-label*="Gemeente: Amsterdam;"]').first
    return str(label.get_attribute("aria-label"))


def open_map(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(SHAPES, timeout=60_000)
    page.wait_for_selector(IDLE, timeout=60_000)


def change_period(page: Page, year: str) -> None:
    page.get_by_role("combobox", name="Periode").click()
    page.keyboard.type(year)
    page.get_by_role("option", name=year, exact=True).click()
    page.wait_for_function(
        """y => document.querySelector('[data-testid="stApp"]')
                  .getAttribute('data-test-script-state') === 'notRunning'
             && document.querySelector('[data-testid="stVegaLiteChart"] svg')
                  .textContent.includes(', ' + y)""", arg=year, timeout=60_000)


def assert_healthy(page: Page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    assert page.locator(f'{SHAPES}[aria-label*="Gemeente: "]').count() == 342


def test_rebuild_under_load_is_invisible_then_visible(browser: Browser,
                                                      rebuild_setup: tuple[Server, Path, Path]
                                                      ) -> None:
    server, db, raw = rebuild_setup
    pages = [browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
             for _ in range(5)]
    for page in pages:
        open_map(page, server.url)
    change_period(pages[1], "2023")
    before = amsterdam(pages[1])

    build = subprocess.Popen(wmo("build", "--raw", raw, "--db", db, "--snapshot", SNAPSHOT),
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    interactions = 0
    after_build = 0
    deadline = time.monotonic() + 240
    # Keep every session busy during the whole build and for a round after it.
    while after_build < len(pages) and time.monotonic() < deadline:
        for page in pages:
            change_period(page, YEARS[interactions % len(YEARS)])
            assert_healthy(page)
            interactions += 1
            if build.poll() is not None:
                after_build += 1
    _, err = build.communicate(timeout=120)
    assert build.returncode == 0, err.decode()[-2000:]
    assert interactions >= 10

    fresh = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
    open_map(fresh, server.url)
    assert_healthy(fresh)
    change_period(fresh, "2023")
    after = amsterdam(fresh)
    assert after != before  # the new build (other seed) is served without a restart
    # Sessions that were open during the swap also move on to the new build on their next run.
    change_period(pages[0], "2022")
    change_period(pages[0], "2023")
    assert amsterdam(pages[0]) == after
