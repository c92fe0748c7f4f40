"""``tillit estimate did`` and ``tillit estimate event-study``.

Thin: read the CSV, call :mod:`tillit.core.did`, print a table or the documented JSON
(``docs/did.md``). Errors from the core become ``Error: ...`` and exit code 2 via the group.
``did --honest smoothness|relative-magnitudes`` adds the Rambachan-Roth sensitivity
analysis (:func:`tillit.core.did.honest_did`) under each outcome as ``honest``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from tillit.cli.options import (
    anticipation_option,
    bootstrap_option,
    cohort_option,
    control_option,
    covariate_option,
    data_option,
    emit,
    format_option,
    level_option,
    outcome_option,
    read_panel,
    seed_option,
    time_option,
    unit_option,
)
from tillit.core.errors import EstimationError

# The engine (tillit.core.did, and through it pandas and scipy) is imported inside the
# commands, never here: `tillit estimate did --help` loads this module to show its flags
# and must not pay for the engine (tests/unit/test_cli_imports.py).

__all__ = ["register"]

method_option = click.option(
    "--method",
    type=click.Choice(["dr", "ipw", "reg"]),
    default="dr",
    show_default=True,
    help="With covariates: doubly robust, inverse probability weighting or regression.",
)
base_period_option = click.option(
    "--base-period",
    type=click.Choice(["varying", "universal"]),
    default="varying",
    show_default=True,
    help="Base period of pre-treatment cells (R did's default is varying).",
)
cluster_option = click.option(
    "--cluster", default=None, help="Column to cluster on (default: the unit)."
)
min_e_option = click.option(
    "--min-e", type=int, default=None, help="Earliest event time in the event study."
)
max_e_option = click.option(
    "--max-e", type=int, default=None, help="Latest event time in the event study."
)
unbalanced_option = click.option(
    "--unbalanced",
    is_flag=True,
    default=False,
    help="Keep units not observed in every period (R's allow_unbalanced_panel): each "
    "ATT(g,t) uses the units observed in its two periods. Without covariates only. "
    "Default: drop such units (a balanced panel).",
)
honest_option = click.option(
    "--honest",
    type=click.Choice(["smoothness", "relative-magnitudes"]),
    default=None,
    help="Rambachan-Roth sensitivity to violations of parallel trends (needs "
    "--base-period universal): optimal FLCI under smoothness Delta^SD(M), or the "
    "conditional-LF hybrid under relative magnitudes Delta^RM(Mbar).",
)
honest_m_option = click.option(
    "--honest-m",
    type=float,
    multiple=True,
    help="A value of M (smoothness) or Mbar (relative magnitudes); repeatable "
    "(default: HonestDiD's grid).",
)
honest_target_option = click.option(
    "--honest-target",
    default="first",
    show_default=True,
    help="first (first post-period effect), average (of the post-period effects) or "
    "an event time.",
)


def _common(f: Any) -> Any:
    opts: list[Any] = [
        data_option,
        outcome_option,
        unit_option,
        time_option,
        cohort_option,
        control_option,
        covariate_option,
        method_option,
        anticipation_option,
        base_period_option,
        bootstrap_option,
        seed_option,
        level_option,
        cluster_option,
        min_e_option,
        max_e_option,
        format_option,
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _fit(kw: dict[str, Any]) -> Any:
    from tillit.core.did import att_gt

    cols = [kw["unit"], kw["time"], kw["cohort"], *kw["outcomes"], *kw["covariates"]]
    if kw["cluster"]:
        cols.append(kw["cluster"])
    df = read_panel(Path(kw["data"]), list(dict.fromkeys(cols)))
    res = att_gt(
        df,
        outcomes=list(kw["outcomes"]),
        unit=kw["unit"],
        time=kw["time"],
        cohort=kw["cohort"],
        covariates=list(kw["covariates"]),
        control=kw["control"],
        method=kw["method"],
        anticipation=kw["anticipation"],
        base_period=kw["base_period"],
        bootstrap=kw["bootstrap"],
        seed=kw["seed"],
        level=kw["level"],
        cluster=kw["cluster"],
        min_e=-math.inf if kw["min_e"] is None else kw["min_e"],
        max_e=math.inf if kw["max_e"] is None else kw["max_e"],
        keep_influence=False,
        unbalanced=kw.get("unbalanced", False),
    )
    return df, res


def _did(**kw: Any) -> None:
    """Staggered DiD (Callaway & Sant'Anna 2021): ATT(g,t) and aggregations."""
    honest = kw.pop("honest")
    m_grid, target = kw.pop("honest_m"), kw.pop("honest_target")
    if honest and kw["base_period"] != "universal":
        raise EstimationError(
            "--honest needs event-study coefficients against one reference period: "
            "add --base-period universal"
        )
    _, res = _fit(kw)
    out, text = res.to_dict(), [res.summary()]
    if honest:
        from tillit.cli.progress import progress_bar
        from tillit.core.did import honest_did

        tgt: str | int = target
        if target not in ("first", "average"):
            try:
                tgt = int(target)
            except ValueError:
                raise EstimationError(
                    "--honest-target must be first, average or an event time"
                ) from None
        names = list(res.outcomes)
        with progress_bar("honest DiD", unit="steps") as update:
            for i, name in enumerate(names):

                def step(done: int, total: int, i: int = i) -> None:
                    update(i * total + done, len(names) * total)

                try:
                    h = honest_did(
                        res,
                        name,
                        method=honest.replace("-", "_"),
                        m_grid=list(m_grid) or None,
                        target=tgt,
                        progress=step,
                    )
                except EstimationError as err:  # one outcome's problem, not the batch's
                    out["outcomes"][name]["honest"] = {"error": err.message}
                    text.append(f"Honest DiD for {name}: not computed ({err.message})")
                    continue
                out["outcomes"][name]["honest"] = h.to_dict()
                text.append(h.summary())
    emit(out, "\n\n".join(text), kw["fmt"])


def _event_study(**kw: Any) -> None:
    """Event study: heterogeneity-robust (Callaway-Sant'Anna) next to TWFE, with Bacon."""
    from tillit.core.did.bacon import bacon
    from tillit.core.did.twfe import event_study

    df, res = _fit(kw)
    es = event_study(
        df,
        outcomes=list(res.outcomes),
        unit=kw["unit"],
        time=kw["time"],
        cohort=kw["cohort"],
        cluster=kw["cluster"],
        level=kw["level"],
    )
    out: dict[str, Any] = {
        "method": "event-study",
        "n_units": res.n_units,
        "n_periods": res.n_periods,
        "settings": res.settings,
        "outcomes": {},
        "degenerate": res.degenerate,
        "notes": list(res.notes),
    }
    text = [f"Event study: {res.n_units} units, {res.n_periods} periods"]
    for name, o in res.outcomes.items():
        d = o.to_dict()
        b = bacon(
            df, outcome=name, unit=kw["unit"], time=kw["time"], cohort=kw["cohort"]
        )
        out["outcomes"][name] = {
            "dynamic": d["aggregations"]["dynamic"],
            "dynamic_overall": d["aggregations"]["dynamic_overall"],
            "twfe_event_study": es.coefficients[name].rows(),
            "bacon": b.to_dict(),
            "diagnostics": d["diagnostics"],
            "verdict": d["verdict"],
        }
        text += [o.summary(), es.summary(), b.summary()]
    first = next(iter(out["outcomes"].values()))
    out["dynamic"] = first["dynamic"]
    emit(out, "\n\n".join(text), kw["fmt"])


def register(main: click.Group) -> None:
    """Add ``did`` and ``event-study`` to ``tillit estimate``."""
    from tillit.cli.main import estimate

    did = unbalanced_option(honest_option(honest_m_option(honest_target_option(_did))))
    estimate.command("did")(_common(did))
    estimate.command("event-study")(_common(_event_study))
