"""Parse a raw CBS snapshot (OData v3, OData v4 or a StatLine CSV) into one normalised table.

All three formats end in the same `CbsTable`, so that a build does not care how a table was
obtained: v3 is a dense wide cube with padded keys, v4 a sparse long list with unrelated
measure codes, the CSV a flat export with titles instead of codes. Measures are always found by
their title, never by a v3 key suffix or a v4 code (CBS format reference
`cbs-open-data-format.md` §2.5, §5.3).

Data rows are handled with vectorised polars expressions only: a default build reads about
400 000 v3 rows and a full one several million. Every format is first read into a `CbsCube`
(one row per cell, codes as Enums, data pages compacted one at a time), because a long frame
with text keys for the 5 M cells of 85896NED takes gigabytes; `load_cbs_snapshot` unfolds the
cube into the long `CbsTable` that the smaller tables are transformed from.

Nothing is lost on the way: the pages of every paged resource must form the chain CBS
delivered (`pages.py`), no row is delivered twice, a v3 row carries every measure and no
measure is below zero.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from etl.errors import InputError, InputErrors, display_path
from etl.periods import STATUS_BY_MARKER, normalise_status, parse_period
from etl.snapshot import read_sidecar
from etl.sources.cbs.pages import (
    COUNT_KEYS,
    NEXT_LINK_KEYS,
    Page,
    chain_errors,
    envelope_count,
    envelope_link,
)

FORMATS = ("odata-v3", "odata-v4", "statline-csv")
DIMENSION_TYPES = frozenset({"Dimension", "GeoDimension", "GeoDetail", "TimeDimension"})
TIME_TYPE = "TimeDimension"
MAX_CELL_ERRORS = 50

# StatLine symbols in "CSV met statistische symbolen" (format doc §4). All become null:
# `.` and `x` are unknown/confidential. `-` means nil in *older* tables only, and nothing in the
# file says which legend applies, so it is read as null too: a missing figure is safer than an
# invented zero (the ETL rule is "missing is null, never 0").
NULL_SYMBOLS = (".", "x", "-")
_NUMBER_RE = r"^-?\d+(\.\d+)?$"
_JSON_BOOLEAN_RE = re.compile(rb":\s*(?:true|false)\b")

OBS_FIXED_SCHEMA = {
    "periode_code": pl.Utf8, "jaar": pl.Int32, "halfjaar": pl.Int8, "status": pl.Utf8,
    "measure": pl.Utf8, "value": pl.Float64,
}
PERIODS_SCHEMA = {
    "periode_code": pl.Utf8, "title": pl.Utf8, "jaar": pl.Int32, "halfjaar": pl.Int8,
    "status": pl.Utf8,
}
DIMENSION_SCHEMA = {"code": pl.Utf8, "title": pl.Utf8, "description": pl.Utf8}


@dataclass(frozen=True)
class CbsTable:
    table_id: str
    title: str
    fmt: str                                 # odata-v3 | odata-v4 | statline-csv
    dimensions: dict[str, pl.DataFrame]      # dimension key -> [code, title, description]
    periods: pl.DataFrame                    # [periode_code, title, jaar, halfjaar, status]
    # long: one column per non-time dimension key holding the stripped code, plus
    # periode_code, jaar (Int32), halfjaar (Int8, null for JJ00), status, measure (slug),
    # value (Float64, null = missing/suppressed)
    observations: pl.DataFrame


@dataclass(frozen=True)
class CbsCube:
    """The same table in compact wide form: one row per cell (v4 densified like v3).

    `cells` holds one Enum column per non-time dimension key (stripped codes), `periode_code`
    (Enum) and one Float64 column per measure slug (null = missing/suppressed). The Enum
    categories are the codes in sorted order and the rows are sorted by the key columns, so
    the order is the same as sorting the code texts.
    """

    table_id: str
    title: str
    fmt: str
    dimensions: dict[str, pl.DataFrame]      # dimension key -> [code, title, description]
    periods: pl.DataFrame                    # [periode_code, title, jaar, halfjaar, status]
    keys: list[str]                          # non-time dimension keys, in table order
    measures: list[str]                      # measure slugs, in the order asked for
    cells: pl.DataFrame


@dataclass(frozen=True)
class _Dimension:
    key: str
    title: str
    is_time: bool


@dataclass(frozen=True)
class _Measure:
    code: str          # v3 topic key, v4 measure code or CSV header
    title: str
    decimals: int | None = None


@dataclass(frozen=True)
class _Metadata:
    """What every format needs besides the data: dimensions, their lists, periods, measures."""

    table_id: str
    title: str
    dimensions: list[_Dimension]
    lists: dict[str, pl.DataFrame]      # non-time dimension key -> [code, title, description]
    periods: pl.DataFrame
    measures: list[_Measure]
    measures_file: Path                 # where the measures were listed, for error messages

    @property
    def time(self) -> _Dimension:
        return next(d for d in self.dimensions if d.is_time)

    @property
    def plain(self) -> list[_Dimension]:
        return [d for d in self.dimensions if not d.is_time]


# --------------------------------------------------------------------------- entry point


def load_cbs_snapshot(folder: Path, measures: dict[str, str]) -> CbsTable:
    """Read the snapshot in `folder`; `measures` maps a project slug to the measure title."""
    return cube_to_table(load_cbs_cube(folder, measures))


def load_cbs_cube(folder: Path, measures: dict[str, str]) -> CbsCube:
    """Like `load_cbs_snapshot`, but compact: for tables too big for the long text form."""
    if not measures:
        raise ValueError("measures must name at least one measure title")
    folder = Path(folder)
    fmt = detect_format(folder)
    if fmt == "odata-v3":
        return _load_v3(folder, measures)
    if fmt == "odata-v4":
        return _load_v4(folder, measures)
    return _load_csv(folder, measures)


def detect_format(folder: Path) -> str:
    """`format` from `_source.json`, else from the one subfolder present (csv/ wins: it
    always travels with its v3 metadata)."""
    sidecar = read_sidecar(folder)
    if sidecar and sidecar.get("format"):
        fmt = sidecar["format"]
        if fmt not in FORMATS:
            raise InputError(display_path(folder / "_source.json"), None, "format",
                             f"{fmt!r} is not a CBS format (expected one of {', '.join(FORMATS)})")
        return fmt
    present = [sub for sub in ("csv", "v4", "v3") if (folder / sub).is_dir()]
    if "csv" in present:
        return "statline-csv"
    if present == ["v4"]:
        return "odata-v4"
    if present == ["v3"]:
        return "odata-v3"
    raise InputError(display_path(folder), None, None,
                     "cannot tell the format: no _source.json `format` and not exactly one of "
                     f"v3/, v4/, csv/ (found: {', '.join(present) or 'none'})")


# --------------------------------------------------------------------------- titles


_WS_RE = re.compile(r"\s+")
_DIGIT_GROUP_RE = re.compile(r"(?<=\d) (?=\d{3}\b)")
_TRAILING_UNIT_RE = re.compile(r"\s*\([^()]*\)$")


def clean_title(text: str) -> str:
    """Case- and space-insensitive form of a title (CBS mixes NBSP and spaces in `1 000`, and
    writes `per 1000 inwoners` in 84580NED but `per 1 000 inwoners` elsewhere)."""
    return _DIGIT_GROUP_RE.sub("", _WS_RE.sub(" ", text)).strip().casefold()


def title_key(text: str) -> str:
    """`Group/Subgroup/Title (unit)` -> `title`: the form CSV headers and titles share."""
    text = _TRAILING_UNIT_RE.sub("", clean_title(text))
    return text.rsplit("/", 1)[-1].strip()


def resolve_measures(
    wanted: dict[str, str], available: Sequence[_Measure], file: str
) -> dict[str, _Measure]:
    """slug -> measure, by exact normalised title first, then ignoring unit and group prefix.

    Equality only: `Wmo-cliënten` must not pick `Wmo-cliënten per 1 000 inwoners`.
    """
    resolved: dict[str, _Measure] = {}
    for slug, title in wanted.items():
        matches = [m for m in available if clean_title(m.title) == clean_title(title)]
        if not matches:
            matches = [m for m in available if title_key(m.title) == title_key(title)]
        if len(matches) != 1:
            titles = ", ".join(repr(m.title) for m in (matches or available)) or "none"
            problem = "is ambiguous" if matches else "not found"
            raise InputError(file, None, "measure",
                             f"measure {title!r} ({slug}) {problem}; available measures: {titles}")
        resolved[slug] = matches[0]
    return resolved


# --------------------------------------------------------------------------- JSON resources


def _read_json(path: Path) -> Any:
    return _decode_json(path, _read_bytes(path))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(display_path(path), None, None, "file is missing") from exc


def _decode_json(path: Path, data: bytes) -> Any:
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise InputError(display_path(path), f"line {exc.lineno} column {exc.colno}", None,
                         f"invalid JSON ({exc.msg}); is the file truncated?") from exc
    except UnicodeDecodeError as exc:
        raise InputError(display_path(path), f"byte {exc.start}", None,
                         "not UTF-8 text") from exc


def _page_number(path: Path) -> tuple[int, str]:
    digits = path.stem.removeprefix("page-")
    return (int(digits), path.name) if digits.isdigit() else (1 << 30, path.name)


def resource_pages(root: Path, resource: str) -> list[Path]:
    """`<root>/<resource>/page-*.json` in page order."""
    pages = sorted((root / resource).glob("page-*.json"), key=_page_number)
    if not pages:
        raise InputError(display_path(root / resource), None, None,
                         f"resource {resource} is missing (no page-*.json)")
    return pages


def _page_values(path: Path) -> list[dict[str, Any]]:
    return _page_envelope(path, _read_json(path))["value"]


def _page_envelope(path: Path, page: Any) -> dict[str, Any]:
    if not isinstance(page, dict) or not isinstance(page.get("value"), list):
        raise InputError(display_path(path), None, "value",
                         "unexpected shape: expected an object with a `value` array")
    return page


def check_chain(pages: Sequence[Page]) -> None:
    """Raise every way the pages of one resource fail to form a complete chain."""
    errors = chain_errors(pages)
    if errors:
        raise InputErrors(errors)


def _records(root: Path, resource: str) -> list[tuple[Path, int, dict[str, Any]]]:
    """Every record of a small (metadata) resource with the page and index it came from."""
    out: list[tuple[Path, int, dict[str, Any]]] = []
    pages: list[Page] = []
    for path in resource_pages(root, resource):
        data = _read_bytes(path)
        envelope = _page_envelope(path, _decode_json(path, data))
        pages.append(Page(path, len(envelope["value"]), envelope_link(envelope),
                          envelope_count(envelope), hashlib.sha256(data).hexdigest()))
        for i, record in enumerate(envelope["value"]):
            if not isinstance(record, dict):
                raise InputError(display_path(path), f"{path.name} value[{i}]", None,
                                 "unexpected shape: a record is not an object")
            out.append((path, i, record))
    check_chain(pages)
    return out


def _field(path: Path, i: int, record: dict[str, Any], name: str) -> Any:
    if name not in record:
        raise InputError(display_path(path), f"{path.name} value[{i}]", name,
                         "unexpected shape: field is missing")
    return record[name]


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _dimension_frame(root: Path, resource: str, code_field: str) -> pl.DataFrame:
    rows = [
        (_text(_field(p, i, r, code_field)), _text(r.get("Title")), _text(r.get("Description")))
        for p, i, r in _records(root, resource)
    ]
    return pl.DataFrame(rows, schema=DIMENSION_SCHEMA, orient="row")


def _periods_frame(root: Path, resource: str, code_field: str) -> pl.DataFrame:
    """Decode the time dimension list; a code outside JJ/HJ/KW/MM is rejected loudly."""
    rows = []
    for path, i, record in _records(root, resource):
        code = _text(_field(path, i, record, code_field))
        where = (display_path(path), f"{path.name} value[{i}]")
        try:
            period = parse_period(code)
        except ValueError as exc:
            raise InputError(*where, code_field, f"unknown period code: {exc}") from exc
        # Some exports keep the StatLine stars in the title (`2024*`); they are not part of it.
        title, marker = _split_marker(_text(record.get("Title")))
        try:
            if "Status" in record:
                status = normalise_status(record["Status"])
            else:
                status = STATUS_BY_MARKER[marker]
        except ValueError as exc:
            raise InputError(*where, "Status", str(exc)) from exc
        rows.append((period.code, title, period.jaar, period.halfjaar, status))
    return pl.DataFrame(rows, schema=PERIODS_SCHEMA, orient="row")


def _split_marker(label: str) -> tuple[str, str]:
    """`1e halfjaar 2024**` -> (`1e halfjaar 2024`, `**`)."""
    stripped = label.rstrip("*")
    return stripped.strip(), label[len(stripped):]


# --------------------------------------------------------------------------- v3 metadata


def _v3_metadata(root: Path, folder: Path) -> _Metadata:
    """DataProperties, the dimension lists, TableInfos and Perioden of a v3 folder."""
    dimensions: list[_Dimension] = []
    topics: list[_Measure] = []
    for path, i, record in _records(root, "DataProperties"):
        kind = _text(record.get("Type"))
        if kind in DIMENSION_TYPES:
            key = _text(_field(path, i, record, "Key"))
            dimensions.append(_Dimension(key, _text(record.get("Title")), kind == TIME_TYPE))
        elif kind == "Topic":
            key = _text(_field(path, i, record, "Key"))
            topics.append(_Measure(key, _text(record.get("Title")), _decimals(record)))
    dp_file = resource_pages(root, "DataProperties")[0]
    _check_one_time_dimension(dimensions, dp_file)
    lists = {d.key: _dimension_frame(root, d.key, "Key") for d in dimensions if not d.is_time}
    time_key = next(d.key for d in dimensions if d.is_time)
    infos = _records(root, "TableInfos")
    info = infos[0][2] if infos else {}
    return _Metadata(
        table_id=_table_id(folder, info.get("Identifier")),
        title=_text(info.get("Title")),
        dimensions=dimensions,
        lists=lists,
        periods=_periods_frame(root, time_key, "Key"),
        measures=topics,
        measures_file=dp_file,
    )


def _decimals(record: dict[str, Any]) -> int | None:
    value = record.get("Decimals")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _check_one_time_dimension(dimensions: list[_Dimension], file: Path) -> None:
    times = [d.key for d in dimensions if d.is_time]
    if len(times) != 1:
        raise InputError(display_path(file), None, "Type",
                         f"expected exactly one time dimension, found {times or 'none'}")


def _table_id(folder: Path, identifier: Any) -> str:
    sidecar = read_sidecar(folder)
    sidecar_id = sidecar.get("table_id") if sidecar else None
    return str(sidecar_id or _text(identifier) or folder.name).upper()


# --------------------------------------------------------------------------- v3


def _load_v3(folder: Path, measures: dict[str, str]) -> CbsCube:
    root = folder / "v3"
    meta = _v3_metadata(root, folder)
    chosen = resolve_measures(measures, meta.measures, display_path(meta.measures_file))
    keys = [d.key for d in meta.dimensions]
    enums = {key: code_enum(values) for key, values in _codes(meta).items()}
    schema = {k: pl.Utf8 for k in keys} | {m.code: pl.Float64 for m in chosen.values()}
    # Each page is compacted before the next is read: the text keys of all pages together
    # would be most of the memory a full build needs.
    frames, pages = [], []
    for path in resource_pages(root, "TypedDataSet"):
        frame, page = _v3_page(path, schema, keys, enums, [m.code for m in chosen.values()])
        frames.append(frame.select(
            V3_ID, *keys, *[pl.col(m.code).alias(slug) for slug, m in chosen.items()]))
        pages.append(page)
    check_chain(pages)
    check_ids(frames, pages, V3_ID)
    cells = pl.concat([f.drop(V3_ID) for f in frames], how="vertical", rechunk=False)
    cube = _cube(meta, "odata-v3", list(chosen), cells)
    _check_unique_sorted(cube.cells, [*cube.keys, "periode_code"], root / "TypedDataSet")
    return cube


V3_ID, V4_ID = "ID", "Id"


def _v3_page(
    path: Path, schema: dict[str, pl.DataType], keys: list[str], enums: dict[str, pl.Enum],
    topics: list[str],
) -> tuple[pl.DataFrame, Page]:
    """One TypedDataSet page as a frame of Enum codes (stripped) and Float64 topic values."""
    # v3 is dense: every row carries every topic, null for an unknown value. A row without
    # the topic is a damaged page, not an unknown figure.
    # (A row without a dimension key is caught when its codes are encoded.)
    frame, page = read_data_page(path, schema, required=list(schema), every_row=topics,
                                 id_field=V3_ID)
    frame = frame.with_columns(pl.col(keys).str.strip_chars())
    where = partial(_record, path)
    _raise_negative(frame, topics, where)
    return _encode_codes(frame, keys, enums, where), page


def _record(path: Path, i: int) -> tuple[str, str]:
    return display_path(path), f"{path.name} value[{i}]"


def _raise_negative(frame: pl.DataFrame, columns: Sequence[str],
                    where: Callable[[int], tuple[str, str]]) -> None:
    """Every measure wmo-atlas reads is a count of people or a rate of one: CBS never
    publishes one below zero, so a negative value is a damaged or edited file."""
    for column in columns:
        negative = frame[column] < 0
        if negative.any():
            i = negative.arg_true()[0]
            raise InputError(*where(i), column,
                             f"{frame[column][i]:g} is below zero; CBS counts are never negative")


def read_data_page(
    path: Path, schema: dict[str, pl.DataType], required: Sequence[str],
    every_row: Sequence[str] = (), id_field: str | None = None,
) -> tuple[pl.DataFrame, Page]:
    """The `value` array of a data page (TypedDataSet, Observations) as a typed frame, and
    what the chain check needs of the page.

    polars parses the page in Rust (three times faster than `json.loads` + `from_dicts`);
    only when it refuses the page is the slow path run, to name the bad record and field.
    `required` columns must occur in the page, `every_row` ones in every row of it; the
    `id_field` (CBS's row number) is read when present, to find rows delivered twice.
    """
    data = _read_bytes(path)
    full = schema | ({id_field: pl.Int64} if id_field else {})
    envelope = {key: pl.Utf8 for key in (*NEXT_LINK_KEYS, *COUNT_KEYS)}
    try:
        top = pl.read_json(data, schema={"value": pl.List(pl.Struct(full))} | envelope)
    except pl.exceptions.PolarsError:
        top = None
    if top is None or top.height != 1 or top["value"].null_count():
        # A missing `value` reads as null; say which record or field is wrong.
        raise _explain_bad_page(path, full) or InputError(
            display_path(path), None, None, "the data page could not be read")
    if _JSON_BOOLEAN_RE.search(data):
        # polars would read a boolean in a value column as 1.0; booleans elsewhere are fine.
        problem = _explain_bad_page(path, full)
        if problem:
            raise problem
    frame = top["value"][0].struct.unnest()
    if frame.height:
        # A column absent from every row would silently read as null.
        missing = [name for name in required if f'"{name}"'.encode() not in data]
        if missing:
            raise InputError(display_path(path), f"{path.name} value[0]", missing[0],
                             "unexpected shape: column missing from the data set")
        # Counting the quoted name is a cheap test; only a page that fails it is walked.
        if any(data.count(f'"{name}"'.encode()) < frame.height for name in every_row):
            problem = _missing_field(path, every_row)
            if problem:
                raise problem
    head = top.select(list(envelope)).row(0, named=True)
    page = Page(path, frame.height, envelope_link(head), envelope_count(head),
                hashlib.sha256(data).hexdigest())
    return frame, page


def _missing_field(path: Path, fields: Sequence[str]) -> InputError | None:
    for i, row in enumerate(_page_values(path)):
        absent = [name for name in fields if isinstance(row, dict) and name not in row]
        if absent:
            return InputError(*_record(path, i), absent[0],
                              "field missing from this row (a data row carries every field; "
                              "null marks an unknown value)")
    return None


def _ids_increase(frames: Sequence[pl.DataFrame], id_field: str) -> bool:
    """True when the row numbers rise strictly page after page, as CBS delivers them: then no
    number occurs twice, known without hashing the 5 M numbers of a full build."""
    last: int | None = None
    for frame in frames:
        ids = frame[id_field]
        if ids.is_empty():
            continue
        if ids.null_count() or not bool((ids.diff().drop_nulls() > 0).all()):
            return False
        first = ids[0]
        if last is not None and first <= last:
            return False
        last = ids[-1]
    return True


def check_ids(frames: Sequence[pl.DataFrame], pages: Sequence[Page], id_field: str) -> None:
    """A row number CBS gave twice: pages that overlap (a page saved twice, or shifted)."""
    if all(id_field in f.columns for f in frames) and _ids_increase(frames, id_field):
        return
    # `_row` is the record's place in its page when the frame was filtered (v4).
    numbered = pl.concat([
        (f.select(pl.col(id_field).alias("id"), pl.col("_row").alias("row")) if "_row" in f.columns
         else f.select(pl.col(id_field).alias("id")).with_row_index("row"))
        .with_columns(pl.col("row").cast(pl.UInt32), pl.lit(n, pl.UInt32).alias("page"))
        for n, f in enumerate(frames)])
    repeated = numbered.filter(pl.col("id").is_not_null() & pl.col("id").is_duplicated())
    if not repeated.height:
        return
    first = repeated.group_by("id").agg(pl.col("page").first(), pl.col("row").first(),
                                        pl.col("page").last().alias("again_page"),
                                        pl.col("row").last().alias("again_row"))
    errors = [
        InputError(*_record(pages[again_page].path, again_row), id_field,
                   f"row {row_id} is delivered twice (also {pages[page].path.name} "
                   f"value[{row}]): overlapping pages")
        for row_id, page, row, again_page, again_row in
        first.sort("again_page", "again_row").head(MAX_CELL_ERRORS).iter_rows()
    ]
    raise InputErrors(errors)


def _explain_bad_page(path: Path, schema: dict[str, pl.DataType]) -> InputError | None:
    # Only reached for a suspicious page, so a slow scan is fine here.
    rows = _page_values(path)
    for i, row in enumerate(rows):
        where = (display_path(path), f"{path.name} value[{i}]")
        if not isinstance(row, dict):
            return InputError(*where, None, "unexpected shape: a row is not an object")
        for name, dtype in schema.items():
            value = row.get(name)
            if value is None:
                continue
            ok = isinstance(value, str) if dtype == pl.Utf8 else (
                isinstance(value, int | float) and not isinstance(value, bool))
            if not ok:
                expected = "a text code" if dtype == pl.Utf8 else "a number or null"
                return InputError(*where, name, f"expected {expected}, got {value!r}")
    return None


def _encode_codes(
    frame: pl.DataFrame, keys: list[str], enums: dict[str, pl.Enum],
    where: Callable[[int], tuple[str, str]],
) -> pl.DataFrame:
    """Code columns -> Enums; every row must name a known category in every dimension (the
    first offender is reported). A code outside the Enum becomes null, which finds it."""
    encoded = frame.with_columns(pl.col(k).cast(enums[k], strict=False) for k in keys)
    for key in keys:
        if not encoded[key].null_count():
            continue
        i = encoded[key].is_null().arg_true()[0]
        code = frame[key][i]
        message = ("dimension column is missing or null" if code is None
                   else f"code {code!r} is not in the {key} list")
        raise InputError(*where(i), key, message)
    return encoded


# --------------------------------------------------------------------------- v4


def _load_v4(folder: Path, measures: dict[str, str]) -> CbsCube:
    root = folder / "v4"
    meta = _v4_metadata(root, folder)
    chosen = resolve_measures(measures, meta.measures, display_path(meta.measures_file))
    keys = [d.key for d in meta.dimensions]
    enums = {key: code_enum(values) for key, values in _codes(meta).items()}
    slug_by_code = {m.code: slug for slug, m in chosen.items()}
    slugs = list(dict.fromkeys(slug_by_code.values()))
    frames, pages = [], []
    for path in resource_pages(root, "Observations"):
        frame, page = _v4_page(path, keys, enums, slug_by_code)
        frames.append(frame)
        pages.append(page)
    check_chain(pages)
    check_ids(frames, pages, V4_ID)
    observed = pl.concat(frames, how="vertical", rechunk=True).drop(V4_ID, "_row")
    _check_unique(observed, [*keys, "measure"], root / "Observations")
    cells = _densify(observed, keys, enums, slugs).with_columns(_round_by_decimals(chosen))
    return _cube(meta, "odata-v4", slugs, cells)


def _v4_metadata(root: Path, folder: Path) -> _Metadata:
    props_page = resource_pages(root, "Properties")[0]
    props = _read_json(props_page)
    if not isinstance(props, dict):
        raise InputError(display_path(props_page), None, None,
                         "unexpected shape: Properties is not an object")
    dimensions = []
    for path, i, record in _records(root, "Dimensions"):
        kind = _text(record.get("Kind"))
        if kind in DIMENSION_TYPES:
            key = _text(_field(path, i, record, "Identifier"))
            dimensions.append(_Dimension(key, _text(record.get("Title")), kind == TIME_TYPE))
    _check_one_time_dimension(dimensions, resource_pages(root, "Dimensions")[0])
    time_key = next(d.key for d in dimensions if d.is_time)
    measure_records = _records(root, "MeasureCodes")
    return _Metadata(
        table_id=_table_id(folder, props.get("Identifier")),
        title=_text(props.get("Title")),
        dimensions=dimensions,
        lists={d.key: _dimension_frame(root, f"{d.key}Codes", "Identifier")
               for d in dimensions if not d.is_time},
        periods=_periods_frame(root, f"{time_key}Codes", "Identifier"),
        measures=[_Measure(_text(_field(p, i, r, "Identifier")), _text(r.get("Title")),
                           _decimals(r)) for p, i, r in measure_records],
        measures_file=resource_pages(root, "MeasureCodes")[0],
    )


def _v4_page(
    path: Path, keys: list[str], enums: dict[str, pl.Enum], slug_by_code: dict[str, str]
) -> tuple[pl.DataFrame, Page]:
    schema: dict[str, pl.DataType] = {
        "Measure": pl.Utf8, "ValueAttribute": pl.Utf8, "Value": pl.Float64,
        **{k: pl.Utf8 for k in keys},
    }
    # Sparse: a cell CBS does not know is left out and stays unknown (null after densifying),
    # but a row that is there must say which cell it is.
    frame, page = read_data_page(path, schema, required=["Measure", "Value", *keys],
                                 every_row=["Measure"], id_field=V4_ID)
    # Keep the row position before filtering so that errors point at the right record.
    frame = frame.with_row_index("_row").filter(pl.col("Measure").is_in(list(slug_by_code)))

    def where(i: int) -> tuple[str, str]:
        return _record(path, frame["_row"][i])

    frame = _encode_codes(frame, keys, enums, where)
    # Any attribute other than "None" marks a cell without a usable value (format doc §5.3).
    usable = pl.col("ValueAttribute").is_null() | (pl.col("ValueAttribute") == "None")
    frame = frame.with_columns(pl.when(usable).then(pl.col("Value")).alias("value"))
    _raise_negative(frame, ["value"], where)
    slugs = pl.Enum(list(dict.fromkeys(slug_by_code.values())))
    return frame.select(
        V4_ID, "_row", *keys,
        pl.col("Measure").replace_strict(slug_by_code, return_dtype=slugs).alias("measure"),
        "value",
    ), page


def _check_unique_sorted(cells: pl.DataFrame, keys: list[str], resource: Path) -> None:
    """The same cell twice in a cube sorted by its keys: equal neighbours (linear, unlike a
    hash of every key combination on the 5 M cells of a full build)."""
    if cells.height < 2:
        return
    same = _equal_neighbours(cells, keys)
    if same.any():
        i = same.arg_true()[0]
        cell = ", ".join(f"{k}={cells[k][i]}" for k in keys)
        raise InputError(display_path(resource), None, None,
                         f"the same cell is delivered twice ({cell})")


def _equal_neighbours(cells: pl.DataFrame, keys: list[str]) -> pl.Series:
    """Row i equals row i-1 on every key. With Enum keys whose grid fits 64 bits this is one
    integer key compared with its neighbour (a fifth of the memory of comparing five shifted
    columns on a full build)."""
    if all(isinstance(cells.schema[k], pl.Enum) for k in keys):
        sizes = [len(cells.schema[k].categories) for k in keys]  # type: ignore[attr-defined]
        grid = math.prod(sizes)
        if grid < 2**64:
            dtype = pl.UInt32 if grid < 2**32 else pl.UInt64
            key = pl.lit(0, dtype)
            for column, size in zip(keys, sizes, strict=True):
                key = key * size + pl.col(column).to_physical().cast(dtype)
            # shift keeps the key's width; diff would widen it to Int64
            return cells.select(key.alias("k")).select(
                (pl.col("k") == pl.col("k").shift(1)).fill_null(False)).to_series()
    return cells.select(pl.all_horizontal(pl.col(k) == pl.col(k).shift(1) for k in keys)
                        .fill_null(False)).to_series()


def _check_unique(frame: pl.DataFrame, keys: list[str], resource: Path) -> None:
    dup = frame.filter(pl.struct(keys).is_duplicated())
    if dup.height:
        cell = ", ".join(f"{k}={dup[k][0]}" for k in keys)
        raise InputError(display_path(resource), None, None,
                         f"the same cell is delivered twice ({cell})")


def _densify(
    observed: pl.DataFrame, keys: list[str], enums: dict[str, pl.Enum], slugs: list[str]
) -> pl.DataFrame:
    """v4 leaves empty cells out; rebuild the full grid of the code lists so that the result
    matches the dense v3 cube (dissolved gemeenten keep their all-null rows)."""
    grid = pl.DataFrame()
    for key in keys:
        codes = pl.Series(key, enums[key].categories).cast(enums[key]).to_frame()
        grid = codes if not grid.width else grid.join(codes, how="cross")
    for slug in slugs:
        values = observed.filter(pl.col("measure") == slug).select(
            *keys, pl.col("value").alias(slug))
        grid = grid.join(values, on=keys, how="left", maintain_order="left")
    return grid


def _round_by_decimals(chosen: dict[str, _Measure]) -> list[pl.Expr]:
    # v4 delivers floats (125.0); rounding to the published decimals removes float noise.
    return [pl.col(slug).round(m.decimals) for slug, m in chosen.items()
            if m.decimals is not None]


# --------------------------------------------------------------------------- StatLine CSV


def _load_csv(folder: Path, measures: dict[str, str]) -> CbsTable:
    meta = _v3_metadata(folder / "v3", folder)
    path = _single_csv(folder / "csv")
    file = display_path(path)
    lines, raw = _read_statline_csv(path)
    dim_headers = _dimension_columns(meta.dimensions, raw.columns, file)
    candidates = [_Measure(h, h) for h in raw.columns if h not in dim_headers.values()]
    chosen = resolve_measures(measures, candidates, file)
    # Work on private column names: a header may equal a dimension key (`Perioden`).
    frame = raw.select(
        *[pl.col(h).alias(f"_dim_{key}") for key, h in dim_headers.items()],
        *[pl.col(m.code).alias(f"_measure_{slug}") for slug, m in chosen.items()],
    ).with_columns(lines.alias("_line"))

    errors: list[InputError] = []
    for dim in meta.plain:
        frame = _titles_to_codes(frame, dim.key, dim_headers[dim.key], meta.lists[dim.key],
                                 file, errors)
    time_key = meta.time.key
    frame, csv_status = _period_labels_to_codes(frame, time_key, dim_headers[time_key],
                                                meta.periods, file, errors)
    variant = _csv_variant(frame, [f"_measure_{slug}" for slug in chosen])
    for slug, measure in chosen.items():
        frame = _parse_numbers(frame, slug, measure.code, variant, file, errors)
    keys = [d.key for d in meta.dimensions]
    if not errors:
        errors.extend(_duplicate_rows(frame, keys, file))
    if errors:
        raise InputErrors(_capped(errors))
    codes = _codes(meta)
    cells = frame.select(*[pl.col(k).cast(code_enum(codes[k])) for k in keys], *chosen)
    return _cube(_with_periods(meta, csv_status), "statline-csv", list(chosen), cells)


def _single_csv(csv_dir: Path) -> Path:
    found = sorted(p for p in csv_dir.glob("*") if p.is_file() and p.suffix.lower() == ".csv")
    if len(found) != 1:
        raise InputError(display_path(csv_dir), None, None,
                         f"expected exactly one .csv file, found {len(found)}")
    return found[0]


def _read_statline_csv(path: Path) -> tuple[pl.Series, pl.DataFrame]:
    """All cells as text plus the 1-based line number of every data row.

    StatLine cells never contain line breaks, so a physical line is a record; blank lines
    (and the trailing newline) are skipped but still counted for the line numbers.
    """
    file = display_path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(file, line, None, "not UTF-8 text (StatLine CSVs are UTF-8)") from exc
    physical = pl.Series("text", text.splitlines(), dtype=pl.Utf8)
    numbered = physical.to_frame().with_row_index("line", offset=1).filter(
        pl.col("text").str.strip_chars() != "")
    if numbered.height == 0:
        raise InputError(file, 1, None, "the file is empty")
    # Fields per line: drop quoted parts (which may hold `;`), then count separators.
    width = numbered.select(
        pl.col("text").str.replace_all(r'"[^"]*"', "").str.count_matches(";") + 1
    ).to_series()
    header_width = width[0]
    ragged = numbered.filter(width != header_width)
    if ragged.height:
        raise InputError(file, int(ragged["line"][0]), None,
                         f"expected {header_width} fields like the header, found "
                         f"{width.filter(width != header_width)[0]}")
    body = "\n".join(numbered["text"].to_list())
    try:
        frame = pl.read_csv(body.encode(), separator=";", quote_char='"', infer_schema=False,
                            has_header=True)
    except pl.exceptions.PolarsError as exc:
        raise InputError(file, None, None, f"not a StatLine CSV: {exc}") from exc
    if frame.height != numbered.height - 1:
        raise InputError(file, None, None, "unbalanced quotes: rows do not match lines")
    duplicated = [h for h in frame.columns if "_duplicated_" in h]
    if duplicated:
        raise InputError(file, 1, duplicated[0].split("_duplicated_")[0], "duplicate column")
    lines = numbered["line"].slice(1).cast(pl.Int64)
    return lines, frame


def _dimension_columns(
    dimensions: list[_Dimension], headers: list[str], file: str
) -> dict[str, str]:
    """dimension key -> CSV header, matching the header against the dimension *title*."""
    by_title = {clean_title(h): h for h in headers}
    columns = {}
    for dim in dimensions:
        header = by_title.get(clean_title(dim.title))
        if header is None:
            raise InputError(file, 1, dim.title,
                             f"column for dimension {dim.key} ({dim.title!r}) is missing; "
                             f"headers: {', '.join(repr(h) for h in headers)}")
        columns[dim.key] = header
    return columns


def _normalised(expr: pl.Expr) -> pl.Expr:
    # clean_title for a whole column; both sides of every title lookup go through this.
    return expr.str.replace_all(r"\s+", " ").str.strip_chars().str.to_lowercase()


def _title_lookup(titles: pl.DataFrame, title_col: str, code_col: str) -> pl.DataFrame:
    """normalised title -> code; titles used by several codes map to null (ambiguous)."""
    return (
        titles.select(_normalised(pl.col(title_col)).alias("_title"), pl.col(code_col))
        .unique()
        .group_by("_title")
        .agg(pl.col(code_col).first(), pl.len().alias("_n"))
        .with_columns(pl.when(pl.col("_n") == 1).then(pl.col(code_col)).alias(code_col))
        .drop("_n")
    )


def _titles_to_codes(
    frame: pl.DataFrame, key: str, header: str, dim_list: pl.DataFrame, file: str,
    errors: list[InputError],
) -> pl.DataFrame:
    """Column `_dim_<key>` (category titles) -> column `<key>` (codes)."""
    source = f"_dim_{key}"
    lookup = _title_lookup(dim_list, "title", "code").rename({"code": key})
    frame = frame.with_columns(_normalised(pl.col(source)).alias("_title")).join(
        lookup, on="_title", how="left", maintain_order="left").drop("_title")
    bad = frame.filter(pl.col(key).is_null()).head(MAX_CELL_ERRORS)
    errors.extend(
        InputError(file, line, header,
                   f"{title!r} is not a title in the {key} list (or is not unique there)")
        for line, title in bad.select("_line", source).iter_rows()
    )
    return frame.drop(source)


def _period_labels_to_codes(
    frame: pl.DataFrame, key: str, header: str, periods: pl.DataFrame, file: str,
    errors: list[InputError],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`1e halfjaar 2024**` -> code 2024HJ01 via the Perioden titles, status from the stars.

    Returns the frame and [periode_code, status] for the periods the CSV contains.
    """
    source = f"_dim_{key}"
    lookup = _title_lookup(periods, "title", "periode_code").rename({"periode_code": key})
    label = pl.col(source).str.strip_chars()
    frame = frame.with_columns(
        _normalised(label.str.strip_chars_end("*")).alias("_title"),
        label.str.extract(r"(\*{0,2})$", 1).fill_null("").alias("_marker"),
    ).join(lookup, on="_title", how="left", maintain_order="left")
    bad = frame.filter(pl.col(key).is_null()).head(MAX_CELL_ERRORS)
    errors.extend(
        InputError(file, line, header, f"{text!r} is not a period title of this table")
        for line, text in bad.select("_line", source).iter_rows()
    )
    markers = (
        frame.filter(pl.col(key).is_not_null())
        .group_by(key).agg(pl.col("_marker").unique().sort(), pl.col("_line").min())
    )
    mixed = markers.filter(pl.col("_marker").list.len() > 1).sort("_line")
    errors.extend(
        InputError(file, line, header,
                   f"period {code} carries different status markers "
                   f"({', '.join(repr(m) for m in found)})")
        for code, found, line in mixed.select(key, "_marker", "_line").iter_rows()
    )
    status = markers.select(
        pl.col(key).alias("periode_code"),
        pl.col("_marker").list.first().replace_strict(STATUS_BY_MARKER, return_dtype=pl.Utf8)
        .alias("status"),
    )
    return frame.drop(source, "_title", "_marker"), status


def _with_periods(meta: _Metadata, csv_status: pl.DataFrame) -> _Metadata:
    """The CSV's own stars beat the status in the metadata beside it (it may be older)."""
    periods = meta.periods.join(csv_status, on="periode_code", how="left", suffix="_csv")
    periods = periods.with_columns(pl.coalesce("status_csv", "status").alias("status")).select(
        list(PERIODS_SCHEMA))
    return _Metadata(meta.table_id, meta.title, meta.dimensions, meta.lists, periods,
                     meta.measures, meta.measures_file)


def _csv_variant(frame: pl.DataFrame, columns: list[str]) -> str:
    """`met` (symbols, right-aligned, decimal point) or `zonder` (empty, decimal comma).

    Only a `met` file has padded cells, symbols or a decimal point; a file with none of these
    holds whole numbers and empty cells only, which both variants read the same way.
    """
    signals = [
        (pl.col(c).str.starts_with(" ")
         | pl.col(c).str.strip_chars().is_in(list(NULL_SYMBOLS))
         | pl.col(c).str.contains(".", literal=True)).any()
        for c in columns
    ]
    if not signals:
        return "zonder"
    return "met" if frame.select(pl.any_horizontal(signals)).item() else "zonder"


def _parse_numbers(
    frame: pl.DataFrame, slug: str, header: str, variant: str, file: str,
    errors: list[InputError],
) -> pl.DataFrame:
    """Column `_measure_<slug>` (cell text) -> column `<slug>` (Float64, null when missing)."""
    source = f"_measure_{slug}"
    text = pl.col(source).str.strip_chars()
    if variant == "met":
        missing = text.is_null() | (text == "") | text.is_in(list(NULL_SYMBOLS))
        number = text
    else:
        missing = text.is_null() | (text == "")
        number = text.str.replace(",", ".", literal=True)
    frame = frame.with_columns(
        pl.when(missing).then(None).otherwise(number).alias("_number")
    ).with_columns(
        # A strict pattern, not a failed cast: polars would happily read "nan" or "inf".
        (pl.col("_number").is_not_null() & ~pl.col("_number").str.contains(_NUMBER_RE))
        .alias("_bad")
    )
    bad = frame.filter(pl.col("_bad")).head(MAX_CELL_ERRORS)
    expected = ("a number with a decimal point or a symbol . x -" if variant == "met"
                else "a number with a decimal comma, or an empty field")
    errors.extend(
        InputError(file, line, header, f"{cell!r} is not a number (expected {expected})")
        for line, cell in bad.select("_line", source).iter_rows()
    )
    frame = frame.with_columns(
        pl.when(~pl.col("_bad")).then(pl.col("_number")).cast(pl.Float64).alias(slug)
    )
    # As in the JSON formats: a count below zero is a damaged or edited file, not a figure.
    negative = frame.filter(pl.col(slug) < 0).head(MAX_CELL_ERRORS)
    errors.extend(
        InputError(file, line, header, f"{cell.strip()!r} is below zero; CBS counts are never "
                                       "negative")
        for line, cell in negative.select("_line", source).iter_rows()
    )
    return frame.drop("_number", "_bad", source)


def _duplicate_rows(frame: pl.DataFrame, keys: list[str], file: str) -> list[InputError]:
    dup = frame.filter(pl.struct(keys).is_duplicated()).sort("_line").head(MAX_CELL_ERRORS)
    return [InputError(file, line, None, "the same cell combination occurs on another line")
            for line in dup["_line"]]


def _capped(errors: list[InputError]) -> list[InputError]:
    ordered = sorted(errors, key=lambda e: (e.record if isinstance(e.record, int) else 0))
    if len(ordered) <= MAX_CELL_ERRORS:
        return ordered
    shown = ordered[:MAX_CELL_ERRORS]
    rest = len(ordered) - MAX_CELL_ERRORS
    return [*shown, InputError(shown[0].file, None, None, f"… and at least {rest} more problems")]


# --------------------------------------------------------------------------- common tail


def _codes(meta: _Metadata) -> dict[str, pl.Series]:
    """dimension key -> its known codes (for the time dimension: the period codes)."""
    codes = {d.key: meta.lists[d.key]["code"] for d in meta.plain}
    codes[meta.time.key] = meta.periods["periode_code"]
    return codes


def code_enum(codes: pl.Series) -> pl.Enum:
    """An Enum over a code list, categories sorted: then sorting on it sorts the code texts."""
    return pl.Enum(codes.drop_nulls().unique().sort())


def _cube(meta: _Metadata, fmt: str, slugs: list[str], cells: pl.DataFrame) -> CbsCube:
    """Name the time column periode_code, fix the column order, sort deterministically."""
    plain = [d.key for d in meta.plain]
    cells = cells.rename({meta.time.key: "periode_code"}).select(
        *plain, "periode_code", *[pl.col(s).cast(pl.Float64) for s in slugs])
    return CbsCube(
        table_id=meta.table_id,
        title=meta.title,
        fmt=fmt,
        dimensions=meta.lists,
        periods=meta.periods,
        keys=plain,
        measures=slugs,
        cells=sort_by_codes(cells, [*plain, "periode_code"]),
    )


def sort_by_codes(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Sort by null-free Enum columns through one integer key made of their physical codes.

    polars sorts 5 M rows on five Enum columns ten times slower than on one such key, and the
    memory an arg_sort needs grows with the key's width: UInt32 whenever the grid fits.
    """
    sizes = [len(frame.schema[c].categories) for c in columns]  # type: ignore[attr-defined]
    grid = math.prod(sizes)
    if grid >= 2**64:
        return frame.sort(columns)
    dtype = pl.UInt32 if grid < 2**32 else pl.UInt64
    key = pl.lit(0, dtype)
    for column, size in zip(columns, sizes, strict=True):
        key = key * size + pl.col(column).to_physical().cast(dtype)
    return frame[frame.select(key.arg_sort()).to_series()]


def cube_to_table(cube: CbsCube) -> CbsTable:
    """The long form: one row per cell and measure, codes as text, period columns attached."""
    keys = [*cube.keys, "periode_code"]
    periode = cube.cells.schema["periode_code"]
    periods = cube.periods.select(pl.col("periode_code").cast(periode), "jaar", "halfjaar",
                                  "status")
    long = cube.cells.unpivot(index=keys, on=cube.measures, variable_name="measure",
                              value_name="value")
    observations = (
        sort_by_codes(long.with_columns(pl.col("measure").cast(pl.Enum(sorted(cube.measures)))),
                      [*keys, "measure"])
        .join(periods, on="periode_code", how="left", maintain_order="left")
        .select(*[pl.col(k).cast(pl.Utf8) for k in cube.keys],
                *[pl.col(name).cast(dtype) for name, dtype in OBS_FIXED_SCHEMA.items()])
    )
    return CbsTable(
        table_id=cube.table_id,
        title=cube.title,
        fmt=cube.fmt,
        dimensions=cube.dimensions,
        periods=cube.periods,
        observations=observations,
    )
