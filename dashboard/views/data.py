"""The Data page without Streamlit: downloadable tables, the filter → SQL builder, the preview,
the exports and the data dictionary.

Identifiers (schema, table and column names) come only from meta.tabel / meta.veld, checked
against the tables that really exist; every value a user chose is a bound parameter. A URL can
therefore pick a table or column from those lists, but never write SQL. The preview, the row
count and every download are built by the same `select_sql`, so a download holds exactly the
rows and columns the page shows.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from dashboard import exports
from dashboard.catalog import BuildInfo
from dashboard.db import Database
from dashboard.i18n import Lang, section, tr
from dashboard.safe import md_escape
from dashboard.sql_console import format_int
from etl.metadata import SymbolMeta, load_metadata

DEFAULT_TABLE = "out.gemeente_periode"
PREVIEW_ROWS = 1000
# Geometry columns are kilobytes per row: useless in a preview or a spreadsheet, so they are
# left out unless chosen explicitly (the DuckDB file has them too).
HEAVY_COLUMNS = frozenset({"geojson", "wkb"})
UNKNOWN_WERKWIJZE = "onbekend"

# Filter kind → the columns it can act on, first match wins.
FILTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "gemeenten": ("gemeente_code",),
    "provincie": ("provincie_naam",),
    "periode": ("periode_code",),
    "voorziening": ("voorziening_code",),
    "jaar": ("jaar",),
    "werkwijze": ("werkwijze_hbh", "werkwijze"),
}
# Filter kind → the Filters fields that hold its choice.
FILTER_FIELDS: dict[str, tuple[str, ...]] = {
    "gemeenten": ("gemeenten",),
    "provincie": ("provincie",),
    "periode": ("perioden",),
    "voorziening": ("voorzieningen",),
    "jaar": ("jaar_van", "jaar_tot"),
    "werkwijze": ("werkwijze",),
}
# Filter kind → the URL parameters it owns (to clear them when a table lacks the column).
FILTER_PARAMS: dict[str, tuple[str, ...]] = {
    "gemeenten": ("gemeenten", "gemeente"),
    "provincie": ("provincie",),
    "periode": ("periode",),
    "voorziening": ("voorziening",),
    "jaar": ("jaar_van", "jaar_tot"),
    "werkwijze": ("werkwijze",),
}

FORMATS: dict[str, tuple[Callable[[pl.DataFrame, exports.ExportContext], bytes], str]] = {
    "csv": (exports.to_csv, "text/csv"),
    "xlsx": (exports.to_xlsx,
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "parquet": (exports.to_parquet, "application/vnd.apache.parquet"),
    "zip": (exports.to_zip, "application/zip"),
}

TEXTS = section("data")

# Columns of the dictionary tables shown on the page; their headers are texts `dict_<column>`.
DICT_COLUMNS = ("schema", "tabel", "kolom", "type", "eenheid", "omschrijving", "sleutel")


# --- tables ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    unit: str | None


@dataclass(frozen=True)
class TableInfo:
    schema: str
    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def has(self, column: str) -> bool:
        return any(c.name == column for c in self.columns)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def quote_ident(name: str) -> str:
    """A DuckDB identifier in double quotes; names only ever come from the catalog."""
    return '"' + name.replace('"', '""') + '"'


def _described(lang: Lang, alias: str) -> str:
    """The meta.tabel / meta.veld column holding the description in `lang` (a fixed choice
    of two names, never text from a visitor)."""
    return f"{alias}.omschrijving_en" if lang == "en" else f"{alias}.omschrijving"


def tables(db: Database, lang: Lang = "nl") -> dict[str, TableInfo]:
    """The downloadable tables: out first (gemeente_periode on top), then core, as listed in
    meta.tabel and present in the file; columns in table order with their meta.veld docs, the
    descriptions in `lang`."""
    def compute() -> dict[str, TableInfo]:
        listed = db.query(
            f"SELECT t.schema_naam, t.tabel, {_described(lang, 't')}, t.sleutel "
            "FROM meta.tabel AS t "
            "JOIN duckdb_tables() AS d ON d.schema_name = t.schema_naam "
            " AND d.table_name = t.tabel AND d.database_name = current_database() "
            "WHERE t.schema_naam IN ('out', 'core') "
            "ORDER BY t.schema_naam <> 'out', t.tabel <> 'gemeente_periode', t.schema_naam, "
            "t.tabel")
        cols = db.query(
            "SELECT c.schema_name, c.table_name, c.column_name, c.data_type, "
            f"coalesce({_described(lang, 'v')}, c.comment, '') AS omschrijving, v.eenheid "
            "FROM duckdb_columns() AS c LEFT JOIN meta.veld AS v ON v.schema_naam = c.schema_name "
            " AND v.tabel = c.table_name AND v.kolom = c.column_name "
            "WHERE c.database_name = current_database() AND c.schema_name IN ('out', 'core') "
            "ORDER BY c.schema_name, c.table_name, c.column_index")
        out: dict[str, TableInfo] = {}
        for schema, name, description, key in listed.iter_rows():
            mine = cols.filter((pl.col("schema_name") == schema) & (pl.col("table_name") == name))
            columns = tuple(Column(n, t, d or "", u) for n, t, d, u in mine.select(
                "column_name", "data_type", "omschrijving", "eenheid").iter_rows())
            keys = tuple(k.strip() for k in (key or "").split(",") if k.strip())
            info = TableInfo(schema, name, description or "", keys, columns)
            out[info.qualified] = info
        return out
    return db.memo(f"data_tables_{lang}", compute)


def table_label(info: TableInfo) -> str:
    return info.qualified


def default_columns(info: TableInfo) -> list[str]:
    return [c for c in info.column_names if c not in HEAVY_COLUMNS]


def heavy_columns(info: TableInfo) -> list[str]:
    return [c for c in info.column_names if c in HEAVY_COLUMNS]


def columns_fit(info: TableInfo, kolommen: str) -> bool:
    """Whether a comma-separated `kolommen` URL value names only columns of `info`."""
    return all(info.has(c.strip()) for c in kolommen.split(",") if c.strip())


def filter_column(info: TableInfo, kind: str) -> str | None:
    """The column of `info` a filter kind acts on, or None when the filter does not apply."""
    return next((c for c in FILTER_COLUMNS[kind] if info.has(c)), None)


def applicable_filters(info: TableInfo) -> list[str]:
    return [kind for kind in FILTER_COLUMNS if filter_column(info, kind) is not None]


def stale_params(info: TableInfo) -> list[str]:
    """URL parameters of filters this table cannot apply (cleared so the link stays honest)."""
    return [p for kind, params in FILTER_PARAMS.items() if filter_column(info, kind) is None
            for p in params]


# --- filters → SQL --------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """The user's choices; an empty tuple or None means 'no filter' for that kind."""

    gemeenten: tuple[str, ...] = ()
    provincie: str | None = None
    perioden: tuple[str, ...] = ()
    voorzieningen: tuple[str, ...] = ()
    jaar_van: int | None = None
    jaar_tot: int | None = None
    werkwijze: str | None = None
    kolommen: tuple[str, ...] = ()  # empty = default_columns


