"""``tillit serve``: migrate, seed, optionally load the demo workspace, then serve."""

from __future__ import annotations

import os
from typing import Any

import click

__all__ = ["register", "serve"]


def _prepare(demo: bool) -> tuple[Any, list[tuple[str, str, str, str | None]]]:
    """Settings, migrated and seeded database, demo data and accounts when asked."""
    from tillit.config import load_settings
    from tillit.services.auth import ensure_demo_users
    from tillit.services.catalog import seed_geography
    from tillit.store.db import make_engine, upgrade

    settings = load_settings()
    if demo and not settings.demo:
        from dataclasses import replace

        settings = replace(settings, demo=True)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    seed_geography(engine)
    accounts: list[tuple[str, str, str, str | None]] = []
    if settings.demo:
        try:
            from tillit.services.demo import load_demo
        except ImportError:  # pragma: no cover - the demo module is optional
            click.echo("demo workspace not available in this build", err=True)
        else:
            click.echo("loading the demo workspace (first start takes a while) ...")
            info = load_demo(engine)
            state = "already loaded" if info.get("skipped") else "loaded"
            click.echo(f"demo workspace {state} ({info.get('seconds', 0):.1f} s)")
        accounts = ensure_demo_users(engine)
        from tillit.services.pilots import load_demo_pilots  # demo pilots (#5)

        load_demo_pilots(engine)
        from tillit.services.survey_results import load_demo_surveys  # (#7)

        load_demo_surveys(engine)
        from tillit.services.demo.audit import load_demo_inventories  # burden (#6)

        load_demo_inventories(engine)
        from tillit.services.demo.compensation import load_demo_compensation  # (#15)

        load_demo_compensation(engine)
        from tillit.services.reports import load_demo_evaluations  # results (#5)

        load_demo_evaluations(engine, wait=False)
    engine.dispose()
    return settings, accounts


@click.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Interface to bind."
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port.",
)
@click.option(
    "--demo/--no-demo",
    default=False,
    show_default=True,
    help="Load the demo workspace and demo accounts (labelled DEMO DATA in the UI).",
)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log every request with the client address. Off by default: survey links "
    "carry a respondent's code in the path, which must not be stored with an address.",
)
def serve(host: str, port: int, demo: bool, reload: bool, access_log: bool) -> None:
    """Serve the Tillit web platform and the JSON API (/api/v1).

    Reads TILLIT_DATABASE_URL (default: SQLite in ./var), TILLIT_DATA_DIR and
    TILLIT_SECRET_KEY; migrates the database and seeds the 290 municipalities first.
    """
    import uvicorn

    settings, accounts = _prepare(demo)
    url = f"http://{host}:{port}"
    click.echo(f"Tillit on {url}  (database: {settings.database_url})")
    if accounts:
        click.echo("demo accounts (user / password / role / organisation):")
        for user, password, role, org in accounts:
            click.echo(f"  {user:<11} {password:<16} {role:<10} {org or ''}")
    # the app is built by uvicorn from the environment (the CLI does not import the
    # web layer: both are front ends of the same layer)
    os.environ["TILLIT_DEMO"] = "1" if settings.demo else "0"
    uvicorn.run(
        "tillit.web.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        log_level="info",
        access_log=access_log,
    )


def register(main: click.Group) -> None:
    """Add ``serve`` to the ``tillit`` command."""
    main.add_command(serve)
