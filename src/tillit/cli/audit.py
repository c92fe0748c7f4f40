"""``tillit audit burden`` and ``tillit audit signals``.

Thin: read the files, call :mod:`tillit.core.audit`, print a table, JSON or CSV
(``docs/audit.md``). Errors from the core become ``Error: ...`` and exit code 2 via the
main group; nothing prints a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pandas as pd

from tillit.cli.options import level_option, time_option, unit_option
from tillit.core.audit import IndicatorPanel, Ledger, audit_signals
from tillit.core.errors import DataError
from tillit.core.results import jsonable

__all__ = ["register"]

F = Callable[..., Any]

fmt_option: Callable[[F], F] = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="Output for people (table), scripts (json) or spreadsheets (csv).",
)
_path = click.Path(dir_okay=False, path_type=Path)


def _print(obj: Any, table: str, csv: pd.DataFrame, fmt: str) -> None:
    """Print one of the three output formats."""
    if fmt == "json":
        click.echo(json.dumps(jsonable(obj), indent=2, allow_nan=False))
    elif fmt == "csv":
        click.echo(csv.to_csv(index=False), nl=False)
    else:
        click.echo(table)


def _read_csv(path: Path, dtype: Any = None) -> pd.DataFrame:
    """Read a CSV with errors naming the file."""
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    try:
        return pd.read_csv(path, dtype=dtype, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason})", file=str(path)) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"not a readable CSV: {exc}", file=str(path)) from exc


@click.command("burden")
@click.option("--inventory", required=True, type=_path, help="Inventory (CSV or XLSX).")
@click.option(
    "--compare", type=_path, default=None, help="A newer inventory to compare."
)
@click.option(
    "--staff",
    type=_path,
    default=None,
    help="CSV staff_group,employees[,unit] for burden per employee.",
)
@click.option("--top", type=click.IntRange(1, 10_000), default=10, show_default=True)
@fmt_option
def burden(
    inventory: Path, compare: Path | None, staff: Path | None, top: int, fmt: str
) -> None:
    """Hours and cost per year of reporting requirements (Standard Cost Model)."""
    led = Ledger.from_file(inventory)
    if compare is not None:
        change = led.compare(Ledger.from_file(compare))
        _print(change.to_dict(), change.summary(), change.tidy(), fmt)
        return
    out = led.to_dict()
    text = led.summary(top)
    if staff is not None:
        per = led.per_employee(_read_csv(staff, dtype=str))
        out["per_employee"] = per.to_dict(orient="records")
        text += "\n\nPer employee:\n" + per.to_string(
            index=False, float_format="{:,.1f}".format
        )
    _print(out, text, led.tidy(), fmt)


def _panel(
    data: Path,
    indicator_column: str,
    unit: str,
    time: str,
    value_column: str,
    filters: tuple[str, ...],
    municipalities_only: bool,
) -> IndicatorPanel:
    """Read the long CSV, apply filters and build the panel."""
    df = _read_csv(data, dtype={unit: str, indicator_column: str})
    for f in filters:
        col, sep, val = f.partition("=")
        if not sep or col not in df.columns:
            raise DataError(
                f"--filter {f!r} must be COLUMN=VALUE with a column of the file",
                file=str(data),
                field=col or None,
            )
        df = df[df[col].astype(str) == val]
    if municipalities_only and unit in df.columns:
        from tillit.domain.geography import municipalities

        df = df[df[unit].isin(set(municipalities()["code"]))]
    return IndicatorPanel.from_long(
        df,
        indicator=indicator_column,
        unit=unit,
        year=time,
        value=value_column,
        source=str(data),
    )


@click.command("signals")
@click.option(
    "--data",
    required=True,
    type=_path,
    help="Long CSV: indicator, unit, period, value.",
)
@click.option("--indicator-column", default="indicator", show_default=True)
@unit_option
@time_option
@click.option("--value-column", default="value", show_default=True)
@click.option(
    "--filter",
    "filters",
    multiple=True,
    help="Keep rows with COLUMN=VALUE (repeatable).",
)
@click.option(
    "--municipalities-only",
    is_flag=True,
    help="Keep the 290 municipalities' rows only.",
)
@click.option(
    "--indicator",
    "indicators",
    multiple=True,
    help="Indicator to audit (repeatable; default all).",
)
@click.option(
    "--criterion", "criteria", multiple=True, help="Criterion indicator (repeatable)."
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    help="IND=THRESHOLD[:YEAR] (at least) or IND<=THRESHOLD[:YEAR] (at most).",
)
@click.option(
    "--ledger", type=_path, default=None, help="Burden inventory linking hours."
)
@click.option(
    "--html", "html_path", type=_path, default=None, help="Write the HTML report here."
)
@click.option(
    "--csv", "csv_path", type=_path, default=None, help="Write the CSV export here."
)
@level_option
@click.option(
    "--alpha", type=click.FloatRange(0.001, 0.5), default=0.05, show_default=True
)
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0),
    default=0.8,
    show_default=True,
    help="|r| above which indicators are redundant.",
)
@click.option("--min-icc", type=float, default=0.2, show_default=True)
@click.option(
    "--n-treated",
    type=click.IntRange(1, 10_000),
    default=10,
    show_default=True,
    help="Treated municipalities in a pilot, for the minimum detectable change.",
)
@fmt_option
def signals(**kw: Any) -> None:
    """Reliability, redundancy, validity and gaming of indicators; what to drop or add."""
    panel = _panel(
        kw["data"],
        kw["indicator_column"],
        kw["unit"],
        kw["time"],
        kw["value_column"],
        kw["filters"],
        kw["municipalities_only"],
    )
    led = Ledger.from_file(kw["ledger"]) if kw["ledger"] is not None else None
    res = audit_signals(
        panel,
        indicators=list(kw["indicators"]) or None,
        criteria=list(kw["criteria"]),
        targets=list(kw["targets"]),
        ledger=led,
        level=kw["level"],
        alpha=kw["alpha"],
        threshold=kw["threshold"],
        min_icc=kw["min_icc"],
        n_treated=kw["n_treated"],
    )
    if kw["html_path"] is not None:
        from tillit.services.audit import audit_document, report_html
        from tillit.web.charts.audit import figures  # SVG only (pyproject allows it)

        doc = audit_document(res)
        html = report_html(doc, figures(doc))
        kw["html_path"].write_text(html, encoding="utf-8")
    if kw["csv_path"] is not None:
        res.tidy().to_csv(kw["csv_path"], index=False)
    _print(res.to_dict(), res.summary(), res.tidy(), kw["fmt"])


@click.group("audit")
def audit() -> None:
    """Burden ledger and indicator signal audit (what to remove, what to add)."""


audit.add_command(burden)
audit.add_command(signals)


def register(main: click.Group) -> None:
    """Add ``tillit audit`` to the main group."""
    main.add_command(audit)
