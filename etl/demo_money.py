"""SYNTHETIC spending (84580NED) and flow tables (86051NED, 85044NED, 83268NED; 86061NED,
83266NED) for `wmo demo`, drawn from the demo's own client counts.

Spending is clients × an invented cost per client (household help about € 2 250 a year, so
Nederland comes to about € 65 per inhabitant and the total to about € 300), with a spread per
gemeente, a yearly rise and a mild werkwijze effect on household help; flows and reasons for
ending are binomial draws from the same clients. Like the client tables: CBS's rounding and
suppression, some gemeenten without figures, NL01 and the provinces including an estimate for
those, the newest year provisional. The category and reason keys are invented.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from etl import demo_model as m
from etl.demo import (
    Cube,
    Dimension,
    Model,
    Topic,
    _category_items,
    _select,
    perioden_dimension,
    publish,
    regio_dimension,
    regions,
)

UITGAVEN_YEARS = range(2017, 2025)
# 2023 euro per client of the year (invented, to reach CBS's national magnitudes).
COST_PER_CLIENT = {"A019507": 2_250.0, "A019506": 4_300.0, "A019508": 28_000.0,
                   "A019509": 1_100.0}
WITHOUT_VERBLIJF = ("A019507", "A019506", "A019509")
COST_TREND = 1.023                       # nominal rise per year
COST_WERKWIJZE = {"resultaatgericht": 0.92, "uren": 1.03}   # household help only
NOT_DELIVERED_SPENDING = 0.04
UNKNOWN_BUDGET = 0.05
SPENDING_TYPES = [("T001024", "Totaal"), ("A048188", "Totaal exclusief verblijf en opvang"),
                  ("A019506", "Ondersteuning thuis, totaal"),
                  ("A019507", "Hulp bij het huishouden"),
                  ("A019508", "Verblijf en opvang, totaal"),
                  ("A019509", "Hulpmiddelen en diensten, totaal")]
SPENDING_TOPICS = [
    Topic("BegroteUitgaven_1", "Begrote uitgaven", "1 000 euro", "Absolute",
          "Begrote uitgaven, exclusief uitvoeringskosten (synthetisch)."),
    Topic("BegroteUitgavenPer1000Inwoners_2", "Begrote uitgaven per 1000 inwoners",
          "1 000 euro", "Relative", "Begrote uitgaven per 1 000 inwoners (synthetisch)."),
    Topic("GerealiseerdeUitgaven_3", "Gerealiseerde uitgaven", "1 000 euro", "Absolute",
          "Gerealiseerde uitgaven, exclusief uitvoeringskosten (synthetisch)."),
    Topic("GerealiseerdeUitgavenPer1000Inwoners_4", "Gerealiseerde uitgaven per 1000 inwoners",
          "1 000 euro", "Relative", "Gerealiseerde uitgaven per 1 000 inwoners (synthetisch)."),
]
KEY_NOTE = "De sleutels van de categorieën zijn verzonnen voor de demodata."


def newest_voorlopig(last: int) -> Callable[[str], str]:
    return lambda code: "Voorlopig" if m.period_year(code) >= last else "Definitief"


def _year_periods(years: Sequence[int]) -> list[str]:
    return [f"{y}JJ00" for y in years]


def spending_euro(model: Model, codes: list[str], years: Sequence[int],
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Realised euro [type, code, year] (NaN where the gemeente did not exist) and population."""
    cats = list(COST_PER_CLIENT)
    _, raw, _, pop, _ = _select(model, years, _year_periods(years), cats)
    raw = raw.astype(float)
    valid = raw[0] >= 0
    effect = np.exp(rng.normal(0, 0.18, (len(cats), len(codes), 1)))
    trend = COST_TREND ** (np.array(years) - 2023.0)
    rows = [model.indeling.codes.index(c) for c in codes]
    cols = [m.YEARS.index(y) for y in years]
    method = (m.werkwijze_factor(model.werkwijze, model.indeling.codes, COST_WERKWIJZE)
              if model.werkwijze is not None else np.ones((len(model.indeling.codes),
                                                           len(m.YEARS))))
    cost = np.array([COST_PER_CLIENT[c] for c in cats])[:, None, None] * effect * trend
    cost[cats.index("A019507")] *= method[np.ix_(rows, cols)]
    parts = np.where(raw >= 0, raw * cost, np.nan)
    by_key = dict(zip(cats, parts, strict=True))
    totaal = sum(by_key[c] for c in cats)
    zonder = sum(by_key[c] for c in WITHOUT_VERBLIJF)
    euro = np.stack([by_key.get(k, totaal if k == "T001024" else zonder)
                     for k, _ in SPENDING_TYPES])
    return np.where(valid[None], euro, np.nan), pop


