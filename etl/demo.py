"""`wmo demo`: a complete SYNTHETIC raw snapshot, in exactly the formats of the real sources.

The CBS tables are OData v3 Feed answers (paged TypedDataSet with `odata.nextLink`, padded keys,
dense cubes, period status), so `wmo build` exercises the same parsers as on real downloads.
Every synthetic folder says so three times: `synthetic: true` in `_source.json`, and
"(SYNTHETISCHE DEMODATA)" in the sidecar title and in TableInfos. Boundaries and registers are
the real files, copied unchanged.

The same seed gives byte-identical files: nothing depends on the clock or on dict/set order.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from etl import demo_model as m
from etl.errors import InputError, display_path
from etl.gemeenten import HERINDELING_SCHEMA, gemeente_history, valid_in_year
from etl.periods import period_title
from etl.snapshot import staged_folder, write_sidecar
from etl.sources.geo import boundary_files, province_of_gemeenten, read_boundaries

REPO = Path(__file__).resolve().parents[1]
DEFAULT_REGISTERS = REPO / "data" / "raw" / "registers"

SYNTHETIC_SUFFIX = " (SYNTHETISCHE DEMODATA)"
DEMO_PRODUCER = "wmo-atlas demo-generator (synthetisch, naar het formaat van CBS)"
DEMO_LICENCE = "CC BY 4.0"
# Fixed, so that a seed reproduces the snapshot byte for byte (sidecars included).
RETRIEVED_AT = "2026-01-01T00:00:00+00:00"
MODIFIED = "2026-01-01T00:00:00"
FEED = "https://opendata.cbs.nl/ODataFeed/odata"
FEED_METADATA = "https://opendata.cbs.nl/ODataFeed/OData"
PAGE_ROWS = 10_000
SCALES = ("default", "full")

GEO_META = {
    "source_id": "geo-cartomap-nl",
    "title": "Gemeente- en provinciegrenzen (CBS-gebiedsindelingen, vereenvoudigd)",
    "producer": "CBS / PDOK (vereenvoudigd, via cartomap/nl)",
    "url": "https://github.com/cartomap/nl",
    "licence": "CC BY 4.0 (CBS open data; niet bevestigd voor deze bewerking)",
    "format": "topojson",
    "synthetic": False,
}

BEZWAAR_COLUMNS = [
    "gemeente_code", "gemeente_naam", "jaar", "domein", "bezwaren_ontvangen",
    "bezwaren_afgehandeld", "gegrond", "deels_gegrond", "ongegrond", "niet_ontvankelijk",
    "ingetrokken", "beroep", "bron_url", "bron_omschrijving", "peildatum",
]

# CBS disambiguates these titles in RegioS (§3.2); the parser must match on codes anyway.
REGIO_TITLES = {"GM0014": "Groningen (gemeente)", "GM0344": "Utrecht (gemeente)",
                "GM0518": "'s-Gravenhage (gemeente)"}

STATUS_DESCRIPTION = {"Definitief": "", "Voorlopig": "Voorlopige cijfers",
                      "Nader voorlopig": "Nader voorlopige cijfers"}


# ---------------------------------------------------------------------------------------------
# The v3 cube and its writer


@dataclass(frozen=True)
class Dimension:
    key: str
    title: str
    kind: str                                   # Dimension | GeoDimension | TimeDimension
    items: list[dict[str, Any]]                 # records of the dimension list, keys unpadded
    description: str = ""


@dataclass(frozen=True)
class Topic:
    key: str
    title: str
    unit: str
    presentation: str
    description: str


@dataclass(frozen=True)
class Cube:
    table_id: str
    title: str                                  # without the synthetic suffix
    frequency: str
    period_text: str
    output_status: str
    summary: str
    dims: list[Dimension]                       # data order: the last dimension varies fastest
    topics: list[Topic]
    values: dict[str, np.ndarray]               # topic key -> int array shaped like dims, -1 null
    ids: np.ndarray | None = None               # row IDs of the full table when "fetched" filtered
    query: str = "$format=json"                 # query part repeated in odata.nextLink
    notes: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(d.items) for d in self.dims)


def pad_keys(keys: Sequence[str]) -> list[str]:
    """v3 pads every key of a dimension with spaces to the longest key of that dimension."""
    width = max(len(k) for k in keys)
    return [k.ljust(width) for k in keys]


def envelope(table_id: str, resource: str, value_json: str, next_link: str | None) -> str:
    """The Feed answer around an already serialised `value` array (kept as text for speed)."""
    meta = json.dumps(f"{FEED_METADATA}/{table_id}/$metadata#Cbs.OData.WebAPI.{resource}")
    head = f'{{"odata.metadata":{meta},"value":{value_json}'
    if next_link is None:
        return head + "}"
    return head + f',"odata.nextLink":{json.dumps(next_link)}}}'


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def write_resource(folder: Path, table_id: str, resource: str, records: list[dict[str, Any]]
                   ) -> None:
    path = folder / "v3" / resource / "page-0001.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(envelope(table_id, resource, _dump(records), None), encoding="utf-8")


def table_infos(cube: Cube) -> dict[str, Any]:
    description = (
        "SYNTHETISCHE DEMODATA, gemaakt door de wmo-atlas demo-generator: geen echte cijfers. "
        "De opmaak volgt de CBS-tabel " + cube.table_id + ". " + " ".join(cube.notes) +
        "\r\n\r\nVerklaring van tekens: . = gegevens ontbreken of geheim; "
        "* = voorlopige cijfers; ** = nader voorlopige cijfers."
    )
    return {
        "ID": 1, "Title": cube.title + SYNTHETIC_SUFFIX, "ShortTitle": cube.title[:60],
        "Identifier": cube.table_id, "Summary": cube.summary + SYNTHETIC_SUFFIX,
        "Modified": MODIFIED, "MetaDataModified": MODIFIED, "ReasonDelivery": "Actualisering",
        "ExplanatoryText": "", "Language": "nl", "Catalog": "CBS", "Frequency": cube.frequency,
        "Period": cube.period_text, "ShortDescription": description, "Description": description,
        "DefaultPresentation": "", "DefaultSelection": "$filter=()&$select=*",
        "GraphTypes": "Table", "OutputStatus": cube.output_status, "Source": "CBS (synthetisch)",
        "SearchPriority": "2",
    }


def data_properties(cube: Cube) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for dim in cube.dims:
        n = len(records)
        record: dict[str, Any] = {"odata.type": f"Cbs.OData.{dim.kind}", "ID": n, "Position": n,
                                  "ParentID": None, "Type": dim.kind, "Key": dim.key,
                                  "Title": dim.title, "Description": dim.description}
        if dim.kind == "GeoDimension":
            record["MapYear"] = None
        if dim.kind == "TimeDimension":
            record["ReleasePolicy"] = True
        records.append(record)
    for topic in cube.topics:
        n = len(records)
        records.append({
            "odata.type": "Cbs.OData.Topic", "ID": n, "Position": n, "ParentID": None,
            "Type": "Topic", "Key": topic.key, "Title": topic.title,
            "Description": topic.description, "Datatype": "Long", "Unit": topic.unit,
            "Decimals": 0, "Default": "Missing", "PresentationType": topic.presentation,
        })
    return records


def cube_frame(cube: Cube) -> pl.DataFrame:
    """The TypedDataSet rows: ID, one padded key column per dimension, one column per topic."""
    shape = cube.shape
    n = int(np.prod(shape))
    row = np.arange(n, dtype=np.int64)
    ids = row if cube.ids is None else cube.ids.reshape(-1)
    columns: list[pl.Series] = [pl.Series("ID", ids, dtype=pl.Int64)]
    stride = n
    for dim, size in zip(cube.dims, shape, strict=True):
        stride //= size
        keys = pl.Series(dim.key, pad_keys([item["Key"] for item in dim.items]), dtype=pl.Utf8)
        columns.append(keys.gather((row // stride) % size))
    frame = pl.DataFrame(columns)
    values = {k: pl.Series(k, v.reshape(-1), dtype=pl.Int64) for k, v in cube.values.items()}
    frame = frame.with_columns(*values.values())
    return frame.with_columns(
        pl.when(pl.col(t.key) >= 0).then(pl.col(t.key)).alias(t.key) for t in cube.topics
    )


def write_pages(folder: Path, table_id: str, frame: pl.DataFrame, query: str) -> int:
    resource = "TypedDataSet"
    out = folder / "v3" / resource
    out.mkdir(parents=True, exist_ok=True)
    n_pages = max(1, -(-frame.height // PAGE_ROWS))
    for page in range(n_pages):
        chunk = frame.slice(page * PAGE_ROWS, PAGE_ROWS)
        last = page == n_pages - 1
        link = None if last else (
            f"{FEED}/{table_id}/{resource}?{query}&$skip={(page + 1) * PAGE_ROWS}")
        text = envelope(table_id, resource, chunk.write_json(), link)
        (out / f"page-{page + 1:04d}.json").write_bytes(text.encode("utf-8"))
    return frame.height


def write_cube(dest: Path, cube: Cube, seed: int, scale: str) -> int:
    """Stage the table folder, write every v3 resource and the sidecar, swap it in."""
    with staged_folder(dest) as folder:
        write_resource(folder, cube.table_id, "TableInfos", [table_infos(cube)])
        write_resource(folder, cube.table_id, "DataProperties", data_properties(cube))
        write_resource(folder, cube.table_id, "CategoryGroups", [])
        for dim in cube.dims:
            items = [{**item, "Key": key}
                     for item, key in zip(dim.items, pad_keys([i["Key"] for i in dim.items]),
                                          strict=True)]
            write_resource(folder, cube.table_id, dim.key, items)
        rows = write_pages(folder, cube.table_id, cube_frame(cube), cube.query)
        write_sidecar(folder, {
            "source_id": f"cbs-{cube.table_id}",
            "title": cube.title + SYNTHETIC_SUFFIX,
            "producer": DEMO_PRODUCER,
            "url": f"{FEED}/{cube.table_id}",
            "retrieved_at": RETRIEVED_AT,
            "licence": DEMO_LICENCE,
            "format": "odata-v3",
            "table_id": cube.table_id,
            "synthetic": True,
            "seed": seed,
            "scale": scale,
        })
    return rows


# ---------------------------------------------------------------------------------------------
# Dimension lists


def _category_items(pairs: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"Key": k, "Title": t, "Description": "", "CategoryGroupID": None} for k, t in pairs]


def _dutch_date(d: Any) -> str:
    return d.strftime("%d-%m-%Y")


def provinces(history: pl.DataFrame, codes: list[str]) -> tuple[list[tuple[str, str]],
                                                                np.ndarray]:
    """The provinces of the given gemeenten as (code, name), by code, and the membership
    matrix bool [province, gemeente]. A dissolved gemeente counts in its successor's province
    (gemeente_history; no herindeling since 2015 crossed a provincial border)."""
    of = dict(history.select("gemeente_code", "provincie_code").iter_rows())
    names = dict(history.select("provincie_code", "provincie_naam").iter_rows())
    pv = sorted({of[c] for c in codes})
    member = np.array([[of[c] == p for c in codes] for p in pv], dtype=bool).reshape(
        len(pv), len(codes))
    return [(p, names[p]) for p in pv], member


def regions(history: pl.DataFrame, codes: list[str]) -> np.ndarray:
    """Membership bool [region, gemeente] of the regions before the gemeenten in RegioS:
    NL01 (every gemeente), then the provinces, in regio_dimension's order."""
    _, member = provinces(history, codes)
    return np.concatenate([np.ones((1, len(codes)), dtype=bool), member])


