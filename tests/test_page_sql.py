"""SQL page: the console in AppTest (refusals shown as messages, truncation, deep links,
schema browser) and its export functions."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import exports, sql_console, sql_sandbox
from dashboard.db import Database
from dashboard.safe import md_escape
from dashboard.views import sql as view
from tests.dashboard_fixtures import AppFactory, opener

OpenPage = Callable[..., AppTest]
# A cross join of 4·10^10 rows: only the time limit can end it.
RUNAWAY = "SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b"


@pytest.fixture
def open_sql(make_app: AppFactory) -> OpenPage:
    return opener(make_app, "sql")


@pytest.fixture(scope="module")
def database(demo_db: Path) -> Database:
    return Database(demo_db)


def run_query(at: AppTest, sql: str) -> AppTest:
    at.text_area(key="sql_query").input(sql)
    at.button(key="sql_run").click().run()
    assert not at.exception, at.exception
    return at


def result_table(at: AppTest) -> pl.DataFrame:
    # The console is the left column, the schema browser the right one.
    return pl.from_pandas(at.columns[0].dataframe[0].value)


def has_result(at: AppTest) -> bool:
    return len(at.columns[0].dataframe) > 0


def test_renders_console_with_sql_field_and_run_button(open_sql: OpenPage) -> None:
    at = open_sql()
    assert at.title[0].value == "SQL-console"
    assert at.text_area(key="sql_query").label == "SQL"
    assert at.button(key="sql_run").label == "Uitvoeren"
    assert not has_result(at) and not at.error


def test_english_labels(open_sql: OpenPage) -> None:
    at = open_sql(taal="en")
    assert at.button(key="sql_run").label == "Run"
    assert at.text_area(key="sql_query").label == "SQL"
    assert at.title[0].value == "SQL console"


def test_running_a_query_shows_its_result_and_puts_it_in_the_url(open_sql: OpenPage,
                                                                 database: Database) -> None:
    at = open_sql()
    sql = ("SELECT provincie_naam, count(*) AS n FROM out.gemeente_periode "
           "GROUP BY ALL ORDER BY provincie_naam")
    run_query(at, sql)
    assert result_table(at).equals(database.query(sql), null_equal=True)
    assert at.query_params["q"] == sql
    assert not at.error
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["Volledig resultaat (CSV)",
                                                "Volledig resultaat (Parquet)"]
    assert all(b.proto.ignore_rerun and b.proto.deferred_file_id for b in buttons)


def test_example_query_fills_the_editor_and_runs(open_sql: OpenPage, database: Database) -> None:
    at = open_sql()
    example = sql_console.EXAMPLES[4]  # the sources of this database
    title, sql = example.title["nl"], example.sql("nl")
    at.selectbox(key="sql_voorbeeld").select(title).run()
    assert at.text_area(key="sql_query").value == sql
    assert at.selectbox(key="sql_voorbeeld").value == ""  # can be chosen again
    at.button(key="sql_run").click().run()
    assert result_table(at).height == database.query(sql).height > 0


def test_deep_link_shows_the_query_and_runs_it_only_after_a_click(open_sql: OpenPage,
                                                                  database: Database) -> None:
    sql = "SELECT bron_id, licentie FROM meta.bron ORDER BY bron_id"
    at = open_sql(q=sql, tabel="meta.bron")
    assert at.text_area(key="sql_query").value == sql
    assert at.selectbox(key="sql_tabel").value == "meta.bron"
    # Opening the link started no work: no result, no download, the link itself kept.
    assert not has_result(at) and not at.get("download_button")
    assert [i.value for i in at.info] == [view.TEXTS["link_pending"]["nl"]]
    assert at.query_params["q"] == sql
    at.run()  # a rerun (any widget) does not run it either
    assert not has_result(at)
    at.button(key="sql_run").click().run()
    assert result_table(at)["bron_id"].to_list() == database.query(sql)["bron_id"].to_list()
    assert not at.info


def test_deep_link_to_a_runaway_query_costs_nothing_until_clicked(open_sql: OpenPage) -> None:
    before = sql_sandbox.default_pool().spawned
    at = open_sql(q=RUNAWAY)
    assert at.text_area(key="sql_query").value == RUNAWAY
    assert not at.error and not has_result(at)
    # Rendering may start the warm worker(s), but no job: at most the warm count was added.
    assert sql_sandbox.default_pool().spawned - before <= view.limits().warm_workers


def test_coming_back_to_the_page_restores_query_and_link(open_sql: OpenPage) -> None:
    sql = "SELECT count(*) AS n FROM core.gemeente"
    at = run_query(open_sql(), sql)
    at.switch_page("app_pages/over.py").run()
    for key in list(at.query_params):  # a sidebar link drops the URL parameters
        del at.query_params[key]
    at.switch_page("app_pages/sql.py").run()
    assert not at.exception
    assert at.text_area(key="sql_query").value == sql
    assert at.query_params["q"] == sql
    assert result_table(at).height == 1


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT * FROM read_csv('/etc/passwd')", "Geen toegang: bestanden, netwerk en extensies"),
    ("COPY (SELECT 1) TO '/tmp/wmo-atlas-helper.csv'", "Geweigerd: COPY"),
    ("ATTACH '/tmp/wmo-atlas-helper.duckdb' AS x", "Geweigerd: ATTACH"),
    ("INSTALL spatial", "Geweigerd: INSTALL"),
    ("SELECT 1; SELECT 2", "Geweigerd: 2 statements"),
    (RUNAWAY, "De query duurde te lang (meer dan {timeout:g} s) en is gestopt"),
    ("SELECT current_setting('temp_directory')", "Geweigerd: current_setting is in de console"),
    ("SELECT * FROM duckdb_databases()", "Geweigerd: duckdb_databases is in de console"),
])
def test_refusals_are_shown_as_clear_messages(open_sql: OpenPage, sql: str,
                                              message: str) -> None:
    at = run_query(open_sql(), sql)
    errors = [e.value for e in at.error]
    expected = md_escape(message.format(timeout=view.limits().timeout_s), limit=2000)
    assert len(errors) == 1 and expected in errors[0], errors
    assert not has_result(at) and not at.get("download_button")
    assert not Path("/tmp/wmo-atlas-helper.csv").exists()


def test_refusal_in_english(open_sql: OpenPage) -> None:
    at = run_query(open_sql(taal="en"), "COPY (SELECT 1) TO '/tmp/wmo-atlas-helper.csv'")
    assert md_escape("Refused: COPY") in at.error[0].value


def test_large_result_is_truncated_with_an_honest_notice(open_sql: OpenPage,
                                                         database: Database) -> None:
    at = run_query(open_sql(), "SELECT * FROM out.gemeente_periode")
    total = int(database.query("SELECT count(*) FROM out.gemeente_periode").item())
    assert total > view.limits().max_rows
    assert result_table(at).height == view.limits().max_rows
    notice = f"{total:,}".replace(",", " ") + " rijen; getoond: de eerste 1 000"
    assert any(notice in w.value for w in at.warning), [w.value for w in at.warning]


def test_schema_browser_lists_columns_and_inserts_a_select(open_sql: OpenPage,
                                                           database: Database) -> None:
    at = open_sql()
    at.selectbox(key="sql_tabel").select("core.herindeling").run()
    assert at.query_params["tabel"] == "core.herindeling"
    columns = at.columns[1].dataframe[0]
    expected = database.query("SELECT column_name FROM duckdb_columns() WHERE schema_name = "
                              "'core' AND table_name = 'herindeling' ORDER BY column_index")
    assert list(columns.value.columns) == ["kolom", "type", "omschrijving"]
    assert list(columns.value["kolom"]) == expected["column_name"].to_list()
    dutch = database.query("SELECT kolom, omschrijving FROM meta.veld WHERE schema_naam = 'core' "
                           "AND tabel = 'herindeling'")
    assert dict(zip(columns.value["kolom"], columns.value["omschrijving"], strict=True)) == \
        dict(dutch.iter_rows())
    at.button(key="sql_insert").click().run()
    assert at.text_area(key="sql_query").value == view.select_template("core.herindeling")


def test_schema_browser_and_examples_in_english(open_sql: OpenPage, database: Database) -> None:
    at = open_sql(taal="en", tabel="core.herindeling")
    columns = at.columns[1].dataframe[0].value
    assert list(columns.columns) == ["column", "type", "description"]
    english = database.query("SELECT kolom, omschrijving_en FROM meta.veld "
                             "WHERE schema_naam = 'core' AND tabel = 'herindeling'")
    assert dict(zip(columns["column"], columns["description"], strict=True)) == \
        dict(english.iter_rows())
    table_en = database.query("SELECT omschrijving_en FROM meta.tabel "
                              "WHERE schema_naam = 'core' AND tabel = 'herindeling'").item()
    assert any(c.value.startswith(table_en) for c in at.columns[1].caption)
    example = sql_console.EXAMPLES[0]
    assert example.title["en"] in at.selectbox(key="sql_voorbeeld").options
    at.selectbox(key="sql_voorbeeld").select(example.title["en"]).run()
    query = at.text_area(key="sql_query").value
    assert query == example.sql("en") and query.startswith("-- " + example.note["en"])


# --- view functions -------------------------------------------------------------------------

def test_full_result_exports_carry_every_row_and_provenance(database: Database) -> None:
    sql = "SELECT gemeente_code, periode_code, clienten FROM out.gemeente_periode"
    result = view.run(database, sql)
    assert result.truncated and result.error is None
    total = int(database.query("SELECT count(*) FROM out.gemeente_periode").item())
    csv_bytes = view.export_bytes(database, result, sql, "csv")
    frame = pl.read_csv(io.BytesIO(csv_bytes), comment_prefix="#")
    assert frame.height == total and frame.columns == ["gemeente_code", "periode_code",
                                                       "clienten", "is_synthetisch"]
    assert "# is_synthetisch: true" in csv_bytes.decode("utf-8-sig")
    table = pq.read_table(io.BytesIO(view.export_bytes(database, result, sql, "parquet")))
    meta = json.loads(table.schema.metadata[exports.PARQUET_KEY.encode()])
    assert table.num_rows == total and meta["row_count"] == total
    assert meta["is_synthetisch"] is True and meta["filters"]["sql"] == sql
    assert view.export_name(True, "csv") == "wmo-atlas_sql-query_SYNTHETISCH.csv"


def test_refused_query_cannot_be_exported(database: Database) -> None:
    result = view.run(database, "INSTALL spatial")
    with pytest.raises(ValueError):
        view.export_bytes(database, result, "INSTALL spatial", "csv")


def test_error_markdown_keeps_duckdb_text_verbatim() -> None:
    text = view.error_markdown("Geweigerd.\nDuckDB: Parser Error: near `*`\nLINE 1: ^")
    assert text.startswith("Geweigerd.\n\n```\nDuckDB: Parser Error: near `*`\nLINE 1: ^")
    assert text.endswith("LINE 1: ^\n```")
    assert view.error_markdown("Lege invoer") == "Lege invoer"


def test_error_markdown_escapes_our_part_and_outlasts_any_fence() -> None:
    # A column name from the query can sit in our sentence; it must not become a link.
    text = view.error_markdown("Kolom [x](https://evil.example) te groot\nDuckDB: a ```` b")
    ours = text.split("\n\n")[0]
    assert ours == "Kolom \\[x\\](https\\://evil.example) te groot"
    assert text.endswith("\n`````") and "\n`````\nDuckDB: a ```` b" in text


def test_schema_helpers_match_the_catalog(database: Database) -> None:
    tables = view.schema_tables(database)
    expected = database.query(
        "SELECT DISTINCT schema_name || '.' || table_name AS t FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name IN ('core', 'out', 'meta')")
    assert set(tables) == set(expected["t"].to_list())
    description, key = view.table_description(database, "out.gemeente_periode")
    assert description and key == "gemeente_code, periode_code, voorziening_code"


TYPE_BATTERY = ("SELECT INTERVAL 1 DAY AS i, union_value(k := 1) AS u, 'ab'::BLOB AS b, "
                "'101'::BIT AS bit, {'a': 1} AS s, [1, 2]::INTEGER[2] AS arr, MAP {'a': 1} AS m, "
                "1::HUGEINT AS h, 1::VARINT AS v, DATE '5877642-06-25' AS d, "
                "1.5::DECIMAL(38, 10) AS dec, now() AS ts")


@pytest.mark.parametrize("sql", ["SELECT INTERVAL 1 DAY", "SELECT union_value(k := 1)",
                                 TYPE_BATTERY])
def test_every_type_renders_without_a_traceback(open_sql: OpenPage, sql: str) -> None:
    at = open_sql(q=sql)
    at.button(key="sql_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    table = result_table(at)
    assert table.height == 1
    captions = [c.value for c in at.columns[0].caption]
    assert any(c.startswith("Als tekst getoond") for c in captions), captions
    assert at.get("download_button")


def test_no_traceback_or_path_on_the_page_for_a_failing_query(open_sql: OpenPage,
                                                             demo_db: Path) -> None:
    # DuckDB may read the attached file itself (it is public anyway), and names it in the
    # error: the page shows its name only.
    at = run_query(open_sql(), f"SELECT * FROM read_csv('{demo_db}')")
    shown = " ".join(e.value for e in at.error)
    assert len(at.error) == 1 and f"…/{demo_db.name}" in shown, shown
    assert str(demo_db.parent) not in shown and "Traceback" not in shown


def test_result_notes_escape_column_names_from_the_query() -> None:
    result = sql_console.ConsoleResult(frame=pl.DataFrame({"x": [1]}), total_rows=1,
                                       truncated=False, elapsed_ms=1.0, error=None,
                                       converted=("[klik](https://evil.example)",))
    (note,) = view.result_notes(result, "nl")
    assert "[klik](https" not in note and "\\[klik\\]" in note


def test_a_result_longer_than_the_download_limit_is_announced(open_sql: OpenPage) -> None:
    limit = view.limits().max_download_rows
    at = run_query(open_sql(), f"SELECT * FROM range({limit * 2})")
    total = sql_console.format_int(limit * 2, "nl")
    shown = sql_console.format_int(limit, "nl")
    warnings = [w.value for w in at.warning]
    assert (f"De download bevat de eerste {shown} van {total} rijen (limiet van de console)."
            in warnings), warnings
    assert at.get("download_button")
