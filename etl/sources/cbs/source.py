"""The CBS source in the build's shape: `<raw>/cbs/<TABLE_ID>/` → the core tables of the roles.

Every snapshot is checked against its sidecar, parsed by `parse.py` and handed to the build by
role; which tables exist, their roles, measures and target tables are declared in `tables.py`,
so adding a table of a known kind is a declaration there, not code here.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from etl import snapshot
from etl.errors import InputError, display_path
from etl.inputs import Inputs, Progress, attempt, bron_row, verified_sidecar
from etl.sources import Source, SourceContext
from etl.sources.cbs.parse import load_cbs_cube, load_cbs_snapshot
from etl.sources.cbs.tables import ROLES, spec_for, tables_of


def read_cbs(inputs: Inputs, raw_dir: Path, progress: Progress) -> None:
    cbs_dir = raw_dir / "cbs"
    folders = sorted(p for p in cbs_dir.iterdir() if p.is_dir() and "." not in p.name) \
        if cbs_dir.is_dir() else []
    for folder in folders:
        spec = spec_for(folder.name)
        if spec is None:
            inputs.warnings.append(f"{display_path(folder)}: table not used by wmo-atlas, skipped")
            continue
        if not (folder / snapshot.SIDECAR).exists():
            inputs.errors.append(InputError(display_path(folder), None, snapshot.SIDECAR,
                                            "snapshot has no _source.json sidecar"))
            continue
        sidecar = verified_sidecar(inputs, folder, required=True)
        if sidecar is None:
            continue
        progress(f"parsing {spec.table_id} ({sidecar.get('format')})")
        # The persoonskenmerken table has millions of cells: it stays a compact cube.
        load = load_cbs_cube if spec.role.compact else load_cbs_snapshot
        table = attempt(inputs.errors, partial(load, folder, spec.measures))
        if table is None:
            continue
        inputs.bronnen.append(bron_row(folder, sidecar))
        inputs.cbs.setdefault(spec.role.name, []).append((spec, table))
    if not inputs.wmo_tables:
        inputs.errors.append(InputError(display_path(cbs_dir), None, None,
                                        "no CBS Wmo table found (one of "
                                        + ", ".join(tables_of("wmo_clienten"))
                                        + "); run `wmo fetch cbs --table 86050NED` or `wmo demo`"))
    if not inputs.cbs.get("bevolking"):
        inputs.warnings.append("no population table (03759NED): rates per 1 000 inwoners and the "
                               "share 75+ stay NULL in out.gemeente_periode")


# Optional roles whose absence leaves out.gemeente_periode columns NULL: said, not silent.
OPTIONAL_ROLES = {"wmo_uitgaven": "spending", "wmo_stroom": "instroom/uitstroom",
                  "wmo_beeindiging": "support ended by the gemeente"}


def read(inputs: Inputs, ctx: SourceContext) -> None:
    read_cbs(inputs, ctx.raw_dir, ctx.progress)
    for role, what in OPTIONAL_ROLES.items():
        if inputs.wmo_tables and not inputs.cbs.get(role):
            inputs.warnings.append(
                f"no {what} table ({', '.join(tables_of(role))}): its columns stay NULL in "
                "out.gemeente_periode")


SOURCE = Source(
    "cbs", reads="<raw>/cbs/<TABLE_ID>/ with _source.json: OData v3, v4 or StatLine CSV "
                 "snapshots of the tables declared in etl/sources/cbs/tables.py",
    fetch="`wmo fetch cbs --table ID`, `wmo import cbs FILES --table ID`, or `wmo demo`",
    returns=tuple(t for role in ROLES.values() for t in role.targets), read=read)
