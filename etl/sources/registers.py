"""The hand-curated registers in data/raw/registers/: herindelingen, werkwijze and bezwaar.

Every reader returns the clean frame *and* every problem it found, so that `wmo validate` can
list all of them in one go. Rows with a field error are left out of the frame; problems between
rows (duplicates, conflicting intervals) are reported while the rows stay in, because the caller
refuses to build on a non-empty error list anyway.

We parse with the `csv` module rather than polars so that every value keeps its source line
number (quoted fields may span lines) and nothing is coerced before we have looked at it.
"""

from __future__ import annotations

import csv
import difflib
import heapq
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from etl.bron_type import BRON_TYPES, STERKE_BRON_TYPES
from etl.errors import InputError, display_path
from etl.gemeenten import HERINDELING_SCHEMA, gemeente_history
from etl.inputs import Inputs, Progress, bron_row, register_bron, verified_sidecar
from etl.metadata import SourceMeta
from etl.sources import Source, SourceContext

CODE_RE = re.compile(r"^GM\d{4}$")
PARTIAL_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
FULL_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
URL_RE = re.compile(r"^https?://[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+(?::\d+)?(?:[/?#]\S*)?$")
COUNT_RE = re.compile(r"^\d+$")
UTF8_BOM = b"\xef\xbb\xbf"

HERINDELING_TYPES = ("samenvoeging", "toevoeging", "splitsing", "naamswijziging")
WERKWIJZEN = ("resultaatgericht", "uren", "onbekend")
VOORZIENINGEN = ("huishoudelijke_ondersteuning", "begeleiding")
DOMEINEN = ("wmo", "wmo_huishoudelijke_ondersteuning", "sociaal_domein")
FIRST_BEZWAAR_YEAR = 2014
SHARE_TOLERANCE = 0.002
# The method "in force in a year" is the one on this day: mid-year, so a change on 1 January
# counts for its own year and a change late in the year for the next one.
REFERENCE_MONTH_DAY = (7, 1)

HERINDELING_COLUMNS = tuple(HERINDELING_SCHEMA)
WERKWIJZE_COLUMNS = ("gemeente_code", "gemeente_naam", "voorziening", "werkwijze",
                     "geldig_vanaf", "geldig_tot", "bron_url", "bron_type", "bron_omschrijving",
                     "peildatum")
OUTCOME_COLUMNS = ("gegrond", "deels_gegrond", "ongegrond", "niet_ontvankelijk", "ingetrokken")
COUNT_COLUMNS = ("bezwaren_ontvangen", "bezwaren_afgehandeld", *OUTCOME_COLUMNS, "beroep")
BEZWAAR_COLUMNS = ("gemeente_code", "gemeente_naam", "jaar", "domein", *COUNT_COLUMNS,
                   "bron_url", "bron_omschrijving", "peildatum")

WERKWIJZE_SCHEMA = {
    "gemeente_code": pl.Utf8, "voorziening": pl.Utf8, "werkwijze": pl.Utf8,
    "geldig_vanaf": pl.Date, "geldig_tot": pl.Date, "bron_url": pl.Utf8, "bron_type": pl.Utf8,
    "bron_omschrijving": pl.Utf8, "peildatum": pl.Utf8, "regel": pl.Int32,
    "ingang_effectief": pl.Date, "einde_effectief": pl.Date,
}
BEZWAAR_SCHEMA = {
    "gemeente_code": pl.Utf8, "jaar": pl.Int32, "domein": pl.Utf8,
    **{c: pl.Int64 for c in COUNT_COLUMNS},
    "bron_url": pl.Utf8, "bron_omschrijving": pl.Utf8, "peildatum": pl.Utf8, "regel": pl.Int32,
}
PER_JAAR_SCHEMA = {"gemeente_code": pl.Utf8, "jaar": pl.Int32, "werkwijze": pl.Utf8}


@dataclass(frozen=True)
class Record:
    """One data row of a register: its first source line and its cells by column name."""

    line: int
    cells: dict[str, str]


