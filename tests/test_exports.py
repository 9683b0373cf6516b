"""Downloads from a real demo build: rows, columns and provenance read back from the bytes."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dashboard.exports import (
    SYNTHETIC_BANNER,
    ExportContext,
    context_from_db,
    filename,
    to_csv,
    to_parquet,
    to_xlsx,
    to_zip,
)
from etl.cli import main

pytestmark = pytest.mark.slow

SNAPSHOT = Path(os.environ.get("WMO_SNAPSHOT_DIR", Path(__file__).parents[2] / "shared/snapshot"))
VIEW_SQL = ("SELECT gemeente_code, gemeente_naam, periode_code, voorziening, clienten, "
            "clienten_per_1000, werkwijze_hbh, status FROM out.gemeente_periode "
            "WHERE voorziening_code = ? AND periode_code = ? ORDER BY clienten DESC NULLS LAST, "
            "gemeente_code")
FILTERS = {"voorziening": "A019507", "periode": "2024JJ00"}
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("exports")
    raw, db = root / "raw", root / "wmo.duckdb"
    assert main(["demo", "--out", str(raw), "--snapshot", str(SNAPSHOT)]) == 0
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 0
    return db


@pytest.fixture(scope="module")
def real_db(db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same build with every synthetic flag switched off, as a real CBS build would be."""
    copy = tmp_path_factory.mktemp("real") / "wmo.duckdb"
    shutil.copy(db, copy)
    con = duckdb.connect(str(copy))
    for table in ("meta.build", "meta.bron", "out.gemeente_periode"):
        con.execute(f"UPDATE {table} SET is_synthetisch = false")
    # The demo names its sources as synthetic; a real build's sources would not.
    con.execute("DELETE FROM meta.bron WHERE bron_id = 'bezwaar-demo'")
    con.execute("UPDATE meta.bron SET titel = replace(titel, ' (SYNTHETISCHE DEMODATA)', ''), "
                "producent = 'Centraal Bureau voor de Statistiek (CBS)' "
                "WHERE bron_id LIKE 'cbs-%'")
    con.close()
    return copy


def _view(db: Path, filters: dict[str, str] = FILTERS) -> tuple[pl.DataFrame, ExportContext]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        frame = con.sql(VIEW_SQL, params=[filters["voorziening"], filters["periode"]]).pl()
        ctx = context_from_db(con, "Hulp bij het huishouden", filters, frame.columns)
    finally:
        con.close()
    return frame, ctx


@pytest.fixture(scope="module")
def view(db: Path) -> tuple[pl.DataFrame, ExportContext]:
    return _view(db)


@pytest.fixture(scope="module")
def real_view(real_db: Path) -> tuple[pl.DataFrame, ExportContext]:
    return _view(real_db)


def _comments(data: bytes) -> list[str]:
    text = data.decode("utf-8-sig")
    return [line for line in text.splitlines() if line.startswith("#")]


def _xlsx_parts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n).decode() for n in zf.namelist()}


# --- context --------------------------------------------------------------------------------

def test_context_reads_build_sources_and_column_docs(view) -> None:
    frame, ctx = view
    assert ctx.is_synthetisch is True
    assert ctx.table == "out.gemeente_periode"
    assert ctx.filters == FILTERS
    assert {s["bron_id"] for s in ctx.sources} >= {"cbs-86050NED", "geo", "register-werkwijze"}
    assert [c.name for c in ctx.columns] == frame.columns
    assert all(c.description for c in ctx.columns)
    assert ctx.column_doc("clienten").unit == "aantal"
    assert {s["symbol"] for s in ctx.symbols} >= {".", "*", "**"}
    assert ctx.caveats[0].startswith(SYNTHETIC_BANNER)
    text = " ".join(ctx.caveats)
    for needle in ("Waarnemingsgegevens", "werkwijze", "nader voorlopig", "NULL", "gebroken"):
        assert needle in text
    assert "CC BY 4.0" in ctx.licence
    assert ctx.citation.startswith("Bron: ") and SYNTHETIC_BANNER in ctx.citation
    assert "bewerking wmo-atlas (versie" in ctx.citation


