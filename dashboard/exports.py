"""Downloads of exactly the filtered view, with provenance inside every file.

Plain module (no Streamlit) so tests and scripts call it directly. Every format carries the
title, filters, sources, licence, citation, caveats, CBS symbol legend and, when the database
was built from demo data, the synthetic flag *inside* the file: a CSV renamed or an XLSX
forwarded by mail must still say what it is.

Format decisions:
- CSV: UTF-8 with BOM (Excel detects the encoding), ',' separator and '.' decimals (what
  machine readers expect; Dutch Excel users get the XLSX). Provenance sits in leading lines
  starting with '#': read with ``polars.read_csv(f, comment_prefix="#")`` or
  ``pandas.read_csv(f, comment="#")``. An empty cell is NULL (suppressed/unknown), never 0.
- XLSX: sheet "data" has one notice row (row 1: the synthetic warning and the mixed-period
  warning when they apply, otherwise where the provenance is) above the column headers
  (row 2), always, so a script can rely on ``header=1`` whatever the build; the provenance
  lives in the sheets "bronnen" and "toelichting" and in the document properties. The sheet
  names stay the same in both languages (scripts select sheets by name); everything inside
  them follows the language. The data rows are rendered as sheet XML with vectorised polars
  expressions, because xlsxwriter's per-cell API needs ~18 s for 100 000 rows.
- Parquet: zstd, key-value metadata ``wmo_atlas`` = the context as JSON, column descriptions
  (and units) as field metadata in the stored Arrow schema. Written by polars' own writer
  (parallel, no Arrow copy); pyarrow, polars and DuckDB read back the same types either way.
- ZIP (as OWID): data.csv, data.parquet, metadata.json, README.md.
Every format gets an ``is_synthetisch`` column when the frame lacks it.

Language: every text a reader sees inside a file (caveats, licence, citation, symbol legend,
column descriptions, labels, README) follows ``ExportContext.lang``; the texts live in the
``[export]`` section of the locale files. Machine parts stay fixed: JSON keys, the
``is_synthetisch: true`` line, column names, sheet names, ISO dates in metadata.json.
Wherever a selection holds half-years and whole years together, each format says so
prominently (`mixes_periods`): a sum over such rows counts clients twice or three times.
"""

from __future__ import annotations

import functools
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter

from dashboard import fmt
from dashboard.i18n import section, tr
from etl.metadata import load_metadata

TEXTS = section("export")
SYNTHETIC_BANNER = tr("synthetic_banner", "nl", TEXTS)  # the Dutch one, as on every page
FLAG_COLUMN = "is_synthetisch"
PARQUET_KEY = "wmo_atlas"
EXCEL_MAX_ROWS = 1_048_576  # including the header row
XLSX_HEADER_ROW = 2  # 1-based: row 1 is the notice row, see the module docstring
BASE_CAVEATS = ("caveat_observational", "caveat_register", "caveat_provisional", "caveat_null",
                "caveat_rounding")


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    type: str
    description: str
    unit: str | None


@dataclass(frozen=True)
class ExportContext:
    title: str
    filters: dict[str, str | list[str]]
    table: str
    is_synthetisch: bool
    built_at: str
    versie: str
    referentie_indeling: int | None
    sources: list[dict[str, Any]]
    columns: list[ColumnDoc]
    caveats: list[str]
    symbols: list[dict[str, str]]
    licence: str
    citation: str
    extra: dict[str, Any] = field(default_factory=dict)
    lang: str = "nl"
    # Known from the whole selection (the Data page asks the database, so it holds even when
    # the chosen columns leave out periode_code/halfjaar); writers also check the rows.
    mixed_periods: bool = False

    def column_doc(self, name: str, dtype: str = "") -> ColumnDoc:
        for doc in self.columns:
            if doc.name == name:
                return doc
        if name == FLAG_COLUMN:
            return ColumnDoc(FLAG_COLUMN, "BOOLEAN", tr("flag_description", self.lang, TEXTS),
                             None)
        return ColumnDoc(name, dtype, "", None)


# --- building the context -------------------------------------------------------------------

def _normalise_filters(filters: Mapping[str, Any]) -> dict[str, str | list[str]]:
    # JSON, comment lines and file names all need plain text; multi-selects stay lists.
    out: dict[str, str | list[str]] = {}
    for key, value in filters.items():
        if isinstance(value, list | tuple | set | frozenset):
            out[str(key)] = [str(v) for v in value]
        else:
            out[str(key)] = "" if value is None else str(value)
    return out


def synthetic_banner(lang: str = "nl") -> str:
    return tr("synthetic_banner", lang, TEXTS)


def mixed_periods_text(lang: str = "nl") -> str:
    return tr("mixed_periods", lang, TEXTS)


