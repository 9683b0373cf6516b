"""`wmo import cbs`: a CBS table in any form people hold it becomes the raw snapshot a fetch writes.

A researcher rarely has a fresh OData download; they have what StatLine, R's cbsodataR or
python's cbsodata wrote for them once. Every form that carries its own code lists is turned
into OData v3 pages (`v3/<Resource>/page-0001.json`, typed values, null for missing), so the
one v3 parse path reads it and the build cannot tell it from a fetch. The current StatLine CSV
holds titles instead of codes and goes through `import_statline_csv`, which finds the code
lists elsewhere. What the user delivered is kept byte for byte under `original/` (the parser
reads only `v3/`), and the sidecar names the form and every original file with its sha256.

Every check that can name an original file, line and column runs before anything is staged;
the real parser then validates the staged snapshot before it replaces the previous one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from etl.errors import FetchError, InputError, InputErrors, display_path
from etl.periods import normalise_status, parse_period
from etl.settings import Settings
from etl.snapshot import (
    CBS_LICENCE,
    CBS_PRODUCER,
    sha256_file,
    staged_folder,
    write_sidecar,
)
from etl.sources.cbs.parse import DIMENSION_TYPES, NULL_SYMBOLS, clean_title, load_cbs_snapshot
from etl.sources.cbs.statline_import import STATLINE_URL, import_statline_csv
from etl.sources.cbs.tables import TABLES, TableSpec, spec_for

Progress = Callable[[str], None]
Record = dict[str, Any]

# The import forms: name (in progress messages and `_source.json`) -> (label, what it is).
FORMS: dict[str, tuple[str, str]] = {
    "statline-csv-met": ('StatLine CSV "met statistische symbolen"',
                         "one .csv file of titles; the code lists come from the existing "
                         "snapshot or from CBS"),
    "statline-csv-zonder": ('StatLine CSV "zonder statistische symbolen"',
                            "one .csv file of titles; the code lists come from the existing "
                            "snapshot or from CBS"),
    "statline-onbewerkt": ('StatLine "onbewerkte dataset"',
                           "<id>_UntypedDataSet_<ddmmyyyy>_<hhmmss>.csv with <id>_metadata.csv "
                           "beside it, or the folder holding them; offline"),
    "cbsodataR": ("R cbsodataR download folder",
                  "cbs_download_table: data.csv, DataProperties.csv and one CSV per "
                  "dimension; offline"),
    "cbsodata": ("python cbsodata folder",
                 "get_data(table, dir=...): DataProperties.json, TypedDataSet.json or "
                 "UntypedDataSet.json and one JSON per dimension; offline"),
}

# A fetch writes Feed pages of 10 000 rows; the import cuts its pages the same way.
PAGE_ROWS = 10_000
V3_API = "https://opendata.cbs.nl/ODataApi/OData/{table_id}/$metadata#Cbs.OData.WebAPI.{name}"
V3_FEED = "https://opendata.cbs.nl/ODataFeed/OData/{table_id}/$metadata#Cbs.OData.WebAPI.{name}"
V3_FEED_DATA = "https://opendata.cbs.nl/ODataFeed/odata/{table_id}/TypedDataSet?$format=json&$skip={skip}"
ORIGINAL = "original"

TABLE_INFOS, DATA_PROPERTIES, CATEGORY_GROUPS = "TableInfos", "DataProperties", "CategoryGroups"
TYPED, UNTYPED = "TypedDataSet", "UntypedDataSet"

# CSV copies of v3 metadata lose the JSON types; these fields are numbers or booleans in v3.
INT_FIELDS = frozenset({"ID", "Position", "ParentID", "Decimals", "CategoryGroupID"})
BOOL_FIELDS = frozenset({"ReleasePolicy"})
TEXT_FIELDS = frozenset({"Title", "Description"})
WHOLE_DATATYPES = frozenset({"long", "integer", "int", "short", "byte"})
TEXT_DATATYPES = frozenset({"string", "char"})

_UNTYPED_NAME = re.compile(r"^(?P<id>[0-9A-Za-z]+)_(?:Untyped|Typed)DataSet_\d{8}_\d{6}\.csv$",
                           re.IGNORECASE)
_METADATA_NAME = re.compile(r"^(?P<id>[0-9A-Za-z]+)_metadata\.csv$", re.IGNORECASE)
# Text of an untyped value: decimal point, an R export may use exponent notation.
_NUMBER = r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$"
MAX_CELL_ERRORS = 50


@dataclass(frozen=True)
class Delivery:
    """What the user handed over: which form, and which of its files the import reads."""

    form: str
    data: Path                 # the data set file (or the StatLine CSV)
    metadata: tuple[Path, ...]  # the files with TableInfos, DataProperties and the code lists

    @property
    def files(self) -> list[Path]:
        return [*self.metadata, self.data]

    @property
    def label(self) -> str:
        return FORMS[self.form][0]


@dataclass(frozen=True)
class Resource:
    """One v3 metadata resource with, per record, where it stood in the original file."""

    name: str
    file: Path
    records: list[tuple[int | str, Record]]

    def values(self) -> list[Record]:
        return [record for _, record in self.records]


@dataclass(frozen=True)
class Converted:
    """A delivery in v3 shape, ready to be written."""

    metadata: dict[str, Resource]
    data: pl.DataFrame


# --------------------------------------------------------------------------- entry point


def import_cbs(
    path: Path,
    table_id: str,
    out_root: Path,
    settings: Settings,
    progress: Progress | None = None,
) -> Path:
    """Import `path` (a file or folder in one of FORMS) into `<out_root>/cbs/<ID>/`."""
    say = progress or (lambda _message: None)
    spec = _spec(table_id, path)
    delivery = detect_form(Path(path))
    # Staging creates <out>/cbs/; a failed first import must not leave it behind empty, or
    # `./dev run` takes the raw folder for a real download and no longer falls back to the demo.
    created = [p for p in (Path(out_root) / "cbs", Path(out_root)) if not p.exists()]
    try:
        return _import(delivery, spec, out_root, settings, say)
    except BaseException:
        for folder in created:
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise


def _import(delivery: Delivery, spec: TableSpec, out_root: Path, settings: Settings,
            say: Progress) -> Path:
    say(f"form: {delivery.label} ({', '.join(p.name for p in delivery.files)})")
    originals = {p.name: sha256_file(p) for p in delivery.files}
    if delivery.form.startswith("statline-csv"):
        return _import_statline(delivery, spec, out_root, settings, say, originals)

    converted = convert(delivery, spec)
    dest = Path(out_root) / "cbs" / spec.table_id
    with staged_folder(dest) as staged:
        write_v3(staged, spec.table_id, converted)
        (staged / ORIGINAL).mkdir()
        for file in delivery.files:
            shutil.copyfile(file, staged / ORIGINAL / file.name)
        info = converted.metadata[TABLE_INFOS].values()
        write_sidecar(staged, {
            "source_id": f"cbs-{spec.table_id}",
            "title": str((info[0] if info else {}).get("Title") or spec.title).strip(),
            "producer": CBS_PRODUCER,
            "url": STATLINE_URL.format(table_id=spec.table_id),
            "licence": CBS_LICENCE,
            "format": "odata-v3",
            "table_id": spec.table_id,
            "synthetic": False,
            "import_form": delivery.form,
            "original_files": originals,
        })
        say("checking the converted snapshot with the v3 parser")
        try:
            table = load_cbs_snapshot(staged, spec.measures)
        except InputErrors as exc:
            raise InputErrors([_blame_original(e, staged, delivery, converted)
                               for e in exc.errors]) from exc
        except InputError as exc:
            raise _blame_original(exc, staged, delivery, converted) from exc
        say(f"imported {table.observations.height} values ({delivery.label}, offline) into "
            f"{display_path(dest)}")
    return dest


def _blame_original(error: InputError, staged: Path, delivery: Delivery,
                    converted: Converted) -> InputError:
    """A problem the parser found in the staged pages, told about the file the user has: the
    staged folder is gone by the time the message is read."""
    prefix = display_path(staged) + "/"
    if not error.file.startswith(prefix):
        return error
    inner = error.file.removeprefix(prefix)
    parts = inner.split("/")
    resource = parts[1] if len(parts) > 1 else ""
    original = (converted.metadata[resource].file if resource in converted.metadata
                else delivery.data)
    where = f"{inner} {error.record}" if error.record is not None else inner
    return InputError(display_path(original), None, error.field,
                      f"{error.message} (found after conversion to OData v3, in {where})")


def _spec(table_id: str, path: Path) -> TableSpec:
    spec = spec_for(table_id)
    if spec is None:
        raise InputError(display_path(path), None, "table",
                         f"unknown CBS table {table_id!r}; known tables: "
                         f"{', '.join(sorted(TABLES))}")
    return spec


def _import_statline(delivery: Delivery, spec: TableSpec, out_root: Path, settings: Settings,
                     say: Progress, originals: dict[str, str]) -> Path:
    extra = {"import_form": delivery.form, "original_files": originals}
    try:
        return import_statline_csv(delivery.data, spec.table_id, out_root, settings,
                                   progress=say, extra=extra)
    except FetchError as exc:
        raise FetchError(
            f"{exc}. A StatLine CSV holds titles, not codes: its code lists (DataProperties and "
            f"the dimension lists of {spec.table_id}) are needed, there is no snapshot of "
            f"{spec.table_id} in {display_path(Path(out_root) / 'cbs')} to take them from, and "
            "CBS could not be reached. Run `wmo fetch cbs --table "
            f"{spec.table_id}` once online, or import a form that carries its own code lists "
            "(onbewerkte dataset, cbsodataR or cbsodata folder)") from exc


# --------------------------------------------------------------------------- detection


def accepted_forms() -> str:
    return "".join(f"\n  - {label}: {text}" for label, text in FORMS.values())


def _unrecognised(path: Path, what: str) -> InputError:
    return InputError(display_path(path), None, None,
                      f"{what}, so it is not a CBS table in a form `wmo import cbs` reads. "
                      f"Accepted forms:{accepted_forms()}")


def detect_form(path: Path) -> Delivery:
    """Which form `path` is; a file of a folder form stands for its folder."""
    if path.is_dir():
        return _detect_folder(path)
    if not path.is_file():
        raise InputError(display_path(path), None, None, "file or folder not found")
    name = path.name
    if _UNTYPED_NAME.match(name) or _METADATA_NAME.match(name):
        return _untyped_pair(path)
    if name in ("data.csv", "DataProperties.csv") or (
            path.suffix.lower() == ".csv" and (path.parent / "DataProperties.csv").is_file()
            and (path.parent / "data.csv").is_file()):
        return _detect_folder(path.parent)
    if path.suffix.lower() == ".json" and (path.parent / "DataProperties.json").is_file():
        return _detect_folder(path.parent)
    if path.suffix.lower() == ".csv":
        variant = statline_csv_variant(path)
        if variant:
            return Delivery(f"statline-csv-{variant}", path, ())
    raise _unrecognised(path, "this file has none of the known names or layouts")


def _detect_folder(folder: Path) -> Delivery:
    if (folder / "DataProperties.json").is_file():
        return _cbsodata(folder)
    if (folder / "DataProperties.csv").is_file():
        return _cbsodatar(folder)
    pairs = sorted(p for p in folder.iterdir() if p.is_file() and _UNTYPED_NAME.match(p.name))
    if len(pairs) == 1:
        return _untyped_pair(pairs[0])
    if len(pairs) > 1:
        raise InputError(display_path(folder), None, None,
                         "several onbewerkte datasets in one folder "
                         f"({', '.join(p.name for p in pairs)}); pass the one to import")
    raise _unrecognised(folder, "this folder holds no DataProperties.csv, no DataProperties.json "
                                "and no <id>_UntypedDataSet_<date>_<time>.csv")


def _beside(folder: Path, name: str) -> Path | None:
    """`name` in `folder`, ignoring case (`03759ned_metadata.csv` vs `03759NED_…`)."""
    for candidate in folder.iterdir():
        if candidate.is_file() and candidate.name.lower() == name.lower():
            return candidate
    return None


def _table_in_name(pattern: re.Pattern[str], name: str) -> str:
    match = pattern.match(name)
    return match["id"].lower() if match else ""


def _untyped_pair(path: Path) -> Delivery:
    folder = path.parent
    data_match = _UNTYPED_NAME.match(path.name)
    if data_match:
        table = data_match["id"]
        metadata = _beside(folder, f"{table}_metadata.csv")
        if metadata is None:
            raise InputError(display_path(path), None, None,
                             f"an onbewerkte dataset needs its metadata file beside it: "
                             f"{table}_metadata.csv is missing in "
                             f"{display_path(folder)} (download it from the same StatLine "
                             "page: it holds the code lists)")
        return Delivery("statline-onbewerkt", path, (metadata,))
    table = _table_in_name(_METADATA_NAME, path.name)
    data = sorted(p for p in folder.iterdir()
                  if p.is_file() and _table_in_name(_UNTYPED_NAME, p.name) == table.lower())
    if len(data) != 1:
        found = ", ".join(p.name for p in data) or "none"
        raise InputError(display_path(path), None, None,
                         f"a metadata file needs exactly one data file beside it "
                         f"({table}_UntypedDataSet_<ddmmyyyy>_<hhmmss>.csv); found {found}")
    return Delivery("statline-onbewerkt", data[0], (path,))


def _dimension_keys(records: Iterable[Record]) -> list[str]:
    return [str(r.get("Key") or "").strip() for r in records
            if str(r.get("Type") or "").strip() in DIMENSION_TYPES]


def _cbsodatar(folder: Path) -> Delivery:
    data = folder / "data.csv"
    if not data.is_file():
        raise InputError(display_path(folder), None, None,
                         "a cbsodataR folder (DataProperties.csv found) needs data.csv, the "
                         "data set that cbs_download_table writes; it is missing")
    props = folder / "DataProperties.csv"
    keys = _dimension_keys(r for _, r in _read_csv_records(props, ","))
    metadata = [props, *_optional(folder, [f"{TABLE_INFOS}.csv", f"{CATEGORY_GROUPS}.csv"])]
    return Delivery("cbsodataR", data, tuple(metadata + _lists(folder, props, keys, ".csv")))


def _cbsodata(folder: Path) -> Delivery:
    typed, untyped = folder / f"{TYPED}.json", folder / f"{UNTYPED}.json"
    data = typed if typed.is_file() else untyped
    if not data.is_file():
        raise InputError(display_path(folder), None, None,
                         "a cbsodata folder (DataProperties.json found) needs TypedDataSet.json "
                         "or UntypedDataSet.json; neither is there")
    props = folder / "DataProperties.json"
    keys = _dimension_keys(r for _, r in _json_records(props))
    metadata = [props, *_optional(folder, [f"{TABLE_INFOS}.json", f"{CATEGORY_GROUPS}.json"])]
    return Delivery("cbsodata", data, tuple(metadata + _lists(folder, props, keys, ".json")))


def _optional(folder: Path, names: list[str]) -> list[Path]:
    return [folder / n for n in names if (folder / n).is_file()]


def _lists(folder: Path, props: Path, keys: list[str], suffix: str) -> list[Path]:
    missing = [k for k in keys if not (folder / f"{k}{suffix}").is_file()]
    if missing:
        raise InputError(display_path(folder), None, missing[0],
                         f"{props.name} lists dimension {missing[0]}, but {missing[0]}{suffix} "
                         "(its code list) is not in the folder")
    return [folder / f"{k}{suffix}" for k in keys]


def statline_csv_variant(path: Path) -> str | None:
    """`met` or `zonder` for a current StatLine CSV, None for anything else.

    Both start with one header line of quoted titles separated by `;`. Only "met" quotes its
    numbers, right-aligned, and writes symbols; a file of whole numbers and empty cells only
    reads the same either way, and then "zonder" is as good a name as any.
    """
    try:
        text = path.read_bytes()[: 1 << 20].decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2 or ";" not in lines[0] or not lines[0].startswith('"'):
        return None
    if lines[0].startswith('"ID";'):
        return None  # keys, not titles: an onbewerkte dataset under another name
    symbols = "|".join(re.escape(s) for s in NULL_SYMBOLS)
    met = re.compile(rf'(^|;)" +(-?\d|{symbols})')
    return "met" if any(met.search(line) for line in lines[1:]) else "zonder"


# --------------------------------------------------------------------------- reading


def _decode(path: Path, *, fallback: str | None = None) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if fallback:
            # R on Windows writes its native code page; the titles are Dutch, cp1252 fits.
            with contextlib.suppress(UnicodeDecodeError):
                return raw.decode(fallback)
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(display_path(path), line, None,
                         "not UTF-8 text" + (f" (nor {fallback})" if fallback else "")) from exc


def _csv_rows(path: Path, separator: str, text: str) -> Iterable[tuple[int, list[str]]]:
    """(first physical line, fields) of every record; fields may hold line breaks."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, quotechar='"')
    previous = 0
    try:
        for fields in reader:
            yield previous + 1, fields
            previous = reader.line_num
    except csv.Error as exc:
        raise InputError(display_path(path), previous + 1, None,
                         f"not a readable CSV: {exc}") from exc


