"""The Rechtspraak page without Streamlit: published Wmo 2015 rulings (out.uitspraak), filtered
by gemeente, provincie, year, court, household help, results-only and outcome; counts per year
by the werkwijze of the gemeente; rulings per 10 000 clients pooled per werkwijze group; the
downloads of exactly the filtered rows.

The table and every count come from the same `filtered` frame, so what the page counts, shows
and hands out cannot disagree. Only published rulings are in this source and objections never
reach a court: every count carries that caveat. A synthetic demo ruling has no url
(out.uitspraak sets it NULL), so it is never linked to rechtspraak.nl.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import altair as alt
import polars as pl

from dashboard import catalog, exports, fmt, measures
from dashboard.catalog import BuildInfo
from dashboard.charts import WERKWIJZE_COLOURS, configure, titled
from dashboard.db import Database
from dashboard.i18n import section, tr

TEXTS = section("rechtspraak")
TABLE = "out.uitspraak"
PAGE = "rechtspraak"
GROUPS = ("resultaatgericht", "uren", "onbekend")
# The outcomes classify.py gives, plus NULL (no verdict found) as 'onbekend'.
UITKOMSTEN = ("gegrond", "ongegrond", "niet_ontvankelijk", "onbekend")
SUMMARY_CHARS = 200
ECLI = re.compile(r"ECLI:NL:[A-Z]+:\d{4}:[A-Z0-9]+")
# The form core.uitspraak stores for a real ruling (docs/rechtspraak.md).
RULING_URL = "https://uitspraken.rechtspraak.nl/InzienDocument?id={ecli}"
MAAT = measures.measure("uitspraken_per_10000")

FORMATS: dict[str, tuple[Callable[[pl.DataFrame, exports.ExportContext], bytes], str]] = {
    "csv": (exports.to_csv, "text/csv"),
    "xlsx": (exports.to_xlsx,
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "parquet": (exports.to_parquet, "application/vnd.apache.parquet"),
}


@dataclass(frozen=True)
class Filters:
    """The reader's choices; None / False means 'no filter' for that kind."""

    gemeente: str | None = None
    provincie: str | None = None
    jaar: int | None = None
    instantie: str | None = None
    hbh: bool = False
    resultaatgericht: bool = False
    uitkomst: str | None = None
    ecli: str | None = None

    def applied(self) -> dict[str, str]:
        """The filters that act, as recorded inside every download and in the page's URL."""
        out: dict[str, str] = {}
        for name, value in dataclasses.asdict(self).items():
            if value is True:
                out[name] = "1"
            elif value not in (None, False, ""):
                out[name] = str(value)
        return out


# --- links ------------------------------------------------------------------------------------

def ecli_in(text: object) -> str | None:
    """The first ECLI in a text (a register's bron_url), or None."""
    if not isinstance(text, str):
        return None
    found = ECLI.search(text)
    return found.group(0) if found else None


def ruling_url(ecli: str | None) -> str | None:
    """rechtspraak.nl's page of a real ruling; None for anything that is not an ECLI."""
    if ecli is None or ECLI.fullmatch(ecli) is None:
        return None
    return RULING_URL.format(ecli=ecli)


def page_link(**params: str) -> str:
    """A link to this page with filters, relative so it also works under a base path."""
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{PAGE}?{query}" if query else PAGE


# --- the rulings ------------------------------------------------------------------------------

def rulings(db: Database) -> pl.DataFrame:
    """out.uitspraak, newest first (the table's own order is oldest first)."""
    return db.memo("rechtspraak_rulings", lambda: db.query(
        f"SELECT * FROM {TABLE} ORDER BY uitspraakdatum DESC NULLS LAST, ecli"))


def known_eclis(db: Database) -> frozenset[str]:
    return db.memo("rechtspraak_eclis", lambda: frozenset(rulings(db)["ecli"].to_list()))


