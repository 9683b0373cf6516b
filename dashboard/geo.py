"""Map geometry: read once per build from the database, sent to a browser once per session.

The boundaries never change between reruns, only the values do. With Streamlit's static file
serving on, the features are written (once per build, named by content hash) to
`dashboard/static/geo/` and the chart names them by URL: the browser fetches the file once and
caches it, and each rerun carries only the ~30 kB of values, joined to the shapes by code in
Vega (a `lookup` transform). Without static serving (AppTest, or a server started without the
option) the features are inlined instead, which is correct but heavier.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from dashboard.db import Database

STATIC_DIR = Path(__file__).resolve().parent / "static"
URL_PREFIX = "app/static"  # Streamlit serves <main script dir>/static at /app/static


def features(db: Database, kind: str = "gemeente") -> list[dict[str, Any]]:
    """GeoJSON features of the reference classification with `code` and `naam` at top level
    (a nested `properties.code` comes back from a Vega selection as an escaped key)."""
    def compute() -> list[dict[str, Any]]:
        if kind == "gemeente":
            sql = ("SELECT g.gemeente_code AS code, g.geojson FROM core.gemeente_geometrie g "
                   "WHERE g.indeling_jaar = (SELECT referentie_indeling FROM meta.build) "
                   "ORDER BY code")
        else:
            sql = ("SELECT provincie_code AS code, geojson FROM core.provincie_geometrie "
                   "WHERE indeling_jaar = (SELECT max(indeling_jaar) FROM core.provincie_geometrie)"
                   " ORDER BY code")
        frame = db.query(sql)
        return [{"type": "Feature", "code": code, "geometry": json.loads(geom)}
                for code, geom in frame.iter_rows()]
    return db.memo(("features", kind), compute)


def _payload(db: Database, kind: str) -> tuple[str, bytes]:
    def compute() -> tuple[str, bytes]:
        body = json.dumps(features(db, kind), separators=(",", ":")).encode("utf-8")
        return hashlib.sha256(body).hexdigest()[:16], body
    return db.memo(("payload", kind), compute)


def static_url(db: Database, kind: str = "gemeente", static_dir: Path = STATIC_DIR) -> str:
    """Relative URL of the features file, written atomically if this build's file is missing."""
    digest, body = _payload(db, kind)
    name = f"{kind}-{digest}.json"
    target = static_dir / "geo" / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            out.write(body)
        os.replace(tmp, target)  # concurrent sessions write identical bytes; last one wins
    return f"{URL_PREFIX}/geo/{name}"
