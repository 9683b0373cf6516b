"""The researcher SQL console: one read-only SELECT, sandboxed, honestly truncated.

Three layers, outermost first:
1. A worker process per query (`sql_sandbox.py` starts it, `sql_worker.py` is its code) with
   OS limits it cannot lift: killed after the wall time, an address-space limit, a file-size
   limit, result rows and bytes counted before anything reaches the server (`sql_limits.py`).
   The server process never parses or runs researcher SQL itself.
2. The worker's DuckDB connection (`db.py`): read-only attach, external access and extensions
   off, memory and threads set, configuration locked.
3. The checks here, which the worker runs before executing: exactly one SELECT/WITH statement
   (DuckDB would happily run `SELECT 1; SELECT 2` or `CREATE TEMP TABLE`), and none of the
   functions or views that show server settings or paths (found with DuckDB's own parser).
   Anything that still carries a server path (a value, an error message) is scrubbed.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import duckdb
import polars as pl

from dashboard import fmt
from dashboard.i18n import LANGS, section, tr
from dashboard.measures import measure
from dashboard.sql_limits import default_of

if TYPE_CHECKING:
    from dashboard import sql_sandbox
    from dashboard.db import Database

Lang = Literal["nl", "en"]
DEFAULT_MAX_ROWS = int(default_of("max_rows"))

# A trailing `;` (plus trailing comments) is legal in the console but not inside the subquery
# DuckDB wraps around a relation; a `;` inside a literal is never followed only by comments.
_TRAILING_SEMICOLON = re.compile(r";(?:\s|--[^\n]*|/\*.*?\*/)*\Z", re.S)

_MESSAGES = section("sql_console")


def message(key: str, lang: Lang = "nl", **fields: object) -> str:
    return _MESSAGES[key][lang].format(**fields)


@dataclass(frozen=True)
class ConsoleResult:
    frame: pl.DataFrame
    total_rows: int | None  # None when unknown: an error, or counting hit the time limit
    truncated: bool
    elapsed_ms: float
    error: str | None
    sql: str = ""  # the statement as run (after validation); "" when refused
    converted: tuple[str, ...] = ()  # columns the worker turned into text (see sql_worker)
    redacted_cells: int = 0  # cells in which a server path was replaced by '…'
    worker_pid: int | None = None  # the process that ran it (gone by the time you read this)

    @property
    def ok(self) -> bool:
        return self.error is None


class ConsoleRefusal(Exception):
    """The input is not exactly one allowed SELECT statement; nothing was run."""


class ConsoleError(Exception):
    """A download could not be made; the text is the researcher's message (no paths)."""


def truncation_notice(result: ConsoleResult, lang: Lang = "nl") -> str | None:
    """The honest line under a truncated table; None when all rows are shown."""
    if not result.truncated:
        return None
    shown = fmt.integer(result.frame.height, lang)
    if result.total_rows is not None:
        total = fmt.integer(result.total_rows, lang)
        if lang == "nl":
            return f"{total} rijen; getoond: de eerste {shown}. Download het volledige resultaat."
        return f"{total} rows; showing the first {shown}. Download the full result."
    if lang == "nl":
        return (f"Meer dan {shown} rijen; getoond: {shown}. Het totaal kon niet binnen de "
                "tijdslimiet worden geteld.")
    return (f"More than {shown} rows; showing {shown}. The total could not be counted within "
            "the time limit.")


def download_notice(result: ConsoleResult, max_download_rows: int,
                    lang: Lang = "nl") -> str | None:
    """Said before anyone clicks: the download will be cut at the console's row limit."""
    if result.total_rows is not None:
        if result.total_rows <= max_download_rows:
            return None
        return message("download_capped", lang, shown=fmt.integer(max_download_rows, lang),
                       total=fmt.integer(result.total_rows, lang))
    if not result.truncated:
        return None
    return message("download_capped_unknown", lang, shown=fmt.integer(max_download_rows, lang))


# --- what a query may call ------------------------------------------------------------------

