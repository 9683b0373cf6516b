"""The Over page without Streamlit: sources, method, CBS symbols, build record and citation.

Everything factual is read from the database (meta.bron, meta.build) or from the metadata that
wrote it (the symbol legend), so the page cannot describe a different build than it serves.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dashboard import catalog, exports, fmt
from dashboard.db import Database
from dashboard.i18n import section, tr

TEXTS = section("over")

# Source table headers per language.
SOURCE_HEADERS: dict[str, dict[str, str]] = {
    "nl": {"bron_id": "bron", "titel": "titel", "producent": "producent", "url": "url",
           "opgehaald_op": "opgehaald op", "licentie": "licentie",
           "is_synthetisch": "synthetisch"},
    "en": {"bron_id": "source", "titel": "title", "producent": "producer", "url": "url",
           "opgehaald_op": "retrieved at", "licentie": "licence",
           "is_synthetisch": "synthetic"},
}
SYMBOL_HEADERS: dict[str, dict[str, str]] = {
    "nl": {"symbol": "teken", "meaning": "betekenis", "handling": "in wmo-atlas"},
    "en": {"symbol": "symbol", "meaning": "meaning", "handling": "in wmo-atlas"},
}
# Dutch wording of the legend in etl/metadata.yaml (English there); a symbol added to the
# metadata later still shows, in English, until it gets a line here.
SYMBOLS_NL: dict[str, tuple[str, str]] = {
    ".": ("Onbekend, te onbetrouwbaar of geheim (Wmo-tabellen: aantallen 0-7, en elke cel van "
          "een gemeente die niet aanleverde of geen publicatie toestond).",
          "Opgeslagen als NULL, nooit als 0."),
    "x": ("Geheim (oudere tabellen).", "Opgeslagen als NULL, nooit als 0."),
    "-": ("Nihil (oudere tabellen).",
          "Alleen als 0 opgeslagen waar CBS dit teken publiceert; de huidige Wmo-tabellen "
          "gebruiken het niet."),
    "0": ("Minder dan de helft van de getoonde eenheid (een aantal per 1 000 kan 0 zijn bij "
          "10 cliënten).", "Opgeslagen als 0, zoals gepubliceerd."),
    "*": ("Voorlopig cijfer, aangegeven bij de periode.",
          "status = 'voorlopig' op elke rij van die periode; de waarden veranderen nog."),
    "**": ("Nader voorlopig cijfer, aangegeven bij de periode.",
           "status = 'nader_voorlopig' op elke rij van die periode."),
}
METHOD_SECTIONS = ("harmonisation", "werkwijze", "bezwaar", "status", "null", "causal")


def sources(db: Database, lang: str) -> pl.DataFrame:
    """meta.bron for people: the retrieval date written as every date is (a missing one says
    'unknown'), headers in `lang`."""
    frame = catalog.meta_sources(db).with_columns(
        pl.col("opgehaald_op").map_elements(lambda v: fmt.date(v, lang), return_dtype=pl.String)
        .fill_null(tr("onbekend_datum", lang, TEXTS)),
        pl.col("url").replace("", None))
    return frame.rename(SOURCE_HEADERS["en" if lang == "en" else "nl"])


def synthetic_sources(db: Database) -> list[str]:
    frame = catalog.meta_sources(db)
    return frame.filter(pl.col("is_synthetisch"))["bron_id"].to_list()


def symbols(lang: str) -> pl.DataFrame:
    rows = []
    for s in exports.symbol_legend():
        meaning, handling = s["meaning"], s["handling"]
        if lang != "en" and s["symbol"] in SYMBOLS_NL:
            meaning, handling = SYMBOLS_NL[s["symbol"]]
        rows.append({"symbol": s["symbol"], "meaning": meaning, "handling": handling})
    headers = SYMBOL_HEADERS["en" if lang == "en" else "nl"]
    frame = pl.DataFrame(rows, schema={"symbol": pl.String, "meaning": pl.String,
                                       "handling": pl.String})
    return frame.rename(headers)


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
        ("b_built_at", f"{fmt.date_time(b.built_at, lang)} UTC"),
        ("b_versie", b.versie),
        ("b_duckdb", b.duckdb_versie),
        ("b_ref", str(b.referentie_indeling)),
        ("b_synth", yes_no(b.is_synthetisch)),
        ("b_periods", b.periods),
        ("b_gemeenten", fmt.integer(b.gemeenten, lang)),
        ("b_duur", fmt.duration(b.duur_s, lang)),
    ]
    return pl.DataFrame({tr("b_item", lang, TEXTS): [tr(k, lang, TEXTS) for k, _ in items],
                         tr("b_value", lang, TEXTS): [v for _, v in items]})


def citation(db: Database) -> str:
    """The citation line of every export, from the same facts (never CBS for synthetic data)."""
    b = build_record(db)
    return exports.citation_line(catalog.meta_sources(db).to_dicts(), b.is_synthetisch,
                                 b.versie, b.built_at)
