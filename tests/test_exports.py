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

from dashboard import exports, fmt
from dashboard.exports import (
    SYNTHETIC_BANNER,
    ExportContext,
    context_from_db,
    export_filename,
    filename,
    mixes_periods,
    readme_text,
    to_csv,
    to_parquet,
    to_xlsx,
    to_zip,
)
from etl.cli import main
from etl.metadata import load_metadata

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


def _view(db: Path, filters: dict[str, str] = FILTERS,
          lang: str = "nl") -> tuple[pl.DataFrame, ExportContext]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        frame = con.sql(VIEW_SQL, params=[filters["voorziening"], filters["periode"]]).pl()
        ctx = context_from_db(con, "Hulp bij het huishouden", filters, frame.columns, lang=lang)
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


def _shared(parts: dict[str, str]) -> list[str]:
    return re.findall(r"<t[^>]*>([^<]*)</t>", parts["xl/sharedStrings.xml"])


def _cell_texts(row: ElementTree.Element, shared: list[str]) -> list[str]:
    return [shared[int(c.find("m:v", NS).text)] if c.get("t") == "s"
            else c.find("m:is/m:t", NS).text for c in row.findall("m:c", NS)]


def test_xlsx_has_three_sheets_a_notice_row_and_a_clean_data_table(view) -> None:
    frame, ctx = view
    parts = _xlsx_parts(to_xlsx(frame, ctx))
    names = re.findall(r'<sheet name="([^"]+)"', parts["xl/workbook.xml"])
    assert names == ["data", "bronnen", "toelichting"]
    rows = _sheet_rows(parts["xl/worksheets/sheet1.xml"])
    assert len(rows) == frame.height + 2
    width = frame.width + 1
    assert f'<dimension ref="A1:{chr(64 + width)}{frame.height + 2}"/>' \
        in parts["xl/worksheets/sheet1.xml"]
    # Row 1: one notice cell, the synthetic warning; row 2: the header, in column order.
    shared = _shared(parts)
    notice = _cell_texts(rows[0], shared)
    assert rows[0].get("r") == "1" and len(notice) == 1
    assert notice[0].startswith("LET OP: " + SYNTHETIC_BANNER)
    assert "rij 2" in notice[0] and "halfjaren" not in notice[0]  # one period kind: 2024JJ00
    header = _cell_texts(rows[1], shared)
    assert rows[1].get("r") == "2"
    assert header == [*frame.columns, "is_synthetisch"]
    # Both rows stay in view, and the autofilter sits on the header.
    assert 'ySplit="2"' in parts["xl/worksheets/sheet1.xml"]
    assert f'<autoFilter ref="A2:{chr(64 + width)}{frame.height + 2}"/>' \
        in parts["xl/worksheets/sheet1.xml"]
    first = rows[2].findall("m:c", NS)
    assert first[0].find("m:is/m:t", NS).text == frame["gemeente_code"][0]
    assert float(first[4].find("m:v", NS).text) == pytest.approx(frame["clienten"][0])
    assert first[-1].get("t") == "b" and first[-1].find("m:v", NS).text == "1"


def test_xlsx_leaves_null_cells_empty(view) -> None:
    frame, ctx = view
    nulls = frame.with_row_index().filter(pl.col("werkwijze_hbh").is_null())
    assert nulls.height > 0
    rows = _sheet_rows(_xlsx_parts(to_xlsx(frame, ctx))["xl/worksheets/sheet1.xml"])
    row = rows[nulls["index"][0] + 2]
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
    assert rows[2].find("m:c/m:is/m:t", NS).text == "a & b <c>"
    assert rows[3].find("m:c/m:is/m:t", NS).text == "x"
    assert [c.get("r") for c in rows[3].findall("m:c", NS)] == ["A4", "C4"]  # NaN → empty
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
                   "cbs-86050NED", "| 1 januari 2026 |", "CC BY 4.0", "## Tekens van CBS",
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
    assert filename(ctx, "csv") == "wmo-atlas_hulp-bij-het-huishouden_2024JJ00_A019507.csv"
    assert filename(ctx, ".xlsx").endswith("_2024JJ00_A019507.xlsx")
    _, synthetic = view
    assert filename(synthetic, "zip") == \
        "wmo-atlas_hulp-bij-het-huishouden_2024JJ00_A019507_SYNTHETISCH.zip"
    odd = ExportContext(**{**real_view[1].__dict__, "title": "Cliënten / Fryslân: één?",
                           "filters": {"periode": ["2024HJ01", "2023JJ00"]}})
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


