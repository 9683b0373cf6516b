"""`wmo fetch cbs`: download one CBS table into `<raw>/cbs/<TABLE_ID>/` (docs/design.md).

Every page is written exactly as CBS delivered it; the folder is staged and swapped in only
when the whole table is complete, so a failed run leaves the previous snapshot untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from etl.errors import FetchError
from etl.settings import Settings
from etl.snapshot import CBS_LICENCE, CBS_PRODUCER, staged_folder, write_sidecar
from etl.sources.cbs import tables
from etl.sources.cbs.client import CbsClient

Progress = Callable[[str], None]

V3_DATA = "TypedDataSet"
# Root entries that are not dimension lists (this is how cbsodata tells them apart, too).
V3_NOT_DIMENSIONS = frozenset(
    {"TableInfos", "UntypedDataSet", "TypedDataSet", "DataProperties", "CategoryGroups"})
V3_FIXED_META = ("TableInfos", "DataProperties", "CategoryGroups")
V4_DATA = "Observations"
V4_SINGLETON = "Properties"

_TABLE_ID = re.compile(r"^[0-9A-Za-z]{4,16}$")
# Resource names come from the server and become folder names: no separators, no dots.
_RESOURCE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def normalise_table_id(table_id: str) -> str:
    tid = table_id.strip().upper()
    if not _TABLE_ID.match(tid):
        raise ValueError(f"not a CBS table id: {table_id!r} (expected e.g. 86050NED)")
    return tid


def encode_filter(expr: str) -> str:
    """`$filter` value for a URL: spaces as %20 and quotes as %27 (a `+` is not read as space)."""
    return quote(expr, safe="(),")


def v3_root_url(v3: str, tid: str) -> str:
    return f"{v3}/ODataApi/odata/{tid}/?$format=json"


def v3_resource_url(v3: str, tid: str, resource: str) -> str:
    return f"{v3}/ODataApi/odata/{tid}/{resource}?$format=json"


def v3_data_url(v3: str, tid: str, data_filter: str | None) -> str:
    url = f"{v3}/ODataFeed/odata/{tid}/{V3_DATA}?$format=json"
    return url + f"&$filter={encode_filter(data_filter)}" if data_filter else url


def v4_resource_url(v4: str, tid: str, resource: str, data_filter: str | None = None) -> str:
    url = f"{v4}/{tid}/{resource}"
    return url + f"?$filter={encode_filter(data_filter)}" if data_filter else url


def root_names(url: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, kind) of each resource a table root lists; v3 roots have no kind ('')."""
    entries: list[tuple[str, str]] = []
    for i, entry in enumerate(data.get("value", [])):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not _RESOURCE_NAME.match(name):
            raise FetchError(f"GET {url}: unexpected response shape: value[{i}] has no usable "
                             f"resource name ({entry!r:.80})")
        entries.append((name, str(entry.get("kind") or "")))
    return entries


def v3_metadata_plan(names: Iterable[str]) -> list[str]:
    """Metadata resources to fetch, fixed ones first, then the dimension lists in listed order."""
    listed = list(dict.fromkeys(names))
    for required in ("TableInfos", "DataProperties"):
        if required not in listed:
            raise FetchError(f"table root does not list {required}; resources: {listed}")
    fixed = [name for name in V3_FIXED_META if name in listed]
    return fixed + [name for name in listed if name not in V3_NOT_DIMENSIONS]


def v4_metadata_plan(entries: Iterable[tuple[str, str]]) -> list[str]:
    """Properties, Dimensions, MeasureCodes/-Groups and every <Dim>Codes/<Dim>Groups."""
    listed = list(dict.fromkeys(name for name, _ in entries))
    for required in (V4_SINGLETON, "Dimensions", "MeasureCodes"):
        if required not in listed:
            raise FetchError(f"table root does not list {required}; resources: {listed}")
    head = [V4_SINGLETON, "Dimensions", "MeasureCodes"]
    if "MeasureGroups" in listed:
        head.append("MeasureGroups")
    rest = [name for name in listed
            if name not in head and name.endswith(("Codes", "Groups"))]
    return head + rest


