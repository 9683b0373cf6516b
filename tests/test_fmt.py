"""dashboard/fmt.py: the one way numbers, sizes, durations and dates are written."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard import fmt


@pytest.mark.parametrize(("value", "decimals", "nl", "en"), [
    (1284680, 0, "1.284.680", "1,284,680"),
    (72.3, 1, "72,3", "72.3"),
    (80.25, 1, "80,3", "80.3"),  # half away from zero, as written (f-strings give 80.2)
    (-80.25, 1, "-80,3", "-80.3"),
    (1.005, 2, "1,01", "1.01"),
    (0.0, 1, "0,0", "0.0"),
    (-0.04, 1, "0,0", "0.0"),  # no '-0,0'
    (999.95, 1, "1.000,0", "1,000.0"),
    (None, 1, "–", "–"),
    (float("nan"), 1, "–", "–"),
])
def test_number(value: float | None, decimals: int, nl: str, en: str) -> None:
    assert fmt.number(value, "nl", decimals) == nl
    assert fmt.number(value, "en", decimals) == en


def test_integer_never_shows_a_decimal_or_none() -> None:
    assert fmt.integer(344314, "nl") == "344.314"
    assert fmt.integer(None, "nl") == "–"


def test_percent() -> None:
    assert fmt.percent(0.7234, "nl") == "72,3%"
    assert fmt.percent(0.7234, "en") == "72.3%"
    assert fmt.percent(None, "nl") == "–"


@pytest.mark.parametrize(("n", "nl", "en"), [
    (7_800_000, "7,8 MB", "7.8 MB"),
    (512_000, "512 kB", "512 kB"),
    (12, "12 bytes", "12 bytes"),
    (1_500_000_000, "1,5 GB", "1.5 GB"),
])
def test_size(n: int, nl: str, en: str) -> None:
    assert fmt.size(n, "nl") == nl
    assert fmt.size(n, "en") == en


@pytest.mark.parametrize(("s", "nl", "en"), [
    (1.8, "1,8 s", "1.8 s"), (0.24, "240 ms", "240 ms"), (125, "2 min 5 s", "2 min 5 s"),
    (None, "–", "–"),
])
def test_duration(s: float | None, nl: str, en: str) -> None:
    assert fmt.duration(s, "nl") == nl
    assert fmt.duration(s, "en") == en


def test_dates() -> None:
    assert fmt.date(dt.date(2024, 7, 1), "nl") == "1 juli 2024"
    assert fmt.date("2024-07-01", "en") == "1 July 2024"
    assert fmt.date("2024-07-01T10:00:00", "nl") == "1 juli 2024"
    assert fmt.date(None, "nl") == "–"
    assert fmt.date_time(dt.datetime(2026, 12, 1, 9, 5), "nl") == "1 december 2026 09:05"


def test_vega_locale_matches_the_python_separators() -> None:
    nl, en = fmt.vega_locale("nl")["number"], fmt.vega_locale("en")["number"]
    assert (nl["thousands"], nl["decimal"]) == (".", ",")
    assert (en["thousands"], en["decimal"]) == (",", ".")
    assert fmt.vega_locale("nl")["time"]["months"][6] == "juli"