class _Row:
    """Collects the parsed values of one record and the errors found on the way."""

    def __init__(self, file: str, record: Record, errors: list[InputError]) -> None:
        self.file, self.record, self.errors = file, record, errors
        self.ok = True

    def fail(self, field: str, message: str) -> None:
        self.ok = False
        self.errors.append(InputError(self.file, self.record.line, field, message))

    def text(self, field: str, *, required: bool = True) -> str | None:
        value = self.record.cells[field]
        if value:
            return value
        if required:
            self.fail(field, "is empty")
        return None

    def choice(self, field: str, allowed: Iterable[str]) -> str | None:
        value = self.record.cells[field]
        allowed = tuple(allowed)
        if value in allowed:
            return value
        # An empty cell gets the list too: whoever fills it in needs the choices either way.
        problem = "is empty" if not value else f"unknown value {value!r}"
        self.fail(field, f"{problem}; allowed: {', '.join(allowed)}")
        return None

    def code(self, field: str = "gemeente_code") -> str | None:
        value = self.text(field)
        if value is not None and not CODE_RE.match(value):
            self.fail(field, f"{value!r} is not a CBS gemeente code (GM followed by 4 digits)")
            return None
        return value

    def partial_date(self, field: str, *, required: bool = False) -> date | None:
        value = self.text(field, required=required)
        if value is None:
            return None
        parsed = parse_partial_date(value)
        if parsed is None:
            self.fail(field, f"{value!r} is not a date (write YYYY, YYYY-MM or YYYY-MM-DD)")
        return parsed

    def full_date(self, field: str) -> date | None:
        value = self.text(field)
        if value is None:
            return None
        parsed = parse_partial_date(value) if FULL_DATE_RE.match(value) else None
        if parsed is None:
            self.fail(field, f"{value!r} is not a date (write YYYY-MM-DD)")
        return parsed

    def url(self, field: str, *, required: bool = False) -> str | None:
        value = self.text(field, required=required)
        if value is not None and not URL_RE.match(value):
            self.fail(field, f"{value!r} is not a web address (expected http(s)://host/…)")
            return None
        return value

    def count(self, field: str) -> int | None:
        value = self.text(field, required=False)
        if value is None:
            return None
        if COUNT_RE.match(value):
            return int(value)
        what = "negative" if re.match(r"^-\d+$", value) else "not a whole number"
        self.fail(field, f"{value!r} is {what}; counts are whole numbers ≥ 0 (empty = unknown)")
        return None


# ---------------------------------------------------------------- dates, intervals, URLs


def parse_partial_date(text: str) -> date | None:
    """YYYY, YYYY-MM or YYYY-MM-DD -> the first day of that period; None if malformed."""
    m = PARTIAL_DATE_RE.match(text.strip())
    if not m:
        return None
    year, month, day = int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def year_before(d: date) -> date:
    """The same day one year earlier (29 February falls back to the 28th)."""
    try:
        return d.replace(year=d.year - 1)
    except ValueError:
        return d.replace(year=d.year - 1, day=28)


def effective_interval(geldig_vanaf: date | None, geldig_tot: date | None,
                       peildatum: date | None) -> tuple[date | None, date | None]:
    """[start, end) a werkwijze row stands for; start None = undated row, end None = open.

    Without geldig_vanaf a source only vouches for the state on its own date. A row with a
    geldig_tot describes the state *before* a change the source reports, so it also stands
    for the year leading up to that change (a letter of September announcing a switch in
    October vouches for the months before it, not only for its own date).
    """
    if geldig_vanaf is not None:
        return geldig_vanaf, geldig_tot
    if geldig_tot is not None:
        before = year_before(geldig_tot)
        return (before if peildatum is None else min(before, peildatum)), geldig_tot
    return peildatum, geldig_tot


def _overlaps(a_start: date | None, a_end: date | None,
              b_start: date | None, b_end: date | None) -> bool:
    """Half-open intervals, None = unbounded on that side."""
    return ((a_end is None or b_start is None or b_start < a_end)
            and (b_end is None or a_start is None or a_start < b_end))