def caveats_for(is_synthetisch: bool, referentie_indeling: int | None,
                lang: str = "nl") -> list[str]:
    indeling = (tr("indeling_of", lang, TEXTS, year=referentie_indeling) if referentie_indeling
                else tr("indeling_reference", lang, TEXTS))
    caveats = [tr(key, lang, TEXTS) for key in BASE_CAVEATS]
    caveats.append(tr("caveat_harmonised", lang, TEXTS, indeling=indeling))
    if is_synthetisch:
        caveats.insert(0, tr("caveat_synthetic", lang, TEXTS, banner=synthetic_banner(lang)))
    return caveats


def licence_line(sources: Sequence[Mapping[str, Any]], lang: str = "nl") -> str:
    licences = list(dict.fromkeys(str(s["licentie"]) for s in sources if s.get("licentie")))
    text = " · ".join(licences) if licences else tr("unknown", lang, TEXTS)
    return tr("licence", lang, TEXTS, licences=text)


def citation_line(sources: Sequence[Mapping[str, Any]], is_synthetisch: bool, versie: str,
                  built_at: str, lang: str = "nl") -> str:
    tables = [str(s["bron_id"]).removeprefix("cbs-") for s in sources
              if str(s.get("bron_id", "")).startswith("cbs-")]
    processing = tr("processing", lang, TEXTS, versie=versie, date=fmt.date(built_at, lang))
    if is_synthetisch:
        # Naming CBS as the source of invented numbers is exactly the mistake to prevent.
        return tr("citation_synthetic", lang, TEXTS, banner=synthetic_banner(lang),
                  processing=processing)
    return tr("citation_cbs", lang, TEXTS,
              tables=", ".join(tables) or tr("tables_unknown", lang, TEXTS),
              processing=processing)


def built_when(built_at: str, lang: str = "nl") -> str:
    """'1 december 2026 23:12 UTC': the build time as every page writes a date."""
    try:
        stamp = datetime.fromisoformat(built_at)
    except ValueError:
        return built_at or fmt.UNKNOWN
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC)
    return f"{fmt.date_time(stamp, lang)} UTC"  # naive stamps are UTC: the build writes UTC


def make_context(*, title: str, filters: Mapping[str, Any], table: str, is_synthetisch: bool,
                 built_at: str, versie: str, referentie_indeling: int | None,
                 sources: list[dict[str, Any]], columns: list[ColumnDoc],
                 symbols: list[dict[str, str]], lang: str = "nl",
                 mixed_periods: bool = False) -> ExportContext:
    """Derive caveats, licence and citation from the facts, so they cannot contradict them."""
    return ExportContext(
        title=title, filters=_normalise_filters(filters), table=table,
        is_synthetisch=is_synthetisch, built_at=built_at, versie=versie,
        referentie_indeling=referentie_indeling, sources=sources, columns=columns,
        caveats=caveats_for(is_synthetisch, referentie_indeling, lang), symbols=symbols,
        licence=licence_line(sources, lang),
        citation=citation_line(sources, is_synthetisch, versie, built_at, lang),
        lang=lang, mixed_periods=mixed_periods,
    )


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value or "")


def context_from_db(con: duckdb.DuckDBPyConnection, title: str, filters: Mapping[str, Any],
                    columns: Sequence[str] | None = None,
                    table: str = "out.gemeente_periode", lang: str = "nl",
                    mixed_periods: bool = False) -> ExportContext:
    """Read build record, sources and column docs (descriptions in `lang`); `columns` None =
    every column of `table`."""
    cur = con.cursor()  # a cursor per use, so a shared app connection stays thread-safe
    try:
        build = cur.execute("SELECT built_at, versie, referentie_indeling, is_synthetisch "
                            "FROM meta.build").fetchone()
        if build is None:
            raise ValueError("meta.build is empty: not a finished wmo-atlas build")
        built_at, versie, ref, synthetic = build
        src = cur.execute("SELECT bron_id, titel, producent, url, opgehaald_op, licentie, "
                          "is_synthetisch FROM meta.bron ORDER BY bron_id").fetchall()
        names = ["bron_id", "titel", "producent", "url", "opgehaald_op", "licentie",
                 "is_synthetisch"]
        sources = [dict(zip(names, row, strict=True)) for row in src]
        schema, _, name = table.partition(".")
        # One of two fixed column names, never text from a visitor.
        described = ("coalesce(omschrijving_en, omschrijving)" if lang == "en"
                     else "coalesce(omschrijving, omschrijving_en)")
        veld = cur.execute(f"SELECT kolom, type, {described}, eenheid FROM meta.veld "
                           "WHERE schema_naam = ? AND tabel = ?", [schema, name]).fetchall()
    finally:
        cur.close()
    docs = {k: ColumnDoc(k, t, d or "", u) for k, t, d, u in veld}
    wanted = list(columns) if columns is not None else list(docs)
    column_docs = [docs.get(c) or ColumnDoc(c, "", "", None) for c in wanted]
    return make_context(title=title, filters=filters, table=table, is_synthetisch=bool(synthetic),
                        built_at=_iso(built_at), versie=str(versie), referentie_indeling=ref,
                        sources=sources, columns=column_docs, symbols=symbol_legend(lang),
                        lang=lang, mixed_periods=mixed_periods)


