"""The synthetic snapshot: reproducible, in the real CBS v3 shape, and internally consistent."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import polars as pl
import polars.selectors as cs
import pytest

from etl import demo_model
from etl.demo import copy_registers, write_demo
from etl.gemeenten import valid_in_year
from etl.snapshot import combined_hash, file_hashes, read_sidecar

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = REPO.parent / "shared" / "snapshot"
REGISTERS = REPO / "data" / "raw" / "registers"
WMO_TABLES = ("83262NED", "84839NED", "86050NED")
MONEY_TABLES = ("84580NED", "83268NED", "85044NED", "86051NED", "83266NED", "86061NED")
CBS_TABLES = ("03759NED", *WMO_TABLES, *MONEY_TABLES)

pytestmark = pytest.mark.skipif(not (SNAPSHOT / "geo").is_dir(),
                                reason="shared/snapshot/geo not available")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("demo") / "raw"
    rows = write_demo(out, SNAPSHOT, seed=11, registers_dir=REGISTERS)
    return out, rows


@pytest.fixture(scope="module")
def demo_same_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_same") / "raw"
    write_demo(out, SNAPSHOT, seed=11, registers_dir=REGISTERS)
    return out


@pytest.fixture(scope="module")
def demo_other_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_other") / "raw"
    write_demo(out, SNAPSHOT, seed=12, registers_dir=REGISTERS)
    return out


def pages(root: Path, table: str, resource: str) -> list[Path]:
    return sorted((root / "cbs" / table / "v3" / resource).glob("page-*.json"))


def resource(root: Path, table: str, name: str) -> list[dict]:
    return [row for p in pages(root, table, name) for row in json.loads(p.read_text())["value"]]


_frames: dict[tuple[Path, str], pl.DataFrame] = {}


def data(root: Path, table: str) -> pl.DataFrame:
    """TypedDataSet with keys stripped (cached: several tests read the same table)."""
    if (root, table) not in _frames:
        frame = pl.DataFrame(resource(root, table, "TypedDataSet"), infer_schema_length=None)
        _frames[(root, table)] = frame.with_columns(pl.col(pl.Utf8).str.strip_chars())
    return _frames[(root, table)]


def totals(root: Path, table: str) -> pl.DataFrame:
    frame = data(root, table)
    type_dim = ("TypeMaatwerkarrangement" if table == "83262NED" else "TypeMaatwerkvoorziening")
    frame = frame.filter(pl.col(type_dim) == "T001024")
    if "Geslacht" in frame.columns:
        frame = frame.filter(pl.col("Geslacht") == "T001038",
                             pl.col("KenmerkenVanPersonen") == "T009002")
    return frame


def history() -> pl.DataFrame:
    from etl.demo import load_model

    return load_model(SNAPSHOT, REGISTERS, seed=11).history


# ---------------------------------------------------------------------------------------------


def test_returns_rows_per_table(demo: tuple[Path, dict[str, int]]) -> None:
    root, rows = demo
    assert set(rows) == {*CBS_TABLES, "bezwaar-demo", "rechtspraak-demo"}
    assert rows["rechtspraak-demo"] == len(list((root / "rechtspraak" / "content").rglob("*.xml")))
    assert rows["rechtspraak-demo"] > 0
    for table in CBS_TABLES:
        assert rows[table] == data(root, table).height > 0
    assert "85896NED" not in rows and not (root / "cbs" / "85896NED").exists()


def test_same_seed_same_bytes(demo: tuple[Path, dict[str, int]], demo_same_seed: Path) -> None:
    root, _ = demo
    files = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(demo_same_seed)
                           for p in demo_same_seed.rglob("*") if p.is_file())
    for rel in files:
        assert (root / rel).read_bytes() == (demo_same_seed / rel).read_bytes(), rel


def test_other_seed_other_values(demo: tuple[Path, dict[str, int]],
                                 demo_other_seed: Path) -> None:
    root, _ = demo
    for table in CBS_TABLES:
        a, b = data(root, table), data(demo_other_seed, table)
        assert a.drop(cs.numeric()).equals(b.drop(cs.numeric()))
        assert not a.equals(b), table


def test_pages_and_next_links(demo: tuple[Path, dict[str, int]]) -> None:
    root, _ = demo
    for table in CBS_TABLES:
        for name in ("TableInfos", "DataProperties", "CategoryGroups", "Perioden", "RegioS",
                     "TypedDataSet"):
            files = pages(root, table, name)
            assert files, (table, name)
            skips = []
            for i, path in enumerate(files):
                doc = json.loads(path.read_text())
                assert isinstance(doc["value"], list)
                assert doc["odata.metadata"].startswith(
                    f"https://opendata.cbs.nl/ODataFeed/OData/{table}/$metadata#")
                if i == len(files) - 1:
                    assert "odata.nextLink" not in doc
                    continue
                assert len(doc["value"]) == 10_000
                link = urlsplit(doc["odata.nextLink"])
                assert (link.scheme, link.netloc) == ("https", "opendata.cbs.nl")
                assert link.path == f"/ODataFeed/odata/{table}/{name}"
                query = parse_qs(link.query)
                assert query["$format"] == ["json"]
                skips.append(int(query["$skip"][0]))
            assert skips == [10_000 * (i + 1) for i in range(len(files) - 1)]
    assert len(pages(root, "83262NED", "TypedDataSet")) > 1


def test_keys_padded_to_longest_key(demo: tuple[Path, dict[str, int]]) -> None:
    root, _ = demo
    regio = [r["Key"] for r in resource(root, "86050NED", "RegioS")]
    assert regio[0] == "NL01  "
    assert all(len(k) == 6 for k in regio)
    geslacht = [r["Key"] for r in resource(root, "83262NED", "Geslacht")]
    assert geslacht == ["T001038", "3000   "]
    rows = resource(root, "83262NED", "TypedDataSet")
    assert {r["Geslacht"] for r in rows} == {"T001038", "3000   "}
    assert {r["RegioS"] for r in rows if r["RegioS"].startswith("NL")} == {"NL01  "}


def test_dense_cube(demo: tuple[Path, dict[str, int]]) -> None:
    root, _ = demo
    for table in CBS_TABLES:
        dims = [p["Key"] for p in resource(root, table, "DataProperties")
                if p["Type"] != "Topic"]
        sizes = [len(resource(root, table, d)) for d in dims]
        frame = data(root, table)
        assert frame.height == int(np.prod(sizes)), table
        assert frame.select(dims).unique().height == frame.height


def test_counts_rounded_and_suppressed(demo: tuple[Path, dict[str, int]]) -> None:
    root, _ = demo
    for table in WMO_TABLES:
        frame = data(root, table)
        counts = frame["WmoClienten_1"].drop_nulls()
        assert (counts % 5 == 0).all()
        assert counts.min() >= 10        # 0–7 are never published, 8 rounds to 10
        assert frame["WmoClienten_1"].null_count() > 0
        # per-1 000 exists exactly where the count does
        assert (frame["WmoClienten_1"].is_null() == frame["WmoClientenPer1000Inwoners_2"]
                .is_null()).all()


def test_per_1000_matches_population(demo: tuple[Path, dict[str, int]]) -> None:
    root, _ = demo
    pop = (data(root, "03759NED").filter(pl.col("Leeftijd") == "10000")
           .select("RegioS", pl.col("Perioden").str.slice(0, 4).alias("jaar"),
                   "BevolkingOp1Januari_1"))
    wmo = (totals(root, "86050NED").drop_nulls("WmoClienten_1")
           .with_columns(pl.col("Perioden").str.slice(0, 4).alias("jaar"))
           .join(pop, on=["RegioS", "jaar"]))
    expected = (wmo["WmoClienten_1"] / wmo["BevolkingOp1Januari_1"] * 1000 + 0.5).floor()
    assert (expected.cast(pl.Int64) == wmo["WmoClientenPer1000Inwoners_2"]).all()
    rate = wmo.filter(pl.col("RegioS") != "NL01")["WmoClientenPer1000Inwoners_2"]
    assert 55 <= rate.median() <= 100


def test_dissolved_and_new_gemeenten(demo: tuple[Path, dict[str, int]]) -> None:
    root, _ = demo
    for table in ("83262NED", "84839NED"):
        frame = totals(root, table).with_columns(
            pl.col("Perioden").str.slice(0, 4).cast(pl.Int32).alias("jaar"))
        aalburg = frame.filter(pl.col("RegioS") == "GM0738")
        altena = frame.filter(pl.col("RegioS") == "GM1959")
        assert aalburg.filter(pl.col("jaar") >= 2019)["WmoClienten_1"].null_count() == \
            aalburg.filter(pl.col("jaar") >= 2019).height > 0
        assert altena.filter(pl.col("jaar") < 2019)["WmoClienten_1"].null_count() == \
            altena.filter(pl.col("jaar") < 2019).height
        assert altena.filter(pl.col("jaar") >= 2019)["WmoClienten_1"].drop_nulls().len() > 0
    early = totals(root, "83262NED").filter(pl.col("RegioS") == "GM0738",
                                            pl.col("Perioden").str.slice(0, 4) < "2019")
    assert early["WmoClienten_1"].drop_nulls().len() >= 8   # allows a non-delivered period
    regio = {r["Key"].strip(): r for r in resource(root, "84839NED", "RegioS")}
    assert regio["GM0738"]["Description"].startswith("Opgeheven per 01-01-2019")
    assert "Ontstaan per 01-01-2019" in regio["GM1959"]["Description"]


def test_merged_population_is_sum_of_predecessors(demo: tuple[Path, dict[str, int]]) -> None:
    root, _ = demo
    pop = data(root, "03759NED").filter(pl.col("Leeftijd") == "10000")

    def value(code: str, jaar: int) -> int:
        return pop.filter(pl.col("RegioS") == code,
                          pl.col("Perioden") == f"{jaar}JJ00")["BevolkingOp1Januari_1"].item()

    before = sum(value(c, 2018) for c in ("GM0738", "GM0870", "GM0874"))
    assert abs(value("GM1959", 2019) / before - 1) < 0.03
    # age groups add up to the total in every cell
    parts = (data(root, "03759NED").filter(pl.col("Leeftijd") != "10000")
             .group_by("RegioS", "Perioden").agg(pl.col("BevolkingOp1Januari_1").sum()))
    both = parts.join(pop, on=["RegioS", "Perioden"], suffix="_totaal")
    assert (both["BevolkingOp1Januari_1"].fill_null(0)
            == both["BevolkingOp1Januari_1_totaal"].fill_null(0)).all()


def test_every_valid_gemeente_has_rows(demo: tuple[Path, dict[str, int]]) -> None:
    root, _ = demo
    gemeenten = history()
    covered: dict[str, set[str]] = {}
    for table in WMO_TABLES:
        for code, periode in totals(root, table).select("RegioS", "Perioden").iter_rows():
            covered.setdefault(periode, set()).add(code)
    for periode in demo_model.ALL_WMO_PERIODS:
        jaar = int(periode[:4])
        expected = set(valid_in_year(gemeenten, jaar)["gemeente_code"])
        assert expected <= covered[periode], periode
    pop_codes = set(data(root, "03759NED")["RegioS"])
    assert set(valid_in_year(gemeenten, 2025)["gemeente_code"]) <= pop_codes
    assert len(valid_in_year(gemeenten, 2015)) == 393


def test_period_status(demo: tuple[Path, dict[str, int]]) -> None:
    root, _ = demo
    status = {p["Key"]: p["Status"] for p in resource(root, "86050NED", "Perioden")}
    assert status == {
        "2022HJ01": "Definitief", "2022HJ02": "Definitief", "2022JJ00": "Definitief",
        "2023HJ01": "Definitief", "2023HJ02": "Definitief", "2023JJ00": "Definitief",
        "2024HJ01": "Nader voorlopig", "2024HJ02": "Voorlopig", "2024JJ00": "Voorlopig",
        "2025HJ01": "Voorlopig",
    }
    perioden = resource(root, "83262NED", "Perioden")
    assert [p["Key"] for p in perioden][:3] == ["2015HJ01", "2015HJ02", "2015JJ00"]
    assert perioden[-1]["Key"] == "2020HJ01"
    assert perioden[0]["Title"] == "1e halfjaar 2015"
    assert {p["Status"] for p in perioden} == {"Definitief"}
    assert {p["Status"] for p in resource(root, "84839NED", "Perioden")} == {"Definitief"}
    bev = resource(root, "03759NED", "Perioden")
    assert bev[-1] == {"Key": "2025JJ00", "Title": "2025", "Description": "Voorlopige cijfers",
                       "Status": "Voorlopig"}


def test_sidecars(demo: tuple[Path, dict[str, int]]) -> None:
    root, _ = demo
    for folder, synthetic in [*((root / "cbs" / t, True) for t in CBS_TABLES),
                              (root / "bezwaar-demo", True), (root / "geo", False)]:
        sidecar = read_sidecar(folder)
        assert sidecar is not None, folder
        assert sidecar["synthetic"] is synthetic
        assert sidecar["files"] == file_hashes(folder)
        assert sidecar["sha256"] == combined_hash(sidecar["files"])
        assert sidecar["retrieved_at"] == "2026-01-01T00:00:00+00:00"
        if synthetic:
            assert "SYNTHETISCHE DEMODATA" in sidecar["title"]
            assert sidecar["licence"] == "CC BY 4.0"
    for table in CBS_TABLES:
        info = resource(root, table, "TableInfos")[0]
        assert info["Identifier"] == table and "SYNTHETISCHE DEMODATA" in info["Title"]
    geo = read_sidecar(root / "geo")
    assert geo is not None and geo["format"] == "topojson"
    for name in geo["files"]:
        assert (root / "geo" / name).read_bytes() == (SNAPSHOT / "geo" / name).read_bytes()
    assert not (root / "registers" / "_source.json").exists()
    for name in ("werkwijze.csv", "bezwaar.csv", "herindelingen.csv"):
        assert (root / "registers" / name).read_bytes() == (REGISTERS / name).read_bytes()


def test_share_75plus_plausible(demo: tuple[Path, dict[str, int]]) -> None:
    root, _ = demo
    keys = [r["Key"].strip() for r in resource(root, "03759NED", "Leeftijd")]
    old_keys = keys[1 + demo_model.N_YOUNG:]
    frame = data(root, "03759NED").drop_nulls("BevolkingOp1Januari_1")
    share = (frame.group_by("RegioS", "Perioden").agg(
        (pl.col("BevolkingOp1Januari_1").filter(pl.col("Leeftijd").is_in(old_keys)).sum()
         / pl.col("BevolkingOp1Januari_1").filter(pl.col("Leeftijd") == "10000").sum())
        .alias("share")))
    assert share["share"].min() >= 0.045 and share["share"].max() <= 0.16
    nl = share.filter(pl.col("RegioS") == "NL01").sort("Perioden")["share"]
    assert nl[-1] > nl[0]


def test_year_not_sum_of_halves(demo: tuple[Path, dict[str, int]]) -> None:
    root, _ = demo
    nl = totals(root, "84839NED").filter(pl.col("RegioS") == "NL01")
    value = dict(zip(nl["Perioden"], nl["WmoClienten_1"], strict=True))
    assert value["2021HJ01"] < value["2021JJ00"] < value["2021HJ01"] + value["2021HJ02"]


def test_bezwaar_demo(demo: tuple[Path, dict[str, int]]) -> None:
    root, rows = demo
    with (root / "bezwaar-demo" / "bezwaar.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        with (REGISTERS / "bezwaar.csv").open(encoding="utf-8", newline="") as real:
            assert reader.fieldnames == next(csv.reader(real))
        records = list(reader)
    assert len(records) == rows["bezwaar-demo"]
    gemeenten = history()
    expected = sum(len(valid_in_year(gemeenten, j)) for j in range(2015, 2025))
    assert 0.75 * expected < len(records) < expected      # some gemeente-years are missing
    outcomes = ("gegrond", "deels_gegrond", "ongegrond", "niet_ontvankelijk", "ingetrokken")
    for r in records:
        assert r["domein"] == "wmo" and r["bron_url"] == ""
        assert r["bron_omschrijving"].startswith("Synthetische demodata (wmo demo, seed 11)")
        assert r["peildatum"] == str(int(r["jaar"]) + 1)
        if r["gegrond"]:
            assert sum(int(r[k]) for k in outcomes) <= int(r["bezwaren_afgehandeld"])
        assert int(r["bezwaren_afgehandeld"]) <= int(r["bezwaren_ontvangen"])


def test_apportion_keeps_sums() -> None:
    values = np.random.default_rng(0).random((50, 7)) * 100
    ints = demo_model.apportion(values)
    assert (ints.sum(axis=1) == np.floor(values.sum(axis=1) + 0.5)).all()
    assert (np.abs(ints - values) < 1).all()


def test_publish_counts() -> None:
    raw = np.array([-1, 0, 7, 8, 12, 13, 1002])
    assert demo_model.publish_counts(raw).tolist() == [-1, -1, -1, 10, 10, 15, 1000]


def test_registers_not_copied_onto_themselves(tmp_path: Path) -> None:
    registers = tmp_path / "raw" / "registers"
    registers.mkdir(parents=True)
    (registers / "werkwijze.csv").write_text("gemeente_code\n", encoding="utf-8")
    copy_registers(registers, tmp_path / "raw" / "registers")
    assert (registers / "werkwijze.csv").read_text(encoding="utf-8") == "gemeente_code\n"
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == ["registers"]


def test_bad_scale(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale"):
        write_demo(tmp_path, SNAPSHOT, scale="huge")


# --------------------------------------------------------------------------- NL01 and provinces


def test_region_figures_add_an_estimate_only_for_gemeenten_without_figures() -> None:
    raw = np.array([[120, 40, 3, -1]])                    # [period, gemeente]; -1 = not valid
    member = np.array([[True, True, True, True], [True, False, False, False],
                       [False, False, True, True]])
    pop = np.array([[1000.0, 500.0, 100.0, 900.0]])
    everyone = demo_model.publish_counts(raw)             # 120, 40, suppressed, not valid
    counts, region_pop = demo_model.region_figures(raw.T, everyone.T, pop.T, member)
    assert counts[:, 0].tolist() == [160 + 5, 120, -1]    # 3 is estimated (round5 → 5)
    assert region_pop[:, 0].tolist() == [1600.0, 1000.0, 100.0]  # not-valid adds no inhabitants
    not_delivered = np.array([[120, -1, -1, -1]])
    counts, _ = demo_model.region_figures(raw.T, not_delivered.T, pop.T, member)
    assert counts[:, 0].tolist() == [120 + demo_model.round5(np.array(43)).item(), 120, -1]
    all_published = np.array([[120, 40, 15, -1]])
    counts, _ = demo_model.region_figures(np.array([[120, 40, 15, -1]]).T, all_published.T,
                                          pop.T, member)
    assert counts[:, 0].tolist() == [175, 120, 15]        # everyone delivered: the plain sum


def wmo_cells(root: Path, table: str) -> pl.DataFrame:
    """[RegioS, Perioden, cell, WmoClienten_1, WmoClientenPer1000Inwoners_2]; `cell` joins the
    non-region dimensions, so every category and breakdown is checked."""
    frame = data(root, table)
    dims = [c for c in frame.columns if c not in ("ID", "RegioS", "Perioden")
            and not c.startswith("Wmo")]
    return frame.with_columns(pl.concat_str(dims, separator="|").alias("cell")).select(
        "RegioS", "Perioden", "cell", "WmoClienten_1", "WmoClientenPer1000Inwoners_2")


@pytest.mark.parametrize("table", WMO_TABLES)
def test_nl01_and_provinces_cover_their_gemeenten(demo: tuple[Path, dict[str, int]],
                                                  table: str) -> None:
    root, _ = demo
    gemeenten = history()
    province = dict(gemeenten.select("gemeente_code", "provincie_code").iter_rows())
    regio = {r["Key"].strip(): r["Title"] for r in resource(root, table, "RegioS")}
    pv_codes = sorted(c for c in regio if c.startswith("PV"))
    assert pv_codes == [f"PV{n}" for n in range(20, 32)]
    assert regio["PV21"] == "Fryslân (PV)" and regio["NL01"] == "Nederland"
    valid = pl.concat([valid_in_year(gemeenten, j).select(
        "gemeente_code", pl.lit(j).alias("jaar")) for j in demo_model.YEARS])
    cells = wmo_cells(root, table).with_columns(
        pl.col("Perioden").str.slice(0, 4).cast(pl.Int32).alias("jaar"))
    gm = (cells.filter(pl.col("RegioS").str.starts_with("GM"))
          .join(valid, left_on=["RegioS", "jaar"], right_on=["gemeente_code", "jaar"],
                how="semi")
          .with_columns(pl.col("RegioS").replace_strict(province).alias("provincie")))
    pooled = pl.concat([
        gm.with_columns(pl.lit("NL01").alias("regio")),
        gm.with_columns(pl.col("provincie").alias("regio"))]).group_by(
        "regio", "Perioden", "cell").agg(
        pl.col("WmoClienten_1").sum().alias("pooled"),
        pl.col("WmoClienten_1").is_null().sum().alias("zonder_cijfers"))
    regions = cells.filter(~pl.col("RegioS").str.starts_with("GM")).join(
        pooled, left_on=["RegioS", "Perioden", "cell"], right_on=["regio", "Perioden", "cell"])
    assert regions.height == cells.filter(~pl.col("RegioS").str.starts_with("GM")).height
    published = regions.drop_nulls("WmoClienten_1")
    assert (published["WmoClienten_1"] >= published["pooled"]).all()
    complete = published.filter(pl.col("zonder_cijfers") == 0)
    assert complete.height > 0
    assert (complete["WmoClienten_1"] == complete["pooled"]).all()
    incomplete = published.filter(pl.col("zonder_cijfers") > 0)
    assert (incomplete["WmoClienten_1"] > incomplete["pooled"]).any()
    # The national total cell is always published.
    nl_total = regions.filter(pl.col("RegioS") == "NL01", pl.col("cell").str.contains("T001024"))
    assert nl_total.height > 0 and nl_total["WmoClienten_1"].null_count() == 0


def test_region_per_1000_uses_the_region_population(demo: tuple[Path, dict[str, int]]) -> None:
    root, _ = demo
    bev = data(root, "03759NED").filter(pl.col("Leeftijd") == "10000").select(
        "RegioS", pl.col("Perioden").str.slice(0, 4).alias("jaar"), "BevolkingOp1Januari_1")
    province = dict(history().select("gemeente_code", "provincie_code").iter_rows())
    gm_sum = (bev.filter(pl.col("RegioS").str.starts_with("GM"))
              .with_columns(pl.col("RegioS").replace_strict(province).alias("pv"))
              .group_by("pv", "jaar").agg(pl.col("BevolkingOp1Januari_1").sum()))
    pv = bev.filter(pl.col("RegioS").str.starts_with("PV")).join(
        gm_sum, left_on=["RegioS", "jaar"], right_on=["pv", "jaar"], suffix="_gm")
    assert pv.height == 12 * len(demo_model.YEARS)
    assert (pv["BevolkingOp1Januari_1"] == pv["BevolkingOp1Januari_1_gm"]).all()
    wmo = (totals(root, "86050NED").filter(~pl.col("RegioS").str.starts_with("GM"))
           .drop_nulls("WmoClienten_1")
           .with_columns(pl.col("Perioden").str.slice(0, 4).alias("jaar"))
           .join(bev, on=["RegioS", "jaar"]))
    assert set(wmo["RegioS"]) == {"NL01", *(f"PV{n}" for n in range(20, 32))}
    expected = (1000 * wmo["WmoClienten_1"] / wmo["BevolkingOp1Januari_1"]).round(0)
    assert (expected.cast(pl.Int64) == wmo["WmoClientenPer1000Inwoners_2"]).all()


# ---------------------------------------------------------------------------------------------
# Spending and flows (84580NED, stroom, reden beëindiging)


def spending(root: Path) -> pl.DataFrame:
    return data(root, "84580NED").rename({"MaatwerkvoorzieningenType": "type"}).with_columns(
        pl.col("Perioden").str.slice(0, 4).cast(pl.Int32).alias("jaar"))


def test_spending_has_cbs_magnitudes_for_nederland(demo: tuple[Path, dict[str, int]]) -> None:
    root, _ = demo
    nl = spending(root).filter(pl.col("RegioS") == "NL01", pl.col("jaar") == 2023)
    total = nl.filter(pl.col("type") == "T001024").row(0, named=True)
    hbh = nl.filter(pl.col("type") == "A019507").row(0, named=True)
    # CBS 2023: 5 483 969 thousand euro, 308 per inwoner; household help about 65 per inwoner.
    assert 4_900_000 <= total["GerealiseerdeUitgaven_3"] <= 6_100_000
    assert 280 <= total["GerealiseerdeUitgavenPer1000Inwoners_4"] <= 335
    assert 55 <= hbh["GerealiseerdeUitgavenPer1000Inwoners_4"] <= 75
    # As at CBS: no national budget for the total, a realised figure all the same.
    assert total["BegroteUitgaven_1"] is None and total["BegroteUitgavenPer1000Inwoners_2"] is None
    assert hbh["BegroteUitgaven_1"] is not None


def test_spending_follows_the_demo_clients(demo: tuple[Path, dict[str, int]]) -> None:
    root, _ = demo
    hbh = spending(root).filter(pl.col("type") == "A019507", pl.col("jaar") == 2023,
                                pl.col("RegioS").str.starts_with("GM"))
    clients = (data(root, "86050NED")
               .filter(pl.col("TypeMaatwerkvoorziening") == "A019507",
                       pl.col("Perioden") == "2023JJ00")
               .select("RegioS", "WmoClienten_1"))
    both = hbh.join(clients, on="RegioS").drop_nulls(["GerealiseerdeUitgaven_3",
                                                      "WmoClienten_1"])
    assert both.height > 250
    per_client = 1000 * both["GerealiseerdeUitgaven_3"] / both["WmoClienten_1"]
    assert 1_500 <= per_client.median() <= 3_200
    # Bigger gemeenten spend more: the amounts follow the client counts.
    corr = both.select(pl.corr("GerealiseerdeUitgaven_3", "WmoClienten_1", method="spearman"))
    assert corr.item() > 0.9


def test_spending_types_add_up_and_some_cells_are_unknown(demo) -> None:
    root, _ = demo
    frame = spending(root).filter(pl.col("RegioS").str.starts_with("GM"))
    wide = frame.pivot(on="type", index=["RegioS", "jaar"], values="GerealiseerdeUitgaven_3")
    known = wide.drop_nulls()
    parts = known["A019506"] + known["A019507"] + known["A019508"] + known["A019509"]
    assert known.height > 2000
    assert ((known["T001024"] - parts).abs() <= 3).all()      # rounding of four parts
    assert wide["T001024"].null_count() > 0                    # not delivered: '.'
    assert frame["BegroteUitgaven_1"].null_count() > frame["GerealiseerdeUitgaven_3"].null_count()
    assert (frame["GerealiseerdeUitgaven_3"].drop_nulls() > 0).all()
    status = {p["Key"]: p["Status"] for p in resource(root, "84580NED", "Perioden")}
    assert list(status) == [f"{y}JJ00" for y in range(2017, 2025)]
    assert status.pop("2024JJ00") == "Voorlopig" and set(status.values()) == {"Definitief"}


@pytest.mark.parametrize("table", ["83268NED", "85044NED", "86051NED"])
def test_flows_are_rounded_suppressed_and_follow_the_clients(demo, table: str) -> None:
    root, _ = demo
    frame = data(root, table)
    for topic in ("Stand_1", "Instroom_2", "Uitstroom_3"):
        counts = frame[topic].drop_nulls()
        assert (counts % 5 == 0).all() and counts.min() >= 10
        assert frame[topic].null_count() > 0
    jaar = sorted(frame["Perioden"].unique())[-1]
    flows = frame.filter(pl.col("Perioden") == jaar, pl.col("RegioS") == "NL01",
                         pl.col("TypeMaatwerkvoorziening") == "A019507").row(0, named=True)
    assert flows["Instroom_2"] < flows["Stand_1"]


def test_reasons_for_ending_include_the_gemeente_and_unknown_reasons(demo) -> None:
    root, _ = demo
    reden = {r["Key"].strip(): r["Title"] for r in resource(root, "86061NED", "RedenBeeindiging")}
    gemeente = next(k for k, t in reden.items() if t == "Geïnitieerd door de gemeente")
    frame = data(root, "86061NED").filter(pl.col("RegioS").str.starts_with("GM"))
    wide = frame.pivot(on="RedenBeeindiging", index=["RegioS", "Perioden"],
                       values="WmoClienten_1")
    # A gemeente that registered no reasons: the total is known, every reason '.'.
    assert wide.filter(pl.col("T001019").is_not_null(),
                       pl.all_horizontal(pl.col(k).is_null() for k in reden if k != "T001019")
                       ).height > 0
    assert wide[gemeente].drop_nulls().len() > 100
    assert (wide.drop_nulls()["T001019"] >= wide.drop_nulls()[gemeente]).all()
