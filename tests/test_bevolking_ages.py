"""75+ from any CBS age list: 5-year groups, single years, open groups, or a mix (issue 9 §2)."""

from __future__ import annotations

import csv
import itertools
import os
from pathlib import Path

import polars as pl
import pytest

from etl.errors import InputError
from etl.sources.cbs.parse import CbsTable
from etl.transform.bevolking import age_group, age_groups_from, bevolking

SHARED = Path(os.environ.get("WMO_SNAPSHOT_DIR", Path(__file__).parents[2] / "shared/snapshot")
              ).parent
REAL_METADATA = SHARED / "real-data" / "ijhidding-03759ned" / "03759ned_metadata.csv"


def real_age_list() -> dict[str, str]:
    """The Leeftijd section of the real 03759ned metadata.csv (StatLine 'onbewerkte dataset')."""
    lines = REAL_METADATA.read_text(encoding="utf-8-sig").splitlines()
    start = lines.index('"Leeftijd"') + 2  # the section name, then its header line
    titles: dict[str, str] = {}
    for row in csv.reader(lines[start:], delimiter=";"):
        if len(row) != 3:
            break
        titles[row[0]] = row[1]
    return titles


def ages_covered(titles: dict[str, str], codes: list[str]) -> list[tuple[int, int | None]]:
    groups = [age_group(c, titles[c]) for c in codes]
    assert all(groups)
    return sorted((g.lower, g.upper) for g in groups if g)


def assert_exact_cover(titles: dict[str, str], codes: list[str], lower: int) -> None:
    """The chosen intervals are contiguous from `lower`, end in an open group, never overlap."""
    spans = ages_covered(titles, codes)
    assert spans[0][0] == lower
    for (lo, hi), (next_lo, _) in itertools.pairwise(spans):
        assert hi == next_lo, f"gap or overlap between {lo}-{hi} and {next_lo}"
    assert spans[-1][1] is None


def test_real_03759ned_single_years_with_two_open_groups() -> None:
    titles = real_age_list()
    assert titles["22000"] == "95 jaar of ouder" and titles["22300"] == "105 jaar of ouder"
    assert not any(" tot " in t for t in titles.values())  # no 5-year groups in this list
    chosen = age_groups_from(titles, 75)
    assert_exact_cover(titles, chosen, 75)
    # Never 95+ on top of the single years 95 … 104.
    assert not ({"22000"} <= set(chosen) and "19500" in chosen)
    assert [titles[c] for c in chosen] == [f"{a} jaar" for a in range(75, 95)] + [
        "95 jaar of ouder"]


def test_five_year_groups() -> None:
    titles = {"10000": "Totaal", "71400": "65 tot 70 jaar", "71500": "70 tot 75 jaar",
              "71600": "75 tot 80 jaar", "71700": "80 tot 85 jaar", "71800": "85 tot 90 jaar",
              "71900": "90 tot 95 jaar", "72000": "95 jaar of ouder"}
    assert age_groups_from(titles, 75) == ["71600", "71700", "71800", "71900", "72000"]


def test_single_years_only_up_to_an_open_group() -> None:
    titles = {str(a): f"{a} jaar" for a in range(0, 100)} | {"100+": "100 jaar of ouder"}
    chosen = age_groups_from(titles, 75)
    assert chosen == [str(a) for a in range(75, 100)] + ["100+"]


def test_mixed_groups_and_single_years_fewest_categories() -> None:
    titles = {"a75": "75 jaar", "a76": "76 jaar", "a77": "77 jaar", "a78": "78 jaar",
              "a79": "79 jaar", "g75": "75 tot 80 jaar", "g80": "80 tot 85 jaar",
              "a80": "80 jaar", "o81": "81 jaar of ouder", "o85": "85 jaar of ouder",
              "o80": "80 jaar of ouder"}
    chosen = age_groups_from(titles, 75)
    assert chosen == ["g75", "o80"]
    assert_exact_cover(titles, chosen, 75)


