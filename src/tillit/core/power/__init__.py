"""Design help: power, minimum detectable effects and randomisation for planned pilots.

* :func:`power_analysis`: DiD pilot on a panel: BPW serial-correlation-robust analytic
  MDE, Frison-Pocock ANCOVA, and simulation on the real panel (vectorised, seeded).
* :func:`cluster_mde`, :func:`icc_anova`: cluster-randomised designs (design effect).
* :func:`randomise`: complete, stratified, cluster and stepped-wedge assignment from a
  recorded seed, with its balance table.
"""

from tillit.core.power.analytic import (
    bpw_components,
    cluster_mde,
    critical_sum,
    icc_anova,
    power_at,
)
from tillit.core.power.design import PowerResult, power_analysis
from tillit.core.power.panel import wide_panel, window_contrasts
from tillit.core.power.randomise import Assignment, randomise
from tillit.core.power.simulate import PlaceboDraws, placebo_draws

__all__ = [
    "Assignment",
    "PlaceboDraws",
    "PowerResult",
    "bpw_components",
    "cluster_mde",
    "critical_sum",
    "icc_anova",
    "placebo_draws",
    "power_analysis",
    "power_at",
    "randomise",
    "wide_panel",
    "window_contrasts",
]
