"""The CBS tables wmo-atlas reads, as declarations: id, role, measures by title, targets.

A table is one `TableSpec`; what is done with it is its `Role`: how it is parsed (the long
`CbsTable` or the compact `CbsCube`) and which core tables it fills, each with the function
that turns one parsed table into rows. `etl/build.py` runs the roles generically: per target,
the rows of every table of the role, each period from the highest-priority table that
publishes it (`bron_tabel` names it). Adding a table of an existing kind (a new series id of
the client or spending tables) is one `TableSpec` line below; a new kind of table is a new
`Role` with its transform module.

Measures are resolved at run time by their *title* (DataProperties / MeasureCodes / CSV
header), never by a v3 key suffix or a v4 measure code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from etl.transform import bevolking as bevolking_t
from etl.transform import stroom, uitgaven, wmo

WMO_MEASURES = {
    "clienten": "Wmo-cliënten",
    "clienten_per_1000": "Wmo-cliënten per 1 000 inwoners",
}

RowsFn = Callable[["TableSpec", Any], pl.DataFrame]
CombineFn = Callable[[list[tuple["TableSpec", Any]]], pl.DataFrame]


@dataclass(frozen=True)
class Output:
    """One core table a role fills.

    `rows` turns one parsed table into rows (with `bron_tabel` and `periode_code` or `jaar`);
    the build concatenates them over the role's tables keeping each period from the newest
    table (`wmo.newest_table_wins`). `combine` replaces that for a table that is not a list of
    period rows (core.voorziening, core.periode) or needs no period choice.
    """

    target: str
    schema: dict[str, pl.DataType]
    sort: tuple[str, ...] = ()
    rows: RowsFn | None = None
    combine: CombineFn | None = None

    def run(self, tables: list[tuple[TableSpec, Any]]) -> pl.DataFrame:
        if self.combine is not None:
            return self.combine(tables)
        assert self.rows is not None, f"{self.target}: an Output needs rows or combine"
        return wmo.newest_table_wins(tables, self.rows, self.schema, self.sort)


@dataclass(frozen=True)
class Role:
    name: str
    outputs: tuple[Output, ...]
    # Parsed as the compact CbsCube: the persoonskenmerken table has millions of cells.
    compact: bool = False

    @property
    def targets(self) -> list[str]:
        return [o.target for o in self.outputs]


WMO_CLIENTEN = Role("wmo_clienten", (
    Output("core.wmo_clienten", wmo.WMO_SCHEMA, wmo.WMO_SORT, rows=wmo.table_rows),
    Output("core.wmo_clienten_regio", wmo.REGIO_SCHEMA, wmo.REGIO_SORT,
           rows=wmo.regio_table_rows),
    Output("core.voorziening", {}, combine=wmo.voorziening),
    Output("core.periode", {}, combine=wmo.periode),
))
WMO_KENMERKEN = Role("wmo_kenmerken", (
    Output("core.wmo_clienten_kenmerken", wmo.KENMERKEN_SCHEMA,
           combine=wmo.wmo_clienten_kenmerken),
), compact=True)
BEVOLKING = Role("bevolking", (
    Output("core.bevolking", bevolking_t.BEVOLKING_SCHEMA, ("gemeente_code", "jaar"),
           rows=bevolking_t.bevolking_rows),
))
WMO_UITGAVEN = Role("wmo_uitgaven", (
    Output("core.wmo_uitgaven", uitgaven.UITGAVEN_SCHEMA, uitgaven.SORT,
           rows=uitgaven.table_rows),
    Output("core.wmo_uitgaven_regio", uitgaven.REGIO_SCHEMA, uitgaven.REGIO_SORT,
           rows=uitgaven.regio_rows),
))
WMO_STROOM = Role("wmo_stroom", (
    Output("core.wmo_stroom", stroom.STROOM_SCHEMA, stroom.STROOM_SORT,
           rows=stroom.stroom_rows),
))
WMO_BEEINDIGING = Role("wmo_beeindiging", (
    Output("core.wmo_beeindiging", stroom.BEEINDIGING_SCHEMA, stroom.BEEINDIGING_SORT,
           rows=stroom.beeindiging_rows),
))
ROLES: dict[str, Role] = {r.name: r for r in (WMO_CLIENTEN, WMO_KENMERKEN, BEVOLKING,
                                               WMO_UITGAVEN, WMO_STROOM, WMO_BEEINDIGING)}


@dataclass(frozen=True)
class TableSpec:
    table_id: str
    role: Role
    title: str
    measures: dict[str, str]
    # Higher wins when two tables of a role publish the same period (newer method or release).
    priority: int = 0
    # Default v3 $filter for the Feed, so a fetch downloads only what the build uses.
    v3_filter: str | None = None
    optional: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def targets(self) -> list[str]:
        return self.role.targets


TABLES: dict[str, TableSpec] = {
    spec.table_id: spec
    for spec in [
        TableSpec("86050NED", WMO_CLIENTEN,
                  "Wmo-cliënten; type maatwerkvoorziening (detail), regio", WMO_MEASURES,
                  priority=3),
        TableSpec("84839NED", WMO_CLIENTEN,
                  "Wmo-cliënten; type maatwerkvoorziening (detail), regio, 2019-2023",
                  WMO_MEASURES, priority=2),
        TableSpec("83262NED", WMO_CLIENTEN,
                  "Wmo-cliënten; type maatwerkarrangement, regio (2015-2020)", WMO_MEASURES,
                  priority=1, notes=["totals of Geslacht and KenmerkenVanPersonen are taken"]),
        TableSpec("85896NED", WMO_KENMERKEN,
                  "Wmo-cliënten; type maatwerkvoorziening, persoonskenmerken, regio",
                  WMO_MEASURES, optional=True),
        TableSpec("03759NED", BEVOLKING,
                  "Bevolking op 1 januari en gemiddeld; geslacht, leeftijd en regio",
                  {"inwoners": "Bevolking op 1 januari"},
                  v3_filter="Geslacht eq 'T001038' and BurgerlijkeStaat eq 'T001019' "
                            "and Perioden ge '2015'"),
        TableSpec("84580NED", WMO_UITGAVEN,
                  "Gemeentelijke uitgaven Wmo-maatwerkvoorzieningen; type voorziening, regio",
                  uitgaven.MEASURES, optional=True),
        TableSpec("86051NED", WMO_STROOM,
                  "Wmo-voorzieningen; stand, instroom, uitstroom, regio", stroom.STROOM_MEASURES,
                  priority=3, optional=True),
        TableSpec("85044NED", WMO_STROOM,
                  "Wmo-arrangementen; stand, instroom, uitstroom, regio", stroom.STROOM_MEASURES,
                  priority=2, optional=True),
        TableSpec("83268NED", WMO_STROOM,
                  "Wmo-arrangementen; stand, instroom, uitstroom, regio (2015-2020)",
                  stroom.STROOM_MEASURES, priority=1, optional=True),
        TableSpec("86061NED", WMO_BEEINDIGING,
                  "Wmo-cliënten; reden beëindiging ondersteuning, regio", WMO_MEASURES,
                  priority=2, optional=True),
        TableSpec("83266NED", WMO_BEEINDIGING,
                  "Wmo-cliënten; reden beëindiging ondersteuning, regio (2015-2020)",
                  WMO_MEASURES, priority=1, optional=True),
    ]
}

REQUIRED_ROLES = ("wmo_clienten", "bevolking")


def spec_for(table_id: str) -> TableSpec | None:
    return TABLES.get(table_id.upper())


def tables_of(role: str) -> Sequence[str]:
    return [t for t, s in TABLES.items() if s.role.name == role]
