"""The language switch on any page: the whole app changes language in the run that follows the
click (page titles in the navigation included), and the choice outlives URLs without `taal`."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard_fixtures import AppFactory

DUTCH = ["Kaart", "Vergelijken", "Werkwijze", "Bezwaar", "Rechtspraak", "Gemeente", "Data",
         "SQL", "Over"]
ENGLISH = ["Map", "Compare", "Working method", "Objections", "Court rulings", "Municipality",
           "Data", "SQL", "About"]


def nav_titles(at: AppTest) -> list[str]:
    # The sidebar navigation is not in AppTest's element tree; the pages st.navigation
    # registered in the last run are (their names are what the sidebar shows).
    return [info["page_name"] for info in at._registered_pages.values()]


@pytest.mark.parametrize(("page", "title_en"), [(None, "The Wmo in Dutch municipalities"),
                                                ("gemeente", "Municipality profile"),
                                                ("over", "About wmo-atlas")])
def test_switch_changes_page_and_navigation_in_the_same_run(make_app: AppFactory,
                                                            page: str | None,
                                                            title_en: str) -> None:
    at = make_app(page)
    assert nav_titles(at) == DUTCH
    at.radio(key="taal_switch").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == title_en
    assert nav_titles(at) == ENGLISH
    assert at.query_params["taal"] == "en"
    at.radio(key="taal_switch").set_value("nl").run()
    assert nav_titles(at) == DUTCH
    assert "taal" not in at.query_params


def test_language_survives_a_page_without_taal(make_app: AppFactory) -> None:
    at = make_app(taal="en")
    assert nav_titles(at) == ENGLISH
    at.switch_page("app_pages/vergelijken.py")
    for key in list(at.query_params):  # a sidebar link drops the URL parameters
        del at.query_params[key]
    at.run()
    assert not at.exception
    assert at.title[0].value == "Compare"
    assert nav_titles(at) == ENGLISH
    assert at.radio(key="taal_switch").value == "en"
    assert at.query_params["taal"] == "en"  # and the new page's URL says it again