@functools.lru_cache(maxsize=1)
def _symbol_legend() -> tuple[tuple[str, str, str, str, str], ...]:
    return tuple((s.symbol, s.meaning, s.handling, s.meaning_nl or s.meaning,
                  s.handling_nl or s.handling) for s in load_metadata().symbols)


def symbol_legend(lang: str = "en") -> list[dict[str, str]]:
    """The CBS symbol legend as dicts (symbol, meaning, handling) in `lang`; without one in the
    metadata's own language, English. Parsing metadata.yaml takes ~0.1 s and it cannot change
    while the app runs, so it is read once per process."""
    dutch = lang == "nl"
    return [{"symbol": a, "meaning": d if dutch else b, "handling": e if dutch else c}
            for a, b, c, d, e in _symbol_legend()]


def mixes_periods(frame: pl.DataFrame) -> bool:
    """Whether the rows hold half-years and whole years together: `halfjaar` NULL beside 1/2,
    or else period codes ending JJ00 beside HJ01/HJ02. A whole year is not the sum of its
    half-years, so a sum over such rows counts clients two or three times."""
    if frame.height == 0:
        return False
    if "halfjaar" in frame.columns:
        nulls = frame.get_column("halfjaar").null_count()
        return 0 < nulls < frame.height
    if "periode_code" in frame.columns and frame.schema["periode_code"] == pl.String:
        codes = frame.get_column("periode_code")
        whole = codes.str.contains("JJ", literal=True).any()
        half = codes.str.contains("HJ", literal=True).any()
        return bool(whole and half)
    return False


def _mixed(frame: pl.DataFrame, ctx: ExportContext) -> bool:
    return ctx.mixed_periods or mixes_periods(frame)


def context_dict(ctx: ExportContext, frame: pl.DataFrame | None = None) -> dict[str, Any]:
    """The context as JSON-ready dict; with a frame also row_count and the exported columns."""
    mixed = _mixed(frame, ctx) if frame is not None else ctx.mixed_periods
    out: dict[str, Any] = {
        "title": ctx.title,
        "lang": ctx.lang,
        "is_synthetisch": ctx.is_synthetisch,
        "waarschuwing": synthetic_banner(ctx.lang) if ctx.is_synthetisch else None,
        "mixed_periods": mixed,
        "waarschuwing_perioden": mixed_periods_text(ctx.lang) if mixed else None,
        "table": ctx.table,
        "filters": ctx.filters,
        "build": {"built_at": ctx.built_at, "versie": ctx.versie,
                  "referentie_indeling": ctx.referentie_indeling},
        "sources": ctx.sources,
        "licence": ctx.licence,
        "citation": ctx.citation,
        "caveats": ctx.caveats,
        "symbols": ctx.symbols,
        "columns": [asdict(c) for c in ctx.columns],
        **ctx.extra,
    }
    if frame is not None:
        out["row_count"] = frame.height
        out["columns"] = [asdict(ctx.column_doc(c, str(t))) for c, t in frame.schema.items()]
    return out


# --- shared helpers -------------------------------------------------------------------------

def with_flag(frame: pl.DataFrame, ctx: ExportContext) -> pl.DataFrame:
    """The rows as shown, plus an is_synthetisch column when the view does not have one."""
    if FLAG_COLUMN in frame.columns:
        return frame
    return frame.with_columns(pl.lit(ctx.is_synthetisch, dtype=pl.Boolean).alias(FLAG_COLUMN))


def _filter_text(ctx: ExportContext) -> str:
    parts = [f"{k}={', '.join(v) if isinstance(v, list) else v}" for k, v in ctx.filters.items()]
    return "; ".join(parts) or tr("no_filters", ctx.lang, TEXTS)


def _rows(n: int, lang: str) -> str:
    return tr("rows_one" if n == 1 else "rows_many", lang, TEXTS, n=fmt.integer(n, lang))


def _warning_lines(frame: pl.DataFrame, ctx: ExportContext) -> list[str]:
    """'LET OP: …' lines: the synthetic flag, then the mixed-period warning."""
    attention = tr("attention", ctx.lang, TEXTS)
    lines = []
    if ctx.is_synthetisch:
        lines.append(f"{attention}: {synthetic_banner(ctx.lang)}. "
                     f"{tr('not_for_research', ctx.lang, TEXTS)}")
    if _mixed(frame, ctx):
        lines.append(f"{attention}: {mixed_periods_text(ctx.lang)}")
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- CSV ------------------------------------------------------------------------------------

