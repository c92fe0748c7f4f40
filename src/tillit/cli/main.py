"""The ``tillit`` command. Thin: parses flags, calls services or the core, maps errors.

Each command module exposes ``register(group)``; this file only wires them together.
Errors from the :mod:`tillit.core.errors` tree become one line on stderr and an exit code
(2 for bad input, 3 not found, 4 permission, 5 conflict); nothing prints a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, ClassVar

import click

from tillit import __version__
from tillit.core.errors import (
    Conflict,
    DataError,
    NotFound,
    PermissionDenied,
    TillitError,
)

__all__ = ["estimate", "main"]

# Each command module has register(main_group) -> None.  They are imported on first use
# of one of their commands, so that `tillit --help` or `tillit estimate sdid` does not
# import the whole engine and the database layer (3.5 s) first.  The one-line help of
# the lists below stands in for the commands until they are loaded; a test keeps it
# equal to their own.
_MAIN: dict[str, tuple[str, str]] = {
    "audit": (
        "tillit.cli.audit",
        "Burden ledger and indicator signal audit (what to remove, what to add).",
    ),
    "compensation": (
        "tillit.cli.compensation",
        "Compensation models for home care: simulate, compare, calibrate, register.",
    ),
    "db": (
        "tillit.cli.data",
        "Create or upgrade the database and load reference data.",
    ),
    "design": (
        "tillit.cli.estimate_misc",
        "Design help for planned pilots (randomisation; see also `tillit estimate "
        "power`).",
    ),
    "export": (
        "tillit.cli.data",
        "Export one indicator's values (organisations x periods x genders).",
    ),
    "import": (
        "tillit.cli.data",
        "Import observations from FILE (long CSV or Kolada JSON) as one batch.",
    ),
    "import-kolada-metadata": (
        "tillit.cli.data",
        "Load KPI metadata from a Kolada kpi.csv snapshot or a /kpi JSON response.",
    ),
    "jobs": (
        "tillit.cli.jobs",
        "The background job queue: run a worker, list jobs, show one.",
    ),
    "kolada": (
        "tillit.cli.kolada",
        "Fetch indicator metadata and values from the Kolada API (needs the network).",
    ),
    "registry": (
        "tillit.cli.registry",
        "The pilot registry: tamper-evident pre-registrations.",
    ),
    "serve": (
        "tillit.cli.serve",
        "Serve the Tillit web platform and the JSON API (/api/v1).",
    ),
}
_ESTIMATE: dict[str, tuple[str, str]] = {
    "did": (
        "tillit.cli.estimate_did",
        "Staggered DiD (Callaway & Sant'Anna 2021): ATT(g,t) and aggregations.",
    ),
    "cont-did": (
        "tillit.cli.estimate_event",
        "Continuous treatment dose (Callaway, Goodman-Bacon & Sant'Anna), as contdid.",
    ),
    "dcdh": (
        "tillit.cli.estimate_event",
        "Non-binary or switching treatment (de Chaisemartin & D'Haultfoeuille).",
    ),
    "event-study": (
        "tillit.cli.estimate_did",
        "Event study: heterogeneity-robust (Callaway-Sant'Anna) next to TWFE, with "
        "Bacon.",
    ),
    "imputation": (
        "tillit.cli.estimate_event",
        "Imputation event study (Borusyak, Jaravel & Spiess 2024), as didimputation.",
    ),
    "meta": (
        "tillit.cli.estimate_misc",
        "Meta-analysis / meta-regression of study effects (metafor's rma.uni).",
    ),
    "power": (
        "tillit.cli.estimate_misc",
        "Minimum detectable effect and power of a planned DiD pilot, from the panel "
        "itself.",
    ),
    "sdid": (
        "tillit.cli.estimate_synth",
        "Synthetic difference-in-differences (Arkhangelsky et al.",
    ),
    "sunab": (
        "tillit.cli.estimate_event",
        "Interaction-weighted event study (Sun & Abraham 2021), as fixest::sunab.",
    ),
    "synth": (
        "tillit.cli.estimate_synth",
        "Synthetic control (Abadie, Diamond & Hainmueller 2010) with placebo p-value.",
    ),
    "trial": (
        "tillit.cli.estimate_misc",
        "Randomised, cluster-randomised or stepped-wedge pilot: effect, CR2 and RI "
        "p-values.",
    ),
    "triple-diff": (
        "tillit.cli.estimate_event",
        "Triple differences with staggered adoption (Ortiz-Villavicencio & Sant'Anna).",
    ),
    "two-stage": (
        "tillit.cli.estimate_event",
        "Two-stage DiD (Gardner 2021), as did2s, with its GMM standard errors.",
    ),
}
_loaded: set[str] = set()


def load(module: str) -> None:
    """Import a command module and register its commands (once)."""
    if module not in _loaded:
        _loaded.add(module)
        importlib.import_module(module).register(main)


def load_all() -> None:
    """Register every command (for tests and documentation)."""
    for module, _ in [*_MAIN.values(), *_ESTIMATE.values()]:
        load(module)


def exit_code(err: TillitError) -> int:
    """Map an error to the CLI's exit code."""
    if isinstance(err, NotFound):
        return 3
    if isinstance(err, PermissionDenied):
        return 4
    if isinstance(err, Conflict):
        return 5
    return 2


def _with_file(err: TillitError) -> TillitError:
    """A DataError from the core names rows and columns; add the file it came from."""
    from tillit.cli import options

    if isinstance(err, DataError) and err.file is None and options.current_file:
        return DataError(
            err.detail, file=str(options.current_file), row=err.row, field=err.field
        )
    return err


class _Group(click.Group):
    """A group that loads its commands on first use and turns TillitError into a
    clean message and exit code."""

    lazy: ClassVar[dict[str, tuple[str, str]]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            load(self.lazy[cmd_name][0])
        return self.commands.get(cmd_name)

    def format_commands(
        self, ctx: click.Context, formatter: click.HelpFormatter
    ) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(map(len, names))  # as click does
        rows = []
        for name in names:
            cmd = self.commands.get(name)
            if cmd is None:  # a stand-in with the help line, shortened the same way
                cmd = click.Command(name, help=self.lazy[name][1])
            text = cmd.get_short_help_str(limit)
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TillitError as err:
            click.echo(f"Error: {_with_file(err).message}", err=True)
            sys.exit(exit_code(err))


class _Main(_Group):
    lazy = _MAIN


class _Estimate(_Group):
    lazy = _ESTIMATE


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tillit")
def main() -> None:
    """Tillit: follow up public services, evaluate pilots, and learn what works."""


@main.group(cls=_Estimate)
def estimate() -> None:
    """Estimate effects from a CSV panel (did, event-study, synth, sdid, trial, meta, power)."""