def _read_csv_records(path: Path, separator: str) -> list[tuple[int, Record]]:
    """A one-table CSV (cbsodataR metadata) as (line, record) with text values."""
    rows = [(line, fields) for line, fields in
            _csv_rows(path, separator, _decode(path, fallback="cp1252")) if fields]
    if not rows:
        raise InputError(display_path(path), 1, None, "the file is empty")
    header = [h.strip() for h in rows[0][1]]
    records = []
    for line, fields in rows[1:]:
        if len(fields) != len(header):
            raise InputError(display_path(path), line, None,
                             f"expected {len(header)} fields like the header, found {len(fields)}")
        records.append((line, dict(zip(header, fields, strict=True))))
    return records


def read_metadata_sections(path: Path) -> dict[str, list[tuple[int, Record]]]:
    """The sections of an onbewerkte-dataset `<id>_metadata.csv`.

    Each section is a one-field title line (`"Leeftijd"`), a header line, then the records;
    returns title -> [(line, record)], lines physical and 1-based.
    """
    file = display_path(path)
    sections: dict[str, list[tuple[int, Record]]] = {}
    current: str | None = None
    header: list[str] | None = None
    for line, fields in _csv_rows(path, ";", _decode(path)):
        if not fields or all(not f.strip() for f in fields):
            continue
        if current is not None and header is None:
            header = [f.strip() for f in fields]
            continue
        if len(fields) == 1:
            current, header = fields[0].strip(), None
            if current in sections:
                raise InputError(file, line, None, f"section {current!r} occurs twice")
            sections[current] = []
            continue
        if current is None or header is None:
            raise InputError(file, line, None,
                             'expected a section title line such as "TableInfos" first')
        if len(fields) != len(header):
            raise InputError(file, line, None,
                             f"expected {len(header)} fields like the header of section "
                             f"{current}, found {len(fields)}")
        sections[current].append((line, dict(zip(header, fields, strict=True))))
    return sections


