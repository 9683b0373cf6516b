"""Chart labels as the browser draws them (Debian Chromium, Streamlit's own chart theme): every
bar of the Kaart ranking named, and the names at the line ends of a trend never on top of
each other. AppTest only sees the spec; this is what a reader sees."""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import Locator, Page

from tests.browser_fixtures import Server

pytestmark = pytest.mark.browser

CHART = '[data-testid="stVegaLiteChart"]'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def chart(page: Page, index: int) -> Locator:
    return page.locator(f"{CHART} >> nth={index}")


def visible_texts(group: Locator) -> list[str]:
    """Texts Vega shows: a label it drops for overlap stays in the SVG with opacity 0."""
    return [t for t, opacity in group.evaluate_all(
        "els => els.map(e => [e.textContent, e.getAttribute('opacity')])") if opacity != "0"]


def test_every_bar_of_the_ranking_has_its_name(page: Page, app_server: Server) -> None:
    page.goto(app_server.url)
    page.get_by_role("tab", name="Rangorde").click()  # run only when chosen (issue 12)
    ranking = chart(page, 0)
    ranking.locator("svg g.mark-rect path").first.wait_for(state="attached", timeout=30_000)
    page.wait_for_selector(IDLE)
    bars = ranking.locator("svg g.mark-rect path").count()
    assert bars > 300
    labels = visible_texts(ranking.locator("svg g.role-axis-label text"))
    names = [t for t in labels if not t.replace(".", "").replace(",", "").isdigit()]
    assert len(names) == bars


def boxes(locator: Locator) -> list[dict[str, float]]:
    found = []
    for i in range(locator.count()):
        box = locator.nth(i).bounding_box()
        assert box is not None
        found.append(box)
    return found


def intersect(a: dict[str, float], b: dict[str, float]) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


@pytest.mark.parametrize("query", ["vergelijken?groep=werkwijze",
                                   "vergelijken?groep=peers&gemeente=GM0363",
                                   "werkwijze"])
def test_end_labels_of_the_trend_do_not_touch(page: Page, app_server: Server,
                                              query: str) -> None:
    page.goto(f"{app_server.url}/{query}")
    page.wait_for_selector(f"{CHART} svg g.mark-line path", timeout=30_000)
    page.wait_for_selector(IDLE)
    trend = page.locator(f"{CHART}:has(g.mark-line)").first
    labels = trend.locator("svg g.mark-text.role-mark text")
    found = boxes(labels)
    assert len(found) >= 3
    for a, b in itertools.combinations(found, 2):
        assert not intersect(a, b), (a, b)
    # Not cut off at the chart's right edge either.
    frame = trend.locator("svg").first.bounding_box()
    assert frame is not None
    assert all(b["x"] + b["width"] <= frame["x"] + frame["width"] + 1 for b in found)