def filter_expr(filters: Filters) -> pl.Expr:
    parts: list[pl.Expr] = [pl.lit(True)]
    if filters.gemeente:
        parts.append(pl.col("gemeente_code") == filters.gemeente)
    if filters.provincie:
        parts.append(pl.col("provincie_naam") == filters.provincie)
    if filters.jaar is not None:
        parts.append(pl.col("jaar") == filters.jaar)
    if filters.instantie:
        parts.append(pl.col("instantie") == filters.instantie)
    if filters.hbh:
        parts.append(pl.col("is_hbh").fill_null(False))
    if filters.resultaatgericht:
        parts.append(pl.col("is_resultaatgericht").fill_null(False))
    if filters.uitkomst == "onbekend":
        parts.append(pl.col("uitkomst").is_null())
    elif filters.uitkomst:
        parts.append(pl.col("uitkomst") == filters.uitkomst)
    if filters.ecli:
        parts.append(pl.col("ecli") == filters.ecli)
    return pl.all_horizontal(parts)


def filtered(db: Database, filters: Filters) -> pl.DataFrame:
    """The rulings the filters keep, in out.uitspraak's columns: table, counts and downloads."""
    return rulings(db).filter(filter_expr(filters))


def year_options(db: Database) -> list[int]:
    """Years with rulings, newest first."""
    return sorted({int(j) for j in rulings(db)["jaar"].drop_nulls().to_list()}, reverse=True)


def court_options(db: Database) -> list[str]:
    """The CRvB first, then the rechtbanken by name."""
    frame = rulings(db).select("instantie", "instantie_type").drop_nulls("instantie").unique()
    return frame.sort(pl.col("instantie_type") != "crvb", "instantie")["instantie"].to_list()


def uitkomst_label(uitkomst: str | None, lang: str) -> str:
    """NULL (no verdict found) is 'onbekend'; an outcome this page does not know yet is shown
    as stored rather than hidden under 'onbekend'."""
    if uitkomst is None or uitkomst in UITKOMSTEN:
        return tr(f"uitkomst_{uitkomst or 'onbekend'}", lang, TEXTS)
    return uitkomst


def summary(text: str | None, limit: int = SUMMARY_CHARS) -> str:
    """The inhoudsindicatie on one line, cut at a word boundary to about `limit` characters."""
    if not text:
        return fmt.UNKNOWN
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    space = cut.rfind(" ")
    # A text without spaces in its first half is cut where it is, not at its first word.
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + " …"


