"""The web-test workspace (290 municipalities, three indicators, four users) for the
burden-ledger and audit pages; one private SQLite copy per test module."""

from __future__ import annotations

import importlib.util
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Engine

from tillit.config import Settings
from tillit.store.db import make_engine, upgrade
from tillit.web.app import create_app

from ...conftest import BACKENDS, migrated_database

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

WEB_CONFTEST = Path(__file__).resolve().parents[1] / "web" / "conftest.py"


def workspace_module() -> ModuleType:
    """tests/integration/web/conftest.py as a module (build_workspace, PASSWORDS)."""
    spec = importlib.util.spec_from_file_location("tillit_audit_ws", WEB_CONFTEST)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


WS = workspace_module()


@pytest.fixture(scope="session")
def audit_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built SQLite workspace (copy it, do not write to it)."""
    path = tmp_path_factory.mktemp("auditws") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    WS.build_workspace(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def app_engine(
    audit_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[object, Engine]]:
    """An app on a private copy of the workspace (shared within a test module)."""
    tmp = tmp_path_factory.mktemp("auditapp")
    db = tmp / "tillit.db"
    shutil.copy(audit_template, db)
    engine = make_engine(f"sqlite:///{db}")
    settings = Settings(
        database_url=f"sqlite:///{db}", data_dir=tmp, secret_key="t" * 32, demo=True
    )
    yield create_app(settings, engine=engine), engine
    engine.dispose()


@pytest.fixture
def client(app_engine: tuple[object, Engine]) -> Iterator[TestClient]:
    """An anonymous client (fresh cookies per test)."""
    with TestClient(app_engine[0], raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        yield c


def sign_in(client: TestClient, username: str) -> None:
    """Sign ``client`` in through the real form."""
    WS.sign_in(client, username)


def csrf_of(client: TestClient, path: str = "/signin") -> str:
    """The CSRF token of a page's form."""
    return str(WS.csrf_of(client, path))


@pytest.fixture(scope="module", params=BACKENDS)
def store_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The workspace on a fresh SQLite file or a fresh PostgreSQL database."""
    yield from migrated_database(
        request, tmp_path_factory.mktemp("st"), WS.build_workspace
    )