def _fmt_interval(start: date | None, end: date | None) -> str:
    return f"[{start or '…'}, {end or 'open'})"


# ---------------------------------------------------------------- reading the CSV text


def read_records(path: Path, columns: tuple[str, ...]) -> tuple[list[Record], list[InputError]]:
    """Decode and split a register CSV; header problems stop here (rows are then unreadable)."""
    name = display_path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [], [InputError(name, None, None, f"cannot read file: {exc.strerror or exc}")]
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]  # Excel writes one; harmless
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [_encoding_error(name, data, exc)]
    if not text.strip():
        return [], [InputError(name, 1, None, "file is empty; expected a header line")]

    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader)]
    errors = _header_errors(name, header, columns)
    if errors:
        return [], errors

    records: list[Record] = []
    previous_end = reader.line_num
    try:
        for raw in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in raw):
                continue
            if len(raw) != len(header):
                errors.append(InputError(name, line, None,
                                         f"{len(raw)} fields where the header has {len(header)} "
                                         "(a comma inside a value needs double quotes; "
                                         "a quote must be closed)"))
                continue
            cells = {col: cell.strip() for col, cell in zip(header, raw, strict=True)}
            records.append(Record(line, cells))
    except csv.Error as exc:  # e.g. a field beyond the csv module's size limit
        errors.append(InputError(name, previous_end + 1, None, f"unreadable CSV: {exc}"))
    return records, errors


def _encoding_error(name: str, data: bytes, exc: UnicodeDecodeError) -> InputError:
    line_start = data.rfind(b"\n", 0, exc.start) + 1
    line = data.count(b"\n", 0, exc.start) + 1
    field = "header"
    if line > 1:
        header = next(csv.reader([data[:data.find(b"\n")].decode("utf-8", "replace")]), [])
        before = data[line_start:exc.start].decode("utf-8", "replace")
        index = len(next(csv.reader([before]), [""])) - 1 if before else 0
        field = header[index].strip() if index < len(header) else "header"
    bad_lines = sum(1 for raw in data.split(b"\n") if not _is_utf8(raw))
    more = f" ({bad_lines} lines affected)" if bad_lines > 1 else ""
    return InputError(
        name, line, field,
        f"byte 0x{data[exc.start]:02x} is not UTF-8{more}; the file looks like Windows-1252 "
        "(Excel's 'CSV' export): save it as 'CSV UTF-8' and try again",
    )


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _header_errors(name: str, header: list[str], columns: tuple[str, ...]) -> list[InputError]:
    if len(header) == 1 and ";" in header[0]:
        return [InputError(name, 1, "header",
                           "the header is one column containing ';': the file uses ';' as "
                           "delimiter (Dutch Excel); registers are comma-separated, save as "
                           "'CSV UTF-8 (comma delimited)'")]
    errors: list[InputError] = []
    unexpected = [h for h in header if h not in columns]
    explained: set[str] = set()
    for column in columns:
        if column in header:
            continue
        close = difflib.get_close_matches(column, unexpected, n=1, cutoff=0.6)
        hint = ""
        if close:
            hint = f"; found {close[0]!r} — misspelled?"
            explained.add(close[0])
        errors.append(InputError(name, 1, column, f"missing column {column!r}{hint}"))
    errors += [InputError(name, 1, h or "header",
                          f"unexpected column {h!r}; expected: {', '.join(columns)}")
               for h in unexpected if h not in explained]
    dupes = sorted({h for h in header if header.count(h) > 1})
    errors += [InputError(name, 1, h, f"column {h!r} appears twice") for h in dupes]
    return errors


# ---------------------------------------------------------------- checks against core.gemeente


def _validity(gemeente: pl.DataFrame | None
              ) -> dict[str, tuple[date | None, date | None]] | None:
    if gemeente is None:
        return None
    return {r["gemeente_code"]: (r["geldig_vanaf"], r["geldig_tot"])
            for r in gemeente.select("gemeente_code", "geldig_vanaf", "geldig_tot")
            .iter_rows(named=True)}


