"""The ``tillit`` command. Thin: parses flags, calls services or the core, maps errors.

Each command module exposes ``register(group)``; this file only wires them together.
Errors from the :mod:`tillit.core.errors` tree become one line on stderr and an exit code
(2 for bad input, 3 not found, 4 permission, 5 conflict); nothing prints a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from tillit import __version__
from tillit.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    TillitError,
)

__all__ = ["estimate", "main"]

# command modules, each with register(main_group) -> None
_MODULES = [
    "tillit.cli.serve",
    "tillit.cli.data",
    "tillit.cli.kolada",
    "tillit.cli.estimate_did",
    "tillit.cli.estimate_synth",
    "tillit.cli.estimate_misc",
    "tillit.cli.registry",
    "tillit.cli.audit",
]


def exit_code(err: TillitError) -> int:
    """Map an error to the CLI's exit code."""
    if isinstance(err, NotFound):
        return 3
    if isinstance(err, PermissionDenied):
        return 4
    if isinstance(err, Conflict):
        return 5
    return 2


class _Group(click.Group):
    """A group that turns TillitError into a clean message and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TillitError as err:
            click.echo(f"Error: {err.message}", err=True)
            sys.exit(exit_code(err))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tillit")
def main() -> None:
    """Tillit: follow up public services, evaluate pilots, and learn what works."""


@main.group(cls=_Group)
def estimate() -> None:
    """Estimate effects from a CSV panel (did, event-study, synth, sdid, trial, meta, power)."""


for _name in _MODULES:
    try:
        _mod = importlib.import_module(_name)
    except ModuleNotFoundError as _exc:  # a module not written yet
        if _exc.name != _name:
            raise
        continue
    _mod.register(main)