class _Writer:
    """Writes the pages of each resource under `<folder>/<api>/<Resource>/` and reports them."""

    def __init__(self, client: CbsClient, folder: Path, api: str, tid: str, base: str,
                 progress: Progress | None) -> None:
        self.client, self.folder, self.api, self.tid = client, folder, api, tid
        self.base, self.progress = base, progress

    def resource(self, name: str, url: str, *, singleton: bool = False) -> dict[str, Any]:
        """Fetch all pages of one resource; returns the first page's JSON (titles live there)."""
        target = self.folder / self.api / name
        target.mkdir(parents=True, exist_ok=True)
        first: dict[str, Any] | None = None
        rows = 0
        pages = self.client.iter_pages(url, base=self.base, table_id=self.tid,
                                       singleton=singleton)
        for number, page in enumerate(pages, start=1):
            (target / f"page-{number:04d}.json").write_bytes(page.body)
            rows += page.rows
            first = page.data if first is None else first
            if self.progress:
                self.progress(f"{self.tid} {name} page {number} ({rows} rows)")
        if first is None:  # iter_pages yields at least one page or raises; keep -O honest
            raise FetchError(f"GET {url}: no page received")
        return first


def _title(data: dict[str, Any], tid: str) -> str:
    title = data.get("Title")
    return title.strip() if isinstance(title, str) and title.strip() else tid


def _fetch_v3(client: CbsClient, folder: Path, tid: str, settings: Settings,
              data_filter: str | None, metadata_only: bool,
              progress: Progress | None) -> dict[str, Any]:
    v3 = settings.cbs_v3_url
    writer = _Writer(client, folder, "v3", tid, v3, progress)
    root_url = v3_root_url(v3, tid)
    _, root = client.get(root_url)
    names = [name for name, _ in root_names(root_url, root)]
    title = tid
    for name in v3_metadata_plan(names):
        first = writer.resource(name, v3_resource_url(v3, tid, name))
        if name == "TableInfos" and first["value"]:
            title = _title(first["value"][0], tid)
    if metadata_only:
        return {"title": title, "url": f"{v3}/ODataApi/odata/{tid}", "format": "odata-v3"}
    if V3_DATA not in names:
        raise FetchError(f"GET {root_url}: table root does not list {V3_DATA}")
    writer.resource(V3_DATA, v3_data_url(v3, tid, data_filter))
    return {"title": title, "url": f"{v3}/ODataFeed/odata/{tid}", "format": "odata-v3"}


def _fetch_v4(client: CbsClient, folder: Path, tid: str, settings: Settings,
              data_filter: str | None, metadata_only: bool,
              progress: Progress | None) -> dict[str, Any]:
    v4 = settings.cbs_v4_url
    writer = _Writer(client, folder, "v4", tid, v4, progress)
    root_url = f"{v4}/{tid}/"
    _, root = client.get(root_url)
    entries = root_names(root_url, root)
    title = tid
    for name in v4_metadata_plan(entries):
        first = writer.resource(name, v4_resource_url(v4, tid, name),
                                singleton=name == V4_SINGLETON)
        if name == V4_SINGLETON:
            title = _title(first, tid)
    if not metadata_only:
        if V4_DATA not in {name for name, _ in entries}:
            raise FetchError(f"GET {root_url}: table root does not list {V4_DATA}")
        writer.resource(V4_DATA, v4_resource_url(v4, tid, V4_DATA, data_filter))
    return {"title": title, "url": f"{v4}/{tid}", "format": "odata-v4"}


def fetch_cbs_table(
    table_id: str,
    api: str,
    out_root: Path,
    settings: Settings,
    *,
    data_filter: str | None = None,
    metadata_only: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Download one table into `<out_root>/cbs/<TABLE_ID>/` and return that folder.

    v3: `data_filter` defaults to the table's `v3_filter` in `tables.py`; pass `""` to download
    the unfiltered data set. v4: only an explicit `data_filter` (OData 4 syntax) is applied.
    `metadata_only` skips TypedDataSet/Observations (the StatLine CSV import needs only the
    code lists). Raises FetchError when a download fails for good; the previous snapshot, if
    any, is then left as it was.
    """
    tid = normalise_table_id(table_id)
    if api not in ("v3", "v4"):
        raise ValueError(f"api must be 'v3' or 'v4', got {api!r}")
    if data_filter is None and api == "v3":
        spec = tables.spec_for(tid)
        data_filter = spec.v3_filter if spec else None
    dest = Path(out_root) / "cbs" / tid
    fetch = _fetch_v3 if api == "v3" else _fetch_v4
    with CbsClient(settings) as client, staged_folder(dest) as folder:
        meta = fetch(client, folder, tid, settings, data_filter or None, metadata_only, progress)
        extra: dict[str, Any] = {}
        if data_filter and not metadata_only:
            extra["data_filter"] = data_filter  # a filtered download is not the whole table
        if metadata_only:
            extra["metadata_only"] = True
        write_sidecar(folder, {
            "source_id": f"cbs-{tid}",
            "title": meta["title"],
            "producer": CBS_PRODUCER,
            "url": meta["url"],
            "licence": CBS_LICENCE,
            "format": meta["format"],
            "table_id": tid,
            "synthetic": False,
            **extra,
        })
    return dest