def test_open_group_with_and_spelling_and_extra_spaces() -> None:
    titles = {"x": "75  jaar en ouder"}
    assert age_groups_from(titles, 75) == ["x"]


@pytest.mark.parametrize("titles", [
    {"a": "70 tot 80 jaar", "b": "80 jaar of ouder"},          # nothing starts at 75
    {"a": "75 tot 80 jaar", "b": "85 jaar of ouder"},          # a gap 80-85
    {"a": "75 tot 80 jaar", "b": "80 tot 85 jaar"},            # never reaches an open group
    {"a": "Totaal", "b": "Jonger dan 5 jaar"},                  # no age intervals at all
])
def test_no_exact_cover_is_an_error_naming_the_categories(titles: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="covers exactly 75 jaar and older") as info:
        age_groups_from(titles, 75)
    for title in titles.values():
        group = age_group("", title)
        if group and (group.upper is None or group.upper > 75):
            assert repr(title) in str(info.value)


def _population_table(titles: dict[str, str], values: dict[str, float | None]) -> CbsTable:
    ages = pl.DataFrame({"code": list(titles), "title": list(titles.values()),
                         "description": [""] * len(titles)})
    obs = pl.DataFrame({
        "Geslacht": ["T001038"] * len(values), "Leeftijd": list(values),
        "RegioS": ["GM0363"] * len(values), "periode_code": ["2024JJ00"] * len(values),
        "jaar": [2024] * len(values), "halfjaar": [None] * len(values),
        "status": ["definitief"] * len(values), "measure": ["inwoners"] * len(values),
        "value": list(values.values()),
    }, schema_overrides={"jaar": pl.Int32, "halfjaar": pl.Int8, "value": pl.Float64})
    return CbsTable(
        table_id="03759NED", title="Bevolking", fmt="odata-v3",
        dimensions={"Geslacht": pl.DataFrame({"code": ["T001038"],
                                              "title": ["Totaal mannen en vrouwen"],
                                              "description": [""]}),
                    "Leeftijd": ages,
                    "RegioS": pl.DataFrame({"code": ["GM0363"], "title": ["Amsterdam"],
                                            "description": [""]})},
        periods=pl.DataFrame(), observations=obs)


def test_population_75plus_sums_single_years_without_counting_95plus_twice() -> None:
    titles = {"10000": "Totaal"} | {f"a{a}": f"{a} jaar" for a in range(0, 105)} | {
        "o95": "95 jaar of ouder", "o105": "105 jaar of ouder"}
    values: dict[str, float | None] = {"10000": 10_000.0}
    values |= {f"a{a}": 100.0 for a in range(0, 105)}
    values |= {"o95": 1_000.0, "o105": 0.0}
    row = bevolking("03759NED", _population_table(titles, values)).row(0, named=True)
    assert row["inwoners"] == 10_000
    # 75 … 94 single years (20 × 100) + 95 and older (1 000), not + 95 … 104 once more.
    assert row["inwoners_75plus"] == 20 * 100 + 1_000


def test_population_75plus_is_null_when_a_part_is_unknown() -> None:
    titles = {"10000": "Totaal", "g75": "75 tot 80 jaar", "o80": "80 jaar of ouder"}
    values = {"10000": 500.0, "g75": 20.0, "o80": None}
    row = bevolking("03759NED", _population_table(titles, values)).row(0, named=True)
    assert row["inwoners"] == 500 and row["inwoners_75plus"] is None


def test_population_without_a_cover_names_the_table_and_categories() -> None:
    titles = {"10000": "Totaal", "g": "70 tot 80 jaar", "o": "80 jaar of ouder"}
    with pytest.raises(InputError) as info:
        bevolking("03759NED", _population_table(titles, {"10000": 1.0, "g": 1.0, "o": 1.0}))
    assert info.value.field == "Leeftijd"
    assert "03759NED" in info.value.message and "'70 tot 80 jaar'" in info.value.message