def display_table(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    """Plain cells for the page (text, never markdown); `url` stays for a link column and is
    NULL for a synthetic ruling, so the ECLI is then text only."""
    rows = [{
        "datum": fmt.date(r["uitspraakdatum"], lang),
        "instantie": r["instantie"] or fmt.UNKNOWN,
        "gemeente": r["gemeente_naam"] or r["gemeente_naam_tekst"] or fmt.UNKNOWN,
        "uitkomst": uitkomst_label(r["uitkomst"], lang),
        "samenvatting": summary(r["inhoudsindicatie"]),
        "ecli": r["ecli"],
        # Belt and braces: out.uitspraak already has no url for a synthetic ruling.
        "url": None if r["is_synthetisch"] else r["url"],
    } for r in frame.iter_rows(named=True)]
    return pl.DataFrame(rows, schema={c: pl.String for c in TABLE_COLUMNS}, orient="row")


TABLE_COLUMNS = ("datum", "instantie", "gemeente", "uitkomst", "samenvatting", "ecli", "url")


def column_labels(lang: str) -> dict[str, str]:
    return {c: tr(f"col_{c}", lang, TEXTS) for c in TABLE_COLUMNS}


# --- counts -----------------------------------------------------------------------------------

def year_counts(frame: pl.DataFrame) -> pl.DataFrame:
    """[jaar, groep, uitspraken, is_jaar_opgehaald] per year and werkwijze of the gemeente in
    that year (NULL werkwijze and rulings without a gemeente are 'onbekend', never 'uren')."""
    dated = frame.filter(pl.col("jaar").is_not_null())
    return (dated.group_by("jaar", groep=pl.col("werkwijze_hbh").fill_null("onbekend"))
            .agg(uitspraken=pl.len(), is_jaar_opgehaald=pl.col("is_jaar_opgehaald").all())
            .with_columns(pl.col("uitspraken").cast(pl.Int64))
            .sort("jaar", pl.col("groep").replace_strict(
                {g: i for i, g in enumerate(GROUPS)}, default=len(GROUPS))))


def group_label(groep: str, lang: str) -> str:
    return catalog.werkwijze_label(groep, lang) if groep in GROUPS else groep


def count_chart(counts: pl.DataFrame, title: str, subtitle: str, source: str,
                lang: str) -> dict[str, Any]:
    """Stacked bars per year, one colour per werkwijze group; a finished Vega-Lite dict."""
    names = [group_label(g, lang) for g in GROUPS]
    data = counts.with_columns(
        jaar=pl.col("jaar").cast(pl.String),
        groep_label=pl.col("groep").map_elements(lambda g: group_label(g, lang),
                                                 return_dtype=pl.String))
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X("jaar:O", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("uitspraken:Q", title=tr("col_uitspraken", lang, TEXTS), stack="zero"),
        color=alt.Color("groep_label:N", title=tr("col_groep", lang, TEXTS),
                        scale=alt.Scale(domain=names,
                                        range=[WERKWIJZE_COLOURS[g] for g in GROUPS]),
                        legend=alt.Legend(orient="bottom")),
        order=alt.Order("groep:N"),
        tooltip=[alt.Tooltip("jaar:N", title=tr("col_jaar", lang, TEXTS)),
                 alt.Tooltip("groep_label:N", title=tr("col_groep", lang, TEXTS)),
                 alt.Tooltip("uitspraken:Q", title=tr("col_uitspraken", lang, TEXTS))],
    ).properties(width="container", height=300)
    spec = configure(titled(chart, title, source, subtitle)).to_dict()
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    return spec


def count_table(counts: pl.DataFrame, lang: str) -> pl.DataFrame:
    yes, no = tr("ja", lang, TEXTS), tr("nee", lang, TEXTS)
    return counts.select(
        pl.col("jaar").alias(tr("col_jaar", lang, TEXTS)),
        pl.col("groep").map_elements(lambda g: group_label(g, lang), return_dtype=pl.String)
        .alias(tr("col_groep", lang, TEXTS)),
        pl.col("uitspraken").alias(tr("col_uitspraken", lang, TEXTS)),
        pl.when(pl.col("is_jaar_opgehaald")).then(pl.lit(yes)).otherwise(pl.lit(no))
        .alias(tr("col_opgehaald", lang, TEXTS)))


def pooled_rates(db: Database, provincie: str | None = None,
                 gemeente: str | None = None) -> pl.DataFrame:
    """[jaar, groep, uitspraken, clienten, n, waarde]: per year and werkwijze group, the
    measure's pooled figure (10 000 × sum of rulings / sum of clients over the gemeenten with
    both known) from out.gemeente_periode; only years that were searched whole have counts."""
    def compute() -> pl.DataFrame:
        where = ["g.voorziening_code = ?", "g.halfjaar IS NULL",
                 f"g.{MAAT.teller} IS NOT NULL", f"g.{MAAT.noemer} > 0"]
        params: list[Any] = [MAAT.voorziening]
        if provincie:
            where.append("g.provincie_naam = ?")
            params.append(provincie)
        if gemeente:
            where.append("g.gemeente_code = ?")
            params.append(gemeente)
        return db.query(
            f"SELECT g.jaar, coalesce(g.werkwijze_hbh, 'onbekend') AS groep, "
            f"sum(g.{MAAT.teller}) AS uitspraken, sum(g.{MAAT.noemer}) AS clienten, "
            f"count(*) AS n, {MAAT.pooled_sql('g')} AS waarde "
            f"FROM out.gemeente_periode g WHERE {' AND '.join(where)} "
            "GROUP BY ALL ORDER BY g.jaar, groep", params)
    return db.memo(("rechtspraak_rates", provincie, gemeente), compute)


def rate_table(rates: pl.DataFrame, lang: str) -> pl.DataFrame:
    """One row per year, a column per werkwijze group: 'figure (rulings / clients, n)'."""
    cells = rates.with_columns(cel=pl.struct("waarde", "uitspraken", "n").map_elements(
        lambda r: tr("rate_cell", lang, TEXTS, waarde=fmt.number(r["waarde"], lang,
                                                                 MAAT.decimals),
                     uitspraken=fmt.integer(r["uitspraken"], lang), n=fmt.integer(r["n"], lang)),
        return_dtype=pl.String))
    wide = cells.pivot(on="groep", index="jaar", values="cel").sort("jaar")
    present = [g for g in GROUPS if g in wide.columns]
    return wide.select(pl.col("jaar").cast(pl.String).alias(tr("col_jaar", lang, TEXTS)),
                       *(pl.col(g).fill_null(fmt.UNKNOWN).alias(group_label(g, lang))
                         for g in present))


def source_line(info: BuildInfo, lang: str) -> str:
    return tr("source_synthetic" if info.is_synthetisch else "source", lang, TEXTS)


# --- downloads --------------------------------------------------------------------------------

def citation(info: BuildInfo, lang: str = "nl") -> str:
    processing = tr("export_processing", lang, TEXTS, versie=info.versie,
                    datum=fmt.date(info.built_at[:10], lang))
    if info.is_synthetisch:
        return tr("export_citation_synthetic", lang, TEXTS,
                  banner=exports.synthetic_banner(lang), processing=processing)
    return tr("export_citation", lang, TEXTS, processing=processing)


def export_context(db: Database, info: BuildInfo, filters: Filters, columns: list[str],
                   lang: str = "nl") -> exports.ExportContext:
    """Provenance for a download, in the reader's language: sources, the filters, the ruling
    caveat first and, short, in the title, which every format carries."""
    ctx = exports.context_from_db(db, tr("export_title", lang, TEXTS), filters.applied(),
                                  columns=columns, table=TABLE, lang=lang)
    return dataclasses.replace(ctx, caveats=[tr("caveat", lang, TEXTS), *ctx.caveats],
                               citation=citation(info, lang))


def export_bytes(db: Database, info: BuildInfo, filters: Filters, kind: str,
                 lang: str = "nl") -> bytes:
    writer, _ = FORMATS[kind]
    rows = filtered(db, filters)
    return writer(rows, export_context(db, info, filters, rows.columns, lang))


def exporter(db: Database, info: BuildInfo, filters: Filters, kind: str, lang: str = "nl"
             ) -> Callable[[], bytes]:
    """Deferred: the bytes are made only when someone clicks."""
    return lambda: export_bytes(db, info, filters, kind, lang)


def export_name(filters: Filters, is_synthetisch: bool, kind: str) -> str:
    return exports.export_filename("uitspraken", filters.applied(), is_synthetisch, kind)


def mime(kind: str) -> str:
    return FORMATS[kind][1]


# --- for other pages --------------------------------------------------------------------------

def gemeente_rulings(db: Database, code: str, lang: str) -> pl.DataFrame:
    """The Gemeente profile's list: the gemeente's rulings, newest first, as display_table."""
    return display_table(filtered(db, Filters(gemeente=code)), lang)


def counted(n: int, lang: str) -> str:
    return tr("n_one" if n == 1 else "n_many", lang, TEXTS, n=fmt.integer(n, lang))


RULING_LINK_COLUMNS = ("uitspraak_url", "uitspraak_pagina")


def with_ruling_links(db: Database, table: pl.DataFrame, column: str = "bron_url"
                      ) -> pl.DataFrame:
    """A register table with, where its `column` holds an ECLI, the ruling on rechtspraak.nl
    (`uitspraak_url`) and, when the database has that ruling, this page filtered on it
    (`uitspraak_pagina`, a relative link). Each column is added only when some row has a
    value, so a gemeente without court-ruling sources gets no empty columns."""
    eclis = [ecli_in(u) for u in table[column].to_list()]
    known = known_eclis(db)
    links = {
        "uitspraak_url": [ruling_url(e) for e in eclis],
        "uitspraak_pagina": [page_link(ecli=e) if e in known else None for e in eclis],
    }
    return table.with_columns(pl.Series(name, values, dtype=pl.String)
                              for name, values in links.items()
                              if any(v is not None for v in values))