def _check_code_period(row: _Row, code: str, start: date | None, end: date | None,
                       validity: dict[str, tuple[date | None, date | None]] | None,
                       period: str) -> None:
    """Unknown code, or a code that did not exist at any moment of the row's period.

    Without a gemeente list (no boundaries) only the code's form has been checked."""
    if validity is None:
        return
    if code not in validity:
        row.fail("gemeente_code", f"unknown gemeente code {code} (not in the gemeente list, "
                                  "current or dissolved since 2015)")
        return
    vanaf, tot = validity[code]
    if start is not None and not _overlaps(start, end, vanaf, tot):
        row.fail("gemeente_code", f"{code} existed {_fmt_interval(vanaf, tot)}, which does not "
                                  f"meet {period} {_fmt_interval(start, end)}; use the code "
                                  "valid then (see herindelingen.csv)")


def _duplicates(name: str, keyed: Iterable[tuple[int, tuple[object, ...]]], field: str,
                what: str) -> list[InputError]:
    first: dict[tuple[object, ...], int] = {}
    errors = []
    for line, key in keyed:
        if key in first:
            errors.append(InputError(name, line, field,
                                     f"duplicate of line {first[key]} (same {what})"))
        else:
            first[key] = line
    return errors


# ---------------------------------------------------------------- herindelingen


def read_herindelingen(path: Path) -> tuple[pl.DataFrame, list[InputError]]:
    """herindelingen.csv -> frame with HERINDELING_SCHEMA, plus every problem found."""
    name = display_path(path)
    records, errors = read_records(path, HERINDELING_COLUMNS)
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    for record in records:
        row = _Row(name, record, errors)
        values = {
            "datum_ingang": row.full_date("datum_ingang"),
            "oude_code": row.code("oude_code"),
            "oude_naam": row.text("oude_naam"),
            "nieuwe_code": row.code("nieuwe_code"),
            "nieuwe_naam": row.text("nieuwe_naam"),
            "type": row.choice("type", HERINDELING_TYPES),
            "aandeel": _share(row),
            "bron": row.url("bron", required=True),
        }
        if values["oude_code"] and values["oude_code"] == values["nieuwe_code"]:
            row.fail("nieuwe_code", "equals oude_code (identity pairs are not listed)")
        if row.ok:
            rows.append(values)
            lines.append(record.line)
    errors += _duplicates(name, ((ln, (r["datum_ingang"], r["oude_code"], r["nieuwe_code"]))
                                 for ln, r in zip(lines, rows, strict=True)),
                          "oude_code", "datum_ingang, oude_code and nieuwe_code")
    errors += _share_sum_errors(name, lines, rows)
    if not records and not errors:
        # Every build since 2015 needs the mergers: an empty list would silently map
        # dissolved gemeenten to nothing.
        errors.append(InputError(name, 2, None, "has a header but no rows; the herindelingen "
                                                "since 2015 are required"))
    frame = pl.DataFrame(rows, schema=HERINDELING_SCHEMA, orient="row")
    return frame, errors


def herindeling_codes(path: Path) -> set[str]:
    """Every well-formed gemeente code the register names, in sound rows or broken ones."""
    records, _ = read_records(path, HERINDELING_COLUMNS)
    return {r.cells[column] for r in records for column in ("oude_code", "nieuwe_code")
            if CODE_RE.match(r.cells[column])}


def _share(row: _Row) -> float | None:
    value = row.text("aandeel")
    if value is None:
        return None
    try:
        share = float(value)
    except ValueError:
        row.fail("aandeel", f"{value!r} is not a number (write e.g. 1.0 or 0.35)")
        return None
    if not 0 < share <= 1:
        row.fail("aandeel", f"{value} is outside (0, 1]")
        return None
    return share


