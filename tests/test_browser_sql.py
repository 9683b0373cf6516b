"""The SQL console in a real browser against a real server: what AppTest cannot show.

A shared link waits for the click, the battery's statements end with a message while the
server's memory stays put, INTERVAL renders, the CSV download arrives, no traceback or path.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from dashboard.sql_limits import Limits
from tests.browser_fixtures import Server

pytestmark = pytest.mark.browser

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
TIMEOUT_S = Limits().timeout_s  # the server runs with the defaults


def server_rss_mb(server: Server) -> float:
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def open_link(page: Page, server: Server, sql: str) -> None:
    page.goto(f"{server.url}/sql?q={urllib.parse.quote(sql)}")
    page.wait_for_selector('[data-testid="stTextArea"] textarea', timeout=30_000)
    page.wait_for_selector(IDLE)


def run_button(page: Page) -> Locator:
    return page.get_by_role("button", name="Uitvoeren")


def test_link_waits_for_the_click_then_interval_renders(page: Page, app_server: Server) -> None:
    open_link(page, app_server, "SELECT INTERVAL 1 DAY AS duur")
    expect(page.get_by_text("komt uit een gedeelde link en is nog niet uitgevoerd")).to_be_visible()
    # The limits and the schema browser's tables only: no result.
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(2)
    run_button(page).click()
    expect(page.get_by_text("Als tekst getoond")).to_be_visible(timeout=30_000)
    page.wait_for_selector(IDLE)
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(3)  # + the result
    assert "Traceback" not in page.content()
    with page.expect_download() as download:
        page.get_by_role("button", name="Volledig resultaat (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[-2:] == ["duur,is_synthetisch", "1 day,true"]


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT levenshtein(repeat('a',150000), repeat('b',150000))", "De query duurde te lang"),
    ("SELECT repeat('x',300000000)", "De query vraagt meer geheugen"),
    ("SELECT range(1000000000)", "De query vraagt meer geheugen"),
])
def test_battery_ends_with_a_message_and_the_server_stays_small(page: Page, app_server: Server,
                                                                sql: str, expected: str) -> None:
    open_link(page, app_server, sql)
    before = server_rss_mb(app_server)
    run_button(page).click()
    expect(page.get_by_text(expected)).to_be_visible(timeout=(TIMEOUT_S + 15) * 1000)
    assert server_rss_mb(app_server) - before < 200
    content = page.content()
    assert "Traceback" not in content and str(Path(__file__).resolve().parents[1]) not in content