def test_real_context_cites_cbs_and_does_not_claim_synthetic(real_view) -> None:
    _, ctx = real_view
    assert ctx.is_synthetisch is False
    assert ctx.citation.startswith("Bron: CBS, StatLine 03759NED")
    assert "86050NED" in ctx.citation
    assert not any("SYNTHETISCH" in c.upper() for c in ctx.caveats)


def test_view_is_not_empty(view) -> None:
    # Guards every round-trip test below against passing on an empty frame.
    frame, _ = view
    assert frame.height > 100


# --- CSV ------------------------------------------------------------------------------------

def test_csv_round_trip_keeps_rows_order_and_adds_flag_column(view) -> None:
    frame, ctx = view
    data = to_csv(frame, ctx)
    assert data.startswith(b"\xef\xbb\xbf#")
    back = pl.read_csv(data, comment_prefix="#", schema_overrides=frame.schema)
    assert back.columns == [*frame.columns, "is_synthetisch"]
    assert back.drop("is_synthetisch").equals(frame)
    assert back["is_synthetisch"].to_list() == [True] * frame.height


def test_csv_comments_carry_provenance(view) -> None:
    frame, ctx = view
    comments = "\n".join(_comments(to_csv(frame, ctx)))
    assert SYNTHETIC_BANNER in comments
    assert "is_synthetisch: true" in comments
    assert "Hulp bij het huishouden" in comments
    assert "voorziening=A019507" in comments and "periode=2024JJ00" in comments
    assert ctx.citation in comments and "CC BY 4.0" in comments
    assert "comment_prefix='#'" in comments


def test_csv_of_real_build_does_not_claim_synthetic(real_view) -> None:
    frame, ctx = real_view
    data = to_csv(frame, ctx)
    comments = "\n".join(_comments(data))
    assert "SYNTHETISCHE" not in comments and "is_synthetisch: false" in comments
    assert "Bron: CBS" in comments
    back = pl.read_csv(data, comment_prefix="#")
    assert back["is_synthetisch"].to_list() == [False] * frame.height


def test_csv_keeps_existing_flag_column_and_survives_hash_in_data(view) -> None:
    _, ctx = view
    frame = pl.DataFrame({"naam": ["#1 gemeente", "b"], "is_synthetisch": [True, True]})
    back = pl.read_csv(to_csv(frame, ctx), comment_prefix="#")
    assert back.equals(frame)


# --- Parquet --------------------------------------------------------------------------------

def test_parquet_round_trip_with_context_and_field_metadata(view) -> None:
    frame, ctx = view
    table = pq.read_table(io.BytesIO(to_parquet(frame, ctx)))
    back = pl.from_arrow(table)
    assert isinstance(back, pl.DataFrame)
    assert back.drop("is_synthetisch").equals(frame)
    meta = json.loads(table.schema.metadata[b"wmo_atlas"])
    assert meta["is_synthetisch"] is True and meta["row_count"] == frame.height
    assert meta["filters"] == FILTERS
    assert {s["bron_id"] for s in meta["sources"]} == {s["bron_id"] for s in ctx.sources}
    assert [c["name"] for c in meta["columns"]] == [*frame.columns, "is_synthetisch"]
    field = table.schema.field("clienten")
    assert field.metadata[b"unit"] == b"aantal"
    assert field.metadata[b"description"].decode() == ctx.column_doc("clienten").description
    codec = pq.ParquetFile(io.BytesIO(to_parquet(frame, ctx))).metadata.row_group(0).column(0)
    assert codec.compression == "ZSTD"


def test_parquet_of_real_build_is_not_synthetic(real_view) -> None:
    frame, ctx = real_view
    table = pq.read_table(io.BytesIO(to_parquet(frame, ctx)))
    meta = json.loads(table.schema.metadata[b"wmo_atlas"])
    assert meta["is_synthetisch"] is False and meta["waarschuwing"] is None
    assert SYNTHETIC_BANNER not in json.dumps(meta, ensure_ascii=False)