def _json_records(path: Path) -> list[tuple[str, Record]]:
    """A cbsodata resource: a plain JSON list of objects, as (`[i]`, record)."""
    file = display_path(path)
    try:
        data = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise InputError(file, f"line {exc.lineno}", None,
                         f"invalid JSON ({exc.msg}); is the file truncated?") from exc
    except UnicodeDecodeError as exc:
        raise InputError(file, f"byte {exc.start}", None, "not UTF-8 text") from exc
    if isinstance(data, dict) and isinstance(data.get("value"), list):
        data = data["value"]  # an OData page saved by hand: the same records
    if not isinstance(data, list):
        raise InputError(file, None, None, "expected a JSON list of records, as cbsodata writes")
    for i, record in enumerate(data):
        if not isinstance(record, dict):
            raise InputError(file, f"[{i}]", None, "a record is not an object")
    return [(f"[{i}]", record) for i, record in enumerate(data)]


def _typed(path: Path, records: list[tuple[int, Record]]) -> list[tuple[int | str, Record]]:
    """CSV text back to the v3 JSON types (whole numbers, booleans, null for empty)."""
    out: list[tuple[int | str, Record]] = []
    for line, record in records:
        typed: Record = {}
        for name, value in record.items():
            text = value.strip()
            if name in TEXT_FIELDS:
                typed[name] = value
            elif not text:
                typed[name] = None
            elif name in INT_FIELDS:
                if not re.fullmatch(r"-?\d+", text):
                    raise InputError(display_path(path), line, name,
                                     f"{value!r} is not a whole number")
                typed[name] = int(text)
            elif name in BOOL_FIELDS:
                if text.lower() not in ("true", "false"):
                    raise InputError(display_path(path), line, name,
                                     f"{value!r} is not true or false")
                typed[name] = text.lower() == "true"
            else:
                typed[name] = value
        out.append((line, typed))
    return out