def _share_sum_errors(name: str, lines: list[int],
                      rows: list[dict[str, Any]]) -> list[InputError]:
    totals: dict[object, tuple[int, float]] = {}
    for line, r in zip(lines, rows, strict=True):
        first, total = totals.get(r["oude_code"], (line, 0.0))
        totals[r["oude_code"]] = (first, total + float(r["aandeel"]))
    return [InputError(name, line, "aandeel",
                       f"shares of {code} add up to {total:.3f}, not 1 (±{SHARE_TOLERANCE})")
            for code, (line, total) in totals.items() if abs(total - 1) > SHARE_TOLERANCE]


# ---------------------------------------------------------------- werkwijze


def read_werkwijze(path: Path, gemeente: pl.DataFrame | None
                   ) -> tuple[pl.DataFrame, list[InputError]]:
    """werkwijze.csv -> WERKWIJZE_SCHEMA frame (with effective interval), plus every problem.

    `gemeente` is core.gemeente (gemeente_history): codes are checked against it; None
    checks every field but not whether the codes existed.
    """
    name = display_path(path)
    records, errors = read_records(path, WERKWIJZE_COLUMNS)
    validity = _validity(gemeente)
    rows: list[dict[str, Any]] = []
    for record in records:
        row = _Row(name, record, errors)
        values = _werkwijze_values(row)
        if values["gemeente_code"] is not None:
            _check_code_period(row, values["gemeente_code"], values["ingang_effectief"],
                               values["einde_effectief"], validity,
                               "the row's effective interval")
        if row.ok:
            rows.append(values)
    errors += _duplicates(
        name,
        ((r["regel"], tuple(r[k] for k in ("gemeente_code", "voorziening", "werkwijze",
                                            "geldig_vanaf", "geldig_tot", "bron_url")))
         for r in rows),
        "gemeente_code", "gemeente, voorziening, werkwijze, geldig_vanaf, geldig_tot, bron_url")
    errors += _conflict_errors(name, rows)
    errors += _bron_type_consistency_errors(name, rows)
    frame = pl.DataFrame(rows, schema=WERKWIJZE_SCHEMA, orient="row")
    return frame, errors


def _werkwijze_values(row: _Row) -> dict[str, Any]:
    vanaf = row.partial_date("geldig_vanaf")
    tot = row.partial_date("geldig_tot")
    peildatum = row.text("peildatum", required=False)
    peil = row.partial_date("peildatum")
    dates_ok = row.ok
    if vanaf is not None and tot is not None and tot <= vanaf:
        dates_ok = False
        row.fail("geldig_tot", f"{tot} is not after geldig_vanaf {vanaf} (geldig_tot is the "
                               "first day the method no longer applied)")
    start, end = effective_interval(vanaf, tot, peil) if dates_ok else (None, None)
    return {
        "gemeente_code": row.code(),
        "voorziening": row.choice("voorziening", VOORZIENINGEN),
        "werkwijze": row.choice("werkwijze", WERKWIJZEN),
        "geldig_vanaf": vanaf, "geldig_tot": tot,
        "bron_url": row.url("bron_url"),
        "bron_type": row.choice("bron_type", BRON_TYPES),
        "bron_omschrijving": row.text("bron_omschrijving"),
        "peildatum": peildatum,
        "regel": row.record.line,
        "ingang_effectief": start, "einde_effectief": end,
    }


def _conflict_errors(name: str, rows: list[dict[str, Any]]) -> list[InputError]:
    """Different methods claimed for the same moment; agreeing overlaps corroborate.

    One error per conflicting pair, on the row that comes later in the file. A sweep over
    each gemeente and voorziening sorted by start keeps, per method, only the rows still in
    force: every one of them of another method overlaps the row at hand, so the work is
    n log n plus the conflicts reported, where comparing all pairs took minutes for a
    register of 200 000 rows.
    """
    dated = [r for r in rows if r["werkwijze"] != "onbekend" and r["ingang_effectief"]]
    subjects: dict[tuple[str, str], list[int]] = {}
    for index, r in enumerate(dated):
        subjects.setdefault((r["gemeente_code"], r["voorziening"]), []).append(index)
    pairs = sorted(pair for indices in subjects.values()
                   for pair in _overlapping_pairs(dated, indices))
    return [_conflict_error(name, dated[later], dated[earlier]) for later, earlier in pairs]


