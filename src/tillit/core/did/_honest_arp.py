"""Conditional and hybrid moment-inequality tests of Andrews, Roth & Pakes (2023).

Rambachan & Roth (2023, section 3.2) test ``H0: theta = theta0`` for ``delta`` in a
polyhedron ``{A delta <= d}`` as the moment inequalities
``E[A beta - d - a1 theta0 - X tau] <= 0`` with the other post-period effects ``tau`` as
nuisance parameters (``[a1, X] = A_post Gamma^{-1}``, ``Gamma``'s first row ``l'``). The
statistic is the LP value ``eta`` (:class:`._honest_lp.EtaLp`); the conditional test
compares it with a truncated-normal quantile, conditioning on the optimal dual vertex; the
hybrids first reject when ``eta`` exceeds a least-favourable critical value (``LF``) or
``theta0`` lies outside the optimal FLCI (``FLCI``), both of size ``kappa``, and then test
at size ``(alpha - kappa) / (1 - kappa)`` with the first stage added to the conditioning
event. This follows HonestDiD's ``.lp_conditional_test_fn`` (primal formula when the
binding moments are ``p + 1`` and of full rank, dual formula otherwise) and, with one
post-period, ``.testInIdentifiedSet*``. HonestDiD finds the dual truncation points by
bisection over LPs; the same iteration is used here, on the cached LP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from tillit.core.did._honest_lp import EtaLp

__all__ = ["Hybrid", "NoNuisance", "Nuisance", "gamma_matrix"]

_TOL_LAMBDA = 1e-6


@dataclass(frozen=True)
class Hybrid:
    """First stage of a hybrid test: ``kind`` is ``ARP`` (none), ``LF`` or ``FLCI``."""

    kind: str
    kappa: float = 0.0
    flci_v: np.ndarray | None = None  # FLCI weights on beta
    flci_half: float = 0.0
    lf_draws: int = 1000
    seed: int = 0


def gamma_matrix(l_vec: np.ndarray) -> np.ndarray:
    """Invertible ``Gamma`` with first row ``l'`` (HonestDiD ``.construct_Gamma``: the
    other rows are the unit vectors except the one at ``l``'s last non-zero entry)."""
    t = l_vec.shape[0]
    last = int(np.flatnonzero(l_vec)[-1])
    rows = [np.eye(t)[j] for j in range(t) if j != last]
    return np.vstack([l_vec, *rows]) if rows else l_vec[None, :]


def _truncnorm_q(p: float, lo: float, hi: float) -> float:
    """``p`` quantile of N(0, 1) truncated to ``[lo, hi]`` (``TruncatedNormal::norminvp``)."""
    if not lo < hi:
        return float("nan")
    return float(stats.truncnorm.ppf(p, lo, hi))


def _vlo_vup(
    w: np.ndarray, d: np.ndarray, s: np.ndarray, c: np.ndarray
) -> tuple[float, float]:
    """Truncation of ``gamma'y`` given ``w (s + c x) <= d`` (the polyhedral lemma)."""
    wc = w @ c
    with np.errstate(divide="ignore", invalid="ignore"):
        obj = (d - w @ s) / wc
    lo = float(np.max(obj[wc < 0])) if (wc < 0).any() else -np.inf
    hi = float(np.min(obj[wc > 0])) if (wc > 0).any() else np.inf
    return lo, hi


