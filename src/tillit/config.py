"""Settings read once from the environment by the CLI and the web app.

| variable              | default                               | meaning |
|-----------------------|---------------------------------------|---------|
| TILLIT_DATABASE_URL   | sqlite:///<data dir>/tillit.db        | SQLAlchemy URL; ``postgresql+psycopg://...`` in production |
| TILLIT_DATA_DIR       | ./var                                 | where the embedded database and uploads live |
| TILLIT_SECRET_KEY     | generated once into <data dir>/secret | signs session cookies |
| TILLIT_DEMO           | 1 for ``tillit serve --demo``         | load the demo workspace on start |
| TILLIT_JOB_WORKERS    | 1                                     | background job worker threads the web app starts (0-16; 0: run ``tillit jobs work`` instead) |
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from tillit.core.errors import DataError

__all__ = ["Settings", "load_settings"]


@dataclass(frozen=True)
class Settings:
    """Process-wide settings."""

    database_url: str
    data_dir: Path
    secret_key: str
    demo: bool = False
    job_workers: int = 0


def _secret(data_dir: Path) -> str:
    path = data_dir / "secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings from ``env`` (default: the process environment)."""
    e = dict(os.environ if env is None else env)
    data_dir = Path(e.get("TILLIT_DATA_DIR", "var")).resolve()
    url = e.get("TILLIT_DATABASE_URL") or f"sqlite:///{data_dir / 'tillit.db'}"
    secret = e.get("TILLIT_SECRET_KEY") or _secret(data_dir)
    demo = e.get("TILLIT_DEMO", "0").lower() in {"1", "true", "yes"}
    workers = e.get("TILLIT_JOB_WORKERS", "1").strip()
    if not workers.isdigit() or int(workers) > 16:
        raise DataError(
            "must be a whole number from 0 to 16", field="TILLIT_JOB_WORKERS"
        )
    return Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key=secret,
        demo=demo,
        job_workers=int(workers),
    )
