"""Every page on a phone (390 × 844) and a desktop (1400 × 900) in a real browser: nothing
wider than the window, the map as wide as the phone, chart titles whole, and no icon name in
the page's text. One page load per page and size.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from dashboard import catalog, db
from tests.browser_fixtures import Server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["kaart", "vergelijken", "werkwijze", "bezwaar", "rechtspraak", "gemeente", "data", "sql",
         "over"]
WITH_CHARTS = {"kaart", "vergelijken", "werkwijze", "bezwaar", "gemeente"}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}
TOLERANCE = 2  # px: sub-pixel rounding of borders

# Elements that reach past the window and are not inside a box that scrolls sideways (a table
# or a code block may scroll; a chart or a paragraph cut at the edge is lost to the reader).
# An <svg> clips what lies outside it, so a chart whose legend sticks out counts as well.
OVERFLOW_JS = """(tol) => {
  const vw = document.documentElement.clientWidth;
  const main = document.querySelector('[data-testid="stMain"]');
  const out = [];
  for (const el of main.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (!(r.width > 0 && (r.right > vw + tol || r.left < -tol))) continue;
    let a = el.parentElement, scrolls = false;
    for (; a && a !== main; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      const box = a.getBoundingClientRect();
      if ((ox === 'auto' || ox === 'scroll') && box.right <= vw + tol && box.left >= -tol) {
        scrolls = true;
        break;
      }
    }
    if (!scrolls) {
      const id = el.closest('[data-testid]');
      out.push(`${el.tagName} in ${id && id.getAttribute('data-testid')} ends at ` +
               `${Math.round(r.right)}: ${(el.textContent || '').slice(0, 60)}`);
    }
  }
  return {vw, scrollWidth: document.documentElement.scrollWidth, out: out.slice(0, 10)};
}"""

CHARTS_JS = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].map(c => {
  const drawn = c.querySelector('svg.marks, canvas');
  const r = drawn.getBoundingClientRect();
  return {width: r.width,
          titles: [...c.querySelectorAll('.role-title text')].map(t =>
                    [...t.querySelectorAll('tspan')].map(s => s.textContent).join(' ')
                    || t.textContent),
          legend: [...c.querySelectorAll('.role-legend-label text')].map(t => t.textContent)};
})"""

# Ligature icons are spans whose text is the icon's name; Streamlit marks them aria-hidden.
ICONS_JS = """() => [...document.querySelectorAll('[translate="no"][aria-hidden="true"]')]
  .map(s => s.textContent).filter(t => /^[a-z0-9_]+$/.test(t))"""


def code_icon_names() -> set[str]:
    """Every `:material/name:` the dashboard's code names, so the test follows the code."""
    names: set[str] = set()
    for path in (ROOT / "dashboard").rglob("*.py"):
        names.update(re.findall(r":material/([a-z0-9_]+):", path.read_text(encoding="utf-8")))
    return names


@pytest.fixture(scope="module")
def period_label(demo_db: Path) -> str:
    database = db.current(demo_db)
    return catalog.period_label(database, catalog.default_period(database), "nl")


@pytest.fixture
def open_page(browser: Browser, app_server: Server) -> Iterator:
    contexts = []

    def go(name: str, viewport: dict[str, int]) -> Page:
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{app_server.url}/{'' if name == 'kaart' else name}")
        page.get_by_text("Database gebouwd op").wait_for(timeout=60_000)
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
        if name in WITH_CHARTS:
            page.wait_for_selector('[data-testid="stVegaLiteChart"] svg.marks', timeout=60_000)
        page.wait_for_selector('[data-testid="stSkeleton"]', state="detached", timeout=60_000)
        # Every chart drawn, at its final width (Vega draws once the container has a size).
        page.wait_for_function("""() => [...document.querySelectorAll(
            '[data-testid="stVegaLiteChart"]')].every(c => {
              const d = c.querySelector('svg.marks, canvas');
              return d && d.getBoundingClientRect().width > 0; })""", timeout=60_000)
        return page

    yield go
    for context in contexts:
        context.close()


def assert_fits(page: Page) -> list[dict]:
    found = page.evaluate(OVERFLOW_JS, TOLERANCE)
    assert found["scrollWidth"] <= found["vw"] + TOLERANCE
    assert not found["out"], found["out"]
    shown = page.evaluate(CHARTS_JS)
    for chart in shown:
        assert chart["width"] <= found["vw"] + TOLERANCE
        # Vega cuts a line that does not fit with "…"; titles come in lines that fit instead.
        assert not [t for t in chart["titles"] if "…" in t], chart["titles"]
        assert not [t for t in chart["legend"] if "…" in t], chart["legend"]
    return shown


def assert_no_icon_names(page: Page) -> None:
    text = page.evaluate("() => document.body.innerText")
    names = code_icon_names() | set(page.evaluate(ICONS_JS))
    leaked = sorted(n for n in names if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text))
    assert not leaked, leaked


def assert_map_fills_the_phone(page: Page, period_label: str) -> None:
    # The drawn shapes, not the chart box: a legend beside the map used to leave it a third.
    shapes = page.locator('[data-testid="stVegaLiteChart"] >> nth=0 >> svg g.mark-shape')
    box = shapes.first.bounding_box()
    assert box is not None
    assert box["width"] >= 0.85 * PHONE["width"]
    title = " ".join(page.evaluate(CHARTS_JS)[0]["titles"])
    assert "Wmo-cliënten per 1 000" in title
    assert period_label in title  # the end of the title, where a cut title lost the period


def panel_boxes(page: Page) -> list[dict]:
    """The small multiples of Vergelijken: every chart after the trend."""
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    boxes = [charts.nth(i).bounding_box() for i in range(1, charts.count())]
    return [b for b in boxes if b is not None]


@pytest.mark.parametrize("name", PAGES)
def test_phone_page_fits_and_shows_no_icon_names(open_page, period_label: str,
                                                 name: str) -> None:
    page = open_page(name, PHONE)
    shown = assert_fits(page)
    if name in WITH_CHARTS:
        assert shown, f"{name} shows no chart"
    if name == "kaart":
        assert_map_fills_the_phone(page, period_label)
    if name == "vergelijken":
        # One column: each panel as wide as the page and below the one before.
        panels = panel_boxes(page)
        assert len(panels) >= 2
        assert len({round(b["x"]) for b in panels}) == 1
        assert all(b["width"] >= 0.8 * PHONE["width"] for b in panels)
        assert all(a["y"] < b["y"] for a, b in itertools.pairwise(panels))
    assert_no_icon_names(page)


@pytest.mark.parametrize("name", PAGES)
def test_desktop_page_fits_and_shows_no_icon_names(open_page, name: str) -> None:
    page = open_page(name, DESKTOP)
    assert_fits(page)
    if name == "vergelijken":
        first_row = panel_boxes(page)[:3]
        assert len(first_row) == 3
        assert len({round(b["y"]) for b in first_row}) == 1  # side by side
    assert_no_icon_names(page)