@dataclass
class Nuisance:
    """ARP test of ``theta0`` with ``T > 1`` post-periods (nuisance ``tau``)."""

    beta: np.ndarray
    sigma: np.ndarray
    a: np.ndarray
    d: np.ndarray
    k: int
    l_vec: np.ndarray
    alpha: float
    hybrid: Hybrid
    rows: np.ndarray | None = None
    _lp: EtaLp = field(init=False, repr=False)

    def __post_init__(self) -> None:
        agi = self.a[:, self.k :] @ np.linalg.inv(gamma_matrix(self.l_vec))
        self.a1, self.xt = agi[:, 0], agi[:, 1:]
        self.y0 = self.a @ self.beta - self.d
        self.sy = self.a @ self.sigma @ self.a.T
        r = np.arange(self.a.shape[0]) if self.rows is None else self.rows
        self.r = r
        self.sy_r = self.sy[np.ix_(r, r)]
        self._lp = EtaLp(self.xt[r], np.sqrt(np.diag(self.sy_r)))
        h = self.hybrid
        self.size = self.alpha
        if h.kind != "ARP":
            self.size = (self.alpha - h.kappa) / (1 - h.kappa)
        if h.kind == "LF":
            self.lf_cv = self._lf_cv()
        if h.kind == "FLCI" and h.flci_v is not None:
            self.vbar = np.linalg.lstsq(self.a.T, h.flci_v, rcond=None)[0]

    def set_beta(self, beta: np.ndarray) -> None:
        """Test another ``beta`` with the same covariance (keeps the LF value, LP cache)."""
        self.beta = beta
        self.y0 = self.a @ beta - self.d

    def _lf_cv(self) -> float:
        rng = np.random.default_rng(self.hybrid.seed)
        m = self.sy_r.shape[0]
        xi = rng.multivariate_normal(np.zeros(m), self.sy_r, size=self.hybrid.lf_draws)
        eta = self._lp.solve_many(xi.T)
        return float(np.quantile(eta[np.isfinite(eta)], 1 - self.hybrid.kappa))

    def rejects(self, theta: float) -> bool:
        """Whether the (hybrid) test rejects ``theta = theta0``."""
        y_full = self.y0 - self.a1 * theta
        y = y_full[self.r]
        eta, _, lam = self._lp.solve(y)
        if not np.isfinite(eta):
            return False
        h = self.hybrid
        if h.kind == "LF" and eta > self.lf_cv:
            return True
        fl: tuple[np.ndarray, np.ndarray] | None = None
        if h.kind == "FLCI":
            fl = self._flci_event(theta)
            if (fl[0] @ y_full - fl[1]).max() > 0:
                return True
        p = self.xt.shape[1]
        bind = lam > _TOL_LAMBDA
        xb = self.xt[self.r][bind]
        full_rank = xb.size > 0 and np.linalg.matrix_rank(xb) == min(xb.shape)
        if bind.sum() != p + 1 or not full_rank:
            return self._dual(y, y_full, eta, lam, fl)
        return self._primal(y, y_full, eta, bind, fl)

    def _flci_event(self, theta: float) -> tuple[np.ndarray, np.ndarray]:
        vb = self.vbar
        shift = (1 - vb @ self.a1) * theta
        half = self.hybrid.flci_half
        dbar = np.r_[half - vb @ self.d + shift, half + vb @ self.d - shift]
        return np.vstack([vb, -vb]), dbar

    def _finish(
        self,
        eta: float,
        gam: np.ndarray,
        lo: float,
        hi: float,
        y_full: np.ndarray,
        fl: tuple[np.ndarray, np.ndarray] | None,
    ) -> bool:
        """Hybrid truncation, then compare ``eta / sigma_B`` with the truncated quantile."""
        s2 = float(gam @ self.sy_r @ gam)
        if abs(s2) < np.finfo(float).eps:
            return eta > 0
        sb = np.sqrt(s2)
        if self.hybrid.kind == "LF":
            hi = min(hi, self.lf_cv)
        elif fl is not None:
            gfull = np.zeros(self.a.shape[0])
            gfull[self.r] = gam
            cg = self.sy @ gfull / float(gfull @ self.sy @ gfull)
            s = y_full - cg * float(gfull @ y_full)
            flo, fhi = _vlo_vup(fl[0], fl[1], s, cg)
            lo, hi = max(lo, flo), min(hi, fhi)
        stat, zlo, zhi = eta / sb, lo / sb, hi / sb
        if not zlo <= stat <= zhi:
            return False
        return bool(stat > max(0.0, _truncnorm_q(1 - self.size, zlo, zhi)))

    def _primal(
        self,
        y: np.ndarray,
        y_full: np.ndarray,
        eta: float,
        bind: np.ndarray,
        fl: tuple[np.ndarray, np.ndarray] | None,
    ) -> bool:
        """HonestDiD's primal formula for ``vlo``/``vup`` (non-degenerate vertex)."""
        sd, xr = self._lp.sd, self.xt[self.r]
        wb_inv = np.linalg.inv(np.column_stack([sd[bind], xr[bind]]))
        m = y.shape[0]
        sel_b, sel_c = np.eye(m)[bind], np.eye(m)[~bind]
        gam_b = np.column_stack([sd[~bind], xr[~bind]]) @ wb_inv @ sel_b - sel_c
        v_b = wb_inv[0] @ sel_b
        s2 = float(v_b @ self.sy_r @ v_b)
        rho = gam_b @ self.sy_r @ v_b / s2
        with np.errstate(divide="ignore", invalid="ignore"):
            mx = -(gam_b @ y) / rho + float(v_b @ y)
        lo = float(np.max(mx[rho > 0])) if (rho > 0).any() else -np.inf
        hi = float(np.min(mx[rho < 0])) if (rho < 0).any() else np.inf
        return self._finish(eta, v_b, lo, hi, y_full, fl)

    def _dual(
        self,
        y: np.ndarray,
        y_full: np.ndarray,
        eta: float,
        lam: np.ndarray,
        fl: tuple[np.ndarray, np.ndarray] | None,
    ) -> bool:
        """HonestDiD's dual approach: ``[vlo, vup] = {c : eta(s + b c) = c}``."""
        s2 = float(lam @ self.sy_r @ lam)
        if abs(s2) < np.finfo(float).eps:
            return eta > 0
        b = self.sy_r @ lam / s2
        s = y - b * float(lam @ y)
        lo, hi = _dual_interval(self._lp, s, b, eta, float(np.sqrt(s2)))
        return self._finish(eta, lam, lo, hi, y_full, fl)


