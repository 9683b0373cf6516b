"""`wmo build` and `wmo validate`: raw folder → checked inputs → frames → DuckDB.

Every input is checked before anything is written; all problems are reported together.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from importlib.metadata import version
from pathlib import Path

import duckdb
import polars as pl

from etl import snapshot
from etl.errors import InputError, InputErrors, display_path
from etl.gemeenten import HERINDELING_SCHEMA, gemeente_history, harmonisation_map
from etl.locations import portable_path
from etl.metadata import SourceMeta, load_metadata
from etl.settings import Settings
from etl.sources import geo, registers
from etl.sources.cbs.parse import load_cbs_cube, load_cbs_snapshot
from etl.sources.cbs.tables import ROLES, spec_for, tables_of
from etl.transform import harmonise

Progress = Callable[[str], None]

BEZWAAR_COLUMNS = [
    "gemeente_code", "jaar", "domein", "bezwaren_ontvangen", "bezwaren_afgehandeld", "gegrond",
    "deels_gegrond", "ongegrond", "niet_ontvankelijk", "ingetrokken", "beroep", "bron_url",
    "bron_omschrijving", "peildatum",
]


def stderr_progress(start: float) -> Progress:
    def report(message: str) -> None:
        # Peak memory next to the time: the full-scale build has a memory budget too.
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"[{time.perf_counter() - start:5.1f}s {peak_mb:5.0f}MB] {message}",
              file=sys.stderr, flush=True)
    return report


@dataclass
class Inputs:
    """Everything a build needs, parsed and checked, plus the problems and warnings found."""

    errors: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bronnen: list[dict] = field(default_factory=list)
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    # role name -> [(TableSpec, parsed table)], in folder order (tables.py declares the roles)
    cbs: dict[str, list] = field(default_factory=dict)
    werkwijze: pl.DataFrame | None = None
    bezwaar: pl.DataFrame | None = None
    herindelingen: pl.DataFrame | None = None
    gemeente: pl.DataFrame | None = None
    reference_year: int | None = None
    raw_dir: Path | None = None
    snapshot_dir: Path | None = None

    @property
    def wmo_tables(self) -> list:
        return self.cbs.get("wmo_clienten", [])

    @property
    def is_synthetisch(self) -> bool:
        return any(b["is_synthetisch"] for b in self.bronnen)


def _bron_row(folder: Path, sidecar: dict) -> dict:
    return {
        "bron_id": sidecar.get("source_id") or folder.name,
        "titel": sidecar.get("title"),
        "producent": sidecar.get("producer"),
        "url": sidecar.get("url"),
        "opgehaald_op": sidecar.get("retrieved_at"),
        "licentie": sidecar.get("licence"),
        "formaat": sidecar.get("format"),
        "sha256": sidecar.get("sha256"),
        "is_synthetisch": bool(sidecar.get("synthetic", False)),
        "map": display_path(folder),
    }


def _register_bron(path: Path, sources: dict[str, SourceMeta]) -> dict:
    # Titles, producers and licences of the registers are documented once, in metadata.yaml.
    source = sources[f"register-{path.stem}"]
    return {
        "bron_id": source.source_id,
        "titel": source.title,
        "producent": source.producer,
        "url": source.url,
        "opgehaald_op": None,
        "licentie": source.licence,
        "formaat": "csv",
        "sha256": snapshot.sha256_file(path),
        "is_synthetisch": False,
        # The file itself: with the project fallback it is not inside the raw folder.
        "map": display_path(path),
    }


def geo_dir_for(raw_dir: Path, snapshot_dir: Path | None) -> Path:
    if snapshot_dir is not None:
        return snapshot_dir / "geo"
    return raw_dir / "geo"


def read_geo(inputs: Inputs, geo_dir: Path, reference_year: int | None,
             progress: Progress) -> None:
    files = geo.boundary_files(geo_dir)
    gemeente_years = sorted(y for kind, y in files if kind == "gemeente")
    provincie_years = sorted(y for kind, y in files if kind == "provincie")
    if not gemeente_years or not provincie_years:
        inputs.errors.append(InputError(display_path(geo_dir), None, None,
                                        "no gemeente_YYYY and provincie_YYYY boundary files found "
                                        "(pass --snapshot DIR or set WMO_SNAPSHOT_DIR)"))
        return
    ref = reference_year or gemeente_years[-1]
    if ref not in gemeente_years:
        inputs.errors.append(InputError(display_path(geo_dir), None, "--reference-year",
                                        f"no gemeente_{ref} boundary file (have "
                                        f"{', '.join(map(str, gemeente_years))})"))
        return
    inputs.reference_year = ref
    try:
        gemeenten = {y: geo.read_boundaries(files[("gemeente", y)], "gemeente")
                     for y in gemeente_years}
        prov_year = max(y for y in provincie_years if y <= ref) if min(provincie_years) <= ref \
            else provincie_years[0]
        provincies = geo.read_boundaries(files[("provincie", prov_year)], "provincie")
    except InputError as exc:
        inputs.errors.append(exc)
        return
    progress(f"boundaries: gemeente {', '.join(map(str, gemeente_years))}; "
             f"provincie {prov_year}; reference classification {ref}")
    inputs.frames["core.gemeente_geometrie"] = pl.concat(
        [geo.geometry_table(g, y) for y, g in gemeenten.items()])
    prov_geom = geo.geometry_table(provincies, prov_year).rename(
        {"gemeente_code": "provincie_code"}).with_columns(
        pl.Series("provincie_naam", provincies["naam"].tolist()))
    inputs.frames["core.provincie_geometrie"] = prov_geom
    inputs.frames["_current"] = geo.province_of_gemeenten(gemeenten[ref], provincies)
    # Without a sidecar the boundary files are described by metadata.yaml (never by the local
    # folder: its absolute path would travel inside the database).
    documented = load_metadata().sources["geo"]
    sidecar = snapshot.read_sidecar(geo_dir) or {
        "source_id": documented.source_id, "title": documented.title,
        "producer": documented.producer, "format": "topojson", "synthetic": False,
        "licence": documented.licence, "url": documented.url}
    inputs.bronnen.append(_bron_row(geo_dir, sidecar))


# The registers are part of this project, not of a download: a raw folder made by `wmo fetch`
# or `wmo import` into a new directory has none, and then the committed ones are read.
PROJECT_REGISTERS = Path(__file__).resolve().parents[1] / "data" / "raw" / "registers"


def register_dir(raw_dir: Path) -> Path:
    """`<raw>/registers/` when the raw folder has its own, else the project's committed ones."""
    own = raw_dir / "registers"
    return own if own.is_dir() else PROJECT_REGISTERS


