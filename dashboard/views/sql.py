"""The SQL page without Streamlit: run one read-only query, explain the result, export it.

Every guardrail lives elsewhere: the worker process and its OS limits (`dashboard.sql_sandbox`,
`dashboard.sql_worker`, settings in `dashboard.sql_limits`), the locked read-only connection
(`dashboard.db`) and the statement checks (`dashboard.sql_console.validate`). This module
only shapes what the page shows. Queries and downloads both run in a worker; the page never
runs researcher SQL in the server process.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

import polars as pl

from dashboard import exports, sql_console, sql_sandbox
from dashboard.db import Database
from dashboard.i18n import section, tr
from dashboard.safe import md_escape
from dashboard.sql_console import ConsoleResult
from dashboard.sql_limits import SETTINGS, Limits, human_bytes

Lang = Literal["nl", "en"]
EXPORT_TABLE = "sql-console"
EXPORT_TITLE = "SQL-query"

TEXTS = section("sql")


# What each limit is called on the page (the English descriptions live in sql_limits).
LIMIT_LABELS = section("sql_limits")


def limits() -> Limits:
    """The limits the server's console runs under (environment overrides included)."""
    return sql_sandbox.default_pool().limits


def prewarm(db: Database) -> None:
    """Start the idle worker(s) in the background with the database open, so the first
    click need not wait."""
    sql_sandbox.default_pool().prewarm(db.path)


def limit_value(field: str, value: float, lang: Lang) -> str:
    setting = next(s for s in SETTINGS if s.field == field)
    if setting.unit == "bytes":
        return human_bytes(value)
    number = (sql_console.format_int(int(value), lang) if float(value).is_integer()
              else f"{value:g}")
    unit = {"s": "s", "MB": "MB"}.get(setting.unit, "")
    return f"{number} {unit}".strip()


def limits_table(current: Limits, lang: Lang) -> pl.DataFrame:
    """Limit, value and environment variable for the page's help text."""
    return pl.DataFrame({
        TEXTS["limit_col"][lang]: [LIMIT_LABELS[s.field][lang] for s in SETTINGS],
        TEXTS["value_col"][lang]: [limit_value(s.field, getattr(current, s.field), lang)
                                   for s in SETTINGS],
        TEXTS["env_col"][lang]: [s.env for s in SETTINGS],
    })


def intro(current: Limits, lang: Lang) -> str:
    return TEXTS["intro"][lang].format(
        seconds=current.timeout_s, rows=sql_console.format_int(current.max_rows, lang),
        download_rows=sql_console.format_int(current.max_download_rows, lang))


def download_note(current: Limits, lang: Lang) -> str:
    return TEXTS["download_note"][lang].format(
        rows=sql_console.format_int(current.max_download_rows, lang),
        bytes=human_bytes(current.max_download_bytes), seconds=current.download_timeout_s)


def result_notes(result: ConsoleResult, lang: Lang) -> list[str]:
    """Captions for what the worker changed: columns shown as text, paths replaced. Column
    names come from the query, and a caption renders markdown: they are escaped."""
    notes = []
    if result.converted:
        columns = md_escape(", ".join(result.converted), limit=500)
        notes.append(sql_console.message("converted", lang, columns=columns))
    if result.redacted_cells:
        notes.append(sql_console.message(
            "redacted", lang, n=sql_console.format_int(result.redacted_cells, lang)))
    return notes


def download_warning(result: ConsoleResult, lang: Lang) -> str | None:
    return sql_console.download_notice(result, limits().max_download_rows, lang)


def run(db: Database, sql: str, lang: Lang = "nl") -> ConsoleResult:
    """One sandboxed run; never raises for anything typed (see sql_console.run_readonly)."""
    return sql_console.run_readonly(db, sql, lang=lang)


def examples(lang: Lang = "nl") -> dict[str, str]:
    """Title → SQL (with its note as a leading comment) of the example queries in `lang`,
    in the console's order."""
    return {e.title[lang]: e.sql(lang) for e in sql_console.EXAMPLES}


def example_for(title: str, lang: Lang = "nl") -> str | None:
    return examples(lang).get(title)


def select_template(table: str) -> str:
    """A starter query for a schema-browser table; `table` comes from the catalog."""
    schema, _, name = table.partition(".")
    return f"SELECT *\nFROM {schema}.{name}\nLIMIT 100"