def _expected_parquet_frame(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.lit(True).alias("is_synthetisch"))


def _plain_pyarrow_types(frame: pl.DataFrame) -> pa.Schema:
    """What pyarrow reads back from a file written by pyarrow without any metadata."""
    buf = io.BytesIO()
    pq.write_table(frame.to_arrow(compat_level=pl.CompatLevel.oldest()), buf)
    return pq.read_schema(io.BytesIO(buf.getvalue()))


def test_parquet_reads_back_the_same_in_pyarrow_polars_and_duckdb(view, tmp_path: Path) -> None:
    frame, ctx = view
    expected = _expected_parquet_frame(frame)
    path = tmp_path / "view.parquet"
    path.write_bytes(to_parquet(frame, ctx))
    # pyarrow: the types of the oldest polars compat level (large_string, no string_view).
    table = pq.read_table(path)
    assert table.schema.remove_metadata() == expected.to_arrow(
        compat_level=pl.CompatLevel.oldest()).schema
    assert pl.from_arrow(table).equals(expected)
    for name in expected.columns:  # every column documented, the added flag column too
        assert table.schema.field(name).metadata[b"description"].decode() == \
            ctx.column_doc(name).description
    # polars
    back = pl.read_parquet(path)
    assert back.schema == expected.schema and back.equals(expected)
    # DuckDB: same column types as the frame itself, and the context in the footer
    con = duckdb.connect()
    try:
        rel = con.sql("SELECT * FROM read_parquet(?)", params=[str(path)])
        assert rel.types == con.from_arrow(expected.to_arrow()).types
        assert rel.pl().equals(expected)
        kv = con.execute("SELECT value FROM parquet_kv_metadata(?) WHERE key = 'wmo_atlas'",
                         [str(path)]).fetchone()
    finally:
        con.close()
    assert kv is not None
    assert json.loads(kv[0]) == json.loads(table.schema.metadata[b"wmo_atlas"])
    assert json.loads(kv[0])["row_count"] == frame.height


def test_parquet_nested_and_categorical_columns_keep_types_and_metadata(view) -> None:
    _, ctx = view
    frame = pl.DataFrame({
        "gemeente_code": ["GM0001", None],
        "lijst": [[1, 2], None],
        "paar": [{"a": 1, "b": "x"}, None],
        "soort": pl.Series(["x", "y"], dtype=pl.Categorical),
    })
    table = pq.read_table(io.BytesIO(to_parquet(frame, ctx)))
    expected = _expected_parquet_frame(frame)
    assert table.schema.remove_metadata() == _plain_pyarrow_types(expected)
    assert json.loads(table.schema.metadata[b"wmo_atlas"])["row_count"] == 2
    assert table.schema.field("is_synthetisch").metadata[b"description"]
    assert pl.from_arrow(table).equals(expected)


