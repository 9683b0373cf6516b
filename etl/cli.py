"""`wmo` — the command line of wmo-atlas.

Exit codes: 0 ok, 1 unexpected failure (a one-line message; WMO_DEBUG=1 shows the details),
2 bad input (file, record and field named), 3 a download failed for good. No error path prints
a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from etl.errors import FetchError, InputError, InputErrors, display_path

EXAMPLES = {
    "demo": "examples:\n  wmo demo --out data/raw --snapshot ../shared/snapshot\n"
            "  wmo demo --out /tmp/raw-full --scale full --seed 7",
    "fetch": "examples:\n  wmo fetch cbs --table 86050NED\n"
             "  WMO_CBS_V3_URL=http://127.0.0.1:8000 \\\n"
             "    wmo fetch cbs --table 86050NED --out /tmp/raw\n"
             "  wmo fetch cbs --table 86050NED --api v4\n"
             "  wmo fetch rechtspraak --from 2024-01-01 --to 2024-12-31\n"
             "  WMO_RECHTSPRAAK_URL=http://127.0.0.1:8000 wmo fetch rechtspraak --out /tmp/raw",
    "import": "forms `wmo import cbs` recognises (it says which one it found):\n"
              "  StatLine CSV met/zonder statistische symbolen   one .csv; code lists from the "
              "snapshot or CBS\n"
              "  StatLine onbewerkte dataset   <id>_UntypedDataSet_<date>_<time>.csv + "
              "<id>_metadata.csv (offline)\n"
              "  R cbsodataR folder            data.csv, DataProperties.csv, one CSV per "
              "dimension (offline)\n"
              "  python cbsodata folder        DataProperties.json, TypedDataSet.json or "
              "UntypedDataSet.json (offline)\n\n"
              "examples:\n"
              "  wmo import cbs ~/Downloads/03759ned_UntypedDataSet_05022020_161839.csv "
              "--table 03759NED\n"
              "  wmo import cbs ~/R/83262NED --table 83262NED          # cbsodataR folder\n"
              "  wmo import cbs ~/py/86050NED --table 86050NED --out /tmp/raw   # cbsodata\n"
              "  wmo import cbs ~/Downloads/Wmo_clienten_23112026_101500.csv --table 86050NED\n"
              "  wmo import statline-csv ~/Downloads/Wmo_clienten_23112026_101500.csv "
              "--table 86050NED",
    "build": "examples:\n  wmo build\n  wmo build --raw /tmp/raw --db /tmp/wmo.duckdb "
             "--snapshot ../shared/snapshot --reference-year 2026",
    "validate": "examples:\n  wmo validate\n  wmo validate --raw /tmp/raw",
    "info": "examples:\n  wmo info\n  wmo info --db /tmp/wmo.duckdb",
    "export": "examples:\n  wmo export --format parquet --out data/processed/export\n"
              "  wmo export --format csv",
}


def _sub(subparsers, name: str, help_text: str) -> argparse.ArgumentParser:
    return subparsers.add_parser(
        name, help=help_text, description=help_text, epilog=EXAMPLES.get(name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wmo",
        description="wmo-atlas: CBS Wmo figures, werkwijze and bezwaar registers in one "
                    "DuckDB file.",
        epilog="Run `wmo COMMAND --help` for the options and examples of each command.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = _sub(sub, "demo",
             "Write a synthetic raw snapshot in the real CBS formats (marked synthetic).")
    p.add_argument("--out", type=Path, required=True, help="raw folder to write")
    p.add_argument("--seed", type=int, default=2015, help="random seed (default 2015)")
    p.add_argument("--scale", choices=["default", "full"], default="default",
                   help="full adds a persoonskenmerken table: more than 5 million fact rows")
    p.add_argument("--snapshot", type=Path, help="folder with geo/ (default: $WMO_SNAPSHOT_DIR)")

    p = _sub(sub, "fetch", "Download a source into a raw snapshot.")
    p.add_argument("source", choices=["cbs", "rechtspraak"])
    p.add_argument("--table", help="cbs: CBS table id, e.g. 86050NED (required)")
    p.add_argument("--api", choices=["v3", "v4"], default="v3")
    p.add_argument("--from", dest="van", metavar="YYYY-MM-DD",
                   help="rechtspraak: first ruling date (default 2015-01-01, the Wmo 2015)")
    p.add_argument("--to", dest="tot", metavar="YYYY-MM-DD",
                   help="rechtspraak: last ruling date (default today)")
    p.add_argument("--out", type=Path, help="raw folder (default: $WMO_RAW_DIR or data/raw)")

    p = _sub(sub, "import", "Take a CBS table a user already has into a raw snapshot.")
    p.add_argument("kind", choices=["cbs", "statline-csv"],
                   help="cbs: any form listed below (recognised from the files); "
                        "statline-csv: a current StatLine CSV only")
    p.add_argument("file", type=Path, metavar="PATH", help="the file or folder to import")
    p.add_argument("--table", required=True, help="CBS table id the files were downloaded from")
    p.add_argument("--out", type=Path, help="raw folder (default: $WMO_RAW_DIR or data/raw)")

    p = _sub(sub, "build", "Build the DuckDB database from the raw folder (atomic swap).")
    p.add_argument("--raw", type=Path, help="raw folder (default: $WMO_RAW_DIR or data/raw)")
    p.add_argument("--db", type=Path,
                   help="database (default: $WMO_DB or data/processed/wmo.duckdb)")
    p.add_argument("--snapshot", type=Path, help="folder with geo/ (default: $WMO_SNAPSHOT_DIR)")
    p.add_argument("--reference-year", type=int, help="reference classification (default: newest "
                   "boundary year)")

    p = _sub(sub, "validate", "Run the whole build without writing the database: every check "
                              "and transform; lists all problems at once.")
    p.add_argument("--raw", type=Path, help="raw folder (default: $WMO_RAW_DIR or data/raw)")
    p.add_argument("--snapshot", type=Path, help="folder with geo/ (default: $WMO_SNAPSHOT_DIR)")
    p.add_argument("--reference-year", type=int, help="reference classification (default: newest "
                   "boundary year)")

    p = _sub(sub, "info",
             "What a database holds: build time, sources, synthetic or not, row counts.")
    p.add_argument("--db", type=Path)

    p = _sub(sub, "export", "Write the `out` tables as Parquet or CSV.")
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    p.add_argument("--out", type=Path, default=Path("data/processed/export"))
    p.add_argument("--db", type=Path)
    return parser


def _run(args: argparse.Namespace) -> int:
    # Imports are lazy so that `wmo --help` stays fast.
    from etl import commands

    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "demo": commands.demo, "fetch": commands.fetch, "import": commands.import_file,
        "build": commands.build, "validate": commands.validate, "info": commands.info,
        "export": commands.export,
    }
    return handlers[args.command](args)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except InputErrors as exc:
        for error in exc.errors:
            print(f"error: {error}", file=sys.stderr)
        print(f"{len(exc.errors)} problem(s) found; nothing was changed.", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("nothing was changed.", file=sys.stderr)
        return 2
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("the previous snapshot was left intact.", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted; nothing was changed.", file=sys.stderr)
        return 130
    except OSError as exc:
        # A path the user gave that cannot be read or written: bad input, not a crash.
        where = display_path(exc.filename) if exc.filename else "a file"
        print(f"error: {where}: {exc.strerror or type(exc).__name__}", file=sys.stderr)
        print("nothing was changed.", file=sys.stderr)
        return 2
    except Exception as exc:  # the last line of defence: never a traceback
        if os.environ.get("WMO_DEBUG"):
            raise
        print(f"error: unexpected failure ({type(exc).__name__}); nothing was changed. "
              "Run again with WMO_DEBUG=1 for the details and report it.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