def _overlapping_pairs(dated: list[dict[str, Any]],
                       indices: list[int]) -> Iterable[tuple[int, int]]:
    """(later, earlier) file positions of rows of one subject whose methods differ and whose
    effective intervals overlap."""
    in_force: dict[str, list[tuple[date, int]]] = {}   # method -> heap of (end, position)
    for index in sorted(indices, key=lambda i: dated[i]["ingang_effectief"]):
        row = dated[index]
        start = row["ingang_effectief"]
        for method, heap in in_force.items():
            while heap and heap[0][0] <= start:
                heapq.heappop(heap)  # ended before this row starts: no later row meets it
            if method != row["werkwijze"]:
                yield from ((max(index, other), min(index, other)) for _, other in heap)
        end = row["einde_effectief"] or date.max
        heapq.heappush(in_force.setdefault(row["werkwijze"], []), (end, index))


def _conflict_error(name: str, later: dict[str, Any], earlier: dict[str, Any]) -> InputError:
    a = (earlier["ingang_effectief"], earlier["einde_effectief"])
    b = (later["ingang_effectief"], later["einde_effectief"])
    return InputError(
        name, later["regel"], "werkwijze",
        f"{later['werkwijze']} {_fmt_interval(*b)} conflicts with "
        f"{earlier['werkwijze']} {_fmt_interval(*a)} on line {earlier['regel']}; "
        "set geldig_tot/geldig_vanaf where the method changed")


def _bron_type_consistency_errors(name: str, rows: list[dict[str, Any]]) -> list[InputError]:
    """One source is one kind of source: the same bron_url with two bron_types is a slip."""
    first: dict[str, tuple[int, str]] = {}
    errors = []
    for r in rows:
        if r["bron_url"] is None:
            continue  # letters without a URL cannot be matched to each other
        line, kind = first.setdefault(r["bron_url"], (r["regel"], r["bron_type"]))
        if kind != r["bron_type"]:
            errors.append(InputError(
                name, r["regel"], "bron_type",
                f"{r['bron_type']!r} but line {line} gives {kind!r} for the same bron_url"))
    return errors


def sterke_bronnen(werkwijze: pl.DataFrame) -> pl.DataFrame:
    """The register rows whose source is a court ruling or a regulation (STERKE_BRON_TYPES)."""
    return werkwijze.filter(pl.col("bron_type").is_in(STERKE_BRON_TYPES))


def werkwijze_per_jaar(werkwijze: pl.DataFrame, voorziening: str,
                       jaren: list[int]) -> pl.DataFrame:
    """[gemeente_code, jaar, werkwijze]: the method in force on 1 July of each year.

    Only documented years get a row: no row for a year no source covers, for 'onbekend', or
    for a (reported) conflict between sources — the dashboard must show those as unknown.
    """
    days = pl.DataFrame({"jaar": jaren}, schema={"jaar": pl.Int32}).with_columns(
        pl.date(pl.col("jaar"), *REFERENCE_MONTH_DAY).alias("_dag"))
    rows = werkwijze.filter(
        (pl.col("voorziening") == voorziening) & (pl.col("werkwijze") != "onbekend")
        & pl.col("ingang_effectief").is_not_null()
    ).select("gemeente_code", "werkwijze", "ingang_effectief", "einde_effectief")
    in_force = rows.join(days, how="cross").filter(
        (pl.col("ingang_effectief") <= pl.col("_dag"))
        & (pl.col("einde_effectief").is_null() | (pl.col("einde_effectief") > pl.col("_dag")))
    )
    return (
        in_force.group_by("gemeente_code", "jaar")
        .agg(pl.col("werkwijze").unique())
        .filter(pl.col("werkwijze").list.len() == 1)
        .with_columns(pl.col("werkwijze").list.first())
        .select(list(PER_JAAR_SCHEMA))
        .cast(PER_JAAR_SCHEMA)
        .sort("gemeente_code", "jaar")
    )


