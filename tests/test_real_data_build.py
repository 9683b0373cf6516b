"""The real CBS files in ../shared/real-data, imported with `wmo import cbs` into a new folder,
build offline with the project's registers; the README's spot values come out of the database."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import duckdb
import polars as pl
import pytest

from etl.cli import main
from etl.sources.cbs.parse import load_cbs_snapshot
from etl.sources.cbs.tables import spec_for
from etl.transform.bevolking import age_groups_from

pytestmark = pytest.mark.slow

SNAPSHOT = Path(os.environ.get("WMO_SNAPSHOT_DIR", Path(__file__).parents[2] / "shared/snapshot")
                ).resolve()
REAL = SNAPSHOT.parent / "real-data"


@pytest.fixture(scope="module")
def real_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real")
    raw, db = root / "raw", root / "wmo.duckdb"
    # Offline means offline: any attempt to reach a CBS host fails the import.
    env = {"WMO_CBS_V3_URL": "http://127.0.0.1:9", "WMO_CBS_V4_URL": "http://127.0.0.1:9"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        assert main(["import", "cbs", str(REAL / "cbsots-83262NED"), "--table", "83262NED",
                     "--out", str(raw)]) == 0
        assert main(["import", "cbs", str(REAL / "ijhidding-03759ned"), "--table", "03759NED",
                     "--out", str(raw)]) == 0
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert not (raw / "registers").exists()  # the project's registers are used
    assert main(["validate", "--raw", str(raw), "--snapshot", str(SNAPSHOT)]) == 0
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 0
    return db


@pytest.fixture(scope="module")
def real_raw(real_db: Path) -> Path:
    return real_db.parent / "raw"


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_nothing_listens_on_the_offline_port() -> None:
    with socket.socket() as s, pytest.raises(OSError):
        s.settimeout(1)
        s.connect(("127.0.0.1", 9))


def test_readme_spot_values_for_den_haag(real_db: Path) -> None:
    found = dict((p, (c, r, s)) for p, c, r, s in rows(
        real_db, "SELECT periode_code, clienten, clienten_per_1000, status "
                 "FROM core.wmo_clienten WHERE gemeente_code = 'GM0518' "
                 "AND voorziening_code = 'T001024'"))
    assert found["2016HJ01"] == (36240, 70, "definitief")
    assert found["2019JJ00"] == (38085, 71, "definitief")
    assert found["2020HJ01"] == (35325, 65, "voorlopig")
    # Empty in the file: unknown, not 0.
    assert found["2015HJ02"][:2] == (None, None)
    assert found["2015JJ00"][:2] == (None, None)
    assert rows(real_db, "SELECT DISTINCT bron_tabel FROM core.wmo_clienten") == [("83262NED",)]


def test_cbs_national_figure_is_kept_as_published(real_db: Path) -> None:
    nl = dict((p, (c, r)) for p, c, r in rows(
        real_db, "SELECT periode_code, clienten, clienten_per_1000 FROM core.wmo_clienten_regio "
                 "WHERE regio_code = 'NL01' AND voorziening_code = 'T001024'"))
    assert nl["2019JJ00"] == (1166485, 68)
    assert nl["2015JJ00"] == (None, None)


def test_real_build_is_not_synthetic_and_names_the_import(real_db: Path) -> None:
    assert rows(real_db, "SELECT is_synthetisch FROM meta.build") == [(False,)]
    bron = dict((b, (f, s)) for b, f, s in rows(
        real_db, "SELECT bron_id, formaat, is_synthetisch FROM meta.bron"))
    assert bron["cbs-83262NED"] == ("odata-v3", False)
    assert bron["cbs-03759NED"] == ("odata-v3", False)
    registers = [m for (m,) in rows(real_db, "SELECT map FROM meta.bron "
                                             "WHERE bron_id LIKE 'register-%'")]
    assert registers and all(m.startswith("project:data/raw/registers/") for m in registers)


def test_population_of_provinces_only_gives_no_gemeente_rows(real_db: Path) -> None:
    # The real 03759ned excerpt holds PV20 and PV24 only; no gemeente figure is invented.
    assert rows(real_db, "SELECT count(*) FROM core.bevolking") == [(0,)]


def test_75plus_cover_of_the_real_age_list_agrees_with_the_other_cover(real_raw: Path) -> None:
    """CBS's own figures: 75 … 94 jaar + "95 jaar of ouder" (the cover chosen) equals
    75 … 104 jaar + "105 jaar of ouder" (the other exact cover), for every province and year."""
    spec = spec_for("03759NED")
    assert spec is not None
    table = load_cbs_snapshot(real_raw / "cbs" / "03759NED", spec.measures)
    ages = table.dimensions["Leeftijd"]
    titles = dict(zip(ages["code"], ages["title"], strict=True))
    chosen = age_groups_from(titles, 75)
    by_title = {t: c for c, t in titles.items()}
    other = [by_title[f"{a} jaar"] for a in range(75, 105)] + [by_title["105 jaar of ouder"]]
    obs = table.observations.filter(
        (pl.col("Geslacht") == "T001038") & (pl.col("BurgerlijkeStaat") == "T001019"))

    def total(codes: list[str]) -> pl.DataFrame:
        return (obs.filter(pl.col("Leeftijd").is_in(codes)).group_by("RegioS", "jaar")
                .agg(pl.col("value").sum(), pl.col("value").null_count().alias("nulls"))
                .sort("RegioS", "jaar"))

    a, b = total(chosen), total(other)
    complete = (a["nulls"] == 0) & (b["nulls"] == 0)
    assert complete.sum() > 0
    assert a.filter(complete)["value"].to_list() == b.filter(complete)["value"].to_list()


def test_province_counts_every_gemeente_of_the_classification(real_db: Path) -> None:
    """Only Den Haag has figures here; Zuid-Holland still has all its gemeenten."""
    [(n_zh,)] = rows(real_db, """
        SELECT count(*) FROM core.gemeente, meta.build
        WHERE provincie_naam = 'Zuid-Holland'
          AND coalesce(geldig_vanaf, DATE '1900-01-01') <= make_date(referentie_indeling, 1, 1)
          AND (geldig_tot IS NULL OR geldig_tot > make_date(referentie_indeling, 1, 1))""")
    found = rows(real_db, "SELECT gemeenten_totaal, gemeenten_bekend "
                          "FROM out.provincie_periode WHERE provincie_naam = 'Zuid-Holland' "
                          "AND periode_code = '2019JJ00' AND voorziening_code = 'T001024'")
    assert n_zh > 40  # Zuid-Holland has about 50 gemeenten
    # No population table for gemeenten here, so none counts as known; all count in the total.
    assert found == [(n_zh, 0)]
