"""`wmo demo` + `wmo build` into a temporary database: the contract, the counts, the invariants."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from etl.cli import main
from etl.gemeenten import harmonisation_map
from etl.metadata import load_metadata
from etl.sources.cbs.parse import load_cbs_snapshot
from etl.sources.cbs.tables import WMO_MEASURES
from etl.transform import harmonise
from tests.snapshots import reseal
from tests.test_build_memory import kenmerken_snapshot, reference_kenmerken

pytestmark = pytest.mark.slow

SNAPSHOT = Path(os.environ.get("WMO_SNAPSHOT_DIR", Path(__file__).parents[2] / "shared/snapshot"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("build")
    raw, db = root / "raw", root / "wmo.duckdb"
    assert main(["demo", "--out", str(raw), "--snapshot", str(SNAPSHOT), "--seed", "11"]) == 0
    # A small multi-page persoonskenmerken table, so that its compact path is built too.
    kenmerken_snapshot(raw / "cbs", rows_per_page=10)
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 0
    return raw, db


@pytest.fixture()
def con(built: tuple[Path, Path]):
    connection = duckdb.connect(str(built[1]), read_only=True)
    yield connection
    connection.close()


def scalar(con, sql: str, params: list | None = None):
    row = con.execute(sql, params or []).fetchone()
    assert row is not None
    return row[0]


def test_every_contract_table_and_column_exists_with_a_comment(con) -> None:
    meta = load_metadata()
    for qualified, table in meta.tables.items():
        schema, name = qualified.split(".")
        cols = con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = ? AND "
            "table_name = ? ORDER BY column_index", [schema, name]).fetchall()
        assert [c for c, _ in cols] == [c.name for c in table.columns], qualified
        assert all(comment for _, comment in cols), f"{qualified} has a column without comment"


def test_build_is_marked_synthetic_everywhere(con) -> None:
    assert scalar(con, "SELECT is_synthetisch FROM meta.build") is True
    assert scalar(con, "SELECT bool_and(is_synthetisch) FROM out.gemeente_periode") is True
    cbs = con.execute("SELECT bron_id, is_synthetisch FROM meta.bron "
                      "WHERE bron_id LIKE 'cbs-%'").fetchall()
    assert cbs and all(flag for _, flag in cbs)
    # The boundaries are real and say so.
    assert scalar(con, "SELECT bool_or(is_synthetisch) FROM meta.bron WHERE formaat = 'topojson'") \
        is False


def test_one_row_per_gemeente_period_voorziening(con) -> None:
    dup = scalar(con, "SELECT count(*) FROM (SELECT gemeente_code, periode_code, voorziening_code "
                      "FROM core.wmo_clienten GROUP BY ALL HAVING count(*) > 1)")
    assert dup == 0
    dup_out = scalar(con, "SELECT count(*) FROM (SELECT gemeente_code, periode_code, "
                          "voorziening_code FROM out.gemeente_periode GROUP BY ALL "
                          "HAVING count(*) > 1)")
    assert dup_out == 0


def test_periods_cover_2015_to_first_half_2025_with_status(con) -> None:
    periods = dict(con.execute("SELECT periode_code, status FROM core.periode").fetchall())
    assert min(periods) == "2015HJ01" and max(periods) == "2025HJ01"
    assert periods["2024HJ01"] == "nader_voorlopig"
    assert periods["2024JJ00"] == "voorlopig"
    assert periods["2019JJ00"] == "definitief"
    # Each period comes from the newest table that publishes it.
    sources = dict(con.execute("SELECT periode_code, bron_tabel FROM core.periode").fetchall())
    assert sources["2019JJ00"] == "84839NED"
    assert sources["2018JJ00"] == "83262NED"
    assert sources["2022JJ00"] == "86050NED"


def test_gemeenten_per_year_match_the_classification(con) -> None:
    counts = dict(con.execute(
        "SELECT jaar, count(DISTINCT gemeente_code) FROM core.wmo_clienten w "
        "JOIN core.gemeente g USING (gemeente_code) WHERE halfjaar IS NULL AND "
        "(g.geldig_vanaf IS NULL OR g.geldig_vanaf <= make_date(jaar, 1, 1)) AND "
        "(g.geldig_tot IS NULL OR g.geldig_tot > make_date(jaar, 1, 1)) GROUP BY jaar").fetchall())
    assert counts[2015] == 393
    assert counts[2019] == 355
    assert counts[2023] == 342
    # The reference classification holds 342 gemeenten in every period.
    ref = con.execute("SELECT periode_code, count(DISTINCT gemeente_code) "
                      "FROM out.gemeente_periode GROUP BY 1").fetchall()
    assert {n for _, n in ref} == {342}


def test_missing_is_null_never_zero(con) -> None:
    zero = scalar(con, "SELECT count(*) FROM core.wmo_clienten WHERE clienten = 0")
    nulls = scalar(con, "SELECT count(*) FROM core.wmo_clienten WHERE clienten IS NULL")
    assert zero == 0
    assert nulls > 0
    # Dissolved Aalburg: values until 2018, NULL from 2019 on, yet still listed.
    aalburg = dict(con.execute("SELECT jaar, max(clienten) FROM core.wmo_clienten WHERE "
                               "gemeente_code = 'GM0738' AND voorziening_code = 'T001024' AND "
                               "halfjaar IS NULL GROUP BY jaar").fetchall())
    assert aalburg[2018] is not None and aalburg.get(2019) is None and 2019 in aalburg


def test_national_totals_survive_harmonisation(con) -> None:
    """With every published count known, the country total per period is the same after."""
    wmo = con.sql("SELECT * FROM core.wmo_clienten").pl().with_columns(
        pl.col("clienten").fill_null(0))
    gemeente = con.sql("SELECT * FROM core.gemeente").pl()
    her = con.sql("SELECT * FROM core.herindeling").pl()
    comp = harmonise.components(gemeente, harmonisation_map(her), wmo["jaar"].unique().to_list())
    valid = wmo.join(comp.select("jaar", pl.col("bron_code").alias("gemeente_code")).unique(),
                     on=["gemeente_code", "jaar"], how="semi")
    after = harmonise.harmonise_counts(valid, comp, ["periode_code", "jaar", "voorziening_code"],
                                       ["clienten"])
    before_tot = valid.group_by("periode_code", "voorziening_code").agg(pl.col("clienten").sum())
    after_tot = after.group_by("periode_code", "voorziening_code").agg(
        pl.col("clienten").sum().alias("na"))
    both = before_tot.join(after_tot, on=["periode_code", "voorziening_code"])
    assert both.height == before_tot.height
    assert (both["clienten"] - both["na"]).abs().max() < 1e-6


def test_harmonised_known_counts_never_exceed_published(con) -> None:
    rows = con.execute(
        "WITH pub AS (SELECT periode_code, voorziening_code, sum(clienten) AS n "
        "FROM core.wmo_clienten GROUP BY ALL), "
        "har AS (SELECT periode_code, voorziening_code, sum(clienten) AS n "
        "FROM out.gemeente_periode GROUP BY ALL) "
        "SELECT count(*) FROM pub JOIN har USING (periode_code, voorziening_code) "
        "WHERE har.n > pub.n + 1e-6").fetchone()
    assert rows == (0,)


def test_rates_are_recomputed_and_werkwijze_comes_from_the_register(con) -> None:
    off = scalar(con, "SELECT max(abs(clienten_per_1000 - 1000 * clienten / inwoners)) "
                      "FROM out.gemeente_periode WHERE clienten IS NOT NULL")
    assert off < 1e-9
    # Boxtel: resultaatgericht until 2020-01-01, uren from then (register rows).
    boxtel = dict(con.execute("SELECT DISTINCT jaar, werkwijze_hbh FROM out.gemeente_periode "
                              "WHERE gemeente_code = 'GM0757' AND jaar IN (2018, 2021)").fetchall())
    assert boxtel[2018] == "resultaatgericht"
    assert boxtel[2021] == "uren"
    # A gemeente absent from the register stays unknown.
    assert scalar(con, "SELECT count(*) FROM out.gemeente_periode WHERE werkwijze_hbh IS NOT NULL "
                       "AND gemeente_code NOT IN (SELECT gemeente_code FROM core.werkwijze)") == 0


def test_geometry_for_342_gemeenten_with_area(con) -> None:
    n, area = con.execute("SELECT count(*), sum(oppervlakte_km2) FROM core.gemeente_geometrie "
                          "WHERE indeling_jaar = 2026").fetchone()
    assert n == 342
    assert 30_000 < area < 42_000


def test_kenmerken_are_stored_as_the_long_form_gives_them(built: tuple[Path, Path],
                                                          con) -> None:
    raw, _ = built
    expected = reference_kenmerken(load_cbs_snapshot(raw / "cbs" / "85896NED", WMO_MEASURES))
    stored = con.sql("SELECT * FROM core.wmo_clienten_kenmerken").pl()
    assert stored.height == expected.height > 0
    assert_frame_equal(stored, expected)
    assert scalar(con, "SELECT count(*) FROM core.wmo_clienten_kenmerken "
                       "WHERE clienten IS NULL") == 1  # the suppressed cell, not a 0


def test_country_and_province_rows_are_the_cbs_cells_of_the_chosen_table(
        built: tuple[Path, Path], con) -> None:
    raw, _ = built
    stored = con.sql("SELECT * FROM core.wmo_clienten_regio").pl()
    assert set(stored["regio_code"]) == {"NL01", *(f"PV{n}" for n in range(20, 32))}
    assert dict(stored.select("regio_code", "regio_type").unique().iter_rows())["PV27"] == \
        "provincie"
    assert stored.filter(pl.col("regio_code") == "NL01")["regio_naam"].unique().to_list() == \
        ["Nederland"]
    # Per period the same source table as the gemeenten.
    gm_source = dict(con.execute("SELECT DISTINCT periode_code, bron_tabel "
                                 "FROM core.wmo_clienten").fetchall())
    assert dict(stored.select("periode_code", "bron_tabel").unique().iter_rows()) == gm_source
    # Every stored value is the table's own cell (84839NED and 86050NED overlap in 2022-2023).
    for table_id in ("83262NED", "84839NED", "86050NED"):
        table = load_cbs_snapshot(raw / "cbs" / table_id, WMO_MEASURES)
        cat = next(d for d in table.dimensions if d.startswith("TypeMaatwerk"))
        obs = table.observations
        for dim in ("Geslacht", "KenmerkenVanPersonen"):
            if dim in obs.columns:
                obs = obs.filter(pl.col(dim) == table.dimensions[dim]["code"][0])
        cells = (obs.filter(~pl.col("RegioS").str.starts_with("GM"))
                 .pivot(on="measure", index=["RegioS", cat, "periode_code"], values="value")
                 .rename({"RegioS": "regio_code", cat: "voorziening_code"}))
        mine = stored.filter(pl.col("bron_tabel") == table_id)
        both = mine.join(cells, on=["regio_code", "voorziening_code", "periode_code"],
                         suffix="_cbs", how="left")
        assert mine.height > 0 and both.height == mine.height
        assert (both["clienten"].cast(pl.Float64).eq_missing(both["clienten_cbs"])).all()
        assert (both["clienten_per_1000"].cast(pl.Float64)
                .eq_missing(both["clienten_per_1000_cbs"])).all()
    # CBS's national figure includes estimates: above the pooled gemeenten, never below.
    diff = con.execute(
        "SELECT min(r.clienten - g.n), max(r.clienten - g.n) FROM core.wmo_clienten_regio r "
        "JOIN (SELECT periode_code, voorziening_code, sum(clienten) AS n FROM core.wmo_clienten "
        "GROUP BY ALL) g USING (periode_code, voorziening_code) "
        "WHERE r.regio_code = 'NL01' AND r.voorziening_code = 'T001024'").fetchone()
    assert diff is not None and diff[0] >= 0 and diff[1] > 0


def test_a_suppressed_national_cell_stays_null(built: tuple[Path, Path],
                                               tmp_path: Path) -> None:
    """Blank one NL01 cell of 86050NED in a copy of the snapshot (as CBS's '.'): the row is
    kept with NULL, not 0 and not a sum of the gemeenten."""
    raw, _ = built
    edited = tmp_path / "raw"
    shutil.copytree(raw, edited)
    hit = 0
    for page in sorted((edited / "cbs" / "86050NED" / "v3" / "TypedDataSet").glob("*.json")):
        doc = json.loads(page.read_text(encoding="utf-8"))
        for row in doc["value"]:
            if (row["RegioS"].strip(), row["Perioden"], row["TypeMaatwerkvoorziening"].strip()) \
                    == ("NL01", "2024JJ00", "A019507"):
                assert row["WmoClienten_1"] is not None
                row["WmoClienten_1"] = None
                hit += 1
        page.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert hit == 1
    reseal(edited / "cbs" / "86050NED")
    db = tmp_path / "wmo.duckdb"
    assert main(["build", "--raw", str(edited), "--db", str(db), "--snapshot",
                 str(SNAPSHOT)]) == 0
    with duckdb.connect(str(db), read_only=True) as edited_con:
        rows = edited_con.execute(
            "SELECT clienten, clienten_per_1000 FROM core.wmo_clienten_regio WHERE regio_code = "
            "'NL01' AND periode_code = '2024JJ00' AND voorziening_code = 'A019507'").fetchall()
        zeros = edited_con.execute("SELECT count(*) FROM core.wmo_clienten_regio "
                                   "WHERE clienten = 0").fetchone()
    assert len(rows) == 1 and rows[0][0] is None and rows[0][1] is not None
    assert zeros == (0,)


def test_registers_are_described_by_the_metadata(con) -> None:
    sources = load_metadata().sources
    rows = con.execute("SELECT bron_id, titel, producent, url, licentie FROM meta.bron "
                       "WHERE bron_id LIKE 'register-%'").fetchall()
    assert {r[0] for r in rows} == {"register-herindelingen", "register-werkwijze",
                                    "register-bezwaar"}
    for bron_id, titel, producent, url, licentie in rows:
        source = sources[bron_id]
        assert (titel, producent, url, licentie) == (source.title, source.producer, source.url,
                                                     source.licence)


def test_failed_build_leaves_the_previous_database_byte_identical(
        built: tuple[Path, Path], tmp_path: Path) -> None:
    raw, db = built
    bad_raw = tmp_path / "raw"
    shutil.copytree(raw, bad_raw)
    target = tmp_path / "wmo.duckdb"
    shutil.copy(db, target)
    before = target.read_bytes()
    register = bad_raw / "registers" / "bezwaar.csv"
    lines = register.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("GM1859", "GM9999", 1)
    register.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code = main(["build", "--raw", str(bad_raw), "--db", str(target), "--snapshot", str(SNAPSHOT)])
    assert code == 2
    assert target.read_bytes() == before
    assert not list(tmp_path.glob("wmo.duckdb.tmp-*"))


def test_info_and_export(built: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    _, db = built
    assert main(["info", "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert "SYNTHETIC" in text and "out.gemeente_periode" in text
    out = tmp_path / "export"
    assert main(["export", "--format", "parquet", "--out", str(out), "--db", str(db)]) == 0
    frame = pl.read_parquet(out / "gemeente_periode.parquet")
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert frame.height == scalar(con, "SELECT count(*) FROM out.gemeente_periode")
        kv = con.execute("SELECT value FROM parquet_kv_metadata(?) WHERE key = 'wmo_atlas'",
                         [str(out / "gemeente_periode.parquet")]).fetchone()
    finally:
        con.close()
    assert kv is not None and b'"is_synthetisch": true' in kv[0]


def test_spending_and_flows_reach_out_harmonised_with_known_totals_kept(con) -> None:
    """core.wmo_uitgaven is in euro; in out every known harmonised total is the sum of its
    published parts, and the yearly columns are on whole-year rows only."""
    rows = con.sql("SELECT * FROM core.wmo_uitgaven WHERE voorziening = 'Totaal'").pl()
    assert rows.height > 0 and rows["uitgaven_gerealiseerd"].null_count() > 0
    assert (rows["uitgaven_gerealiseerd"].drop_nulls() % 1000 == 0).all()  # × 1 000
    gemeente = con.sql("SELECT * FROM core.gemeente").pl()
    her = con.sql("SELECT * FROM core.herindeling").pl()
    comp = harmonise.components(gemeente, harmonisation_map(her), rows["jaar"].unique().to_list())
    out = con.sql("SELECT DISTINCT gemeente_code, jaar, uitgaven_gerealiseerd FROM "
                  "out.gemeente_periode WHERE halfjaar IS NULL").pl()
    parts = (rows.join(comp, left_on=["gemeente_code", "jaar"], right_on=["bron_code", "jaar"])
             .group_by("doel_code", "jaar")
             .agg((pl.col("uitgaven_gerealiseerd") * pl.col("aandeel")).sum().alias("parts")))
    both = out.drop_nulls("uitgaven_gerealiseerd").join(
        parts, left_on=["gemeente_code", "jaar"], right_on=["doel_code", "jaar"])
    assert both.height > 2000
    assert (both["uitgaven_gerealiseerd"] - both["parts"]).abs().max() < 1e-3
    assert scalar(con, "SELECT count(*) FROM out.gemeente_periode WHERE halfjaar IS NOT NULL "
                       "AND (uitgaven_gerealiseerd IS NOT NULL OR hbh_instroom IS NOT NULL)") == 0
    assert scalar(con, "SELECT count(*) FROM out.gemeente_periode WHERE "
                       "uitgaven_hbh_per_client IS NOT NULL") > 0
    assert scalar(con, "SELECT count(*) FROM out.gemeente_periode WHERE "
                       "beeindigd_door_gemeente_per_1000_clienten IS NOT NULL") > 0
    off = scalar(con, "SELECT max(abs(uitgaven_per_inwoner - uitgaven_gerealiseerd / inwoners)) "
                      "FROM out.gemeente_periode WHERE uitgaven_per_inwoner IS NOT NULL")
    assert off < 1e-9


def test_cbs_national_spending_is_kept_beside_the_gemeenten(con) -> None:
    rows = con.execute(
        "SELECT r.jaar, r.uitgaven_gerealiseerd, r.uitgaven_begroot, "
        "(SELECT sum(g.uitgaven_gerealiseerd) FROM core.wmo_uitgaven g WHERE g.jaar = r.jaar "
        " AND g.voorziening_code = r.voorziening_code) AS gemeenten "
        "FROM core.wmo_uitgaven_regio r WHERE r.regio_code = 'NL01' "
        "AND r.voorziening = 'Totaal' ORDER BY r.jaar").fetchall()
    assert [r[0] for r in rows] == list(range(2017, 2025))
    # CBS's national figure includes an estimate for gemeenten without figures.
    assert all(r[1] is not None and r[1] > r[3] for r in rows)
    assert all(r[2] is None for r in rows)  # no national budget for the total, as at CBS
    assert scalar(con, "SELECT count(DISTINCT regio_code) FROM core.wmo_uitgaven_regio") == 13