def csv_header_lines(ctx: ExportContext, frame: pl.DataFrame | None = None) -> list[str]:
    """The '#' lines above the CSV header; with the rows, the mixed-period check sees them."""
    lang = ctx.lang
    lines = [tr("csv_title", lang, TEXTS, title=ctx.title),
             *_warning_lines(frame if frame is not None else pl.DataFrame(), ctx)]
    lines += [
        f"is_synthetisch: {'true' if ctx.is_synthetisch else 'false'}",
        tr("table_line", lang, TEXTS, table=ctx.table),
        tr("filters_line", lang, TEXTS, filters=_filter_text(ctx)),
        ctx.citation,
        ctx.licence,
        tr("built_line", lang, TEXTS, when=built_when(ctx.built_at, lang), versie=ctx.versie,
           indeling=ctx.referentie_indeling),
        tr("read_hint_csv", lang, TEXTS),
        tr("formula_note", lang, TEXTS),
        *[tr("csv_caveat", lang, TEXTS, text=c) for c in ctx.caveats],
        *[tr("csv_symbol", lang, TEXTS, **s) for s in ctx.symbols],
    ]
    return [f"# {_one_line(line)}" for line in lines]


def _needs_full_quoting(frame: pl.DataFrame) -> bool:
    # A data line starting with '#' would be dropped as a comment; quoting strings prevents it.
    strings = [c for c, t in frame.schema.items() if t == pl.String]
    if not strings:
        return False
    hit = frame.select(pl.any_horizontal(pl.col(strings).str.contains("#", literal=True).any()))
    return bool(hit.item())


# OWASP's rule for CSV injection: a cell a spreadsheet would run as a formula gets a leading
# apostrophe. Register text and console results are data from outside.
FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    strings = [c for c, t in frame.schema.items() if t == pl.String]
    if not strings:
        return frame
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START)).then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c)).alias(c)
        for c in strings)


def to_csv(frame: pl.DataFrame, ctx: ExportContext) -> bytes:
    data = neutralise_formulas(with_flag(frame, ctx))
    quote = "non_numeric" if _needs_full_quoting(data) else "necessary"
    buf = io.BytesIO()
    buf.write(("\ufeff" + "\n".join(csv_header_lines(ctx, data)) + "\n").encode())
    # Writing into the buffer avoids two full copies of a large body (str, then bytes).
    data.write_csv(buf, quote_style=quote)
    return buf.getvalue()


# --- XLSX -----------------------------------------------------------------------------------

def _col_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_XML_ILLEGAL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"


def _xml_text(expr: pl.Expr) -> pl.Expr:
    return (expr.str.replace_all(_XML_ILLEGAL, "")
            .str.replace_all("&", "&amp;", literal=True)
            .str.replace_all("<", "&lt;", literal=True)
            .str.replace_all(">", "&gt;", literal=True))


def _cell_expr(name: str, dtype: pl.DataType, letter: str, rownum: pl.Expr) -> pl.Expr:
    """Sheet XML of one cell per row; NULL gives '' (no cell), as an empty Excel cell."""
    col = pl.col(name)
    ref = pl.concat_str(pl.lit(f'<c r="{letter}'), rownum)
    if dtype == pl.Boolean:
        value = col.cast(pl.Int8).cast(pl.String)
        cell = pl.concat_str(ref, pl.lit('" t="b"><v>'), value, pl.lit("</v></c>"))
    elif dtype.is_numeric():
        num = col.cast(pl.Float64)
        # Excel has no NaN/inf; they become empty cells like NULL.
        value = pl.when(num.is_finite()).then(col.cast(pl.String))
        cell = pl.concat_str(ref, pl.lit('"><v>'), value, pl.lit("</v></c>"))
    else:
        text = _xml_text(col.cast(pl.String)) if dtype != pl.Object else col.cast(pl.String)
        cell = pl.concat_str(ref, pl.lit('" t="inlineStr"><is><t xml:space="preserve">'), text,
                             pl.lit("</t></is></c>"))
    return cell.fill_null("")


def _prepare_for_excel(frame: pl.DataFrame) -> pl.DataFrame:
    # Nested and exotic types have no Excel cell type; their text form is what a reader needs.
    simple = (pl.Boolean, pl.String)
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype in simple or dtype.is_numeric():
            exprs.append(pl.col(name))
        elif dtype.is_nested():
            exprs.append(pl.col(name).map_elements(str, return_dtype=pl.String))
        else:
            exprs.append(pl.col(name).cast(pl.String))
    return frame.select(exprs)