class UnknownColumn(ValueError):
    """A column name that is not in the table: refused, never put into SQL."""


def selected_columns(info: TableInfo, filters: Filters) -> list[str]:
    """The chosen columns in table order (so every export has a stable layout)."""
    if not filters.kolommen:
        return default_columns(info)
    unknown = [c for c in filters.kolommen if not info.has(c)]
    if unknown:
        raise UnknownColumn(f"{info.qualified} has no column(s) {', '.join(unknown)}")
    wanted = set(filters.kolommen)
    return [c for c in info.column_names if c in wanted]


def _in_list(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    marks = ", ".join("?" for _ in values)
    return f"{quote_ident(column)} IN ({marks})", list(values)


def where_clause(info: TableInfo, filters: Filters) -> tuple[str, list[Any]]:
    """' WHERE …' with `?` placeholders and their values; filters the table lacks are ignored."""
    parts: list[str] = []
    params: list[Any] = []

    def add(sql: str, values: Sequence[Any]) -> None:
        parts.append(sql)
        params.extend(values)

    col = filter_column(info, "gemeenten")
    if col and filters.gemeenten:
        add(*_in_list(col, filters.gemeenten))
    col = filter_column(info, "provincie")
    if col and filters.provincie:
        add(f"{quote_ident(col)} = ?", [filters.provincie])
    col = filter_column(info, "periode")
    if col and filters.perioden:
        add(*_in_list(col, filters.perioden))
    col = filter_column(info, "voorziening")
    if col and filters.voorzieningen:
        add(*_in_list(col, filters.voorzieningen))
    col = filter_column(info, "jaar")
    if col and filters.jaar_van is not None:
        add(f"{quote_ident(col)} >= ?", [int(filters.jaar_van)])
    if col and filters.jaar_tot is not None:
        add(f"{quote_ident(col)} <= ?", [int(filters.jaar_tot)])
    col = filter_column(info, "werkwijze")
    if col and filters.werkwijze:
        if filters.werkwijze == UNKNOWN_WERKWIJZE:
            # NULL is 'not in the register': the filter for unknown must find it, not skip it.
            add(f"({quote_ident(col)} IS NULL OR {quote_ident(col)} = ?)", [UNKNOWN_WERKWIJZE])
        else:
            add(f"{quote_ident(col)} = ?", [filters.werkwijze])
    return (" WHERE " + " AND ".join(parts) if parts else ""), params


def _from(info: TableInfo) -> str:
    return f"{quote_ident(info.schema)}.{quote_ident(info.name)}"


def select_sql(info: TableInfo, filters: Filters, limit: int | None = None
               ) -> tuple[str, list[Any]]:
    """The one query behind preview and downloads, ordered by the table's key."""
    columns = ", ".join(quote_ident(c) for c in selected_columns(info, filters))
    where, params = where_clause(info, filters)
    order = [quote_ident(k) for k in info.key if info.has(k)]
    sql = f"SELECT {columns} FROM {_from(info)}{where}"
    if order:
        sql += " ORDER BY " + ", ".join(order)
    if limit is not None:
        sql += " LIMIT ?"
        params = [*params, int(limit)]
    return sql, params


def count_sql(info: TableInfo, filters: Filters) -> tuple[str, list[Any]]:
    where, params = where_clause(info, filters)
    return f"SELECT count(*) AS n FROM {_from(info)}{where}", params


def fetch(db: Database, info: TableInfo, filters: Filters, limit: int | None = None
          ) -> pl.DataFrame:
    sql, params = select_sql(info, filters, limit)
    return db.query(sql, params)


def count_rows(db: Database, info: TableInfo, filters: Filters) -> int:
    sql, params = count_sql(info, filters)
    return int(db.query(sql, params).item())


def applied_filters(info: TableInfo, filters: Filters) -> dict[str, str | list[str]]:
    """The filters that acted on this table, as recorded inside every export."""
    out: dict[str, str | list[str]] = {"tabel": info.qualified}
    if filters.gemeenten and filter_column(info, "gemeenten"):
        out["gemeenten"] = list(filters.gemeenten)
    if filters.provincie and filter_column(info, "provincie"):
        out["provincie"] = filters.provincie
    if filters.perioden and filter_column(info, "periode"):
        out["periode"] = list(filters.perioden)
    if filters.voorzieningen and filter_column(info, "voorziening"):
        out["voorziening"] = list(filters.voorzieningen)
    if filter_column(info, "jaar"):
        if filters.jaar_van is not None:
            out["jaar_van"] = str(filters.jaar_van)
        if filters.jaar_tot is not None:
            out["jaar_tot"] = str(filters.jaar_tot)
    if filters.werkwijze and filter_column(info, "werkwijze"):
        out["werkwijze"] = filters.werkwijze
    if filters.kolommen:
        out["kolommen"] = selected_columns(info, filters)
    return out


# --- options for the controls ---------------------------------------------------------------

def gemeente_choices(db: Database, lang: str, provincie: str | None = None) -> dict[str, str]:
    """Every code in core.gemeente → 'Naam (GM0000)', dissolved ones marked: the core tables
    hold historic codes, the out tables only the reference ones. With `provincie`, only the
    gemeenten of that province (a dissolved one has the province of its successor)."""
    def compute() -> dict[str, str]:
        frame = db.query("SELECT gemeente_code, gemeente_naam, year(geldig_tot) AS tot, "
                         "provincie_naam FROM core.gemeente ORDER BY gemeente_naam, "
                         "gemeente_code")
        if provincie:
            frame = frame.filter(pl.col("provincie_naam") == provincie)
        out: dict[str, str] = {}
        for code, naam, tot, _ in frame.iter_rows():
            extra = f", {tr('dissolved', lang, TEXTS, year=tot)}" if tot is not None else ""
            out[code] = f"{naam} ({code}{extra})"
        return out
    return db.memo(("data_gemeenten", lang, provincie or ""), compute)


def outside_province(chosen: Sequence[str], offered: Mapping[str, str],
                     known: Mapping[str, str]) -> list[str]:
    """The chosen gemeenten that exist (`known`) but are not offered for the chosen province:
    they would make the selection empty, so the page drops them and says why. Unknown codes
    are left to the usual 'not in this database' message."""
    return [c for c in dict.fromkeys(chosen) if c in known and c not in offered]


def outside_message(codes: Sequence[str], known: Mapping[str, str], provincie: str,
                    lang: Lang) -> str:
    """Markdown-safe: names and province come from the database, codes from a URL."""
    names = ", ".join(md_escape(known.get(c, c)) for c in codes)
    key = "gemeente_outside_one" if len(codes) == 1 else "gemeente_outside_many"
    return tr(key, lang, TEXTS, names=names, provincie=md_escape(provincie),
              all=tr("all_provinces", lang))


def years(db: Database, info: TableInfo) -> list[int]:
    col = filter_column(info, "jaar")
    if col is None:
        return []
    return db.memo(("data_years", info.qualified), lambda: [int(y) for y in db.query(
        f"SELECT DISTINCT {quote_ident(col)} AS j FROM {_from(info)} "
        f"WHERE {quote_ident(col)} IS NOT NULL ORDER BY 1")["j"].to_list()])


def year_bounds(choices: Sequence[int], van: int, tot: int) -> tuple[int | None, int | None,
                                                                     bool]:
    """(jaar_van, jaar_tot, swapped): None where the bound is the table's own edge, so an
    untouched range filters nothing and is not recorded as a filter."""
    swapped = van > tot
    if swapped:
        van, tot = tot, van
    low = None if not choices or van <= min(choices) else van
    high = None if not choices or tot >= max(choices) else tot
    return low, high, swapped


def active_filters(info: TableInfo, filters: Filters) -> list[str]:
    """The filter kinds that act on this table with the current choice."""
    return [kind for kind in FILTER_COLUMNS if filter_column(info, kind) is not None
            and any(getattr(filters, f) not in (None, ()) for f in FILTER_FIELDS[kind])]


def _cleared(filters: Filters, kinds: Sequence[str]) -> Filters:
    empty = {f: (() if isinstance(getattr(filters, f), tuple) else None)
             for kind in kinds for f in FILTER_FIELDS[kind]}
    return dataclasses.replace(filters, **empty)


@dataclass(frozen=True)
class EmptyWhy:
    """Why a selection has no rows: filters that exclude everything on their own, and the rows
    each filter's removal would bring back."""

    alone: tuple[str, ...]
    without: tuple[tuple[str, int], ...]
    active: tuple[str, ...]


def why_empty(db: Database, info: TableInfo, filters: Filters) -> EmptyWhy:
    """Counts each active filter on its own and the selection without it (a few count(*)
    queries, only asked when the selection is empty)."""
    active = active_filters(info, filters)
    alone = tuple(k for k in active if count_rows(
        db, info, _cleared(filters, [o for o in active if o != k])) == 0)
    without: tuple[tuple[str, int], ...] = ()
    if not alone:
        without = tuple((k, n) for k in active
                        if (n := count_rows(db, info, _cleared(filters, [k]))) > 0)
    return EmptyWhy(alone, without, tuple(active))


def filter_values(info: TableInfo, filters: Filters, kind: str) -> str:
    values = applied_filters(info, filters)
    if kind == "jaar":
        low, high = values.get("jaar_van"), values.get("jaar_tot")
        return f"{low or ''}–{high or ''}"
    key = {"gemeenten": "gemeenten", "provincie": "provincie", "periode": "periode",
           "voorziening": "voorziening", "werkwijze": "werkwijze"}[kind]
    value = values.get(key, "")
    return ", ".join(value) if isinstance(value, list) else value


def _join(items: Sequence[str], lang: Lang) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {tr('and_word', lang, TEXTS)} {items[-1]}"


def empty_message(why: EmptyWhy, info: TableInfo, filters: Filters, lang: Lang) -> str:
    """Names the filters that exclude everything; markdown-safe (values come from a URL)."""
    def name(kind: str) -> str:
        values = md_escape(filter_values(info, filters, kind), limit=120)
        return tr(f"filter_name_{kind}", lang, TEXTS, values=values)

    if not why.active:
        return tr("empty_table", lang, TEXTS)
    if why.alone:
        key = "empty_alone" if len(why.alone) == 1 else "empty_alone_many"
        return tr(key, lang, TEXTS, filters=_join([name(k) for k in why.alone], lang))
    if why.without:
        parts = " ".join(tr("empty_without", lang, TEXTS, filter=name(k),
                            rows=counted(n, "one_row", "n_rows", lang))
                         for k, n in why.without)
        return tr("empty_combination", lang, TEXTS, without=parts)
    return tr("empty_all_together", lang, TEXTS,
              filters=_join([name(k) for k in why.active], lang))


def period_kinds_sql(info: TableInfo, filters: Filters) -> tuple[str, list[Any]] | None:
    """(whole years, half-years) among the selected rows, or None when the table has no
    periods: asked of the whole selection, so it holds whatever columns are chosen."""
    where, params = where_clause(info, filters)
    if info.has("halfjaar"):
        half = quote_ident("halfjaar") + " IS NOT NULL"
    elif info.has("periode_code"):
        half = quote_ident("periode_code") + " LIKE '%HJ%'"
    else:
        return None
    return (f"SELECT count(*) FILTER (WHERE NOT ({half})) AS hele, "
            f"count(*) FILTER (WHERE {half}) AS halve FROM {_from(info)}{where}", params)


def mixes_periods(db: Database, info: TableInfo, filters: Filters) -> bool:
    """Whether the selection holds half-years and whole years together."""
    query = period_kinds_sql(info, filters)
    if query is None:
        return False
    whole, half = db.query(*query).row(0)
    return bool(whole) and bool(half)


def mixed_warning(lang: Lang) -> str:
    return tr("mixed_periods", lang, TEXTS)


def column_help(info: TableInfo) -> dict[str, str]:
    """Column → description (with unit) for the preview's header tooltips."""
    return {c.name: c.description + (f" [{c.unit}]" if c.unit else "") for c in info.columns}


# --- exports --------------------------------------------------------------------------------

def export_context(db: Database, info: TableInfo, filters: Filters,
                   lang: Lang = "nl") -> exports.ExportContext:
    """Provenance for a download in the reader's language; the exact query is recorded too, so
    it can be re-run."""
    columns = selected_columns(info, filters)
    ctx = exports.context_from_db(db, info.qualified, applied_filters(info, filters),
                                  columns=columns, table=info.qualified, lang=lang,
                                  mixed_periods=mixes_periods(db, info, filters))
    sql, params = select_sql(info, filters)
    return dataclasses.replace(ctx, extra={"query": {"sql": sql, "params": params}})


def export_bytes(db: Database, info: TableInfo, filters: Filters, fmt: str,
                 lang: Lang = "nl") -> bytes:
    writer, _ = FORMATS[fmt]
    return writer(fetch(db, info, filters), export_context(db, info, filters, lang))


def exporter(db: Database, info: TableInfo, filters: Filters, fmt: str,
             lang: Lang = "nl") -> Callable[[], bytes]:
    """Deferred: the bytes are made only when someone clicks the download."""
    return lambda: export_bytes(db, info, filters, fmt, lang)


def counted(n: int, one: str, many: str, lang: Lang) -> str:
    """'1 rij', '2 rijen', '141.588 rijen' (Dutch thousands separators; English commas)."""
    return tr(one if n == 1 else many, lang, TEXTS, n=format_int(n, lang))


def downloads_intro(total: int, columns: Sequence[str], lang: Lang) -> str:
    """What the downloads hold; the flag column is announced only when the view lacks it."""
    plus = "" if exports.FLAG_COLUMN in columns else tr("plus_flag", lang, TEXTS)
    return tr("downloads_intro", lang, TEXTS,
              rows=counted(total, "one_row", "n_rows", lang),
              cols=counted(len(columns), "one_column", "n_columns", lang), plus=plus)


def export_name(info: TableInfo, filters: Filters, is_synthetisch: bool, fmt: str) -> str:
    return exports.export_filename(info.qualified, applied_filters(info, filters),
                                   is_synthetisch, fmt)


def mime(fmt: str) -> str:
    return FORMATS[fmt][1]


def xlsx_fits(total_rows: int) -> bool:
    return total_rows + exports.XLSX_HEADER_ROW <= exports.EXCEL_MAX_ROWS  # notice + header


def xlsx_max_rows() -> int:
    return exports.EXCEL_MAX_ROWS - exports.XLSX_HEADER_ROW


def caveats(info: BuildInfo, lang: Lang = "nl") -> list[str]:
    return exports.caveats_for(info.is_synthetisch, info.referentie_indeling, lang)


def symbols_frame(lang: Lang = "nl") -> pl.DataFrame:
    """The CBS symbol legend with meaning, handling and headers in `lang`."""
    rows = [(s.symbol, s.meaning, s.handling) if lang == "en"
            else (s.symbol, s.meaning_nl, s.handling_nl) for s in _symbols()]
    return pl.DataFrame(rows, orient="row", schema={
        tr(f"symbol_col_{name}", lang): pl.String for name in ("symbol", "meaning", "handling")})


@functools.lru_cache(maxsize=1)
def _symbols() -> tuple[SymbolMeta, ...]:
    return tuple(load_metadata().symbols)  # parsing metadata.yaml once per process


def citation(db: Database, info: BuildInfo, lang: Lang = "nl") -> str:
    sources = db.memo("data_sources", lambda: db.query(
        "SELECT bron_id, licentie FROM meta.bron ORDER BY bron_id").to_dicts())
    return exports.citation_line(sources, info.is_synthetisch, info.versie, info.built_at, lang)


# --- the whole database file ----------------------------------------------------------------

def duckdb_filename(info: BuildInfo) -> str:
    return f"wmo-atlas-{info.built_at[:10]}.duckdb"


def duckdb_version(db: Database) -> str:
    return db.memo("data_duckdb_version", lambda: str(
        db.query("SELECT duckdb_versie FROM meta.build").item()))


def file_reader(path: Path) -> Callable[[], bytes]:
    """Deferred: a rebuild can replace the file, and most page views never download it."""
    return path.read_bytes


def open_snippet(filename: str, lang: str = "nl") -> str:
    cli = "of in de DuckDB-CLI" if lang != "en" else "or in the DuckDB CLI"
    return ("import duckdb\n\n"
            f'con = duckdb.connect("{filename}", read_only=True)\n'
            'con.sql("SELECT * FROM meta.tabel").show()\n\n'
            f"# {cli}:  duckdb -readonly {filename}")


def human_size(n_bytes: int) -> str:
    size = float(n_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


# --- data dictionary ------------------------------------------------------------------------

def dictionary(db: Database, lang: Lang = "nl") -> pl.DataFrame:
    """meta.veld in table order: schema, tabel, kolom, type, eenheid, omschrijving (in
    `lang`)."""
    return db.memo(f"data_dictionary_{lang}", lambda: db.query(
        # '—' rather than an empty unit: NULL here means 'not a quantity', not unknown.
        "SELECT v.schema_naam AS schema, v.tabel, v.kolom, v.type, "
        f"coalesce(v.eenheid, '—') AS eenheid, {_described(lang, 'v')} AS omschrijving "
        "FROM meta.veld AS v LEFT JOIN duckdb_columns() AS c ON c.schema_name = v.schema_naam "
        " AND c.table_name = v.tabel AND c.column_name = v.kolom "
        " AND c.database_name = current_database() "
        "ORDER BY CASE v.schema_naam WHEN 'out' THEN 0 WHEN 'core' THEN 1 ELSE 2 END, "
        "v.tabel, c.column_index NULLS LAST, v.kolom"))


def table_overview(db: Database, lang: Lang = "nl") -> pl.DataFrame:
    return db.memo(f"data_table_overview_{lang}", lambda: db.query(
        f"SELECT t.schema_naam AS schema, t.tabel, t.sleutel, {_described(lang, 't')} "
        "AS omschrijving FROM meta.tabel AS t "
        "ORDER BY CASE schema_naam WHEN 'out' THEN 0 WHEN 'core' THEN 1 ELSE 2 END, tabel"))


def search(frame: pl.DataFrame, text: str, fields: Sequence[str]) -> pl.DataFrame:
    """Rows where every word of `text` occurs in one of `fields` (case-insensitive, literal)."""
    words = [w.lower() for w in text.split()]
    if not words:
        return frame
    haystack = pl.concat_str([pl.col(f).fill_null("") for f in fields], separator=" ")
    cond = pl.lit(True)
    for word in words:
        cond = cond & haystack.str.to_lowercase().str.contains(word, literal=True)
    return frame.filter(cond)


def search_dictionary(db: Database, text: str, lang: Lang = "nl") -> pl.DataFrame:
    return search(dictionary(db, lang), text,
                  ["schema", "tabel", "kolom", "eenheid", "omschrijving"])


def search_tables(db: Database, text: str, lang: Lang = "nl") -> pl.DataFrame:
    return search(table_overview(db, lang), text, ["schema", "tabel", "omschrijving"])


def localise_headers(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    names: Mapping[str, str] = {c: tr(f"dict_{c}", lang, TEXTS) for c in DICT_COLUMNS}
    return frame.rename({c: names[c] for c in frame.columns if c in names})