def regio_dimension(history: pl.DataFrame, codes: list[str]) -> Dimension:
    """NL01, the provinces (CBS titles them 'Groningen (PV)') and the given gemeenten, with
    their history in `Description` as CBS writes it."""
    info = {r["gemeente_code"]: r for r in history.iter_rows(named=True)}
    items = [{"Key": "NL01", "Title": "Nederland", "Description": "", "CategoryGroupID": None}]
    items += [{"Key": code, "Title": f"{naam} (PV)", "Description": "PV = Provincie",
               "CategoryGroupID": None} for code, naam in provinces(history, codes)[0]]
    for code in codes:
        r = info[code]
        notes = []
        if r["geldig_tot"] is not None:
            notes.append(f"Opgeheven per {_dutch_date(r['geldig_tot'])}")
        if r["geldig_vanaf"] is not None:
            notes.append(f"Ontstaan per {_dutch_date(r['geldig_vanaf'])}")
        items.append({"Key": code, "Title": REGIO_TITLES.get(code, r["gemeente_naam"]),
                      "Description": "\r\n".join(notes), "CategoryGroupID": None})
    return Dimension("RegioS", "Regio's", "GeoDimension", items)


def perioden_dimension(codes: list[str], status: Callable[[str], str]) -> Dimension:
    items = [{"Key": c, "Title": period_title(c), "Description": STATUS_DESCRIPTION[status(c)],
              "Status": status(c)} for c in codes]
    return Dimension("Perioden", "Perioden", "TimeDimension", items)