def _read_data_csv(path: Path, separator: str, fallback: str | None) -> tuple[pl.DataFrame, str]:
    """All cells as text plus a `_line` column (physical, header = 1)."""
    file = display_path(path)
    text = _decode(path, fallback=fallback)
    physical = pl.Series("text", text.splitlines(), dtype=pl.Utf8)
    numbered = physical.to_frame().with_row_index("_line", offset=1).filter(
        pl.col("text").str.strip_chars() != "")
    if numbered.height == 0:
        raise InputError(file, 1, None, "the file is empty")
    body = "\n".join(numbered["text"].to_list())
    try:
        frame = pl.read_csv(body.encode(), separator=separator, quote_char='"',
                            infer_schema=False, has_header=True)
    except pl.exceptions.PolarsError as exc:
        raise InputError(file, None, None, f"not a readable CSV: {exc}") from exc
    if frame.height != numbered.height - 1:
        # Data sets hold codes and numbers only, never a line break inside a field.
        raise InputError(file, None, None, "rows do not match lines (unbalanced quotes?)")
    lines = numbered["_line"].slice(1).cast(pl.Int64)
    return frame.with_columns(lines.alias("_line")), file


# --------------------------------------------------------------------------- converting


def convert(delivery: Delivery, spec: TableSpec) -> Converted:
    """Read a delivery and turn it into v3 resources; every problem names the original file."""
    if delivery.form == "statline-onbewerkt":
        metadata = _onbewerkt_metadata(delivery.metadata[0])
        frame, file = _read_data_csv(delivery.data, ";", None)
        where = "line"
    elif delivery.form == "cbsodataR":
        metadata = {
            p.stem: Resource(p.stem, p, _typed(p, _read_csv_records(p, ",")))
            for p in delivery.metadata
        }
        frame, file = _read_data_csv(delivery.data, ",", "cp1252")
        where = "line"
    elif delivery.form == "cbsodata":
        metadata = {p.stem: Resource(p.stem, p, list(_json_records(p)))
                    for p in delivery.metadata}
        frame, file = _json_data(delivery.data)
        where = "record"
    else:
        raise ValueError(f"not an offline form: {delivery.form}")
    _check_table_id(metadata, spec, delivery)
    props = metadata[DATA_PROPERTIES]
    _check_periods(metadata, props)
    data = _typed_data(frame, props, metadata, file, where)
    _check_measures(props, spec, data, file)
    return Converted(metadata, data)


