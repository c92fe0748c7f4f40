"""``tillit registry verify``: check a downloaded pilot registry offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tillit.core.errors import DataError
from tillit.domain.registry import read_jsonl, verify_chain

__all__ = ["register"]


@click.group("registry")
def registry() -> None:
    """The pilot registry: tamper-evident pre-registrations."""


@registry.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def verify(file: Path, fmt: str) -> None:
    """Verify FILE, a registry downloaded as JSON Lines (GET /api/v1/registry.jsonl).

    Recomputes every entry's SHA-256 and checks that each links to the one before it.
    Exit code 0 when the chain is intact, 1 when it is not.
    """
    if not file.exists():
        raise DataError("file not found", file=str(file))
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError("not UTF-8 text", file=str(file)) from exc
    rep = verify_chain(read_jsonl(text, file=str(file)))
    if fmt == "json":
        click.echo(json.dumps(rep.to_dict(), indent=2))
    elif rep.ok:
        click.echo(
            f"OK: {rep.n_entries} entries for {rep.n_pilots} pilots; the chain is intact.\n"
            f"head {rep.head}"
        )
    else:
        click.echo(f"BROKEN: {rep.problem}", err=True)
    sys.exit(0 if rep.ok else 1)


def register(main: click.Group) -> None:
    """Add ``tillit registry`` to the main command."""
    main.add_command(registry)
