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
from typing import Any

import click
import pandas as pd

from tillit.core.errors import DataError
from tillit.core.results import jsonable

__all__ = [
    "anticipation_option",
    "bootstrap_option",
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
]

F = Callable[..., Any]

data_option: Callable[[F], F] = click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV file in long format: one row per unit and period.",
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


def read_panel(path: Path, required: list[str]) -> pd.DataFrame:
    """Read a CSV and check that the named columns exist; errors name file and column."""
    if not path.exists():
        raise DataError("file not found", file=str(path))
    try:
        df = pd.read_csv(path)
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason})", file=str(path)) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"not a readable CSV: {exc}", file=str(path)) from exc
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; the file has "
            f"{', '.join(map(str, df.columns))}",
            file=str(path),
            field=missing[0],
        )
    return df


def emit(result_dict: dict[str, Any], table_text: str, fmt: str) -> None:
    """Print a result as strict JSON or as the human table."""
    if fmt == "json":
        click.echo(json.dumps(jsonable(result_dict), indent=2, allow_nan=False))
    else:
        click.echo(table_text)