# --- language -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def english_view(db: Path) -> tuple[pl.DataFrame, ExportContext]:
    return _view(db, lang="en")


def _veld(db: Path, column: str) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute(f"SELECT kolom, {column} FROM meta.veld WHERE schema_naam = "
                                "'out' AND tabel = 'gemeente_periode'").fetchall())
    finally:
        con.close()


def _all_texts(frame: pl.DataFrame, ctx: ExportContext) -> dict[str, str]:
    """Every reader-facing text of every format: CSV header, XLSX strings, README, JSON."""
    with zipfile.ZipFile(io.BytesIO(to_zip(frame, ctx))) as zf:
        readme, meta = zf.read("README.md").decode(), zf.read("metadata.json").decode()
    return {"csv": "\n".join(_comments(to_csv(frame, ctx))),
            "xlsx": _xlsx_parts(to_xlsx(frame, ctx))["xl/sharedStrings.xml"],
            "readme": readme, "json": meta}


def test_english_export_has_english_caveats_licence_symbols_and_descriptions(
        english_view, db: Path) -> None:
    frame, ctx = english_view
    assert ctx.lang == "en"
    assert ctx.caveats[0].startswith("SYNTHETIC DEMO DATA")
    assert any(c.startswith("Observational data") for c in ctx.caveats)
    assert ctx.licence.startswith("Licence: ") and "Attribution required" in ctx.licence
    assert ctx.citation.startswith("Source: SYNTHETIC DEMO DATA")
    legend = {s.symbol: s for s in load_metadata().symbols}
    assert [s["meaning"] for s in ctx.symbols] == [legend[s["symbol"]].meaning
                                                   for s in ctx.symbols]
    english = _veld(db, "omschrijving_en")
    assert ctx.column_doc("clienten").description == english["clienten"]
    assert english["clienten"] != _veld(db, "omschrijving")["clienten"]
    for name, text in _all_texts(frame, ctx).items():
        assert "Observational data" in text, name
        # Not one Dutch caveat, legend or label in an English file.
        for dutch in ("Waarnemingsgegevens", "Naamsvermelding", "Geheim (oudere tabellen)",
                      "Kanttekeningen", "SYNTHETISCHE DEMODATA — geen", "bewerking wmo-atlas",
                      "True als de cijfers"):
            assert dutch not in text, (name, dutch)
    texts = _all_texts(frame, ctx)
    assert "Confidential (older tables)." in texts["readme"] and "## Caveats" in texts["readme"]
    assert "| column | unit | description |" in texts["readme"]
    assert english["clienten"] in texts["readme"]
    assert "Caveats" in texts["xlsx"] and "Symbol (CBS)" in texts["xlsx"]
    assert "# NOTE: SYNTHETIC DEMO DATA" in texts["csv"] and "# Reading: " in texts["csv"]
    assert "True when this export" in texts["readme"]


def test_dutch_export_has_dutch_texts_and_no_english_caveat(view, db: Path) -> None:
    frame, ctx = view
    assert ctx.lang == "nl"
    dutch = _veld(db, "omschrijving")
    assert ctx.column_doc("clienten").description == dutch["clienten"]
    legend = {s.symbol: s for s in load_metadata().symbols}
    assert [s["meaning"] for s in ctx.symbols] == [legend[s["symbol"]].meaning_nl
                                                   for s in ctx.symbols]
    for name, text in _all_texts(frame, ctx).items():
        assert "Waarnemingsgegevens" in text, name
        for english in ("Observational data", "Attribution required", "Confidential (older",
                        "SYNTHETIC DEMO DATA", "processed by wmo-atlas", "True when this"):
            assert english not in text, (name, english)


def test_metadata_json_keeps_machine_keys_in_both_languages(view, english_view) -> None:
    keys = []
    for frame, ctx in (view, english_view):
        with zipfile.ZipFile(io.BytesIO(to_zip(frame, ctx))) as zf:
            meta = json.loads(zf.read("metadata.json"))
        keys.append(sorted(meta))
        assert meta["lang"] == ctx.lang
        assert meta["build"]["built_at"] == ctx.built_at  # ISO stays ISO in machine fields
        assert set(meta["symbols"][0]) == {"symbol", "meaning", "handling"}
    assert keys[0] == keys[1]


# --- mixed periods --------------------------------------------------------------------------

