"""The Over page without Streamlit: sources, method, CBS symbols, build record and citation.

Everything factual is read from the database (meta.bron, meta.build) or from the metadata that
wrote it (the symbol legend), so the page cannot describe a different build than it serves.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dashboard import catalog, exports
from dashboard.db import Database
from dashboard.i18n import section, tr
from dashboard.views import data

TEXTS = section("over")

SOURCE_COLUMNS = ("bron_id", "titel", "producent", "url", "opgehaald_op", "licentie",
                  "is_synthetisch")


def source_headers(lang: str) -> dict[str, str]:
    """meta.bron column → header in `lang` (texts `src_<column>` of section `over`)."""
    return {c: tr(f"src_{c}", lang, TEXTS) for c in SOURCE_COLUMNS}


METHOD_SECTIONS = ("harmonisation", "werkwijze", "bezwaar", "status", "null", "causal")


def sources(db: Database, lang: str) -> pl.DataFrame:
    """meta.bron for people: a missing retrieval date says 'unknown', headers in `lang`."""
    frame = catalog.meta_sources(db).with_columns(
        pl.col("opgehaald_op").fill_null(tr("onbekend_datum", lang, TEXTS)),
        pl.col("url").replace("", None))
    return frame.rename(source_headers(lang))


def synthetic_sources(db: Database) -> list[str]:
    frame = catalog.meta_sources(db)
    return frame.filter(pl.col("is_synthetisch"))["bron_id"].to_list()


def symbols(lang: str) -> pl.DataFrame:
    """The CBS symbol legend of etl/metadata.yaml in `lang` (the Data page's table)."""
    return data.symbols_frame("en" if lang == "en" else "nl")


def register_coverage(db: Database) -> tuple[int, int]:
    """(gemeente codes in the werkwijze register, gemeenten of the reference classification)."""
    return db.memo("over_coverage", lambda: (
        int(db.query("SELECT count(DISTINCT gemeente_code) FROM core.werkwijze").item()),
        catalog.gemeenten(db).height))


def method(db: Database, lang: str) -> list[tuple[str, str]]:
    """(heading, markdown) per method section, with this build's facts filled in."""
    n, total = register_coverage(db)
    facts = {"ref": build_record(db).referentie_indeling, "n": n, "total": total}
    return [(tr(f"m_{key}_h", lang, TEXTS), tr(f"m_{key}", lang, TEXTS, **facts))
            for key in METHOD_SECTIONS]


@dataclass(frozen=True)
class BuildRecord:
    built_at: str
    versie: str
    duckdb_versie: str
    referentie_indeling: int
    is_synthetisch: bool
    duur_s: float | None
    periods: str
    gemeenten: int


def build_record(db: Database) -> BuildRecord:
    def compute() -> BuildRecord:
        row = db.query("SELECT strftime(built_at, '%Y-%m-%d %H:%M:%S') AS built_at, versie, "
                       "duckdb_versie, referentie_indeling, is_synthetisch, duur_s "
                       "FROM meta.build").row(0)
        periods = catalog.periods(db)
        span = (f"{periods['label'][-1]} – {periods['label'][0]}" if not periods.is_empty()
                else "–")
        return BuildRecord(str(row[0]), str(row[1]), str(row[2]), int(row[3]), bool(row[4]),
                           None if row[5] is None else float(row[5]), span,
                           catalog.gemeenten(db).height)
    return db.memo("over_build", compute)


def build_rows(db: Database, lang: str) -> pl.DataFrame:
    b = build_record(db)

    def yes_no(flag: bool) -> str:
        return tr("ja" if flag else "nee", lang, TEXTS)

    items = [
        ("b_built_at", f"{b.built_at} UTC"),
        ("b_versie", b.versie),
        ("b_duckdb", b.duckdb_versie),
        ("b_ref", str(b.referentie_indeling)),
        ("b_synth", yes_no(b.is_synthetisch)),
        ("b_periods", b.periods),
        ("b_gemeenten", str(b.gemeenten)),
        ("b_duur", "–" if b.duur_s is None else f"{b.duur_s:.1f} s"),
    ]
    return pl.DataFrame({tr("b_item", lang, TEXTS): [tr(k, lang, TEXTS) for k, _ in items],
                         tr("b_value", lang, TEXTS): [v for _, v in items]})


def citation(db: Database) -> str:
    """The citation line of every export, from the same facts (never CBS for synthetic data)."""
    b = build_record(db)
    return exports.citation_line(catalog.meta_sources(db).to_dicts(), b.is_synthetisch,
                                 b.versie, b.built_at)
