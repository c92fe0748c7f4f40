"""The batched nested synthetic control: inner QP, gradient, warm starts, batching."""

from __future__ import annotations

import numpy as np
import pytest

from tillit.core.synth._nested import (
    NestedBatch,
    _lower_bound,
    _softmax,
    nested_v_batch,
)
from tillit.core.synth._scm import fit_sc, fit_sc_batch
from tillit.core.synth._solvers import (
    dense_weights,
    kkt_residual,
    simplex_lsq,
    weighted_simplex_lsq,
)


def _problems(seed: int, N: int, k: int, J: int, T0: int = 10):
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(N, 2, T0))
    load = rng.normal(size=(N, J + 1, 2))
    Z = np.einsum("njf,nft->njt", load, F) + 0.3 * rng.normal(size=(N, J + 1, T0))
    X = np.concatenate(
        [Z[:, :, [0, T0 // 2, T0 - 1]], rng.normal(size=(N, J + 1, k - 3))], 2
    )
    X = X / X.std(axis=1, ddof=1, keepdims=True)
    return NestedBatch(
        X[:, 0], np.swapaxes(X[:, 1:], 1, 2), Z[:, 0], np.swapaxes(Z[:, 1:], 1, 2)
    )


@pytest.mark.parametrize("penalty", [0.0, 0.5])
def test_batched_qp_equals_scalar_qp(penalty: float) -> None:
    rng = np.random.default_rng(1)
    N, S, k, J = 5, 4, 6, 25
    X0 = rng.normal(size=(N, k, J))
    X1 = rng.normal(size=(N, k)) * 1.5
    v = rng.dirichlet(np.ones(k), size=(N, S))
    c = penalty * np.einsum("nsk,nkj->nsj", v, (X0 - X1[:, :, None]) ** 2)
    idx, lam, n = weighted_simplex_lsq(X0, X1, v, c if penalty else None)
    W = dense_weights(idx, lam, J)
    assert np.all(W >= 0) and np.allclose(W.sum(-1), 1.0, atol=1e-12)
    assert np.all(n == (W > 0).sum(-1))
    for a in range(N):
        for b in range(S):
            sv = np.sqrt(v[a, b])
            A, y = sv[:, None] * X0[a], sv * X1[a]
            cc = c[a, b] if penalty else None
            ref = simplex_lsq(A, y, c=cc)
            assert np.abs(W[a, b] - ref).max() < 1e-9
            assert kkt_residual(A, y, W[a, b], cc) < 1e-9


def test_warm_start_equals_cold_start() -> None:
    rng = np.random.default_rng(2)
    N, S, k, J = 6, 3, 5, 30
    X0 = rng.normal(size=(N, k, J))
    X1 = rng.normal(size=(N, k)) * 2
    th = rng.normal(size=(N, S, k))
    first = weighted_simplex_lsq(X0, X1, _softmax(th))
    for shift in (1e-3, 3.0):  # near (certified, kept) and far (mostly re-solved)
        v2 = _softmax(th + shift * rng.normal(size=th.shape))
        cold = dense_weights(*weighted_simplex_lsq(X0, X1, v2)[:2], J)
        warm = dense_weights(*weighted_simplex_lsq(X0, X1, v2, init=first)[:2], J)
        assert np.abs(warm - cold).max() < 1e-10


def test_padding_with_a_repeated_donor_changes_nothing() -> None:
    prob = _problems(3, 4, 5, 12)
    pad = NestedBatch(
        prob.X1,
        np.concatenate([prob.X0, prob.X0[:, :, :1]], axis=2),
        prob.Z1,
        np.concatenate([prob.Z0, prob.Z0[:, :, :1]], axis=2),
        real=np.arange(13)[None, :] < np.full((4, 1), 12),
    )
    th = np.random.default_rng(0).normal(size=(4, 6, 5))
    f, g, _ = prob.value_grad(th)
    fp, gp, (idx, lam, _) = pad.value_grad(th)
    assert np.allclose(f, fp, rtol=1e-12) and np.allclose(g, gp, rtol=1e-9, atol=1e-12)
    assert not np.any((idx == 12) & (lam > 0))


@pytest.mark.parametrize("penalty", [0.0, 0.3])
def test_gradient_matches_finite_differences(penalty: float) -> None:
    base = _problems(4, 3, 5, 15)
    prob = NestedBatch(base.X1, base.X0, base.Z1, base.Z0, penalty)
    rng = np.random.default_rng(5)
    th = rng.normal(size=(3, 4, 5))
    _, g, (idx, _, _) = prob.value_grad(th)
    h = 1e-6
    checked = 0
    for i in range(5):
        e = np.zeros(5)
        e[i] = h
        fp, _, (ip, _, _) = prob.value_grad(th + e)
        fm, _, (im, _, _) = prob.value_grad(th - e)
        same = np.all((ip == idx) & (im == idx), axis=-1)  # same active set
        fd = (fp - fm) / (2 * h)
        assert np.allclose(fd[same], g[..., i][same], rtol=1e-4, atol=1e-6)
        checked += int(same.sum())
    assert checked >= 40


def test_batched_fits_equal_one_at_a_time() -> None:
    rng = np.random.default_rng(6)
    N, J, T, T0 = 4, 9, 14, 10
    Y = rng.normal(size=(N, J + 1, 2)) @ rng.normal(size=(2, T)).cumsum(1)
    Y = Y + 0.2 * rng.normal(size=Y.shape)
    X = np.concatenate([Y[:, :, [2, 6, 9]], rng.normal(size=(N, J + 1, 1))], 2)
    sizes = np.array([J, J - 1, J, J - 2])  # ragged donor pools, padded
    real = np.arange(J)[None, :] < sizes[:, None]
    donors = np.where(real, np.arange(1, J + 1)[None, :], 1)
    rows = np.arange(N)[:, None]
    batch = fit_sc_batch(
        Y[:, 0],
        Y[rows, donors],
        T0,
        X[:, 0],
        np.swapaxes(X[rows, donors], 1, 2),
        real=real,
    )
    for i in range(N):
        d = donors[i, : sizes[i]]
        one = fit_sc(Y[i, 0], Y[i, d], T0, X1=X[i, 0], X0=X[i, d].T)
        assert len(batch[i].weights) == sizes[i]
        assert np.abs(batch[i].weights - one.weights).max() < 1e-10
        assert np.abs(batch[i].v - one.v).max() < 1e-10
        assert batch[i].loss_v == pytest.approx(one.loss_v, rel=1e-10)


def test_nested_v_beats_every_start_and_respects_the_lower_bound() -> None:
    prob = _problems(7, 5, 6, 20)
    v, w, f = nested_v_batch(prob)
    assert np.allclose(v.sum(1), 1.0) and np.all(v > 0)
    r = prob.Z1 - np.einsum("ntj,nj->nt", prob.Z0, w)
    assert np.allclose(f, np.mean(r**2, axis=1), rtol=1e-10)
    lb = _lower_bound(prob)
    assert np.all(f >= lb * (1 - 1e-9))
    rng = np.random.default_rng(0)
    rand = np.log(rng.dirichlet(np.ones(6), size=(5, 200)))
    f_rand, _ = prob.value(rand)
    assert np.all(f <= f_rand.min(axis=1) * (1 + 1e-9))


def test_lower_bound_certificate_stops_at_the_outcome_fit() -> None:
    """Predictors equal to every pre-period outcome: equal V attains the bound."""
    base = _problems(8, 3, 4, 12)
    prob = NestedBatch(base.Z1, base.Z0, base.Z1, base.Z0)
    v, _, f = nested_v_batch(prob)
    assert np.allclose(f, _lower_bound(prob), rtol=1e-9)
    assert np.allclose(v, 1 / prob.Z0.shape[1])  # the equal start, never moved