def _onbewerkt_metadata(path: Path) -> dict[str, Resource]:
    sections = read_metadata_sections(path)
    if DATA_PROPERTIES not in sections:
        raise InputError(display_path(path), None, DATA_PROPERTIES,
                         'the section "DataProperties" is missing')
    out = {name: Resource(name, path, _typed(path, records))
           for name, records in sections.items()}
    keys = _dimension_keys(out[DATA_PROPERTIES].values())
    missing = [k for k in keys if k not in out]
    if missing:
        raise InputError(display_path(path), None, missing[0],
                         f"DataProperties lists dimension {missing[0]}, but there is no "
                         f'section "{missing[0]}" with its code list')
    return {name: out[name] for name in [TABLE_INFOS, DATA_PROPERTIES, CATEGORY_GROUPS, *keys]
            if name in out}


def _json_data(path: Path) -> tuple[pl.DataFrame, str]:
    records = [r for _, r in _json_records(path)]
    columns = list(dict.fromkeys(k for r in records for k in r))
    # Text first, so that every value is judged by the same rules whatever JSON type it had.
    frame = pl.DataFrame(
        {c: [None if r.get(c) is None else _json_text(r.get(c)) for r in records]
         for c in columns},
        schema={c: pl.Utf8 for c in columns},
    )
    return frame.with_row_index("_line").with_columns(pl.col("_line").cast(pl.Int64)), \
        display_path(path)