def _is_solution(
    lp: EtaLp, s: np.ndarray, b: np.ndarray, c: float
) -> tuple[bool, np.ndarray]:
    val, _, gam = lp.solve(s + b * c)
    return abs(c - val) <= 1e-6, gam


def _dual_interval(
    lp: EtaLp, s: np.ndarray, b: np.ndarray, eta: float, sb: float
) -> tuple[float, float]:
    """HonestDiD ``.vlo_vup_dual_fn``: Newton-like steps, then bisection (tol 1e-6)."""
    if not _is_solution(lp, s, b, eta)[0]:
        return eta, np.inf
    out = []
    for edge in (max(100.0, eta + 20 * sb), min(-100.0, eta - 20 * sb)):
        ok, gam = _is_solution(lp, s, b, edge)
        if ok:
            out.append(np.inf if edge > eta else -np.inf)
            continue
        mid, ok = edge, False
        for _ in range(9):
            mid = _step(gam, s, b)
            ok, gam = _is_solution(lp, s, b, mid)
            if ok:
                break
        if ok:
            out.append(mid)
            continue
        inside, outside, iters = eta, mid, 10
        while abs(outside - inside) > 1e-6 and iters < 10000:
            iters += 1
            mid = (inside + outside) / 2
            if _is_solution(lp, s, b, mid)[0]:
                inside = mid
            else:
                outside = mid
        out.append(mid)
    return out[1], out[0]


def _step(gam: np.ndarray, s: np.ndarray, b: np.ndarray) -> float:
    num = float(gam @ s)
    num = 0.0 if abs(num) < np.finfo(float).eps ** 0.75 else num
    return num / (1 - float(gam @ b))


@dataclass
class NoNuisance:
    """ARP test with one post-period (HonestDiD ``.testInIdentifiedSet*``)."""

    beta: np.ndarray
    sigma: np.ndarray
    a: np.ndarray
    d: np.ndarray
    k: int
    alpha: float
    hybrid: Hybrid

    def __post_init__(self) -> None:
        sd = np.sqrt(np.diag(self.a @ self.sigma @ self.a.T))
        self.at, self.dt = self.a / sd[:, None], self.d / sd
        h = self.hybrid
        if h.kind == "LF":
            rng = np.random.default_rng(h.seed)
            sy = self.at @ self.sigma @ self.at.T
            xi = rng.multivariate_normal(np.zeros(sy.shape[0]), sy, size=h.lf_draws)
            self.lf_cv = float(np.quantile(xi.max(axis=1), 1 - h.kappa))

    def rejects(self, theta: float) -> bool:
        """Whether the (hybrid) test rejects ``theta = theta0``."""
        y = self.beta.copy()
        y[self.k] -= theta
        h, alpha = self.hybrid, self.alpha
        extra: tuple[np.ndarray, np.ndarray] | None = None
        if h.kind == "FLCI" and h.flci_v is not None:
            w = np.vstack([h.flci_v, -h.flci_v])
            dd = np.r_[h.flci_half, h.flci_half]
            if (w @ y - dd).max() > 0:
                return True
            extra, alpha = (w, dd), (alpha - h.kappa) / (1 - h.kappa)
        moments = self.at @ y - self.dt
        j = int(np.argmax(moments))
        if h.kind == "LF":
            if moments[j] > self.lf_cv:
                return True
            alpha = (alpha - h.kappa) / (1 - h.kappa)
        gam = self.at[j]
        abar, dbar = self.at - self.at[j], self.dt - self.dt[j]
        if extra is not None:
            abar, dbar = np.vstack([abar, extra[0]]), np.r_[dbar, extra[1]]
        sg = self.sigma @ gam
        var = float(gam @ sg)
        c = sg / var
        z = y - c * float(gam @ y)
        lo, hi = _vlo_vup(abar, dbar, z, c)
        mu, sdv = self.dt[j], np.sqrt(var)
        q = mu + sdv * _truncnorm_q(1 - alpha, (lo - mu) / sdv, (hi - mu) / sdv)
        cv = max(0.0, q) if np.isfinite(q) else 0.0
        return bool(moments[j] + self.dt[j] > cv)
