"""Fixed- and random-effects meta-analysis and meta-regression (one data set).

The model is metafor's ``rma.uni`` (Viechtbauer 2010): ``y_i = x_i' b + u_i + e_i`` with
``e_i ~ N(0, v_i)`` known and ``u_i ~ N(0, tau^2)``. ``tau^2`` by REML (default), ML,
DerSimonian-Laird (1986), Paule-Mandel, or fixed at zero (``"fe"``). Hartung-Knapp
(-Sidik-Jonkman) inference scales the covariance by ``s^2 = sum w_i r_i^2 / (k - p)``
and uses ``t_{k-p}`` (Knapp & Hartung 2003; metafor's ``test="knha"``); ``test="adhoc"``
does the same with ``s^2`` never below 1, so that the adjustment never narrows the
interval (Knapp & Hartung 2003's ad hoc correction; Jackson, Law, Rücker & Schwarzer
2017, section 4.3; metafor's ``test="adhoc"``).

Example
-------
>>> import numpy as np
>>> res = meta_analysis([0.1, 0.3, -0.2, 0.5], [0.04, 0.09, 0.05, 0.1])
>>> round(res.estimate.estimate, 4)
0.1152
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from tillit.core.errors import DataError, EstimationError
from tillit.core.meta._engine import METHODS, BatchFit, fit_batch, qprofile_tau2
from tillit.core.results import Estimate, jsonable

__all__ = ["TESTS", "MetaResult", "meta_analysis", "resolve_test"]

TESTS = ("z", "knha", "hksj", "adhoc")


def resolve_test(test: str | None, hartung_knapp: bool) -> str:
    """metafor's ``test`` name from ``test`` or the ``hartung_knapp`` flag."""
    if test is None:
        return "knha" if hartung_knapp else "z"
    test = test.lower()
    if test not in TESTS:
        raise DataError(f"unknown test {test!r}; use one of {', '.join(TESTS)}")
    return "knha" if test == "hksj" else test


@dataclass(frozen=True)
class MetaResult:
    """A fitted (meta-)regression; ``estimate`` is the pooled effect or the intercept."""

    coefficients: tuple[Estimate, ...]
    terms: tuple[str, ...]
    method: str
    test: str  # "z", "knha" or "adhoc"
    df: float  # t degrees of freedom (inf for z)
    k: int
    tau2: float
    tau2_se: float
    tau2_ci: tuple[float, float]
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    prediction: tuple[float, float]
    qm: float
    qm_df: tuple[int, float]
    qm_p: float
    r2: float
    level: float
    labels: tuple[str, ...] = field(repr=False)
    effects: tuple[float, ...] = field(repr=False)
    variances: tuple[float, ...] = field(repr=False)
    weights: tuple[float, ...] = field(repr=False)  # percent, random-effects weights
    converged: bool = True

    @property
    def estimate(self) -> Estimate:
        """The pooled effect (intercept-only model) or the intercept."""
        return self.coefficients[0]

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON shape; top-level estimate fields are the first coefficient."""
        d: dict[str, Any] = self.estimate.to_dict()
        d.update(
            {
                "method": self.method,
                "test": self.test,
                "df": self.df,
                "k": self.k,
                "level": self.level,
                "tau2": self.tau2,
                "tau2_se": self.tau2_se,
                "tau2_ci_low": self.tau2_ci[0],
                "tau2_ci_high": self.tau2_ci[1],
                "tau": float(np.sqrt(self.tau2)),
                "i2": self.i2,
                "h2": self.h2,
                "q": self.q,
                "q_df": self.q_df,
                "q_p": self.q_p,
                "pi_low": self.prediction[0],
                "pi_high": self.prediction[1],
                "coefficients": [
                    {"term": t, **c.to_dict()}
                    for t, c in zip(self.terms, self.coefficients, strict=True)
                ],
                "qm": self.qm,
                "qm_df": list(self.qm_df),
                "qm_p": self.qm_p,
                "r2": self.r2,
                "converged": self.converged,
                "studies": self.studies().to_dict(orient="records"),
            }
        )
        out: dict[str, Any] = jsonable(d)
        return out

    def tidy(self) -> pd.DataFrame:
        """One row per coefficient."""
        rows = [
            {"term": t, **c.to_dict()}
            for t, c in zip(self.terms, self.coefficients, strict=True)
        ]
        return pd.DataFrame(rows)

    def studies(self) -> pd.DataFrame:
        """One row per study: label, effect, variance, its own CI and weight (%)."""
        y = np.asarray(self.effects)
        se = np.sqrt(np.asarray(self.variances))
        z = stats.norm.ppf(0.5 + self.level / 2)
        return pd.DataFrame(
            {
                "study": list(self.labels),
                "effect": y,
                "se": se,
                "ci_low": y - z * se,
                "ci_high": y + z * se,
                "weight": list(self.weights),
            }
        )

    def summary(self) -> str:
        """Text like metafor's print method."""
        name = {
            "fe": "Fixed-effect",
            "dl": "Random-effects (DL)",
            "reml": "Random-effects (REML)",
        }
        head = name.get(self.method, f"Random-effects ({self.method.upper()})")
        lines = [f"{head} model (k = {self.k}; test = {self.test})", ""]
        if self.method != "fe":
            lines.append(
                f"tau^2 = {self.tau2:.4f} (SE = {self.tau2_se:.4f}; "
                f"{self.level:.0%} CI {self.tau2_ci[0]:.4f}, {self.tau2_ci[1]:.4f})"
            )
        lines.append(f"I^2 = {self.i2:.2f}%   H^2 = {self.h2:.2f}")
        if self.qm_df[0] > 0:
            lines.append(f"R^2 = {self.r2:.2f}%")
        lines.append(f"Q(df = {self.q_df}) = {self.q:.4f}, p = {self.q_p:.4g}")
        if self.qm_df[0] > 0:
            lines.append(
                f"QM(df = {self.qm_df[0]}) = {self.qm:.4f}, p = {self.qm_p:.4g}"
            )
        lines.append("")
        lines.append(
            self.tidy().to_string(index=False, float_format=lambda x: f"{x:.4f}")
        )
        if self.qm_df[0] == 0:
            lines.append(
                f"\nprediction interval: {self.prediction[0]:.4f}, {self.prediction[1]:.4f}"
            )
        return "\n".join(lines)

    def plot(self, ax: Any = None) -> Any:
        """Forest plot (matplotlib); see :func:`tillit.core.meta.plot.forest_plot`."""
        from tillit.core.meta.plot import forest_plot

        return forest_plot(self, ax=ax)


