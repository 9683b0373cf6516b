"""Vergelijkbare gemeenten (peer groups), shared by the Vergelijken and Gemeente pages.

The rule, in one place so every page tells the same story:

1. Take the newest whole year in which out.gemeente_periode has both `inwoners` and
   `aandeel_75plus` for at least one gemeente (the *reference year*). Only gemeenten with both
   figures in that year can be peers or have peers.
2. Describe each gemeente by two numbers: log(inwoners) and aandeel_75plus. The log makes size
   differences relative: 20 000 against 40 000 inhabitants is as far apart as 200 000 against
   400 000.
3. Standardise both over all those gemeenten (subtract the mean, divide by the standard
   deviation), so size and ageing weigh equally.
4. The peers of gemeente X are the `n` gemeenten with the smallest Euclidean distance to X in
   those two standard scores, nearest first; X itself is never its own peer. Equal distances
   are broken by gemeente code, so the list is stable.

`peers(db, code, n=10) -> list[str]` is the stable public entry point; `peer_frame` adds the
figures for display and `rule_text` the plain-language explanation.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dashboard import catalog, tables
from dashboard.db import Database
from dashboard.i18n import section, tr
from dashboard.safe import md_escape

DEFAULT_N = 10

TEXTS = section("peers")


def reference_year(db: Database) -> int | None:
    """Newest whole year with both size figures for at least one gemeente; None if none."""
    def compute() -> int | None:
        value = db.query(
            "SELECT max(jaar) AS jaar FROM out.gemeente_periode "
            "WHERE voorziening_code = ? AND halfjaar IS NULL "
            "AND inwoners > 0 AND aandeel_75plus IS NOT NULL", [catalog.TOTAAL])["jaar"][0]
        return None if value is None else int(value)
    return db.memo("peers_reference_year", compute)


def features(db: Database) -> pl.DataFrame:
    """code, naam, inwoners, aandeel_75plus and the two standard scores z_size, z_75 for the
    gemeenten with both figures in the reference year."""
    def compute() -> pl.DataFrame:
        jaar = reference_year(db)
        if jaar is None:
            return standardise(pl.DataFrame(schema={
                "gemeente_code": pl.String, "gemeente_naam": pl.String,
                "inwoners": pl.Float64, "aandeel_75plus": pl.Float64}))
        frame = db.query(
            "SELECT gemeente_code, gemeente_naam, CAST(inwoners AS DOUBLE) AS inwoners, "
            "CAST(aandeel_75plus AS DOUBLE) AS aandeel_75plus FROM out.gemeente_periode "
            "WHERE voorziening_code = ? AND halfjaar IS NULL AND jaar = ? "
            "AND inwoners > 0 AND aandeel_75plus IS NOT NULL ORDER BY gemeente_code",
            [catalog.TOTAAL, jaar])
        return standardise(frame)
    return db.memo("peers_features", compute)


def standardise(frame: pl.DataFrame) -> pl.DataFrame:
    """Adds z_size (standardised log inwoners) and z_75 (standardised aandeel_75plus).

    A feature without spread (one gemeente, or all equal) gets z = 0, so it cannot decide."""
    def z(expr: pl.Expr) -> pl.Expr:
        sd = expr.std(ddof=0)
        return pl.when(sd > 0).then((expr - expr.mean()) / sd).otherwise(0.0)
    return frame.with_columns(
        z_size=z(pl.col("inwoners").log()), z_75=z(pl.col("aandeel_75plus")))


def nearest(frame: pl.DataFrame, code: str, n: int = DEFAULT_N) -> pl.DataFrame:
    """The `n` rows of a standardised frame closest to `code`, excluding `code`, with `afstand`."""
    own = frame.filter(pl.col("gemeente_code") == code)
    if own.is_empty() or n <= 0:
        return frame.clear().with_columns(afstand=pl.lit(None, dtype=pl.Float64))
    zs, z75 = float(own["z_size"][0]), float(own["z_75"][0])
    return (frame.filter(pl.col("gemeente_code") != code)
            .with_columns(afstand=((pl.col("z_size") - zs) ** 2
                                   + (pl.col("z_75") - z75) ** 2).sqrt())
            .sort(["afstand", "gemeente_code"]).head(n))


def peers(db: Database, code: str, n: int = DEFAULT_N) -> list[str]:
    """Codes of the `n` vergelijkbare gemeenten of `code`, nearest first, never `code` itself.

    Empty when `code` is unknown or lacks size figures in the reference year (see the module
    docstring for the rule)."""
    return list(all_peers(db, n).get(code, []))


def all_peers(db: Database, n: int = DEFAULT_N) -> dict[str, tuple[str, ...]]:
    """The peers of every gemeente at once (one distance matrix per build): the Vergelijken
    page draws a panel for each of a gemeente's peers, with their own peers."""
    def compute() -> dict[str, tuple[str, ...]]:
        frame = features(db)  # ordered by code, so a stable sort breaks ties by code
        codes = frame["gemeente_code"].to_list()
        keep = max(0, min(n, len(codes) - 1))
        z = frame.select("z_size", "z_75").to_numpy()
        dist = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(axis=2))
        np.fill_diagonal(dist, np.inf)
        order = np.argsort(dist, axis=1, kind="stable")[:, :keep]
        return {c: tuple(codes[j] for j in order[i]) for i, c in enumerate(codes)}
    return db.memo(("peers_all", n), compute)


def peer_frame(db: Database, code: str, n: int = DEFAULT_N) -> pl.DataFrame:
    """The peers with naam, inwoners, aandeel_75plus and afstand, nearest first."""
    return db.memo(("peers", code, n), lambda: nearest(features(db), code, n))


def has_figures(db: Database, code: str) -> bool:
    return not features(db).filter(pl.col("gemeente_code") == code).is_empty()


def rule_text(db: Database, code: str, lang: str, n: int = DEFAULT_N) -> str:
    """The rule in plain words for gemeente `code`, or why there are no peers (markdown: the
    name is escaped)."""
    naam = md_escape(catalog.gemeente_name(db, code), 200)
    jaar = reference_year(db)
    key = "peer_rule" if has_figures(db, code) else "no_peers"
    return tr(key, lang, TEXTS, naam=naam, n=n, jaar=jaar if jaar is not None else "–")


def display_table(db: Database, code: str, lang: str, n: int = DEFAULT_N) -> tables.Table:
    """The peer list for a table beside the chart, in the UI language, written by fmt."""
    frame = peer_frame(db, code, n)
    names = {"inwoners": tr("inwoners", lang, TEXTS),
             "aandeel_75plus": tr("aandeel_75plus", lang, TEXTS),
             "afstand": tr("afstand", lang, TEXTS)}
    return tables.display(frame.select(
        "gemeente_code",
        pl.col("gemeente_naam").alias(tr("gemeente", lang)),
        pl.col("inwoners").alias(names["inwoners"]),
        (pl.col("aandeel_75plus") * 100).alias(names["aandeel_75plus"]),
        pl.col("afstand").alias(names["afstand"]),
    ), lang, {names["inwoners"]: 0, names["aandeel_75plus"]: 1, names["afstand"]: 3})