def read_registers(inputs: Inputs, raw_dir: Path, sources: dict[str, SourceMeta],
                   progress: Progress) -> None:
    reg = register_dir(raw_dir)
    origin = "the raw folder" if reg == raw_dir / "registers" else "the project"
    progress(f"registers: {display_path(reg)} (from {origin})")
    her_path = reg / "herindelingen.csv"
    if not her_path.exists():
        inputs.errors.append(InputError(display_path(her_path), None, None,
                                        "the herindelingen register is required"))
        return
    her, errs = registers.read_herindelingen(her_path)
    inputs.errors += errs
    inputs.bronnen.append(_register_bron(her_path, sources))
    if errs or "_current" not in inputs.frames:
        return
    inputs.herindelingen = her.select(list(HERINDELING_SCHEMA))
    inputs.gemeente = gemeente_history(inputs.frames.pop("_current"), inputs.herindelingen)

    ww_path = reg / "werkwijze.csv"
    if ww_path.exists():
        ww, errs = registers.read_werkwijze(ww_path, inputs.gemeente)
        inputs.errors += errs
        inputs.werkwijze = ww
        inputs.bronnen.append(_register_bron(ww_path, sources))
    else:
        inputs.warnings.append(f"{display_path(ww_path)} missing: werkwijze unknown everywhere")

    parts = []
    for path, synthetic in ((reg / "bezwaar.csv", False),
                            (raw_dir / "bezwaar-demo" / "bezwaar.csv", True)):
        if not path.exists():
            if not synthetic:
                inputs.warnings.append(f"{display_path(path)} missing: no bezwaar figures")
            continue
        bz, errs = registers.read_bezwaar(path, inputs.gemeente)
        inputs.errors += errs
        parts.append(bz.select(BEZWAAR_COLUMNS).with_columns(
            pl.lit(synthetic).alias("is_synthetisch")))
        if synthetic:
            inputs.bronnen.append(_bron_row(path.parent, snapshot.read_sidecar(path.parent) or {
                "source_id": "bezwaar-demo", "synthetic": True}))
        else:
            inputs.bronnen.append(_register_bron(path, sources))
    if parts:
        inputs.bezwaar = pl.concat(parts, how="vertical_relaxed")
    progress("registers read and checked")


