"""Back and Forward in a real browser (Debian Chromium): what AppTest cannot see.

Every step that changes the view is one history entry, Back restores the previous page with its
filters, a URL never carries another page's parameters, and a run that changed nothing (or only
the language) adds no entry, so Back never 'does nothing'.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser_fixtures import Server

pytestmark = pytest.mark.browser

MAP = '[data-testid="stVegaLiteChart"] >> nth=0'
SHAPES = f'{MAP} >> svg g.mark-shape path'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
START = "?provincie=Utrecht&periode=2022JJ00"
KAART_URL = re.compile(r"/\?(?=.*periode=2022JJ00)(?=.*provincie=Utrecht)")


def params(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query, keep_blank_values=True)


def path(page: Page) -> str:
    return urlsplit(page.url).path


def entries(page: Page) -> int:
    return int(page.evaluate("window.history.length"))


def open_map(page: Page, server: Server, query: str = START) -> None:
    page.goto(f"{server.url}/{query}")
    page.wait_for_selector(SHAPES, timeout=30_000)
    page.wait_for_selector(IDLE)
    # The page completed the link with its other controls on the same entry.
    page.wait_for_url(re.compile(r"maat=.*werkwijze=1"))


def expect_kaart_utrecht_2022(page: Page) -> None:
    page.wait_for_url(KAART_URL)
    expect(page.get_by_role("combobox", name="Periode")).to_have_value("2022")
    expect(page.get_by_role("combobox", name="Provincie")).to_have_value("Utrecht")
    expect(page.locator(f"{MAP} >> svg")).to_contain_text("2022")
    assert page.locator(f'{SHAPES}[aria-label*="Gemeente: "]').count() == 26  # Utrecht only
    got = params(page)
    assert set(got) == {"maat", "periode", "voorziening", "provincie", "werkwijze"}, got


def test_back_from_the_profile_restores_the_kaart_and_its_filters(page: Page,
                                                                  app_server: Server) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    open_map(page, app_server)
    first = entries(page)
    page.locator(f'{SHAPES}[aria-label*="Gemeente: Utrecht;"]').first.click()
    page.wait_for_url(re.compile(r"/gemeente\?.*gemeente=GM0344"))
    expect(page.get_by_role("heading", name="Utrecht (GM0344)")).to_be_visible()
    page.wait_for_selector(IDLE)
    assert entries(page) == first + 1  # one entry for the profile, however many writes
    # Only the profile's own parameters: nothing of the Kaart leaks along.
    assert set(params(page)) == {"gemeente", "maat", "halfjaar"}, page.url

    page.go_back()
    expect_kaart_utrecht_2022(page)
    assert entries(page) == first + 1

    page.go_forward()
    page.wait_for_url(re.compile(r"/gemeente\?.*gemeente=GM0344"))
    expect(page.get_by_role("heading", name="Utrecht (GM0344)")).to_be_visible()
    assert "periode" not in params(page) and "provincie" not in params(page)
    assert not errors


def test_back_after_a_period_change_brings_the_period_back(page: Page,
                                                           app_server: Server) -> None:
    open_map(page, app_server)
    first = entries(page)
    page.get_by_role("combobox", name="Periode").click()
    page.keyboard.type("2020")  # the option list is virtualised: filter, then choose
    page.get_by_role("option", name="2020", exact=True).click()
    page.wait_for_url(re.compile(r"periode=2020JJ00"))
    expect(page.locator(f"{MAP} >> svg")).to_contain_text("2020")
    page.wait_for_selector(IDLE)
    assert entries(page) == first + 1

    page.go_back()
    expect_kaart_utrecht_2022(page)
    page.go_forward()
    page.wait_for_url(re.compile(r"periode=2020JJ00"))
    expect(page.get_by_role("combobox", name="Periode")).to_have_value("2020")


def test_sidebar_page_then_back_returns_with_the_filters(page: Page, app_server: Server) -> None:
    open_map(page, app_server)
    first = entries(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Vergelijken").click()
    page.wait_for_url(re.compile(r"/vergelijken\?.*groep="))
    expect(page.get_by_role("heading", name="Vergelijken")).to_be_visible()
    page.wait_for_selector(IDLE)
    # One entry for the page, its defaults written into that same entry.
    assert entries(page) == first + 1
    assert "periode" not in params(page) and "provincie" not in params(page), page.url

    page.go_back()
    expect_kaart_utrecht_2022(page)
    assert path(page) == "/"


def test_reruns_that_change_nothing_add_no_entries(page: Page, app_server: Server) -> None:
    open_map(page, app_server)
    first = entries(page)
    url = page.url
    # Choosing the period that is already shown reruns nothing the URL holds.
    page.get_by_role("combobox", name="Periode").click()
    page.keyboard.type("2022")
    page.get_by_role("option", name="2022", exact=True).click()
    page.wait_for_selector(IDLE)
    toggle = page.get_by_text("Werkwijze hulp bij het huishouden tonen")
    toggle.click()  # off
    page.wait_for_url(re.compile(r"werkwijze=0"))
    page.wait_for_selector(IDLE)
    toggle.click()  # on again
    page.wait_for_url(re.compile(r"werkwijze=1"))
    page.wait_for_selector(IDLE)
    assert page.url == url
    assert entries(page) == first + 2  # two real changes, two entries, no more
    page.go_back()
    page.wait_for_url(re.compile(r"werkwijze=0"))
    expect(page.get_by_role("checkbox", name=re.compile("werkwijze", re.I))).not_to_be_checked()


def test_english_switch_changes_the_whole_page_at_once(page: Page, app_server: Server) -> None:
    open_map(page, app_server)
    first = entries(page)
    page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
    page.wait_for_url(re.compile(r"taal=en"))
    nav = page.get_by_test_id("stSidebarNav")
    # The navigation is in English in the same run as the page, not one run later.
    expect(page.get_by_role("heading", name="The Wmo in Dutch municipalities")).to_be_visible()
    expect(nav.get_by_role("link", name="Compare")).to_be_visible()
    expect(nav.get_by_role("link", name="Municipality")).to_be_visible()
    assert nav.get_by_role("link", name="Vergelijken").count() == 0
    expect(page.get_by_role("combobox", name="Period")).to_have_value("2022")
    page.wait_for_selector(IDLE)
    # A preference, not a place: the switch corrected the entry instead of adding one.
    assert entries(page) == first
    # The language stays when a sidebar link drops `taal`, and the new page's URL says it.
    nav.get_by_role("link", name="Compare").click()
    page.wait_for_url(re.compile(r"/vergelijken\?.*taal=en"))
    expect(page.get_by_role("heading", name="Compare")).to_be_visible()
    page.go_back()
    page.wait_for_url(KAART_URL)
    expect(page.get_by_role("combobox", name="Period")).to_have_value("2022")


def test_a_link_corrected_on_arrival_does_not_undo_the_next_change(page: Page,
                                                                   app_server: Server) -> None:
    # The first run rewrites 'utrecht'/'2022jj00' in the browser; Streamlit's frontend still
    # holds the typed URL and sends it with the next change, which must not win over the change.
    open_map(page, app_server, "?provincie=utrecht&periode=2022jj00")
    page.wait_for_url(KAART_URL)
    page.get_by_role("combobox", name="Periode").click()
    page.keyboard.type("2020")
    page.get_by_role("option", name="2020", exact=True).click()
    page.wait_for_url(re.compile(r"periode=2020JJ00"))
    page.wait_for_selector(IDLE)
    expect(page.get_by_role("combobox", name="Periode")).to_have_value("2020")
    expect(page.get_by_role("combobox", name="Provincie")).to_have_value("Utrecht")
    page.go_back()
    expect_kaart_utrecht_2022(page)


def test_a_peer_on_the_profile_is_one_entry_and_back_returns(page: Page,
                                                             app_server: Server) -> None:
    page.goto(f"{app_server.url}/gemeente?gemeente=GM0344&maat=hbh_per_1000")
    expect(page.get_by_role("heading", name="Utrecht (GM0344)")).to_be_visible(timeout=30_000)
    page.wait_for_selector(IDLE)
    first = entries(page)
    peer_buttons = page.locator('[class*="st-key-gemeente_peer_"] button')
    peer_name = peer_buttons.first.inner_text().strip()
    peer_buttons.first.click()
    page.wait_for_url(lambda url: "GM0344" not in url)
    expect(page.get_by_role("heading", name=re.compile(re.escape(peer_name)))).to_be_visible()
    page.wait_for_selector(IDLE)
    assert entries(page) == first + 1
    assert params(page)["maat"] == ["hbh_per_1000"]  # the profile keeps its other choices

    page.go_back()
    page.wait_for_url(re.compile(r"gemeente=GM0344"))
    expect(page.get_by_role("heading", name="Utrecht (GM0344)")).to_be_visible()
    expect(page.get_by_role("combobox", name=re.compile("Gemeente"))).to_have_value(
        "Utrecht (GM0344)")
