"""The researcher SQL console: one read-only SELECT, time-limited, honestly truncated.

The database connection itself is the security boundary (external access off, configuration
locked, read-only attach: see `db.py`); the checks here add a clear refusal *before* running
anything, because DuckDB would happily run `SELECT 1; SELECT 2` or `CREATE TEMP TABLE`.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import duckdb
import polars as pl

from dashboard.db import Database

Lang = Literal["nl", "en"]
DEFAULT_MAX_ROWS = 1000

# A trailing `;` (plus trailing comments) is legal in the console but not inside the subquery
# DuckDB wraps around a relation; a `;` inside a literal is never followed only by comments.
_TRAILING_SEMICOLON = re.compile(r";(?:\s|--[^\n]*|/\*.*?\*/)*\Z", re.S)

_MESSAGES: dict[str, dict[Lang, str]] = {
    "empty": {
        "nl": "Lege invoer: typ één SELECT-query.",
        "en": "Empty input: type one SELECT query.",
    },
    "multiple": {
        "nl": "Geweigerd: {n} statements. De console voert precies één SELECT-query uit.",
        "en": "Refused: {n} statements. The console runs exactly one SELECT query.",
    },
    "not_select": {
        "nl": "Geweigerd: {keyword} (statementtype {type}). Alleen SELECT (ook WITH … SELECT) "
              "is toegestaan; de database is alleen-lezen.",
        "en": "Refused: {keyword} (statement type {type}). Only SELECT (including WITH … "
              "SELECT) is allowed; the database is read-only.",
    },
    "syntax": {
        "nl": "De query kon niet worden gelezen (syntaxfout).",
        "en": "The query could not be parsed (syntax error).",
    },
    "timeout": {
        "nl": "De query duurde te lang (meer dan {seconds:g} s) en is gestopt. Beperk de query, "
              "bijvoorbeeld met WHERE of LIMIT.",
        "en": "The query took too long (more than {seconds:g} s) and was stopped. Narrow it "
              "down, for example with WHERE or LIMIT.",
    },
    "permission": {
        "nl": "Geen toegang: bestanden, netwerk en extensies zijn in de SQL-console uitgeschakeld. "
              "Vraag alleen tabellen uit de database op (core, out, meta).",
        "en": "Not allowed: files, network and extensions are disabled in the SQL console. "
              "Query only tables in the database (core, out, meta).",
    },
    "memory": {
        "nl": "De query vraagt te veel geheugen en is gestopt.",
        "en": "The query needs too much memory and was stopped.",
    },
    "locked": {
        "nl": "Geweigerd: de instellingen van de console zijn vergrendeld.",
        "en": "Refused: the console's settings are locked.",
    },
    "query": {
        "nl": "De query gaf een fout.",
        "en": "The query failed.",
    },
}


def message(key: str, lang: Lang = "nl", **fields: object) -> str:
    return _MESSAGES[key][lang].format(**fields)


@dataclass(frozen=True)
class ConsoleResult:
    frame: pl.DataFrame
    total_rows: int | None  # None when unknown: an error, or counting hit the time limit
    truncated: bool
    elapsed_ms: float
    error: str | None
    # Re-runs the statement without a row limit (same time and memory limits), so the bytes are
    # only produced when someone actually downloads.
    full_result_parquet: Callable[[], bytes] | None
    # The same re-run as a frame, for exports that carry provenance (see dashboard.exports).
    full_result: Callable[[], pl.DataFrame] | None = None


class ConsoleRefusal(Exception):
    """The input is not exactly one SELECT statement; nothing was run."""


def format_int(n: int, lang: Lang) -> str:
    """'12 345' in Dutch, '12,345' in English."""
    return f"{n:,}".replace(",", " " if lang == "nl" else ",")


def truncation_notice(result: ConsoleResult, lang: Lang = "nl") -> str | None:
    """The honest line under a truncated table; None when all rows are shown."""
    if not result.truncated:
        return None
    shown = format_int(result.frame.height, lang)
    if result.total_rows is not None:
        total = format_int(result.total_rows, lang)
        if lang == "nl":
            return f"{total} rijen; getoond: de eerste {shown}. Download het volledige resultaat."
        return f"{total} rows; showing the first {shown}. Download the full result."
    if lang == "nl":
        return (f"Meer dan {shown} rijen; getoond: {shown}. Het totaal kon niet binnen de "
                "tijdslimiet worden geteld.")
    return (f"More than {shown} rows; showing {shown}. The total could not be counted within "
            "the time limit.")


def validate(db: Database, sql: str, lang: Lang = "nl") -> str:
    """The single SELECT statement's text, ready to wrap; raises ConsoleRefusal otherwise."""
    try:
        statements = db.extract_statements(sql)
    except duckdb.ParserException as exc:
        raise ConsoleRefusal(f"{message('syntax', lang)}\nDuckDB: {exc}") from exc
    if not statements:
        raise ConsoleRefusal(message("empty", lang))
    if len(statements) > 1:
        raise ConsoleRefusal(message("multiple", lang, n=len(statements)))
    statement = statements[0]
    if statement.type != duckdb.StatementType.SELECT:
        # The type alone can mislead (INSTALL is LOAD, PRAGMA memory_limit is SET): name both.
        words = statement.query.split(maxsplit=1)
        keyword = words[0].upper() if words else "?"
        raise ConsoleRefusal(message("not_select", lang, keyword=keyword,
                                     type=statement.type.name))
    return _TRAILING_SEMICOLON.sub("", statement.query).strip()