def definitief(_code: str) -> str:
    return "Definitief"


def status_86050(code: str) -> str:
    """2024HJ01 was upgraded in the spring release; the rest of 2024 and 2025 are new."""
    if code == "2024HJ01":
        return "Nader voorlopig"
    return "Voorlopig" if m.period_year(code) >= 2024 else "Definitief"


def status_03759(code: str) -> str:
    return "Voorlopig" if m.period_year(code) >= m.LAST_YEAR else "Definitief"


WMO_TOPICS = [
    Topic("WmoClienten_1", "Wmo-cliënten", "aantal", "Absolute",
          "Aantal personen dat ten minste één maatwerkvoorziening in het kader van de Wmo "
          "heeft gehad (synthetisch)."),
    Topic("WmoClientenPer1000Inwoners_2", "Wmo-cliënten per 1 000 inwoners",
          "per 1 000 inwoners", "Relative",
          "Wmo-cliënten per 1 000 inwoners van de betreffende bevolkingsgroep (synthetisch)."),
]
WMO_NOTES = [
    "Aantallen zijn afgerond op vijftallen; waarden 0 tot en met 7 zijn niet gepubliceerd.",
    "Gemeenten die niet geleverd hebben, ontbreken voor de hele periode.",
]
DETAIL_NOTE = ("De sleutels van de detailcategorieën (A0500x0) zijn verzonnen voor de "
               "demodata; de echte sleutels zijn niet bekend.")
