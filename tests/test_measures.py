"""The measure catalogue: one definition per measure, every page takes its measures from it, and
each declaration (teller, noemer, per, stored column) agrees with the database."""

from __future__ import annotations

import ast
from pathlib import Path

import duckdb
import pytest

from dashboard import measures
from dashboard.views import gemeente, kaart, uitgaven, vergelijken, werkwijze

ROOT = Path(__file__).resolve().parents[1]


def test_every_page_takes_the_same_measure_objects() -> None:
    for page in (kaart.MAATEN, gemeente.MAATEN, vergelijken.MAATEN, werkwijze.MAATEN,
                 uitgaven.SPENDING):
        for key, m in page.items():
            assert m is measures.MEASURES[m.key], key


def test_no_other_module_declares_measures() -> None:
    """A measure is declared once: no second dataclass with numerator/denominator fields."""
    offenders = []
    for path in (ROOT / "dashboard").rglob("*.py"):
        if path.name == "measures.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                fields = {t.target.id for t in node.body
                          if isinstance(t, ast.AnnAssign) and isinstance(t.target, ast.Name)}
                if fields & {"teller", "noemer", "num", "den", "expr", "unit_nl"}:
                    offenders.append(f"{path.name}:{node.name}")
    assert offenders == []


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_measure_has_a_label_unit_and_explanation(lang: str) -> None:
    for m in measures.MEASURES.values():
        for text in (m.label(lang), m.unit(lang), m.uitleg(lang)):
            assert text and not text.startswith(m.key), (m.key, text)
        if m.note is not None:
            assert m.caveat(lang) and m.caveat(lang) != m.note


def test_the_75plus_measure_says_it_counts_clients_of_all_ages() -> None:
    m = measures.measure("per_1000_75plus")
    assert "alle leeftijden" in m.label("nl") and "all ages" in m.label("en")
    assert "géén aandeel" in m.uitleg("nl")


def test_compare_measures_are_all_per_1000() -> None:
    assert {m.per for m in vergelijken.MAATEN.values()} == {vergelijken.PER}


def test_stored_columns_are_the_declared_ratio(demo_db: Path) -> None:
    """Where a measure reads a stored column, that column is per × teller / noemer on the
    rows of its voorziening (or the total): the declaration and the database agree. Stored
    columns come from the unrounded harmonised counts, so a split gemeente may differ by the
    rounding of its teller (at most half a unit, i.e. per × 0.5 / noemer)."""
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        checked = 0
        for m in measures.MEASURES.values():
            if m.column is None or m.change:
                continue
            voorziening = m.voorziening_or(measures.TOTAAL)
            where = "halfjaar IS NULL AND " if m.year_only else ""
            row = con.execute(
                f"SELECT count(*) FILTER (WHERE {m.column} IS NOT NULL), "
                f"max(abs({m.column} - {m.per} * {m.teller} / {m.noemer}) "
                f"    - {m.per} * 0.5 / {m.noemer}) "
                f"FROM out.gemeente_periode WHERE {where} voorziening_code = ? "
                f"AND {m.noemer} > 0", [voorziening]).fetchone()
            assert row is not None and row[0] > 0, m.key
            assert row[1] < 1e-9, (m.key, row[1])
            checked += 1
        assert checked >= 8
    finally:
        con.close()


def test_pooled_sql_sums_before_dividing(demo_db: Path) -> None:
    m = measures.measure("per_1000")
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        pooled, mean = con.execute(
            f"SELECT {m.pooled_sql('g')}, avg({m.value_sql('g')}) FROM out.gemeente_periode g "
            "WHERE voorziening_code = ? AND halfjaar IS NULL AND jaar = 2022",
            [measures.TOTAAL]).fetchone()
        teller, noemer = con.execute(
            "SELECT sum(clienten), sum(inwoners) FROM out.gemeente_periode WHERE "
            "voorziening_code = ? AND halfjaar IS NULL AND jaar = 2022 AND clienten IS NOT NULL "
            "AND inwoners IS NOT NULL", [measures.TOTAAL]).fetchone()
    finally:
        con.close()
    assert pooled == pytest.approx(1000 * teller / noemer)
    assert pooled != pytest.approx(mean, rel=1e-9)