def _as_arrays(
    effect: ArrayLike, variance: ArrayLike | None, se: ArrayLike | None
) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(effect, dtype=float).ravel()
    if (variance is None) == (se is None):
        raise DataError("give exactly one of variance or se")
    if variance is not None:
        v = np.asarray(variance, dtype=float).ravel()
        name = "variance"
    else:
        v = np.asarray(se, dtype=float).ravel() ** 2
        name = "se"
    if v.shape != y.shape:
        raise DataError(f"effect has {y.size} values but {name} has {v.size}")
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise DataError(
            "missing or non-numeric effect", row=int(bad[0]) + 1, field="effect"
        )
    bad = np.flatnonzero(~np.isfinite(v) | (v <= 0))
    if bad.size:
        raise DataError(
            "sampling variances must be positive", row=int(bad[0]) + 1, field=name
        )
    return y, v


def _design(
    n: int, moderators: ArrayLike | pd.DataFrame | None, names: Sequence[str] | None
) -> tuple[np.ndarray, tuple[str, ...]]:
    if moderators is None:
        return np.ones((n, 1)), ("intrcpt",)
    if isinstance(moderators, pd.DataFrame):
        names = [str(c) for c in moderators.columns]
        m = moderators.to_numpy(dtype=float)
    else:
        m = np.asarray(moderators, dtype=float)
    m = m.reshape(n, -1) if m.ndim == 1 else m
    if m.shape[0] != n:
        raise DataError(f"moderators have {m.shape[0]} rows for {n} studies")
    if not np.all(np.isfinite(m)):
        raise DataError("moderators contain missing or non-numeric values")
    names = (
        list(names) if names is not None else [f"mod{j + 1}" for j in range(m.shape[1])]
    )
    x = np.column_stack([np.ones(n), m])
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise EstimationError("moderators are collinear (or constant); drop one")
    return x, ("intrcpt", *names)


def _coefs(fit: BatchFit, hk: bool, level: float) -> tuple[tuple[Estimate, ...], float]:
    b = fit.beta[0]
    se = np.sqrt(np.diag(fit.vb[0]))
    df = float(fit.k[0] - fit.p) if hk else np.inf
    dist = stats.t(df) if hk else stats.norm()
    crit = dist.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        pv = 2 * dist.sf(np.abs(b / se))
    return (
        tuple(
            Estimate(
                float(b[j]),
                float(se[j]),
                float(b[j] - crit * se[j]),
                float(b[j] + crit * se[j]),
                float(pv[j]),
                level,
            )
            for j in range(len(b))
        ),
        df,
    )


def _moderator_test(fit: BatchFit, hk: bool) -> tuple[float, tuple[int, float], float]:
    m = fit.p - 1
    if m == 0:
        return np.nan, (0, np.inf), np.nan
    b = fit.beta[0, 1:]
    vb = fit.vb[0, 1:, 1:]
    qm = float(b @ np.linalg.solve(vb, b))
    if hk:
        df2 = float(fit.k[0] - fit.p)
        return qm / m, (m, df2), float(stats.f.sf(qm / m, m, df2))
    return qm, (m, np.inf), float(stats.chi2.sf(qm, m))


