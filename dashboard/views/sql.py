"""The SQL page without Streamlit: run one read-only query, explain the result, export it.

Every guardrail lives in `dashboard.db` (read-only attach, external access and extensions off,
configuration locked, time and memory limits) and `dashboard.sql_console.validate` (exactly one
SELECT/WITH statement); this module only shapes what the page shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import polars as pl

from dashboard import exports, sql_console
from dashboard.db import Database
from dashboard.sql_console import ConsoleResult

Lang = Literal["nl", "en"]
MAX_ROWS = sql_console.DEFAULT_MAX_ROWS
EXPORT_TABLE = "sql-console"
EXPORT_TITLE = "SQL-query"

TEXTS: dict[str, dict[str, str]] = {
    "title": {"nl": "SQL-console", "en": "SQL console"},
    "intro": {
        "nl": "Voor onderzoekers: één SELECT- of WITH-query op de database, alleen-lezen. "
              "Bestanden, netwerk en extensies zijn uit, de instellingen zijn vergrendeld, een "
              "query mag ongeveer {seconds:g} s duren en beperkt geheugen gebruiken. Getoond "
              "worden hoogstens {rows} rijen; het volledige resultaat kunt u downloaden.",
        "en": "For researchers: one SELECT or WITH query on the database, read-only. Files, "
              "network and extensions are off, the settings are locked, a query may take about "
              "{seconds:g} s and limited memory. At most {rows} rows are shown; you can "
              "download the full result.",
    },
    "sql": {"nl": "SQL", "en": "SQL"},
    "run": {"nl": "Uitvoeren", "en": "Run"},
    "voorbeeld": {"nl": "Voorbeeldquery", "en": "Example query"},
    "voorbeeld_none": {"nl": "— kies een voorbeeld —", "en": "— choose an example —"},
    "placeholder": {"nl": "SELECT … FROM out.gemeente_periode …",
                    "en": "SELECT … FROM out.gemeente_periode …"},
    "not_run": {
        "nl": "Typ een query of kies een voorbeeld en klik op Uitvoeren.",
        "en": "Type a query or choose an example and click Run.",
    },
    "result_rows": {
        "nl": "{rows} rijen · {cols} kolommen · {ms} ms",
        "en": "{rows} rows · {cols} columns · {ms} ms",
    },
    "edited": {
        "nl": "Het resultaat hieronder hoort bij de vorige query; klik op Uitvoeren voor de "
              "huidige tekst.",
        "en": "The result below belongs to the previous query; click Run for the current text.",
    },
    "download_csv": {"nl": "Volledig resultaat (CSV)", "en": "Full result (CSV)"},
    "download_parquet": {"nl": "Volledig resultaat (Parquet)", "en": "Full result (Parquet)"},
    "download_note": {
        "nl": "De download voert de query opnieuw uit zonder rijlimiet (zelfde tijd- en "
              "geheugengrens) en bevat bronnen, kanttekeningen, tekenverklaring en een kolom "
              "is_synthetisch.",
        "en": "The download re-runs the query without a row limit (same time and memory "
              "limits) and carries sources, caveats, symbol legend and an is_synthetisch "
              "column.",
    },
    "null_note": {
        "nl": "Een lege cel (NULL) is onbekend of geheim, nooit 0.",
        "en": "An empty cell (NULL) is unknown or suppressed, never 0.",
    },
    "schema": {"nl": "Schema", "en": "Schema"},
    "schema_table": {"nl": "Tabel", "en": "Table"},
    "schema_intro": {
        "nl": "Tabellen in core (zoals gepubliceerd), out (geharmoniseerd) en meta (bronnen, "
              "woordenboek, build). Omschrijvingen in het Engels.",
        "en": "Tables in core (as published), out (harmonised) and meta (sources, dictionary, "
              "build).",
    },
    "insert_select": {"nl": "SELECT op deze tabel invoegen",
                      "en": "Insert a SELECT on this table"},
    "key": {"nl": "Sleutel: {cols}", "en": "Key: {cols}"},
}


def run(db: Database, sql: str, lang: Lang = "nl") -> ConsoleResult:
    """One guarded run; never raises for anything typed (see sql_console.run_readonly)."""
    return sql_console.run_readonly(db, sql, max_rows=MAX_ROWS, lang=lang)


def examples() -> dict[str, str]:
    """Title → SQL of the example queries, in the console's order."""
    return dict(sql_console.EXAMPLES)


def example_for(title: str) -> str | None:
    return examples().get(title)


def select_template(table: str) -> str:
    """A starter query for a schema-browser table; `table` comes from the catalog."""
    schema, _, name = table.partition(".")
    return f"SELECT *\nFROM {schema}.{name}\nLIMIT 100"


def error_markdown(error: str) -> str:
    """The explanation, then DuckDB's own words verbatim in a code block (they can hold
    markdown characters and caret lines that point into the query)."""
    text, sep, detail = error.partition("\nDuckDB: ")
    if not sep:
        return text
    fence = "````" if "```" in detail else "```"
    return f"{text}\n\n{fence}\nDuckDB: {detail}\n{fence}"


def summary(result: ConsoleResult, lang: Lang) -> str:
    """'N rows · C columns · T ms': N is the full count when known, else the rows shown."""
    rows = result.total_rows if result.total_rows is not None else result.frame.height
    return TEXTS["result_rows"][lang].format(rows=sql_console.format_int(rows, lang),
                                             cols=result.frame.width,
                                             ms=round(result.elapsed_ms))


def schema(db: Database) -> pl.DataFrame:
    """schema, table, column, type, description for every column (memoised per build)."""
    return db.memo("sql_schema", lambda: sql_console.schema_browser(db))


def schema_tables(db: Database) -> list[str]:
    frame = schema(db)
    return db.memo("sql_schema_tables", lambda: list(dict.fromkeys(
        f"{s}.{t}" for s, t in frame.select("schema", "table").iter_rows())))


def table_columns(db: Database, table: str) -> pl.DataFrame:
    schema_name, _, name = table.partition(".")
    return schema(db).filter((pl.col("schema") == schema_name) & (pl.col("table") == name)
                             ).select("column", "type", "description")


def table_description(db: Database, table: str) -> tuple[str, str | None]:
    """(description, key) from meta.tabel; empty when the table is not documented."""
    docs = db.memo("sql_table_docs", lambda: {
        f"{s}.{t}": (d or "", k) for s, t, d, k in db.query(
            "SELECT schema_naam, tabel, omschrijving, sleutel FROM meta.tabel").iter_rows()})
    return docs.get(table, ("", None))


def export_context(db: Database, sql: str, frame: pl.DataFrame) -> exports.ExportContext:
    """Provenance for a console download: the query itself is the filter."""
    return exports.context_from_db(db, EXPORT_TITLE, {"sql": " ".join(sql.split())},
                                   columns=frame.columns, table=EXPORT_TABLE)


def export_bytes(db: Database, result: ConsoleResult, sql: str, fmt: str) -> bytes:
    if result.full_result is None:
        raise ValueError("no result to export")
    frame = result.full_result()
    writer = exports.to_csv if fmt == "csv" else exports.to_parquet
    return writer(frame, export_context(db, sql, frame))


def exporter(db: Database, result: ConsoleResult, sql: str, fmt: str) -> Callable[[], bytes]:
    """Deferred: the full result is only computed when someone downloads it."""
    return lambda: export_bytes(db, result, sql, fmt)


def export_name(is_synthetisch: bool, fmt: str) -> str:
    return exports.export_filename(EXPORT_TITLE, {}, is_synthetisch, fmt)