# ---------------------------------------------------------------- bezwaar


def read_bezwaar(path: Path, gemeente: pl.DataFrame | None, *,
                 current_year: int | None = None) -> tuple[pl.DataFrame, list[InputError]]:
    """bezwaar.csv -> BEZWAAR_SCHEMA frame (gemeente_naam dropped), plus every problem found.

    `current_year` (default: this year) is the last acceptable `jaar`; `gemeente` as in
    `read_werkwijze`.
    """
    name = display_path(path)
    last_year = current_year or date.today().year
    records, errors = read_records(path, BEZWAAR_COLUMNS)
    validity = _validity(gemeente)
    rows: list[dict[str, Any]] = []
    for record in records:
        row = _Row(name, record, errors)
        values = _bezwaar_values(row, last_year)
        code, jaar = values["gemeente_code"], values["jaar"]
        if isinstance(code, str) and isinstance(jaar, int):
            _check_code_period(row, code, date(jaar, 1, 1), date(jaar + 1, 1, 1), validity,
                               f"jaar {jaar}")
        if row.ok:
            rows.append(values)
    errors += _duplicates(
        name, ((r["regel"], (r["gemeente_code"], r["jaar"], r["domein"])) for r in rows),
        "gemeente_code", "gemeente_code, jaar and domein")
    frame = pl.DataFrame(rows, schema=BEZWAAR_SCHEMA, orient="row")
    return frame, errors


def _bezwaar_values(row: _Row, last_year: int) -> dict[str, Any]:
    counts = {c: row.count(c) for c in COUNT_COLUMNS}
    outcomes = [counts[c] for c in OUTCOME_COLUMNS if counts[c] is not None]
    handled = counts["bezwaren_afgehandeld"]
    if handled is not None and sum(outcomes) > handled:
        row.fail("bezwaren_afgehandeld",
                 f"outcomes ({' + '.join(OUTCOME_COLUMNS)} = {sum(outcomes)}) exceed "
                 f"bezwaren_afgehandeld = {handled}")
    peildatum = row.text("peildatum")
    if peildatum is not None:
        row.partial_date("peildatum")
    return {
        "gemeente_code": row.code(),
        "jaar": _year(row, last_year),
        "domein": row.choice("domein", DOMEINEN),
        **counts,
        "bron_url": row.url("bron_url"),
        "bron_omschrijving": row.text("bron_omschrijving"),
        "peildatum": peildatum,
        "regel": row.record.line,
    }


def _year(row: _Row, last_year: int) -> int | None:
    value = row.text("jaar")
    if value is None:
        return None
    if not re.match(r"^\d{4}$", value):
        row.fail("jaar", f"{value!r} is not a year (write YYYY)")
        return None
    if not FIRST_BEZWAAR_YEAR <= int(value) <= last_year:
        row.fail("jaar", f"{value} is outside {FIRST_BEZWAAR_YEAR}–{last_year}")
        return None
    return int(value)


# --------------------------------------------------------------------------- the source

# The columns of core.bezwaar besides is_synthetisch (the register's, without the name).
CORE_BEZWAAR_COLUMNS = [
    "gemeente_code", "jaar", "domein", "bezwaren_ontvangen", "bezwaren_afgehandeld", "gegrond",
    "deels_gegrond", "ongegrond", "niet_ontvankelijk", "ingetrokken", "beroep", "bron_url",
    "bron_omschrijving", "peildatum",
]


# The registers are part of this project, not of a download: a raw folder made by `wmo fetch`
# or `wmo import` into a new directory has none, and then the committed ones are read.
PROJECT_REGISTERS = Path(__file__).resolve().parents[2] / "data" / "raw" / "registers"


def register_dir(raw_dir: Path) -> Path:
    """`<raw>/registers/` when the raw folder has its own, else the project's committed ones."""
    own = raw_dir / "registers"
    return own if own.is_dir() else PROJECT_REGISTERS


