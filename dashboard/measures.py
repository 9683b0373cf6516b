"""The one catalogue of measures: what each figure divides by what, for which voorziening, how
it is pooled over gemeenten, how it is rounded, and (in the locale files, section `maten`) what
it is called and means in each language.

Every page, export and SQL example takes its measures from here, so "Wmo-cliënten per 1 000
inwoners" is defined once. The SQL text of a measure comes only from these declarations, never
from user input.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.catalog import HBH, TOTAAL
from dashboard.i18n import section, tr

TEXTS = section("maten")


@dataclass(frozen=True)
class Measure:
    """figure = per × teller / noemer, per gemeente and, pooled, over a group of gemeenten:
    per × sum(teller) / sum(noemer) over the gemeenten where both are known (never the mean
    of the gemeenten's figures)."""

    key: str
    teller: str  # numerator: a column of out.gemeente_periode
    noemer: str  # denominator: a column of out.gemeente_periode
    per: float = 1000.0
    column: str | None = None  # the same figure as stored per gemeente, when the database has it
    voorziening: str | None = None  # fixed voorziening; None: the one the reader chose
    year_only: bool = False  # the figures exist per whole year only
    diverging: bool = False  # a change around 0 (two-sided colours)
    change: bool = False  # the difference with the same period a year earlier
    decimals: int = 1  # the one rounding rule for this measure, on every page and chart
    note: str | None = None  # key of a caveat in section `maten`

    def label(self, lang: str) -> str:
        return tr(self.key, lang, TEXTS)

    def unit(self, lang: str) -> str:
        return tr(f"{self.key}_eenheid", lang, TEXTS)

    def uitleg(self, lang: str) -> str:
        """One or two sentences: what is counted and divided by what."""
        return tr(f"{self.key}_uitleg", lang, TEXTS)

    def caveat(self, lang: str) -> str | None:
        return None if self.note is None else tr(self.note, lang, TEXTS)

    def value_sql(self, alias: str = "g", previous: str = "p") -> str:
        """The figure per gemeente as SQL over `alias` (and `previous`, the row a year earlier,
        for a change measure)."""
        own = self._ratio_sql(alias)
        return f"({own} - {self._ratio_sql(previous)})" if self.change else own

    def _ratio_sql(self, alias: str) -> str:
        if self.column is not None:
            return f"{alias}.{self.column}"
        per = f"{self.per:g}"
        return f"{per}.0 * {alias}.{self.teller} / nullif({alias}.{self.noemer}, 0)"

    def pooled_sql(self, alias: str = "g") -> str:
        """The figure over a group of rows: per × sum(teller) / sum(noemer), both known."""
        both = f"{alias}.{self.teller} IS NOT NULL AND {alias}.{self.noemer} IS NOT NULL"
        return (f"{self.per:g}.0 * sum({alias}.{self.teller}) FILTER (WHERE {both}) / "
                f"nullif(sum({alias}.{self.noemer}) FILTER (WHERE {both}), 0)")

    def voorziening_or(self, chosen: str) -> str:
        return self.voorziening if self.voorziening is not None else chosen


MEASURES: dict[str, Measure] = {m.key: m for m in (
    Measure("per_1000", "clienten", "inwoners", column="clienten_per_1000"),
    Measure("hbh_per_1000", "clienten", "inwoners", column="clienten_per_1000", voorziening=HBH),
    Measure("per_1000_75plus", "clienten", "inwoners_75plus"),
    Measure("bezwaren_per_1000", "bezwaren_ontvangen", "clienten",
            column="bezwaren_per_1000_clienten", voorziening=TOTAAL, year_only=True),
    Measure("uitgaven_per_inwoner", "uitgaven_gerealiseerd", "inwoners", per=1.0,
            column="uitgaven_per_inwoner", voorziening=TOTAAL, year_only=True, decimals=0,
            note="uitgaven_caveat"),
    Measure("hbh_uitgaven_per_inwoner", "uitgaven_gerealiseerd_hbh", "inwoners", per=1.0,
            column="uitgaven_hbh_per_inwoner", voorziening=HBH, year_only=True, decimals=0,
            note="uitgaven_caveat"),
    Measure("hbh_uitgaven_per_client", "uitgaven_gerealiseerd_hbh", "clienten", per=1.0,
            column="uitgaven_hbh_per_client", voorziening=HBH, year_only=True, decimals=0,
            note="uitgaven_caveat"),
    Measure("hbh_instroom_per_1000", "hbh_instroom", "inwoners", column="hbh_instroom_per_1000",
            voorziening=HBH, year_only=True, note="stroom_caveat"),
    Measure("hbh_uitstroom_per_1000", "hbh_uitstroom", "inwoners",
            column="hbh_uitstroom_per_1000", voorziening=HBH, year_only=True,
            note="stroom_caveat"),
    Measure("beeindigd_gemeente", "beeindigd_door_gemeente", "clienten",
            column="beeindigd_door_gemeente_per_1000_clienten", voorziening=TOTAAL,
            year_only=True, note="beeindigd_caveat"),
    Measure("uitspraken_per_10000", "uitspraken_wmo", "clienten", per=10000.0,
            column="uitspraken_per_10000_clienten", voorziening=TOTAAL, year_only=True,
            note="uitspraken_caveat"),
    Measure("verandering", "clienten", "inwoners", column="clienten_per_1000", diverging=True,
            change=True),
)}


def measure(key: str) -> Measure:
    return MEASURES[key]


def pick(*keys: str) -> dict[str, Measure]:
    """A page's own selection, in the order it offers them."""
    return {key: MEASURES[key] for key in keys}
