"""Over page: sources, method, symbols, build record and citation, checked against the DB."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import exports
from dashboard.db import Database
from dashboard.views import over
from tests.dashboard_fixtures import AppFactory, opener

OpenPage = Callable[..., AppTest]


@pytest.fixture
def open_over(make_app: AppFactory) -> OpenPage:
    return opener(make_app, "over")


@pytest.fixture(scope="module")
def database(demo_db: Path) -> Database:
    return Database(demo_db)


def frames(at: AppTest) -> list[pl.DataFrame]:
    return [pl.from_pandas(d.value) for d in at.dataframe]


def test_renders_sources_symbols_build_and_citation(open_over: OpenPage,
                                                    database: Database) -> None:
    at = open_over()
    assert at.title[0].value == "Over wmo-atlas"
    sources, symbols, build = frames(at)
    bron = database.query("SELECT bron_id, licentie, is_synthetisch FROM meta.bron "
                          "ORDER BY bron_id")
    assert sources["bron"].to_list() == bron["bron_id"].to_list()
    assert sources["licentie"].to_list() == bron["licentie"].to_list()
    assert sources["synthetisch"].to_list() == bron["is_synthetisch"].to_list()
    assert "opgehaald op" in sources.columns
    assert symbols["teken"].to_list() == [s["symbol"] for s in exports.symbol_legend()]
    versie = database.query("SELECT versie FROM meta.build").item()
    assert versie in build["waarde"].to_list()
    citation = at.code[0].value
    assert "SYNTHETISCHE DEMODATA" in citation and "Bron: CBS" not in citation


def test_synthetic_statement_names_the_synthetic_sources(open_over: OpenPage,
                                                         database: Database) -> None:
    at = open_over()
    synthetic = database.query("SELECT bron_id FROM meta.bron WHERE is_synthetisch "
                               "ORDER BY bron_id")["bron_id"].to_list()
    assert synthetic
    statement = next(e.value for e in at.error if "géén CBS-cijfers" in e.value)
    assert all(bron in statement for bron in synthetic)


def test_method_sections_state_the_rules(open_over: OpenPage, database: Database) -> None:
    at = open_over()
    text = " ".join(m.value for m in at.markdown)
    ref = database.query("SELECT referentie_indeling FROM meta.build").item()
    n = database.query("SELECT count(DISTINCT gemeente_code) FROM core.werkwijze").item()
    assert f"indeling van {ref}" in text
    assert "**1 juli**" in text and f"{n} gemeentecodes" in text
    assert "nader voorlopig" in text and "nooit 0" in text


def test_switching_language_changes_the_content(open_over: OpenPage) -> None:
    at = open_over()
    at.radio(key="taal_switch").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "About wmo-atlas"
    assert at.query_params["taal"] == "en"
    sources, symbols, _ = frames(at)
    assert "retrieved at" in sources.columns and "symbol" in symbols.columns
    assert symbols["meaning"].to_list() == [s["meaning"] for s in exports.symbol_legend()]


def test_deep_link_sets_the_language(open_over: OpenPage) -> None:
    at = open_over(taal="en")
    assert at.radio(key="taal_switch").value == "en"
    assert any("**1 July**" in m.value for m in at.markdown)


# --- view functions -------------------------------------------------------------------------

def test_dutch_legend_covers_every_symbol_of_the_metadata() -> None:
    legend = exports.symbol_legend()
    nl, en = over.symbols("nl"), over.symbols("en")
    assert nl.height == en.height == len(legend)
    assert nl[nl.columns[0]].to_list() == [s["symbol"] for s in legend]
    # Every symbol has its own Dutch wording, not the English one.
    assert all(a != b for a, b in zip(nl[nl.columns[1]], en[en.columns[1]], strict=True))


def test_citation_matches_the_export_citation(database: Database) -> None:
    ctx = exports.context_from_db(database, "x", {})
    assert over.citation(database) == ctx.citation


def test_real_build_is_cited_as_cbs(demo_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "real.duckdb"
    shutil.copy(demo_db, copy)
    con = duckdb.connect(str(copy))
    con.execute("UPDATE meta.build SET is_synthetisch = false")
    con.execute("UPDATE meta.bron SET is_synthetisch = false")
    con.close()
    real = Database(copy)
    try:
        assert over.citation(real).startswith("Bron: CBS, StatLine ")
        assert over.synthetic_sources(real) == []
        assert over.build_rows(real, "nl").filter(
            pl.col("gegeven") == "Synthetische demodata")["waarde"].item() == "nee"
    finally:
        real.close()
