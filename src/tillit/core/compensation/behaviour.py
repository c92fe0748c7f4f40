"""The provider-behaviour model: named parameters with priors, sampled for Monte Carlo.

Each parameter has a prior, a normal distribution truncated to ``[lo, hi]``; some take
one value per provider type (:data:`~tillit.core.compensation.codes.PROVIDERS`), the
others one value for all.  :data:`DEFAULTS` holds the numbers; their sources and the
reasoning behind each one are in :mod:`tillit.domain.compensation` (and
``docs/compensation.md``), which holds one source per parameter.

================================  ====  ===================================================
parameter                         per   meaning
================================  ====  ===================================================
``delivered_prospective``         type  share of granted care delivered when pay does not
                                        depend on delivery (granted time, level, capitation,
                                        budget); cancellations come on top
``delivered_retrospective``       type  the same when pay follows performed time
``selection``                     type  probability that a provider passes a costly
                                        recipient (complexity in the top fifth) back to the
                                        in-house provider under flat pay
``travel_factor``                 type  travel time used relative to the planned, when
                                        travel is not paid per travel hour
``overhead``                      type  staff time outside homes, travel and registration
                                        (meetings, breaks, planning) per staff hour spent
``need_slope``                    all   change in the delivered share per 10 granted hours
                                        a month above 30
``individual_sd``                 all   spread of the delivered share between recipients
``self_report_inflation``         all   share by which self-reported time exceeds the time
                                        actually spent
``rush``                          all   share of the planned visit length delivered when
                                        pay is per visit
``complexity``                    all   log staff hours per granted hour per unit of the
                                        recipient's complexity ``z``
``cancel_rate``                   all   share of planned visits cancelled at short notice
``staff_cost``                    all   cost of one staff hour, kr, with employer on-costs
``team_size``                     all   staff pool a recipient's visits are drawn from
``fragmentation``                 all   factor on the pool under pay per visit or per
                                        measured minute
================================  ====  ===================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from tillit.core.compensation.codes import PROVIDERS
from tillit.core.errors import DataError

__all__ = ["DEFAULTS", "PER_PROVIDER", "Draws", "Prior", "Priors"]


@dataclass(frozen=True)
class Prior:
    """A normal prior with mean ``mean`` and sd ``sd``, truncated to ``[lo, hi]``.

    ``sd == 0`` makes the parameter fixed.
    """

    mean: float
    sd: float
    lo: float
    hi: float

    def ppf(self, q: np.ndarray) -> np.ndarray:
        """Quantiles of the truncated normal at probabilities ``q`` (inverse CDF).

        >>> p = Prior(0.0, 1.0, -1.0, 2.0)
        >>> bool(abs(p.ppf(np.array([0.5]))[0] - 0.171164) < 1e-6)
        True
        """
        if self.sd == 0:
            return np.full(np.shape(q), self.mean, dtype=float)
        a, b = (self.lo - self.mean) / self.sd, (self.hi - self.mean) / self.sd
        pa, pb = ndtr(a), ndtr(b)
        z = ndtri(pa + np.asarray(q, dtype=float) * (pb - pa))
        return np.asarray(
            np.clip(self.mean + self.sd * z, self.lo, self.hi), dtype=float
        )


PER_PROVIDER = (
    "delivered_prospective",
    "delivered_retrospective",
    "selection",
    "travel_factor",
    "overhead",
)
"""Parameters with one value per provider type."""

# (mean, sd, lo, hi); per-provider parameters give one tuple per provider type
DEFAULTS: dict[str, tuple[tuple[float, float, float, float], ...]] = {
    "delivered_prospective": ((0.915, 0.04, 0.5, 1.0), (0.885, 0.05, 0.5, 1.0), (0.915, 0.05, 0.5, 1.0)),
    "delivered_retrospective": ((0.96, 0.03, 0.5, 1.0), (0.96, 0.04, 0.5, 1.0), (0.96, 0.04, 0.5, 1.0)),
    "selection": ((0.0, 0.0, 0.0, 1.0), (0.30, 0.12, 0.0, 1.0), (0.15, 0.08, 0.0, 1.0)),
    "travel_factor": ((1.0, 0.03, 0.6, 1.2), (0.90, 0.05, 0.6, 1.2), (0.95, 0.05, 0.6, 1.2)),
    "overhead": ((0.23, 0.06, 0.0, 1.0), (0.15, 0.06, 0.0, 1.0), (0.20, 0.06, 0.0, 1.0)),
    "need_slope": ((-0.005, 0.003, -0.05, 0.02),),
    "individual_sd": ((0.10, 0.02, 0.0, 0.3),),
    "self_report_inflation": ((0.03, 0.02, 0.0, 0.2),),
    "rush": ((0.80, 0.07, 0.4, 1.0),),
    "complexity": ((0.10, 0.04, 0.0, 0.4),),
    "cancel_rate": ((0.04, 0.015, 0.0, 0.3),),
    "staff_cost": ((283.0, 20.0, 100.0, 1000.0),),
    "team_size": ((20.0, 3.0, 2.0, 60.0),),
    "fragmentation": ((1.10, 0.05, 0.8, 1.6),),
}  # fmt: skip
"""Default priors (sources: :mod:`tillit.domain.compensation`)."""


@dataclass(frozen=True)
class Draws:
    """Sampled parameter values: ``values[name]`` is ``(n,)`` or ``(n, K)``."""

    values: Mapping[str, np.ndarray]

    @property
    def n(self) -> int:
        """Number of draws."""
        return int(next(iter(self.values.values())).shape[0])

    def take(self, rows: slice) -> Draws:
        """The draws in ``rows``."""
        return Draws({k: v[rows] for k, v in self.values.items()})


@dataclass(frozen=True)
class Priors:
    """Priors of every behaviour parameter (validated; see :data:`DEFAULTS`)."""

    priors: Mapping[str, tuple[Prior, ...]]

    @classmethod
    def default(cls) -> Priors:
        """The default priors."""
        return cls.from_numbers(DEFAULTS)

    @classmethod
    def from_numbers(
        cls, numbers: Mapping[str, tuple[tuple[float, float, float, float], ...]]
    ) -> Priors:
        """Build from ``{name: ((mean, sd, lo, hi), ...)}`` and validate.

        Raises
        ------
        DataError
            An unknown or missing parameter, a wrong number of provider values, a
            negative sd, a mean outside ``[lo, hi]``.
        """
        unknown = sorted(set(numbers) - set(DEFAULTS))
        if unknown:
            raise DataError(
                f"unknown behaviour parameter {unknown[0]!r}",
                field=f"behaviour.{unknown[0]}",
            )
        out: dict[str, tuple[Prior, ...]] = {}
        for name in DEFAULTS:
            vals = numbers.get(name, DEFAULTS[name])
            want = len(PROVIDERS) if name in PER_PROVIDER else 1
            if len(vals) != want:
                raise DataError(f"needs {want} value(s)", field=f"behaviour.{name}")
            priors = []
            for i, (mean, sd, lo, hi) in enumerate(vals):
                path = f"behaviour.{name}" + (f".{PROVIDERS[i]}" if want > 1 else "")
                if not all(np.isfinite([mean, sd, lo, hi])):
                    raise DataError("must be finite numbers", field=path)
                if sd < 0:
                    raise DataError("the sd must not be negative", field=path + ".sd")
                if not lo <= mean <= hi:
                    raise DataError(
                        f"the mean {mean:g} is outside [{lo:g}, {hi:g}]",
                        field=path + ".mean",
                    )
                priors.append(Prior(float(mean), float(sd), float(lo), float(hi)))
            out[name] = tuple(priors)
        return cls(out)

    def _shape(self, name: str, rows: np.ndarray) -> np.ndarray:
        ps = self.priors[name]
        cols = [p.ppf(rows[:, i % rows.shape[1]]) for i, p in enumerate(ps)]
        arr = np.stack(cols, axis=1)
        return arr if name in PER_PROVIDER else arr[:, 0]

    def central(self) -> Draws:
        """One draw with every parameter at its prior mean."""
        vals: dict[str, np.ndarray] = {}
        for name, ps in self.priors.items():
            arr = np.array([[p.mean for p in ps]])
            vals[name] = arr if name in PER_PROVIDER else arr[:, 0]
        return Draws(vals)

    def sample(self, n: int, rng: np.random.Generator) -> Draws:
        """``n`` independent draws (inverse-CDF of uniforms, one stream per value)."""
        vals: dict[str, np.ndarray] = {}
        for name, ps in self.priors.items():
            u = rng.random((n, len(ps)))
            vals[name] = self._shape(name, u)
        return Draws(vals)

    def at_quantile(self, name: str, q: float) -> Draws:
        """One draw at the means except ``name`` (all its provider values) at quantile ``q``."""
        base = dict(self.central().values)
        ps = self.priors[name]
        arr = np.array([[float(p.ppf(np.array([q]))[0]) for p in ps]])
        base[name] = arr if name in PER_PROVIDER else arr[:, 0]
        return Draws(base)

    def varied(self) -> list[str]:
        """Names of the parameters whose prior has a positive sd."""
        return [k for k, ps in self.priors.items() if any(p.sd > 0 for p in ps)]
