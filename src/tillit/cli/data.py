"""``tillit db``, ``tillit import``, ``tillit export`` and ``tillit import-kolada-metadata``.

The database URL comes from :func:`tillit.config.load_settings` (``TILLIT_DATABASE_URL``,
default SQLite under ./var). Commands that write bring the schema up to date and make sure
the municipalities and regions exist first, so a fresh database needs no extra step.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import Engine

from tillit.cli.progress import progress_bar
from tillit.config import load_settings
from tillit.core.errors import DataError
from tillit.domain.records import Indicator
from tillit.services import catalog, imports
from tillit.sources.export import to_csv_bytes, to_parquet_bytes
from tillit.sources.kolada_meta import read_kpi_metadata
from tillit.store.db import make_engine, upgrade

__all__ = ["open_engine", "progress_bar", "register"]


def open_engine(*, prepare: bool = True) -> Engine:
    """The configured database; with ``prepare`` upgraded and seeded with geography."""
    engine = make_engine(load_settings().database_url)
    if prepare:
        upgrade(engine)
        catalog.seed_geography(engine)
    return engine


def _read_meta(path: Path | None) -> list[Indicator]:
    if path is None:
        return []
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    return list(read_kpi_metadata(path.read_bytes(), file=str(path)))


@click.group("db")
def db_group() -> None:
    """Create or upgrade the database and load reference data."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Bring the schema up to the newest migration."""
    engine = open_engine(prepare=False)
    upgrade(engine)
    click.echo(f"database at the newest schema: {engine.url.render_as_string()}")


@db_group.command("seed")
@click.option(
    "--kolada-groups",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Also load Kolada municipality groups (CSV snapshot or /municipality_groups JSON).",
)
def db_seed(kolada_groups: Path | None) -> None:
    """Load the 290 municipalities, 21 regions, SKR groups and counties (idempotent)."""
    engine = open_engine()
    click.echo(
        "geography: 290 municipalities, 21 regions, the country; SKR and county groups"
    )
    if kolada_groups:
        n = catalog.import_municipality_groups(
            engine, kolada_groups.read_bytes(), str(kolada_groups)
        )
        click.echo(f"Kolada municipality groups: {n} created or changed")


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "kolada-json"]),
    default=None,
    help="File format (default: guessed from the extension and content).",
)
@click.option(
    "--metadata",
    type=click.Path(dir_okay=False, path_type=Path),
    help="KPI metadata (Kolada kpi.csv or /kpi JSON) to load in the same transaction.",
)
def import_cmd(file: Path, fmt: str | None, metadata: Path | None) -> None:
    """Import observations from FILE (long CSV or Kolada JSON) as one batch."""
    engine = open_engine()
    meta = _read_meta(metadata)
    with progress_bar(f"importing {file.name}") as update:
        report = imports.import_file(
            engine,
            file,
            fmt=fmt,
            progress=update,
            indicators_meta=meta,
        )
    click.echo(report.summary())


@click.command("import-kolada-metadata")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--groups",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Also load Kolada municipality groups as peer groups.",
)
def import_metadata_cmd(file: Path, groups: Path | None) -> None:
    """Load KPI metadata from a Kolada kpi.csv snapshot or a /kpi JSON response."""
    engine = open_engine()
    n = catalog.import_kpi_metadata(engine, file.read_bytes(), str(file))
    click.echo(f"indicators: {n} created or changed")
    if groups:
        g = catalog.import_municipality_groups(engine, groups.read_bytes(), str(groups))
        click.echo(f"peer groups: {g} created or changed")


@click.command("export")
@click.option("--indicator", required=True, help="Indicator id, e.g. N00945.")
@click.option(
    "--municipality",
    "municipalities",
    multiple=True,
    help="Organisation code (repeatable; default all).",
)
@click.option(
    "--gender",
    type=click.Choice(["T", "K", "M", "all"]),
    default="all",
    show_default=True,
    help="Which gender split to export.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write ('-' for standard output, CSV only).",
)
def export_cmd(
    indicator: str, municipalities: tuple[str, ...], gender: str, fmt: str, output: Path
) -> None:
    """Export one indicator's values (organisations x periods x genders)."""
    from tillit.services import followup  # its statistics import scipy: only here

    engine = open_engine(prepare=False)
    upgrade(engine)
    df = followup.export_values(
        engine,
        indicator,
        codes=list(municipalities) or None,
        gender=None if gender == "all" else gender,
    )
    data = to_csv_bytes(df) if fmt == "csv" else to_parquet_bytes(df)
    if str(output) == "-":
        if fmt != "csv":
            raise DataError("Parquet cannot go to standard output; give -o FILE")
        click.echo(data.decode("utf-8"), nl=False)
        return
    output.write_bytes(data)
    click.echo(f"{len(df)} rows written to {output}", err=True)


def register(main: click.Group) -> None:
    """Add the data commands to the ``tillit`` group."""
    main.add_command(db_group)
    main.add_command(import_cmd)
    main.add_command(export_cmd)
    main.add_command(import_metadata_cmd)
