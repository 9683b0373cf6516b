"""The Kaart page in a real browser (Debian Chromium): what AppTest cannot see.

Vega's real rendering (winding order), the click payload, URL updates, downloads, the
geometry file served once, and no JS errors.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser_fixtures import Server

pytestmark = pytest.mark.browser

MAP = '[data-testid="stVegaLiteChart"] >> nth=0'
SHAPES = f'{MAP} >> svg g.mark-shape path'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def open_map(page: Page, server: Server, query: str = "") -> None:
    page.goto(f"{server.url}/{query}")
    page.wait_for_selector(SHAPES, timeout=30_000)
    page.wait_for_selector(IDLE)


def test_map_draws_every_gemeente_once_and_no_shape_fills_the_plot(page: Page,
                                                                   app_server: Server) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    geo_requests: list[int] = []
    page.on("response", lambda r: geo_requests.append(r.status) if "/static/geo/" in r.url
            else None)
    open_map(page, app_server)
    labelled = page.locator(f'{SHAPES}[aria-label*="Gemeente: "]')
    assert labelled.count() == 342
    # Counter-clockwise rings make each shape cover the whole plot; clockwise ones stay small.
    plot = page.locator(f"{MAP} >> svg").first.bounding_box()
    assert plot is not None
    for i in (0, 100, 341):
        box = labelled.nth(i).bounding_box()
        assert box is not None
        assert box["width"] * box["height"] < 0.1 * plot["width"] * plot["height"]
    assert geo_requests == [200]
    assert not errors


def test_period_change_updates_url_and_title(page: Page, app_server: Server) -> None:
    open_map(page, app_server)
    page.get_by_role("combobox", name="Periode").click()
    page.keyboard.type("2020")  # the option list is virtualised: filter, then choose
    page.get_by_role("option", name="2020", exact=True).click()
    page.wait_for_url(re.compile(r"periode=2020JJ00"))
    expect(page.locator(f"{MAP} >> svg")).to_contain_text("2020")


def test_clicking_a_gemeente_opens_its_profile(page: Page, app_server: Server) -> None:
    open_map(page, app_server)
    shape = page.locator(f'{SHAPES}[aria-label*="Gemeente: Utrecht;"]').first
    shape.click()
    page.wait_for_url(re.compile(r"/gemeente\?.*gemeente=GM0344"))


def test_png_and_svg_downloads_carry_title_and_source(page: Page, app_server: Server) -> None:
    open_map(page, app_server)
    with page.expect_download() as png:
        page.get_by_test_id("stDownloadButton").filter(has_text="PNG").first.click()
    path = png.value.path()
    assert png.value.suggested_filename.endswith(".png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as svg:
        page.get_by_test_id("stDownloadButton").filter(has_text="SVG").first.click()
    text = svg.value.path().read_text()
    assert "SYNTHETISCHE DEMODATA" in text and "<svg" in text


def test_english_deep_link(page: Page, app_server: Server) -> None:
    open_map(page, app_server, "?taal=en&maat=per_1000_75plus&provincie=Utrecht")
    expect(page.get_by_role("heading", name="The Wmo in Dutch municipalities")).to_be_visible()
    expect(page.locator(f"{MAP} >> svg")).to_contain_text("75+")
    assert page.locator(f'{SHAPES}[aria-label*="Municipality: "]').count() == 26


def test_no_developer_chrome_for_readers(page: Page, app_server: Server) -> None:
    open_map(page, app_server)
    assert page.get_by_text("Deploy", exact=True).count() == 0
    assert page.locator('[data-testid="stMainMenu"]').count() == 0
    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0



def test_spending_measure_draws_with_its_caveat_and_svg_title(page: Page,
                                                              app_server: Server) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    open_map(page, app_server, "?maat=hbh_uitgaven_per_client&periode=2023JJ00")
    expect(page.locator(f"{MAP} >> svg")).to_contain_text(
        "Uitgaven hulp bij het huishouden per cliënt")
    expect(page.get_by_text("zonder uitvoeringskosten").first).to_be_visible()
    assert page.locator(f'{SHAPES}[aria-label*="Gemeente: "]').count() == 342
    with page.expect_download() as svg:
        page.get_by_test_id("stDownloadButton").filter(has_text="SVG").first.click()
    text = svg.value.path().read_text()
    assert "Uitgaven hulp bij het huishouden per cliënt" in text
    assert "SYNTHETISCHE DEMODATA" in text
    assert not errors


def test_table_alternative_and_ranking_open_when_asked_for(page: Page,
                                                          app_server: Server) -> None:
    open_map(page, app_server)
    # The table's rows come only when it is opened, then as a grid of every gemeente.
    grid = page.locator('[data-testid="stDataFrame"]')
    assert grid.count() == 0
    page.get_by_text("Tabel bij deze grafiek").click()
    expect(grid).to_have_count(1, timeout=20_000)
    expect(grid.locator('[role="grid"]')).to_have_attribute("aria-rowcount", "343")
    # The ranking tab: a labelled bar per known value (SVG, so readers of screen readers get
    # them too), in place of the map.
    page.get_by_role("tab", name="Rangorde").click()
    bars = page.locator('[data-testid="stVegaLiteChart"] svg g.mark-rect path')
    expect(bars.first).to_be_visible(timeout=20_000)
    page.wait_for_selector(IDLE)
    assert bars.count() > 300
    assert "Gemeente: " in (bars.first.get_attribute("aria-label") or "")
    expect(page.locator('[data-testid="stVegaLiteChart"]')).to_have_count(1)
