"""``tillit estimate synth`` and ``tillit estimate sdid``.

Thin: read the CSV, call :mod:`tillit.core.synth`, print the summary or the documented
JSON (``docs/synth.md``).  Errors from the core become ``Error: ...`` and exit code 2.

Treated units and starts come from ``--treated-unit`` and ``--treatment-start``; without
``--treatment-start`` they come from the ``--cohort`` column (first treated period, 0 or
empty for never treated), which allows staggered starts.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tillit.cli.options import (
    bootstrap_option,
    cluster_option,
    cohort_option,
    covariate_option,
    data_option,
    emit,
    format_option,
    level_option,
    outcome_option,
    read_panel,
    seed_option,
    time_option,
    treated_unit_option,
    treatment_start_option,
    unit_option,
    weight_option,
)
from tillit.core.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

# The engine (tillit.core.synth: numpy, scipy, pandas) is imported inside the commands.

__all__ = ["register"]


def _emit_many(results: dict[str, Any], fmt: str) -> None:
    """One outcome flat (the documented shape), several as ``{"outcomes": {...}}``."""
    if len(results) == 1:
        res = next(iter(results.values()))
        emit(res.to_dict(), res.summary(), fmt)
        return
    text = "\n\n".join(f"== {k} ==\n{r.summary()}" for k, r in results.items())
    emit({"outcomes": {k: r.to_dict() for k, r in results.items()}}, text, fmt)


def _treatment(
    df: pd.DataFrame,
    unit: str,
    cohort: str,
    treated_units: tuple[str, ...],
    start: float | None,
) -> tuple[list[Hashable], float | Mapping[Hashable, float]]:
    """Treated units and start(s) from the flags, or from the cohort column."""
    import pandas as pd

    if start is not None:
        if not treated_units:
            raise DataError("name the treated unit(s) with --treated-unit")
        return list(treated_units), start
    if cohort not in df.columns:
        raise DataError(
            "give --treatment-start (or a cohort column named by --cohort)",
            field=cohort,
        )
    first = pd.to_numeric(df[cohort], errors="coerce").fillna(0).groupby(df[unit]).max()
    starts = {u: float(c) for u, c in first.items() if c > 0}
    if treated_units:
        wanted = {str(t) for t in treated_units}
        starts = {u: c for u, c in starts.items() if str(u) in wanted}
    if not starts:
        raise DataError(
            "no treated unit: the cohort column has no start > 0", field=cohort
        )
    return list(starts), starts


def _synth(
    data: Path,
    outcomes: tuple[str, ...],
    unit: str,
    time: str,
    cohort: str,
    treated_units: tuple[str, ...],
    treatment_start: float | None,
    predictors: tuple[str, ...],
    placebo: str,
    placebo_start: float | None,
    variant: str,
    penalty: float,
    seed: int | None,
    conformal: bool,
    level: float,
    fmt: str,
) -> None:
    """Synthetic control with placebo inference."""
    from tillit.core.synth import conformal_sc, synth

    df = read_panel(data, list(dict.fromkeys([unit, time, *outcomes])))
    units, start = _treatment(df, unit, cohort, treated_units, treatment_start)
    results: dict[str, Any] = {}
    for outcome in dict.fromkeys(outcomes):
        results[outcome] = synth(
            df,
            outcome=outcome,
            unit=unit,
            time=time,
            treated_units=units,
            treatment_start=start,
            predictors=list(predictors) or None,
            placebo=placebo,
            placebo_start=placebo_start,
            variant=variant,
            penalty=penalty,
            seed=seed,
        )
    if conformal:
        if len(units) != 1:
            raise DataError("--conformal takes one treated unit")
        one = next(iter(start.values())) if isinstance(start, Mapping) else start
        results = {
            k: _WithConformal(
                r,
                conformal_sc(
                    df,
                    outcome=k,
                    unit=unit,
                    time=time,
                    treated_unit=units[0],
                    treatment_start=float(one),
                    alpha=1 - level,
                    seed=seed,
                ),
            )
            for k, r in results.items()
        }
    _emit_many(results, fmt)


class _WithConformal:
    """A synth result with its conformal inference under ``conformal`` (JSON, text)."""

    def __init__(self, res: Any, conf: Any) -> None:
        self.res, self.conf = res, conf

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = self.res.to_dict()
        out["conformal"] = self.conf.to_dict()
        return out

    def summary(self) -> str:
        return f"{self.res.summary()}\n{self.conf.summary()}"


def _sdid(
    data: Path,
    outcomes: tuple[str, ...],
    unit: str,
    time: str,
    cohort: str,
    treated_units: tuple[str, ...],
    treatment_start: float | None,
    method: str,
    variance: str,
    bootstrap: int,
    seed: int | None,
    level: float,
    weight: str | None,
    cluster: str | None,
    covariates: tuple[str, ...],
    covariate_method: str,
    fmt: str,
) -> None:
    """Synthetic difference-in-differences."""
    from tillit.core.synth import sdid

    extra = [c for c in (weight, cluster) if c] + list(covariates)
    df = read_panel(data, list(dict.fromkeys([unit, time, *outcomes, *extra])))
    units, start = _treatment(df, unit, cohort, treated_units, treatment_start)
    results = {}
    for outcome in dict.fromkeys(outcomes):
        results[outcome] = sdid(
            df,
            outcome=outcome,
            unit=unit,
            time=time,
            treated_units=units,
            treatment_start=start,
            method=method,
            variance=variance,
            replications=bootstrap or 200,
            seed=seed,
            level=level,
            weights=weight,
            cluster=cluster,
            covariates=list(covariates),
            covariate_method=covariate_method,
        )
    _emit_many(results, fmt)


def _common(f: Any) -> Any:
    for deco in reversed(
        [
            data_option,
            outcome_option,
            unit_option,
            time_option,
            cohort_option,
            treated_unit_option,
            treatment_start_option,
        ]
    ):
        f = deco(f)
    return f


def register(main: click.Group) -> None:
    """Add ``synth`` and ``sdid`` to the ``estimate`` group."""
    from tillit.cli.main import estimate

    @estimate.command("synth")
    @_common
    @click.option(
        "--predictor",
        "predictors",
        multiple=True,
        help="Predictor: column, column@1975, column@1980-1988 or column@1975,1980 "
        "(repeatable; default: every pre-period outcome).",
    )
    @click.option(
        "--placebo",
        type=click.Choice(["space", "time", "none"]),
        default="space",
        show_default=True,
        help="Placebo inference: refit every donor, or backdate the start.",
    )
    @click.option(
        "--placebo-start",
        type=float,
        default=None,
        help="Fake start for --placebo time.",
    )
    @click.option(
        "--variant",
        type=click.Choice(["standard", "demeaned", "penalized"]),
        default="standard",
        show_default=True,
        help="Demeaned adds an intercept; penalized uses --penalty.",
    )
    @click.option(
        "--penalty", type=float, default=0.0, help="Abadie-L'Hour penalty (penalized)."
    )
    @click.option(
        "--conformal",
        is_flag=True,
        help="Also conformal inference (Chernozhukov, Wuthrich & Zhu 2021): p-value of "
        "no effect and pointwise intervals at --level (one treated unit).",
    )
    @level_option
    @seed_option
    @format_option
    def synth_cmd(**kw: Any) -> None:
        """Synthetic control (Abadie, Diamond & Hainmueller 2010) with placebo p-value."""
        _synth(**kw)

    @estimate.command("sdid")
    @_common
    @click.option(
        "--method",
        type=click.Choice(["sdid", "sc", "did"]),
        default="sdid",
        show_default=True,
        help="Synthetic DiD, or its synthetic-control / DiD special case.",
    )
    @click.option(
        "--variance",
        type=click.Choice(["placebo", "jackknife", "bootstrap", "none"]),
        default="placebo",
        show_default=True,
        help="Standard error method (placebo works with one treated unit).",
    )
    @bootstrap_option
    @seed_option
    @level_option
    @weight_option
    @cluster_option
    @covariate_option
    @click.option(
        "--covariate-method",
        type=click.Choice(["optimized", "projected"]),
        default="optimized",
        show_default=True,
        help="optimized: beta chosen with the weights (R synthdid's X); projected: "
        "beta from a two-way FE regression on never-treated units (Kranz 2022).",
    )
    @format_option
    def sdid_cmd(**kw: Any) -> None:
        """Synthetic difference-in-differences (Arkhangelsky et al. 2021).

        --bootstrap sets the placebo/bootstrap replications (0 means R's 200).
        --weight weighs the treated average by a population column; --cluster
        resamples (bootstrap), leaves out (jackknife) or reassigns (placebo) whole
        clusters. Several --outcome flags give one result per outcome.
        """
        _sdid(**kw)
