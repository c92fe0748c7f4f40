"""Power and minimum detectable effect of a planned DiD pilot, from the panel itself.

:func:`power_analysis` answers "if we treat ``N`` of these units for ``r`` periods after
``m`` baseline periods, what effect could we detect?" three ways: the serial-correlation
robust analytic formula (Burlig, Preonas & Woerman 2020), the Frison-Pocock ANCOVA
formula, and simulation on the real panel (placebo pilots with an injected effect).
The naive formula that ignores serial correlation is reported for contrast.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> units, periods = np.arange(60), np.arange(10)
>>> df = pd.DataFrame([(u, t) for u in units for t in periods], columns=["unit", "period"])
>>> df["y"] = rng.normal(size=len(df)) + np.repeat(rng.normal(size=60), 10)
>>> res = power_analysis(df, "unit", "period", "y", treated=10, pre_periods=3,
...                      post_periods=2, simulations=200, seed=1)
>>> res.seed
1
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.errors import DataError, EstimationError
from tillit.core.power.analytic import bpw_components, critical_sum, power_at
from tillit.core.power.panel import wide_panel, window_contrasts
from tillit.core.power.simulate import PlaceboDraws, placebo_draws
from tillit.core.results import jsonable

__all__ = ["PowerResult", "power_analysis"]


@dataclass(frozen=True)
class PowerResult:
    """Analytic and simulated MDE/power for a planned pilot."""

    outcome: str
    units: int
    treated: int
    pre_periods: int
    post_periods: int
    alpha: float
    power: float
    df: float
    mde: float  # serial-correlation robust analytic (BPW)
    se: float
    mde_naive: float  # ignoring serial correlation
    mde_ancova: float  # Frison-Pocock
    components: dict[str, float]
    effect: float | None
    power_at_effect: float
    simulations: int
    seed: int | None
    sim_mde: float
    sim_power: float
    sim_size: float
    se_type: str
    draws: PlaceboDraws | None = None

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON shape."""
        keys = [
            "outcome",
            "units",
            "treated",
            "pre_periods",
            "post_periods",
            "alpha",
            "power",
            "df",
            "mde",
            "se",
            "mde_naive",
            "mde_ancova",
            "components",
            "effect",
            "power_at_effect",
            "simulations",
            "seed",
            "sim_mde",
            "sim_power",
            "sim_size",
            "se_type",
        ]
        out: dict[str, Any] = jsonable({k: getattr(self, k) for k in keys})
        return out

    def tidy(self) -> pd.DataFrame:
        """One row per method: analytic BPW, naive, ANCOVA, simulation."""
        rows = [
            ("analytic (BPW, serial correlation)", self.mde, self.power_at_effect),
            ("analytic, ignoring serial correlation", self.mde_naive, np.nan),
            ("ANCOVA (Frison-Pocock)", self.mde_ancova, np.nan),
        ]
        if self.simulations:
            rows.append(("simulation on the panel", self.sim_mde, self.sim_power))
        return pd.DataFrame(rows, columns=["method", "mde", "power_at_effect"])

    def summary(self) -> str:
        """Text for people."""
        head = (
            f"{self.treated} of {self.units} units treated, {self.pre_periods} pre + "
            f"{self.post_periods} post periods; alpha {self.alpha}, power {self.power}"
        )
        lines = [
            head,
            self.tidy().to_string(index=False, float_format=lambda x: f"{x:.4g}"),
        ]
        if self.simulations:
            lines.append(
                f"simulation: {self.simulations} placebo pilots (seed {self.seed}); "
                f"false-positive rate at effect 0: {self.sim_size:.3f}"
            )
        c = self.components
        lines.append(
            f"panel: sigma2 {c['sigma2']:.4g}, psi_B {c['psi_b']:.4g}, psi_A {c['psi_a']:.4g}, "
            f"psi_X {c['psi_x']:.4g}, Var(D) {c['var_contrast']:.4g}, rho {c['rho']:.3f}"
        )
        return "\n".join(lines)

    def plot(self, ax: Any = None) -> Any:
        """Simulated (and analytic) power curve against the effect size."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        top = 2 * (self.mde if np.isfinite(self.mde) else 1.0)
        grid = np.linspace(0, top, 60)
        ax.plot(
            grid,
            [power_at(g, self.se, self.alpha, self.df) for g in grid],
            label="analytic",
        )
        if self.draws is not None:
            ax.plot(grid, self.draws.power(grid), label="simulated")
        ax.axhline(self.power, color="grey", ls="--", lw=0.8)
        ax.set_xlabel("effect")
        ax.set_ylabel("power")
        ax.legend()
        return ax


def power_analysis(
    data: pd.DataFrame,
    unit: str,
    time: str,
    outcome: str,
    *,
    treated: int,
    pre_periods: int,
    post_periods: int,
    alpha: float = 0.05,
    power: float = 0.8,
    effect: float | None = None,
    simulations: int = 1000,
    seed: int | None = None,
    se_type: str = "pooled",
) -> PowerResult:
    """MDE and power of a DiD pilot treating ``treated`` units, from the panel.

    Parameters
    ----------
    data
        Long panel: one row per unit and period.
    treated
        Number of units the pilot will treat.
    pre_periods, post_periods
        Baseline and follow-up periods (consecutive observed periods).
    effect
        If given, also the power to detect this effect.
    simulations
        Placebo pilots to simulate (0: analytic only). ``seed`` makes them reproducible;
        without one a seed is drawn and recorded in the result.
    """
    y, _, _ = wide_panel(data, unit, time, outcome)
    comp = bpw_components(y, pre_periods, post_periods)
    # units with complete data in a typical window of m + r periods
    n_units = int(
        np.median(np.isfinite(window_contrasts(y, pre_periods, post_periods)).sum(1))
    )
    if treated < 1 or treated > n_units - 2:
        raise DataError(
            f"treated must be between 1 and {n_units - 2} for {n_units} units"
        )
    share = treated / n_units
    df = float(n_units - 2)
    scale = 1 / (share * (1 - share) * n_units)
    se = float(np.sqrt(comp["var_contrast"] * scale))
    mult = critical_sum(alpha, power, df)
    m, r = pre_periods, post_periods
    sigma_e = comp["sigma2"] * (
        1 - comp["rho"]
    )  # compound-symmetry idiosyncratic variance
    naive = mult * np.sqrt(sigma_e * (m + r) / (m * r) * scale)
    rho = comp["rho"]
    fp = comp["sigma2"] * ((1 + (r - 1) * rho) / r - m * rho**2 / (1 + (m - 1) * rho))
    ancova = mult * np.sqrt(max(fp, 0.0) * scale)
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])  # recorded
    draws = None
    sim_mde = sim_power = sim_size = np.nan
    if simulations > 0:
        draws = placebo_draws(
            y, treated, m, r, simulations, np.random.default_rng(seed), alpha, se_type
        )
        sim_mde = draws.mde(power)
        sim_size = float(draws.power(0.0)[0])
        if effect is not None:
            sim_power = float(draws.power(effect)[0])
    if not np.isfinite(se) or se == 0:
        raise EstimationError("the outcome has no variation over time within units")
    return PowerResult(
        outcome=outcome,
        units=n_units,
        treated=treated,
        pre_periods=m,
        post_periods=r,
        alpha=alpha,
        power=power,
        df=df,
        mde=mult * se,
        se=se,
        mde_naive=float(naive),
        mde_ancova=float(ancova),
        components=comp,
        effect=effect,
        power_at_effect=power_at(effect, se, alpha, df)
        if effect is not None
        else np.nan,
        simulations=simulations,
        seed=seed,
        sim_mde=float(sim_mde),
        sim_power=float(sim_power),
        sim_size=sim_size,
        se_type=se_type,
        draws=draws,
    )