def error_markdown(error: str) -> str:
    """The explanation as plain text (it can hold a column name or keyword from the query,
    which must not become a link), then DuckDB's own words verbatim in a code block (they can
    hold markdown characters and caret lines that point into the query)."""
    text, sep, detail = error.partition("\nDuckDB: ")
    text = md_escape(text, limit=2000)
    if not sep:
        return text
    # A fence longer than any backtick run inside, so the detail cannot close it.
    runs = [len(r) for r in re.findall(r"`+", detail)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{text}\n\n{fence}\nDuckDB: {detail}\n{fence}"


def summary(result: ConsoleResult, lang: Lang) -> str:
    """'N rows · C columns · T ms': N is the full count when known, else the rows shown."""
    rows = result.total_rows if result.total_rows is not None else result.frame.height
    return TEXTS["result_rows"][lang].format(rows=sql_console.format_int(rows, lang),
                                             cols=result.frame.width,
                                             ms=round(result.elapsed_ms))


def schema(db: Database, lang: Lang = "nl") -> pl.DataFrame:
    """schema, table, column, type, description (in `lang`) for every column (memoised per
    build and language)."""
    return db.memo(f"sql_schema_{lang}", lambda: sql_console.schema_browser(db, lang))


def schema_tables(db: Database) -> list[str]:
    frame = schema(db)
    return db.memo("sql_schema_tables", lambda: list(dict.fromkeys(
        f"{s}.{t}" for s, t in frame.select("schema", "table").iter_rows())))


# The schema browser's column headers: keys of COMMON texts (dashboard/i18n.py).
SCHEMA_HEADERS = {"column": "schema_col_column", "type": "schema_col_type",
                  "description": "schema_col_description"}


def table_columns(db: Database, table: str, lang: Lang = "nl") -> pl.DataFrame:
    """column, type, description of one table, headed in `lang` (kolom/type/omschrijving)."""
    schema_name, _, name = table.partition(".")
    frame = schema(db, lang).filter((pl.col("schema") == schema_name)
                                    & (pl.col("table") == name)
                                    ).select("column", "type", "description")
    return frame.rename({c: tr(key, lang) for c, key in SCHEMA_HEADERS.items()})


def table_description(db: Database, table: str, lang: Lang = "nl") -> tuple[str, str | None]:
    """(description in `lang`, key) from meta.tabel; empty when the table is not documented."""
    def compute() -> dict[str, tuple[str, str | None]]:
        return {f"{s}.{t}": ((en if lang == "en" else nl) or "", k)
                for s, t, nl, en, k in db.query(
                    "SELECT schema_naam, tabel, omschrijving, omschrijving_en, sleutel "
                    "FROM meta.tabel").iter_rows()}
    return db.memo(f"sql_table_docs_{lang}", compute).get(table, ("", None))


def export_context(db: Database, sql: str, frame: pl.DataFrame,
                   lang: Lang = "nl") -> exports.ExportContext:
    """Provenance for a console download: the query itself is the filter."""
    return exports.context_from_db(db, EXPORT_TITLE, {"sql": " ".join(sql.split())},
                                   columns=frame.columns, table=EXPORT_TABLE, lang=lang)


def export_bytes(db: Database, result: ConsoleResult, sql: str, fmt: str,
                 lang: Lang = "nl") -> bytes:
    """The download, made by a worker (same checks, its own limits); ConsoleError when the
    worker refuses or is killed, ValueError when there is no result to export."""
    if not result.ok:
        raise ValueError("no result to export")
    context = export_context(db, sql, result.frame, lang)
    return sql_console.export_file(db, result.sql or sql, fmt, context, lang)


def exporter(db: Database, result: ConsoleResult, sql: str, fmt: str,
             lang: Lang = "nl") -> Callable[[], bytes]:
    """Deferred: the full result is only computed when someone downloads it. A refusal is
    raised: Streamlit logs it and the browser says the file could not be made."""
    return lambda: export_bytes(db, result, sql, fmt, lang)


def export_name(is_synthetisch: bool, fmt: str) -> str:
    return exports.export_filename(EXPORT_TITLE, {}, is_synthetisch, fmt)
