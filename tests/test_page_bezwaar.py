"""Bezwaar page: AppTest on a real demo database and the view logic against independent SQL."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from dashboard import charts, fmt
from dashboard.db import Database
from dashboard.views import bezwaar as view
from tests.dashboard_fixtures import AppFactory

# Real beats synthetic for the same gemeente, year and domein, written without the view's code.
USED = """
    SELECT b.* FROM core.bezwaar b
    WHERE b.domein = ? AND NOT (b.is_synthetisch AND EXISTS (
        SELECT 1 FROM core.bezwaar r WHERE NOT r.is_synthetisch AND r.domein = b.domein
        AND r.gemeente_code = b.gemeente_code AND r.jaar = b.jaar))
"""


@pytest.fixture(scope="module")
def database(demo_db: Path) -> Database:
    return Database(demo_db)


def specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def frame_with(at, *columns: str):
    for df in at.dataframe:
        if set(columns) <= set(df.value.columns):
            return df.value
    raise AssertionError(f"no dataframe with columns {columns!r}")


def info_text(at) -> str:
    return " ".join(i.value for i in at.info)


# --- AppTest ----------------------------------------------------------------------------------

def test_default_page_shows_rates_outcomes_coverage_and_sources(make_app: AppFactory,
                                                                database: Database) -> None:
    at = make_app(page="bezwaar")
    assert not at.exception
    assert at.title[0].value == "Bezwaren tegen Wmo-besluiten"
    assert at.selectbox(key="bezwaar_domein").value == "wmo"
    titles = [charts.title_of(s) for s in specs(at)]
    assert len(titles) == 5
    assert titles[0] == "Bezwaren per 1 000 Wmo-cliënten naar werkwijze"
    assert all("SYNTHETISCHE DEMODATA" in charts.subtitles_of(s)[-1] for s in specs(at))
    # Every figure is listed with its source columns; synthetic rows are marked.
    table = frame_with(at, "bron_url", "bron_omschrijving", "peildatum")
    n, synthetic = database.query("SELECT count(*), count(*) FILTER (WHERE is_synthetisch) "
                                  "FROM core.bezwaar WHERE domein = 'wmo'").row(0)
    assert len(table) == n
    assert (table["Herkomst"] == "⚠ SYNTHETISCH").sum() == synthetic
    assert any(f"waarvan {fmt.integer(synthetic, 'nl')} SYNTHETISCH" in w.value
               for w in at.warning)
    # The newest year with a rate is the default for the distribution.
    newest = database.query("SELECT max(jaar) FROM core.bezwaar WHERE domein = 'wmo'").item()
    assert at.query_params["jaar"] == str(newest)


def test_changing_domein_keeps_domains_apart(make_app: AppFactory, database: Database) -> None:
    at = make_app(page="bezwaar")
    at.selectbox(key="bezwaar_domein").select("Heel sociaal domein (Participatiewet, Wmo, "
                                               "soms Jeugdwet)").run()
    assert not at.exception
    assert at.query_params["domein"] == "sociaal_domein"
    assert "geen cijfer per 1 000 cliënten" in info_text(at)
    titles = [charts.title_of(s) for s in specs(at)]
    assert not any("per 1 000" in t for t in titles)
    table = frame_with(at, "bron_url")
    expected = database.query("SELECT bron_url FROM core.bezwaar WHERE domein = 'sociaal_domein' "
                              "ORDER BY jaar, gemeente_code")["bron_url"].to_list()
    assert table["bron_url"].tolist() == expected
    years = database.query("SELECT DISTINCT jaar FROM core.bezwaar "
                           "WHERE domein = 'sociaal_domein' ORDER BY jaar DESC")["jaar"].to_list()
    assert at.selectbox(key="bezwaar_jaar").options[0].rstrip("*") == str(years[0])


def test_changing_year_changes_the_distribution(make_app: AppFactory,
                                                database: Database) -> None:
    at = make_app(page="bezwaar")
    at.selectbox(key="bezwaar_jaar").select("2019").run()
    assert not at.exception
    assert at.query_params["jaar"] == "2019"
    assert any(charts.title_of(s) == "Spreiding tussen gemeenten, 2019" for s in specs(at))
    shown = frame_with(at, "gemeente_code", "Per 1 000 cliënten")
    expected = database.query(
        "SELECT gemeente_code FROM out.gemeente_periode WHERE jaar = 2019 AND halfjaar IS NULL "
        "AND voorziening_code = 'T001024' AND bezwaren_per_1000_clienten IS NOT NULL")
    assert set(shown["gemeente_code"]) == set(expected["gemeente_code"].to_list())


def test_deep_link_sets_controls_and_unknown_values_fall_back(make_app: AppFactory) -> None:
    at = make_app(page="bezwaar", domein="wmo_huishoudelijke_ondersteuning", jaar="2016",
                  taal="en")
    assert not at.exception
    assert at.selectbox(key="bezwaar_domein").value == "wmo_huishoudelijke_ondersteuning"
    assert at.selectbox(key="bezwaar_jaar").value == "2016"
    assert at.title[0].value == "Objections to Wmo decisions"

    at = make_app(page="bezwaar", domein="jeugd", jaar="1800")
    assert not at.exception
    assert at.selectbox(key="bezwaar_domein").value == view.DEFAULT_DOMEIN
    assert "jeugd" in info_text(at) and "1800" in info_text(at)


# --- view logic against independent SQL -------------------------------------------------------

def test_pooled_rate_equals_independent_sql(database: Database) -> None:
    expected = database.query("""
        SELECT jaar, CASE WHEN GROUPING(coalesce(werkwijze_hbh, 'onbekend')) = 1 THEN 'alle'
                          ELSE coalesce(werkwijze_hbh, 'onbekend') END AS groep,
               1000.0 * sum(bezwaren_ontvangen) / sum(clienten) AS rate, count(*) AS n
        FROM out.gemeente_periode
        WHERE voorziening_code = 'T001024' AND halfjaar IS NULL
          AND bezwaren_ontvangen IS NOT NULL AND clienten IS NOT NULL
        GROUP BY GROUPING SETS ((jaar, coalesce(werkwijze_hbh, 'onbekend')), (jaar))
    """)
    got = view.pooled_rates(database).join(expected, on=["jaar", "groep"], how="full",
                                           coalesce=True)
    assert got.height == expected.height > 0
    assert got["waarde"].null_count() == 0 and got["rate"].null_count() == 0
    assert (got["waarde"] - got["rate"]).abs().max() < 1e-9
    assert (got["n"] == got["n_right"]).all()
    # NULL werkwijze is its own group, never counted as 'uren'.
    assert "onbekend" in set(got["groep"].to_list())


def test_outcome_shares_equal_independent_sql(database: Database) -> None:
    rows = view.register_rows(database, "wmo")
    got = view.outcome_shares(rows, "jaar")
    expected = database.query(f"""
        WITH u AS ({USED}), c AS (
            SELECT * FROM u WHERE gegrond IS NOT NULL AND deels_gegrond IS NOT NULL
            AND ongegrond IS NOT NULL AND niet_ontvankelijk IS NOT NULL
            AND ingetrokken IS NOT NULL)
        SELECT jaar, sum(gegrond) / sum(gegrond + deels_gegrond + ongegrond + niet_ontvankelijk
                                        + ingetrokken) AS share
        FROM c GROUP BY jaar""", ["wmo"])
    joined = got.filter(pl.col("uitkomst") == "gegrond").join(expected, on="jaar")
    assert joined.height == expected.height > 0
    assert (joined["aandeel"] - joined["share"].cast(pl.Float64)).abs().max() < 1e-9
    sums = got.group_by("jaar").agg(pl.col("aandeel").sum())
    assert ((sums["aandeel"] - 1).abs() < 1e-9).all()


def test_coverage_counts_equal_independent_sql(database: Database) -> None:
    for domein in view.DOMEINEN:
        got = view.coverage(database, domein)
        expected = database.query(
            f"SELECT jaar, is_synthetisch, count(DISTINCT gemeente_code) AS n FROM ({USED}) "
            "WHERE bezwaren_ontvangen IS NOT NULL GROUP BY ALL", [domein])
        joined = got.join(expected, on=["jaar", "is_synthetisch"], how="left")
        assert (joined["gemeenten"] == joined["n"].fill_null(0)).all(), domein
        assert joined["gemeenten"].sum() == expected["n"].sum()


def test_every_figure_has_its_source_columns(database: Database) -> None:
    for domein in view.DOMEINEN:
        table = view.figure_table(database, domein, "nl")
        assert {"bron_url", "bron_omschrijving", "peildatum"} <= set(table.frame.columns)
        assert {"bron_url", "bron_omschrijving", "peildatum", "is_synthetisch"} <= set(
            table.export.columns)
        expected = database.query(
            "SELECT count(*) AS n, count(*) FILTER (WHERE NOT is_synthetisch "
            "AND bron_url IS NULL) AS missing FROM core.bezwaar WHERE domein = ?",
            [domein]).row(0)
        assert table.frame.height == expected[0]
        real = table.export.filter(~pl.col("is_synthetisch"))
        assert real["bron_url"].null_count() == expected[1]


def test_werkwijze_of_a_dissolved_code_comes_from_todays_gemeente(database: Database) -> None:
    rows = view.register_rows(database, "wmo").filter(pl.col("gemeente_code") != pl.col(
        "ref_code"))
    assert rows.height > 0  # the demo has figures of gemeenten that merged later
    for r in rows.head(20).iter_rows(named=True):
        expected = database.query(
            "SELECT werkwijze_hbh FROM out.gemeente_periode WHERE gemeente_code = ? "
            "AND jaar = ? AND halfjaar IS NULL AND voorziening_code = 'T001024'",
            [r["ref_code"], r["jaar"]])
        value = expected.item() if expected.height else None
        assert r["groep"] == (value or "onbekend")