def sheet_rows_xml(frame: pl.DataFrame, first_row: int = XLSX_HEADER_ROW + 1) -> str:
    """<row> elements for the data rows (no header), built column-wise by polars."""
    if frame.height == 0:
        return ""
    data = _prepare_for_excel(frame)
    rownum = (pl.int_range(pl.len(), dtype=pl.Int64) + first_row).cast(pl.String)
    cells = [_cell_expr(n, t, _col_letter(i), rownum)
             for i, (n, t) in enumerate(data.schema.items())]
    rows = data.select(pl.concat_str([pl.lit('<row r="'), rownum, pl.lit('">'), *cells,
                                      pl.lit("</row>")]).alias("x"))
    return "".join(rows.get_column("x").to_list())


def _write_table(ws: Any, start: int, rows: Sequence[Sequence[Any]], bold: Any) -> int:
    ws.write_row(start, 0, rows[0], bold)
    for i, row in enumerate(rows[1:], start + 1):
        ws.write_row(i, 0, ["" if v is None else v for v in row])
    return start + len(rows) + 1


def _bronnen_sheet(wb: Any, ctx: ExportContext, bold: Any) -> None:
    lang = ctx.lang
    ws = wb.add_worksheet("bronnen")
    ws.set_column(0, 0, 26)
    ws.set_column(1, 6, 40)
    row = 0
    if ctx.is_synthetisch:
        ws.write(row, 0, synthetic_banner(lang), wb.add_format({"bold": True, "font_color": "red"}))
        row += 2
    ws.write_row(row, 0, [tr("label_citation", lang, TEXTS), ctx.citation])
    ws.write_row(row + 1, 0, [tr("label_licence", lang, TEXTS), ctx.licence])
    ws.write_row(row + 2, 0, [tr("label_table", lang, TEXTS), ctx.table])
    ws.write_row(row + 3, 0, [tr("label_built", lang, TEXTS),
                              tr("built_value", lang, TEXTS, when=built_when(ctx.built_at, lang),
                                 versie=ctx.versie)])
    labels = [tr(k, lang, TEXTS) for k in ("label_source", "label_source_title", "label_producer",
                                           "label_url", "label_retrieved", "label_licence",
                                           "label_synthetic")]
    table = [labels, *[[s.get("bron_id"), s.get("titel"), s.get("producent"), s.get("url"),
                        _retrieved(s, lang), s.get("licentie"), s.get("is_synthetisch")]
                       for s in ctx.sources]]
    _write_table(ws, row + 5, table, bold)


def _retrieved(source: Mapping[str, Any], lang: str) -> str:
    value = source.get("opgehaald_op")
    return fmt.date(value, lang) if value else tr("unknown", lang, TEXTS)


def _toelichting_sheet(wb: Any, ctx: ExportContext, frame: pl.DataFrame, bold: Any) -> None:
    lang = ctx.lang

    def t(key: str) -> str:
        return tr(key, lang, TEXTS)

    ws = wb.add_worksheet("toelichting")
    ws.set_column(0, 0, 28)
    ws.set_column(1, 3, 60)
    ws.write_row(0, 0, [t("label_title"), ctx.title], bold)
    ws.write_row(1, 0, ["is_synthetisch", ctx.is_synthetisch])
    ws.write_row(2, 0, [t("label_rows"), frame.height])
    ws.write_row(3, 0, [t("label_read"), tr("read_hint_xlsx", lang, TEXTS)])
    row = 5
    warnings = _warning_lines(frame, ctx)
    for i, line in enumerate(warnings):
        ws.write(row + i, 0, line, wb.add_format({"bold": True, "font_color": "red"}))
    row += len(warnings) + (1 if warnings else 0)
    ws.write(row, 0, t("label_caveats"), bold)
    for i, caveat in enumerate(ctx.caveats, row + 1):
        ws.write(i, 1, caveat)
    row += len(ctx.caveats) + 2
    filters = [[t("label_filter"), t("label_value")],
               *[[k, ", ".join(v) if isinstance(v, list) else v] for k, v in ctx.filters.items()]]
    row = _write_table(ws, row, filters, bold)
    symbols = [[t("label_symbol"), t("label_meaning"), t("label_handling")],
               *[[s["symbol"], s["meaning"], s["handling"]] for s in ctx.symbols]]
    row = _write_table(ws, row, symbols, bold)
    docs = [ctx.column_doc(c, str(dtype)) for c, dtype in frame.schema.items()]
    columns = [[t("label_column"), t("label_description"), t("label_unit"), t("label_type")],
               *[[d.name, d.description, d.unit, d.type] for d in docs]]
    _write_table(ws, row, columns, bold)


def xlsx_notice(frame: pl.DataFrame, ctx: ExportContext) -> tuple[str, bool]:
    """(row 1 of the data sheet, whether it is a warning): the synthetic and mixed-period
    warnings where they apply, otherwise where to find the provenance."""
    warnings = _warning_lines(frame, ctx)
    text = " · ".join(warnings) if warnings else tr("xlsx_plain", ctx.lang, TEXTS, title=ctx.title)
    return f"{text} {tr('xlsx_header_note', ctx.lang, TEXTS)}", bool(warnings)


