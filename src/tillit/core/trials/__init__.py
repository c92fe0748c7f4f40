"""Randomised, cluster-randomised and stepped-wedge pilots.

* :func:`analyse_trial`: effect with CR2/CR1 cluster-robust SE, randomisation-inference
  p-value under the actual design, ANCOVA/CUPED adjustment, balance table.
* :func:`ols_robust`: least squares with CR1 or CR2 (Bell-McCaffrey df).
* :func:`balance_table`: standardised differences and a joint F test.
* :func:`permute_within`: seeded re-allocation within blocks (all designs).
"""

from tillit.core.trials.analysis import analyse_trial
from tillit.core.trials.assign import (
    enumerate_complete,
    n_allocations,
    permute_within,
    rollout_values,
)
from tillit.core.trials.balance import BalanceResult, balance_table
from tillit.core.trials.result import TrialResult
from tillit.core.trials.robust import OlsFit, ols_robust

__all__ = [
    "BalanceResult",
    "OlsFit",
    "TrialResult",
    "analyse_trial",
    "balance_table",
    "enumerate_complete",
    "n_allocations",
    "ols_robust",
    "permute_within",
    "rollout_values",
]