def read_registers(inputs: Inputs, raw_dir: Path, sources: dict[str, SourceMeta],
                   progress: Progress) -> None:
    reg = register_dir(raw_dir)
    origin = "the raw folder" if reg == raw_dir / "registers" else "the project"
    progress(f"registers: {display_path(reg)} (from {origin})")
    known = read_herindelingen_source(inputs, reg / "herindelingen.csv", sources)
    if known is None:
        inputs.warnings.append("gemeente codes in werkwijze.csv and bezwaar.csv not checked "
                               "against the gemeente list: it needs the boundaries and "
                               "herindelingen.csv")

    ww_path = reg / "werkwijze.csv"
    if ww_path.exists():
        ww, errs = read_werkwijze(ww_path, known)
        inputs.errors += errs
        inputs.werkwijze = ww
        inputs.bronnen.append(register_bron(ww_path, sources))
    else:
        inputs.warnings.append(f"{display_path(ww_path)} missing: werkwijze unknown everywhere")

    parts = []
    for path, synthetic in ((reg / "bezwaar.csv", False),
                            (raw_dir / "bezwaar-demo" / "bezwaar.csv", True)):
        if not path.exists():
            if not synthetic:
                inputs.warnings.append(f"{display_path(path)} missing: no bezwaar figures")
            continue
        sidecar = verified_sidecar(inputs, path.parent, required=False) if synthetic else None
        bz, errs = read_bezwaar(path, known)
        inputs.errors += errs
        parts.append(bz.select(CORE_BEZWAAR_COLUMNS).with_columns(
            pl.lit(synthetic).alias("is_synthetisch")))
        if synthetic:
            inputs.bronnen.append(bron_row(path.parent, sidecar or {
                "source_id": "bezwaar-demo", "synthetic": True}))
        else:
            inputs.bronnen.append(register_bron(path, sources))
    if parts:
        inputs.bezwaar = pl.concat(parts, how="vertical_relaxed")
    progress("registers read and checked")


def read_herindelingen_source(inputs: Inputs, path: Path,
                              sources: dict[str, SourceMeta]) -> pl.DataFrame | None:
    """Read herindelingen.csv; sets core.gemeente when it and the boundaries are sound.

    Returns the gemeente list the other registers' codes are checked against, so that they
    are checked even when this register or the boundaries have problems (validate lists every
    problem at once): the partial history of the rows that are sound, plus every code a
    broken row names (valid at any time, so that one broken row does not make its codes
    "unknown" elsewhere). None when there are no boundaries to start from.
    """
    if not path.exists():
        inputs.errors.append(InputError(display_path(path), None, None,
                                        "the herindelingen register is required"))
        return None
    her, errs = read_herindelingen(path)
    inputs.errors += errs
    inputs.bronnen.append(register_bron(path, sources))
    if "_current" not in inputs.frames:
        return None
    her = her.select(list(HERINDELING_SCHEMA))
    if not errs:
        inputs.herindelingen = her
        inputs.gemeente = gemeente_history(inputs.frames.pop("_current"), her)
        return inputs.gemeente
    try:
        history = gemeente_history(inputs.frames["_current"], her)
    except (ValueError, pl.exceptions.PolarsError):
        return None  # the sound rows alone do not make a history; field checks still run
    named = pl.DataFrame({"gemeente_code": sorted(herindeling_codes(path))},
                         schema={"gemeente_code": pl.Utf8})
    return pl.concat([history, named.join(history, on="gemeente_code", how="anti")],
                     how="diagonal_relaxed")


def read(inputs: Inputs, ctx: SourceContext) -> None:
    read_registers(inputs, ctx.raw_dir, ctx.sources, ctx.progress)


SOURCE = Source(
    "registers", reads="<raw>/registers/ (else the project's data/raw/registers/): "
                       "herindelingen.csv, werkwijze.csv, bezwaar.csv; <raw>/bezwaar-demo/",
    fetch="none: curated by hand in the repository (docs/registers.md)",
    returns=("core.herindeling", "core.gemeente", "core.werkwijze", "core.bezwaar"), read=read)