def _workbook_shell(frame: pl.DataFrame, ctx: ExportContext) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    banner = synthetic_banner(ctx.lang)
    subject = f"{banner} · {ctx.table}" if ctx.is_synthetisch else ctx.table
    filters = tr("filters_line", ctx.lang, TEXTS, filters=_filter_text(ctx))
    wb.set_properties({"title": ctx.title, "subject": subject, "author": "wmo-atlas",
                       "keywords": "wmo-atlas, Wmo, CBS" + (", SYNTHETISCH" * ctx.is_synthetisch),
                       "comments": f"{ctx.citation}. {ctx.licence} {filters}"})
    wb.set_custom_property("is_synthetisch", ctx.is_synthetisch)
    wb.set_custom_property("wmo_atlas_versie", ctx.versie)
    bold = wb.add_format({"bold": True})
    ws = wb.add_worksheet("data")
    notice, warning = xlsx_notice(frame, ctx)
    style = ({"bold": True, "font_color": "red"} if warning
             else {"italic": True, "font_color": "#555555"})
    ws.write(0, 0, notice, wb.add_format(style))
    header = XLSX_HEADER_ROW - 1  # 0-based
    ws.write_row(header, 0, frame.columns, bold)
    # Frozen: notice and header stay in view while scrolling, so the warning cannot scroll away.
    ws.freeze_panes(header + 1, 0)
    ws.set_column(0, max(frame.width - 1, 0), 16)
    ws.autofilter(header, 0, header + max(frame.height, 1), max(frame.width - 1, 0))
    _bronnen_sheet(wb, ctx, bold)
    _toelichting_sheet(wb, ctx, frame, bold)
    wb.close()
    return buf.getvalue()


def to_xlsx(frame: pl.DataFrame, ctx: ExportContext) -> bytes:
    data = with_flag(frame, ctx)
    if data.height + XLSX_HEADER_ROW > EXCEL_MAX_ROWS:
        raise ValueError(f"{data.height} rows do not fit in Excel (max "
                         f"{EXCEL_MAX_ROWS - XLSX_HEADER_ROW}); choose CSV or Parquet")
    shell = _workbook_shell(data, ctx)
    # xlsxwriter wrote notice and header; splice the vectorised rows into its sheet XML.
    last = f"{_col_letter(max(data.width - 1, 0))}{data.height + XLSX_HEADER_ROW}"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(shell)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                xml = content.decode()
                xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', xml,
                             count=1)
                xml = xml.replace("</sheetData>", sheet_rows_xml(data) + "</sheetData>", 1)
                content = xml.encode()
            dst.writestr(info, content, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return out.getvalue()


# --- Parquet --------------------------------------------------------------------------------

# zstd level 1: as fast as lz4/snappy in polars but smaller (1 M benchmark rows of
# out.gemeente_periode: zstd-1 8.3 MB, lz4 10.5 MB, snappy 12.4 MB), and pyarrow, polars and
# DuckDB all read it; level 3 is 2 % smaller for 10-20 % more time. pyarrow made 4.7 MB of
# those rows because it also dictionary-encodes floats, which pays off there only because the
# benchmark repeats the table ~7 times; for the table itself (141 588 distinct rows) this file
# is the smaller one: 1.20 MB against 1.42 MB.
PARQUET_COMPRESSION = "zstd"
PARQUET_COMPRESSION_LEVEL = 1
# Fixed row groups make the file depend on the rows only, not on how the frame happens to be
# chunked (polars otherwise writes one group per chunk), and give readers a few groups to read
# in parallel.
PARQUET_ROW_GROUP_ROWS = 250_000


def _field_metadata(doc: ColumnDoc) -> dict[str, str]:
    meta = {"description": doc.description}
    if doc.unit:
        meta["unit"] = doc.unit
    return meta


def parquet_schema(types: pa.Schema, data: pl.DataFrame, ctx: ExportContext) -> pa.Schema:
    """`types` with each column's description/unit and the context JSON under ``wmo_atlas``."""
    fields = [f.with_metadata(_field_metadata(ctx.column_doc(f.name, str(data.schema[f.name]))))
              for f in types]
    context = json.dumps(context_dict(ctx, data), ensure_ascii=False, default=str)
    return pa.schema(fields, metadata={PARQUET_KEY: context})


def _arrow_types(data: pl.DataFrame) -> pa.Schema:
    # Oldest compat level: plain large_string instead of string_view, so older readers cope.
    # Taken from an empty frame: the types without converting a single row.
    return data.clear().to_arrow(compat_level=pl.CompatLevel.oldest()).schema


def _polars_keeps_metadata(schema: pl.Schema) -> bool:
    """polars 2.1 drops the schema-level metadata of `arrow_schema` (so pyarrow's read_table no
    longer shows ``wmo_atlas``) once a column is nested or categorical; such frames (only SQL
    console results have them) go through pyarrow."""
    return not any(t.is_nested() or isinstance(t, pl.Categorical | pl.Enum | pl.Object)
                   for t in schema.dtypes())


def _write_polars(data: pl.DataFrame, schema: pa.Schema) -> bytes:
    # polars' own writer encodes the columns in parallel and reads the frame as it is; pyarrow
    # needs a converted copy (~50 ms per 1 M rows) and encodes on one core.
    buf = io.BytesIO()
    data.write_parquet(buf, compression=PARQUET_COMPRESSION,
                       compression_level=PARQUET_COMPRESSION_LEVEL,
                       row_group_size=PARQUET_ROW_GROUP_ROWS,
                       # File key-value metadata (what DuckDB's parquet_kv_metadata lists) ...
                       metadata={PARQUET_KEY: schema.metadata[PARQUET_KEY.encode()].decode()},
                       # ... and the stored Arrow schema: types, field metadata and the same
                       # context, which is what pyarrow's read_table(...).schema shows.
                       arrow_schema=schema)
    return buf.getvalue()


def _write_pyarrow(data: pl.DataFrame, ctx: ExportContext) -> bytes:
    table = data.to_arrow(compat_level=pl.CompatLevel.oldest())
    schema = parquet_schema(table.schema, data, ctx)
    # Same types, only metadata added: re-wrapping the batches avoids a full cast (~0.1 s/1M).
    table = pa.Table.from_batches(table.to_batches(), schema=schema)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression=PARQUET_COMPRESSION,
                   compression_level=PARQUET_COMPRESSION_LEVEL,
                   row_group_size=PARQUET_ROW_GROUP_ROWS)
    return buf.getvalue()


