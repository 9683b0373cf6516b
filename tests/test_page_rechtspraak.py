"""Rechtspraak page, the Kaart measure, the Gemeente profile's rulings and the register's ECLI
links: AppTest on a real demo database, and the view logic against independent SQL."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from dashboard import catalog, fmt
from dashboard.db import Database
from dashboard.views import gemeente as gemeente_view
from dashboard.views import kaart
from dashboard.views import rechtspraak as view
from tests.dashboard_fixtures import AppFactory, chart_specs

CAVEAT_NL = "Alleen gepubliceerde uitspraken tellen mee"
CAVEAT_EN = "Only published rulings are counted"


@pytest.fixture(scope="module")
def database(demo_db: Path) -> Database:
    return Database(demo_db)


def sql_rows(db: Database, where: str = "TRUE", params: list | None = None) -> pl.DataFrame:
    """The rulings as an independent query picks them (not the view's polars filter)."""
    return db.query(f"SELECT * FROM out.uitspraak WHERE {where} ORDER BY ecli", params or [])


RULING_COLUMNS = ("datum", "samenvatting", "ecli", "url")
REGISTER_COLUMNS = ("bron_url", "bron_omschrijving", "regel")


def table(at, columns: tuple[str, ...] = RULING_COLUMNS) -> pl.DataFrame:
    """The first table with these columns (AppTest does not expose a dataframe's key)."""
    found = [d for d in at.dataframe if set(columns) <= set(d.value.columns)]
    assert found, f"no table with {columns}"
    return pl.from_pandas(found[0].value)


def busy_choice(db: Database) -> dict[str, str]:
    """A province and year with several rulings in the demo, found by SQL."""
    row = db.query(
        "SELECT provincie_naam, jaar, count(*) AS n FROM out.uitspraak "
        "WHERE provincie_naam IS NOT NULL GROUP BY ALL ORDER BY n DESC, 1, 2 LIMIT 1").row(0)
    return {"provincie": row[0], "jaar": str(row[1])}


# --- the page ---------------------------------------------------------------------------------

def test_page_renders_every_ruling_with_caveat_and_banner(make_app: AppFactory,
                                                          database: Database) -> None:
    at = make_app("rechtspraak")
    assert not at.exception
    assert at.title[0].value == "Rechtspraak: Wmo-uitspraken"
    assert any("Synthetische demodata" in w.value for w in at.warning)
    total = int(database.query("SELECT count(*) FROM out.uitspraak").item())
    assert total > 100
    assert at.metric[0].value == fmt.integer(total, "nl")
    assert table(at).height == total
    # Every count on the page says what it cannot count.
    captions = [c.value for c in at.caption]
    assert sum(CAVEAT_NL in c for c in captions) >= 4
    assert any(fmt.integer(total, "nl") + " gepubliceerde uitspraken" in c for c in captions)


def test_every_filter_is_in_the_url_and_round_trips(make_app: AppFactory,
                                                    database: Database) -> None:
    pick = database.query(
        "SELECT gemeente_code, provincie_naam, jaar, instantie, uitkomst FROM out.uitspraak "
        "WHERE is_hbh AND is_resultaatgericht AND uitkomst IS NOT NULL "
        "ORDER BY uitspraakdatum LIMIT 1").row(0, named=True)
    params = {"gemeente": pick["gemeente_code"], "provincie": pick["provincie_naam"],
              "jaar": str(pick["jaar"]), "instantie": pick["instantie"],
              "uitkomst": pick["uitkomst"], "hbh": "1", "resultaatgericht": "1"}
    at = make_app("rechtspraak", **params)
    assert not at.exception and not at.info
    for name, value in params.items():
        assert at.query_params[name] == value, name
    assert at.selectbox(key="rs_gemeente").value == pick["gemeente_code"]
    assert at.selectbox(key="rs_instantie").value == pick["instantie"]
    assert at.checkbox(key="rs_hbh").value and at.checkbox(key="rs_resultaatgericht").value
    expected = sql_rows(database, "gemeente_code = ? AND provincie_naam = ? AND jaar = ? "
                        "AND instantie = ? AND uitkomst = ? AND is_hbh AND is_resultaatgericht",
                        [pick["gemeente_code"], pick["provincie_naam"], pick["jaar"],
                         pick["instantie"], pick["uitkomst"]])
    shown = table(at)
    assert shown.height == expected.height >= 1
    assert sorted(shown["ecli"].to_list()) == expected["ecli"].to_list()
    # A change in a control goes back into the URL, and the table follows.
    at.checkbox(key="rs_hbh").uncheck().run()
    assert at.query_params["hbh"] == "0"
    at.selectbox(key="rs_gemeente").select("").run()
    at.selectbox(key="rs_uitkomst").select("onbekend").run()
    assert at.query_params["uitkomst"] == "onbekend"
    expected = sql_rows(database, "provincie_naam = ? AND jaar = ? AND instantie = ? "
                        "AND uitkomst IS NULL AND is_resultaatgericht",
                        [pick["provincie_naam"], pick["jaar"], pick["instantie"]])
    if expected.is_empty():
        assert any("Geen gepubliceerde uitspraken" in i.value for i in at.info)
    else:
        assert sorted(table(at)["ecli"].to_list()) == expected["ecli"].to_list()


def test_unknown_url_values_get_the_standard_message(make_app: AppFactory) -> None:
    at = make_app("rechtspraak", jaar="1999", instantie="[klik](https://evil.example)",
                  uitkomst="verloren")
    assert not at.exception
    messages = [i.value for i in at.info]
    assert sum("bestaat niet in deze database" in m for m in messages) == 3
    # URL text is echoed as text: the brackets are escaped, never a link.
    assert not any("[klik](https" in m for m in messages)
    assert at.selectbox(key="rs_jaar").value == ""


def test_counts_per_year_and_werkwijze_equal_an_independent_count(
        make_app: AppFactory, database: Database) -> None:
    choice = busy_choice(database)
    at = make_app("rechtspraak", **choice)
    # All filters except the year: the chart shows the province's years.
    expected = database.query(
        "SELECT jaar, coalesce(werkwijze_hbh, 'onbekend') AS groep, count(*) AS n "
        "FROM out.uitspraak WHERE provincie_naam = ? AND jaar IS NOT NULL GROUP BY ALL",
        [choice["provincie"]])
    rows = chart_specs(at)[0]["_rows"]
    got = {(int(r["jaar"]), r["groep"]): r["uitspraken"] for r in rows}
    assert got == {(j, g): n for j, g, n in expected.iter_rows()}
    assert len({j for j, _ in got}) > 1
    assert table(at).height == int(database.query(
        "SELECT count(*) FROM out.uitspraak WHERE provincie_naam = ? AND jaar = ?",
        [choice["provincie"], int(choice["jaar"])]).item())


def test_pooled_rate_per_werkwijze_is_sum_over_sum(database: Database) -> None:
    rates = view.pooled_rates(database, "Utrecht")
    direct = database.query(
        "SELECT jaar, coalesce(werkwijze_hbh, 'onbekend') AS groep, "
        "10000.0 * sum(uitspraken_wmo) / sum(clienten) AS waarde, count(*) AS n "
        "FROM out.gemeente_periode WHERE voorziening_code = ? AND halfjaar IS NULL "
        "AND provincie_naam = 'Utrecht' AND uitspraken_wmo IS NOT NULL AND clienten > 0 "
        "GROUP BY ALL", [catalog.TOTAAL])
    joined = rates.join(direct, on=["jaar", "groep"], suffix="_db")
    assert joined.height == direct.height == rates.height > 0
    assert (joined["waarde"] - joined["waarde_db"]).abs().max() < 1e-9
    assert (joined["n"] == joined["n_db"]).all()
    # Not the mean of the gemeenten's own rates (which differs whenever sizes differ).
    mean = database.query(
        "SELECT avg(uitspraken_per_10000_clienten) FROM out.gemeente_periode "
        "WHERE voorziening_code = ? AND halfjaar IS NULL AND provincie_naam = 'Utrecht' "
        "AND jaar = 2021 AND uitspraken_wmo IS NOT NULL AND clienten > 0",
        [catalog.TOTAAL]).item()
    pooled_all = database.query(
        "SELECT 10000.0 * sum(uitspraken_wmo) / sum(clienten) FROM out.gemeente_periode "
        "WHERE voorziening_code = ? AND halfjaar IS NULL AND provincie_naam = 'Utrecht' "
        "AND jaar = 2021 AND clienten > 0", [catalog.TOTAAL]).item()
    assert abs(mean - pooled_all) > 1e-6


def test_synthetic_rulings_are_never_linked(make_app: AppFactory, database: Database) -> None:
    at = make_app("rechtspraak")
    shown = table(at)
    assert shown["url"].null_count() == shown.height
    assert shown["ecli"].str.contains(":DEMO").all()
    # Even a synthetic row that carries a url (core.uitspraak keeps one) gets no link.
    core_row = database.query(
        "SELECT u.*, c.url AS core_url FROM out.uitspraak u JOIN core.uitspraak c USING (ecli) "
        "WHERE c.url IS NOT NULL LIMIT 1")
    assert core_row.height == 1
    with_url = core_row.with_columns(url=pl.col("core_url")).drop("core_url")
    assert view.display_table(with_url, "nl")["url"].to_list() == [None]
    real = with_url.with_columns(is_synthetisch=pl.lit(False))
    assert view.display_table(real, "nl")["url"].to_list() == core_row["core_url"].to_list()


def test_ecli_filter_shows_that_one_ruling(make_app: AppFactory, database: Database) -> None:
    ecli = str(database.query("SELECT max(ecli) FROM out.uitspraak").item())
    at = make_app("rechtspraak", ecli=ecli)
    shown = table(at)
    assert shown["ecli"].to_list() == [ecli]
    assert at.query_params["ecli"] == ecli


def test_downloads_hold_exactly_the_filtered_rows_with_provenance(
        make_app: AppFactory, database: Database) -> None:
    choice = busy_choice(database)
    at = make_app("rechtspraak", **choice)
    names = [b.proto.label for b in at.get("download_button")]
    assert {"CSV", "Excel (XLSX)", "Parquet"} <= set(names)
    filters = view.Filters(provincie=choice["provincie"], jaar=int(choice["jaar"]))
    expected = sql_rows(database, "provincie_naam = ? AND jaar = ?",
                        [choice["provincie"], int(choice["jaar"])])
    info = catalog.build_info(database)

    csv = view.export_bytes(database, info, filters, "csv").decode("utf-8-sig")
    header = [line for line in csv.splitlines() if line.startswith("#")]
    assert any("alleen gepubliceerde uitspraken; bezwaren komen nooit bij de rechter" in line
               for line in header)
    assert any("SYNTHETISCH" in line for line in header)
    assert any(choice["provincie"] in line for line in header)
    data = pl.read_csv(io.StringIO(csv), comment_prefix="#")
    assert sorted(data["ecli"].to_list()) == expected["ecli"].to_list()
    assert set(data.columns) == set(expected.columns)

    parquet = pq.read_table(io.BytesIO(view.export_bytes(database, info, filters, "parquet")))
    meta = json.loads(parquet.schema.metadata[b"wmo_atlas"])
    assert meta["filters"] == {"provincie": choice["provincie"], "jaar": choice["jaar"]}
    assert meta["caveats"][0].startswith(CAVEAT_NL) and meta["is_synthetisch"] is True
    assert sorted(parquet.column("ecli").to_pylist()) == expected["ecli"].to_list()

    xlsx = view.export_bytes(database, info, filters, "xlsx")
    with zipfile.ZipFile(io.BytesIO(xlsx)) as zf:
        sheets = " ".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".xml"))
    assert CAVEAT_NL in sheets and "SYNTHETISCH" in sheets
    assert all(e in sheets for e in expected["ecli"].to_list())
    assert view.export_name(filters, True, "csv").endswith("SYNTHETISCH.csv")