def _json_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"  # not a number: the check below names it
    return value if isinstance(value, str) else json.dumps(value)


def _check_table_id(metadata: dict[str, Resource], spec: TableSpec, delivery: Delivery) -> None:
    infos = metadata.get(TABLE_INFOS)
    if infos is None or not infos.records:
        return
    where, record = infos.records[0]
    identifier = str(record.get("Identifier") or "").strip()
    if identifier and identifier.upper() != spec.table_id:
        raise InputError(display_path(infos.file), where, "Identifier",
                         f"these files hold CBS table {identifier.upper()}, not "
                         f"{spec.table_id}: pass --table {identifier.upper()}")


def _check_periods(metadata: dict[str, Resource], props: Resource) -> None:
    """Period codes and statuses, checked here so that a bad one names its original line."""
    times = [str(r.get("Key") or "").strip() for r in props.values()
             if str(r.get("Type") or "").strip() == "TimeDimension"]
    if len(times) != 1:
        raise InputError(display_path(props.file), None, "Type",
                         f"expected exactly one TimeDimension, found {times or 'none'}")
    periods = metadata[times[0]]
    for where, record in periods.records:
        try:
            parse_period(str(record.get("Key") or ""))
        except ValueError as exc:
            raise InputError(display_path(periods.file), where, "Key", str(exc)) from exc
        if record.get("Status") is not None:
            try:
                normalise_status(str(record["Status"]))
            except ValueError as exc:
                raise InputError(display_path(periods.file), where, "Status", str(exc)) from exc