def explain_error(exc: duckdb.Error, db: Database, lang: Lang = "nl") -> str:
    """A clear sentence for the researcher, followed by DuckDB's own message."""
    if isinstance(exc, duckdb.InterruptException):
        text = message("timeout", lang, seconds=db.max_execution_ms / 1000)
    elif isinstance(exc, duckdb.PermissionException):
        text = message("permission", lang)
    elif isinstance(exc, duckdb.OutOfMemoryException):
        text = message("memory", lang)
    elif "configuration has been locked" in str(exc):
        text = message("locked", lang)
    else:
        text = message("query", lang)
    return f"{text}\nDuckDB: {exc}"


def _count(db: Database, statement: str) -> int | None:
    cur = db.cursor()
    try:
        row = cur.sql(statement).aggregate("count(*)").fetchall()
        return int(row[0][0])
    except duckdb.Error:
        return None  # counting is a courtesy: a timeout here must not hide the rows we have
    finally:
        cur.close()


def _full_frame(db: Database, statement: str) -> Callable[[], pl.DataFrame]:
    def load() -> pl.DataFrame:
        cur = db.cursor()
        try:
            return cur.sql(statement).pl()
        finally:
            cur.close()
    return load


def _parquet_exporter(db: Database, statement: str) -> Callable[[], bytes]:
    load = _full_frame(db, statement)

    def export() -> bytes:
        buffer = io.BytesIO()
        load().write_parquet(buffer)
        return buffer.getvalue()
    return export


def _failed(error: str, started: float) -> ConsoleResult:
    return ConsoleResult(frame=pl.DataFrame(), total_rows=None, truncated=False,
                         elapsed_ms=(time.perf_counter() - started) * 1000, error=error,
                         full_result_parquet=None)


def run_readonly(db: Database, sql: str, max_rows: int = DEFAULT_MAX_ROWS,
                 lang: Lang = "nl") -> ConsoleResult:
    """Run one researcher SELECT; never raises for anything the user typed."""
    started = time.perf_counter()
    try:
        statement = validate(db, sql, lang)
    except ConsoleRefusal as exc:
        return _failed(str(exc), started)
    cur = db.cursor()
    try:
        # One row more than shown is how we know, without counting, that there is more.
        frame = cur.sql(statement).limit(max_rows + 1).pl()
    except duckdb.Error as exc:
        return _failed(explain_error(exc, db, lang), started)
    finally:
        cur.close()
    truncated = frame.height > max_rows
    total = _count(db, statement) if truncated else frame.height
    return ConsoleResult(frame=frame.head(max_rows), total_rows=total, truncated=truncated,
                         elapsed_ms=(time.perf_counter() - started) * 1000, error=None,
                         full_result_parquet=_parquet_exporter(db, statement),
                         full_result=_full_frame(db, statement))


EXAMPLES: list[tuple[str, str]] = [
    ("Cliënten per provincie en jaar (geharmoniseerd)",
     "SELECT provincie_naam, jaar, voorziening, sum(clienten) AS clienten\n"
     "FROM out.gemeente_periode\n"
     "GROUP BY ALL\nORDER BY provincie_naam, jaar, voorziening"),
    ("Top 10 gemeenten: cliënten per 1 000 inwoners, meest recente periode",
     "WITH laatste AS (SELECT max(periode_code) AS p FROM out.gemeente_periode)\n"
     "SELECT gemeente_code, gemeente_naam, voorziening, clienten_per_1000, status\n"
     "FROM out.gemeente_periode, laatste\n"
     "WHERE periode_code = laatste.p AND clienten_per_1000 IS NOT NULL\n"
     "ORDER BY clienten_per_1000 DESC\nLIMIT 10"),
    ("Werkwijze huishoudelijke hulp en cliënten per 1 000",
     "SELECT werkwijze_hbh, jaar, count(DISTINCT gemeente_code) AS gemeenten,\n"
     "       round(sum(clienten) * 1000 / sum(inwoners), 1) AS clienten_per_1000\n"
     "FROM out.gemeente_periode\n"
     "WHERE werkwijze_hbh IS NOT NULL AND inwoners > 0\n"
     "GROUP BY ALL\nORDER BY jaar, werkwijze_hbh"),
    ("Herindelingen (gemeentelijke fusies)",
     "SELECT * FROM core.herindeling ORDER BY 1"),
    ("Bronnen van deze database",
     "SELECT bron_id, titel, opgehaald_op, licentie, is_synthetisch\n"
     "FROM meta.bron ORDER BY bron_id"),
    ("Gegevenswoordenboek: kolommen van out.gemeente_periode",
     "SELECT kolom, type, omschrijving, eenheid\n"
     "FROM meta.veld\nWHERE schema_naam = 'out' AND tabel = 'gemeente_periode'"),
    ("Tabellen en aantallen rijen",
     "SELECT schema_name, table_name, estimated_size AS rijen, column_count AS kolommen\n"
     "FROM duckdb_tables()\nWHERE database_name = current_database()\nORDER BY ALL"),
]


def schema_browser(db: Database) -> pl.DataFrame:
    """Every column in the database with its type and description (meta.veld, else COMMENT)."""
    return db.query(
        """
        SELECT c.schema_name AS schema, c.table_name AS "table", c.column_name AS "column",
               c.data_type AS type, coalesce(v.omschrijving, c.comment) AS description
        FROM duckdb_columns() AS c
        LEFT JOIN meta.veld AS v
          ON v.schema_naam = c.schema_name AND v.tabel = c.table_name AND v.kolom = c.column_name
        WHERE c.database_name = current_database() AND c.schema_name IN ('core', 'out', 'meta')
        ORDER BY c.schema_name, c.table_name, c.column_index
        """
    )
