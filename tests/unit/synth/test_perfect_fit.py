"""Synthetic control when the treated unit's predictors are matched exactly.

When some donor mix reproduces the treated unit's (scaled) predictors, every ``V > 0``
has the same inner solutions, and the nested criterion (pre-period outcome fit) has to
choose among them: ``argmin ||Z1 - Z0 w||^2`` subject to ``X0 w = X1`` on the simplex.
These tests hold :func:`simplex_lsq_eq` and that rule to an independent interior-point
solver (cvxpy with CLARABEL) and check that a search over ``V`` alone does worse.
"""

from __future__ import annotations

import numpy as np
import pytest

import tillit.core.synth._scm as scm
from tillit.core.synth._nested import NestedBatch, perfect_fit, search_v
from tillit.core.synth._solvers import simplex_lsq, simplex_lsq_eq

from .test_scm_objective import fit_municipal290

cp = pytest.importorskip("cvxpy")


def _cvx(A, b, C, d):
    """``min ||A w - b||^2`` on the simplex with ``C w = d``, by cvxpy (CLARABEL)."""
    x = cp.Variable(A.shape[1])
    val = cp.Problem(
        cp.Minimize(cp.sum_squares(A @ x - b)),
        [x >= 0, cp.sum(x) == 1, C @ x == d],
    ).solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return float(val), np.asarray(x.value)


def _inside(seed: int, J: int = 30, k: int = 3, T0: int = 12):
    """A problem whose treated predictors are a donor mix (inside the hull)."""
    rng = np.random.default_rng(seed)
    X0 = rng.normal(size=(k, J))
    X1 = X0 @ rng.dirichlet(np.full(J, 0.3))
    Z0 = rng.normal(size=(T0, J)).cumsum(axis=0)
    Z1 = Z0 @ rng.dirichlet(np.ones(J)) + rng.normal(scale=0.5, size=T0)
    return X1, X0, Z1, Z0


@pytest.mark.parametrize("seed", range(12))
def test_equality_constrained_simplex_lsq_matches_cvxpy(seed: int) -> None:
    """Never a worse objective than CLARABEL, and feasible to 1e-10."""
    X1, X0, Z1, Z0 = _inside(seed, J=10 + 4 * seed, k=1 + seed % 4)
    w0 = simplex_lsq(X0, X1)
    assert np.abs(X0 @ w0 - X1).max() < 1e-10  # a feasible start exists
    w = simplex_lsq_eq(Z0, Z1, X0, X1, w0)
    ours = float(np.sum((Z0 @ w - Z1) ** 2))
    ref, _ = _cvx(Z0, Z1, X0, X1)
    assert ours <= ref * (1 + 1e-8) + 1e-10
    assert np.abs(X0 @ w - X1).max() < 1e-10
    assert w.min() >= 0 and abs(w.sum() - 1) < 1e-12


@pytest.mark.parametrize("seed", range(4))
def test_inside_the_hull_the_best_outcome_fit_is_taken(seed: int) -> None:
    """The nested fit equals the constrained optimum; a V search alone is worse."""
    X1, X0, Z1, Z0 = _inside(100 + seed)
    v, w, f = scm.nested_v(X1, X0, Z1, Z0)
    ref, wref = _cvx(Z0, Z1, X0, X1)
    T0 = len(Z1)
    assert f == pytest.approx(ref / T0, rel=1e-7)
    np.testing.assert_allclose(w, wref, atol=1e-6)
    assert np.abs(X0 @ w - X1).max() < 1e-10
    np.testing.assert_allclose(v, np.full(3, 1 / 3))
    prob = NestedBatch(X1[None], X0[None], Z1[None], Z0[None])
    _, _, f_search = search_v(prob)
    assert f_search[0] > f * (1 + 1e-3)


def test_outside_the_hull_nothing_changes() -> None:
    """A treated unit beyond every donor keeps the V search."""
    X1, X0, Z1, Z0 = _inside(7)
    X1 = X0.max(axis=1) + 1.0
    prob = NestedBatch(X1[None], X0[None], Z1[None], Z0[None])
    hit, _, _ = perfect_fit(prob)
    assert not hit.any()


def test_penalised_fits_keep_the_search() -> None:
    """With the Abadie-L'Hour penalty the inner solution is unique: no shortcut."""
    X1, X0, Z1, Z0 = _inside(8)
    prob = NestedBatch(X1[None], X0[None], Z1[None], Z0[None], penalty=0.1)
    assert not perfect_fit(prob)[0].any()


@pytest.mark.slow
def test_municipal290_reaches_the_constrained_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The benchmark's 290-unit panel: the treated unit lies inside the donors' hull.

    Its fit is the constrained optimum (pre-period MSPE 0.0584; mlsynth 1.0 reaches
    0.573, diff-diff 0.599, the V search alone 0.859), to CLARABEL's tolerance.
    """
    seen = []

    def grab(prob, *args, **kwargs):
        seen.append(prob)
        return scm_nested(prob, *args, **kwargs)

    scm_nested = scm.nested_v_batch
    monkeypatch.setattr(scm, "nested_v_batch", grab)
    res = fit_municipal290()
    assert res.fits[0].exact_predictor_fit
    p = seen[0]
    ref, wref = _cvx(p.Z0[0], p.Z1[0], p.X0[0], p.X1[0])
    mspe = res.fits[0].pre_rmspe ** 2
    assert mspe == pytest.approx(ref / p.Z0.shape[1], rel=1e-7)
    assert mspe < 0.06
    w = np.array([res.weights[str(u)] for u in sorted(res.weights)])
    assert np.abs(np.sort(w)[::-1][:5] - np.sort(wref)[::-1][:5]).max() < 1e-6


def test_supplied_or_penalised_weights_are_not_flagged() -> None:
    """The flag means the exact-match rule chose the weights: not with a given V."""
    X1, X0, Z1, Z0 = _inside(9)
    Y0 = np.hstack([Z0.T, Z0.T[:, -2:]])
    y1 = np.concatenate([Z1, Z1[-2:]])
    T0 = len(Z1)
    assert scm.fit_sc(y1, Y0, T0, X1=X1, X0=X0, scale=False).exact
    assert not scm.fit_sc(y1, Y0, T0, X1=X1, X0=X0, v=np.ones(3), scale=False).exact
    assert not scm.fit_sc(y1, Y0, T0, X1=X1, X0=X0, penalty=0.1, scale=False).exact