def read_cbs(inputs: Inputs, raw_dir: Path, progress: Progress) -> None:
    cbs_dir = raw_dir / "cbs"
    folders = sorted(p for p in cbs_dir.iterdir() if p.is_dir() and "." not in p.name) \
        if cbs_dir.is_dir() else []
    for folder in folders:
        spec = spec_for(folder.name)
        if spec is None:
            inputs.warnings.append(f"{display_path(folder)}: table not used by wmo-atlas, skipped")
            continue
        sidecar = snapshot.read_sidecar(folder)
        if sidecar is None:
            inputs.errors.append(InputError(display_path(folder), None, snapshot.SIDECAR,
                                            "snapshot has no _source.json sidecar"))
            continue
        progress(f"parsing {spec.table_id} ({sidecar.get('format')})")
        # The persoonskenmerken table has millions of cells: it stays a compact cube.
        load = load_cbs_cube if spec.role.compact else load_cbs_snapshot
        try:
            table = load(folder, spec.measures)
        except InputErrors as exc:
            inputs.errors += exc.errors
            continue
        except InputError as exc:
            inputs.errors.append(exc)
            continue
        inputs.bronnen.append(_bron_row(folder, sidecar))
        inputs.cbs.setdefault(spec.role.name, []).append((spec, table))
    if not inputs.wmo_tables:
        inputs.errors.append(InputError(display_path(cbs_dir), None, None,
                                        "no CBS Wmo table found (one of "
                                        + ", ".join(tables_of("wmo_clienten"))
                                        + "); run `wmo fetch cbs --table 86050NED` or `wmo demo`"))
    if not inputs.cbs.get("bevolking"):
        inputs.warnings.append("no population table (03759NED): rates per 1 000 inwoners and the "
                               "share 75+ stay NULL in out.gemeente_periode")


def collect_inputs(raw_dir: Path, snapshot_dir: Path | None, reference_year: int | None,
                   progress: Progress) -> Inputs:
    inputs = Inputs(raw_dir=raw_dir, snapshot_dir=snapshot_dir)
    sources = load_metadata().sources
    read_geo(inputs, geo_dir_for(raw_dir, snapshot_dir), reference_year, progress)
    read_registers(inputs, raw_dir, sources, progress)
    read_cbs(inputs, raw_dir, progress)
    return inputs


def _attempt(errors: list[InputError], step: Callable[[], pl.DataFrame]) -> pl.DataFrame | None:
    """Run one transform step; its input problems join the list instead of stopping the run,
    so that validate and build report every table's problems at once."""
    try:
        return step()
    except InputErrors as exc:
        errors.extend(exc.errors)
    except InputError as exc:
        errors.append(exc)
    return None


def transform_tables(inputs: Inputs, progress: Progress) -> dict[str, pl.DataFrame]:
    """The core tables made from CBS tables alone (they need no registers), as tables.py
    declares them: every output of every role, from the tables of that role that were read.
    A role without tables gives its outputs empty (schema only)."""
    frames = {}
    for role in ROLES.values():
        parsed = inputs.cbs.get(role.name, [])
        for output in role.outputs:
            frame = _attempt(inputs.errors, partial(output.run, parsed))
            if frame is not None:
                frames[output.target] = frame
    if "core.wmo_clienten" in frames and "core.bevolking" in frames:
        progress(f"core: {frames['core.wmo_clienten'].height} Wmo rows, "
                 f"{frames['core.bevolking'].height} population rows")
    return frames


