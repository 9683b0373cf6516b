"""The SQL console's limits: one named, documented setting each (as Datasette does).

Every console query and every console download runs in a worker process of its own (see
`sql_sandbox.py`); these are the limits that process runs under. Each can be overridden with
the environment variable named in `SETTINGS`; the README's settings table and the SQL page's
help text are generated from, or tested against, this one list.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from dashboard import fmt

MB = 1024 * 1024


@dataclass(frozen=True)
class Setting:
    field: str
    env: str
    default: float
    unit: str
    description: str


# Order is the order of the README table.
SETTINGS: tuple[Setting, ...] = (
    Setting("timeout_s", "WMO_SQL_TIMEOUT_S", 5, "s",
            "wall time of one console query; after it the worker process is killed (SIGKILL), "
            "not asked to stop, so no expression can outlast it"),
    Setting("download_timeout_s", "WMO_SQL_DOWNLOAD_TIMEOUT_S", 20, "s",
            "wall time of one console download (query plus CSV/Parquet writing), killed alike"),
    Setting("memory_mb", "WMO_SQL_MEMORY_MB", 1024, "MB",
            "memory a worker may add to its start-up size: an OS limit (RLIMIT_AS) set before "
            "DuckDB starts; DuckDB's own memory_limit is half of it and locked"),
    Setting("max_rows", "WMO_SQL_MAX_ROWS", 1000, "rows",
            "rows shown on the page; the rest are in the download"),
    Setting("max_cell_bytes", "WMO_SQL_MAX_CELL_BYTES", 1 * MB, "bytes",
            "largest single value (as text or bytes); a result holding a larger one is refused"),
    Setting("max_result_bytes", "WMO_SQL_MAX_RESULT_BYTES", 16 * MB, "bytes",
            "largest shown result (Arrow size of the shown rows); a larger one is refused"),
    Setting("max_download_rows", "WMO_SQL_MAX_DOWNLOAD_ROWS", 1_000_000, "rows",
            "rows in a download; a longer result is cut there and the file and page say so"),
    Setting("max_download_bytes", "WMO_SQL_MAX_DOWNLOAD_BYTES", 64 * MB, "bytes",
            "largest download file (and Arrow size of its rows); a larger one is refused"),
    Setting("concurrency", "WMO_SQL_CONCURRENCY", 2, "queries",
            "console queries and downloads running at once per server"),
    Setting("queue_wait_s", "WMO_SQL_QUEUE_WAIT_S", 3, "s",
            "how long an extra query waits for a free slot before it gets the 'busy' message"),
    Setting("warm_workers", "WMO_SQL_WARM_WORKERS", 1, "processes",
            "idle workers started in advance, so a query does not wait for Python to start; "
            "each worker runs one job and exits, a fresh one takes its place"),
    Setting("max_query_chars", "WMO_SQL_MAX_QUERY_CHARS", 20_000, "characters",
            "longest query text accepted"),
)


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 5
    download_timeout_s: float = 20
    memory_mb: int = 1024
    max_rows: int = 1000
    max_cell_bytes: int = 1 * MB
    max_result_bytes: int = 16 * MB
    max_download_rows: int = 1_000_000
    max_download_bytes: int = 64 * MB
    concurrency: int = 2
    queue_wait_s: float = 3
    warm_workers: int = 1
    max_query_chars: int = 20_000

    @property
    def duckdb_memory_mb(self) -> int:
        # Half the OS budget: DuckDB's own limit then fires first with its clear error, and the
        # other half is room for what DuckDB does not count (Arrow copies, polars, the export).
        return max(self.memory_mb // 2, 64)

    @property
    def file_bytes(self) -> int:
        """RLIMIT_FSIZE of a worker: no file it writes can grow beyond the largest result."""
        return max(self.max_download_bytes, self.max_result_bytes) + 4 * MB


def parse_setting(setting: Setting, raw: str) -> float | int:
    """The value of one environment override; ValueError naming the variable otherwise."""
    try:
        value = float(raw.replace("_", ""))
    except ValueError:
        raise ValueError(f"{setting.env}={raw!r} is not a number") from None
    lowest = 0 if setting.field == "warm_workers" else 1e-9  # no warm workers is allowed
    if value < lowest:
        raise ValueError(f"{setting.env}={raw!r} must be above 0")
    is_int = Limits.__dataclass_fields__[setting.field].type == "int"
    return int(value) if is_int else value


def limits_from_env(env: Mapping[str, str] | None = None) -> Limits:
    """Defaults, overridden by every WMO_SQL_* variable that is set."""
    env = os.environ if env is None else env
    values = {s.field: parse_setting(s, env[s.env]) for s in SETTINGS if env.get(s.env)}
    return Limits(**values)


def default_of(field: str) -> float:
    return Limits.__dataclass_fields__[field].default  # type: ignore[return-value]


def _check_settings_cover_limits() -> None:
    # A limit without a documented setting (or the reverse) is a bug; fail at import.
    names = {f.name for f in fields(Limits)}
    documented = {s.field for s in SETTINGS}
    if names != documented or any(s.default != default_of(s.field) for s in SETTINGS):
        raise RuntimeError("sql_limits.SETTINGS and Limits disagree")


_check_settings_cover_limits()


def human_bytes(n: float, lang: str = "nl") -> str:
    """Bytes in the binary units the limits are set in ('64 MB', '1,02 MB', '512 kB'), the
    number written by dashboard/fmt.py; two places below 10 so that a value just over a
    limit does not read as the limit. The README table is written in English."""
    value, unit = (n / MB, "MB") if n >= MB else (n / 1024, "kB")
    places = fmt.places(value, 2 if value < 10 else 1)
    return f"{fmt.number(value, lang, places)} {unit}"


def settings_markdown() -> str:
    """The README table: variable, default, meaning."""
    lines = ["| environment | default | limit |", "|---|---|---|"]
    for s in SETTINGS:
        number = (f"{int(s.default):,}".replace(",", " ") if float(s.default).is_integer()
                  else f"{s.default:g}")
        default = human_bytes(s.default, "en") if s.unit == "bytes" else f"{number} {s.unit}"
        lines.append(f"| `{s.env}` | {default} | {s.description} |")
    return "\n".join(lines)
