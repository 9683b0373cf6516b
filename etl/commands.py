"""The `wmo` subcommands: argument handling around the pipeline functions."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

from etl import snapshot
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


def _iso_day(flag: str, value: str | None) -> date | None:
    if value is None:
        return None
    # fromisoformat alone would also take 20240101 and 2024-W01-1; the flag promises YYYY-MM-DD.
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(flag, None, None, f"not a date YYYY-MM-DD: {value!r}") from None


def fetch_rechtspraak(args: argparse.Namespace) -> int:
    from etl.sources.rechtspraak.fetch import WMO_2015_START, Politeness
    from etl.sources.rechtspraak.fetch import fetch_rechtspraak as run_fetch

    if args.table:
        raise InputError("--table", None, None, "only for `wmo fetch cbs`")
    van = _iso_day("--from", args.van) or WMO_2015_START
    tot = _iso_day("--to", args.tot) or date.today()
    if tot < van:
        raise InputError("--to", None, None, f"{tot} is before --from {van}")
    settings = load_settings(raw_dir=args.out)
    try:
        politeness = Politeness.from_env()
    except ValueError as exc:
        raise InputError("environment", None, None, str(exc)) from exc
    folder = run_fetch(settings.raw_dir, settings, van=van, tot=tot, politeness=politeness,
                       progress=stderr_progress(time.perf_counter()))
    print(f"fetched rechtspraak {van}..{tot} into {display_path(folder)}", file=sys.stderr)
    return 0


def fetch(args: argparse.Namespace) -> int:
    from etl.sources.cbs.fetch import fetch_cbs_table, normalise_table_id
    from etl.sources.cbs.tables import spec_for

    if args.source == "rechtspraak":
        return fetch_rechtspraak(args)
    if args.van or args.tot:
        raise InputError("--from" if args.van else "--to", None, None,
                         "only for `wmo fetch rechtspraak`")
    if not args.table:
        raise InputError("--table", None, None, "`wmo fetch cbs` needs --table, e.g. 86050NED")
    settings = load_settings(raw_dir=args.out)
    try:
        normalise_table_id(args.table)
    except ValueError as exc:
        raise InputError("--table", None, None, str(exc)) from exc
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
    inputs = run_validate(settings, reference_year=args.reference_year)
    for warning in inputs.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if inputs.errors:
        raise InputErrors(inputs.errors)
    print(f"ok: {display_path(settings.raw_dir)} passes every check "
          f"({len(inputs.bronnen)} sources).", file=sys.stderr)
    return 0


def _connect_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a wmo-atlas database, or an InputError saying what is wrong."""
    where = display_path(db_path)
    if not db_path.exists():
        raise InputError(where, None, None, "database not found: run `wmo build` first")
    if db_path.is_dir():
        raise InputError(where, None, None, "is a folder, not a database file (--db FILE)")
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as exc:
        # DuckDB's own message names the absolute path; ours names the file as given.
        raise InputError(where, None, None,
                         f"cannot open as a DuckDB database ({type(exc).__name__}); is it a "
                         "file written by `wmo build`?") from exc
    has_build = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'meta' "
        "AND table_name = 'build'").fetchone()
    if not has_build or not has_build[0]:
        con.close()
        raise InputError(where, None, "meta.build",
                         "a DuckDB file, but not a wmo-atlas database (no meta.build table)")
    return con


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


MANIFEST = "metadata.json"


def _sql_string(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _export_folder(out: Path) -> list[Path]:
    """Create the export folder; returns the folders created (to remove again on failure)."""
    where = display_path(out)
    if out.exists() and not out.is_dir():
        raise InputError(where, None, "--out", "exists and is not a folder")
    created = snapshot.missing_parents(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(where, None, "--out",
                         f"cannot create the folder: {exc.strerror or type(exc).__name__}") from exc
    return created


def _previous_entries(out: Path, fmt: str) -> list[dict]:
    """Manifest entries of the other format that are still in the folder: exporting CSV after
    Parquet into one folder keeps one manifest listing every file."""
    path = out / MANIFEST
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    entries = old.get("bestanden") if isinstance(old, dict) else None
    if not isinstance(entries, list):
        return []
    return [e for e in entries
            if isinstance(e, dict) and e.get("formaat") != fmt
            and isinstance(e.get("bestand"), str) and "/" not in e["bestand"]
            and (out / e["bestand"]).is_file()]


def _copy_table(con: duckdb.DuckDBPyConnection, table: str, tmp: Path, fmt: str,
                synthetic: bool) -> None:
    if fmt == "parquet":
        kv = json.dumps({"is_synthetisch": synthetic, "bron": "wmo-atlas out." + table})
        kv_sql = kv.replace("'", "''")
        con.execute(f"COPY out.{table} TO {_sql_string(tmp)} (FORMAT parquet, "
                    f"COMPRESSION zstd, KV_METADATA {{wmo_atlas: '{kv_sql}'}})")
    else:
        con.execute(f"COPY out.{table} TO {_sql_string(tmp)} (FORMAT csv, HEADER true)")


def export(args: argparse.Namespace) -> int:
    settings = load_settings(db_path=args.db)
    con = _connect_read_only(settings.db_path)
    out: Path = args.out
    staged: list[Path] = []
    created: list[Path] = []
    try:
        created = _export_folder(out)
        build = con.execute("SELECT is_synthetisch, built_at FROM meta.build").fetchone()
        assert build is not None
        synthetic, built_at = bool(build[0]), str(build[1])
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'out' "
            "ORDER BY table_name").fetchall()]
        entries = []
        # Every file is written beside its final name first and renamed only when all are
        # complete: a failure leaves the previous export as it was.
        for table in tables:
            target = out / f"{table}.{args.format}"
            tmp = target.with_name(target.name + f".partial-{os.getpid()}")
            staged.append(tmp)
            _copy_table(con, table, tmp, args.format, synthetic)
            rows = con.execute(f"SELECT count(*) FROM out.{table}").fetchone()
            entries.append({"bestand": target.name, "formaat": args.format,
                            "tabel": f"out.{table}", "rijen": rows[0] if rows else 0,
                            "sha256": snapshot.sha256_file(tmp), "gebouwd_op": built_at,
                            "is_synthetisch": synthetic})
        cursor = con.execute("SELECT * FROM meta.bron ORDER BY bron_id")
        columns = [d[0] for d in cursor.description]
        sources = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        names = {e["bestand"] for e in entries}
        kept = [e for e in _previous_entries(out, args.format) if e["bestand"] not in names]
        manifest = out / (MANIFEST + f".partial-{os.getpid()}")
        staged.append(manifest)
        all_entries = sorted(kept + entries, key=lambda e: e["bestand"])
        manifest.write_text(json.dumps(
            {"is_synthetisch": any(e.get("is_synthetisch") for e in all_entries),
             "bestanden": all_entries, "bronnen": sources},
            indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        for tmp in staged:
            tmp.replace(tmp.with_name(tmp.name.rsplit(".partial-", 1)[0]))
        staged = []
    except (OSError, duckdb.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise InputError(display_path(out), None, "--out",
                         f"cannot write the export ({reason}); nothing was kept") from exc
    finally:
        con.close()
        for tmp in staged:
            tmp.unlink(missing_ok=True)
        if staged:
            snapshot.remove_if_empty(created)
    written = [e["bestand"] for e in entries]
    print(f"wrote {', '.join(written)} and {MANIFEST} to {display_path(out)}"
          + (" (SYNTHETIC demo data)" if synthetic else ""), file=sys.stderr)
    return 0
