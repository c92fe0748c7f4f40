"""The simplex solvers against scipy SLSQP and against their own sequential runs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from tillit.core.synth._fw import fw_weights
from tillit.core.synth._solvers import kkt_residual, simplex_lsq

from .test_fw import _r_fw


def _slsqp(A: np.ndarray, b: np.ndarray, c: np.ndarray | None = None) -> np.ndarray:
    J = A.shape[1]
    lin = np.zeros(J) if c is None else c

    def f(x: np.ndarray) -> float:
        r = A @ x - b
        return float(r @ r + lin @ x)

    res = minimize(
        f,
        np.full(J, 1 / J),
        jac=lambda x: 2 * A.T @ (A @ x - b) + lin,
        method="SLSQP",
        bounds=[(0, 1)] * J,
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}],
        options={"ftol": 1e-15, "maxiter": 2000},
    )
    return res.x


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("shape", [(3, 10), (7, 38), (25, 12)])
def test_simplex_lsq_matches_slsqp_and_meets_kkt(
    seed: int, shape: tuple[int, int]
) -> None:
    rng = np.random.default_rng(seed)
    A = rng.normal(size=shape)
    b = rng.normal(size=shape[0]) * 2
    w = simplex_lsq(A, b)
    ref = _slsqp(A, b)
    obj = lambda x: float(np.sum((A @ x - b) ** 2))  # noqa: E731
    assert w.min() >= 0 and abs(w.sum() - 1) < 1e-12
    assert obj(w) <= obj(ref) + 1e-9
    assert kkt_residual(A, b, w) < 1e-9


def test_simplex_lsq_penalty_and_warm_start() -> None:
    rng = np.random.default_rng(3)
    A = rng.normal(size=(5, 30))
    b = rng.normal(size=5)
    c = 0.3 * np.sum((A - b[:, None]) ** 2, axis=0)
    w = simplex_lsq(A, b, c=c)
    ref = _slsqp(A, b, c)
    obj = lambda x: float(np.sum((A @ x - b) ** 2) + c @ x)  # noqa: E731
    assert obj(w) <= obj(ref) + 1e-9
    assert kkt_residual(A, b, w, c) < 1e-9
    warm = simplex_lsq(A, b * 1.01, w0=w)
    cold = simplex_lsq(A, b * 1.01)
    assert np.allclose(warm, cold, atol=1e-8)


def test_kkt_residual_detects_a_non_optimum() -> None:
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 9))
    b = rng.normal(size=4)
    assert kkt_residual(A, b, np.full(9, 1 / 9)) > 1e-3


def test_fw_batch_matches_literal_r_loop() -> None:
    rng = np.random.default_rng(7)
    Ys = rng.normal(size=(5, 12, 9)).cumsum(axis=1)
    batch = fw_weights(
        Ys, 0.5, intercept=True, init=None, min_decrease=1e-4, max_iter=3000
    )
    for k in range(5):
        ref, _ = _r_fw(Ys[k], 0.5, True, None, 1e-4, 3000)
        assert np.allclose(batch[k], ref, atol=1e-10)
        single = fw_weights(
            Ys[k], 0.5, intercept=True, init=None, min_decrease=1e-4, max_iter=3000
        )
        assert np.allclose(single, batch[k], atol=1e-12)
