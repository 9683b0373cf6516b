"""The page-chain check on its own (etl/sources/cbs/pages.py): small hand-made chains."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from etl.errors import InputError, InputErrors
from etl.sources.cbs.pages import Page, chain_errors, envelope_count, skip_of
from etl.sources.cbs.parse import load_cbs_cube
from etl.sources.cbs.tables import WMO_MEASURES

FIXTURES = Path(__file__).parent / "fixtures" / "cbs"
FEED = "https://opendata.cbs.nl/ODataFeed/odata/86050NED/TypedDataSet?$format=json"


def page(n: int, rows: int = 10, skip: int | None = None, *, link: str | None = None,
         count: int | None = None, digest: str | None = None) -> Page:
    if skip is not None:
        link = f"{FEED}&$skip={skip}"
    return Page(Path(f"TypedDataSet/page-{n:04d}.json"), rows, link, count,
                digest or f"digest-{n}")


def messages(pages: list[Page]) -> list[str]:
    return [str(e) for e in chain_errors(pages)]


def test_a_complete_chain_has_no_errors() -> None:
    assert messages([page(1, skip=10), page(2, skip=20), page(3, rows=4)]) == []
    # An opaque link (no $skip) only needs a page after it.
    assert messages([page(1, link="https://x/Observations?$skiptoken=abc"), page(2)]) == []


def test_skip_is_read_percent_encoded_or_not() -> None:
    assert skip_of(f"{FEED}&$skip=20000") == 20000
    assert skip_of(f"{FEED}&%24skip=30000") == 30000
    assert skip_of("https://x/Observations?$skiptoken=abc") is None


def test_a_page_removed_from_the_middle_and_renumbered() -> None:
    errors = messages([page(1, skip=10), page(2, skip=30), page(3)])
    assert len(errors) == 1
    assert "page-0003.json" in errors[0] and "rows from 30" in errors[0]
    assert "hold 20" in errors[0]


def test_a_gap_in_the_numbering() -> None:
    errors = messages([page(1, skip=10), page(3, skip=30), page(4)])
    assert any("page-0002.json missing before this page" in e for e in errors)


def test_a_missing_last_page_leaves_a_dangling_link() -> None:
    errors = messages([page(1, skip=10), page(2, skip=20)])
    assert len(errors) == 1 and "page-0002.json" in errors[0] and "not in the snapshot" in errors[0]


def test_an_unreachable_and_a_copied_page() -> None:
    errors = messages([page(1, skip=10), page(2), page(3, digest="digest-2")])
    assert any("page-0003.json" in e and "not reachable" in e for e in errors)
    assert any("page-0003.json" in e and "same content as page-0002.json" in e for e in errors)


def test_the_stated_count_must_equal_the_rows() -> None:
    assert messages([page(1, skip=10, count=14), page(2, rows=4)]) == []
    errors = messages([page(1, skip=10, count=24), page(2, rows=4)])
    assert len(errors) == 1 and "states 24 rows, the pages hold 14" in errors[0]


def test_counts_as_v3_and_v4_write_them() -> None:
    assert envelope_count({"@odata.count": 40}) == 40
    assert envelope_count({"odata.count": "40"}) == 40
    assert envelope_count({"@odata.count": True}) is None
    assert envelope_count({}) is None


def _v4_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / "86050NED-v4", tmp_path / "86050NED-v4"))


def _edit(path: Path, change) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")


def test_v4_odata_count_is_checked(tmp_path: Path) -> None:
    folder = _v4_copy(tmp_path)
    first = folder / "v4" / "Observations" / "page-0001.json"
    total = sum(len(json.loads(p.read_text(encoding="utf-8"))["value"])
                for p in (folder / "v4" / "Observations").glob("page-*.json"))
    _edit(first, lambda doc: doc.update({"@odata.count": total}))
    load_cbs_cube(folder, WMO_MEASURES)  # the right count passes
    _edit(first, lambda doc: doc.update({"@odata.count": total + 1}))
    with pytest.raises(InputErrors, match=f"states {total + 1} rows"):
        load_cbs_cube(folder, WMO_MEASURES)


def test_v4_removed_last_page_is_found(tmp_path: Path) -> None:
    folder = _v4_copy(tmp_path)
    (folder / "v4" / "Observations" / "page-0002.json").unlink()
    with pytest.raises(InputErrors, match=r"page-0001\.json: its next link points to a page "
                                          r"that is not in the snapshot"):
        load_cbs_cube(folder, WMO_MEASURES)


def test_v4_negative_value_is_an_error(tmp_path: Path) -> None:
    folder = _v4_copy(tmp_path)
    _edit(folder / "v4" / "Observations" / "page-0002.json",
          lambda doc: doc["value"][3].update(Value=-10.0, ValueAttribute="None"))
    with pytest.raises(InputError, match=r"page-0002.json value\[3\].*below zero"):
        load_cbs_cube(folder, WMO_MEASURES)


def test_v4_absent_observation_stays_unknown(tmp_path: Path) -> None:
    """Leaving an observation out is what v4 does for an empty cell: one more null, no error
    (the page's chain and count still agree, as CBS would send them)."""
    folder = _v4_copy(tmp_path)
    before = load_cbs_cube(folder, WMO_MEASURES).cells
    observations = folder / "v4" / "Observations" / "page-0002.json"
    _edit(observations, lambda doc: doc["value"].pop(3))
    after = load_cbs_cube(folder, WMO_MEASURES).cells
    assert after.height == before.height
    assert after.null_count().sum_horizontal().item() == (
        before.null_count().sum_horizontal().item() + 1)


def test_csv_negative_count_names_the_line(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(FIXTURES / "86050NED-csv-zonder", tmp_path / "csv"))
    csv_path = next((folder / "csv").glob("*.csv"))
    lines = csv_path.read_bytes().decode("utf-8-sig").splitlines()
    header = lines[0].split(";")
    line_no, cells = next((i, line.split(";")) for i, line in enumerate(lines[1:], start=2)
                          if line.split(";")[-2].strip().isdigit())
    cells[-2] = "-" + cells[-2]
    lines[line_no - 1] = ";".join(cells)
    csv_path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    with pytest.raises(InputErrors, match=f":{line_no}: .*below zero"):
        load_cbs_cube(folder, WMO_MEASURES)
    assert len(header) == len(cells)
