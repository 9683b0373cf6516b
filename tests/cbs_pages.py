"""Hand-written CBS OData v3 tables in the real layout (dense cube, padded keys, Feed envelope),
for parser, transform and loopback-server tests of the spending and flow tables.

The figures in SPENDING / STROOM / BEEINDIGING are real, copied from the StatLine excerpts in
../shared/research-samples/cbs/ (thousands of euro for 84580NED). Category keys that CBS did not
show there are marked as invented where they are declared; the parsers must not depend on them.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from etl.snapshot import write_sidecar

FEED_META = "https://opendata.cbs.nl/ODataFeed/OData"


@dataclass(frozen=True)
class Dim:
    key: str
    title: str
    kind: str                      # Dimension | GeoDimension | TimeDimension
    items: list[tuple[str, str, str]]   # (key, title, description or status)


@dataclass(frozen=True)
class V3Table:
    table_id: str
    title: str
    dims: list[Dim]
    topics: list[tuple[str, str, str]]          # (key, title, unit)
    # (category key per dimension, in dims order) -> [value per topic]; absent cells are null
    cells: dict[tuple[str, ...], list[float | None]] = field(default_factory=dict)

    def resources(self) -> dict[str, list[dict[str, Any]]]:
        props: list[dict[str, Any]] = []
        for dim in self.dims:
            props.append({"odata.type": f"Cbs.OData.{dim.kind}", "ID": len(props),
                          "Position": len(props), "ParentID": None, "Type": dim.kind,
                          "Key": dim.key, "Title": dim.title, "Description": ""})
        for key, title, unit in self.topics:
            props.append({"odata.type": "Cbs.OData.Topic", "ID": len(props),
                          "Position": len(props), "ParentID": None, "Type": "Topic",
                          "Key": key, "Title": title, "Description": "", "Datatype": "Long",
                          "Unit": unit, "Decimals": 0, "Default": "Missing",
                          "PresentationType": "Absolute"})
        out: dict[str, list[dict[str, Any]]] = {
            "TableInfos": [{"ID": 1, "Title": self.title, "Identifier": self.table_id,
                            "Frequency": "Perjaar", "OutputStatus": "Regulier"}],
            "DataProperties": props,
            "CategoryGroups": [],
        }
        for dim in self.dims:
            width = max(len(k) for k, _, _ in dim.items)
            if dim.kind == "TimeDimension":
                out[dim.key] = [{"Key": k, "Title": t, "Description": "", "Status": s}
                                for k, t, s in dim.items]
            else:
                out[dim.key] = [{"Key": k.ljust(width), "Title": t, "Description": d,
                                 "CategoryGroupID": None} for k, t, d in dim.items]
        return out

    def rows(self) -> list[dict[str, Any]]:
        """The dense cube: a row for every combination, null where no cell was given."""
        widths = [max(len(k) for k, _, _ in d.items) for d in self.dims]
        rows = []
        combos = itertools.product(*[[k for k, _, _ in d.items] for d in self.dims])
        for i, combo in enumerate(combos):
            values = self.cells.get(combo, [None] * len(self.topics))
            row: dict[str, Any] = {"ID": i}
            for dim, width, key in zip(self.dims, widths, combo, strict=True):
                row[dim.key] = key if dim.kind == "TimeDimension" else key.ljust(width)
            for (topic, _, _), value in zip(self.topics, values, strict=True):
                row[topic] = value
            rows.append(row)
        return rows

    def v4_resources(self) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
        """Properties and the code lists as the v4 service lists them (unpadded codes; measure
        codes unrelated to the v3 keys, as at CBS)."""
        props = {"Identifier": self.table_id, "Title": self.title, "Language": "nl"}
        res: dict[str, list[dict[str, Any]]] = {
            "Dimensions": [{"Identifier": d.key, "Title": d.title, "Description": "",
                            "Kind": d.kind} for d in self.dims],
            "MeasureCodes": [{"Identifier": f"M{9000 + i:06d}", "Index": i + 1, "Title": title,
                              "Unit": unit, "Decimals": 0, "MeasureGroupId": None}
                             for i, (_, title, unit) in enumerate(self.topics)],
        }
        for d in self.dims:
            res[f"{d.key}Codes"] = [
                {"Identifier": k, "Index": i + 1, "Title": t, "Description": "",
                 "DimensionGroupId": None, **({"Status": x} if d.kind == "TimeDimension" else {})}
                for i, (k, t, x) in enumerate(d.items)]
            res[f"{d.key}Groups"] = []
        return props, res

    def v4_observations(self) -> list[dict[str, Any]]:
        """Sparse long rows: v4 leaves out the empty cells of the cube."""
        rows = []
        for combo, values in sorted(self.cells.items()):
            for i, value in enumerate(values):
                if value is None:
                    continue
                rows.append({"Id": len(rows), "Measure": f"M{9000 + i:06d}",
                             "ValueAttribute": "None", "Value": float(value),
                             "StringValue": None,
                             **{d.key: k for d, k in zip(self.dims, combo, strict=True)}})
        return rows

    def write(self, folder: Path) -> Path:
        """A snapshot folder as `wmo fetch` writes it: one page per resource, a sidecar."""
        pages = {**self.resources(), "TypedDataSet": self.rows()}
        for name, values in pages.items():
            path = folder / "v3" / name / "page-0001.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            doc = {"odata.metadata": f"{FEED_META}/{self.table_id}/$metadata"
                                     f"#Cbs.OData.WebAPI.{name}", "value": values}
            path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        write_sidecar(folder, {"source_id": f"cbs-{self.table_id}", "title": self.title,
                               "producer": "Centraal Bureau voor de Statistiek (CBS)",
                               "url": f"https://opendata.cbs.nl/ODataFeed/odata/{self.table_id}",
                               "licence": "CC BY 4.0", "format": "odata-v3",
                               "table_id": self.table_id})
        return folder


def regio(*items: tuple[str, str, str]) -> Dim:
    return Dim("RegioS", "Regio's", "GeoDimension", list(items))


def perioden(*items: tuple[str, str, str]) -> Dim:
    return Dim("Perioden", "Perioden", "TimeDimension", list(items))


# --- 84580NED -------------------------------------------------------------------------------

SPENDING_TOPICS = [
    ("BegroteUitgaven_1", "Begrote uitgaven", "1 000 euro"),
    ("BegroteUitgavenPer1000Inwoners_2", "Begrote uitgaven per 1000 inwoners", "1 000 euro"),
    ("GerealiseerdeUitgaven_3", "Gerealiseerde uitgaven", "1 000 euro"),
    ("GerealiseerdeUitgavenPer1000Inwoners_4", "Gerealiseerde uitgaven per 1000 inwoners",
     "1 000 euro"),
]
# The type keys of 84580NED are not known; these follow the client tables (§9.2).
SPENDING_TYPES = [("T001024", "Totaal", ""), ("A019507", "Hulp bij het huishouden", "")]
SPENDING_REGIONS = [
    ("NL01", "Nederland", ""),
    ("GM0738", "Aalburg", "Opgeheven per 01-01-2019"),
    ("GM1959", "Altena", "Ontstaan per 01-01-2019"),
    ("GM0363", "Amsterdam", ""),
    ("GM0106", "Assen", ""),
    ("GM0344", "Utrecht (gemeente)", ""),
]
SPENDING_PERIODS = [("2019JJ00", "2019", "Voorlopig"), ("2023JJ00", "2023", "Voorlopig"),
                    ("2024JJ00", "2024", "Voorlopig")]
# statline_84580NED_*.txt: begroot, begroot per 1000 inw., gerealiseerd, gerealiseerd per 1000.
SPENDING = {
    ("T001024", "NL01", "2019JJ00"): [None, None, 5319499, 308],
    ("T001024", "NL01", "2023JJ00"): [None, None, 5483969, 308],
    ("A019507", "NL01", "2019JJ00"): [1112449, 64, 1133291, 66],
    ("T001024", "GM0363", "2023JJ00"): [356892, 389, 345486, 376],
    ("T001024", "GM0106", "2023JJ00"): [40059, 577, 39942, 575],
    ("T001024", "GM0344", "2024JJ00"): [212355, 567, 204690, 547],
    # Aalburg (dissolved) and Altena (did not deliver) are listed with empty cells for 2023.
}


def spending_table(type_key: str = "MaatwerkvoorzieningenType",
                   type_title: str = "Maatwerkvoorzieningen: type",
                   topics: list[tuple[str, str, str]] | None = None) -> V3Table:
    return V3Table("84580NED",
                   "Gemeentelijke uitgaven Wmo-maatwerkvoorzieningen; type voorziening, regio",
                   [Dim(type_key, type_title, "Dimension", SPENDING_TYPES),
                    regio(*SPENDING_REGIONS), perioden(*SPENDING_PERIODS)],
                   topics or SPENDING_TOPICS, dict(SPENDING))


# --- 85044NED (stand, instroom, uitstroom) --------------------------------------------------

STROOM_TOPICS = [("Stand_1", "Stand", "aantal"), ("Instroom_2", "Instroom", "aantal"),
                 ("Uitstroom_3", "Uitstroom", "aantal")]
STROOM_TYPES = [("T001024", "Totaal", ""), ("A019506", "Ondersteuning thuis, totaal", ""),
                ("A019507", "Hulp bij het huishouden", "")]
STROOM_REGIONS = [("GM1979", "Eemsdelta", "Ontstaan per 01-01-2021"),
                  ("GM0014", "Groningen (gemeente)", ""),
                  ("GM1966", "Het Hogeland", ""),
                  ("GM0024", "Loppersum", "Opgeheven per 01-01-2021")]
# statline_85044NED_stand_instroom_uitstroom_2021.txt
STROOM = {
    ("T001024", "GM1979", "2021JJ00"): [10, 7080, 1810],
    ("T001024", "GM0014", "2021JJ00"): [24470, 6430, 14295],
    ("T001024", "GM1966", "2021JJ00"): [5095, 1930, 1570],
    ("A019506", "GM1979", "2021JJ00"): [None, 885, 720],
    ("A019506", "GM0014", "2021JJ00"): [4180, 1710, 4595],
    ("A019506", "GM1966", "2021JJ00"): [855, 415, 625],
    ("A019507", "GM1979", "2021JJ00"): [None, 1990, 475],
    ("A019507", "GM0014", "2021JJ00"): [5525, 2240, 3835],
    ("A019507", "GM1966", "2021JJ00"): [845, 915, 405],
}


def stroom_table(table_id: str = "85044NED", periods: list[tuple[str, str, str]] | None = None,
                 cells: dict | None = None) -> V3Table:
    return V3Table(table_id, "Wmo-arrangementen; stand, instroom, uitstroom, regio",
                   [Dim("TypeMaatwerkarrangement", "Type Maatwerkarrangement", "Dimension",
                        STROOM_TYPES), regio(*STROOM_REGIONS),
                    perioden(*(periods or [("2021JJ00", "2021", "Voorlopig")]))],
                   STROOM_TOPICS, dict(STROOM if cells is None else cells))


# --- 83266NED (reden beëindiging) -----------------------------------------------------------

BEEINDIGING_TOPICS = [("WmoClienten_1", "Wmo-cliënten", "aantal"),
                      ("WmoClientenPer1000Inwoners_2", "Wmo-cliënten per 1 000 inwoners",
                       "per 1 000 inwoners")]
# statline_83266NED_reden_beeindiging_leeuwarden_2020.txt; the reason keys are invented (CBS
# did not show them), the titles and figures are real.
REDENEN = [
    ("T001019", "Totaal", [7035, 57]),
    ("R01", "Overlijden", [185, 1]),
    ("R02", "Cliënt wil nu zorg niet", [None, None]),
    ("R05", "Levering volgens plan beëindigd", [3015, 24]),
    ("R08", "Levering eenzijdig beëindigd cliënt", [905, 7]),
    ("R09", "Levering eenzijdig beëindigd aanbieder", [50, 0]),
    ("R12", "Verhuizing naar andere gemeente", [60, 0]),
    ("R16", "Geïnitieerd door de gemeente", [25, 0]),
]


def beeindiging_table() -> V3Table:
    return V3Table("83266NED", "Wmo-cliënten; reden beëindiging ondersteuning, regio",
                   [Dim("RedenBeeindiging", "Reden beëindiging", "Dimension",
                        [(k, t, "") for k, t, _ in REDENEN]),
                    regio(("NL01", "Nederland", ""), ("GM0080", "Leeuwarden", "")),
                    perioden(("2020JJ00", "2020", "Voorlopig"))],
                   BEEINDIGING_TOPICS,
                   {(k, "GM0080", "2020JJ00"): v for k, _, v in REDENEN})