TYPE_DESCRIPTION = ("Een maatwerkvoorziening is ondersteuning in het kader van de Wmo 2015, "
                    "afgestemd op de behoeften van een persoon.")

GESLACHT = [("T001038", "Totaal mannen en vrouwen"), ("3000", "Mannen"), ("4000", "Vrouwen")]
SEKSE_SHARE = np.array([1.0, 0.495, 0.505])   # of the population, for per-1 000 of a group

KENMERKEN_83262 = [("T009002", "Totaal personen"), ("A025351", "75 jaar of ouder"),
                   ("A025350", "Jonger dan 75 jaar")]
# 85896NED: age bands on 5-year boundaries (so group populations come from 03759NED) and
# household types. Keys invented.
LEEFTIJD_BANDS = [("A025360", "Jonger dan 20 jaar", 0, 4), ("A025361", "20 tot 45 jaar", 4, 9),
                  ("A025362", "45 tot 65 jaar", 9, 13), ("A025363", "65 tot 75 jaar", 13, 15),
                  ("A025364", "75 tot 80 jaar", 15, 16), ("A025365", "80 tot 85 jaar", 16, 17),
                  ("A025366", "85 jaar of ouder", 17, 20)]
CLIENT_AGE = np.array([0.05, 0.13, 0.20, 0.14, 0.11, 0.13, 0.24])
HUISHOUDENS = [("A025370", "Eenpersoonshuishouden", 0.17, 0.45),
               ("A025371", "Paar zonder kinderen", 0.29, 0.27),
               ("A025372", "Paar met kinderen", 0.43, 0.13),
               ("A025373", "Eenouderhuishouden", 0.08, 0.10),
               ("A025374", "Institutioneel huishouden", 0.03, 0.05)]  # (pop share, client share)


# ---------------------------------------------------------------------------------------------
# Cubes from the model


@dataclass(frozen=True)
class Model:
    history: pl.DataFrame
    indeling: m.Indeling
    bevolking: m.Bevolking
    wmo: m.Wmo
    rngs: dict[str, np.random.Generator]
    werkwijze: pl.DataFrame | None = None


