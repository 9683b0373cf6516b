"""CBS population (03759NED) → core.bevolking: inwoners and inwoners aged 75+ on 1 January.

The 75+ figure is the sum of the age categories that exactly cover 75 and older, found from the
category titles (5-year groups "75 tot 80 jaar", single years "75 jaar", open groups "95 jaar
of ouder", or a mix), never from hard-coded keys, and never counting an age twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from etl.errors import InputError
from etl.transform.wmo import REGION_DIM, total_code

AGE_DIM = "Leeftijd"
PLUS_AGE = 75
# CBS age titles: "75 tot 80 jaar" (5-year groups), "75 jaar" / "1 jaar" (single years) and
# "95 jaar of ouder" (open groups; "en ouder" in some older tables).
RANGE_RE = re.compile(r"^(\d+) tot (\d+) jaar$")
SINGLE_RE = re.compile(r"^(\d+) jaar$")
OPEN_RE = re.compile(r"^(\d+) jaar (?:of|en) ouder$")

BEVOLKING_SCHEMA = {"gemeente_code": pl.Utf8, "jaar": pl.Int32, "inwoners": pl.Int64,
                    "inwoners_75plus": pl.Int64, "bron_tabel": pl.Utf8}


@dataclass(frozen=True)
class AgeGroup:
    code: str
    title: str
    lower: int
    upper: int | None  # exclusive; None for an open group ("… jaar of ouder")


def age_group(code: str, title: str) -> AgeGroup | None:
    """The ages a category covers, or None when its title is not an age interval."""
    text = " ".join(title.split()).lower()
    if m := OPEN_RE.match(text):
        return AgeGroup(code, title, int(m.group(1)), None)
    if m := RANGE_RE.match(text):
        return AgeGroup(code, title, int(m.group(1)), int(m.group(2)))
    if m := SINGLE_RE.match(text):
        return AgeGroup(code, title, int(m.group(1)), int(m.group(1)) + 1)
    return None


def age_groups_from(titles: dict[str, str], lower: int) -> list[str]:
    """Category codes that together cover exactly the ages `lower` and up, with no overlap.

    Lists mix single years, 5-year groups and open groups that overlap each other (03759NED
    has 95 … 104 jaar *and* "95 jaar of ouder" *and* "105 jaar of ouder"), so the categories
    are a set of intervals and we look for a chain from `lower` to an open group. Of the
    chains that exist, the one with the fewest categories wins: it is deterministic and sums
    the fewest (rounded) cells. Raises ValueError when no chain exists.
    """
    groups = [g for code, title in titles.items() if (g := age_group(code, title))]
    starting: dict[int, list[AgeGroup]] = {}
    for g in groups:
        if g.lower >= lower:
            starting.setdefault(g.lower, []).append(g)
    best: dict[int, list[str] | None] = {}

    def cover(start: int) -> list[str] | None:
        # Shortest chain from `start` to an open group; positions only grow, so memoising on
        # the start age keeps this linear in the number of categories.
        if start in best:
            return best[start]
        options: list[list[str]] = []
        for g in sorted(starting.get(start, []), key=lambda g: g.code):
            if g.upper is None:
                options.append([g.code])
            elif g.upper > start and (rest := cover(g.upper)) is not None:
                options.append([g.code, *rest])
        best[start] = min(options, key=len) if options else None
        return best[start]

    chosen = cover(lower)
    if chosen is None:
        found = sorted((g for g in groups if g.upper is None or g.upper > lower),
                       key=lambda g: (g.lower, g.upper is None, g.upper or 0))
        listed = ", ".join(repr(g.title) for g in found) or "none"
        raise ValueError(f"no set of age categories covers exactly {lower} jaar and older "
                         f"without overlap; age categories from {lower} found: {listed}")
    return chosen


def bevolking_rows(spec, table) -> pl.DataFrame:
    """The declared per-table transform (tables.py): `bevolking` of one population table."""
    return bevolking(spec.table_id, table)


def bevolking(table_id: str, table) -> pl.DataFrame:
    ages = table.dimensions.get(AGE_DIM)
    if ages is None:
        raise InputError(table_id, None, AGE_DIM, "the population table has no Leeftijd dimension")
    titles = dict(zip(ages["code"], ages["title"], strict=True))
    try:
        old = age_groups_from(titles, PLUS_AGE)
    except ValueError as exc:
        raise InputError(table_id, None, AGE_DIM,
                         f"cannot form the {PLUS_AGE}+ group of {table_id}: {exc}") from exc
    total = total_code(table, AGE_DIM)
    obs = table.observations
    for dim in table.dimensions:
        if dim not in (REGION_DIM, AGE_DIM) and dim in obs.columns:
            obs = obs.filter(pl.col(dim) == total_code(table, dim))
    obs = obs.filter(pl.col(REGION_DIM).str.starts_with("GM") & (pl.col("measure") == "inwoners")
                     & pl.col("periode_code").str.contains(r"^\d{4}JJ00$"))
    inwoners = obs.filter(pl.col(AGE_DIM) == total).select(REGION_DIM, "jaar",
                                                           pl.col("value").alias("inwoners"))
    plus75 = (
        obs.filter(pl.col(AGE_DIM).is_in(old)).group_by(REGION_DIM, "jaar")
        # A NULL part makes the sum unknown: sum() would silently treat it as 0.
        .agg(pl.when(pl.col("value").null_count() == 0).then(pl.col("value").sum())
             .alias("inwoners_75plus"))
    )
    return (
        inwoners.join(plus75, on=[REGION_DIM, "jaar"], how="left")
        .rename({REGION_DIM: "gemeente_code"})
        .with_columns(pl.lit(table_id).alias("bron_tabel"))
        .select(list(BEVOLKING_SCHEMA)).cast(BEVOLKING_SCHEMA)  # type: ignore[arg-type]
        .sort("gemeente_code", "jaar")
    )