def test_english_switch(make_app: AppFactory) -> None:
    at = make_app("rechtspraak", taal="en")
    assert not at.exception
    assert at.title[0].value == "Court rulings on the Wmo"
    assert any(CAVEAT_EN in c.value for c in at.caption)
    assert at.selectbox(key="rs_jaar").format_func("") == "All years"
    labels = view.column_labels("en")
    assert labels["datum"] == "Date" and labels["instantie"] == "Court"


def test_outcome_labels_keep_unknown_apart_from_new_values() -> None:
    assert view.uitkomst_label("niet_ontvankelijk", "nl") == "niet-ontvankelijk"
    assert view.uitkomst_label(None, "en") == "unknown"
    assert view.uitkomst_label("deels_gegrond", "nl") == "deels_gegrond"


def test_summary_is_cut_at_a_word_boundary() -> None:
    text = "woord " * 60
    cut = view.summary(text)
    assert len(cut) <= view.SUMMARY_CHARS + 2 and cut.endswith(" …")
    assert cut.removesuffix(" …").split(" ")[-1] == "woord"
    assert view.summary("kort  en\nklaar") == "kort en klaar"
    assert view.summary(None) == fmt.UNKNOWN
    assert view.summary("x" * 300).startswith("x" * 200)


# --- the Kaart measure ------------------------------------------------------------------------

