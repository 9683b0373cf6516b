"""The `wmo` subcommands: argument handling around the pipeline functions."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb

from etl.build import build as run_build
from etl.build import stderr_progress
from etl.build import validate as run_validate
from etl.errors import InputError, InputErrors, display_path
from etl.settings import load_settings


def demo(args: argparse.Namespace) -> int:
    from etl.demo import write_demo

    settings = load_settings(snapshot_dir=args.snapshot)
    if settings.snapshot_dir is None:
        raise InputError("--snapshot", None, None,
                         "the demo copies real boundaries: pass --snapshot DIR (a folder with "
                         "geo/) or set WMO_SNAPSHOT_DIR")
    progress = stderr_progress(time.perf_counter())
    rows = write_demo(args.out, settings.snapshot_dir, seed=args.seed, scale=args.scale,
                      progress=progress)
    total = sum(rows.values())
    progress(f"synthetic snapshot in {display_path(args.out)}: {total:,} rows "
             f"({', '.join(f'{k} {v:,}' for k, v in rows.items())})")
    return 0


def fetch(args: argparse.Namespace) -> int:
    from etl.sources.cbs.fetch import fetch_cbs_table
    from etl.sources.cbs.tables import spec_for

    settings = load_settings(raw_dir=args.out)
    spec = spec_for(args.table)
    folder = fetch_cbs_table(args.table, args.api, settings.raw_dir, settings,
                             data_filter=spec.v3_filter if spec and args.api == "v3" else None,
                             progress=stderr_progress(time.perf_counter()))
    print(f"fetched {args.table.upper()} into {display_path(folder)}", file=sys.stderr)
    return 0


def import_file(args: argparse.Namespace) -> int:
    settings = load_settings(raw_dir=args.out)
    progress = stderr_progress(time.perf_counter())
    if args.kind == "cbs":
        from etl.sources.cbs.imports import import_cbs

        folder = import_cbs(args.file, args.table, settings.raw_dir, settings, progress=progress)
    else:
        from etl.sources.cbs.statline_import import import_statline_csv

        folder = import_statline_csv(args.file, args.table, settings.raw_dir, settings,
                                     progress=progress)
    print(f"imported {display_path(args.file)} into {display_path(folder)}", file=sys.stderr)
    return 0


def build(args: argparse.Namespace) -> int:
    settings = load_settings(raw_dir=args.raw, db_path=args.db, snapshot_dir=args.snapshot)
    run_build(settings, reference_year=args.reference_year)
    return 0


def validate(args: argparse.Namespace) -> int:
    settings = load_settings(raw_dir=args.raw, snapshot_dir=args.snapshot)
    inputs = run_validate(settings)
    for warning in inputs.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if inputs.errors:
        raise InputErrors(inputs.errors)
    print(f"ok: {display_path(settings.raw_dir)} passes every check "
          f"({len(inputs.bronnen)} sources).", file=sys.stderr)
    return 0


def _connect_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    if not db_path.exists():
        raise InputError(display_path(db_path), None, None,
                         "database not found: run `wmo build` first")
    return duckdb.connect(str(db_path), read_only=True)


def info(args: argparse.Namespace) -> int:
    settings = load_settings(db_path=args.db)
    con = _connect_read_only(settings.db_path)
    try:
        built = con.execute(
            "SELECT built_at, versie, duckdb_versie, referentie_indeling, is_synthetisch, duur_s "
            "FROM meta.build").fetchone()
        assert built is not None
        print(f"database:      {display_path(settings.db_path)}")
        print(f"built at:      {built[0]}  (wmo-atlas {built[1]}, duckdb {built[2]}, "
              f"{built[5]} s)")
        print(f"reference:     gemeente classification {built[3]}")
        print("data:          " + ("SYNTHETIC demo data: not CBS figures" if built[4]
                                   else "real sources"))
        print("sources:")
        for row in con.execute("SELECT bron_id, titel, opgehaald_op, licentie, is_synthetisch "
                               "FROM meta.bron ORDER BY bron_id").fetchall():
            flag = " [synthetic]" if row[4] else ""
            print(f"  {row[0]}: {row[1]} (retrieved {row[2] or 'n/a'}; {row[3]}){flag}")
        print("tables:")
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                             "ORDER BY schema_name, table_name").fetchall()
        for schema, table in tables:
            n = con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()
            print(f"  {schema}.{table}: {n[0] if n else 0:,} rows")
    finally:
        con.close()
    return 0


def export(args: argparse.Namespace) -> int:
    settings = load_settings(db_path=args.db)
    con = _connect_read_only(settings.db_path)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        synthetic = bool(con.execute("SELECT is_synthetisch FROM meta.build").fetchone()[0])
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'out' "
            "ORDER BY table_name").fetchall()]
        written = []
        for table in tables:
            target = args.out / f"{table}.{args.format}"
            tmp = target.with_name(target.name + ".tmp")
            if args.format == "parquet":
                kv = json.dumps({"is_synthetisch": synthetic, "bron": "wmo-atlas out." + table})
                con.execute(f"COPY out.{table} TO '{tmp}' (FORMAT parquet, COMPRESSION zstd, "
                            f"KV_METADATA {{wmo_atlas: '{kv}'}})")
            else:
                con.execute(f"COPY out.{table} TO '{tmp}' (FORMAT csv, HEADER true)")
            tmp.replace(target)
            written.append(target.name)
        cursor = con.execute("SELECT * FROM meta.bron ORDER BY bron_id")
        columns = [d[0] for d in cursor.description]
        sources = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        (args.out / "metadata.json").write_text(json.dumps(
            {"is_synthetisch": synthetic, "bestanden": written, "bronnen": sources},
            indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    finally:
        con.close()
    print(f"wrote {', '.join(written)} and metadata.json to {display_path(args.out)}"
          + (" (SYNTHETIC demo data)" if synthetic else ""), file=sys.stderr)
    return 0
