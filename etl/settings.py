"""Settings: command-line flags beat environment variables beat defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CBS_V3_URL = "https://opendata.cbs.nl"
DEFAULT_CBS_V4_URL = "https://datasets.cbs.nl/odata/v1/CBS"
DEFAULT_RECHTSPRAAK_URL = "https://data.rechtspraak.nl"


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    db_path: Path
    snapshot_dir: Path | None
    cbs_v3_url: str
    cbs_v4_url: str
    http_timeout: float
    http_retries: int
    # Last and with a default, so code that builds Settings by hand keeps working.
    rechtspraak_url: str = DEFAULT_RECHTSPRAAK_URL


def _env_path(name: str, default: str | None) -> Path | None:
    value = os.environ.get(name) or default
    return Path(value) if value else None


def load_settings(
    *,
    raw_dir: Path | None = None,
    db_path: Path | None = None,
    snapshot_dir: Path | None = None,
) -> Settings:
    env = os.environ
    return Settings(
        raw_dir=raw_dir or _env_path("WMO_RAW_DIR", "data/raw"),  # type: ignore[arg-type]
        db_path=db_path or _env_path("WMO_DB", "data/processed/wmo.duckdb"),  # type: ignore[arg-type]
        snapshot_dir=snapshot_dir or _env_path("WMO_SNAPSHOT_DIR", None),
        cbs_v3_url=env.get("WMO_CBS_V3_URL", DEFAULT_CBS_V3_URL).rstrip("/"),
        cbs_v4_url=env.get("WMO_CBS_V4_URL", DEFAULT_CBS_V4_URL).rstrip("/"),
        http_timeout=float(env.get("WMO_HTTP_TIMEOUT", "30")),
        http_retries=int(env.get("WMO_HTTP_RETRIES", "4")),
        rechtspraak_url=env.get("WMO_RECHTSPRAAK_URL", DEFAULT_RECHTSPRAAK_URL).rstrip("/"),
    )