def _select(model: Model, years: Sequence[int], periods: list[str], cats: list[str]
            ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Codes of the table and the raw counts [cat, code, period], delivered, population, 75+."""
    codes = m.valid_codes(model.indeling, list(years))
    rows = [model.indeling.codes.index(c) for c in codes]
    cols = [m.ALL_WMO_PERIODS.index(p) for p in periods]
    cat_idx = [m.CATEGORIE_INDEX[c] for c in cats]
    raw = model.wmo.raw[np.ix_(rows, cols, cat_idx)].transpose(2, 0, 1)
    delivered = model.wmo.delivered[np.ix_(rows, cols)]
    year_cols = [m.YEARS.index(m.period_year(p)) for p in periods]
    pop = model.bevolking.total()[np.ix_(rows, year_cols)].astype(float)
    old = model.bevolking.jan1[:, :, m.N_YOUNG:].sum(axis=2)[np.ix_(rows, year_cols)]
    return codes, raw, delivered, pop, old.astype(float)


def publish(raw: np.ndarray, delivered: np.ndarray, pop: np.ndarray, member: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Counts and per-1 000 with NL01 and the provinces (`member`, see `regions`) prepended on
    the region axis (second to last).

    A region's count is the published figures of its gemeenten plus a synthetic estimate for
    those without a figure (m.region_figures), as CBS's own NL01 includes its estimates.
    """
    pop = np.broadcast_to(pop, raw.shape)
    gm = np.where(delivered, m.publish_counts(raw), -1)
    region_counts, region_pop = m.region_figures(raw, gm, pop, member)
    counts = np.concatenate([region_counts, gm], axis=-2)
    pops = np.concatenate([region_pop, pop], axis=-2)
    return counts, m.per_1000(counts, pops)


def _split_binomial(total: np.ndarray, p: np.ndarray, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray]:
    part = np.where(total >= 0, rng.binomial(np.maximum(total, 0), p), -1)
    rest = np.where(total >= 0, total - np.maximum(part, 0), -1)
    return part, rest


def cube_83262(model: Model, scale: str) -> Cube:
    years = range(2015, 2021)
    periods = m.wmo_periods(2015, 2020, last_half=True)
    cats = [c.key for c in m.CATEGORIEEN if c.aggregate]
    codes, raw, delivered, pop, old = _select(model, years, periods, cats)
    rng = model.rngs["kenmerken_83262"]
    share_old = np.divide(old, pop, out=np.zeros_like(pop), where=pop > 0)

    p_man = rng.normal(0.37, 0.02, raw.shape).clip(0.25, 0.5)
    man, vrouw = _split_binomial(raw, p_man, rng)
    p_old = (0.5 + 2.5 * (share_old - 0.09)).clip(0.2, 0.85)[None, :, :]
    parts = np.empty((3, 3, *raw.shape), dtype=np.int64)     # [geslacht, kenmerk, cat, code, p]
    for g, sex in ((1, man), (2, vrouw)):
        parts[g, 1], parts[g, 2] = _split_binomial(sex, np.broadcast_to(p_old, raw.shape), rng)
        parts[g, 0] = sex
    parts[0] = np.where(raw >= 0, parts[1] + parts[2], -1)
    parts[0, 0] = raw
    # Group populations for the per-1 000 of a part ("van de betreffende bevolkingsgroep").
    group = np.stack([pop, old, pop - old])[:, None, :, :]               # [kenmerk, 1, code, p]
    group_pop = SEKSE_SHARE[:, None, None, None, None] * group[None]

    n_sex, n_ken = (3, 3) if scale == "full" else (2, 2)
    parts, group_pop = parts[:n_sex, :n_ken], group_pop[:n_sex, :n_ken]
    counts, rates = publish(parts, delivered, group_pop, regions(model.history, codes))
    type_dim = Dimension("TypeMaatwerkarrangement", "Type maatwerkarrangement", "Dimension",
                         _category_items([(c.key, c.title) for c in m.CATEGORIEEN
                                          if c.aggregate]), TYPE_DESCRIPTION)
    return Cube(
        "83262NED", "Wmo-cliënten; type maatwerkarrangement, regio (2015-2020)", "Perhalfjaar",
        "2015-2020", "Gediscontinueerd", "Wmo-cliënten naar type maatwerkarrangement en regio",
        [Dimension("Geslacht", "Geslacht", "Dimension", _category_items(GESLACHT[:n_sex])),
         Dimension("KenmerkenVanPersonen", "Kenmerken van personen", "Dimension",
                   _category_items(KENMERKEN_83262[:n_ken])),
         type_dim, regio_dimension(model.history, codes),
         perioden_dimension(periods, definitief)],
        WMO_TOPICS, {"WmoClienten_1": counts, "WmoClientenPer1000Inwoners_2": rates},
        notes=WMO_NOTES,
    )


def _detail_type_dim() -> Dimension:
    return Dimension("TypeMaatwerkvoorziening", "Type maatwerkvoorziening", "Dimension",
                     _category_items([(c.key, c.title) for c in m.CATEGORIEEN]),
                     TYPE_DESCRIPTION)


def cube_detail(model: Model, table_id: str, title: str, first: int, last: int,
                last_half: bool, status: Callable[[str], str], output_status: str) -> Cube:
    periods = m.wmo_periods(first, last, last_half)
    cats = [c.key for c in m.CATEGORIEEN]
    codes, raw, delivered, pop, _ = _select(model, range(first, last + 1), periods, cats)
    counts, rates = publish(raw, delivered, pop, regions(model.history, codes))
    return Cube(
        table_id, title, "Perhalfjaar", f"{first}-{last}", output_status,
        "Wmo-cliënten naar type maatwerkvoorziening (detail) en regio",
        [_detail_type_dim(), regio_dimension(model.history, codes),
         perioden_dimension(periods, status)],
        WMO_TOPICS, {"WmoClienten_1": counts, "WmoClientenPer1000Inwoners_2": rates},
        notes=[*WMO_NOTES, DETAIL_NOTE],
    )


def cube_85896(model: Model) -> Cube:
    periods = m.wmo_periods(2019, 2025, last_half=True)
    cats = [c.key for c in m.CATEGORIEEN]
    codes, raw, delivered, pop, old = _select(model, range(2019, 2026), periods, cats)
    rng = model.rngs["kenmerken_85896"]
    rows = [model.indeling.codes.index(c) for c in codes]
    year_cols = [m.YEARS.index(m.period_year(p)) for p in periods]
    ages = model.bevolking.jan1[np.ix_(rows, year_cols)].astype(float)   # [code, p, age]
    band_pop = np.stack([ages[:, :, a:b].sum(axis=2) for _, _, a, b in LEEFTIJD_BANDS])

    share_old = np.divide(old, pop, out=np.zeros_like(pop), where=pop > 0)
    tilt = np.ones((len(LEEFTIJD_BANDS), *pop.shape))
    first_old = [a for _, _, a, _ in LEEFTIJD_BANDS].index(m.N_YOUNG)
    tilt[first_old:] = (share_old / 0.09)[None]   # older gemeenten have older clients
    p_age = CLIENT_AGE[:, None, None] * tilt
    p_age = np.moveaxis(p_age / p_age.sum(axis=0, keepdims=True), 0, -1)  # [code, p, band]
    p_hh = np.array([h[3] for h in HUISHOUDENS])

    n_ken = 1 + len(LEEFTIJD_BANDS) + len(HUISHOUDENS)
    parts = np.empty((3, n_ken, *raw.shape), dtype=np.int64)  # [geslacht, kenmerk, cat, code, p]
    man, vrouw = _split_binomial(raw, rng.normal(0.37, 0.02, raw.shape).clip(0.25, 0.5), rng)
    for g, sex in ((1, man), (2, vrouw)):
        n = np.maximum(sex, 0)
        age = rng.multinomial(n, np.broadcast_to(p_age, (*raw.shape, len(LEEFTIJD_BANDS))))
        hh = rng.multinomial(n, p_hh)
        parts[g, 0] = sex
        parts[g, 1:1 + len(LEEFTIJD_BANDS)] = np.moveaxis(age, -1, 0)
        parts[g, 1 + len(LEEFTIJD_BANDS):] = np.moveaxis(hh, -1, 0)
    parts[0] = parts[1] + parts[2]
    parts[0, 0] = raw
    parts = np.where(raw[None, None] >= 0, parts, -1)

    hh_pop = np.array([h[2] for h in HUISHOUDENS])[:, None, None] * pop[None]
    group = np.concatenate([pop[None], band_pop, hh_pop])[:, None, :, :]  # [kenmerk, 1, code, p]
    group_pop = SEKSE_SHARE[:, None, None, None, None] * group[None]
    counts, rates = publish(parts, delivered, group_pop, regions(model.history, codes))
    kenmerken = [KENMERKEN_83262[0]] + [(k, t) for k, t, _, _ in LEEFTIJD_BANDS] + \
        [(k, t) for k, t, _, _ in HUISHOUDENS]
    return Cube(
        "85896NED", "Wmo-cliënten; type maatwerkvoorziening, persoonskenmerken, regio",
        "Perhalfjaar", "2019-2025", "Regulier",
        "Wmo-cliënten naar type maatwerkvoorziening, persoonskenmerken en regio",
        [Dimension("Geslacht", "Geslacht", "Dimension", _category_items(GESLACHT)),
         Dimension("KenmerkenVanPersonen", "Kenmerken van personen", "Dimension",
                   _category_items(kenmerken)),
         _detail_type_dim(), regio_dimension(model.history, codes),
         perioden_dimension(periods, status_86050)],
        WMO_TOPICS, {"WmoClienten_1": counts, "WmoClientenPer1000Inwoners_2": rates},
        notes=[*WMO_NOTES, DETAIL_NOTE,
               "Per 1 000 inwoners van de groep; groepsaandelen van huishoudtypen zijn geschat."],
    )


LEEFTIJD_KEYS = ["10000"] + [str(70100 + 100 * i) for i in range(len(m.AGE_GROUPS))]
FULL_03759_PERIODS = 38  # 1988–2025: the unfiltered table, for the gaps in ID
V3_FILTER_03759 = ("$filter=Geslacht%20eq%20%27T001038%27%20and%20BurgerlijkeStaat%20eq"
                   "%20%27T001019%27%20and%20Perioden%20ge%20%272015%27")


def cube_03759(model: Model) -> Cube:
    codes = m.valid_codes(model.indeling, m.YEARS)
    rows = [model.indeling.codes.index(c) for c in codes]
    periods = [f"{y}JJ00" for y in m.YEARS]
    valid = model.indeling.valid[rows]                                    # [code, year]

    member = regions(model.history, codes).astype(np.int64)               # [NL + PV, code]

    def cube_values(per_age: np.ndarray) -> np.ndarray:
        ages = per_age[rows].transpose(2, 0, 1)                           # [age, code, year]
        full = np.concatenate([ages.sum(axis=0, keepdims=True), ages])
        # Population is complete: NL01 and the provinces are plain sums (zero where not valid).
        nl_pv = member @ full
        gm = np.where(valid[None], full, -1)
        return np.concatenate([nl_pv, gm], axis=1)[None, :, None]         # [1, age, 1, r, p]

    n_age, n_reg, n_per = len(LEEFTIJD_KEYS), len(codes) + len(member), len(periods)
    leeftijd, regio, periode = np.meshgrid(np.arange(n_age), np.arange(n_reg),
                                           np.arange(n_per), indexing="ij")
    ids = ((leeftijd * 5 * n_reg + regio) * FULL_03759_PERIODS
           + (FULL_03759_PERIODS - n_per) + periode)
    return Cube(
        "03759NED", "Bevolking op 1 januari en gemiddeld; geslacht, leeftijd en regio",
        "Perjaar", "1988-2025", "Regulier",
        "Bevolking naar geslacht, leeftijd, burgerlijke staat en regio",
        [Dimension("Geslacht", "Geslacht", "Dimension",
                   _category_items([GESLACHT[0]])),
         Dimension("Leeftijd", "Leeftijd", "Dimension",
                   _category_items(list(zip(LEEFTIJD_KEYS, ["Totaal", *m.AGE_GROUPS],
                                            strict=True)))),
         Dimension("BurgerlijkeStaat", "Burgerlijke staat", "Dimension",
                   _category_items([("T001019", "Totaal burgerlijke staat")])),
         regio_dimension(model.history, codes), perioden_dimension(periods, status_03759)],
        [Topic("BevolkingOp1Januari_1", "Bevolking op 1 januari", "aantal", "Absolute",
               "Inwoners op 1 januari (synthetisch)."),
         Topic("GemiddeldeBevolking_2", "Gemiddelde bevolking", "aantal", "Absolute",
               "Gemiddeld aantal inwoners over het jaar (synthetisch).")],
        {"BevolkingOp1Januari_1": cube_values(model.bevolking.jan1),
         "GemiddeldeBevolking_2": cube_values(model.bevolking.gemiddeld)},
        ids=ids, query="$format=json&" + V3_FILTER_03759,
        notes=["Opgehaald met het filter Geslacht = T001038, BurgerlijkeStaat = T001019, "
               "Perioden vanaf 2015 (daarom gaten in ID)."],
    )


# ---------------------------------------------------------------------------------------------
# Bezwaar (synthetic register rows)


def bezwaar_rows(model: Model, seed: int) -> list[dict[str, Any]]:
    """One row per gemeente-year 2015–2024, ~12% left out and ~10% without outcomes."""
    rng = model.rngs["bezwaar"]
    pop = model.bevolking.total()
    effect = np.exp(rng.normal(0, 0.35, len(model.indeling.codes)))
    rows: list[dict[str, Any]] = []
    for jaar in range(2015, 2025):
        j = m.YEARS.index(jaar)
        for g in valid_in_year(model.history, jaar).iter_rows(named=True):
            i = model.indeling.codes.index(g["gemeente_code"])
            draw = rng.random(2)
            ontvangen = int(rng.poisson(pop[i, j] / 1000 * 0.55 * effect[i]))
            afgehandeld = int(rng.binomial(ontvangen, 0.92))
            outcome = rng.multinomial(afgehandeld, [0.10, 0.08, 0.45, 0.10, 0.22, 0.05])
            beroep = int(rng.binomial(outcome[2], 0.12))
            if draw[0] < 0.12:
                continue   # unknown stays unknown: no row rather than a guess
            known = draw[1] >= 0.10
            rows.append({
                "gemeente_code": g["gemeente_code"], "gemeente_naam": g["gemeente_naam"],
                "jaar": jaar, "domein": "wmo", "bezwaren_ontvangen": ontvangen,
                "bezwaren_afgehandeld": afgehandeld,
                "gegrond": int(outcome[0]) if known else "",
                "deels_gegrond": int(outcome[1]) if known else "",
                "ongegrond": int(outcome[2]) if known else "",
                "niet_ontvankelijk": int(outcome[3]) if known else "",
                "ingetrokken": int(outcome[4]) if known else "",
                "beroep": beroep if known else "",
                "bron_url": "",
                "bron_omschrijving": f"Synthetische demodata (wmo demo, seed {seed}): "
                                     "geen echte cijfers",
                "peildatum": str(jaar + 1),
            })
    return rows


def write_bezwaar(dest: Path, rows: list[dict[str, Any]], seed: int) -> int:
    with staged_folder(dest) as folder:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=BEZWAAR_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        (folder / "bezwaar.csv").write_text(buffer.getvalue(), encoding="utf-8")
        write_sidecar(folder, {
            "source_id": "bezwaar-demo",
            "title": "Wmo-bezwaren per gemeente" + SYNTHETIC_SUFFIX,
            "producer": DEMO_PRODUCER, "url": "", "retrieved_at": RETRIEVED_AT,
            "licence": DEMO_LICENCE, "format": "csv", "synthetic": True, "seed": seed,
        })
    return len(rows)


# ---------------------------------------------------------------------------------------------
# Inputs and the orchestration


def _newest(files: dict[tuple[str, int], Path], level: str, geo_dir: Path) -> Path:
    years = [y for lvl, y in files if lvl == level]
    if not years:
        raise InputError(display_path(geo_dir), None, None,
                         f"no {level}_YYYY boundary file (topojson/geojson/gpkg)")
    return files[(level, max(years))]


def load_model(snapshot_dir: Path, registers_dir: Path, seed: int) -> Model:
    geo_dir = snapshot_dir / "geo"
    files = boundary_files(geo_dir)
    current = province_of_gemeenten(
        read_boundaries(_newest(files, "gemeente", geo_dir), "gemeente"),
        read_boundaries(_newest(files, "provincie", geo_dir), "provincie"),
    )
    herindelingen = pl.read_csv(registers_dir / "herindelingen.csv", schema=HERINDELING_SCHEMA)
    werkwijze = pl.read_csv(registers_dir / "werkwijze.csv", infer_schema_length=0)
    history = gemeente_history(current, herindelingen)
    indeling = m.build_indeling(history, herindelingen)
    rngs = m.streams(seed)
    bevolking = m.model_bevolking(indeling, rngs["bevolking"])
    wmo = m.model_wmo(indeling, bevolking, werkwijze, rngs["wmo"], rngs["levering"])
    return Model(history, indeling, bevolking, wmo, rngs, werkwijze)


def copy_geo(snapshot_dir: Path, dest: Path) -> None:
    files = boundary_files(snapshot_dir / "geo")
    with staged_folder(dest) as folder:
        for path in files.values():
            shutil.copyfile(path, folder / path.name)
        write_sidecar(folder, {**GEO_META, "retrieved_at": RETRIEVED_AT})


def copy_registers(registers_dir: Path, dest: Path) -> None:
    if dest.exists() and dest.resolve() == registers_dir.resolve():
        return
    with staged_folder(dest) as folder:
        for path in sorted(registers_dir.glob("*.csv")):
            shutil.copyfile(path, folder / path.name)


def write_demo(out_dir: Path, snapshot_dir: Path, *, seed: int = 2015, scale: str = "default",
               registers_dir: Path = DEFAULT_REGISTERS,
               progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write a synthetic raw snapshot under `out_dir`; returns fact rows written per table."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, not {scale!r}")
    say = progress or (lambda _msg: None)
    model = load_model(snapshot_dir, registers_dir, seed)
    cubes: list[Callable[[], Cube]] = [
        lambda: cube_03759(model),
        lambda: cube_83262(model, scale),
        lambda: cube_detail(model, "84839NED",
                            "Wmo-cliënten; type maatwerkvoorziening (detail), regio, 2019-2023",
                            2019, 2023, False, definitief, "Gediscontinueerd"),
        lambda: cube_detail(model, "86050NED",
                            "Wmo-cliënten; type maatwerkvoorziening (detail), regio",
                            2022, 2025, True, status_86050, "Regulier"),
    ]
    if scale == "full":
        cubes.append(lambda: cube_85896(model))
    # Imported here: the spending and flow cubes are built from this module's Cube and model.
    from etl.demo_money import money_cubes

    cubes += money_cubes(model)
    rows: dict[str, int] = {}
    for make in cubes:
        cube = make()   # built one at a time: the full-scale cube is large
        rows[cube.table_id] = write_cube(out_dir / "cbs" / cube.table_id, cube, seed, scale)
        say(f"{cube.table_id}: {rows[cube.table_id]:,} rows (synthetic)")
    copy_geo(snapshot_dir, out_dir / "geo")
    say("geo: boundaries copied")
    copy_registers(registers_dir, out_dir / "registers")
    rows["bezwaar-demo"] = write_bezwaar(out_dir / "bezwaar-demo", bezwaar_rows(model, seed),
                                         seed)
    say(f"bezwaar-demo: {rows['bezwaar-demo']:,} rows (synthetic)")
    # Imported here: the rulings writer pulls in the XML stack only when a demo is written.
    from etl.sources.rechtspraak.demo import write_demo_rechtspraak

    folder = write_demo_rechtspraak(out_dir, model.history, seed, RETRIEVED_AT)
    rows["rechtspraak-demo"] = sum(1 for _ in (folder / "content").rglob("*.xml")) \
        if (folder / "content").is_dir() else 0
    say(f"rechtspraak: {rows['rechtspraak-demo']:,} rulings (synthetic)")
    return rows
