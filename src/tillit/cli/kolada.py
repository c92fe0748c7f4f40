"""``tillit kolada fetch`` and ``tillit kolada metadata``: the live Kolada API.

These commands need network access to https://api.kolada.se (or the mirror named by
``TILLIT_KOLADA_URL``); without it they stop with "cannot reach api.kolada.se ...".
"""

from __future__ import annotations

import click
import pandas as pd

from tillit.cli.data import open_engine, progress_bar
from tillit.services import catalog, imports
from tillit.sources.kolada import KoladaClient
from tillit.sources.kolada_meta import indicators_from_records, peer_groups_from_frame

__all__ = ["kolada_group", "register"]


@click.group("kolada")
def kolada_group() -> None:
    """Fetch indicator metadata and values from the Kolada API (needs the network)."""


@kolada_group.command("fetch")
@click.option(
    "--kpi", "kpis", multiple=True, required=True, help="KPI id (repeatable)."
)
@click.option(
    "--municipality",
    "municipalities",
    multiple=True,
    help="Municipality or region code (repeatable; default all).",
)
@click.option("--ou", "ous", multiple=True, help="Organisational unit id (repeatable).")
@click.option("--from", "first", type=click.IntRange(1900, 2100), required=True)
@click.option("--to", "last", type=click.IntRange(1900, 2100), required=True)
@click.option(
    "--url", default=None, help="API root (default $TILLIT_KOLADA_URL or v3)."
)
def fetch_cmd(
    kpis: tuple[str, ...],
    municipalities: tuple[str, ...],
    ous: tuple[str, ...],
    first: int,
    last: int,
    url: str | None,
) -> None:
    """Download values for KPIs x municipalities x years and import them as one batch."""
    if last < first:
        raise click.BadParameter("--to must not be before --from", param_hint="--to")
    engine = open_engine()
    with KoladaClient(url) as client, progress_bar("downloading") as update:

        def on_page(pages: int, rows: int) -> None:
            update(rows, 0)

        report = imports.fetch_kolada(
            engine,
            client,
            kpis=list(kpis),
            municipalities=list(municipalities) or None,
            ous=list(ous) or None,
            years=range(first, last + 1),
            progress=update,
            on_page=on_page,
        )
    click.echo(report.summary())


@kolada_group.command("metadata")
@click.option(
    "--groups/--no-groups",
    default=True,
    show_default=True,
    help="Also load municipality groups as peer groups.",
)
@click.option(
    "--url", default=None, help="API root (default $TILLIT_KOLADA_URL or v3)."
)
def metadata_cmd(groups: bool, url: str | None) -> None:
    """Load all KPI metadata (and municipality groups) from the Kolada API."""
    engine = open_engine()
    with KoladaClient(url) as client:
        n = catalog.upsert_indicators(engine, indicators_from_records(client.kpis()))
        click.echo(f"indicators: {n} created or changed")
        if groups:
            known = set(catalog.organisation_codes(engine))
            rows = [
                (str(g["id"]), str(g["title"]), str(m["id"]))
                for g in client.municipality_groups()
                for m in g.get("members", [])
                if str(m["id"]) in known
            ]
            frame = pd.DataFrame(rows, columns=["group_id", "group_title", "member_id"])
            g = catalog.upsert_peer_groups(engine, peer_groups_from_frame(frame))
            click.echo(f"peer groups: {g} created or changed")


def register(main: click.Group) -> None:
    """Add ``tillit kolada`` to the main group."""
    main.add_command(kolada_group)
