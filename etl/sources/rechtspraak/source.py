"""The Rechtspraak source in the build's shape: `<raw>/rechtspraak/` → core.uitspraak."""

from __future__ import annotations

import polars as pl

from etl.errors import InputError, display_path
from etl.inputs import Inputs, attempt, bron_row, verified_sidecar
from etl.sources import Source, SourceContext
from etl.sources.rechtspraak.classify import UITSPRAAK_SCHEMA, uitspraak_rows
from etl.transform.uitspraak import PERIODE_SCHEMA, periode_frame

FOLDER = "rechtspraak"  # never rechtspraak.partial/: that is an unfinished fetch
TABLE = "core.uitspraak"
# The searched windows: which years the counts in `out` know (the rest stays NULL).
PERIODE = "meta.uitspraak_periode"


def read(inputs: Inputs, ctx: SourceContext) -> None:
    folder = ctx.raw_dir / FOLDER
    if not folder.is_dir():
        inputs.warnings.append(f"{display_path(folder)} missing: no court rulings "
                               "(`wmo fetch rechtspraak`)")
        inputs.frames[TABLE] = pl.DataFrame(schema=UITSPRAAK_SCHEMA)
        inputs.frames[PERIODE] = pl.DataFrame(schema=PERIODE_SCHEMA)
        return
    sidecar = verified_sidecar(inputs, folder, required=True)
    if sidecar is None:
        inputs.errors.append(InputError(display_path(folder), None, "_source.json",
                                        "snapshot has no _source.json sidecar"))
        return
    if inputs.gemeente is None:
        return  # the registers or boundaries failed; their problems are listed already
    gemeente = inputs.gemeente
    frame = attempt(inputs.errors, lambda: uitspraak_rows(folder, gemeente))
    if frame is None:
        return
    try:
        periode = periode_frame(list(sidecar.get("periodes") or []))
    except (TypeError, ValueError) as exc:
        inputs.errors.append(InputError(display_path(folder), None, "_source.json",
                                        f"periodes is not a list of 'van_tot' dates ({exc})"))
        return
    inputs.frames[TABLE] = frame
    inputs.frames[PERIODE] = periode
    inputs.bronnen.append(bron_row(folder, sidecar))
    wmo2015 = int(frame["is_wmo2015"].sum()) if frame.height else 0
    ctx.progress(f"rechtspraak: {frame.height} rulings, {wmo2015} about the Wmo 2015")


SOURCE = Source(
    "rechtspraak",
    reads="<raw>/rechtspraak/: Atom search pages and one content XML per ruling, _source.json",
    fetch="`wmo fetch rechtspraak --from … --to …` (Rechtspraak Open Data, WMO_RECHTSPRAAK_URL)",
    returns=(TABLE, PERIODE), read=read)