def test_kaart_measure_is_the_out_column_of_whole_years(database: Database) -> None:
    assert "uitspraken_per_10000" in kaart.MAATEN
    map_view = kaart.map_view(database, "uitspraken_per_10000", "2023HJ01", catalog.HBH, None,
                              "nl")
    assert map_view.periode == "2023JJ00" and map_view.voorziening == catalog.TOTAAL
    direct = database.query(
        "SELECT gemeente_code AS code, uitspraken_per_10000_clienten AS waarde, "
        "10000.0 * uitspraken_wmo / clienten AS eigen FROM out.gemeente_periode "
        "WHERE periode_code = '2023JJ00' AND voorziening_code = ?", [catalog.TOTAAL])
    joined = map_view.values.select("code", "waarde").join(direct, on="code", suffix="_db")
    assert joined.height == 342
    assert (joined["waarde"] - joined["waarde_db"]).abs().max() < 1e-9
    # Most gemeenten have no ruling in a year: 0 still gets a class of its own, not 'alle'.
    assert (joined["waarde"] == 0).sum() > 100
    assert len(map_view.classes) >= 3
    zero = map_view.values.filter(pl.col("waarde") == 0)["klasse"].unique().to_list()
    high = map_view.values.filter(pl.col("waarde") > 0)["klasse"].unique().to_list()
    assert len(zero) == 1 and zero[0] not in high