def meta_analysis(
    effect: ArrayLike,
    variance: ArrayLike | None = None,
    *,
    se: ArrayLike | None = None,
    moderators: ArrayLike | pd.DataFrame | None = None,
    moderator_names: Sequence[str] | None = None,
    method: str = "reml",
    hartung_knapp: bool = False,
    level: float = 0.95,
    labels: Sequence[str] | None = None,
    tol: float = 1e-10,
    test: str | None = None,
) -> MetaResult:
    """Fit a fixed- or random-effects meta-analysis, or a meta-regression.

    Parameters
    ----------
    effect
        Study effect sizes ``y_i`` (e.g. log risk ratios).
    variance, se
        Their sampling variances ``v_i``, or standard errors (exactly one).
    moderators
        Study-level moderators (array ``k x m`` or DataFrame); an intercept is added.
    method
        ``"reml"`` (default), ``"dl"``, ``"ml"``, ``"pm"``, ``"he"`` or ``"fe"``.
    hartung_knapp
        Hartung-Knapp-Sidik-Jonkman inference (t with ``k - p`` df).
    level
        Confidence level for intervals (also the prediction interval).
    labels
        Study labels for tables and the forest plot.
    tol
        Convergence tolerance of REML/ML on tau^2 (metafor uses 1e-5; pass that to
        reproduce metafor's printed digits exactly).
    test
        ``"z"``, ``"knha"`` (also ``"hksj"``) or ``"adhoc"`` as metafor's ``test``;
        when given it overrides ``hartung_knapp``.

    Returns
    -------
    MetaResult
        Coefficients, tau^2 (SE, Q-profile CI), I^2, H^2, Q, prediction interval,
        and for meta-regression the omnibus test QM and R^2 (as metafor).
    """
    method = method.lower()
    if method not in METHODS:
        raise DataError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    if not 0 < level < 1:
        raise DataError(f"level must be between 0 and 1, got {level}")
    test = resolve_test(test, hartung_knapp)
    hartung_knapp = test != "z"
    y, v = _as_arrays(effect, variance, se)
    if labels is not None and len(labels) != y.size:
        raise DataError(f"{len(labels)} labels for {y.size} studies")
    x, terms = _design(y.size, moderators, moderator_names)
    k, p = x.shape
    if k - p < 1:
        raise EstimationError(f"{k} studies are too few for {p} coefficient(s)")
    fit = fit_batch(
        y[None], v[None], x[None], method, hartung_knapp, tol, test == "adhoc"
    )
    coefs, df = _coefs(fit, hartung_knapp, level)
    tau2 = float(fit.tau2[0])
    ci = (np.nan, np.nan)
    if method != "fe":
        lo, hi = qprofile_tau2(
            y[None], v[None], x[None], np.ones((1, k), bool), p, level
        )
        ci = (float(lo[0]), float(hi[0]))
    pred = (np.nan, np.nan)
    if p == 1:
        crit = (stats.t(df) if hartung_knapp else stats.norm()).ppf(0.5 + level / 2)
        half = crit * np.sqrt(coefs[0].se ** 2 + tau2)
        pred = (coefs[0].estimate - half, coefs[0].estimate + half)
    r2 = np.nan
    if p > 1 and method != "fe":
        base = fit_batch(y[None], v[None], np.ones((1, k, 1)), method, tol=tol)
        t0 = float(base.tau2[0])
        r2 = max(0.0, 100 * (t0 - tau2) / t0) if t0 > 0 else 0.0
    w = 1 / (v + tau2)
    qm, qm_df, qm_p = _moderator_test(fit, hartung_knapp)
    q = float(fit.q[0])
    return MetaResult(
        coefficients=coefs,
        terms=terms,
        method=method,
        test=test,
        df=df,
        k=k,
        tau2=tau2,
        tau2_se=float(fit.tau2_se[0]),
        tau2_ci=ci,
        i2=float(fit.i2[0]),
        h2=float(fit.h2[0]),
        q=q,
        q_df=k - p,
        q_p=float(stats.chi2.sf(q, k - p)),
        prediction=(float(pred[0]), float(pred[1])),
        qm=qm,
        qm_df=qm_df,
        qm_p=qm_p,
        r2=r2,
        level=level,
        labels=tuple(labels)
        if labels is not None
        else tuple(str(i + 1) for i in range(k)),
        effects=tuple(y.tolist()),
        variances=tuple(v.tolist()),
        weights=tuple((100 * w / w.sum()).tolist()),
        converged=bool(fit.converged[0]),
    )
