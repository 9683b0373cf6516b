"""The persoonskenmerken table (85896NED, 5 M cells at full scale) takes the compact path.

Its pages are compacted one at a time into a `CbsCube` and core.wmo_clienten_kenmerken is built
from that cube with Enum columns, so no text frame of millions of rows is ever materialised.
Memory itself is measured by the benchmarks; these tests pin down that the compact path is
taken and that it gives exactly the rows of the long-form path it replaced.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from etl.sources.cbs.parse import CbsTable, load_cbs_cube, load_cbs_snapshot
from etl.sources.cbs.tables import TABLES, WMO_MEASURES
from etl.transform import wmo
from tests.snapshots import reseal

FIXTURES = Path(__file__).parent / "fixtures" / "cbs"
SPEC = TABLES["85896NED"]


def kenmerken_snapshot(dest: Path, rows_per_page: int | None = None) -> Path:
    """The 83262NED fixture (Geslacht × KenmerkenVanPersonen × type × regio × periode, padded
    keys, a suppressed cell) as a synthetic 85896NED snapshot in `dest/85896NED`.

    With `rows_per_page` its TypedDataSet is re-split into pages of that many rows, delivered
    in reverse order, so that the result cannot depend on the page boundaries or row order.
    """
    folder = Path(shutil.copytree(FIXTURES / "83262NED-v3", dest / "85896NED"))
    sidecar = folder / "_source.json"
    doc = json.loads(sidecar.read_text(encoding="utf-8"))
    doc.update(table_id="85896NED", source_id="cbs-85896NED", synthetic=True)
    sidecar.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    if rows_per_page:
        pages = folder / "v3" / "TypedDataSet"
        page = json.loads((pages / "page-0001.json").read_text(encoding="utf-8"))
        rows = page["value"][::-1]
        (pages / "page-0001.json").unlink()
        starts = range(0, len(rows), rows_per_page)
        for n, start in enumerate(starts, start=1):
            chunk = {**page, "value": rows[start:start + rows_per_page]}
            if start + rows_per_page < len(rows):
                # Chained as a Feed would deliver them, so the build reads every page.
                chunk["odata.nextLink"] = (
                    "https://opendata.cbs.nl/ODataFeed/odata/85896NED/TypedDataSet"
                    f"?$format=json&$skip={start + rows_per_page}")
            (pages / f"page-{n:04d}.json").write_text(json.dumps(chunk), encoding="utf-8")
    reseal(folder)
    return folder


def reference_kenmerken(table: CbsTable) -> pl.DataFrame:
    """The former implementation, on the long text observations: pivot back to wide, join the
    titles. The compact path must give exactly these rows, in this order."""
    cat = wmo.category_dimension(table)
    obs = table.observations.filter(pl.col("RegioS").str.starts_with("GM"))
    index = ["RegioS", cat, "Geslacht", "KenmerkenVanPersonen", "periode_code", "jaar",
             "halfjaar", "status"]
    wide = obs.pivot(on="measure", index=index, values="value", aggregate_function=None)

    def titles(dim: str, code: str, name: str) -> pl.DataFrame:
        return table.dimensions[dim].select(pl.col("code").alias(code), pl.col("title").alias(name))

    return (
        wide.rename({"RegioS": "gemeente_code", cat: "voorziening_code",
                     "Geslacht": "geslacht_code", "KenmerkenVanPersonen": "kenmerk_code"})
        .join(titles("Geslacht", "geslacht_code", "geslacht"), on="geslacht_code", how="left")
        .join(titles("KenmerkenVanPersonen", "kenmerk_code", "kenmerk"), on="kenmerk_code",
              how="left")
        .with_columns(pl.lit(SPEC.table_id).alias("bron_tabel"))
        .select(list(wmo.KENMERKEN_SCHEMA))
        .cast(wmo.KENMERKEN_SCHEMA)  # type: ignore[arg-type]
    )


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(pl.Enum).cast(pl.Utf8))


def test_many_pages_in_any_order_give_the_cube_of_one_page(tmp_path: Path) -> None:
    one = load_cbs_cube(kenmerken_snapshot(tmp_path / "one"), WMO_MEASURES)
    folder = kenmerken_snapshot(tmp_path / "many", rows_per_page=10)
    assert len(list((folder / "v3/TypedDataSet").glob("page-*.json"))) == 8
    many = load_cbs_cube(folder, WMO_MEASURES)
    assert_frame_equal(many.cells, one.cells)
    assert one.cells.height == 3 * 2 * 2 * 2 * 3  # every cell once


def test_kenmerken_rows_equal_the_long_form_reference(tmp_path: Path) -> None:
    folder = kenmerken_snapshot(tmp_path, rows_per_page=10)
    compact = wmo.wmo_kenmerken(SPEC, load_cbs_cube(folder, WMO_MEASURES))
    expected = reference_kenmerken(load_cbs_snapshot(folder, WMO_MEASURES))
    assert expected.height == 3 * 2 * 2 * 3  # GM0518 only
    assert_frame_equal(as_text(compact), expected)
    # The suppressed cell stays NULL and the padded keys are stripped.
    cell = as_text(compact).filter(
        (pl.col("geslacht_code") == "3000") & (pl.col("kenmerk_code") == "2012655")
        & (pl.col("voorziening_code") == "A019507") & (pl.col("periode_code") == "2020HJ01"))
    assert cell.select("geslacht", "status", "clienten", "clienten_per_1000").row(0) == (
        "Mannen", "voorlopig", None, None)


def test_kenmerken_stay_compact(tmp_path: Path) -> None:
    """Codes, titles and status are Enums from the cube to the database insert; a text column
    of every row is what made the full build need 4.5 GB."""
    cube = load_cbs_cube(kenmerken_snapshot(tmp_path, rows_per_page=10), WMO_MEASURES)
    assert all(isinstance(cube.cells.schema[k], pl.Enum) for k in [*cube.keys, "periode_code"])
    frame = wmo.wmo_kenmerken(SPEC, cube)
    text = [name for name, dtype in wmo.KENMERKEN_SCHEMA.items() if dtype == pl.Utf8]
    assert {name: type(frame.schema[name]) for name in text} == dict.fromkeys(text, pl.Enum)
    numbers = {k: v for k, v in wmo.KENMERKEN_SCHEMA.items() if v != pl.Utf8}
    assert {name: frame.schema[name] for name in numbers} == numbers
