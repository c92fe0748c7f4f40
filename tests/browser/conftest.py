"""Browser tests: the REAL server (``tillit serve``) in a subprocess on a free port with a
temporary SQLite database, driven by Debian's Chromium through Playwright.

The database is prepared with the small web-test workspace (290 real municipalities,
three indicators, four users) rather than the full demo workspace, which takes about
half a minute to generate.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tillit.store.db import make_engine, upgrade

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WEB_CONFTEST = (
    Path(__file__).resolve().parents[1] / "integration" / "web" / "conftest.py"
)


def _need(available: bool, reason: str) -> None:
    if available:
        return
    if os.environ.get("TILLIT_STRICT") == "1":
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def _workspace_module():
    spec = importlib.util.spec_from_file_location("tillit_web_workspace", WEB_CONFTEST)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tillit_command() -> list[str]:
    script = Path(sys.executable).with_name("tillit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tillit.cli"]


@pytest.fixture(scope="session")
def axe_js() -> str:
    """axe-core's script (``./dev test`` installs it into ``.venv/axe``)."""
    from .a11y import find_axe

    path = find_axe()
    _need(
        path is not None, "axe-core not found (npm install --prefix .venv/axe axe-core)"
    )
    assert path is not None
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def passwords() -> dict[str, str]:
    """Passwords of the workspace's users."""
    return dict(_workspace_module().PASSWORDS)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a running ``tillit serve`` (stopped after the session)."""
    _need(CHROMIUM.exists(), f"{CHROMIUM} not found (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("server")
    url = f"sqlite:///{tmp / 'tillit.db'}"
    engine = make_engine(url)
    upgrade(engine)
    _workspace_module().build_workspace(engine)
    engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "TILLIT_DATABASE_URL": url,
        "TILLIT_DATA_DIR": str(tmp),
        "TILLIT_SECRET_KEY": "browser-test-secret-" + "x" * 20,
        "TILLIT_DEMO": "0",
    }
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen(
        [
            *_tillit_command(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-demo",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"server exited: {(tmp / 'server.log').read_text()[-2000:]}"
                )
            try:
                if httpx.get(base + "/api/v1/session", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("server did not start within 90 s")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def browser(server: str) -> Iterator[object]:
    """A headless Chromium (Debian's) driven by Playwright."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, tmp_path: Path) -> Iterator[object]:
    """A fresh browser context and page (own cookies); screenshots on failure stay in tmp."""
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" else None,
    )
    pg.console_errors = errors  # type: ignore[attr-defined]
    yield pg
    ctx.close()


__all__ = ["shutil"]
