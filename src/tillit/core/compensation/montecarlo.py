"""Monte Carlo over the behaviour priors, and the one-at-a-time tornado.

:func:`simulate` runs every model on the same recipients and the same draws (common
random numbers), so differences between models are paired draw by draw.  With one
draw the parameters sit at their prior means; with more, each draw samples every
parameter from its prior and the intervals are the 5th and 95th percentiles.

:func:`tornado` moves one parameter at a time to the 5th and the 95th percentile of
its prior (all others at their means) and reports how far each output moves, and
whether the difference between a model and the baseline changes sign (a conclusion
that does not survive the uncertainty of that parameter).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tillit.core.compensation.behaviour import Draws, Priors
from tillit.core.compensation.engine import empty_outputs, run_block
from tillit.core.compensation.models import ModelArrays
from tillit.core.compensation.population import Population
from tillit.core.compensation.result import SimulationResult, Tornado
from tillit.core.errors import DataError

__all__ = ["MAX_DRAWS", "block_size", "simulate", "tornado"]

MAX_DRAWS = 100_000
BLOCK_ELEMENTS = 160_000  # recipients x draws per block: keeps temporaries in cache
Progress = Callable[[int, int], None]


def block_size(n_recipients: int, n_draws: int) -> int:
    """Draws per block so that a block holds about :data:`BLOCK_ELEMENTS` values."""
    return max(1, min(n_draws, BLOCK_ELEMENTS // max(n_recipients, 1)))


def _run(
    pop: Population,
    models: ModelArrays,
    draws: Draws,
    progress: Progress | None,
    extra: int = 0,
) -> dict[str, np.ndarray]:
    d = draws.n
    out = empty_outputs(models.m, d)
    step = block_size(pop.n, d)
    total = -(-d // step) * models.m + extra
    done = [0]

    def tick(k: int) -> None:
        done[0] += k
        if progress is not None:
            progress(done[0], total)

    for start in range(0, d, step):
        rows = slice(start, min(start + step, d))
        run_block(pop, models, draws.take(rows), out, rows, tick)
    return out


def simulate(
    pop: Population,
    models: ModelArrays,
    priors: Priors | None = None,
    *,
    draws: int = 1,
    seed: int = 0,
    progress: Progress | None = None,
) -> SimulationResult:
    """Simulate a year of every model for ``pop``.

    Parameters
    ----------
    pop
        The recipients.
    models
        The compensation models (the first is the baseline of comparisons).
    priors
        Behaviour priors; default :meth:`Priors.default`.
    draws
        1: every parameter at its prior mean; more: Monte Carlo draws from the priors.
    seed
        Seed of the draws.
    progress
        Called as ``progress(done, total)`` in model-block units.

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> from tillit.core.compensation.models import single
    >>> from tillit.core.compensation.population import generate_population
    >>> pop = generate_population(500, mean_hours=30.0, seed=1)
    >>> m = single("Granted", "granted_time", rate_day_personal=400.0,
    ...            rate_day_service=400.0, rate_evening=400.0, rate_night=400.0)
    >>> res = simulate(pop, m)
    >>> round(float(res.value("cost_per_recipient")[0]) / (12 * 30.0 * 400.0), 6)
    1.0
    """
    if not 1 <= draws <= MAX_DRAWS:
        raise DataError(f"draws must be between 1 and {MAX_DRAWS}", field="draws")
    if models.m == 0:
        raise DataError("give at least one model", field="models")
    priors = priors or Priors.default()
    rng = np.random.default_rng(seed)
    sample = priors.central() if draws == 1 else priors.sample(draws, rng)
    out = _run(pop, models, sample, progress)
    return SimulationResult.build(pop, models, out, sample, seed=seed)


def tornado(
    pop: Population,
    models: ModelArrays,
    priors: Priors | None = None,
    *,
    low: float = 0.05,
    high: float = 0.95,
    progress: Progress | None = None,
) -> Tornado:
    """One-at-a-time sensitivity of every output to every varied parameter.

    Runs ``1 + 2P`` parameter sets (the centre, and each of the ``P`` varied
    parameters at the ``low`` and ``high`` quantiles of its prior) in one batch.

    Examples
    --------
    >>> from tillit.core.compensation.models import single
    >>> from tillit.core.compensation.population import generate_population
    >>> pop = generate_population(300, mean_hours=30.0, seed=1)
    >>> m = single("Performed", "performed_time_electronic", rate_day_personal=400.0,
    ...            rate_day_service=400.0, rate_evening=400.0, rate_night=400.0)
    >>> t = tornado(pop, m)
    >>> t.ranked("cost_per_recipient", 0)[0][0]
    'delivered_retrospective'
    """
    if not 0 < low < 0.5 < high < 1:
        raise DataError(
            "the quantiles must satisfy 0 < low < 0.5 < high < 1", field="low"
        )
    priors = priors or Priors.default()
    names = priors.varied()
    sets = [priors.central()]
    for name in names:
        sets += [priors.at_quantile(name, low), priors.at_quantile(name, high)]
    stacked = Draws(
        {k: np.concatenate([s.values[k] for s in sets]) for k in sets[0].values}
    )
    out = _run(pop, models, stacked, progress)
    res = SimulationResult.build(pop, models, out, stacked, seed=0)
    return Tornado.build(res, tuple(names), low, high)
