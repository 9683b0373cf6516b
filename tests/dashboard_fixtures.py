"""Fixtures for dashboard tests: one demo database per test session and AppTest factories.

The database is a real build (`wmo demo` + `wmo build`) in a temporary folder; AppTest runs the
real `dashboard/app.py` in this process, so WMO_DB is set for the whole session.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from etl.cli import main

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "app.py")
SNAPSHOT = Path(os.environ.get("WMO_SNAPSHOT_DIR", str(ROOT.parent / "shared" / "snapshot")))


def build_demo(root: Path, seed: int = 7) -> Path:
    raw, db = root / f"raw-{seed}", root / f"wmo-{seed}.duckdb"
    assert main(["demo", "--out", str(raw), "--snapshot", str(SNAPSHOT), "--seed", str(seed)]) == 0
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 0
    return db


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A demo database, and WMO_DB pointing at it for AppTest runs in this process."""
    db = build_demo(tmp_path_factory.mktemp("dashboard"))
    old = os.environ.get("WMO_DB")
    os.environ["WMO_DB"] = str(db)
    yield db
    if old is None:
        os.environ.pop("WMO_DB", None)
    else:
        os.environ["WMO_DB"] = old


AppFactory = Callable[..., AppTest]


@pytest.fixture
def make_app(demo_db: Path) -> AppFactory:
    """make_app(page="gemeente", gemeente="GM0363") → a run AppTest on that page with those
    query parameters, as a deep link would open it (the default page is Kaart)."""
    def factory(page: str | None = None, **params: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        if page is not None:
            # Before the first run: rendering Kaart first would leave its URL values behind.
            at.switch_page(f"app_pages/{page}.py")
        for key, value in params.items():
            at.query_params[key] = value
        return at.run()
    return factory


def opener(make_app: AppFactory, page: str) -> Callable[..., AppTest]:
    """A factory for one page: open it from a link with `params`; it must render cleanly."""
    def factory(**params: str) -> AppTest:
        at = make_app(page, **params)
        assert not at.exception, at.exception
        return at
    return factory


def chart_specs(at: AppTest) -> list[dict]:
    """Each chart's Vega-Lite spec with its data rows under "_rows" (Streamlit ships named
    datasets as Arrow beside the spec, so the spec alone has no data)."""
    out = []
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        spec["_rows"] = [row for ds in el.proto.datasets
                         for row in pl.from_arrow(pa.ipc.open_stream(ds.data.data).read_all())
                         .to_dicts()]
        out.append(spec)
    return out
