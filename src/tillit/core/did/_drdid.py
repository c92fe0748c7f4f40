"""Two-period panel DiD estimators with covariates, vectorised over outcomes.

These are the panel estimators of Sant'Anna & Zhao (2020) as R's ``DRDID`` implements them
(``reg_did_panel``, ``std_ipw_did_panel``, ``drdid_panel``), each returning the point
estimates and the per-unit influence functions for a matrix of outcome changes
``dy`` (units x outcomes). The propensity score and the outcome-regression design are shared
by all outcomes: one logit fit and one least-squares factorisation per call.

Influence functions are normalised like R's (``att = mean(att_i)``, ``se = sd(inf)/sqrt(n)``):
``inf`` has one row per unit in the call.
"""

from __future__ import annotations

import numpy as np

from tillit.core.errors import EstimationError

__all__ = ["dr_panel", "ipw_panel", "logit", "reg_panel"]

_TRIM = 0.995


def logit(
    d: np.ndarray, x: np.ndarray, tol: float = 1e-12
) -> tuple[np.ndarray, np.ndarray]:
    """Fit a logit by Newton-Raphson (like R's ``glm(family=binomial)``).

    Returns the fitted probabilities and ``n * (X'WX)^{-1}`` (R's ``vcov(fit) * n``).
    """
    n, p = x.shape
    beta = np.zeros(p)
    for _ in range(100):
        eta = np.clip(x @ beta, -35.0, 35.0)
        ps = 1.0 / (1.0 + np.exp(-eta))
        w = ps * (1.0 - ps)
        hess = (x * w[:, None]).T @ x
        grad = x.T @ (d - ps)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                "the propensity-score model is singular (a covariate is constant or "
                "collinear within a comparison)"
            ) from exc
        beta = beta + step
        if np.max(np.abs(step)) < tol * (1.0 + np.max(np.abs(beta))):
            break
    else:
        raise EstimationError(
            "the propensity-score logit did not converge (separation?)"
        )
    eta = np.clip(x @ beta, -35.0, 35.0)
    ps = 1.0 / (1.0 + np.exp(-eta))
    w = ps * (1.0 - ps)
    hess_inv = np.linalg.inv((x * w[:, None]).T @ x)
    return ps, n * hess_inv


def _ols_control(
    dy: np.ndarray, d: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """OLS of dy on x among controls; returns fitted values (n,K) and the OLS IF (n,K,p)."""
    n = x.shape[0]
    c = 1.0 - d
    xc = x * c[:, None]
    xtx = xc.T @ x
    try:
        xtx_inv = np.linalg.inv(xtx / n)
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            "the outcome regression is singular among the comparison units"
        ) from exc
    coef = np.linalg.solve(xtx, xc.T @ dy)
    fitted = x @ coef
    resid = dy - fitted
    # asy.lin.rep.ols[i, k, :] = c_i * resid_ik * x_i @ xtx_inv
    xinv = x @ xtx_inv
    return fitted, (c[:, None] * resid)[:, :, None] * xinv[:, None, :]


def _ps_weights(
    d: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ps, hess = logit(d, x)
    ps = np.minimum(ps, 1.0 - 1e-6)
    trim = np.where(d == 1, ps < 1.01, ps < _TRIM).astype(float)
    w_treat = trim * d
    w_cont = trim * ps * (1.0 - d) / (1.0 - ps)
    return ps, hess, np.stack([w_treat, w_cont])


def reg_panel(
    dy: np.ndarray, d: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Outcome-regression DiD (Heckman, Ichimura & Todd 1997; R ``reg_did_panel``)."""
    fitted, lin_ols = _ols_control(dy, d, x)
    w = d
    mw = w.mean()
    att_t = w[:, None] * dy
    att_c = w[:, None] * fitted
    eta_t = att_t.mean(0) / mw
    eta_c = att_c.mean(0) / mw
    inf_t = (att_t - w[:, None] * eta_t) / mw
    m1 = (w[:, None] * x).mean(0)
    inf_c = (att_c - w[:, None] * eta_c + lin_ols @ m1) / mw
    return eta_t - eta_c, inf_t - inf_c


def ipw_panel(
    dy: np.ndarray, d: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Normalised (Hajek) IPW DiD (Abadie 2005; R ``std_ipw_did_panel``)."""
    ps, hess, (w_t, w_c) = _ps_weights(d, x)
    att_t = w_t[:, None] * dy
    att_c = w_c[:, None] * dy
    eta_t = att_t.mean(0) / w_t.mean()
    eta_c = att_c.mean(0) / w_c.mean()
    lin_ps = ((d - ps)[:, None] * x) @ hess
    inf_t = (att_t - w_t[:, None] * eta_t) / w_t.mean()
    m2 = np.einsum("n,nk,np->pk", w_c, dy - eta_c, x) / x.shape[0]
    inf_c = (att_c - w_c[:, None] * eta_c + lin_ps @ m2) / w_c.mean()
    return eta_t - eta_c, inf_t - inf_c


def dr_panel(
    dy: np.ndarray, d: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Locally efficient doubly robust DiD (Sant'Anna & Zhao 2020; R ``drdid_panel``)."""
    n = x.shape[0]
    ps, hess, (w_t, w_c) = _ps_weights(d, x)
    fitted, lin_ols = _ols_control(dy, d, x)
    r = dy - fitted
    att_t = w_t[:, None] * r
    att_c = w_c[:, None] * r
    eta_t = att_t.mean(0) / w_t.mean()
    eta_c = att_c.mean(0) / w_c.mean()
    m1 = (w_t[:, None] * x).mean(0)
    inf_t = (att_t - w_t[:, None] * eta_t - lin_ols @ m1) / w_t.mean()
    lin_ps = ((d - ps)[:, None] * x) @ hess
    m2 = np.einsum("n,nk,np->pk", w_c, r - eta_c, x) / n
    m3 = (w_c[:, None] * x).mean(0)
    inf_c = (att_c - w_c[:, None] * eta_c + lin_ps @ m2 - lin_ols @ m3) / w_c.mean()
    return eta_t - eta_c, inf_t - inf_c
