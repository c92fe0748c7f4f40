"""``tillit estimate trial|meta|power`` and ``tillit design randomise``.

Thin: read the CSV, call :mod:`tillit.core.trials`, :mod:`tillit.core.meta` or
:mod:`tillit.core.power`, print a table or JSON (documented in docs/trials.md,
docs/meta.md and docs/power.md). Errors from the core become ``Error: ...`` with exit
code 2 through the main group; nothing prints a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tillit.cli.options import (
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
from tillit.core.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# numpy, pandas and the engines are imported inside the commands (fast --help).

__all__ = ["register"]


def _numeric(df: pd.DataFrame, col: str, path: Path) -> np.ndarray:
    import numpy as np
    import pandas as pd

    values = pd.to_numeric(df[col], errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy())
    if bad.size:
        raise DataError(
            f"missing or not a number: {df[col].iloc[bad[0]]!r}",
            file=str(path),
            row=int(bad[0]) + 1,
            field=col,
        )
    return values.to_numpy(dtype=float)


def _many(results: dict[str, Any], fmt: str) -> None:
    """Emit one result flat, several as ``{"outcomes": {name: result}}``."""
    if len(results) == 1:
        res = next(iter(results.values()))
        emit(res.to_dict(), res.summary(), fmt)
        return
    text = "\n\n".join(f"== {k} ==\n{r.summary()}" for k, r in results.items())
    emit({"outcomes": {k: r.to_dict() for k, r in results.items()}}, text, fmt)


@click.command("meta")
@data_option
@click.option("--effect", required=True, help="Column with each study's effect size.")
@click.option("--variance", default=None, help="Column with the sampling variance.")
@click.option(
    "--se", default=None, help="Column with the standard error (instead of --variance)."
)
@click.option(
    "--method",
    type=click.Choice(["reml", "dl", "fe", "ml", "pm", "he"]),
    default="reml",
    show_default=True,
    help="tau^2 estimator, or fe for a fixed-effect model.",
)
@click.option(
    "--hartung-knapp", is_flag=True, help="Hartung-Knapp(-Sidik-Jonkman) t intervals."
)
@click.option(
    "--test",
    "test",
    type=click.Choice(["z", "knha", "hksj", "adhoc"]),
    default=None,
    help="Inference as metafor's test: z (default), knha/hksj (= --hartung-knapp) or "
    "adhoc (Knapp-Hartung never narrower than z).",
)
@click.option(
    "--moderator", "moderators", multiple=True, help="Moderator column (repeatable)."
)
@click.option("--label", default=None, help="Column with study labels.")
@click.option(
    "--by", default=None, help="Pool separately within each value of this column."
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a forest plot (PNG/SVG/PDF) to this file.",
)
@level_option
@format_option
def meta_cmd(**kw: Any) -> None:
    """Meta-analysis / meta-regression of study effects (metafor's rma.uni)."""
    import pandas as pd

    from tillit.core.meta import meta_analysis, meta_by_group

    if (kw["variance"] is None) == (kw["se"] is None):
        raise DataError("give exactly one of --variance or --se")
    vcol = kw["variance"] or kw["se"]
    cols = [kw["effect"], vcol, *kw["moderators"]] + [
        c for c in (kw["label"], kw["by"]) if c
    ]
    path = Path(kw["data"])
    df = read_panel(path, list(dict.fromkeys(cols)))
    y = _numeric(df, kw["effect"], path)
    v = _numeric(df, vcol, path)
    if kw["se"] is not None:
        v = v**2
    common = {
        "method": kw["method"],
        "hartung_knapp": kw["hartung_knapp"],
        "test": kw["test"],
        "level": kw["level"],
    }
    if kw["by"]:
        if kw["moderators"]:
            raise DataError("--by pools without moderators; drop --moderator")
        frame = pd.DataFrame({"y": y, "v": v, "g": df[kw["by"]].astype(str)})
        batch = meta_by_group(frame, "y", "v", "g", **common)
        emit(batch.to_dict(), batch.summary(), kw["fmt"])
        return
    mods = None
    if kw["moderators"]:
        mods = pd.DataFrame({m: _numeric(df, m, path) for m in kw["moderators"]})
    labels = df[kw["label"]].astype(str).tolist() if kw["label"] else None
    res = meta_analysis(y, v, moderators=mods, labels=labels, **common)
    if kw["plot_path"]:
        import matplotlib

        matplotlib.use("Agg")
        ax = res.plot()
        ax.figure.savefig(kw["plot_path"], bbox_inches="tight")
    emit(res.to_dict(), res.summary(), kw["fmt"])


@click.command("trial")
@data_option
@outcome_option
@click.option("--treatment", required=True, help="Column with the 0/1 treatment.")
@click.option(
    "--unit",
    default=None,
    help="Column identifying the unit; repeated rows of a unit are clustered.",
)
@click.option("--cluster", default=None, help="Randomisation cluster column.")
@click.option("--stratum", default=None, help="Randomisation stratum (block) column.")
@click.option(
    "--time",
    default=None,
    help="Column holding the period; makes this a stepped-wedge analysis.",
)
@covariate_option
@click.option(
    "--adjust",
    type=click.Choice(["ancova", "cuped", "none"]),
    default="ancova",
    show_default=True,
    help="How covariates (pre-period outcomes) are used.",
)
@click.option(
    "--vcov",
    type=click.Choice(["CR2", "CR1"]),
    default="CR2",
    show_default=True,
    help="Cluster-robust covariance.",
)
@click.option(
    "--permutations",
    type=click.IntRange(0, 1_000_000),
    default=1000,
    show_default=True,
    help="Re-randomisations for the RI p-value (0: none).",
)
@seed_option
@level_option
@format_option
def trial_cmd(**kw: Any) -> None:
    """Randomised, cluster-randomised or stepped-wedge pilot: effect, CR2 and RI p-values."""
    from tillit.core.trials import analyse_trial

    cluster = kw["cluster"] or kw["unit"]
    cols = [*kw["outcomes"], kw["treatment"], *kw["covariates"]]
    cols += [c for c in (cluster, kw["stratum"], kw["time"]) if c]
    df = read_panel(Path(kw["data"]), list(dict.fromkeys(cols)))
    results = {
        out: analyse_trial(
            df,
            out,
            kw["treatment"],
            cluster=cluster,
            stratum=kw["stratum"],
            covariates=list(kw["covariates"]),
            time=kw["time"],
            adjust=kw["adjust"],
            vcov=kw["vcov"],
            permutations=kw["permutations"],
            seed=kw["seed"],
            level=kw["level"],
        )
        for out in kw["outcomes"]
    }
    _many(results, kw["fmt"])


@click.command("power")
@data_option
@outcome_option
@unit_option
@time_option
@click.option(
    "--treated",
    type=click.IntRange(1, None),
    required=True,
    help="Number of units the pilot will treat.",
)
@click.option(
    "--pre-periods",
    type=click.IntRange(1, None),
    required=True,
    help="Baseline periods before the pilot starts.",
)
@click.option(
    "--post-periods",
    type=click.IntRange(1, None),
    required=True,
    help="Periods the pilot runs.",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0.0001, 0.5),
    default=0.05,
    show_default=True,
    help="Two-sided test size.",
)
@click.option(
    "--power",
    "target_power",
    type=click.FloatRange(0.05, 0.999),
    default=0.8,
    show_default=True,
    help="Target power for the MDE.",
)
@click.option(
    "--effect", type=float, default=None, help="Also report power for this effect."
)
@click.option(
    "--simulations",
    type=click.IntRange(0, 1_000_000),
    default=1000,
    show_default=True,
    help="Placebo pilots simulated on the panel (0: analytic only).",
)
@click.option(
    "--se-type",
    type=click.Choice(["pooled", "unequal"]),
    default="pooled",
    show_default=True,
    help="Test used in the simulation.",
)
@seed_option
@format_option
def power_cmd(**kw: Any) -> None:
    """Minimum detectable effect and power of a planned DiD pilot, from the panel itself."""
    from tillit.core.power import power_analysis

    df = read_panel(Path(kw["data"]), [kw["unit"], kw["time"], *kw["outcomes"]])
    results = {
        out: power_analysis(
            df,
            kw["unit"],
            kw["time"],
            out,
            treated=kw["treated"],
            pre_periods=kw["pre_periods"],
            post_periods=kw["post_periods"],
            alpha=kw["alpha"],
            power=kw["target_power"],
            effect=kw["effect"],
            simulations=kw["simulations"],
            seed=kw["seed"],
            se_type=kw["se_type"],
        )
        for out in kw["outcomes"]
    }
    _many(results, kw["fmt"])


