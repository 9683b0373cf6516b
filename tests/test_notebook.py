"""The research notebook runs against a database given by WMO_DB and draws a pooled-rate chart."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import nbformat
import pytest
from nbclient import NotebookClient

from etl.metadata import SCHEMAS, create_table_sql, load_metadata

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "wmo_onderzoek.ipynb"
HBH = "A019507"

# (gemeente_code, jaar, werkwijze_hbh, clienten, inwoners). GM0005 has suppressed clienten and a
# large population: if it leaked into the denominator, the resultaatgericht rate would drop.
GEMEENTEN = [
    ("GM0001", 2023, "resultaatgericht", 100.0, 10_000.0),
    ("GM0002", 2023, "resultaatgericht", 900.0, 30_000.0),
    ("GM0003", 2023, "uren", 200.0, 10_000.0),
    ("GM0004", 2023, None, 300.0, 10_000.0),
    ("GM0005", 2023, "resultaatgericht", None, 50_000.0),
    ("GM0001", 2024, "resultaatgericht", 110.0, 10_000.0),
    ("GM0002", 2024, "uren", 960.0, 30_000.0),
    ("GM0003", 2024, "uren", 240.0, 10_000.0),
    ("GM0004", 2024, None, 330.0, 10_000.0),
]
# Pooled 1000 * sum / sum. Averaging rates would give 20.0 for resultaatgericht 2023, not 25.0.
EXPECTED = {
    (2023, "resultaatgericht"): 25.0,
    (2023, "uren"): 20.0,
    (2023, "onbekend"): 30.0,
    (2024, "resultaatgericht"): 11.0,
    (2024, "uren"): 30.0,
    (2024, "onbekend"): 33.0,
}


# Named, so that a column added to the contract (and left NULL here) does not break the fixture.
GP_COLUMNS = ("gemeente_code", "gemeente_naam", "provincie_naam", "periode_code", "jaar",
              "halfjaar", "voorziening_code", "voorziening", "clienten", "clienten_per_1000",
              "inwoners", "inwoners_75plus", "aandeel_75plus", "werkwijze_hbh",
              "bezwaren_ontvangen", "bezwaren_per_1000_clienten", "status", "is_geharmoniseerd",
              "is_synthetisch")


def _gemeente_periode_rows() -> list[tuple[Any, ...]]:
    rows = []
    for code, jaar, werkwijze, clienten, inwoners in GEMEENTEN:
        rate = None if clienten is None else 1000 * clienten / inwoners
        base = (code, f"Gemeente {code[-1]}", "Utrecht")
        rows.append((*base, f"{jaar}JJ00", jaar, None, HBH, "Hulp bij het huishouden",
                     clienten, rate, inwoners, 1_000.0, 0.1, werkwijze, None, None,
                     "voorlopig" if jaar == 2024 else "definitief", False, True))
        # Half-year and other-voorziening rows with huge counts: the notebook must skip them.
        rows.append((*base, f"{jaar}HJ01", jaar, 1, HBH, "Hulp bij het huishouden",
                     99_999.0, 1.0, inwoners, 1_000.0, 0.1, werkwijze, None, None,
                     "definitief", False, True))
        rows.append((*base, f"{jaar}JJ00", jaar, None, "T001024", "Totaal",
                     99_999.0, 1.0, inwoners, 1_000.0, 0.1, werkwijze, None, None,
                     "definitief", False, True))
    return rows


@pytest.fixture
def tiny_db(tmp_path: Path) -> Path:
    """A synthetic database with the real DDL, standing in for the demo build for now."""
    meta = load_metadata()
    path = tmp_path / "wmo.duckdb"
    con = duckdb.connect(str(path))
    try:
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA {schema}")
        for table in meta.tables.values():
            con.execute(create_table_sql(table))
        con.execute(
            "INSERT INTO meta.build VALUES (?, '0.1.0', ?, 2026, true, 'data/raw', 1.5)",
            [datetime(2026, 11, 23, 10, 0, tzinfo=UTC), duckdb.__version__],
        )
        con.executemany(
            "INSERT INTO meta.bron VALUES (?, ?, ?, ?, '2026-11-23T10:00:00+00:00', "
            "'CC BY 4.0', 'odata-v3', 'abc', true, ?)",
            [(s.source_id, s.title, s.producer, s.url, s.source_id.replace("cbs-", "cbs/"))
             for s in meta.sources.values() if s.source_id in ("cbs-86050NED", "cbs-03759NED")],
        )
        con.executemany(
            f"INSERT INTO out.gemeente_periode ({', '.join(GP_COLUMNS)}) "
            f"VALUES ({', '.join(['?'] * len(GP_COLUMNS))})",
            _gemeente_periode_rows(),
        )
    finally:
        con.close()
    return path


def _run_notebook(db: Path, monkeypatch: pytest.MonkeyPatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("WMO_DB", str(db))  # the kernel inherits the environment
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb, kernel_name="python3", timeout=120,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.km = client.create_kernel_manager()
    # The kernelspec says `python`; jupyter_client swaps that for this interpreter. Guard it, so
    # the notebook never silently runs on a system Python without the project's packages.
    assert client.km.format_kernel_cmd()[0] == sys.executable
    client.execute()  # raises CellExecutionError on the first failing cell
    return nb


def _vegalite_specs(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """Chart specs from the outputs, whichever Altair renderer produced them."""
    specs = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            vegalite = [m for m in data if m.startswith("application/vnd.vegalite")]
            if vegalite:
                spec = data[vegalite[0]]
                specs.append(spec if isinstance(spec, dict) else json.loads(spec))
            elif "vegaEmbed" in data.get("text/html", ""):
                specs.append(_spec_from_html(data["text/html"]))
    return specs


def _spec_from_html(html: str) -> dict[str, Any]:
    # Altair's HTML renderer passes the spec as the first argument of its closing IIFE call.
    start = html.rindex("})(") + len("})(")
    spec, _ = json.JSONDecoder().raw_decode(html, start)
    return spec


def test_notebook_draws_pooled_rates_with_source_and_synthetic_warning(
    tiny_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = _run_notebook(tiny_db, monkeypatch)

    specs = _vegalite_specs(nb)
    assert len(specs) == 1, "expected exactly one chart"
    spec = specs[0]
    text = json.dumps(spec, ensure_ascii=False)
    assert "Bron: CBS (03759NED, 86050NED)" in text
    assert "bewerking wmo-atlas" in text
    assert "SYNTHETISCHE DEMODATA" in text
    assert spec["title"]["text"]

    rows = [row for dataset in spec["datasets"].values() for row in dataset]
    got = {(r["jaar"], r["werkwijze"]): r["clienten_per_1000"] for r in rows}
    assert got == pytest.approx(EXPECTED)

    shown = "".join(
        str(o.get("data", {}).get("text/markdown", "")) for c in nb.cells
        for o in c.get("outputs", [])
    )
    assert "SYNTHETISCHE DEMODATA" in shown