def cube_84580(model: Model) -> Cube:
    years = list(UITGAVEN_YEARS)
    periods = _year_periods(years)
    codes = m.valid_codes(model.indeling, years)
    rng = model.rngs["uitgaven"]
    euro, pop = spending_euro(model, codes, years, rng)
    valid = ~np.isnan(euro[0])
    delivered = rng.random(valid.shape) >= NOT_DELIVERED_SPENDING
    budget = euro * rng.normal(1.0, 0.06, euro.shape)
    budget_known = rng.random(euro.shape) >= UNKNOWN_BUDGET
    member = regions(model.history, codes).astype(float)

    def published(values: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Thousands of euro and thousands per 1 000 inwoners, NL01 and provinces first; a
        region includes the gemeenten without a figure (CBS estimates them)."""
        filled = np.where(valid[None], values, 0.0)
        region = member @ filled                          # [type, region, year]
        region_pop = member @ np.where(valid, pop, 0.0)
        gm = np.where(valid[None] & delivered[None] & known, values, np.nan)
        amount = np.concatenate([region, gm], axis=1)
        people = np.concatenate([region_pop, pop], axis=0)[None]
        thousands = np.where(np.isnan(amount), -1, np.floor(amount / 1000 + 0.5))
        per_inw = np.where(np.isnan(amount), -1, np.floor(amount / np.where(people > 0, people,
                                                                            1) + 0.5))
        return thousands.astype(np.int64), per_inw.astype(np.int64)

    realised, realised_per = published(euro, np.ones(euro.shape, dtype=bool))
    begroot, begroot_per = published(budget, budget_known)
    # CBS knows no national budget for the totals that include verblijf en opvang.
    for key in ("T001024", "A019508"):
        i = [k for k, _ in SPENDING_TYPES].index(key)
        begroot[i, 0], begroot_per[i, 0] = -1, -1
    type_dim = Dimension("MaatwerkvoorzieningenType", "Maatwerkvoorzieningen: type", "Dimension",
                         _category_items(SPENDING_TYPES),
                         "Type maatwerkvoorziening waarvoor de uitgaven zijn gedaan.")
    return Cube(
        "84580NED",
        "Gemeentelijke uitgaven Wmo-maatwerkvoorzieningen; type voorziening, regio", "Perjaar",
        f"{years[0]}-{years[-1]}", "Regulier",
        "Begrote en gerealiseerde gemeentelijke uitgaven voor Wmo-maatwerkvoorzieningen",
        [type_dim, regio_dimension(model.history, codes),
         perioden_dimension(periods, newest_voorlopig(years[-1]))],
        SPENDING_TOPICS,
        {"BegroteUitgaven_1": begroot, "BegroteUitgavenPer1000Inwoners_2": begroot_per,
         "GerealiseerdeUitgaven_3": realised, "GerealiseerdeUitgavenPer1000Inwoners_4":
         realised_per},
        notes=["Uitgaven zijn exclusief uitvoeringskosten.", KEY_NOTE],
    )


# ---------------------------------------------------------------------------------------------
# Stand, instroom, uitstroom

STROOM_TYPES = [k for k, _ in SPENDING_TYPES if k != "A048188"]
# Fractions of the clients of the year: running at the end, started, ended.
STROOM_SHARE = {"Stand_1": 0.78, "Instroom_2": 0.27, "Uitstroom_3": 0.24}
STROOM_TOPICS = [Topic("Stand_1", "Stand", "aantal", "Absolute",
                       "Lopende maatwerkvoorzieningen aan het eind van de periode (synthetisch)."),
                 Topic("Instroom_2", "Instroom", "aantal", "Absolute",
                       "Gestarte maatwerkvoorzieningen (synthetisch)."),
                 Topic("Uitstroom_3", "Uitstroom", "aantal", "Absolute",
                       "Beëindigde maatwerkvoorzieningen (synthetisch).")]


def cube_stroom(model: Model, table_id: str, title: str, years: Sequence[int],
                output_status: str) -> Cube:
    periods = _year_periods(years)
    codes, raw, delivered, pop, _ = _select(model, years, periods, STROOM_TYPES)
    rng = model.rngs["stroom"]
    member = regions(model.history, codes)
    values = {}
    for key, share in STROOM_SHARE.items():
        drawn = np.where(raw >= 0, rng.binomial(np.maximum(raw, 0), share), -1)
        values[key] = publish(drawn, delivered, pop, member)[0]
    labels = dict(SPENDING_TYPES)
    type_dim = Dimension("TypeMaatwerkvoorziening", "Type maatwerkvoorziening", "Dimension",
                         _category_items([(k, labels[k]) for k in STROOM_TYPES]))
    return Cube(
        table_id, title, "Perjaar", f"{years[0]}-{years[-1]}", output_status,
        "Lopende, gestarte en beëindigde Wmo-maatwerkvoorzieningen",
        [type_dim, regio_dimension(model.history, codes),
         perioden_dimension(periods, newest_voorlopig(2024))],
        STROOM_TOPICS, values,
        notes=["Aantallen zijn afgerond op vijftallen; waarden 0 tot en met 7 zijn niet "
               "gepubliceerd.", KEY_NOTE],
    )


# ---------------------------------------------------------------------------------------------
# Reden beëindiging

# (invented key, CBS title, share of the clients whose support ended)
REDENEN = [
    ("A050201", "Overlijden", 0.12), ("A050202", "Cliënt wil nu zorg niet", 0.03),
    ("A050203", "Overplaatsing", 0.01), ("A050204", "Aanbieder kan zorg niet leveren", 0.01),
    ("A050205", "Levering volgens plan beëindigd", 0.42),
    ("A050206", "Levering is tijdelijk beëindigd", 0.01),
    ("A050207", "Overdracht toewijzing", 0.02),
    ("A050208", "Levering eenzijdig beëindigd cliënt", 0.06),
    ("A050209", "Levering eenzijdig beëindigd aanbieder", 0.01),
    ("A050210", "Levering beëindigd in overeenstemming", 0.03),
    ("A050211", "Verhuizing naar andere gemeente", 0.03),
    ("A050212", "Voortz. in de sociale basisondersteuning", 0.01),
    ("A050213", "Voortzetting in Zorgverzekeringswet", 0.01),
    ("A050214", "Voortzetting in Wet Langdurige Zorg", 0.06),
    ("A050215", "Geïnitieerd door de gemeente", 0.015),
    ("A050216", "In verband met wijzigingsverzoek", 0.02),
]
GEMEENTE = "A050215"
ENDED_SHARE = 0.30
# Synthetic, for shape only: resultaatgerichte gemeenten end more support themselves.
GEMEENTE_WERKWIJZE = {"resultaatgericht": 1.6, "uren": 0.9}
NO_REASONS = 0.10


def cube_beeindiging(model: Model, table_id: str, title: str, years: Sequence[int],
                     output_status: str) -> Cube:
    periods = _year_periods(years)
    codes, raw, delivered, pop, _ = _select(model, years, periods, ["T001024"])
    rng = model.rngs["beeindiging"]
    total = raw[0]
    ended = np.where(total >= 0, rng.binomial(np.maximum(total, 0), ENDED_SHARE), -1)
    rows = [model.indeling.codes.index(c) for c in codes]
    cols = [m.YEARS.index(y) for y in years]
    method = (m.werkwijze_factor(model.werkwijze, model.indeling.codes, GEMEENTE_WERKWIJZE)
              [np.ix_(rows, cols)] if model.werkwijze is not None else 1.0)
    parts = [ended]
    for key, _, share in REDENEN:
        p = np.broadcast_to(share * (method if key == GEMEENTE else 1.0), ended.shape)
        parts.append(np.where(ended >= 0, rng.binomial(np.maximum(ended, 0), p), -1))
    counts = np.stack(parts)                                  # [reden, code, year]
    # Some gemeenten register no reasons: the total is known, every reason '.'. Those cells
    # still have clients behind them, which the region figures estimate like CBS.
    hidden = np.zeros(counts.shape, dtype=bool)
    hidden[1:] = (rng.random(ended.shape) < NO_REASONS)[None]
    published, rates = publish(counts, delivered[None] & ~hidden, pop, regions(model.history,
                                                                               codes))
    reden_dim = Dimension("RedenBeeindiging", "Reden beëindiging", "Dimension",
                          _category_items([("T001019", "Totaal")]
                                          + [(k, t) for k, t, _ in REDENEN]))
    return Cube(
        table_id, title, "Perjaar", f"{years[0]}-{years[-1]}", output_status,
        "Wmo-cliënten met een beëindigd maatwerkarrangement naar reden",
        [reden_dim, regio_dimension(model.history, codes),
         perioden_dimension(periods, newest_voorlopig(2024))],
        [Topic("WmoClienten_1", "Wmo-cliënten", "aantal", "Absolute",
               "Cliënten met een beëindigd maatwerkarrangement (synthetisch)."),
         Topic("WmoClientenPer1000Inwoners_2", "Wmo-cliënten per 1 000 inwoners",
               "per 1 000 inwoners", "Relative", "Per 1 000 inwoners (synthetisch).")],
        {"WmoClienten_1": published, "WmoClientenPer1000Inwoners_2": rates},
        notes=["Niet van elk beëindigd maatwerkarrangement is de reden van beëindiging "
               "bekend.", KEY_NOTE],
    )


def money_cubes(model: Model) -> list[Callable[[], Cube]]:
    """The spending and flow tables in the order `write_demo` writes them."""
    return [
        lambda: cube_84580(model),
        lambda: cube_stroom(model, "83268NED",
                            "Wmo-arrangementen; stand, instroom, uitstroom, regio (2015-2020)",
                            range(2015, 2021), "Gediscontinueerd"),
        lambda: cube_stroom(model, "85044NED",
                            "Wmo-arrangementen; stand, instroom, uitstroom, regio",
                            range(2019, 2024), "Gediscontinueerd"),
        lambda: cube_stroom(model, "86051NED",
                            "Wmo-voorzieningen; stand, instroom, uitstroom, regio",
                            range(2022, 2025), "Regulier"),
        lambda: cube_beeindiging(model, "83266NED",
                                 "Wmo-cliënten; reden beëindiging ondersteuning, regio "
                                 "(2015-2020)", range(2015, 2021), "Gediscontinueerd"),
        lambda: cube_beeindiging(model, "86061NED",
                                 "Wmo-cliënten; reden beëindiging ondersteuning, regio",
                                 range(2019, 2025), "Regulier"),
    ]