@click.group("design")
def design() -> None:
    """Design help for planned pilots (randomisation; see also `tillit estimate power`)."""


@design.command("randomise")
@data_option
@unit_option
@click.option(
    "--design",
    "kind",
    type=click.Choice(["complete", "stratified", "cluster", "stepped-wedge"]),
    default="complete",
    show_default=True,
    help="Randomisation design.",
)
@click.option(
    "--treated",
    type=click.IntRange(1, None),
    default=None,
    help="Number of randomisation units (units or clusters) to treat.",
)
@click.option(
    "--share",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=None,
    help="Share to treat (within each stratum).",
)
@click.option("--stratum", default=None, help="Stratum (block) column.")
@click.option(
    "--cluster", default=None, help="Cluster column (cluster, stepped-wedge)."
)
@click.option(
    "--period",
    "periods",
    type=float,
    multiple=True,
    help="Stepped wedge: a crossover period (repeatable).",
)
@covariate_option
@seed_option
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the assignment as CSV to this file.",
)
@format_option
def randomise_cmd(**kw: Any) -> None:
    """Randomise units to a pilot from a recorded seed, with its balance table."""
    from tillit.core.power import randomise

    cols = [kw["unit"], *kw["covariates"]]
    cols += [c for c in (kw["stratum"], kw["cluster"]) if c]
    df = read_panel(Path(kw["data"]), list(dict.fromkeys(cols)))
    df[kw["unit"]] = df[kw["unit"]].astype(str)
    a = randomise(
        df,
        kw["unit"],
        design=kw["kind"],
        treated=kw["treated"],
        share=kw["share"],
        stratum=kw["stratum"],
        cluster=kw["cluster"],
        periods=list(kw["periods"]) or None,
        covariates=list(kw["covariates"]),
        seed=kw["seed"],
    )
    if kw["out_path"]:
        a.table.to_csv(kw["out_path"], index=False)
    emit(a.to_dict(), a.summary(), kw["fmt"])


def register(main: click.Group) -> None:
    """Add ``estimate trial|meta|power`` and ``design randomise``."""
    from tillit.cli.main import estimate

    estimate.add_command(meta_cmd)
    estimate.add_command(trial_cmd)
    estimate.add_command(power_cmd)
    main.add_command(design)
