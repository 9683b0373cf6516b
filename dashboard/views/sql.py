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
from dashboard.i18n import tr
from dashboard.safe import md_escape
from dashboard.sql_console import ConsoleResult
from dashboard.sql_limits import SETTINGS, Limits, human_bytes

Lang = Literal["nl", "en"]
EXPORT_TABLE = "sql-console"
EXPORT_TITLE = "SQL-query"

TEXTS: dict[str, dict[str, str]] = {
    "title": {"nl": "SQL-console", "en": "SQL console"},
    "intro": {
        "nl": "Voor onderzoekers: één SELECT- of WITH-query op de database, alleen-lezen. Elke "
              "query draait in een eigen werkproces dat na {seconds:g} s wordt beëindigd en "
              "begrensd is in geheugen; bestanden, netwerk en extensies zijn uit. Getoond "
              "worden hoogstens {rows} rijen; de download bevat er hoogstens {download_rows}.",
        "en": "For researchers: one SELECT or WITH query on the database, read-only. Each "
              "query runs in a worker process of its own, ended after {seconds:g} s and "
              "bounded in memory; files, network and extensions are off. At most {rows} rows "
              "are shown; the download holds at most {download_rows}.",
    },
    "limits": {"nl": "Limieten van de console", "en": "The console's limits"},
    "limits_intro": {
        "nl": "Elke limiet is een instelling van de server (omgevingsvariabele). Een gedeelde "
              "link met ?q= zet de query in het veld; hij draait pas na een klik op "
              "Uitvoeren. Functies die instellingen of paden van de server tonen "
              "(duckdb_settings(), duckdb_databases(), current_setting(), …) zijn uit.",
        "en": "Each limit is a server setting (environment variable). A shared link with ?q= "
              "puts the query in the editor; it runs only after a click on Run. Functions "
              "that show server settings or paths (duckdb_settings(), duckdb_databases(), "
              "current_setting(), …) are off.",
    },
    "limit_col": {"nl": "Limiet", "en": "Limit"},
    "value_col": {"nl": "Waarde", "en": "Value"},
    "env_col": {"nl": "Instelling", "en": "Setting"},
    "link_pending": {
        "nl": "Deze query komt uit een gedeelde link en is nog niet uitgevoerd. Lees hem en "
              "klik op Uitvoeren.",
        "en": "This query comes from a shared link and has not been run. Read it and click "
              "Run.",
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
        "nl": "De download voert de query opnieuw uit in een eigen werkproces (hoogstens "
              "{rows} rijen en {bytes}, {seconds:g} s) en bevat bronnen, kanttekeningen, "
              "tekenverklaring en een kolom is_synthetisch.",
        "en": "The download re-runs the query in a worker process of its own (at most {rows} "
              "rows and {bytes}, {seconds:g} s) and carries sources, caveats, symbol legend "
              "and an is_synthetisch column.",
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


# What each limit is called on the page (the English descriptions live in sql_limits).
LIMIT_LABELS: dict[str, dict[str, str]] = {
    "timeout_s": {"nl": "Looptijd van een query (daarna wordt het werkproces beëindigd)",
                  "en": "Run time of a query (then the worker process is ended)"},
    "download_timeout_s": {"nl": "Looptijd van een download", "en": "Run time of a download"},
    "memory_mb": {"nl": "Geheugen per werkproces (besturingssysteem; DuckDB krijgt de helft)",
                  "en": "Memory per worker process (operating system; DuckDB gets half)"},
    "max_rows": {"nl": "Getoonde rijen", "en": "Rows shown"},
    "max_cell_bytes": {"nl": "Grootste waarde", "en": "Largest value"},
    "max_result_bytes": {"nl": "Grootste getoonde resultaat", "en": "Largest shown result"},
    "max_download_rows": {"nl": "Rijen in een download", "en": "Rows in a download"},
    "max_download_bytes": {"nl": "Grootste download", "en": "Largest download"},
    "concurrency": {"nl": "Query's tegelijk (per server)", "en": "Queries at once (per server)"},
    "queue_wait_s": {"nl": "Wachttijd op een vrije plek, daarna 'bezet'",
                     "en": "Wait for a free slot, then 'busy'"},
    "warm_workers": {"nl": "Vooraf gestarte werkprocessen", "en": "Worker processes started "
                     "in advance"},
    "max_query_chars": {"nl": "Langste query (tekens)", "en": "Longest query (characters)"},
}


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


def export_context(db: Database, sql: str, frame: pl.DataFrame) -> exports.ExportContext:
    """Provenance for a console download: the query itself is the filter."""
    return exports.context_from_db(db, EXPORT_TITLE, {"sql": " ".join(sql.split())},
                                   columns=frame.columns, table=EXPORT_TABLE)


def export_bytes(db: Database, result: ConsoleResult, sql: str, fmt: str,
                 lang: Lang = "nl") -> bytes:
    """The download, made by a worker (same checks, its own limits); ConsoleError when the
    worker refuses or is killed, ValueError when there is no result to export."""
    if not result.ok:
        raise ValueError("no result to export")
    context = export_context(db, sql, result.frame)
    return sql_console.export_file(db, result.sql or sql, fmt, context, lang)


def exporter(db: Database, result: ConsoleResult, sql: str, fmt: str,
             lang: Lang = "nl") -> Callable[[], bytes]:
    """Deferred: the full result is only computed when someone downloads it. A refusal is
    raised: Streamlit logs it and the browser says the file could not be made."""
    return lambda: export_bytes(db, result, sql, fmt, lang)


def export_name(is_synthetisch: bool, fmt: str) -> str:
    return exports.export_filename(EXPORT_TITLE, {}, is_synthetisch, fmt)