def test_mixes_periods_decides_from_halfjaar_or_the_period_codes() -> None:
    assert mixes_periods(pl.DataFrame({"halfjaar": [None, 1, 2]}))
    assert not mixes_periods(pl.DataFrame({"halfjaar": [None, None]}, schema={"halfjaar": pl.Int8}))
    assert not mixes_periods(pl.DataFrame({"halfjaar": [1, 2]}))
    assert mixes_periods(pl.DataFrame({"periode_code": ["2024JJ00", "2024HJ02"]}))
    assert not mixes_periods(pl.DataFrame({"periode_code": ["2023JJ00", "2024JJ00"]}))
    assert not mixes_periods(pl.DataFrame({"periode_code": ["2024HJ01", "2024HJ02"]}))
    assert not mixes_periods(pl.DataFrame({"clienten": [1, 2]}))
    assert not mixes_periods(pl.DataFrame({"halfjaar": []}, schema={"halfjaar": pl.Int8}))
    # halfjaar wins over the codes: it is what the table says.
    assert not mixes_periods(pl.DataFrame({"halfjaar": [1], "periode_code": ["2024JJ00"]}))


MIXED_NL = "deze selectie bevat halfjaren én hele jaren: tel ze niet op"
MIXED_EN = "this selection holds half-years and whole years: do not add them up"


def _mixed_frame(db: Path) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql("SELECT gemeente_code, periode_code, halfjaar, clienten FROM "
                       "out.gemeente_periode WHERE voorziening_code = 'A019507' AND jaar = 2024 "
                       "ORDER BY gemeente_code, periode_code").pl()
    finally:
        con.close()


def _data_sheet_texts(data: bytes) -> tuple[str, list[str]]:
    parts = _xlsx_parts(data)
    rows = _sheet_rows(parts["xl/worksheets/sheet1.xml"])
    shared = _shared(parts)
    return _cell_texts(rows[0], shared)[0], _cell_texts(rows[1], shared)


@pytest.mark.parametrize(("lang", "needle"), [("nl", MIXED_NL), ("en", MIXED_EN)])
def test_mixed_period_warning_in_csv_xlsx_readme_and_json_exactly_when_mixed(
        db: Path, view, english_view, lang: str, needle: str) -> None:
    frame, ctx = view if lang == "nl" else english_view
    mixed = _mixed_frame(db)
    assert mixes_periods(mixed) and not mixes_periods(frame)
    for rows, expected in ((mixed, True), (frame, False)):
        csv = _comments(to_csv(rows, ctx))
        assert any(needle in line and line.startswith("# LET OP" if lang == "nl"
                                                      else "# NOTE") for line in csv) \
            is expected
        notice, header = _data_sheet_texts(to_xlsx(rows, ctx))
        assert (needle in notice) is expected and header[0] == rows.columns[0]
        readme = readme_text(rows, ctx)
        assert (needle in readme.split("##")[0]) is expected  # above the first section
        with zipfile.ZipFile(io.BytesIO(to_zip(rows, ctx))) as zf:
            meta = json.loads(zf.read("metadata.json"))
        assert meta["mixed_periods"] is expected
        assert (meta["waarschuwing_perioden"] is not None) is expected


def test_mixed_periods_known_from_the_selection_without_period_columns(view, db: Path) -> None:
    _, ctx = view
    mixed = _mixed_frame(db).select("gemeente_code", "clienten")  # nothing to see it by
    assert not mixes_periods(mixed)
    told = ExportContext(**{**ctx.__dict__, "mixed_periods": True})
    assert any(MIXED_NL in line for line in _comments(to_csv(mixed, told)))
    assert MIXED_NL in _data_sheet_texts(to_xlsx(mixed, told))[0]
    assert not any(MIXED_NL in line for line in _comments(to_csv(mixed, ctx)))


# --- XLSX data sheet: the warning on the sheet itself, and the data still reads -------------

def _read_data_sheet(data: bytes) -> pl.DataFrame:
    """The data sheet read the way the reader hint says: header in row 2, data below."""
    parts = _xlsx_parts(data)
    rows = _sheet_rows(parts["xl/worksheets/sheet1.xml"])
    shared = _shared(parts)
    header = _cell_texts(rows[1], shared)
    columns: dict[str, list] = {name: [] for name in header}
    for row in rows[2:]:
        cells = {re.sub(r"\d", "", c.get("r")): c for c in row.findall("m:c", NS)}
        for i, name in enumerate(header):
            cell = cells.get(chr(65 + i))
            if cell is None:
                columns[name].append(None)
            elif cell.get("t") == "inlineStr":
                columns[name].append(cell.find("m:is/m:t", NS).text)
            elif cell.get("t") == "b":
                columns[name].append(cell.find("m:v", NS).text == "1")
            else:
                columns[name].append(float(cell.find("m:v", NS).text))
    return pl.DataFrame(columns, strict=False)


