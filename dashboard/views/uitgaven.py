"""Household-help spending on the Werkwijze page: resultaatgericht against uren, per
inhabitant and per client, with the page's own adjusted comparison (werkwijze.compare_groups:
OLS with HC1 intervals, corrected for the share 75+ and log population).

The SQL text only comes from the fixed SPENDING table below; year, voorziening and the
selection of sources are bound parameters or keys checked against fixed dicts.
"""

from __future__ import annotations

import polars as pl

from dashboard import catalog, measures
from dashboard.db import Database
from dashboard.i18n import section, tr
from dashboard.measures import Measure
from dashboard.views import werkwijze

TEXTS = section("uitgaven")


# URL value → measure of dashboard/measures.py (the stored column per gemeente is what is read).
SPENDING: dict[str, Measure] = {
    "per_inwoner": measures.measure("hbh_uitgaven_per_inwoner"),
    "per_client": measures.measure("hbh_uitgaven_per_client"),
}
DEFAULT_SPENDING = "per_inwoner"


def spending_frame(db: Database, key: str, bronnen: str) -> pl.DataFrame:
    """code, jaar, werkwijze, waarde, teller, noemer, aandeel_75plus, inwoners per gemeente and
    whole year (teller and noemer for the figure per inhabitant: werkwijze.counted_two_ways)."""
    spending, kolom = SPENDING[key], werkwijze.WERKWIJZE_KOLOM[bronnen]
    return db.memo(("uitgaven_frame", key, bronnen), lambda: db.query(
        "SELECT gemeente_code AS code, jaar, "
        f"coalesce({kolom}, 'onbekend') AS werkwijze, "
        f"CAST({spending.column} AS DOUBLE) AS waarde, "
        f"CAST({spending.teller} AS DOUBLE) AS teller, "
        f"CAST({spending.noemer} AS DOUBLE) AS noemer, aandeel_75plus, "
        "CAST(inwoners AS DOUBLE) AS inwoners FROM out.gemeente_periode "
        "WHERE voorziening_code = ? AND halfjaar IS NULL ORDER BY gemeente_code, jaar",
        [catalog.HBH]))


def has_spending(db: Database, jaar: int) -> bool:
    frame = spending_frame(db, DEFAULT_SPENDING, werkwijze.DEFAULT_BRONNEN)
    return frame.filter((pl.col("jaar") == jaar) & pl.col("waarde").is_not_null()).height > 0


def comparison(db: Database, key: str, jaar: int, bronnen: str) -> werkwijze.Comparison:
    return db.memo(("uitgaven_cmp", key, jaar, bronnen), lambda: werkwijze.compare_groups(
        spending_frame(db, key, bronnen).filter(pl.col("jaar") == jaar)))


def title(jaar_label: str, lang: str) -> str:
    return tr("title", lang, TEXTS, jaar=jaar_label)


def two_ways(db: Database, key: str, jaar: int, bronnen: str) -> werkwijze.TwoWays | None:
    """The same year's groups per gemeente and per inhabitant (or client): werkwijze.TwoWays."""
    return db.memo(("uitgaven_two_ways", key, jaar, bronnen), lambda: werkwijze.counted_two_ways(
        spending_frame(db, key, bronnen).filter(pl.col("jaar") == jaar), SPENDING[key].per,
        SPENDING[key].noemer))
