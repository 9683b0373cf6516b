"""CBS population (03759NED) → core.bevolking: inwoners and inwoners aged 75+ on 1 January.

The 75+ figure is the sum of the age groups that exactly cover 75 and older, found from the
category titles ("75 tot 80 jaar", …, "95 jaar of ouder"), never from hard-coded keys.
"""

from __future__ import annotations

import re

import polars as pl

from etl.errors import InputError
from etl.transform.wmo import REGION_DIM, total_code

AGE_DIM = "Leeftijd"
RANGE_RE = re.compile(r"^(\d+) tot (\d+) jaar$")
OPEN_RE = re.compile(r"^(\d+) jaar of ouder$")

BEVOLKING_SCHEMA = {"gemeente_code": pl.Utf8, "jaar": pl.Int32, "inwoners": pl.Int64,
                    "inwoners_75plus": pl.Int64, "bron_tabel": pl.Utf8}


def age_groups_from(titles: dict[str, str], lower: int) -> list[str]:
    """Category codes that together cover ages `lower` and up, without overlap."""
    ranges: dict[int, list[tuple[int | None, str]]] = {}
    for code, title in titles.items():
        text = title.strip().lower()
        if m := OPEN_RE.match(text):
            ranges.setdefault(int(m.group(1)), []).append((None, code))
        elif m := RANGE_RE.match(text):
            ranges.setdefault(int(m.group(1)), []).append((int(m.group(2)), code))
    chosen: list[str] = []
    current = lower
    while True:
        options = ranges.get(current, [])
        open_ended = [code for hi, code in options if hi is None]
        if open_ended:
            return [*chosen, open_ended[0]]
        bounded = [(hi, code) for hi, code in options if hi is not None]
        if not bounded:
            raise ValueError(f"no age group starts at {current}")
        hi, code = max(bounded)
        chosen.append(code)
        current = hi


def bevolking(table_id: str, table) -> pl.DataFrame:
    ages = table.dimensions.get(AGE_DIM)
    if ages is None:
        raise InputError(table_id, None, AGE_DIM, "the population table has no Leeftijd dimension")
    titles = dict(zip(ages["code"], ages["title"], strict=True))
    try:
        old = age_groups_from(titles, 75)
    except ValueError as exc:
        raise InputError(table_id, None, AGE_DIM, f"cannot form the 75+ group: {exc}") from exc
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
