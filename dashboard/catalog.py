"""What the database holds, for every page: build record, periods, voorzieningen, gemeenten.

Plain functions over a `Database` (no Streamlit). Results are memoised on the Database object,
which is replaced when a new build is swapped in, so the cache never outlives its build.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dashboard.db import Database
from dashboard.i18n import Lang, tr
from dashboard.sql_console import format_int

TOTAAL = "T001024"
HBH = "A019507"  # Hulp bij het huishouden: the voorziening the werkwijze register is about
STATUS_MARK = {"definitief": "", "voorlopig": "*", "nader_voorlopig": "**"}


@dataclass(frozen=True)
class BuildInfo:
    built_at: str
    versie: str
    referentie_indeling: int
    is_synthetisch: bool
    cbs_tables: tuple[str, ...]


def build_info(db: Database) -> BuildInfo:
    def compute() -> BuildInfo:
        row = db.query("SELECT strftime(built_at, '%Y-%m-%d %H:%M') AS built_at, versie, "
                       "referentie_indeling, is_synthetisch FROM meta.build").row(0)
        tables = db.query("SELECT replace(bron_id, 'cbs-', '') AS t FROM meta.bron "
                          "WHERE bron_id LIKE 'cbs-%' ORDER BY bron_id")["t"].to_list()
        return BuildInfo(str(row[0]), str(row[1]), int(row[2]), bool(row[3]), tuple(tables))
    return db.memo("build_info", compute)


def source_line(info: BuildInfo, lang: str) -> str:
    """The line under every chart; never names CBS as the source of synthetic figures."""
    if info.is_synthetisch:
        return tr("source_synthetic", lang)
    return tr("source_cbs", lang, tables=", ".join(info.cbs_tables))


def periods(db: Database) -> pl.DataFrame:
    """core.periode newest first, with a label carrying the status mark ('2024*')."""
    def compute() -> pl.DataFrame:
        return db.query(
            "SELECT periode_code, jaar, halfjaar, titel, status FROM core.periode "
            "ORDER BY jaar DESC, coalesce(halfjaar, 3) DESC"
        ).with_columns(
            label=pl.col("titel") + pl.col("status").replace_strict(STATUS_MARK, default=""))
    return db.memo("periods", compute)


def period_labels(db: Database, lang: str = "nl") -> dict[str, str]:
    """periode_code → label with status mark, in the UI language ('H1 2024*' in English)."""
    def compute() -> dict[str, str]:
        frame = periods(db)
        labels = dict(zip(frame["periode_code"].to_list(), frame["label"].to_list(),
                          strict=True))
        if lang == "en":
            labels = {k: v.replace("1e halfjaar", "H1").replace("2e halfjaar", "H2")
                      for k, v in labels.items()}
        return labels
    return db.memo(("period_labels", lang), compute)


def period_label(db: Database, code: str, lang: str = "nl") -> str:
    # A dict lookup: selectboxes call this for every option on every rerun.
    return period_labels(db, lang).get(code, code)


def year_periods(db: Database) -> pl.DataFrame:
    return periods(db).filter(pl.col("halfjaar").is_null())


def default_period(db: Database) -> str:
    """Newest whole year: the figure people quote, and the only one with bezwaar figures."""
    years = year_periods(db)
    return str((years if not years.is_empty() else periods(db))["periode_code"][0])


def previous_year_code(code: str) -> str:
    """Same kind of period one year earlier: 2024JJ00 → 2023JJ00, 2024HJ02 → 2023HJ02."""
    return f"{int(code[:4]) - 1}{code[4:]}"


def voorzieningen(db: Database) -> pl.DataFrame:
    return db.memo("voorzieningen", lambda: db.query(
        "SELECT voorziening_code, voorziening, niveau FROM core.voorziening ORDER BY volgorde"))


def voorziening_label(db: Database, code: str) -> str:
    labels = db.memo("voorziening_labels", lambda: dict(zip(
        voorzieningen(db)["voorziening_code"].to_list(),
        voorzieningen(db)["voorziening"].to_list(), strict=True)))
    return labels.get(code, code)


# --- the werkwijze vocabulary: one label per value, on every page and chart ----------------

WERKWIJZEN: tuple[str, ...] = ("resultaatgericht", "uren", "onbekend")


def werkwijze_label(werkwijze: str | None, lang: str) -> str:
    """'resultaatgericht', 'in uren', 'werkwijze onbekend' (NULL is unknown, never 'uren')."""
    value = werkwijze or "onbekend"
    return tr("werkwijze_onbekend" if value == "onbekend" else value, lang)


def werkwijze_labels(lang: str) -> dict[str, str]:
    return {w: werkwijze_label(w, lang) for w in WERKWIJZEN}


def gemeenten(db: Database) -> pl.DataFrame:
    """The gemeenten of the reference classification with province and latest size figures."""
    def compute() -> pl.DataFrame:
        return db.query(
            "SELECT gemeente_code, any_value(gemeente_naam) AS gemeente_naam, "
            "any_value(provincie_naam) AS provincie_naam, "
            "arg_max(inwoners, jaar) FILTER (WHERE inwoners IS NOT NULL) AS inwoners, "
            "arg_max(aandeel_75plus, jaar) FILTER (WHERE aandeel_75plus IS NOT NULL) "
            "  AS aandeel_75plus "
            "FROM out.gemeente_periode WHERE voorziening_code = ? AND halfjaar IS NULL "
            "GROUP BY gemeente_code ORDER BY gemeente_naam", [TOTAAL])
    return db.memo("gemeenten", compute)


def gemeente_name(db: Database, code: str) -> str:
    names = db.memo("gemeente_names", lambda: dict(zip(
        gemeenten(db)["gemeente_code"].to_list(), gemeenten(db)["gemeente_naam"].to_list(),
        strict=True)))
    return names.get(code, code)


def provincies(db: Database) -> list[str]:
    return db.memo("provincies", lambda: sorted(
        gemeenten(db)["provincie_naam"].drop_nulls().unique().to_list()))


def gemeente_options(db: Database) -> dict[str, str]:
    """code → 'Naam (GM0000)': names repeat across history, codes do not."""
    frame = gemeenten(db)
    return dict(zip(frame["gemeente_code"].to_list(),
                    [f"{n} ({c})" for n, c in zip(frame["gemeente_naam"], frame["gemeente_code"],
                                                  strict=True)], strict=True))


def meta_sources(db: Database) -> pl.DataFrame:
    return db.memo("sources", lambda: db.query(
        "SELECT bron_id, titel, producent, url, opgehaald_op, licentie, is_synthetisch "
        "FROM meta.bron ORDER BY bron_id"))


# --- CBS's own national figure ---------------------------------------------------------------
#
# "Nederland" pooled from the gemeenten that delivered is not the number on StatLine: CBS's
# national figure (NL01) includes its estimates for gemeenten without figures. Pages show CBS's
# figure where CBS publishes the measure and label every pooled national figure as pooled.

NEDERLAND = "NL01"


def cbs_nederland(db: Database, voorziening: str) -> pl.DataFrame:
    """CBS's NL01 rows of one voorziening from core.wmo_clienten_regio, oldest first:
    periode_code, jaar, halfjaar, clienten, clienten_per_1000, status (NULL stays NULL)."""
    return db.memo(("cbs_nederland", voorziening), lambda: db.query(
        "SELECT periode_code, jaar, halfjaar, clienten, clienten_per_1000, status "
        "FROM core.wmo_clienten_regio WHERE regio_code = ? AND voorziening_code = ? "
        "ORDER BY jaar, coalesce(halfjaar, 3)", [NEDERLAND, voorziening]))


def has_cbs_nederland(db: Database, voorziening: str) -> bool:
    """True when the build holds at least one published CBS rate for the country."""
    return cbs_nederland(db, voorziening)["clienten_per_1000"].drop_nulls().len() > 0


def nederland_cbs_label(info: BuildInfo, lang: str) -> str:
    """'Nederland (CBS)'; in a demo build a name that says the figure is synthetic, because
    synthetic numbers are never presented as CBS figures."""
    return tr("nederland_cbs_synthetic" if info.is_synthetisch else "nederland_cbs", lang)


def nederland_pooled_label(lang: str) -> str:
    return tr("nederland_pooled", lang)


def met_cijfers(n: int, total: int, lang: Lang) -> str:
    """'gemeenten met cijfers: 340 van 342', with Dutch or English thousands separators."""
    return tr("met_cijfers", lang, n=format_int(n, lang), total=format_int(total, lang))


# --- The gemeente a page shows when a link names none -------------------------------------------

def fallback_gemeente(db: Database) -> str:
    """The most inhabitants in its latest year (Amsterdam in CBS figures): recognisable, with a
    meaningful peer group, and the same on every page. Ties and a build without inhabitants
    fall back to the lowest code, so the choice never depends on row order."""
    frame = gemeenten(db)
    sized = frame.drop_nulls("inwoners").sort(["inwoners", "gemeente_code"],
                                              descending=[True, False])
    return str((sized if not sized.is_empty() else frame.sort("gemeente_code"))
               ["gemeente_code"][0])


def gemeente_names_ever(db: Database) -> dict[str, str]:
    """code → name for every gemeente code used since 2015 (core.gemeente), for links by name."""
    return db.memo("gemeente_names_ever", lambda: dict(db.query(
        "SELECT gemeente_code, gemeente_naam FROM core.gemeente ORDER BY gemeente_code"
    ).iter_rows()))
