"""`wmo build` and `wmo validate`: raw folder → checked inputs → frames → DuckDB.

Every input is checked before anything is written; all problems are reported together.
"""

from __future__ import annotations

import errno
import resource
import sys
import time
from datetime import UTC, date, datetime
from functools import partial
from importlib.metadata import version
from pathlib import Path

import duckdb
import polars as pl

from etl.errors import InputError, InputErrors, display_path
from etl.gemeenten import harmonisation_map, valid_in_year
from etl.inputs import Inputs, Progress, attempt
from etl.locations import portable_path
from etl.metadata import load_metadata
from etl.settings import Settings
from etl.sources import Source, SourceContext, geo, registers
from etl.sources.cbs import source as cbs
from etl.sources.cbs.tables import ROLES
from etl.sources.rechtspraak import source as rechtspraak
from etl.sources.registers import CORE_BEZWAAR_COLUMNS
from etl.transform import harmonise, uitspraak


def stderr_progress(start: float) -> Progress:
    def report(message: str) -> None:
        # Peak memory next to the time: the full-scale build has a memory budget too.
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"[{time.perf_counter() - start:5.1f}s {peak_mb:5.0f}MB] {message}",
              file=sys.stderr, flush=True)
    return report


# In this order: the registers need the boundaries (the current classification), and the CBS
# tables are checked last so that their many messages follow the few structural ones.
# Rechtspraak after the registers: a ruling's gemeente is looked up in core.gemeente.
SOURCES: tuple[Source, ...] = (geo.SOURCE, registers.SOURCE, rechtspraak.SOURCE, cbs.SOURCE)


def collect_inputs(raw_dir: Path, snapshot_dir: Path | None, reference_year: int | None,
                   progress: Progress) -> Inputs:
    inputs = Inputs(raw_dir=raw_dir, snapshot_dir=snapshot_dir)
    ctx = SourceContext(raw_dir, snapshot_dir, reference_year, load_metadata().sources, progress)
    for source in SOURCES:
        source.read(inputs, ctx)
    return inputs


def transform_tables(inputs: Inputs, progress: Progress) -> dict[str, pl.DataFrame]:
    """The core tables made from CBS tables alone (they need no registers), as tables.py
    declares them: every output of every role, from the tables of that role that were read.
    A role without tables gives its outputs empty (schema only)."""
    frames = {}
    for role in ROLES.values():
        parsed = inputs.cbs.get(role.name, [])
        for output in role.outputs:
            frame = attempt(inputs.errors, partial(output.run, parsed))
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
        schema={c: pl.Utf8 for c in CORE_BEZWAAR_COLUMNS} | {"is_synthetisch": pl.Boolean})
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
    # Court rulings: counted like the objections, on the same reference classification.
    frames |= uitspraak.out_tables(
        out=out, uitspraak=frames["core.uitspraak"], periode=frames["meta.uitspraak_periode"],
        comp_of=partial(harmonise.components, inputs.gemeente, mapping), mapping=mapping,
        ref=valid_in_year(inputs.gemeente, inputs.reference_year).select(
            "gemeente_code", "gemeente_naam", "provincie_naam"),
        is_synthetisch=inputs.is_synthetisch)
    out = frames["out.gemeente_periode"]
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
    try:
        write_database(settings.db_path, frames, load_metadata(), progress=progress,
                       deferred={"meta.build": record})
    except (OSError, duckdb.IOException) as exc:
        # write_database removed its temp file and never reached the swap.
        raise InputError(display_path(settings.db_path), None, None,
                         f"cannot write the database: {write_failure(exc)}; the previous "
                         "database is unchanged") from exc
    label = "SYNTHETIC demo data" if is_synthetisch else "real sources"
    progress(f"done: {display_path(settings.db_path)} ({label})")
    return settings.db_path


def write_failure(exc: OSError | duckdb.IOException) -> str:
    """The reason in a few words: DuckDB reports a full disk as an IOException whose text
    holds the temp file's path and more; the user needs only to know the disk is full."""
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return "no space left on the disk"
        return exc.strerror or type(exc).__name__
    text = str(exc)
    if "No space left on device" in text:
        return "no space left on the disk"
    return text.splitlines()[0] if text else type(exc).__name__


def validate(settings: Settings, reference_year: int | None = None) -> Inputs:
    """The build without the write: the same checks and transforms, nothing written."""
    start = time.perf_counter()
    inputs, _ = prepare(settings, reference_year, stderr_progress(start))
    return inputs