# Functions, table functions and built-in views that show server settings, paths, secrets,
# logs or extensions, or that run SQL given as a string (which would pass the check unseen).
# Matched on the last part of the name, case-insensitively, wherever it occurs in the query.
HIDDEN_NAMES: frozenset[str] = frozenset({
    "current_setting", "duckdb_settings", "pg_settings", "duckdb_profiling_settings",
    "duckdb_databases", "pragma_database_list", "pg_database", "duckdb_approx_database_count",
    "pragma_database_size", "pragma_metadata_info", "pragma_storage_info",
    "duckdb_extensions", "duckdb_extension_repositories", "duckdb_temporary_files",
    "duckdb_external_file_cache", "getenv", "pragma_platform", "pragma_user_agent",
    "duckdb_secrets", "duckdb_secret_types", "duckdb_secret_type_parameters", "which_secret",
    "duckdb_logs", "duckdb_logs_parsed", "duckdb_log_contexts", "enable_logging",
    "disable_logging", "truncate_duckdb_logs", "write_log", "parse_duckdb_log_message",
    "query", "query_table", "json_execute_serialized_sql", "json_serialize_sql",
    "json_deserialize_sql", "json_serialize_plan", "sql_auto_complete",
})
# `SHOW DATABASES` and friends arrive as a SHOW_REF node naming the thing shown.
HIDDEN_SHOWS: frozenset[str] = frozenset({"databases", "all"})


def _unquote(name: str) -> str:
    return name.strip().strip('"').lower()


def referenced_names(tree: object) -> set[str]:
    """Every function, table and SHOW name in a json_serialize_sql tree, lower-case."""
    found: set[str] = set()
    stack = [tree]
    while stack:  # iterative: a deeply nested query must not exhaust Python's stack
        node = stack.pop()
        if isinstance(node, dict):
            for key in ("function_name", "table_name"):
                value = node.get(key)
                if isinstance(value, str) and value:
                    found.add(_unquote(value))
            if node.get("type") == "SHOW_REF" and isinstance(node.get("table_name"), str):
                found.add("show " + _unquote(node["table_name"]))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def hidden_names(tree: object) -> list[str]:
    names = referenced_names(tree)
    hidden = {n for n in names if n in HIDDEN_NAMES}
    hidden |= {n for n in names if n.startswith("show ") and n[5:] in HIDDEN_SHOWS}
    return sorted(hidden)


def parse_tree(con: duckdb.DuckDBPyConnection, statement: str) -> dict[str, object] | None:
    """DuckDB's own parse of the statement as JSON; None when DuckDB cannot serialise it."""
    try:
        text = con.execute("SELECT json_serialize_sql(?)", [statement]).fetchall()[0][0]
        tree = json.loads(text)
    except (duckdb.Error, ValueError, IndexError):
        return None
    if not isinstance(tree, dict) or tree.get("error"):
        return None
    return tree


def validate(con: duckdb.DuckDBPyConnection, sql: str, lang: Lang = "nl",
             max_chars: int | None = None) -> str:
    """The single allowed SELECT statement's text, ready to wrap; ConsoleRefusal otherwise."""
    if max_chars is not None and len(sql) > max_chars:
        raise ConsoleRefusal(message("too_long", lang, n=fmt.integer(len(sql), lang),
                                     max=fmt.integer(max_chars, lang)))
    try:
        statements = con.extract_statements(sql)
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
    text = _TRAILING_SEMICOLON.sub("", statement.query).strip()
    # The parser, not a regex, finds the names: comments, quoting and case cannot hide them.
    tree = parse_tree(con, text)
    if tree is None:
        raise ConsoleRefusal(message("unchecked", lang))  # unsure means no
    hidden = hidden_names(tree)
    if hidden:
        raise ConsoleRefusal(message("hidden", lang, names=", ".join(hidden)))
    return text


def explain_error(exc: duckdb.Error, timeout_s: float, memory_mb: int,
                  lang: Lang = "nl") -> str:
    """A clear sentence for the researcher, followed by DuckDB's own message."""
    if isinstance(exc, duckdb.InterruptException):
        text = message("timeout", lang, seconds=fmt.seconds(timeout_s, lang))
    elif isinstance(exc, duckdb.PermissionException):
        text = message("permission", lang)
    elif isinstance(exc, duckdb.OutOfMemoryException):
        text = message("worker_memory", lang, mb=fmt.integer(memory_mb, lang))
    elif "configuration has been locked" in str(exc):
        text = message("locked", lang)
    else:
        text = message("query", lang)
    # DuckDB's advice to raise limits or threads does not apply to a locked console.
    detail = str(exc).split("\n\nPossible solutions:", 1)[0]
    return f"{text}\nDuckDB: {detail}"