def test_kaart_page_shows_the_measure_with_its_caveat(make_app: AppFactory) -> None:
    at = make_app(maat="uitspraken_per_10000", periode="2023JJ00")
    assert not at.exception
    assert any(CAVEAT_NL in i.value for i in at.info)
    assert "per 10 000 cliënten" in json.dumps(chart_specs(at)[0], ensure_ascii=False)


# --- the Gemeente profile ---------------------------------------------------------------------

def test_gemeente_profile_lists_its_rulings_newest_first(make_app: AppFactory,
                                                         database: Database) -> None:
    code = str(database.query(
        "SELECT gemeente_code FROM out.uitspraak WHERE gemeente_code IS NOT NULL "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").item())
    expected = database.query(
        "SELECT ecli, uitspraakdatum FROM out.uitspraak WHERE gemeente_code = ? "
        "ORDER BY uitspraakdatum DESC, ecli", [code])
    at = make_app("gemeente", gemeente=code)
    assert not at.exception
    shown = table(at)
    assert shown["ecli"].to_list() == expected["ecli"].to_list()
    assert shown["datum"][0] == fmt.date(expected["uitspraakdatum"][0], "nl")
    assert shown["url"].null_count() == shown.height  # synthetic: never linked
    count = f"{expected.height} gepubliceerde uitspraken van deze gemeente."
    assert any(count in c.value and CAVEAT_NL in c.value for c in at.caption)
    links = [p.proto for p in at.get("page_link")]
    assert any(p.page == "rechtspraak" and f"gemeente={code}" in p.query_string for p in links)


def test_gemeente_without_rulings_says_so_with_the_caveat(make_app: AppFactory,
                                                          database: Database) -> None:
    code = str(database.query(
        "SELECT gemeente_code FROM out.gemeente_periode WHERE gemeente_code NOT IN "
        "(SELECT gemeente_code FROM out.uitspraak WHERE gemeente_code IS NOT NULL) "
        "ORDER BY 1 LIMIT 1").item())
    at = make_app("gemeente", gemeente=code)
    assert not at.exception
    assert any("Geen gepubliceerde Wmo-uitspraken" in i.value and CAVEAT_NL in i.value
               for i in at.info)


def test_gemeente_trend_of_the_ruling_rate_has_its_caveat(make_app: AppFactory,
                                                          database: Database) -> None:
    assert "uitspraken_per_10000" in gemeente_view.MAATEN
    at = make_app("gemeente", gemeente="GM0344", maat="uitspraken_per_10000")
    assert not at.exception
    assert any(CAVEAT_NL in i.value for i in at.info)
    trend = table(at, ("Reeks", "Periode", "Wmo-uitspraken per 10 000 cliënten"))
    # '2024*': the status mark of a provisional year is not part of the year.
    own = trend.filter(pl.col("Reeks") == "Utrecht").with_columns(
        pl.col("Periode").str.strip_chars_end("*"))
    direct = database.query(
        "SELECT CAST(jaar AS VARCHAR) AS Periode, uitspraken_per_10000_clienten AS w "
        "FROM out.gemeente_periode WHERE gemeente_code = 'GM0344' AND voorziening_code = ? "
        "AND halfjaar IS NULL AND uitspraken_per_10000_clienten IS NOT NULL ORDER BY jaar",
        [catalog.TOTAAL])
    joined = own.join(direct, on="Periode")
    assert joined.height == direct.height > 5
    assert (joined["Wmo-uitspraken per 10 000 cliënten"] - joined["w"]).abs().max() < 1e-3


def test_gemeente_rulings_in_english(make_app: AppFactory) -> None:
    at = make_app("gemeente", gemeente="GM0344", taal="en")
    assert not at.exception
    assert any(h.value == "Court rulings" for h in at.subheader)
    assert any(CAVEAT_EN in c.value for c in [*at.caption, *at.info])


# --- the werkwijze register's court-ruling sources --------------------------------------------

def test_register_sources_with_an_ecli_link_to_the_ruling(make_app: AppFactory,
                                                          database: Database) -> None:
    register = database.query(
        "SELECT DISTINCT bron_url FROM core.werkwijze WHERE voorziening = "
        "'huishoudelijke_ondersteuning' "
        "AND regexp_matches(bron_url, 'ECLI:NL:[A-Z]+:[0-9]{4}:[A-Z0-9]+')")
    assert register.height > 0, "the demo register has court-ruling sources"
    at = make_app("werkwijze")
    assert not at.exception
    shown = table(at, REGISTER_COLUMNS)
    linked = shown.filter(pl.col("uitspraak_url").is_not_null())
    assert set(linked["bron_url"].to_list()) == set(register["bron_url"].to_list())
    for bron, url in linked.select("bron_url", "uitspraak_url").iter_rows():
        ecli = url.removeprefix("https://uitspraken.rechtspraak.nl/InzienDocument?id=")
        assert ecli in bron and view.ECLI.fullmatch(ecli)
    # No ruling of the register is in the demo's (synthetic) rulings: no link to this site.
    assert "uitspraak_pagina" not in shown.columns


def test_gemeente_register_sources_link_the_ruling(make_app: AppFactory,
                                                   database: Database) -> None:
    code, bron = database.query(
        "SELECT gemeente_code, bron_url FROM core.werkwijze WHERE bron_url LIKE "
        "'%uitspraken.rechtspraak.nl%ECLI:%' ORDER BY 1 LIMIT 1").row(0)
    at = make_app("gemeente", gemeente=code)
    shown = table(at, REGISTER_COLUMNS)
    row = shown.filter(pl.col("bron_url") == bron)
    assert row["uitspraak_url"].to_list() == [view.ruling_url(view.ecli_in(bron))]
    plain = shown.filter(~pl.col("bron_url").fill_null("").str.contains("ECLI:"))
    assert plain["uitspraak_url"].null_count() == plain.height


def test_a_register_ruling_in_the_database_links_to_its_row(demo_db: Path,
                                                            tmp_path: Path) -> None:
    """A real ruling that the register cites and the build also fetched: the link to the
    Rechtspraak page appears, filtered on that ECLI (a copy of the demo file with that ruling
    added as a real row)."""
    path = tmp_path / "met-uitspraak.duckdb"
    shutil.copy(demo_db, path)
    con = duckdb.connect(str(path))
    bron = con.execute("SELECT bron_url FROM core.werkwijze WHERE bron_url LIKE '%ECLI:%' "
                       "ORDER BY 1 LIMIT 1").fetchone()[0]
    ecli = view.ecli_in(bron)
    con.execute("INSERT INTO out.uitspraak SELECT * REPLACE (? AS ecli, ? AS url, "
                "false AS is_synthetisch) FROM out.uitspraak LIMIT 1",
                [ecli, view.ruling_url(ecli)])
    con.close()
    db = Database(path)
    frame = pl.DataFrame({"bron_url": [bron, "https://example.org/nieuws", None]})
    linked = view.with_ruling_links(db, frame)
    assert linked["uitspraak_url"].to_list() == [view.ruling_url(ecli), None, None]
    page = linked["uitspraak_pagina"][0]
    assert page.startswith("rechtspraak?ecli=") and linked["uitspraak_pagina"][1] is None
    rows = view.filtered(db, view.Filters(ecli=ecli))
    assert rows.height == 1 and rows["url"][0] == view.ruling_url(ecli)
    assert view.display_table(rows, "nl")["url"].to_list() == [view.ruling_url(ecli)]


def test_ecli_pattern_and_urls() -> None:
    assert view.ecli_in("https://lexboost.com/rechtspraak/ECLI:NL:CRVB:2022:2322") == \
        "ECLI:NL:CRVB:2022:2322"
    assert view.ecli_in("https://www.gemeente.nl/hbh") is None and view.ecli_in(None) is None
    assert view.ruling_url("ECLI:NL:RBOVE:2016:1962") == \
        "https://uitspraken.rechtspraak.nl/InzienDocument?id=ECLI:NL:RBOVE:2016:1962"
    assert view.ruling_url("javascript:alert(1)") is None


def test_an_english_download_speaks_english(database: Database) -> None:
    info = catalog.build_info(database)
    filters = view.Filters()
    parquet = pq.read_table(io.BytesIO(view.export_bytes(database, info, filters, "parquet",
                                                         "en")))
    meta = json.loads(parquet.schema.metadata[b"wmo_atlas"])
    assert meta["caveats"][0].startswith(CAVEAT_EN)
    assert not any(c.startswith(CAVEAT_NL) for c in meta["caveats"])
    assert meta["citation"].startswith("Source:") and "invented rulings" in meta["citation"]
    dutch = json.loads(pq.read_table(io.BytesIO(view.export_bytes(
        database, info, filters, "parquet"))).schema.metadata[b"wmo_atlas"])
    assert dutch["citation"].startswith("Bron:") and dutch["caveats"][0].startswith(CAVEAT_NL)
