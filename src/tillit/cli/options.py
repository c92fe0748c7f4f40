"""Flags shared by the ``tillit estimate`` commands, so that one name means one thing.

Use as decorators::

    @estimate.command("did")
    @data_option
    @outcome_option
    ...
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tillit.core.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

# Nothing heavy at import time: `tillit estimate X --help` imports this module, so
# pandas, numpy and the readers are imported inside read_panel and emit
# (tests/unit/test_cli_imports.py holds every estimate command to that).

__all__ = [
    "anticipation_option",
    "bootstrap_option",
    "cluster_option",
    "cohort_option",
    "control_option",
    "covariate_option",
    "data_option",
    "emit",
    "format_option",
    "level_option",
    "outcome_option",
    "read_panel",
    "seed_option",
    "time_option",
    "treated_unit_option",
    "treatment_start_option",
    "unit_option",
    "weight_option",
]

F = Callable[..., Any]

data_option: Callable[[F], F] = click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Data in long format, one row per unit and period: CSV with any delimiter "
    "(detected), TSV, Parquet or xlsx (first sheet).",
)
outcome_option: Callable[[F], F] = click.option(
    "--outcome",
    "outcomes",
    multiple=True,
    required=True,
    help="Outcome column (repeat for several outcomes).",
)
unit_option: Callable[[F], F] = click.option(
    "--unit", default="unit", show_default=True, help="Column identifying the unit."
)
time_option: Callable[[F], F] = click.option(
    "--time", default="period", show_default=True, help="Column holding the period."
)
cohort_option: Callable[[F], F] = click.option(
    "--cohort",
    default="cohort",
    show_default=True,
    help="Column with the first treated period; 0 or empty means never treated.",
)
control_option: Callable[[F], F] = click.option(
    "--control",
    type=click.Choice(["never", "notyet"]),
    default="never",
    show_default=True,
    help="Comparison group.",
)
covariate_option: Callable[[F], F] = click.option(
    "--covariate", "covariates", multiple=True, help="Covariate column (repeatable)."
)
anticipation_option: Callable[[F], F] = click.option(
    "--anticipation",
    type=click.IntRange(0, 50),
    default=0,
    show_default=True,
    help="Periods of anticipation before treatment.",
)
bootstrap_option: Callable[[F], F] = click.option(
    "--bootstrap",
    type=click.IntRange(0, 100_000),
    default=0,
    show_default=True,
    help="Bootstrap repetitions (0: analytic standard errors only).",
)
seed_option: Callable[[F], F] = click.option(
    "--seed",
    type=click.IntRange(0, 2**32 - 1),
    default=None,
    help="Random seed, for reproducible bootstrap/placebo/randomisation.",
)
level_option: Callable[[F], F] = click.option(
    "--level",
    type=click.FloatRange(0.5, 0.999),
    default=0.95,
    show_default=True,
    help="Confidence level.",
)
format_option: Callable[[F], F] = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output for people (table) or scripts (json).",
)
treated_unit_option: Callable[[F], F] = click.option(
    "--treated-unit",
    "treated_units",
    multiple=True,
    help="A treated unit (repeatable).",
)
treatment_start_option: Callable[[F], F] = click.option(
    "--treatment-start",
    type=float,
    default=None,
    help="First treated period.",
)


weight_option: Callable[[F], F] = click.option(
    "--weight",
    default=None,
    help="Column with each unit's sampling or population weight (constant within a "
    "unit).",
)
cluster_option: Callable[[F], F] = click.option(
    "--cluster",
    default=None,
    help="Column with a cluster above the unit (e.g. county): variance replicates "
    "resample or reassign whole clusters (default: the unit).",
)

current_file: Path | None = None
"""The file the running command read; ``tillit.cli.main`` names it in a DataError
raised later without one (the core names rows and columns, not files)."""


def read_panel(path: Path, required: list[str]) -> pd.DataFrame:
    """Read a data file (any-delimiter CSV, TSV, Parquet, xlsx) and check its columns.

    Errors name the file, the row and the column, and say how the file was read
    (``"tab-separated"``), so that a wrong delimiter or sheet is plain to see.
    """
    from tillit.cli.tables import describe_columns, read_table

    global current_file
    current_file = path
    table = read_table(path)
    df = table.frame
    missing = [c for c in required if c not in df.columns]
    if missing:
        hint = ""
        if len(df.columns) == 1 and table.kind == "csv":
            hint = " (one column only: is the delimiter one of , ; TAB |?)"
        raise DataError(
            f"missing column(s) {', '.join(missing)}; the file (read as "
            f"{table.described}) has {describe_columns(df)}{hint}",
            file=str(path),
            field=missing[0],
        )
    return df


def _orjson() -> Any:
    try:
        import orjson
    except ImportError:  # pragma: no cover - a runtime dependency
        return None
    return orjson


def dumps(result_dict: dict[str, Any]) -> str:
    """Strict JSON (NaN and infinities as null), indented by two spaces.

    orjson writes numpy arrays and scalars directly (serialised once, in C); what it
    cannot take (a non-contiguous array, an unusual type) goes through
    :func:`tillit.core.results.jsonable` first.
    """
    oj = _orjson()
    if oj is not None:
        opts = oj.OPT_INDENT_2 | oj.OPT_SERIALIZE_NUMPY | oj.OPT_NON_STR_KEYS
        try:
            out: str = oj.dumps(result_dict, option=opts).decode()
            return out
        except TypeError:
            from tillit.core.results import jsonable

            out = oj.dumps(jsonable(result_dict), option=opts).decode()
            return out
    from tillit.core.results import jsonable

    return json.dumps(jsonable(result_dict), indent=2, allow_nan=False)


def emit(result_dict: dict[str, Any], table_text: str, fmt: str) -> None:
    """Print a result as strict JSON or as the human table."""
    if fmt == "json":
        click.echo(dumps(result_dict))
    else:
        click.echo(table_text)