# --- no paths to visitors -------------------------------------------------------------------

# An absolute path of two or more parts, as DuckDB prints them in errors ("/a/b/c.duckdb").
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~])/(?:[^\s/'\"`()\[\]]+/)+(?=[^\s/'\"`()\[\]])")


def scrub_paths(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` without server paths: known ones (longest first) become '…', any other
    absolute path keeps only its last part ('/etc/passwd' → '…/passwd')."""
    for secret in sorted({s for s in secrets if len(s) > 1}, key=len, reverse=True):
        text = text.replace(secret, "…")
    return _ABSOLUTE_PATH.sub("…/", text)


def server_paths(db_path: str | os.PathLike[str], *extra: str) -> tuple[str, ...]:
    """Paths a visitor must never see: the database's folder and its parents up to the
    project, the project, the home folder, the Python environment, the working folder."""
    path = Path(db_path).resolve()
    root = Path(__file__).resolve().parents[1]
    candidates = {str(path.parent), str(root), str(Path.home()), sys.prefix,
                  sys.base_prefix, os.getcwd(), *extra}
    # Parents of the database folder down to (not including) '/' and one-part folders such as
    # /tmp or /work, which are too common to be secrets and would mangle ordinary text.
    for parent in path.parents:
        if len(parent.parts) > 2:
            candidates.add(str(parent))
    return tuple(sorted(c for c in candidates if c and len(Path(c).parts) > 2))


# --- running ----------------------------------------------------------------------------------

def _pool(pool: sql_sandbox.Pool | None) -> sql_sandbox.Pool:
    from dashboard import sql_sandbox  # the sandbox imports this module's texts

    return pool or sql_sandbox.default_pool()


def run_readonly(db: Database, sql: str, max_rows: int | None = None, lang: Lang = "nl",
                 pool: sql_sandbox.Pool | None = None) -> ConsoleResult:
    """Run one researcher SELECT in a sandboxed worker; never raises for anything typed."""
    pool = _pool(pool)
    return pool.query(db.path, sql, lang=lang, max_rows=max_rows)


def full_result(db: Database, sql: str, lang: Lang = "nl",
                pool: sql_sandbox.Pool | None = None) -> pl.DataFrame:
    """Every row of `sql` up to the download limits, in a worker; ConsoleError otherwise."""
    pool = _pool(pool)
    return pool.full_frame(db.path, sql, lang=lang)


def export_file(db: Database, sql: str, fmt: str, context: object, lang: Lang = "nl",
                pool: sql_sandbox.Pool | None = None) -> bytes:
    """The download file (CSV or Parquet with provenance), written by a worker."""
    pool = _pool(pool)
    return pool.export(db.path, sql, fmt, context, lang=lang)


@dataclass(frozen=True)
class Example:
    """An example query for the console's list; its title and one-line note per language are
    the texts `<key>_titel` and `<key>_uitleg` of section `sql_examples` in the locale files.

    The note goes into the editor as a leading SQL comment, so whoever copies the query also
    copies the pitfall it avoids (half-years, the Totaal row, pooled rates, NULLs).
    `body` is the SQL without the note; `body_en` only where the English query differs
    (the dictionary example selects the English descriptions).
    """

    key: str
    body: str
    body_en: str | None = None

    @property
    def title(self) -> dict[str, str]:
        return {lang: tr(f"{self.key}_titel", lang, EXAMPLE_TEXTS) for lang in LANGS}

    @property
    def note(self) -> dict[str, str]:
        return {lang: tr(f"{self.key}_uitleg", lang, EXAMPLE_TEXTS) for lang in LANGS}

    def sql(self, lang: Lang = "nl") -> str:
        body = self.body_en if lang == "en" and self.body_en is not None else self.body
        return f"-- {self.note[lang]}\n{body}"


EXAMPLE_TEXTS = section("sql_examples")


def _pooled_rate(key: str) -> str:
    """A measure's pooled figure as an example writes it, from the catalogue (dashboard/
    measures.py): per × sum(teller) / sum(noemer), rounded to the measure's places; the
    example's WHERE keeps only rows where both are known."""
    m = measure(key)
    return (f"round({m.per:g} * sum({m.teller}) / sum({m.noemer}), {m.decimals}) "
            f"AS {m.column or m.key}")


_DICTIONARY_SQL = (
    "SELECT v.kolom, v.type, v.eenheid, v.{column}\n"
    "FROM meta.veld AS v\n"
    "JOIN duckdb_columns() AS c\n"
    "  ON c.schema_name = v.schema_naam AND c.table_name = v.tabel AND c.column_name = v.kolom\n"
    "WHERE v.schema_naam = 'out' AND v.tabel = 'gemeente_periode'\n"
    "  AND c.database_name = current_database()\n"
    "ORDER BY c.column_index"
)

EXAMPLES: list[Example] = [
    Example(
        "provincie_jaar",
        "SELECT provincie_naam, jaar, sum(clienten) AS clienten,\n"
        "       count(clienten) AS gemeenten_bekend, count(*) AS gemeenten_totaal\n"
        "FROM out.gemeente_periode\n"
        "WHERE halfjaar IS NULL AND voorziening_code = 'T001024'\n"
        "GROUP BY provincie_naam, jaar\nORDER BY provincie_naam, jaar",
    ),
    Example(
        "top10",
        "WITH laatste AS (\n"
        "  SELECT max(jaar) AS jaar FROM out.gemeente_periode\n"
        "  WHERE halfjaar IS NULL AND voorziening_code = 'T001024' AND clienten IS NOT NULL)\n"
        "SELECT gemeente_code, gemeente_naam, jaar, clienten, inwoners,\n"
        "       clienten_per_1000, status\n"
        "FROM out.gemeente_periode JOIN laatste USING (jaar)\n"
        "WHERE halfjaar IS NULL AND voorziening_code = 'T001024'\n"
        "  AND clienten_per_1000 IS NOT NULL\n"
        "ORDER BY clienten_per_1000 DESC, gemeente_code\nLIMIT 10",
    ),
    Example(
        "werkwijze",
        "SELECT jaar, werkwijze_hbh, count(*) AS gemeenten,\n"
        "       sum(clienten) AS clienten, sum(inwoners) AS inwoners,\n"
        f"       {_pooled_rate('hbh_per_1000')}\n"
        "FROM out.gemeente_periode\n"
        "WHERE halfjaar IS NULL AND voorziening_code = 'A019507'\n"
        "  AND werkwijze_hbh IS NOT NULL AND clienten IS NOT NULL AND inwoners > 0\n"
        "GROUP BY jaar, werkwijze_hbh\nORDER BY jaar, werkwijze_hbh",
    ),
    Example(
        "herindelingen",
        "SELECT * FROM core.herindeling\nORDER BY datum_ingang, oude_code, nieuwe_code",
    ),
    Example(
        "bronnen",
        "SELECT bron_id, titel, opgehaald_op, licentie, is_synthetisch\n"
        "FROM meta.bron ORDER BY bron_id",
    ),
    Example(
        "woordenboek",
        _DICTIONARY_SQL.format(column="omschrijving"),
        _DICTIONARY_SQL.format(column="omschrijving_en"),
    ),
    Example(
        "tabellen",
        "SELECT schema_name, table_name, estimated_size AS rijen_geschat,\n"
        "       column_count AS kolommen\n"
        "FROM duckdb_tables()\nWHERE database_name = current_database()\n"
        "ORDER BY schema_name, table_name",
    ),
]


def schema_browser(db: Database, lang: Lang = "nl") -> pl.DataFrame:
    """Every column in the database with its type and description in `lang` (meta.veld,
    else the DuckDB comment, which is Dutch)."""
    # A fixed choice of two column names, never text from a visitor.
    described = "v.omschrijving_en" if lang == "en" else "v.omschrijving"
    return db.query(
        f"""
        SELECT c.schema_name AS schema, c.table_name AS "table", c.column_name AS "column",
               c.data_type AS type, coalesce({described}, c.comment) AS description
        FROM duckdb_columns() AS c
        LEFT JOIN meta.veld AS v
          ON v.schema_naam = c.schema_name AND v.tabel = c.table_name AND v.kolom = c.column_name
        WHERE c.database_name = current_database() AND c.schema_name IN ('core', 'out', 'meta')
        ORDER BY c.schema_name, c.table_name, c.column_index
        """
    )
