"""dashboard/state.py without Streamlit: URL values, the history decision and gemeente links."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from dashboard.state import (
    GemeenteMatch,
    as_lists,
    history_action,
    match_gemeente,
    resolve,
    url_query,
)

KAART = {"maat": "per_1000", "periode": "2022JJ00", "provincie": "Utrecht"}


# --- history_action ------------------------------------------------------------------------------

def test_a_changed_control_is_one_new_entry() -> None:
    changed = {**KAART, "periode": "2020JJ00"}
    assert history_action(KAART, changed, arrival=False, history_navigation=False) == "push"


def test_a_rerun_that_changed_nothing_adds_no_entry() -> None:
    assert history_action(KAART, dict(KAART), arrival=False, history_navigation=False) == "none"
    # One value and the same value as a one-item list are the same URL.
    listed = {k: [v] for k, v in KAART.items()}
    assert history_action(listed, KAART, arrival=False, history_navigation=False) == "none"


def test_arriving_on_a_page_corrects_the_entry_the_browser_made() -> None:
    # Sidebar links arrive without parameters; the page's defaults are not a second entry.
    assert history_action({}, KAART, arrival=True, history_navigation=False) == "replace"
    # Even when the run's URL already matches: the address bar may still show the page it
    # came from (st.switch_page leaves it), so the browser is told either way.
    assert history_action(KAART, KAART, arrival=True, history_navigation=False) == "replace"


def test_back_and_forward_never_add_entries_of_their_own() -> None:
    partial = {"periode": "2022JJ00"}
    # Streamlit replaces the entry during a history run; the write only fills in what it lacks.
    assert history_action(partial, KAART, arrival=False, history_navigation=True) == "push"
    assert history_action(KAART, KAART, arrival=False, history_navigation=True) == "none"
    # A Back to another page counts as history, not as an arrival that the app corrects itself.
    assert history_action(partial, KAART, arrival=True, history_navigation=True) == "push"


def test_switching_language_alone_is_not_a_place_to_go_back_to() -> None:
    english = {**KAART, "taal": "en"}
    assert history_action(KAART, english, arrival=False, history_navigation=False) == "replace"
    assert history_action(english, KAART, arrival=False, history_navigation=False) == "replace"
    both = {**english, "periode": "2020JJ00"}
    assert history_action(KAART, both, arrival=False, history_navigation=False) == "push"


def test_a_parameter_that_left_the_url_is_a_change() -> None:
    fewer = {k: v for k, v in KAART.items() if k != "provincie"}
    assert history_action(KAART, fewer, arrival=False, history_navigation=False) == "push"


# --- url_query / as_lists ----------------------------------------------------------------------

def test_url_query_round_trips_repeated_values_and_odd_characters() -> None:
    params = {"gemeente": "'s-Gravenhage", "kolommen": ["jaar", "gemeente_code"], "q": "a b,c&d"}
    text = url_query(params)
    assert parse_qsl(text) == [("gemeente", "'s-Gravenhage"), ("kolommen", "jaar"),
                               ("kolommen", "gemeente_code"), ("q", "a b,c&d")]
    assert url_query({}) == ""
    assert as_lists(params)["gemeente"] == ["'s-Gravenhage"]


# --- match_gemeente ------------------------------------------------------------------------------

NAMES = {
    "GM0363": "Amsterdam",
    "GM0518": "'s-Gravenhage",
    "GM0373": "Bergen (NH.)",
    "GM0893": "Bergen (L.)",
    "GM0457": "Weesp",
    # A name used by two codes over the years (a made-up register, to test the rule).
    "GM0001": "Oudstad",
    "GM0002": "Oudstad",
}


@pytest.mark.parametrize("raw", ["GM0363", "gm0363", " Gm0363 ", "Amsterdam", "amsterdam",
                                 "AMSTERDAM ", "\tAmsterdam"])
def test_codes_and_names_match_in_any_case(raw: str) -> None:
    assert match_gemeente(raw, NAMES) == GemeenteMatch("GM0363")


def test_names_with_apostrophes_and_brackets() -> None:
    assert match_gemeente("'s-gravenhage", NAMES).code == "GM0518"
    assert match_gemeente("\u2019s-Gravenhage", NAMES).code == "GM0518"
    assert match_gemeente("bergen (l.)", NAMES).code == "GM0893"
    assert match_gemeente("Bergen  (NH.)", NAMES).code == "GM0373"
    # No alias list exists in the database, so a colloquial name is not invented into a match.
    assert match_gemeente("Den Haag", NAMES) == GemeenteMatch(None)
    # 'Bergen' alone is not a name any gemeente carries: no match, not a guess between the two.
    assert match_gemeente("Bergen", NAMES) == GemeenteMatch(None)


def test_a_name_of_several_codes_is_ambiguous_not_guessed() -> None:
    found = match_gemeente("oudstad", NAMES)
    assert found.code is None
    assert found.candidates == ("GM0001", "GM0002")


def test_dissolved_gemeenten_match_by_name_too() -> None:
    # The page then explains what became of it; matching is only about reading the link.
    assert match_gemeente("Weesp", NAMES).code == "GM0457"


def test_unknown_or_empty_values_match_nothing() -> None:
    for raw in (None, "", "   ", "GM9999", "Atlantis"):
        assert match_gemeente(raw, NAMES) == GemeenteMatch(None)


def test_resolve_still_reports_what_it_rejected() -> None:
    found = resolve("1999JJ00", ["2024JJ00", "2023JJ00"], "2024JJ00")
    assert (found.value, found.rejected) == ("2024JJ00", "1999JJ00")
