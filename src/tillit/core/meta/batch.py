"""Many meta-analyses at once (one per outcome), fully vectorised.

Pilots in Tillit report several outcomes; pooling each across pilots is K separate
random-effects models. :func:`meta_analysis_many` fits all K in one batched pass of the
same estimator as :func:`tillit.core.meta.meta_analysis` (identical numbers per row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from tillit.core.errors import DataError
from tillit.core.meta._engine import METHODS, fit_batch, qprofile_tau2
from tillit.core.meta.model import resolve_test
from tillit.core.results import jsonable

__all__ = ["MetaBatch", "meta_analysis_many", "meta_by_group"]


@dataclass(frozen=True)
class MetaBatch:
    """K intercept-only meta-analyses; every array has one entry per outcome."""

    names: tuple[str, ...]
    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    tau2: np.ndarray
    tau2_ci_low: np.ndarray
    tau2_ci_high: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    q: np.ndarray
    q_p: np.ndarray
    pi_low: np.ndarray
    pi_high: np.ndarray
    k: np.ndarray
    method: str
    test: str
    level: float

    def tidy(self) -> pd.DataFrame:
        """One row per outcome."""
        cols = [
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "p_value",
            "tau2",
            "tau2_ci_low",
            "tau2_ci_high",
            "i2",
            "h2",
            "q",
            "q_p",
            "pi_low",
            "pi_high",
            "k",
        ]
        df = pd.DataFrame({c: getattr(self, c) for c in cols})
        df.insert(0, "outcome", list(self.names))
        return df

    def to_dict(self) -> dict[str, Any]:
        """JSON: method, test, level and one record per outcome."""
        out: dict[str, Any] = jsonable(
            {
                "method": self.method,
                "test": self.test,
                "level": self.level,
                "results": self.tidy().to_dict(orient="records"),
            }
        )
        return out

    def summary(self) -> str:
        """Text table, one line per outcome."""
        return self.tidy().to_string(index=False, float_format=lambda x: f"{x:.4f}")


def meta_analysis_many(
    effects: ArrayLike,
    variances: ArrayLike,
    *,
    method: str = "reml",
    hartung_knapp: bool = False,
    level: float = 0.95,
    names: Sequence[str] | None = None,
    tau2_ci: bool = True,
    test: str | None = None,
) -> MetaBatch:
    """Fit one intercept-only meta-analysis per row of ``effects`` (shape ``K x k``).

    Missing studies are NaN (rows may have different numbers of studies). Rows with
    fewer than two studies give NaN everywhere rather than an error.

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> b = meta_analysis_many(rng.normal(size=(3, 8)), np.full((3, 8), 0.5))
    >>> b.tidy().shape
    (3, 16)
    """
    method = method.lower()
    if method not in METHODS:
        raise DataError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    test = resolve_test(test, hartung_knapp)
    hartung_knapp = test != "z"
    y = np.atleast_2d(np.asarray(effects, dtype=float))
    v = np.atleast_2d(np.asarray(variances, dtype=float))
    if y.shape != v.shape:
        raise DataError(f"effects are {y.shape} but variances are {v.shape}")
    if np.any(np.isfinite(v) & (v <= 0)):
        raise DataError("sampling variances must be positive")
    n_out, k_max = y.shape
    ok = np.isfinite(y) & np.isfinite(v)
    usable = ok.sum(1) >= 2
    # rows with < 2 studies: fit a harmless dummy, then blank them
    yy = np.where(usable[:, None], y, np.r_[0.0, 1.0, [np.nan] * (k_max - 2)][:k_max])
    vv = np.where(usable[:, None], v, np.r_[1.0, 1.0, [np.nan] * (k_max - 2)][:k_max])
    x = np.ones((n_out, k_max, 1))
    fit = fit_batch(yy, vv, x, method, hartung_knapp, adhoc=test == "adhoc")
    b = fit.beta[:, 0]
    se = np.sqrt(fit.vb[:, 0, 0])
    df = (fit.k - 1).astype(float)
    if hartung_knapp:
        crit = stats.t.ppf(0.5 + level / 2, df)
        pv = 2 * stats.t.sf(np.abs(b / se), df)
    else:
        crit = np.full(n_out, stats.norm.ppf(0.5 + level / 2))
        pv = 2 * stats.norm.sf(np.abs(b / se))
    if tau2_ci and method != "fe":
        mask = np.isfinite(yy) & np.isfinite(vv)
        lo, hi = qprofile_tau2(
            np.where(mask, yy, 0.0), np.where(mask, vv, 1.0), x, mask, 1, level
        )
    else:
        lo = hi = np.full(n_out, np.nan)
    half = crit * np.sqrt(se**2 + fit.tau2)

    def blank(a: np.ndarray) -> np.ndarray:
        return np.where(usable, a, np.nan)

    return MetaBatch(
        names=tuple(names)
        if names is not None
        else tuple(str(i) for i in range(n_out)),
        estimate=blank(b),
        se=blank(se),
        ci_low=blank(b - crit * se),
        ci_high=blank(b + crit * se),
        p_value=blank(pv),
        tau2=blank(fit.tau2),
        tau2_ci_low=blank(lo),
        tau2_ci_high=blank(hi),
        i2=blank(fit.i2),
        h2=blank(fit.h2),
        q=blank(fit.q),
        q_p=blank(stats.chi2.sf(fit.q, df)),
        pi_low=blank(b - half),
        pi_high=blank(b + half),
        k=ok.sum(1),
        method=method,
        test=test,
        level=level,
    )


def meta_by_group(
    data: pd.DataFrame,
    effect: str,
    variance: str,
    by: str,
    **kwargs: Any,
) -> MetaBatch:
    """Pool ``effect`` within each value of ``by`` (long data: one row per study and outcome)."""
    for col in (effect, variance, by):
        if col not in data.columns:
            raise DataError("no such column", field=col)
    groups = data.groupby(by, sort=True)
    names = [str(g) for g in groups.groups]
    pos = groups.cumcount().to_numpy()
    row = groups.ngroup().to_numpy()
    y = np.full((len(names), pos.max() + 1), np.nan)
    v = np.full_like(y, np.nan)
    y[row, pos] = pd.to_numeric(data[effect], errors="coerce").to_numpy()
    v[row, pos] = pd.to_numeric(data[variance], errors="coerce").to_numpy()
    return meta_analysis_many(y, v, names=names, **kwargs)
