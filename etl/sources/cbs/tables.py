"""The CBS tables wmo-atlas reads: ids, roles and measure titles live here, not in code paths.

Measures are resolved at run time by their *title* (DataProperties / MeasureCodes / CSV
header), never by a v3 key suffix or a v4 measure code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WMO_MEASURES = {
    "clienten": "Wmo-cliënten",
    "clienten_per_1000": "Wmo-cliënten per 1 000 inwoners",
}


@dataclass(frozen=True)
class TableSpec:
    table_id: str
    role: str  # wmo_clienten | wmo_kenmerken | bevolking
    title: str
    measures: dict[str, str]
    # Higher wins when two Wmo tables publish the same period (newer method, newer release).
    priority: int = 0
    # Default v3 $filter for the Feed, so a fetch downloads only what the build uses.
    v3_filter: str | None = None
    optional: bool = False
    notes: list[str] = field(default_factory=list)


TABLES: dict[str, TableSpec] = {
    spec.table_id: spec
    for spec in [
        TableSpec("86050NED", "wmo_clienten",
                  "Wmo-cliënten; type maatwerkvoorziening (detail), regio", WMO_MEASURES,
                  priority=3),
        TableSpec("84839NED", "wmo_clienten",
                  "Wmo-cliënten; type maatwerkvoorziening (detail), regio, 2019-2023",
                  WMO_MEASURES, priority=2),
        TableSpec("83262NED", "wmo_clienten",
                  "Wmo-cliënten; type maatwerkarrangement, regio (2015-2020)", WMO_MEASURES,
                  priority=1, notes=["totals of Geslacht and KenmerkenVanPersonen are taken"]),
        TableSpec("85896NED", "wmo_kenmerken",
                  "Wmo-cliënten; type maatwerkvoorziening, persoonskenmerken, regio",
                  WMO_MEASURES, optional=True),
        TableSpec("03759NED", "bevolking",
                  "Bevolking op 1 januari en gemiddeld; geslacht, leeftijd en regio",
                  {"inwoners": "Bevolking op 1 januari"},
                  v3_filter="Geslacht eq 'T001038' and BurgerlijkeStaat eq 'T001019' "
                            "and Perioden ge '2015'"),
    ]
}

REQUIRED_ROLES = ("wmo_clienten", "bevolking")


def spec_for(table_id: str) -> TableSpec | None:
    return TABLES.get(table_id.upper())