def to_parquet(frame: pl.DataFrame, ctx: ExportContext) -> bytes:
    """The rows as Parquet; readers get the same types whichever writer was used."""
    data = with_flag(frame, ctx)
    if _polars_keeps_metadata(data.schema):
        return _write_polars(data, parquet_schema(_arrow_types(data), data, ctx))
    return _write_pyarrow(data, ctx)


# --- ZIP ------------------------------------------------------------------------------------

def readme_text(frame: pl.DataFrame, ctx: ExportContext) -> str:
    data = with_flag(frame, ctx)
    lang = ctx.lang

    def t(key: str, **fields: object) -> str:
        return tr(key, lang, TEXTS, **fields)

    out = [f"# {ctx.title}", ""]
    if ctx.is_synthetisch:
        out += [f"> **{synthetic_banner(lang)}.** {t('readme_synthetic')}", ""]
    if _mixed(data, ctx):
        out += [f"> **{t('attention')}: {mixed_periods_text(lang)}**", ""]
    out += [
        f"## {t('readme_whats_inside')}",
        "",
        t("readme_intro", rows=_rows(data.height, lang), table=ctx.table),
        "",
        "- " + t("readme_csv", hint=t("read_hint_csv")),
        "- " + t("readme_parquet"),
        "- " + t("readme_json"),
        "",
        t("readme_built", when=built_when(ctx.built_at, lang), versie=ctx.versie,
          indeling=ctx.referentie_indeling),
        "",
        f"## {t('readme_filters')}",
        "",
        *[f"- {k}: {', '.join(v) if isinstance(v, list) else v}" for k, v in ctx.filters.items()],
        *([f"- {t('no_filters')}"] if not ctx.filters else []),
        "",
        f"## {t('readme_columns')}",
        "",
        _md_row(t(k).lower() for k in ("label_column", "label_unit", "label_description")),
        "| --- | --- | --- |",
    ]
    for name, dtype in data.schema.items():
        doc = ctx.column_doc(name, str(dtype))
        desc = _one_line(doc.description).replace("|", "\\|") or "—"
        out.append(f"| `{name}` | {doc.unit or '—'} | {desc} |")
    out += ["", f"## {t('readme_sources')}", "",
            _md_row(t(k).lower() for k in ("label_source", "label_source_title", "label_producer",
                                           "label_licence", "label_retrieved")),
            "| --- | --- | --- | --- | --- |"]
    for s in ctx.sources:
        flag = f" ({t('synthetic_source')})" if s.get("is_synthetisch") else ""
        out.append(f"| `{s.get('bron_id')}`{flag} | {s.get('titel') or '—'} | "
                   f"{s.get('producent') or '—'} | {s.get('licentie') or '—'} | "
                   f"{_retrieved(s, lang)} |")
    out += ["", ctx.licence, "", f"## {t('readme_symbols')}", "",
            _md_row(t(k).lower() for k in ("label_symbol", "label_meaning", "label_handling")),
            "| --- | --- | --- |"]
    out += [f"| `{s['symbol']}` | {s['meaning']} | {s['handling']} |" for s in ctx.symbols]
    out += ["", f"## {t('readme_caveats')}", "", *[f"- {c}" for c in ctx.caveats], "",
            f"## {t('readme_cite')}", "", ctx.citation, ""]
    return "\n".join(out)


