"""Data page: AppTest on a real demo database, the filter → SQL builder and the exports."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import polars as pl
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import catalog, exports, fmt
from dashboard.db import Database
from dashboard.views import data
from tests.dashboard_fixtures import AppFactory, opener

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
OpenPage = Callable[..., AppTest]


@pytest.fixture
def open_data(make_app: AppFactory) -> OpenPage:
    return opener(make_app, "data")


@pytest.fixture(scope="module")
def database(demo_db: Path) -> Database:
    return Database(demo_db)


def rows_total(at: AppTest) -> int:
    return int(at.metric[0].value.replace(" ", "").replace(",", ""))


def preview(at: AppTest) -> pl.DataFrame:
    return pl.from_pandas(at.dataframe[0].value)


def count(database: Database, sql: str, params: list | None = None) -> int:
    return int(database.query(sql, params).item())


# --- the page -------------------------------------------------------------------------------

def test_renders_preview_total_and_deferred_downloads(open_data: OpenPage,
                                                      database: Database) -> None:
    at = open_data()
    assert at.title[0].value == "Data downloaden"
    assert at.selectbox(key="data_tabel").value == "out.gemeente_periode"
    total = count(database, "SELECT count(*) FROM out.gemeente_periode")
    assert rows_total(at) == total > data.PREVIEW_ROWS
    shown = preview(at)
    assert shown.height == data.PREVIEW_ROWS
    expected_cols = database.query(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'out' "
        "AND table_name = 'gemeente_periode' ORDER BY column_index")["column_name"].to_list()
    assert shown.columns == expected_cols
    assert any("de eerste 1 000" in c.value for c in at.caption)
    buttons = at.get("download_button")
    labels = [b.proto.label for b in buttons]
    assert labels[:4] == ["CSV", "Excel (XLSX)", "Parquet", "ZIP-bundel"]
    assert any(label.startswith("DuckDB-bestand") for label in labels)
    # Nothing heavy per rerun: every download is a deferred callable that does not rerun.
    assert all(b.proto.ignore_rerun and b.proto.deferred_file_id for b in buttons)


def test_changing_a_filter_changes_count_preview_and_url(open_data: OpenPage,
                                                         database: Database) -> None:
    at = open_data()
    before = rows_total(at)
    at.multiselect(key="data_periode").select("2023").run()
    assert at.query_params["periode"] == "2023JJ00"
    expected = count(database, "SELECT count(*) FROM out.gemeente_periode "
                               "WHERE periode_code = '2023JJ00'")
    assert rows_total(at) == expected != before
    assert set(preview(at)["periode_code"]) == {"2023JJ00"}


def test_deep_link_sets_controls_and_columns(open_data: OpenPage, database: Database) -> None:
    at = open_data(tabel="out.provincie_periode", provincie="Utrecht",
                   periode="2022JJ00,2023JJ00", voorziening="A019507",
                   kolommen="clienten,provincie_naam,periode_code")
    assert at.selectbox(key="data_tabel").value == "out.provincie_periode"
    assert at.selectbox(key="data_provincie").value == "Utrecht"
    assert at.multiselect(key="data_periode").value == ["2022JJ00", "2023JJ00"]
    assert at.multiselect(key="data_voorziening").value == ["A019507"]
    shown = preview(at)
    # Columns in table order, whatever order the link gave.
    assert shown.columns == ["provincie_naam", "periode_code", "clienten"]
    assert set(shown["provincie_naam"]) == {"Utrecht"}
    assert rows_total(at) == count(
        database, "SELECT count(*) FROM out.provincie_periode WHERE provincie_naam = 'Utrecht' "
                  "AND periode_code IN ('2022JJ00', '2023JJ00') AND voorziening_code = 'A019507'")
    # out.provincie_periode has no gemeente_code, so there is no gemeente filter to show.
    assert "data_gemeenten" not in [m.key for m in at.multiselect]


def test_single_gemeente_link_and_unknown_werkwijze_keep_nulls(open_data: OpenPage,
                                                                database: Database) -> None:
    code = database.query("SELECT gemeente_code FROM out.gemeente_periode WHERE "
                          "werkwijze_hbh IS NULL LIMIT 1").item()
    at = open_data(gemeente=code, werkwijze="onbekend")
    assert at.multiselect(key="data_gemeenten").value == [code]
    assert at.query_params["gemeenten"] == code and "gemeente" not in at.query_params
    expected = count(database, "SELECT count(*) FROM out.gemeente_periode WHERE "
                               "gemeente_code = ? AND werkwijze_hbh IS NULL", [code])
    assert rows_total(at) == expected > 0
    assert preview(at)["werkwijze_hbh"].null_count() == preview(at).height


def test_unknown_link_values_give_a_message_and_the_default(open_data: OpenPage) -> None:
    at = open_data(tabel="out.gemeente_periode; DROP TABLE meta.build", kolommen="nope",
                   periode="1999JJ00")
    messages = " ".join(i.value for i in at.info)
    assert "DROP TABLE" in messages and "nope" in messages and "1999JJ00" in messages
    assert at.selectbox(key="data_tabel").value == data.DEFAULT_TABLE
    assert preview(at).height == data.PREVIEW_ROWS


def test_switching_table_drops_filters_it_cannot_apply(open_data: OpenPage,
                                                       database: Database) -> None:
    at = open_data(periode="2023JJ00", kolommen="gemeente_code,clienten")
    at.selectbox(key="data_tabel").select("core.herindeling").run()
    assert not at.exception
    assert "periode" not in at.query_params and "kolommen" not in at.query_params
    assert rows_total(at) == count(database, "SELECT count(*) FROM core.herindeling")
    assert preview(at).columns == [c.name for c in data.tables(database)["core.herindeling"]
                                   .columns]


def test_switching_table_keeps_a_column_choice_that_fits(open_data: OpenPage) -> None:
    at = open_data(kolommen="jaar,gemeente_code")
    at.selectbox(key="data_tabel").select("core.bevolking").run()
    assert not at.exception
    assert at.query_params["kolommen"] == "jaar,gemeente_code"
    assert preview(at).columns == ["gemeente_code", "jaar"]


def test_year_range_filters_and_reversed_years_are_swapped(open_data: OpenPage,
                                                           database: Database) -> None:
    at = open_data(jaar_van="2021", jaar_tot="2019")
    assert any("omgedraaid" in i.value for i in at.info)
    expected = count(database, "SELECT count(*) FROM out.gemeente_periode "
                               "WHERE jaar BETWEEN 2019 AND 2021")
    assert rows_total(at) == expected
    assert set(preview(at)["jaar"]) <= {2019, 2020, 2021}


def test_dictionary_search_filters_and_lives_in_the_url(open_data: OpenPage,
                                                        database: Database) -> None:
    at = open_data(taal="en")
    columns_table = next(d for d in at.dataframe if "column" in d.value.columns)
    assert len(columns_table.value) == count(database, "SELECT count(*) FROM meta.veld")
    at.text_input(key="data_zoek").input("bezwaren").run()
    assert at.query_params["zoek"] == "bezwaren"
    columns_table = next(d for d in at.dataframe if "column" in d.value.columns)
    found = pl.from_pandas(columns_table.value)
    expected = count(database, "SELECT count(*) FROM meta.veld WHERE "
                               "lower(concat_ws(' ', schema_naam, tabel, kolom, eenheid, "
                               "omschrijving_en)) LIKE '%bezwaren%'")
    assert found.height == expected > 0
    assert at.title[0].value == "Download data"


def test_descriptions_are_in_the_readers_language(open_data: OpenPage,
                                                  database: Database) -> None:
    sql = ("SELECT omschrijving, omschrijving_en FROM meta.tabel "
           "WHERE schema_naam = 'out' AND tabel = 'gemeente_periode'")
    nl, en = database.query(sql).row(0)
    veld = dict(((k, (d_nl, d_en)) for k, d_nl, d_en in database.query(
        "SELECT kolom, omschrijving, omschrijving_en FROM meta.veld "
        "WHERE schema_naam = 'out' AND tabel = 'gemeente_periode'").iter_rows()))
    for lang, about, text, column_header, symbol_header in (
            ("nl", "Over deze tabel: ", nl, "omschrijving", "betekenis"),
            ("en", "About this table: ", en, "description", "meaning")):
        at = open_data(taal=lang)
        assert any(c.value.startswith(about + text) for c in at.caption), lang
        assert "(Engels)" not in " ".join(c.value for c in at.caption)
        columns = pl.from_pandas(next(d for d in at.dataframe
                                      if column_header in d.value.columns
                                      and "type" in d.value.columns).value)
        kolom, tabel = ("kolom", "tabel") if lang == "nl" else ("column", "table")
        mine = columns.filter((pl.col(tabel) == "gemeente_periode")
                              & (pl.col(kolom) == "clienten_per_1000"))[column_header].to_list()
        assert mine == [veld["clienten_per_1000"][0 if lang == "nl" else 1]], lang
        symbols = next(d for d in at.dataframe if symbol_header in d.value.columns).value
        assert symbols[symbol_header].iloc[0] == data.symbols_frame(lang)[symbol_header][0]
    assert data.symbols_frame("nl")["betekenis"][0].startswith("Onbekend")
    assert data.symbols_frame("en")["meaning"][0].startswith("Unknown")


# --- the query builder ----------------------------------------------------------------------

def test_only_catalog_tables_are_offered(database: Database) -> None:
    tables = data.tables(database)
    assert next(iter(tables)) == data.DEFAULT_TABLE
    listed = set(database.query(
        "SELECT schema_naam || '.' || tabel AS t FROM meta.tabel "
        "WHERE schema_naam IN ('out', 'core')")["t"].to_list())
    assert set(tables) == listed
    assert not any(t.startswith("meta.") for t in tables)


def test_values_are_bound_never_formatted_into_sql(database: Database) -> None:
    info = data.tables(database)[data.DEFAULT_TABLE]
    evil = "GM0363' OR 1=1 --"
    sql, params = data.select_sql(info, data.Filters(gemeenten=(evil,), perioden=("2023JJ00",)))
    assert evil not in sql and "OR 1=1" not in sql
    assert evil in params and sql.count("?") == len(params)
    assert data.count_rows(database, info, data.Filters(gemeenten=(evil,))) == 0
    with pytest.raises(data.UnknownColumn):
        data.select_sql(info, data.Filters(kolommen=('clienten" FROM meta.build --',)))


def test_filters_match_independent_sql(database: Database) -> None:
    info = data.tables(database)[data.DEFAULT_TABLE]
    filters = data.Filters(provincie="Utrecht", voorzieningen=(catalog.HBH,), jaar_van=2020,
                           werkwijze="uren", kolommen=("gemeente_code", "jaar", "clienten"))
    frame = data.fetch(database, info, filters)
    direct = database.query(
        "SELECT gemeente_code, jaar, clienten FROM out.gemeente_periode WHERE provincie_naam = "
        "'Utrecht' AND voorziening_code = ? AND jaar >= 2020 AND werkwijze_hbh = 'uren' "
        "ORDER BY gemeente_code, periode_code, voorziening_code", [catalog.HBH])
    assert frame.equals(direct)
    assert data.count_rows(database, info, filters) == direct.height
    assert data.applied_filters(info, filters) == {
        "tabel": "out.gemeente_periode", "provincie": "Utrecht", "voorziening": [catalog.HBH],
        "jaar_van": "2020", "werkwijze": "uren", "kolommen": ["gemeente_code", "jaar",
                                                             "clienten"]}


def test_filters_a_table_lacks_are_ignored(database: Database) -> None:
    info = data.tables(database)["core.herindeling"]
    filters = data.Filters(perioden=("2023JJ00",), provincie="Utrecht", werkwijze="uren")
    assert data.where_clause(info, filters) == ("", [])
    assert data.applied_filters(info, filters) == {"tabel": "core.herindeling"}
    assert set(data.stale_params(info)) >= {"periode", "provincie", "werkwijze", "gemeente"}


def test_columns_fit_only_names_of_the_table(database: Database) -> None:
    info = data.tables(database)["core.bevolking"]
    assert data.columns_fit(info, "jaar, gemeente_code")
    assert data.columns_fit(info, "")
    assert not data.columns_fit(info, "jaar,periode_code")


def test_year_bounds_and_heavy_columns(database: Database) -> None:
    assert data.year_bounds([2015, 2016, 2017], 2015, 2017) == (None, None, False)
    assert data.year_bounds([2015, 2016, 2017], 2017, 2016) == (2016, None, True)
    geo = data.tables(database)["core.gemeente_geometrie"]
    assert set(data.heavy_columns(geo)) == {"geojson", "wkb"}
    assert not set(data.default_columns(geo)) & data.HEAVY_COLUMNS


# --- exports --------------------------------------------------------------------------------

FILTERS = data.Filters(perioden=("2023JJ00", "2024JJ00"), voorzieningen=(catalog.HBH,),
                       kolommen=("gemeente_code", "periode_code", "clienten", "werkwijze_hbh",
                                 "status"))


@pytest.fixture(scope="module")
def expected(database: Database) -> pl.DataFrame:
    return database.query(
        "SELECT gemeente_code, periode_code, clienten, werkwijze_hbh, status "
        "FROM out.gemeente_periode WHERE periode_code IN ('2023JJ00', '2024JJ00') "
        "AND voorziening_code = ? ORDER BY gemeente_code, periode_code", [catalog.HBH])


def export(database: Database, fmt: str) -> bytes:
    return data.export_bytes(database, data.tables(database)[data.DEFAULT_TABLE], FILTERS, fmt)


def test_csv_export_has_the_filtered_rows_and_provenance(database: Database,
                                                         expected: pl.DataFrame) -> None:
    raw = export(database, "csv")
    frame = pl.read_csv(io.BytesIO(raw), comment_prefix="#", schema_overrides={
        "werkwijze_hbh": pl.String})
    assert frame.columns == [*expected.columns, "is_synthetisch"]
    assert frame.height == expected.height
    assert frame["gemeente_code"].to_list() == expected["gemeente_code"].to_list()
    assert frame["werkwijze_hbh"].null_count() == expected["werkwijze_hbh"].null_count()
    comments = raw.decode("utf-8-sig")
    assert "# is_synthetisch: true" in comments
    assert "periode=2023JJ00, 2024JJ00" in comments and f"voorziening={catalog.HBH}" in comments
    assert frame["is_synthetisch"].all()


def _xlsx(raw: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return {n: zf.read(n).decode() for n in zf.namelist()}


def test_xlsx_export_has_the_filtered_rows_and_provenance(database: Database,
                                                          expected: pl.DataFrame) -> None:
    parts = _xlsx(export(database, "xlsx"))
    rows = ElementTree.fromstring(parts["xl/worksheets/sheet1.xml"]).findall(
        "m:sheetData/m:row", NS)
    assert len(rows) == expected.height + 2  # notice + header + data
    assert len(rows[0].findall("m:c", NS)) == 1  # the notice: one cell
    assert len(rows[1].findall("m:c", NS)) == expected.width + 1  # + is_synthetisch
    assert exports.SYNTHETIC_BANNER in parts["xl/sharedStrings.xml"]
    assert "2023JJ00" in parts["xl/sharedStrings.xml"]  # the filter sheet
    assert re.search(r'name="is_synthetisch"><vt:bool>true</vt:bool>',
                     parts["docProps/custom.xml"])


def test_parquet_export_has_rows_metadata_and_the_query(database: Database,
                                                        expected: pl.DataFrame) -> None:
    table = pq.read_table(io.BytesIO(export(database, "parquet")))
    frame = pl.from_arrow(table)
    assert frame.drop("is_synthetisch").equals(expected)
    meta = json.loads(table.schema.metadata[exports.PARQUET_KEY.encode()])
    assert meta["is_synthetisch"] is True and meta["row_count"] == expected.height
    assert meta["filters"]["periode"] == ["2023JJ00", "2024JJ00"]
    sql, params = meta["query"]["sql"], meta["query"]["params"]
    assert database.query(sql, params).equals(expected)  # the recorded query re-runs


def test_zip_bundle_holds_data_metadata_and_readme(database: Database,
                                                   expected: pl.DataFrame) -> None:
    with zipfile.ZipFile(io.BytesIO(export(database, "zip"))) as zf:
        assert set(zf.namelist()) == {"README.md", "metadata.json", "data.csv", "data.parquet"}
        meta = json.loads(zf.read("metadata.json"))
        readme = zf.read("README.md").decode()
        csv = pl.read_csv(io.BytesIO(zf.read("data.csv")), comment_prefix="#")
    assert meta["row_count"] == expected.height == csv.height
    assert meta["is_synthetisch"] is True and meta["sources"] and meta["symbols"]
    for needle in ("SYNTHETISCHE DEMODATA", "## Bronnen", "Licentie", "## Tekens van CBS",
                   "## Kanttekeningen", "## Zo citeert u"):
        assert needle in readme, needle


def test_export_names_and_excel_limit(database: Database) -> None:
    info = data.tables(database)[data.DEFAULT_TABLE]
    name = data.export_name(info, FILTERS, True, "csv")
    assert name == (f"wmo-atlas_out-gemeente-periode_2023JJ00-2024JJ00_{catalog.HBH}"
                    "_SYNTHETISCH.csv")
    chosen = data.Filters(provincie="Noord-Holland", gemeenten=("GM0363",), jaar_van=2019,
                          jaar_tot=2021, voorzieningen=(catalog.HBH,))
    assert data.export_name(info, chosen, False, "xlsx") == (
        f"wmo-atlas_out-gemeente-periode_noord-holland_GM0363_jaren-2019-2021_{catalog.HBH}.xlsx")
    # Notice row + header row + data must fit in Excel's 1 048 576 rows.
    assert data.xlsx_max_rows() == exports.EXCEL_MAX_ROWS - 2
    assert data.xlsx_fits(data.xlsx_max_rows())
    assert not data.xlsx_fits(data.xlsx_max_rows() + 1)


def test_whole_database_download(database: Database, demo_db: Path) -> None:
    info = catalog.build_info(database)
    built = database.query("SELECT strftime(built_at, '%Y-%m-%d') FROM meta.build").item()
    assert data.duckdb_filename(info) == f"wmo-atlas-{built}.duckdb"
    assert data.file_reader(database.path)() == demo_db.read_bytes()
    assert "read_only=True" in data.open_snippet("x.duckdb")


def test_downloads_sentence_announces_the_flag_column_only_when_it_is_added() -> None:
    with_flag = data.downloads_intro(141_588, ["gemeente_code", "is_synthetisch"], "nl")
    assert "plus een kolom is_synthetisch" not in with_flag and "2 kolommen" in with_flag
    without = data.downloads_intro(1, ["gemeente_code"], "nl")
    assert "plus een kolom is_synthetisch" in without
    assert "1 rij " in without and "1 kolom " in without
    assert "2 rows" in data.downloads_intro(2, ["a"], "en")


def test_data_page_sentence_for_the_default_table(make_app) -> None:
    at = make_app("data")
    assert not at.exception
    captions = [c.value for c in at.caption if "Precies de" in c.value]
    assert captions and "plus een kolom is_synthetisch" not in captions[0]



@pytest.mark.parametrize("tabel", ["core.wmo_uitgaven", "core.wmo_stroom",
                                   "core.wmo_beeindiging"])
def test_the_spending_and_flow_tables_are_offered_with_their_rows(
        open_data: OpenPage, database: Database, tabel: str) -> None:
    assert tabel in data.tables(database)
    at = open_data(tabel=tabel)
    assert not at.exception
    assert rows_total(at) == count(database, f"SELECT count(*) FROM {tabel}") > 0
    assert preview(at).columns[:2] == [c.name for c in data.tables(database)[tabel].columns][:2]
    # Provenance: every CBS table behind it is listed in meta.bron.
    tables = database.query(f"SELECT DISTINCT bron_tabel FROM {tabel}")["bron_tabel"].to_list()
    ids = set(database.query("SELECT bron_id FROM meta.bron")["bron_id"].to_list())
    assert tables and {f"cbs-{t}" for t in tables} <= ids


# --- province-limited gemeenten, reasons for 0 rows, mixed periods, language -----------------

def _option_codes(at: AppTest) -> list[str]:
    options = at.multiselect(key="data_gemeenten").options
    return [re.search(r"\((GM\d{4})", o).group(1) for o in options]


def test_gemeente_options_are_limited_to_the_chosen_province(open_data: OpenPage,
                                                             database: Database) -> None:
    everywhere = _option_codes(open_data())
    at = open_data(provincie="Utrecht")
    codes = _option_codes(at)
    expected = database.query("SELECT gemeente_code FROM core.gemeente WHERE provincie_naam = "
                              "'Utrecht'")["gemeente_code"].to_list()
    assert sorted(codes) == sorted(expected) and 0 < len(codes) < len(everywhere)
    assert "GM0363" in everywhere and "GM0363" not in codes


def test_link_with_a_gemeente_outside_the_province_says_so_and_keeps_rows(
        open_data: OpenPage, database: Database) -> None:
    at = open_data(provincie="Utrecht", gemeenten="GM0363,GM0344")
    warning = next(w.value for w in at.warning if "GM0363" in w.value)
    assert "Amsterdam (GM0363) ligt niet in Utrecht" in warning
    assert at.multiselect(key="data_gemeenten").value == ["GM0344"]
    assert at.query_params["gemeenten"] == "GM0344"
    assert rows_total(at) == count(database, "SELECT count(*) FROM out.gemeente_periode "
                                             "WHERE gemeente_code = 'GM0344'") > 0
    # Only gemeenten outside: the province alone remains, never a silent 0.
    at = open_data(provincie="Utrecht", gemeenten="GM0363", taal="en")
    assert any("Amsterdam (GM0363) is not in Utrecht" in w.value for w in at.warning)
    assert "gemeenten" not in at.query_params
    assert rows_total(at) == count(database, "SELECT count(*) FROM out.gemeente_periode "
                                             "WHERE provincie_naam = 'Utrecht'") > 0


def test_choosing_a_province_after_a_gemeente_drops_it_with_a_message(
        open_data: OpenPage) -> None:
    at = open_data(gemeenten="GM0363")
    assert at.multiselect(key="data_gemeenten").value == ["GM0363"]
    at.selectbox(key="data_provincie").select("Utrecht").run()
    assert not at.exception
    assert any("GM0363" in w.value and "Utrecht" in w.value for w in at.warning)
    assert at.multiselect(key="data_gemeenten").value == []
    assert rows_total(at) > 0
    at.run()  # said once, not on every rerun after
    assert not any("GM0363" in w.value for w in at.warning)


def test_zero_rows_name_the_filter_that_excludes_everything(open_data: OpenPage,
                                                            database: Database) -> None:
    # A dissolved code exists in core.gemeente but not in the out table.
    dissolved = database.query("SELECT gemeente_code FROM core.gemeente WHERE geldig_tot IS "
                               "NOT NULL ORDER BY 1 LIMIT 1").item()
    at = open_data(gemeenten=dissolved, periode="2024JJ00")
    assert rows_total(at) == 0
    message = " ".join(i.value for i in at.info)
    assert f"het filter Gemeenten ({dissolved}) sluit op zich al alles uit" in message
    assert "Periode" not in message  # 2024JJ00 alone has rows


def test_zero_rows_from_a_combination_say_what_each_filter_leaves(open_data: OpenPage,
                                                                  database: Database) -> None:
    code = database.query(
        "SELECT gemeente_code FROM out.gemeente_periode GROUP BY 1 HAVING "
        "bool_and(werkwijze_hbh = 'uren') ORDER BY 1 LIMIT 1").item()
    at = open_data(gemeenten=code, werkwijze="resultaatgericht")
    assert rows_total(at) == 0
    message = " ".join(i.value for i in at.info)
    assert "samen sluiten ze alles uit" in message
    alone_gemeente = count(database, "SELECT count(*) FROM out.gemeente_periode "
                                     "WHERE gemeente_code = ?", [code])
    alone_werkwijze = count(database, "SELECT count(*) FROM out.gemeente_periode "
                                      "WHERE werkwijze_hbh = 'resultaatgericht'")
    assert (f"Zonder het filter Werkwijze (resultaatgericht): "
            f"{data.format_int(alone_gemeente, 'nl')} rijen.") in message
    assert (f"Zonder het filter Gemeenten ({code}): "
            f"{data.format_int(alone_werkwijze, 'nl')} rijen.") in message


def test_empty_message_rules() -> None:
    info = data.TableInfo("out", "t", "", (), (data.Column("gemeente_code", "", "", None),
                                             data.Column("jaar", "", "", None)))
    filters = data.Filters(gemeenten=("GM0001",), jaar_van=2020)
    assert data.active_filters(info, filters) == ["gemeenten", "jaar"]
    assert data.empty_message(data.EmptyWhy((), (), ()), info, filters, "nl") == \
        "Deze tabel heeft geen rijen."
    both = data.empty_message(data.EmptyWhy(("gemeenten", "jaar"), (), ("gemeenten", "jaar")),
                              info, filters, "en")
    assert both.startswith("No rows: the Municipalities filter (GM0001) and the Year filter "
                           "(2020–)")
    none = data.empty_message(data.EmptyWhy((), (), ("gemeenten", "jaar")), info, filters, "nl")
    assert "pas het filter Gemeenten (GM0001) en het filter Jaar (2020–) samen" in none
    one = data.empty_message(data.EmptyWhy((), (("jaar", 1),), ("gemeenten", "jaar")), info,
                             filters, "nl")
    assert "Zonder het filter Jaar (2020–): 1 rij." in one
    # A value from a URL is shown as text, never as markdown.
    evil = data.Filters(gemeenten=("[x](https://evil.example)",))
    text = data.empty_message(data.EmptyWhy(("gemeenten",), (), ("gemeenten",)), info, evil, "nl")
    assert "[x](" not in text and "\\[x\\]" in text


def test_mixed_periods_warned_on_the_page_exactly_when_mixed(open_data: OpenPage) -> None:
    def warned(at: AppTest) -> bool:
        return any("halfjaren én hele jaren" in w.value for w in at.warning)

    assert warned(open_data())  # every period: both kinds
    assert warned(open_data(jaar_van="2023", jaar_tot="2023"))  # one year, three periods
    assert not warned(open_data(periode="2023JJ00,2024JJ00"))
    assert not warned(open_data(periode="2024HJ01,2024HJ02"))
    assert warned(open_data(periode="2024JJ00,2024HJ01"))
    assert not warned(open_data(tabel="core.wmo_uitgaven"))  # whole years only


def test_mixed_periods_in_downloads_even_without_period_columns(database: Database) -> None:
    info = data.tables(database)[data.DEFAULT_TABLE]
    chosen = data.Filters(jaar_van=2023, jaar_tot=2023, kolommen=("gemeente_code", "clienten"))
    assert data.mixes_periods(database, info, chosen)
    raw = data.export_bytes(database, info, chosen, "csv")
    assert "# LET OP: deze selectie bevat halfjaren én hele jaren" in raw.decode("utf-8-sig")
    whole = dataclasses_replace(chosen, perioden=("2023JJ00",))
    assert not data.mixes_periods(database, info, whole)
    assert "halfjaren én hele jaren" not in data.export_bytes(database, info, whole, "csv"
                                                              ).decode("utf-8-sig")


def dataclasses_replace(filters: data.Filters, **changes: object) -> data.Filters:
    return data.Filters(**{**filters.__dict__, **changes})


def test_english_page_exports_are_english(database: Database) -> None:
    info = data.tables(database)[data.DEFAULT_TABLE]
    raw = data.export_bytes(database, info, FILTERS, "zip", "en")
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        readme = zf.read("README.md").decode()
        csv = zf.read("data.csv").decode("utf-8-sig")
    english = database.query("SELECT omschrijving_en FROM meta.veld WHERE schema_naam = 'out' "
                             "AND tabel = 'gemeente_periode' AND kolom = 'clienten'").item()
    assert english in readme and "## Caveats" in readme and "Kanttekeningen" not in readme
    assert "# Caveat: Observational data" in csv and "Waarnemingsgegevens" not in csv
    assert data.caveats(catalog.build_info(database), "en")[0].startswith("SYNTHETIC DEMO DATA")


def test_page_texts_follow_the_language_and_one_date_style(open_data: OpenPage,
                                                           database: Database) -> None:
    info = catalog.build_info(database)
    at = open_data(taal="en")
    citation = next(c.value for c in at.code if "wmo-atlas" in c.value and "Source" in c.value)
    assert fmt.date(info.built_at, "en") in citation and info.built_at[:10] not in citation
    assert any("Observational data" in m.value for m in at.markdown)
    at = open_data()
    citation = next(c.value for c in at.code if "bewerking wmo-atlas" in c.value)
    assert fmt.date(info.built_at, "nl") in citation


def test_one_row_is_one_rij(open_data: OpenPage) -> None:
    at = open_data(gemeenten="GM0344", periode="2024JJ00", voorziening=catalog.HBH)
    assert rows_total(at) == 1
    assert any(c.value.startswith("De enige rij wordt getoond.") for c in at.caption)
    assert any("Precies de 1 rij " in c.value for c in at.caption)
