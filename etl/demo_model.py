"""The synthetic model behind `wmo demo`: gemeenten over time, population and Wmo clients.

Everything here is pure (arrays in, arrays out) and deterministic for a seed. The numbers are
invented; they only have to look plausible and exercise the real parsers: merged gemeenten sum
their predecessors, small counts get suppressed, some gemeenten do not deliver, and the
categories, half-years and werkwijze give charts that are not flat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from etl.gemeenten import harmonisation_map, valid_in_year

FIRST_YEAR = 2015
LAST_YEAR = 2025  # newest population year and newest Wmo half-year (2025HJ01)
YEARS = list(range(FIRST_YEAR, LAST_YEAR + 1))

# Independent random streams, so that adding a table (scale=full) or a register does not move
# the numbers of the others.
# New streams go at the end: SeedSequence children are numbered, so the others stay the same.
STREAMS = ("bevolking", "wmo", "levering", "kenmerken_83262", "kenmerken_85896", "bezwaar",
           "uitgaven", "stroom", "beeindiging")


def streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, children,
                                                                      strict=True)}


# ---------------------------------------------------------------------------------------------
# Periods


def wmo_periods(first: int, last_year: int, last_half: bool) -> list[str]:
    """Per year HJ01, HJ02, JJ00 (the CBS order); the last year only HJ01 when `last_half`."""
    codes: list[str] = []
    for jaar in range(first, last_year + 1):
        if jaar == last_year and last_half:
            codes.append(f"{jaar}HJ01")
        else:
            codes += [f"{jaar}HJ01", f"{jaar}HJ02", f"{jaar}JJ00"]
    return codes


ALL_WMO_PERIODS = wmo_periods(FIRST_YEAR, LAST_YEAR, last_half=True)


def period_year(code: str) -> int:
    return int(code[:4])


# ---------------------------------------------------------------------------------------------
# Gemeenten


@dataclass(frozen=True)
class Indeling:
    """Every gemeente code of the history and where the 2015 gemeenten went in each year."""

    codes: list[str]                    # all codes of gemeente_history, sorted
    valid: np.ndarray                   # bool [code, year]: valid on 1 January of the year
    units: list[str]                    # the gemeenten of 1 January 2015
    weights: np.ndarray                 # float [year, unit, code]: share of a unit in a code


def build_indeling(history: pl.DataFrame, herindelingen: pl.DataFrame) -> Indeling:
    codes = history["gemeente_code"].to_list()
    index = {c: i for i, c in enumerate(codes)}
    valid = np.zeros((len(codes), len(YEARS)), dtype=bool)
    for j, jaar in enumerate(YEARS):
        for code in valid_in_year(history, jaar)["gemeente_code"]:
            valid[index[code], j] = True
    units = [c for c in codes if valid[index[c], 0]]
    weights = np.zeros((len(YEARS), len(units), len(codes)))
    for j, jaar in enumerate(YEARS):
        # A change takes effect in the classification of the first 1 January on or after it.
        mapping = harmonisation_map(herindelingen, until=date(jaar, 1, 1))
        edges: dict[str, list[tuple[str, float]]] = {}
        for src, dst, share in mapping.iter_rows():
            edges.setdefault(src, []).append((dst, share))
        for u, unit in enumerate(units):
            for dst, share in edges.get(unit, [(unit, 1.0)]):
                weights[j, u, index[dst]] += share
        reached = weights[j].sum(axis=0) > 0
        if not np.array_equal(reached, valid[:, j]):
            wrong = [codes[i] for i in np.flatnonzero(reached != valid[:, j])]
            raise ValueError(f"herindelingen do not match the classification of {jaar}: {wrong}")
    return Indeling(codes, valid, units, weights)


def valid_codes(indeling: Indeling, years: range | list[int]) -> list[str]:
    """The RegioS list of a table covering `years`.

    Every code valid in one of the years, plus the gemeenten dissolved on the first day of the
    range. Real CBS lists reach beyond the period range (Aalburg, gone on 01-01-2019, is
    verified in 86050NED); the demo imitates that modestly, so that some regions carry nothing
    but nulls - a case the parsers must survive.
    """
    cols = [YEARS.index(y) for y in years]
    mask = indeling.valid[:, cols].any(axis=1)
    if cols[0] > 0:
        mask |= indeling.valid[:, cols[0] - 1] & ~indeling.valid[:, cols[0]]
    return [c for c, m in zip(indeling.codes, mask, strict=True) if m]


# ---------------------------------------------------------------------------------------------
# Population (03759NED)

AGE_GROUPS = [f"{a} tot {a + 5} jaar" for a in range(0, 95, 5)] + ["95 jaar of ouder"]
N_YOUNG = 15  # groups below 75
# Rough Dutch age pyramid (thousands); only the shape matters.
AGE_SHAPE = np.array([870, 920, 970, 1050, 1100, 1130, 1080, 1030, 1050, 1230, 1300, 1230,
                      1100, 1000, 940, 680, 460, 280, 110, 25], dtype=float)

# 2015 sizes of the big cities, so that the map and the rankings look familiar.
BIG_CITIES = {
    "GM0363": 820_000, "GM0599": 620_000, "GM0518": 510_000, "GM0344": 330_000,
    "GM0772": 222_000, "GM0855": 208_000, "GM0014": 200_000, "GM0034": 196_000,
    "GM0758": 181_000, "GM0268": 170_000,
}


@dataclass(frozen=True)
class Bevolking:
    """Published (integer) population per code and year; zeros where the code is not valid."""

    jan1: np.ndarray        # int [code, year, age group]
    gemiddeld: np.ndarray   # int [code, year, age group]

    def total(self) -> np.ndarray:
        return self.jan1.sum(axis=2)

    def share_75plus(self) -> np.ndarray:
        total = self.total()
        old = self.jan1[:, :, N_YOUNG:].sum(axis=2)
        return np.divide(old, total, out=np.zeros(total.shape), where=total > 0)


def model_bevolking(indeling: Indeling, rng: np.random.Generator) -> Bevolking:
    n = len(indeling.units)
    size = np.exp(rng.normal(np.log(27_000), 0.75, n)).clip(900, 160_000)
    growth = rng.normal(0.005, 0.004, n)
    for u, unit in enumerate(indeling.units):
        if unit in BIG_CITIES:
            size[u] = BIG_CITIES[unit] * np.exp(rng.normal(0, 0.02))
            growth[u] = rng.normal(0.010, 0.003)
    # Cities are younger: the 75+ share falls with size.
    old_2015 = (0.088 + rng.normal(0, 0.016, n) - 0.009 * np.log(size / 27_000)).clip(0.05, 0.13)
    noise = rng.normal(0, 0.003, (n, len(YEARS)))

    t = np.arange(len(YEARS))
    total = size[:, None] * (1 + growth[:, None]) ** t[None, :] * np.exp(noise)
    old = old_2015[:, None] + 0.002 * t[None, :]
    young_shape = AGE_SHAPE[:N_YOUNG] / AGE_SHAPE[:N_YOUNG].sum()
    old_shape = AGE_SHAPE[N_YOUNG:] / AGE_SHAPE[N_YOUNG:].sum()
    ages = np.concatenate([
        (total * (1 - old))[:, :, None] * young_shape[None, None, :],
        (total * old)[:, :, None] * old_shape[None, None, :],
    ], axis=2)                                              # float [unit, year, age]
    mean = ages * np.sqrt(1 + growth)[:, None, None]        # mid-year: half a year of growth
    return Bevolking(_to_codes(ages, indeling), _to_codes(mean, indeling))


def _to_codes(unit_values: np.ndarray, indeling: Indeling) -> np.ndarray:
    """Sum the 2015 units into the codes of each year, then round keeping the age sums exact."""
    per_code = np.einsum("uya,yuc->cya", unit_values, indeling.weights)
    return apportion(per_code)


def apportion(values: np.ndarray) -> np.ndarray:
    """Round the last axis to integers whose sum is the rounded sum (largest remainder)."""
    floor = np.floor(values)
    target = np.floor(values.sum(axis=-1) + 0.5)
    short = (target - floor.sum(axis=-1)).astype(np.int64)
    order = np.argsort(-(values - floor), axis=-1, kind="stable")
    rank = np.argsort(order, axis=-1, kind="stable")
    return (floor + (rank < short[..., None])).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Wmo clients


@dataclass(frozen=True)
class Categorie:
    key: str
    title: str
    parent: str | None     # raw counts are drawn as a part of the parent's clients
    share: float           # expected share of all clients (T001024)
    aggregate: bool        # one of the six keys of 83262NED / §9.2


# Detail keys are not known (the real tables were not inspected offline): the A0500x0 keys are
# invented in the CBS style and exist only in synthetic snapshots.
CATEGORIEEN = [
    Categorie("T001024", "Totaal", None, 1.0, True),
    Categorie("A048188", "Totaal exclusief verblijf en opvang", "T001024", 0.965, True),
    Categorie("A019507", "Hulp bij het huishouden", "T001024", 0.36, True),
    Categorie("A019506", "Ondersteuning thuis, totaal", "T001024", 0.30, True),
    Categorie("A050010", "Begeleiding", "A019506", 0.20, False),
    Categorie("A050020", "Persoonlijke verzorging", "A019506", 0.035, False),
    Categorie("A050030", "Kortdurend verblijf", "A019506", 0.010, False),
    Categorie("A050040", "Ov. ondersteuning individu of huishouden", "A019506", 0.030, False),
    Categorie("A050050", "Dagbesteding", "A019506", 0.080, False),
    Categorie("A019509", "Hulpmiddelen en diensten, totaal", "T001024", 0.50, True),
    Categorie("A050060", "Vervoersdiensten", "A019509", 0.33, False),
    Categorie("A050070", "Rolstoelen", "A019509", 0.09, False),
    Categorie("A050080", "Vervoervoorzieningen", "A019509", 0.06, False),
    Categorie("A050090", "Woonvoorzieningen", "A019509", 0.11, False),
    Categorie("A050100", "Overige hulpmiddelen", "A019509", 0.04, False),
    Categorie("A019508", "Verblijf en opvang, totaal", "T001024", 0.045, True),
    Categorie("A050110", "Beschermd wonen", "A019508", 0.028, False),
    Categorie("A050120", "Opvang", "A019508", 0.012, False),
]
CATEGORIE_INDEX = {c.key: i for i, c in enumerate(CATEGORIEEN)}
HH = "A019507"
VERBLIJF = {"A019508", "A050110", "A050120"}
WERKWIJZE_EFFECT = {"resultaatgericht": 1.10, "uren": 0.94}
HALF_YEAR_FACTOR = {"HJ01": 0.90, "HJ02": 0.91, "JJ00": 1.0}
NOT_DELIVERED = 0.03


@dataclass(frozen=True)
class Wmo:
    """Unrounded client counts [code, period, categorie] for ALL_WMO_PERIODS (-1: not valid)."""

    raw: np.ndarray
    delivered: np.ndarray   # bool [code, period]


def werkwijze_factor(werkwijze: pl.DataFrame, codes: list[str],
                     effects: dict[str, float] | None = None) -> np.ndarray:
    """Household-help multiplier [code, year] from the werkwijze register (1 where unknown);
    `effects` per method, by default the effect on the number of clients."""
    effects = WERKWIJZE_EFFECT if effects is None else effects
    factor = np.ones((len(codes), len(YEARS)))
    index = {c: i for i, c in enumerate(codes)}
    rows = werkwijze.filter(pl.col("voorziening") == "huishoudelijke_ondersteuning")
    for row in rows.iter_rows(named=True):
        i = index.get(row["gemeente_code"])
        effect = effects.get(row["werkwijze"])
        if i is None or effect is None:
            continue
        start = int(str(row["geldig_vanaf"])[:4]) if row["geldig_vanaf"] else 0
        end = int(str(row["geldig_tot"])[:4]) if row["geldig_tot"] else 9999
        for j, jaar in enumerate(YEARS):
            if start <= jaar < end:
                factor[i, j] = effect
    return factor


def model_wmo(indeling: Indeling, bevolking: Bevolking, werkwijze: pl.DataFrame,
              rng: np.random.Generator, levering: np.random.Generator) -> Wmo:
    n_code, n_per, n_cat = len(indeling.codes), len(ALL_WMO_PERIODS), len(CATEGORIEEN)
    pop = bevolking.total().astype(float)
    old = bevolking.share_75plus()
    year_idx = np.array([YEARS.index(period_year(p)) for p in ALL_WMO_PERIODS])
    kind = [p[4:] for p in ALL_WMO_PERIODS]
    t = year_idx.astype(float)

    gemeente_effect = np.exp(rng.normal(0, 0.12, n_code))
    cat_effect = np.exp(rng.normal(0, 0.15, (n_code, n_cat)))
    cat_effect[:, [CATEGORIE_INDEX["T001024"], CATEGORIE_INDEX["A048188"]]] = 1.0
    centrum = (pop.max(axis=1) > 100_000)
    for key in VERBLIJF:
        cat_effect[centrum, CATEGORIE_INDEX[key]] *= 1.6
    period_noise = np.exp(rng.normal(0, 0.02, (n_code, n_per)))

    # Clients per 1 000: driven by the 75+ share, with a mild upward trend.
    rate = (36 + 320 * old[:, year_idx]) * gemeente_effect[:, None] * (1 + 0.008 * t)[None, :]
    half = np.array([HALF_YEAR_FACTOR[k] for k in kind])
    lam = rate * half[None, :] * period_noise * pop[:, year_idx] / 1000
    valid = indeling.valid[:, year_idx]

    raw = np.full((n_code, n_per, n_cat), -1, dtype=np.int64)
    raw[:, :, 0] = np.where(valid, rng.poisson(np.where(valid, lam, 0)), -1)
    ww = werkwijze_factor(werkwijze, indeling.codes)[:, year_idx]
    # Household help: the 2019 abonnementstarief drew more clients in (synthetic, for shape).
    hh_trend = (1 + 0.01 * t) * np.where(year_idx >= YEARS.index(2019), 1.08, 1.0)
    for c, cat in enumerate(CATEGORIEEN[1:], start=1):
        parent = CATEGORIE_INDEX[cat.parent]  # type: ignore[index]
        p = cat.share / CATEGORIEEN[parent].share * cat_effect[:, c][:, None]
        if cat.key == HH:
            p = p * ww * hh_trend[None, :]
        p = np.broadcast_to(p, (n_code, n_per)).clip(0, 0.99)
        base = raw[:, :, parent]
        raw[:, :, c] = np.where(valid, rng.binomial(np.maximum(base, 0), p), -1)
    delivered = levering.random((n_code, n_per)) >= NOT_DELIVERED
    return Wmo(raw, delivered)


def publish_counts(raw: np.ndarray) -> np.ndarray:
    """CBS rule: 0–7 suppressed (-1), the rest rounded to a multiple of 5; -1 stays -1."""
    rounded = (np.floor(raw / 5 + 0.5) * 5).astype(np.int64)
    return np.where(raw <= 7, -1, rounded)


def per_1000(count: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Integer per-1 000 (half up) of a published count; -1 where the count is missing."""
    ok = (count >= 0) & (population > 0)
    safe = np.where(ok, population, 1)
    return np.where(ok, np.floor(count / safe * 1000 + 0.5), -1).astype(np.int64)


def round5(values: np.ndarray) -> np.ndarray:
    return (np.floor(values / 5 + 0.5) * 5).astype(np.int64)


def region_figures(raw: np.ndarray, published: np.ndarray, pop: np.ndarray,
                   member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CBS-style figures for regions made of gemeenten: (counts, population) [..., region, p].

    `raw`, `published` and `pop` have the gemeenten on axis -2 (raw -1: not valid; published
    -1: no figure); `member` is bool [region, gemeente]. Like CBS for NL01, a region's count is
    the sum of the published figures of its gemeenten plus an estimate for the valid gemeenten
    without a figure (not delivered or suppressed); the synthetic estimate is the model's own
    count, rounded to 5 as a whole. So a region is never below the pooled published figures and
    equals them when every gemeente has one. A region count of 0-7 is suppressed like any cell.
    """
    weights = member.astype(np.int64)
    valid, has = raw >= 0, published >= 0
    known = weights @ np.where(has, published, 0)
    estimate = weights @ np.where(valid & ~has, raw, 0)
    counts = known + round5(estimate)
    region_pop = member.astype(float) @ np.where(valid, pop, 0.0)
    return np.where(counts <= 7, -1, counts), region_pop