def test_xlsx_data_sheet_carries_the_synthetic_warning_and_reads_back(view) -> None:
    frame, ctx = view
    data = to_xlsx(frame, ctx)
    notice, _ = _data_sheet_texts(data)
    assert SYNTHETIC_BANNER in notice and "Niet gebruiken" in notice
    back = _read_data_sheet(data)
    assert back.height == frame.height
    assert back["gemeente_code"].to_list() == frame["gemeente_code"].to_list()
    assert back["clienten"].to_list() == frame["clienten"].cast(pl.Float64).to_list()
    assert back["werkwijze_hbh"].null_count() == frame["werkwijze_hbh"].null_count()
    assert back["is_synthetisch"].all()
    # The hint that says how to read it sits in the toelichting sheet, in the file's language.
    assert "header=1" in _xlsx_parts(data)["xl/sharedStrings.xml"]


def test_xlsx_of_real_build_has_a_plain_notice_row(real_view) -> None:
    frame, ctx = real_view
    notice, header = _data_sheet_texts(to_xlsx(frame, ctx))
    assert notice.startswith("wmo-atlas: Hulp bij het huishouden") and "LET OP" not in notice
    assert header[0] == "gemeente_code"
    assert _read_data_sheet(to_xlsx(frame, ctx)).height == frame.height


# --- one date style -------------------------------------------------------------------------

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def test_dates_are_written_one_way_for_readers(view, english_view) -> None:
    for frame, ctx in (view, english_view):
        when = fmt.date_time(ctx.built_at[:16], ctx.lang)  # the build clock is UTC
        texts = _all_texts(frame, ctx)
        for name in ("csv", "readme"):
            assert f"{when} UTC" in texts[name], name
            assert not ISO_DATE.search(texts[name]), (name, ISO_DATE.search(texts[name]))
        assert fmt.date(ctx.built_at, ctx.lang) in ctx.citation
        assert not ISO_DATE.search(texts["xlsx"])
        assert ctx.built_at in texts["json"]  # machine field: ISO


# --- file names -----------------------------------------------------------------------------

def test_export_filename_carries_the_main_filters() -> None:
    name = export_filename("out.gemeente_periode", {
        "tabel": "out.gemeente_periode", "provincie": "Fryslân", "gemeenten": ["GM0080"],
        "periode": ["2024JJ00", "2023JJ00"], "voorziening": ["A019507"]}, True, "xlsx")
    assert name == ("wmo-atlas_out-gemeente-periode_fryslan_GM0080_2023JJ00-2024JJ00_A019507"
                    "_SYNTHETISCH.xlsx")
    many = export_filename("out.gemeente_periode", {
        "gemeenten": [f"GM{i:04d}" for i in range(12)], "jaar_van": "2019", "jaar_tot": "2021",
        "voorziening": ["A019507", "A019508", "A019509", "A019510"]}, False, "csv")
    assert many == "wmo-atlas_out-gemeente-periode_12-gemeenten_jaren-2019-2021_4-voorzieningen.csv"
    periods = [f"{y}JJ00" for y in range(2015, 2025)]
    assert "_10-perioden-2015JJ00-tot-2024JJ00_" in export_filename("t", {"periode": periods},
                                                                    True, "csv")
    assert export_filename("t", {"jaar_van": "2020"}, False, "csv") == "wmo-atlas_t_vanaf-2020.csv"
    assert export_filename("t", {"jaar_tot": "2020"}, False, "csv") == "wmo-atlas_t_tot-2020.csv"
    # Stable: the same choice in another order is the same name.
    assert export_filename("t", {"gemeenten": ["GM0002", "GM0001"]}, False, "csv") == \
        export_filename("t", {"gemeenten": ["GM0001", "GM0002"]}, False, "csv")


def test_export_filename_is_bounded_ascii_and_keeps_the_synthetic_mark() -> None:
    hostile = {"provincie": "../../etc/passwd <script>" * 5, "gemeenten": ["GM0001/..\\x"],
               "periode": ["2024JJ00 ; rm -rf"], "voorziening": ["é" * 50]}
    name = export_filename("Een heel lange titel " * 20, hostile, True, "csv")
    assert name.isascii() and len(name) <= exports.NAME_MAX
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", name), name
    assert name.endswith("_SYNTHETISCH.csv") and ".." not in name and "/" not in name