def _md_row(cells: Any) -> str:
    return "| " + " | ".join(cells) + " |"


def _zip_time(ctx: ExportContext) -> tuple[int, int, int, int, int, int]:
    # Same build + same view = byte-identical ZIP, so downloads can be compared by checksum.
    try:
        t = datetime.fromisoformat(ctx.built_at)
    except ValueError:
        return (1980, 1, 1, 0, 0, 0)
    return (max(t.year, 1980), t.month, t.day, t.hour, t.minute, t.second)


def to_zip(frame: pl.DataFrame, ctx: ExportContext) -> bytes:
    data = with_flag(frame, ctx)
    meta = json.dumps(context_dict(ctx, data), ensure_ascii=False, indent=2, default=str)
    members = [
        ("README.md", readme_text(data, ctx).encode(), zipfile.ZIP_DEFLATED),
        ("metadata.json", meta.encode(), zipfile.ZIP_DEFLATED),
        ("data.csv", to_csv(data, ctx), zipfile.ZIP_DEFLATED),
        ("data.parquet", to_parquet(data, ctx), zipfile.ZIP_STORED),  # already zstd
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content, method in members:
            info = zipfile.ZipInfo(name, date_time=_zip_time(ctx))
            info.compress_type = method
            zf.writestr(info, content)
    return buf.getvalue()


# --- file names -----------------------------------------------------------------------------

def _slug(text: str, lower: bool = True) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    if lower:
        ascii_text = ascii_text.lower()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-")


NAME_MAX = 150  # characters of a file name, extension included; far below every OS limit
LIST_MAX = 3  # up to this many codes are named, more are counted


def filename(ctx: ExportContext, ext: str) -> str:
    """e.g. wmo-atlas_hulp-bij-het-huishouden_2024JJ00_A019507.csv; ASCII, no spaces, stable."""
    return export_filename(ctx.title, ctx.filters, ctx.is_synthetisch, ext)


def _values(filters: Mapping[str, str | list[str]], *keys: str) -> list[str]:
    for key in keys:
        value = filters.get(key)
        if value:
            # Sorted: the same choice in another order is the same file.
            return sorted(value) if isinstance(value, list) else [value]
    return []


def _codes(values: Sequence[str], word: str) -> str:
    if len(values) > LIST_MAX:
        return f"{len(values)}-{word}"
    return "-".join(_slug(v, lower=False)[:12] for v in values)


def _periods(values: Sequence[str]) -> str:
    if len(values) > LIST_MAX:
        first, last = _slug(values[0], lower=False)[:12], _slug(values[-1], lower=False)[:12]
        return f"{len(values)}-perioden-{first}-tot-{last}"
    return _codes(values, "perioden")


def _years(filters: Mapping[str, str | list[str]]) -> str:
    low, high = (_slug(str(filters.get(k) or ""))[:4] for k in ("jaar_van", "jaar_tot"))
    if low and high:
        return f"jaren-{low}-{high}"
    return f"vanaf-{low}" if low else (f"tot-{high}" if high else "")


def filename_parts(title: str, filters: Mapping[str, Any]) -> list[str]:
    """The main filters as name parts, in a fixed order: title (the table on the Data page),
    provincie, gemeente(n), periode, jaar range, voorziening."""
    f = _normalise_filters(filters)
    tabel = f.get("tabel")
    parts = [_slug(title)[:40].strip("-") or "export"]
    if isinstance(tabel, str) and tabel and _slug(tabel) != _slug(title):
        parts.append(_slug(tabel)[:30].strip("-"))
    parts.append(_slug(" ".join(_values(f, "provincie")))[:24].strip("-"))
    parts.append(_codes(_values(f, "gemeenten", "gemeente"), "gemeenten"))
    parts.append(_periods(_values(f, "periode", "periode_code", "perioden")))
    parts.append(_years(f))
    parts.append(_codes(_values(f, "voorziening", "voorzieningen"), "voorzieningen"))
    return [p for p in parts if p]


def export_filename(title: str, filters: Mapping[str, Any], is_synthetisch: bool,
                    ext: str) -> str:
    """`filename` without a full context: a page must name its download on every rerun, while
    the context (sources, symbols) is only built when someone clicks. Bounded to NAME_MAX;
    the SYNTHETISCH mark is never the part that is cut."""
    suffix = "." + (_slug(ext.lstrip("."))[:8] or "bin")
    flag = "_SYNTHETISCH" if is_synthetisch else ""
    stem = "_".join(["wmo-atlas", *filename_parts(title, filters)])
    stem = stem[:NAME_MAX - len(flag) - len(suffix)].rstrip("-_")
    return stem + flag + suffix