def test_parquet_bytes_depend_on_the_rows_not_the_chunks(view) -> None:
    frame, ctx = view
    rows = pl.concat([frame] * (300_000 // frame.height + 1))  # more than one row group
    chunked = pl.concat([rows.slice(i, 7_000) for i in range(0, rows.height, 7_000)],
                        rechunk=False)
    data = to_parquet(rows.rechunk(), ctx)
    assert to_parquet(chunked, ctx) == data
    meta = pq.read_metadata(io.BytesIO(data))
    assert meta.num_rows == rows.height and meta.num_row_groups == 2


# --- XLSX -----------------------------------------------------------------------------------

def _sheet_rows(xml: str) -> list[ElementTree.Element]:
    return ElementTree.fromstring(xml).findall("m:sheetData/m:row", NS)


def test_xlsx_has_three_sheets_and_a_clean_data_table(view) -> None:
    frame, ctx = view
    parts = _xlsx_parts(to_xlsx(frame, ctx))
    names = re.findall(r'<sheet name="([^"]+)"', parts["xl/workbook.xml"])
    assert names == ["data", "bronnen", "toelichting"]
    rows = _sheet_rows(parts["xl/worksheets/sheet1.xml"])
    assert len(rows) == frame.height + 1
    width = frame.width + 1
    assert f'<dimension ref="A1:{chr(64 + width)}{frame.height + 1}"/>' \
        in parts["xl/worksheets/sheet1.xml"]
    # Header is row 1: shared strings, in column order, nothing above it.
    shared = re.findall(r"<t[^>]*>([^<]*)</t>", parts["xl/sharedStrings.xml"])
    header = [shared[int(c.find("m:v", NS).text)] for c in rows[0].findall("m:c", NS)]
    assert rows[0].get("r") == "1"
    assert header == [*frame.columns, "is_synthetisch"]
    first = rows[1].findall("m:c", NS)
    assert first[0].find("m:is/m:t", NS).text == frame["gemeente_code"][0]
    assert float(first[4].find("m:v", NS).text) == pytest.approx(frame["clienten"][0])
    assert first[-1].get("t") == "b" and first[-1].find("m:v", NS).text == "1"


def test_xlsx_leaves_null_cells_empty(view) -> None:
    frame, ctx = view
    nulls = frame.with_row_index().filter(pl.col("werkwijze_hbh").is_null())
    assert nulls.height > 0
    rows = _sheet_rows(_xlsx_parts(to_xlsx(frame, ctx))["xl/worksheets/sheet1.xml"])
    row = rows[nulls["index"][0] + 1]
    refs = [c.get("r") for c in row.findall("m:c", NS)]
    assert f"G{row.get('r')}" not in refs and f"A{row.get('r')}" in refs


def test_xlsx_provenance_in_sheets_and_properties(view) -> None:
    frame, ctx = view
    parts = _xlsx_parts(to_xlsx(frame, ctx))
    text = parts["xl/sharedStrings.xml"]
    for needle in ("cbs-86050NED", "CC BY 4.0", "Kanttekeningen", "nader voorlopig",
                   "A019507", "Symbool (CBS)", "Citatie"):
        assert needle in text, needle
    assert SYNTHETIC_BANNER in text
    core = parts["docProps/core.xml"]
    assert "<dc:title>Hulp bij het huishouden</dc:title>" in core
    assert re.search(r"<dc:subject>[^<]*SYNTHETISCHE DEMODATA", core)
    assert "bewerking wmo-atlas" in core  # the comments (description)
    assert re.search(r'name="is_synthetisch"><vt:bool>true</vt:bool>',
                     parts["docProps/custom.xml"])


def test_xlsx_of_real_build_does_not_claim_synthetic(real_view) -> None:
    frame, ctx = real_view
    parts = _xlsx_parts(to_xlsx(frame, ctx))
    assert "SYNTHETISCH" not in parts["docProps/core.xml"].upper().replace("IS_SYNTHETISCH", "")
    assert SYNTHETIC_BANNER not in parts["xl/sharedStrings.xml"]
    assert "<vt:bool>false</vt:bool>" in parts["docProps/custom.xml"]


def test_xlsx_escapes_text_and_refuses_too_many_rows(view) -> None:
    _, ctx = view
    frame = pl.DataFrame({"naam": ["a & b <c>", "\x01x"], "n": [1.5, float("nan")]})
    rows = _sheet_rows(_xlsx_parts(to_xlsx(frame, ctx))["xl/worksheets/sheet1.xml"])
    assert rows[1].find("m:c/m:is/m:t", NS).text == "a & b <c>"
    assert rows[2].find("m:c/m:is/m:t", NS).text == "x"
    assert [c.get("r") for c in rows[2].findall("m:c", NS)] == ["A3", "C3"]  # NaN → empty
    with pytest.raises(ValueError, match="Excel"):
        to_xlsx(pl.DataFrame({"a": pl.zeros(1_048_576, eager=True)}), ctx)


# --- ZIP ------------------------------------------------------------------------------------

def test_zip_holds_csv_parquet_metadata_and_readme(view) -> None:
    frame, ctx = view
    with zipfile.ZipFile(io.BytesIO(to_zip(frame, ctx))) as zf:
        assert sorted(zf.namelist()) == ["README.md", "data.csv", "data.parquet", "metadata.json"]
        csv = pl.read_csv(zf.read("data.csv"), comment_prefix="#")
        parquet = pl.read_parquet(io.BytesIO(zf.read("data.parquet")))
        meta = json.loads(zf.read("metadata.json"))
        readme = zf.read("README.md").decode()
    assert csv.height == parquet.height == meta["row_count"] == frame.height
    assert parquet.drop("is_synthetisch").equals(frame)
    assert [c["name"] for c in meta["columns"]] == [*frame.columns, "is_synthetisch"]
    assert meta["is_synthetisch"] is True and meta["citation"] == ctx.citation
    assert meta["build"]["versie"] == ctx.versie and meta["caveats"] == ctx.caveats
    assert readme.startswith("# Hulp bij het huishouden")
    assert SYNTHETIC_BANNER in readme.split("## Wat zit erin")[0]
    for needle in ("## Filters", "- periode: 2024JJ00", "| `clienten` | aantal |",
                   "cbs-86050NED", "2026-01-01T00:00:00+00:00", "CC BY 4.0", "## Tekens van CBS",
                   "| `**` |", "## Kanttekeningen", "## Zo citeert u", ctx.citation):
        assert needle in readme, needle


def test_zip_of_real_build_does_not_claim_synthetic(real_view) -> None:
    frame, ctx = real_view
    with zipfile.ZipFile(io.BytesIO(to_zip(frame, ctx))) as zf:
        readme = zf.read("README.md").decode()
        meta = json.loads(zf.read("metadata.json"))
    assert "SYNTHETISCH" not in readme.upper().replace("IS_SYNTHETISCH", "")
    assert meta["is_synthetisch"] is False
    assert "Bron: CBS" in readme


def test_zip_is_reproducible(view) -> None:
    frame, ctx = view
    assert to_zip(frame, ctx) == to_zip(frame, ctx)


# --- file names -----------------------------------------------------------------------------

def test_filename_is_readable_ascii(view, real_view) -> None:
    _, ctx = real_view
    assert filename(ctx, "csv") == "wmo-atlas_hulp-bij-het-huishouden_2024JJ00.csv"
    assert filename(ctx, ".xlsx").endswith("_2024JJ00.xlsx")
    _, synthetic = view
    assert filename(synthetic, "zip") == \
        "wmo-atlas_hulp-bij-het-huishouden_2024JJ00_SYNTHETISCH.zip"
    odd = ExportContext(**{**real_view[1].__dict__, "title": "Cliënten / Fryslân: één?",
                           "filters": {"periode": ["2023JJ00", "2024HJ01"]}})
    name = filename(odd, "csv")
    assert name == "wmo-atlas_clienten-fryslan-een_2023JJ00-2024HJ01.csv"
    assert name.isascii()


# --- CSV injection --------------------------------------------------------------------------

def test_csv_neutralises_cells_a_spreadsheet_would_run_as_formulas(view) -> None:
    _, ctx = view
    hostile = ["=HYPERLINK(\"https://evil.example\",\"klik\")", "+1+1", "-2+3", "@SUM(A1)",
               "\tx", "\rx", "=cmd|' /C calc'!A0", "gewoon", "a=b", ""]
    frame = pl.DataFrame({"bron_omschrijving": hostile, "getal": [-1.5] * len(hostile)})
    data = to_csv(frame, ctx)
    back = pl.read_csv(data, comment_prefix="#")
    cells = back["bron_omschrijving"].to_list()
    for original, cell in zip(hostile, cells, strict=True):
        if original and original[0] in "=+-@\t\r":
            assert cell == "'" + original
        elif original:
            assert cell == original
        else:
            assert cell in ("", None)
    # Numbers are numbers, not text: a negative value is left alone.
    assert back["getal"].to_list() == [-1.5] * len(hostile)
    assert any("niet als formule" in line for line in _comments(data))
