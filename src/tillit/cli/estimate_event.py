"""``tillit estimate`` commands for heterogeneity-robust event studies and for
non-binary, switching, continuous and triple-difference designs.

``sunab``, ``imputation``, ``two-stage``, ``dcdh``, ``cont-did`` and ``triple-diff``
print a table or the JSON documented in ``docs/eventstudy.md``. Every command takes many
``--outcome`` flags, ``--weight`` and ``--cluster``; ``--honest`` adds the Rambachan-Roth
sensitivity of each outcome's event study and ``--plot FILE`` saves the event-study plot
of the first outcome as PNG. The engine is imported only when a command runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tillit.cli.options import (
    cohort_option,
    data_option,
    emit,
    format_option,
    level_option,
    outcome_option,
    read_panel,
    time_option,
    unit_option,
)

__all__ = ["register"]

F = Callable[..., Any]

weight_option: Callable[[F], F] = click.option(
    "--weight", default=None, help="Column of sampling or analytic weights."
)
cluster_option: Callable[[F], F] = click.option(
    "--cluster",
    default=None,
    help="Column to cluster on, constant within a unit (default: the unit).",
)
window_options: list[Callable[[F], F]] = [
    click.option(
        "--min-e",
        type=click.IntRange(-1000, 1000),
        default=None,
        help="Earliest event time.",
    ),
    click.option(
        "--max-e",
        type=click.IntRange(-1000, 1000),
        default=None,
        help="Latest event time.",
    ),
]
honest_option: Callable[[F], F] = click.option(
    "--honest",
    type=click.Choice(["smoothness", "relative-magnitudes"]),
    default=None,
    help="Add Rambachan-Roth sensitivity of each outcome's event study.",
)
plot_option: Callable[[F], F] = click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Save the first outcome's event-study plot as PNG.",
)
control_option: Callable[[F], F] = click.option(
    "--control",
    type=click.Choice(["never", "notyet"]),
    default=None,
    help="Comparison group (default: the estimator's own).",
)
base_option: Callable[[F], F] = click.option(
    "--base-period",
    type=click.Choice(["varying", "universal"]),
    default=None,
    help="Base period of pre-treatment cells (default: the estimator's own).",
)


def _apply(f: F, opts: list[Callable[[F], F]]) -> F:
    for opt in reversed(opts):
        f = opt(f)
    return f


def _common(cohort: bool = True) -> list[Callable[[F], F]]:
    head = [data_option, outcome_option, unit_option, time_option]
    tail = [weight_option, cluster_option, level_option, honest_option, plot_option,
            format_option]  # fmt: skip
    return head + ([cohort_option] if cohort else []) + tail


def _run(kw: dict[str, Any], fit: Callable[..., Any], extra_cols: list[str]) -> None:
    """Read, estimate, add honest DiD, plot and print."""
    from tillit.core.errors import EstimationError

    cols = [kw["unit"], kw["time"], *kw["outcomes"], *extra_cols]
    cols += [c for c in (kw.get("weight"), kw.get("cluster")) if c]
    df = read_panel(Path(kw["data"]), list(dict.fromkeys(cols)))
    res = fit(df)
    out, text = res.to_dict(), [res.summary()]
    if kw.get("honest"):
        method = kw["honest"].replace("-", "_")
        for name in res.outcomes:
            try:
                h = res.honest(name, method=method)
            except EstimationError as err:
                out["outcomes"][name]["honest"] = {"error": err.message}
                text.append(f"Honest DiD for {name}: not computed ({err.message})")
                continue
            out["outcomes"][name]["honest"] = h.to_dict()
            text.append(h.summary())
    if kw.get("plot_path"):
        _save_plot(res, Path(kw["plot_path"]))
        text.append(f"Plot saved to {kw['plot_path']}")
    emit(out, "\n\n".join(text), kw["fmt"])


def _save_plot(res: Any, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = res.plot()
    ax.figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(ax.figure)


def _base(kw: dict[str, Any]) -> dict[str, Any]:
    return {
        "outcomes": list(kw["outcomes"]), "unit": kw["unit"], "time": kw["time"],
        "weight": kw["weight"], "cluster": kw["cluster"], "level": kw["level"],
    }  # fmt: skip


def _sunab(**kw: Any) -> None:
    """Interaction-weighted event study (Sun & Abraham 2021), as fixest::sunab."""
    from tillit.core.did.sunab import sun_abraham

    def fit(df: Any) -> Any:
        return sun_abraham(df, cohort=kw["cohort"], min_e=kw["min_e"], max_e=kw["max_e"],
                           **_base(kw))  # fmt: skip

    _run(kw, fit, [kw["cohort"]])


def _imputation(**kw: Any) -> None:
    """Imputation event study (Borusyak, Jaravel & Spiess 2024), as didimputation."""
    from tillit.core.did.imputation import imputation

    def fit(df: Any) -> Any:
        return imputation(df, cohort=kw["cohort"], min_e=kw["min_e"], max_e=kw["max_e"],
                          **_base(kw))  # fmt: skip

    _run(kw, fit, [kw["cohort"]])


def _two_stage(**kw: Any) -> None:
    """Two-stage DiD (Gardner 2021), as did2s, with its GMM standard errors."""
    from tillit.core.did.twostage import two_stage

    def fit(df: Any) -> Any:
        return two_stage(df, cohort=kw["cohort"], min_e=kw["min_e"], max_e=kw["max_e"],
                         **_base(kw))  # fmt: skip

    _run(kw, fit, [kw["cohort"]])


def _dcdh(**kw: Any) -> None:
    """Non-binary or switching treatment (de Chaisemartin & D'Haultfoeuille)."""
    from tillit.core.did.dcdh import dcdh

    def fit(df: Any) -> Any:
        return dcdh(df, treatment=kw["treatment"], effects=kw["effects"],
                    placebo=kw["placebo"], normalized=kw["normalized"],
                    switchers=kw["switchers"], **_base(kw))  # fmt: skip

    _run(kw, fit, [kw["treatment"]])


def _cont_did(**kw: Any) -> None:
    """Continuous treatment dose (Callaway, Goodman-Bacon & Sant'Anna), as contdid."""
    from tillit.core.did.contdid import cont_did

    def fit(df: Any) -> Any:
        return cont_did(df, cohort=kw["cohort"], dose=kw["dose"],
                        control=kw["control"] or "notyet",
                        base_period=kw["base_period"] or "varying",
                        degree=kw["degree"], **_base(kw))  # fmt: skip

    _run(kw, fit, [kw["cohort"], kw["dose"]])


def _triple_diff(**kw: Any) -> None:
    """Triple differences with staggered adoption (Ortiz-Villavicencio & Sant'Anna)."""
    from tillit.core.did.triplediff import triple_diff

    def fit(df: Any) -> Any:
        return triple_diff(df, cohort=kw["cohort"], partition=kw["partition"],
                           control=kw["control"] or "never",
                           base_period=kw["base_period"] or "universal",
                           **_base(kw))  # fmt: skip

    _run(kw, fit, [kw["cohort"], kw["partition"]])


def register(main: click.Group) -> None:
    """Add the event-study and design commands to ``tillit estimate``."""
    from tillit.cli.main import estimate

    for name, fn in (("sunab", _sunab), ("imputation", _imputation),
                     ("two-stage", _two_stage)):  # fmt: skip
        estimate.command(name)(_apply(fn, _common() + window_options))
    dcdh_opts: list[Callable[[F], F]] = [
        click.option("--treatment", required=True, help="Treatment column (any dose)."),
        click.option("--effects", type=click.IntRange(1, 100), default=1,
                     show_default=True, help="Number of event-study effects."),
        click.option("--placebo", type=click.IntRange(0, 100), default=0,
                     show_default=True, help="Number of placebo effects."),
        click.option("--normalized", is_flag=True, default=False,
                     help="Per unit of cumulative treatment change."),
        click.option("--switchers", type=click.Choice(["both", "in", "out"]),
                     default="both", show_default=True,
                     help="Groups whose first change is up (in), down (out) or both."),
    ]  # fmt: skip
    estimate.command("dcdh")(_apply(_dcdh, _common(cohort=False) + dcdh_opts))
    cont_opts: list[Callable[[F], F]] = [
        click.option("--dose", required=True, help="Time-invariant dose column."),
        click.option("--degree", type=click.IntRange(1, 3), default=3,
                     show_default=True, help="Degree of the dose polynomial."),
        control_option,
        base_option,
    ]  # fmt: skip
    estimate.command("cont-did")(_apply(_cont_did, _common() + cont_opts))
    ddd_opts: list[Callable[[F], F]] = [
        click.option("--partition", required=True,
                     help="Column: 1 eligible, 0 not (constant within a unit)."),
        control_option,
        base_option,
    ]  # fmt: skip
    estimate.command("triple-diff")(_apply(_triple_diff, _common() + ddd_opts))