def _topics(props: Resource) -> dict[str, Record]:
    return {str(r.get("Key") or "").strip(): r for r in props.values()
            if str(r.get("Type") or "").strip() == "Topic"}


def _typed_data(frame: pl.DataFrame, props: Resource, metadata: dict[str, Resource],
                file: str, where: str) -> pl.DataFrame:
    """Text cells -> v3 TypedDataSet columns: keys as delivered, topics typed, null = missing."""
    dimensions = _dimension_keys(props.values())
    absent = [k for k in dimensions if k not in frame.columns]
    if absent:
        raise InputError(file, 1 if where == "line" else None, absent[0],
                         f"column for dimension {absent[0]} is missing; columns: "
                         f"{', '.join(c for c in frame.columns if c != '_line')}")
    errors: list[InputError] = []
    for key in dimensions:
        errors.extend(_unknown_codes(frame, key, metadata[key], file, where))
    topics = _topics(props)
    columns: list[pl.Expr] = []
    for name in frame.columns:
        if name == "_line":
            continue
        if name == "ID":
            columns.append(_whole(frame, name, file, where, errors))
        elif name in topics:
            columns.append(_topic(frame, name, topics[name], file, where, errors))
        else:
            columns.append(pl.col(name))
    if errors:
        raise InputErrors(errors[:MAX_CELL_ERRORS])
    return frame.select(columns)


def _unknown_codes(frame: pl.DataFrame, key: str, codes: Resource, file: str,
                   where: str) -> list[InputError]:
    known = pl.Series([str(r.get("Key") or "").strip() for r in codes.values()], dtype=pl.Utf8)
    bad = frame.filter(~pl.col(key).str.strip_chars().is_in(known.implode())
                       | pl.col(key).is_null()).head(MAX_CELL_ERRORS)
    return [InputError(file, _where(line, where), key,
                       "empty code" if code is None else
                       f"code {code.strip()!r} is not in the {key} list of "
                       f"{codes.file.name}")
            for line, code in bad.select("_line", key).iter_rows()]


def _where(line: int, where: str) -> int | str:
    return line if where == "line" else f"[{line}]"


