"""write_demo_rechtspraak: a synthetic snapshot in the real raw formats, marked synthetic."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from etl.sources.rechtspraak.classify import uitspraak_rows
from etl.sources.rechtspraak.demo import (
    PER_YEAR,
    SYNTHETIC_MARKER,
    demo_rulings,
    write_demo_rechtspraak,
)
from etl.sources.rechtspraak.parse import parse_document, parse_feed
from tests.rechtspraak_gemeente import core_gemeente


@pytest.fixture(scope="module")
def gemeente() -> pl.DataFrame:
    return core_gemeente()


@pytest.fixture(scope="module")
def snapshot(gemeente: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_rechtspraak(tmp_path_factory.mktemp("demo"), gemeente, seed=7)


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "_source.json"}


def test_same_seed_same_files_other_seed_other_rulings(
        gemeente: pl.DataFrame, snapshot: Path, tmp_path: Path) -> None:
    again = write_demo_rechtspraak(tmp_path / "a", gemeente, seed=7)
    assert _contents(again) == _contents(snapshot)
    assert demo_rulings(gemeente, 8) != demo_rulings(gemeente, 7)


def test_every_document_and_the_sidecar_say_synthetic(snapshot: Path) -> None:
    sidecar = json.loads((snapshot / "_source.json").read_text(encoding="utf-8"))
    assert sidecar["synthetic"] is True and "SYNTHETIC" in sidecar["title"]
    documents = sorted((snapshot / "content").glob("*.xml"))
    for path in documents:
        doc = parse_document(path.read_bytes())
        assert doc.inhoudsindicatie and SYNTHETIC_MARKER in doc.inhoudsindicatie
        assert doc.tekst and SYNTHETIC_MARKER in doc.tekst and "DEMO" in doc.ecli
    # The feed pages are real Atom pages listing exactly the documents.
    listed = [e.ecli for p in sorted((snapshot / "zoeken").rglob("page-*.xml"))
              for e in parse_feed(p.read_bytes()).entries]
    assert sorted(listed) == sorted(parse_document(p.read_bytes()).ecli for p in documents)
    assert sidecar["documenten"] == len(documents)


def test_plausible_spread_over_years_gemeenten_and_courts(gemeente: pl.DataFrame) -> None:
    rulings = demo_rulings(gemeente, 7)
    per_year = Counter(r.datum.year for r in rulings)
    assert set(per_year) == set(range(2015, 2026))
    assert all(PER_YEAR[0] <= n <= PER_YEAR[1] for n in per_year.values())
    assert len({r.gemeente_code for r in rulings}) > 200
    assert 0.2 < sum(r.crvb for r in rulings) / len(rulings) < 0.5
    assert len({r.ecli for r in rulings}) == len(rulings)


def test_the_rules_recover_what_the_demo_invented(snapshot: Path,
                                                  gemeente: pl.DataFrame) -> None:
    truth = {r.ecli: r for r in demo_rulings(gemeente, 7)}
    frame = uitspraak_rows(snapshot, gemeente)
    assert frame.height == len(truth)
    assert frame["is_synthetisch"].all() and frame["is_wmo2015"].all()
    for row in frame.iter_rows(named=True):
        r = truth[row["ecli"]]
        assert row["gemeente_code"] == r.gemeente_code, (row["gemeente_naam_tekst"], r)
        assert row["uitkomst"] == r.uitkomst
        assert row["is_resultaatgericht"] == r.resultaatgericht
        assert row["is_hbh"] == (r.voorziening == "hulp bij het huishouden")
        won = None if r.uitkomst is None else (r.uitkomst == "gegrond") != r.college_appellant
        assert row["client_in_het_gelijk"] == won
        assert row["instantie_type"] == ("crvb" if r.crvb else "rechtbank")