def assemble(inputs: Inputs, tables: dict[str, pl.DataFrame],
             progress: Progress) -> dict[str, pl.DataFrame]:
    """Registers and CBS tables together: core.gemeente … and the harmonised `out` tables."""
    assert inputs.gemeente is not None and inputs.herindelingen is not None
    assert inputs.reference_year is not None
    frames = dict(inputs.frames) | tables
    frames["core.gemeente"] = inputs.gemeente
    frames["core.herindeling"] = inputs.herindelingen
    wmo_rows = tables["core.wmo_clienten"]
    bev = tables["core.bevolking"]
    werkwijze = inputs.werkwijze
    if werkwijze is None:
        werkwijze = pl.DataFrame(schema={"gemeente_code": pl.Utf8, "voorziening": pl.Utf8,
                                         "werkwijze": pl.Utf8})
    else:
        frames["core.werkwijze"] = werkwijze
    bezwaar = inputs.bezwaar if inputs.bezwaar is not None else pl.DataFrame(
        schema={c: pl.Utf8 for c in BEZWAAR_COLUMNS} | {"is_synthetisch": pl.Boolean})
    frames["core.bezwaar"] = bezwaar
    jaren = sorted(set(wmo_rows["jaar"].to_list()))
    werkwijze_jaar = (registers.werkwijze_per_jaar(werkwijze, "huishoudelijke_ondersteuning",
                                                    jaren)
                      if inputs.werkwijze is not None else
                      pl.DataFrame(schema={"gemeente_code": pl.Utf8, "jaar": pl.Int32,
                                           "werkwijze": pl.Utf8}))
    # The same rule on the court rulings and regulations only: the strict-sources comparison.
    werkwijze_jaar_sterk = (registers.werkwijze_per_jaar(registers.sterke_bronnen(werkwijze),
                                                          "huishoudelijke_ondersteuning", jaren)
                            if inputs.werkwijze is not None else
                            pl.DataFrame(schema=registers.PER_JAAR_SCHEMA))
    mapping = harmonisation_map(inputs.herindelingen,
                                until=date(inputs.reference_year, 1, 1))
    out = harmonise.gemeente_periode(
        wmo=wmo_rows, bevolking=bev, gemeente=inputs.gemeente, mapping=mapping,
        reference_year=inputs.reference_year, werkwijze_jaar=werkwijze_jaar,
        werkwijze_jaar_sterk=werkwijze_jaar_sterk,
        bezwaar=bezwaar.with_columns(pl.col("bezwaren_ontvangen").cast(pl.Int64)),
        is_synthetisch=inputs.is_synthetisch, uitgaven=tables.get("core.wmo_uitgaven"),
        stroom=tables.get("core.wmo_stroom"), beeindiging=tables.get("core.wmo_beeindiging"))
    frames["out.gemeente_periode"] = out
    frames["out.provincie_periode"] = harmonise.provincie_periode(
        out, inputs.gemeente, inputs.reference_year, inputs.is_synthetisch)
    progress(f"out: {out.height} harmonised rows (reference classification "
             f"{inputs.reference_year})")
    frames["meta.bron"] = pl.DataFrame(inputs.bronnen).with_columns(
        pl.col("map").map_elements(
            lambda m: portable_path(m, inputs.raw_dir, inputs.snapshot_dir),
            return_dtype=pl.Utf8))
    return frames


def prepare(settings: Settings, reference_year: int | None,
            progress: Progress) -> tuple[Inputs, dict[str, pl.DataFrame] | None]:
    """Everything a build does except writing: read, check, transform.

    `wmo validate` and `wmo build` both run exactly this, so a folder that validate passes
    builds, and one that build refuses fails validate with the same messages. The frames are
    None when any problem was found.
    """
    inputs = collect_inputs(settings.raw_dir, settings.snapshot_dir, reference_year, progress)
    tables = transform_tables(inputs, progress) if inputs.wmo_tables else {}
    if inputs.errors:
        return inputs, None
    try:
        return inputs, assemble(inputs, tables, progress)
    except InputErrors as exc:
        inputs.errors.extend(exc.errors)
    except InputError as exc:
        inputs.errors.append(exc)
    return inputs, None


def build_record(reference_year: int | None, is_synthetisch: bool, raw_dir: Path,
                 start: float) -> pl.DataFrame:
    """meta.build; called when everything else is written, so that duur_s includes writing."""
    return pl.DataFrame({
        "built_at": [datetime.now(UTC)],
        "versie": [version("wmo-atlas")],
        "duckdb_versie": [duckdb.__version__],
        "referentie_indeling": [reference_year],
        "is_synthetisch": [is_synthetisch],
        "raw_map": [portable_path(raw_dir)],
        "duur_s": [round(time.perf_counter() - start, 2)],
    })


def build(settings: Settings, reference_year: int | None = None,
          progress: Progress | None = None) -> Path:
    start = time.perf_counter()
    progress = progress or stderr_progress(start)
    if settings.db_path.is_dir():
        # Found before the work, not when the finished file cannot replace a folder.
        raise InputError(display_path(settings.db_path), None, "--db",
                         "is a folder; give the database file, e.g. data/processed/wmo.duckdb")
    inputs, frames = prepare(settings, reference_year, progress)
    for warning in inputs.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if inputs.errors or frames is None:
        raise InputErrors(inputs.errors)
    is_synthetisch = inputs.is_synthetisch
    record = partial(build_record, inputs.reference_year, is_synthetisch, settings.raw_dir, start)
    # The parsed sources (for a full build the 85896NED cube) are not needed for writing.
    del inputs
    from etl.load import write_database

    progress(f"writing {display_path(settings.db_path)}")
    write_database(settings.db_path, frames, load_metadata(), progress=progress,
                   deferred={"meta.build": record})
    label = "SYNTHETIC demo data" if is_synthetisch else "real sources"
    progress(f"done: {display_path(settings.db_path)} ({label})")
    return settings.db_path


def validate(settings: Settings, reference_year: int | None = None) -> Inputs:
    """The build without the write: the same checks and transforms, nothing written."""
    start = time.perf_counter()
    inputs, _ = prepare(settings, reference_year, stderr_progress(start))
    return inputs
