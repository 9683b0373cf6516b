"""The Rechtspraak page in a real browser (Debian Chromium): a deep link fills the table, a
filter change reaches the URL, and the page fits a desktop and a phone screen."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Page, expect

from tests.browser_fixtures import Server

pytestmark = pytest.mark.browser

TABLE = '[data-testid="stDataFrame"] >> nth=0'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
QUERY = "rechtspraak?jaar=2021&provincie=Utrecht"


def open_page(page: Page, server: Server, query: str = QUERY) -> None:
    page.goto(f"{server.url}/{query}")
    page.wait_for_selector(TABLE, timeout=60_000)
    page.wait_for_selector(IDLE)


def rows_shown(page: Page) -> int:
    """Data rows of the grid's accessible table (the canvas has no DOM rows)."""
    return int(page.locator(f"{TABLE} >> table").first.get_attribute("aria-rowcount") or 0) - 1


def overflow(page: Page) -> list[str]:
    """Elements of the page frame that scroll sideways: the page, its main area."""
    return page.evaluate("""() => [document.documentElement, document.body,
        ...document.querySelectorAll('[data-testid=stAppViewContainer], [data-testid=stMain]')]
        .filter(e => e.scrollWidth > e.clientWidth + 1)
        .map(e => (e.getAttribute('data-testid') || e.tagName) + ' ' + e.scrollWidth + '>'
                  + e.clientWidth)""")


def test_deep_link_shows_the_rulings_of_that_province_and_year(page: Page,
                                                                app_server: Server) -> None:
    errors: list[str] = []
    # Opened on a page path, Streamlit's client first probes /rechtspraak/_stcore/… for a base
    # path (404) and then uses /_stcore/; those probes are Streamlit's, every other error counts.
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and "/rechtspraak/_stcore/" not in m.location.get("url", "") else None)
    open_page(page, app_server)
    assert rows_shown(page) > 0
    grid = page.locator(f"{TABLE} >> table").first
    expect(grid).to_contain_text("2021")
    expect(grid).to_contain_text("ECLI:NL:")
    # Synthetic rulings: the ECLI is text, nothing in the table links to rechtspraak.nl.
    assert page.locator('a[href*="rechtspraak.nl"]').count() == 0
    expect(page.get_by_text("Alleen gepubliceerde uitspraken tellen mee").first).to_be_visible()
    assert not errors


def count(db: Path, where: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM out.uitspraak WHERE provincie_naam = "
                               f"'Utrecht' AND {where}").fetchone()[0])


def test_a_filter_change_updates_the_url_and_the_table(page: Page, app_server: Server,
                                                       demo_db: Path) -> None:
    open_page(page, app_server)
    assert rows_shown(page) == count(demo_db, "jaar = 2021")
    page.get_by_role("combobox", name="Jaar").click()
    page.keyboard.type("2022")
    page.get_by_role("option", name="2022", exact=True).click()
    page.wait_for_url(re.compile(r"jaar=2022"))
    page.wait_for_selector(IDLE)
    assert "provincie=Utrecht" in page.url
    expect(page.locator(f"{TABLE} >> table").first).to_have_attribute(
        "aria-rowcount", str(count(demo_db, "jaar = 2022") + 1))
    page.get_by_text("Alleen hulp bij het huishouden").click()
    page.wait_for_url(re.compile(r"hbh=1"))
    page.wait_for_selector(IDLE)
    hbh = count(demo_db, "jaar = 2022 AND is_hbh")
    if hbh:
        expect(page.locator(f"{TABLE} >> table").first).to_have_attribute(
            "aria-rowcount", str(hbh + 1))
    else:
        expect(page.get_by_text("Geen gepubliceerde uitspraken met deze filters")).to_be_visible()


@pytest.mark.parametrize("width,height", [(1400, 900), (390, 844)])
def test_no_sideways_scrolling(page: Page, app_server: Server, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    open_page(page, app_server)
    page.wait_for_selector('[data-testid="stVegaLiteChart"]')
    assert overflow(page) == []