def _whole(frame: pl.DataFrame, name: str, file: str, where: str,
           errors: list[InputError]) -> pl.Expr:
    text = pl.col(name).str.strip_chars()
    bad = frame.filter(text.is_not_null() & ~text.str.contains(r"^-?\d+$")).head(MAX_CELL_ERRORS)
    errors.extend(InputError(file, _where(line, where), name, f"{cell!r} is not a whole number")
                  for line, cell in bad.select("_line", name).iter_rows())
    return pl.when(text.str.contains(r"^-?\d+$")).then(text).cast(pl.Int64).alias(name)


def _topic(frame: pl.DataFrame, name: str, prop: Record, file: str, where: str,
           errors: list[InputError]) -> pl.Expr:
    """One topic column by its DataProperties Datatype and Decimals; symbols become null."""
    datatype = str(prop.get("Datatype") or "").strip().lower()
    if datatype in TEXT_DATATYPES:
        return pl.col(name)
    text = pl.col(name).str.strip_chars()
    missing = text.is_null() | (text == "") | text.is_in(list(NULL_SYMBOLS))
    number = pl.when(~missing & text.str.contains(_NUMBER)).then(text).cast(pl.Float64)
    whole = datatype in WHOLE_DATATYPES
    checked = frame.select(
        pl.col("_line"), pl.col(name),
        (~missing & (number.is_null() | (whole & (number != number.round(0))))).alias("_bad"),
    ).filter(pl.col("_bad")).head(MAX_CELL_ERRORS)
    expected = ("a whole number" if whole else "a number with a decimal point")
    errors.extend(
        InputError(file, _where(line, where), name,
                   f"{cell!r} is not a number and not a CBS symbol (expected {expected}, "
                   f"or one of {' '.join(NULL_SYMBOLS)} or an empty cell; DataProperties "
                   f"Datatype {prop.get('Datatype')!r})")
        for line, cell, _ in checked.iter_rows())
    if whole:
        return number.cast(pl.Int64).alias(name)
    decimals = prop.get("Decimals")
    if isinstance(decimals, int) and not isinstance(decimals, bool):
        return number.round(decimals).alias(name)
    return number.alias(name)


def _check_measures(props: Resource, spec: TableSpec, data: pl.DataFrame, file: str) -> None:
    """The measures the build reads must be columns of the data, not only in DataProperties."""
    topics = _topics(props)
    for slug, title in spec.measures.items():
        keys = [k for k, r in topics.items() if clean_title(str(r.get("Title") or ""))
                == clean_title(title)]
        if not keys:
            available = ", ".join(repr(str(r.get("Title") or "").strip())
                                  for r in topics.values()) or "none"
            raise InputError(display_path(props.file), None, "Title",
                             f"measure {title!r} ({slug}) of {spec.table_id} is not in "
                             f"DataProperties; measures there: {available}")
        if not any(k in data.columns for k in keys):
            raise InputError(file, None, keys[0],
                             f"the column of measure {title!r} is missing from the data set")


# --------------------------------------------------------------------------- writing


def write_v3(folder: Path, table_id: str, converted: Converted) -> None:
    """The resources as a fetch would have saved them: envelope, one page per 10 000 rows."""
    for name, resource in converted.metadata.items():
        _write_page(folder / "v3" / name / "page-0001.json",
                    V3_API.format(table_id=table_id, name=name),
                    json.dumps(resource.values(), ensure_ascii=False,
                               separators=(",", ":")).encode())
    data = converted.data
    for number, start in enumerate(range(0, max(data.height, 1), PAGE_ROWS), start=1):
        # Chained like Feed pages: the build refuses pages no next link leads to.
        following = start + PAGE_ROWS
        link = (V3_FEED_DATA.format(table_id=table_id, skip=following)
                if following < data.height else None)
        _write_page(folder / "v3" / TYPED / f"page-{number:04d}.json",
                    V3_FEED.format(table_id=table_id, name=TYPED),
                    data.slice(start, PAGE_ROWS).write_json().encode(), link)


def _write_page(path: Path, metadata_url: str, values: bytes,
                next_link: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    head = json.dumps({"odata.metadata": metadata_url}, ensure_ascii=False,
                      separators=(",", ":"))[:-1].encode()
    tail = b"" if next_link is None else b',"odata.nextLink":' + json.dumps(next_link).encode()
    path.write_bytes(head + b',"value":' + values + tail + b"}")
