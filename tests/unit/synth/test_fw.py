"""The lock-step Frank-Wolfe solver against a slow, literal transcription of R's loop.

``_r_fw`` below is R ``synthdid:::sc.weight.fw`` line by line (``fw.step`` with exact
line search, ``vals`` recomputed from scratch every iteration, the stop once
``vals[t-1] - vals[t] <= min.decrease^2``), one problem at a time, with no incremental
updates.  The batched solver keeps ``H x - q`` and two scalars up to a per-problem
scale, recomputes them every ``RECOMPUTE`` iterations and pads problems of different
sizes; these tests check that none of that changes an iterate by more than 1e-12.
Both paths are held to R's loop: the compiled one (numba, ``_fw_kernel``) that runs
by default, and the numpy lock-step one it falls back to.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tillit.core.errors import EstimationError
from tillit.core.synth import _fw, sdid_matrix
from tillit.core.synth import _sdid_core as core
from tillit.core.synth._fw import fw_solve, sparsify

PROP99 = Path(__file__).parents[2] / "reference" / "synth" / "data"


def _r_fw(Y, zeta, intercept, init, min_decrease, max_iter, snapshots=()):
    """R ``sc.weight.fw``, literally: returns the weights and the iterations taken.

    With ``snapshots``, returns instead the iterates after those iteration counts (the
    final weights for counts past the stop).
    """
    n, m1 = Y.shape
    m = m1 - 1
    if intercept:
        Y = Y - Y.mean(axis=0)
    A, b = Y[:, :m], Y[:, m]
    x = np.full(m, 1 / m) if init is None else np.array(init, dtype=float)
    eta = n * zeta**2
    vals: list[float] = []
    seen: dict[int, np.ndarray] = {}
    t = 0
    while t < max_iter and (t < 2 or vals[t - 2] - vals[t - 1] > min_decrease**2):
        t += 1
        Ax = A @ x
        half_grad = (Ax - b) @ A + eta * x
        i = int(np.argmin(half_grad))
        dx = -x.copy()
        dx[i] = 1 - x[i]
        if np.any(dx != 0):
            d_err = A[:, i] - Ax
            step = -(half_grad @ dx) / (np.sum(d_err**2) + eta * np.sum(dx**2))
            x = x + min(1.0, max(0.0, step)) * dx
        err = Y @ np.append(x, -1.0)
        vals.append(zeta**2 * np.sum(x**2) + np.sum(err**2) / n)
        if t in snapshots:
            seen[t] = x
    if snapshots:
        return [seen.get(k, x) for k in snapshots]
    return x, t


def _r_two_phase(Y, zeta, intercept, init, min_decrease):
    """R ``synthdid_estimate``'s solve: 100 iterations, sparsify, up to 10 000."""
    x, _ = _r_fw(Y, zeta, intercept, init, min_decrease, 100)
    return _r_fw(Y, zeta, intercept, sparsify(x)[0], min_decrease, 10_000)[0]


def _problems(seed: int):
    """Random problems of several shapes, with and without intercept or a start."""
    rng = np.random.default_rng(seed)
    out = []
    for n, m, icpt in [(12, 9, True), (5, 30, True), (20, 4, False), (8, 17, True)]:
        Y = rng.normal(size=(n, m + 1)).cumsum(axis=0) + rng.normal(size=m + 1)
        init = rng.dirichlet(np.ones(m)) if m % 2 else None
        out.append((Y, float(rng.uniform(0.05, 1.0)), icpt, init, 1e-5))
    return out


CHECKPOINTS = (1, 2, 3, 7, 60, 127, 128, 129, 700, 3000)


@pytest.fixture(params=["compiled", "numpy"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on the compiled loop and again on the numpy lock-step path."""
    monkeypatch.setattr(_fw, "JIT", request.param == "compiled")
    monkeypatch.setattr(_fw, "JIT_MIN", 0)  # every batch, however small
    return str(request.param)


@pytest.fixture
def numpy_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests of the numpy path's own machinery (scale, fused update, lone problem)."""
    monkeypatch.setattr(_fw, "JIT", False)


def test_compiled_kernel_is_in_use() -> None:
    """numba is a dependency: the compiled loop must load, not fall back silently."""
    assert _fw.JIT and _fw._jit() is not None


def test_small_batches_stay_on_numpy_until_numba_is_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fit's two problems do not pay for loading numba; replicates do."""
    calls: list[int] = []
    monkeypatch.setattr(_fw, "_jit_kernel", _fw._UNSET)
    monkeypatch.setattr(_fw, "_jit", lambda: calls.append(1) or None)
    probs = _problems(12)[:2]
    Ys, zeta, icpt, init, tol = (list(z) for z in zip(*probs, strict=True))
    fw_solve(Ys, np.array(zeta), np.array(icpt), init, np.array(tol), 50)
    assert calls == []
    fw_solve(
        Ys * 16,
        np.array(zeta * 16),
        np.array(icpt * 16),
        init * 16,
        np.array(tol * 16),
        50,
    )
    assert calls == [1]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.usefixtures("path")
def test_batched_iterates_match_literal_r_loop(seed: int) -> None:
    """Mixed sizes in one padded batch: every checkpoint iterate equals R's, to 1e-12."""
    probs = _problems(seed)
    Ys, zeta, icpt, init, tol = (list(z) for z in zip(*probs, strict=True))
    refs = [_r_fw(*p, max(CHECKPOINTS), snapshots=CHECKPOINTS) for p in probs]
    for c, cap in enumerate(CHECKPOINTS):
        got = fw_solve(Ys, np.array(zeta), np.array(icpt), init, np.array(tol), cap)
        for k, x in enumerate(got):
            np.testing.assert_allclose(x, refs[k][c], rtol=0, atol=1e-12)


@pytest.mark.usefixtures("path")
def test_problems_stop_where_r_stops() -> None:
    """Each problem stops at R's iteration, not one earlier or later."""
    probs = [(*p[:4], 1e-2) for p in _problems(4)]
    for Y, z, ic, x0, mdec in probs:
        ref, t = _r_fw(Y, z, ic, x0, mdec, 10_000)
        assert 2 < t < 3000
        caps = (t - 1, t, t + 5)
        want = _r_fw(Y, z, ic, x0, mdec, t + 5, snapshots=caps)
        for cap, w in zip(caps, want, strict=True):
            x = fw_solve([Y], z, ic, [x0], mdec, cap)[0]
            np.testing.assert_allclose(x, w, rtol=0, atol=1e-12)
        assert np.array_equal(want[2], ref)
        assert np.abs(want[0] - ref).max() > 0


@pytest.mark.usefixtures("numpy_path")
def test_alone_and_in_a_batch_agree() -> None:
    """A lone problem takes the scalar path; in a batch, the vector path."""
    probs = _problems(5)
    Ys, zeta, icpt, init, tol = (list(z) for z in zip(*probs, strict=True))
    batch = fw_solve(Ys, np.array(zeta), np.array(icpt), init, np.array(tol), 3000)
    for k, (Y, z, ic, x0, mdec) in enumerate(probs):
        alone = fw_solve([Y], z, ic, [x0], mdec, 3000)[0]
        np.testing.assert_allclose(alone, batch[k], rtol=0, atol=1e-13)


@pytest.mark.usefixtures("numpy_path")
def test_fused_row_update_equals_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    """scipy's CSR kernel and the numpy take-scale-add give the same iterates."""
    probs = _problems(6)
    Ys, zeta, icpt, init, tol = (list(z) for z in zip(*probs, strict=True))
    a = fw_solve(Ys, np.array(zeta), np.array(icpt), init, np.array(tol), 2000)
    monkeypatch.setattr(_fw, "FUSED", False)
    b = fw_solve(Ys, np.array(zeta), np.array(icpt), init, np.array(tol), 2000)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    ("recompute", "tiny"), [(1, 1e-100), (10**9, 1e-100), (128, 0.3)]
)
@pytest.mark.usefixtures("path")
def test_recompute_and_rescale_do_not_move_iterates(
    monkeypatch: pytest.MonkeyPatch, recompute: int, tiny: float
) -> None:
    """Recomputing every step, never, or rescaling often: still R's iterates."""
    monkeypatch.setattr(_fw, "RECOMPUTE", recompute)
    monkeypatch.setattr(_fw, "_TINY", tiny)
    probs = _problems(7)
    Ys, zeta, icpt, init, tol = (list(z) for z in zip(*probs, strict=True))
    got = fw_solve(Ys, np.array(zeta), np.array(icpt), init, np.array(tol), 1500)
    alone = fw_solve(Ys[:1], zeta[0], icpt[0], init[:1], tol[0], 1500)[0]
    np.testing.assert_allclose(alone, got[0], rtol=0, atol=1e-12)
    for (Y, z, ic, x0, mdec), x in zip(probs, got, strict=True):
        ref, _ = _r_fw(Y, z, ic, x0, mdec, 1500)
        np.testing.assert_allclose(x, ref, rtol=0, atol=1e-12)


@pytest.mark.usefixtures("path")
def test_full_step_to_a_vertex_then_stop() -> None:
    """A step of exactly 1 lands on a vertex; choosing it again is R's zero step."""
    A = np.diag([10.0, 1.0, 1.0])
    Y = np.column_stack([A, 10.0 * A[:, 0] + 5.0 * np.eye(3)[0]])
    for Yp in (Y, np.vstack([Y, Y])):
        ref, t = _r_fw(Yp, 1e-3, False, None, 1e-6, 100)
        assert np.array_equal(ref, [1.0, 0.0, 0.0]) and t == 2
        both = fw_solve([Yp, Yp[:, [1, 0, 2, 3]]], 1e-3, False, [None, None], 1e-6, 100)
        assert np.array_equal(both[0], ref)
        assert np.array_equal(both[1], [0.0, 1.0, 0.0])
        assert np.array_equal(fw_solve([Yp], 1e-3, False, [None], 1e-6, 100)[0], ref)


@pytest.mark.slow
def test_two_phase_batch_matches_r_on_random_blocks() -> None:
    """``block_weights`` (all lambda and omega problems together) vs R, per block."""
    rng = np.random.default_rng(8)
    blocks = []
    for N0, n1, T0, t1 in [(9, 1, 6, 3), (14, 2, 8, 2), (6, 1, 10, 4)]:
        L = rng.normal(size=(N0 + n1, 2)) @ rng.normal(size=(2, T0 + t1))
        Y = L + rng.normal(scale=0.5, size=L.shape)
        opts, _ = core.default_options(Y, N0, T0, "sdid")
        blocks.append(core.Block(Y, N0, T0, opts))
    for b, (om, lam) in zip(blocks, core.block_weights(blocks), strict=True):
        Yc = core.collapsed(b.Y, b.N0, b.T0)
        o = b.opts
        lam_r = _r_two_phase(Yc[: b.N0], o.zeta_lambda, True, None, o.min_decrease)
        om_r = _r_two_phase(Yc[:, : b.T0].T, o.zeta_omega, True, None, o.min_decrease)
        np.testing.assert_allclose(lam, lam_r, rtol=0, atol=1e-12)
        np.testing.assert_allclose(om, om_r, rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def prop99() -> np.ndarray:
    df = pd.read_csv(PROP99 / "california_prop99.csv")
    W = df.pivot(index="state", columns="year", values="cigsale")
    order = [s for s in sorted(W.index) if s != "California"] + ["California"]
    return W.loc[order].to_numpy()


@pytest.mark.slow
@pytest.mark.usefixtures("path")
def test_prop99_fit_and_placebo_replicates_match_r(prop99: np.ndarray) -> None:
    """Prop 99: the fit's and three placebo replicates' weights vs R's loop.

    The replicates are solved both with their own Gram rows and from the controls'
    shared Gram matrix (what :func:`placebo_draws` uses).

    The unit-weight problems run the full 10 000 iterations, so this checks the
    recomputation and the scaling over the longest runs the estimator makes.
    """
    fit = sdid_matrix(prop99, 38, 19)
    Yc = core.collapsed(prop99, 38, 19)
    o = fit.options
    lam_r = _r_two_phase(Yc[:38], o.zeta_lambda, True, None, o.min_decrease)
    om_r = _r_two_phase(Yc[:, :19].T, o.zeta_omega, True, None, o.min_decrease)
    np.testing.assert_allclose(fit.lambda_, lam_r, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fit.omega, om_r, rtol=0, atol=1e-12)
    rng = np.random.default_rng(1)
    perms = [rng.permutation(38) for _ in range(3)]
    inits = [core._sum_normalize(fit.omega[p[:37]]) for p in perms]
    blocks = [
        core.Block(prop99[p], 37, 19, o, om0, fit.lambda_)
        for p, om0 in zip(perms, inits, strict=True)
    ]
    for b, om0, (om, lam) in zip(
        blocks, inits, core.block_weights(blocks), strict=True
    ):
        Yc = core.collapsed(b.Y, 37, 19)
        lam_r = _r_two_phase(Yc[:37], o.zeta_lambda, True, fit.lambda_, o.min_decrease)
        om_r = _r_two_phase(Yc[:, :19].T, o.zeta_omega, True, om0, o.min_decrease)
        np.testing.assert_allclose(lam, lam_r, rtol=0, atol=1e-12)
        np.testing.assert_allclose(om, om_r, rtol=0, atol=1e-12)


@pytest.mark.usefixtures("path")
def test_chunks_respect_the_memory_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches larger than the cap run in chunks with the same results."""
    probs = _problems(9)
    Ys, zeta, icpt, init, tol = (list(z) for z in zip(*probs, strict=True))
    whole = fw_solve(Ys, np.array(zeta), np.array(icpt), init, np.array(tol), 800)
    monkeypatch.setattr(_fw, "_CAP", 400)
    assert len(_fw._chunks(np.array([9, 30, 4, 17]))) > 1
    parts = fw_solve(Ys, np.array(zeta), np.array(icpt), init, np.array(tol), 800)
    for x, y in zip(whole, parts, strict=True):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-13)


def test_overflowing_data_is_an_estimation_error() -> None:
    Y = np.random.default_rng(10).normal(size=(6, 5)) * 1e160
    with pytest.raises(EstimationError, match="too large"):
        fw_solve([Y], 1.0, True, [None], 1e-5, 100)


def _assert_as_if_alone(fit, Y, perms, n0, T0, shared) -> None:
    """``shared`` placebo weights = each replicate's panel solved on its own."""
    own = core.block_weights(
        [
            core.Block(
                Y[p],
                n0,
                T0,
                fit.options,
                core._sum_normalize(fit.omega[p[:n0]]),
                fit.lambda_,
            )
            for p in perms
        ]
    )
    for (om_s, lam_s), (om_o, lam_o) in zip(shared, own, strict=True):
        np.testing.assert_allclose(om_s, om_o, rtol=0, atol=1e-12)
        np.testing.assert_allclose(lam_s, lam_o, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("method", "n1"), [("sdid", 1), ("sdid", 2), ("sc", 1)])
@pytest.mark.usefixtures("path")
def test_placebo_shared_gram_matches_own_gram_per_replicate(
    method: str, n1: int
) -> None:
    """Placebo unit-weight problems from one shared Gram = each with its own Gram."""
    rng = np.random.default_rng(12)
    N0, T0, T = 15, 9, 12
    L = rng.normal(size=(N0 + n1, 2)) @ rng.normal(size=(2, T))
    Y = L + rng.normal(scale=0.4, size=L.shape)
    fit = sdid_matrix(Y, N0, T0, method)
    perms = np.stack([rng.permutation(N0) for _ in range(7)])
    n0 = N0 - n1
    shared = core.placebo_weights(fit, Y, perms, n0)
    _assert_as_if_alone(fit, Y, perms, n0, T0, shared)


def test_private_scipy_kernel_is_self_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled row update is scipy-private: it is used only after it reproduces a
    known product, and a changed one falls back to numpy instead of failing."""
    from scipy.sparse import _sparsetools

    from tillit.core.synth import _fw

    assert _fw._load_kernel() is not None

    def broken(*args: object) -> None:
        raise TypeError("signature changed")

    monkeypatch.setattr(_sparsetools, "csr_matvecs", broken)
    assert _fw._load_kernel() is None


@pytest.mark.parametrize(("seed", "N0"), [(0, 13), (1, 13), (2, 40), (3, 40)])
def test_compiled_and_numpy_paths_agree_on_placebo_batches(
    seed: int, N0: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shared-Gram placebo problems and own-Gram time-weight problems in one padded
    batch (what :func:`placebo_draws` solves): the two paths give the same weights.

    With 40 controls the 100 steps before sparsifying are fewer than four per weight,
    so the compiled loop adds each replicate's own vector as it goes instead of
    building the replicate's rows first; with 13 it builds them."""
    rng = np.random.default_rng(20 + seed)
    n1, T0, T = 1 + seed % 2, 8, 11
    L = rng.normal(size=(N0 + n1, 2)) @ rng.normal(size=(2, T))
    Y = L + rng.normal(scale=0.3, size=L.shape)
    fit = sdid_matrix(Y, N0, T0)
    perms = np.stack([rng.permutation(N0) for _ in range(9)])
    got = {}
    monkeypatch.setattr(_fw, "JIT_MIN", 0)
    for jit in (True, False):
        monkeypatch.setattr(_fw, "JIT", jit)
        got[jit] = core.placebo_weights(fit, Y, perms, N0 - n1)
    for (om_c, lam_c), (om_n, lam_n) in zip(got[True], got[False], strict=True):
        np.testing.assert_allclose(om_c, om_n, rtol=0, atol=1e-12)
        np.testing.assert_allclose(lam_c, lam_n, rtol=0, atol=1e-12)


def test_compiled_path_uses_every_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    """Problems dealt out over several threads give the weights of one thread."""
    from tillit.core.synth import _fw_kernel

    probs = _problems(11) * 3
    Ys, zeta, icpt, init, tol = (list(z) for z in zip(*probs, strict=True))
    monkeypatch.setattr(_fw, "JIT_MIN", 0)
    many = fw_solve(Ys, np.array(zeta), np.array(icpt), init, np.array(tol), 900)
    assert _fw_kernel.lanes() >= 1
    monkeypatch.setattr(_fw_kernel, "lanes", lambda: 1)
    one = fw_solve(Ys, np.array(zeta), np.array(icpt), init, np.array(tol), 900)
    for x, y in zip(many, one, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("n1", [1, 2])
def test_placebo_replicates_treating_the_same_controls_are_solved_once(
    n1: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replicates that treat the same controls (in any order, with the other controls
    in any order) get the weights they would get alone, from one solve."""
    rng = np.random.default_rng(30 + n1)
    N0, T0, T = 12, 7, 10
    L = rng.normal(size=(N0 + n1, 2)) @ rng.normal(size=(2, T))
    Y = L + rng.normal(scale=0.3, size=L.shape)
    fit = sdid_matrix(Y, N0, T0)
    base = [rng.permutation(N0) for _ in range(3)]
    perms = []
    for p in base:  # each pseudo-treated set three times, shuffled differently
        for _ in range(3):
            head, tail = rng.permutation(p[: N0 - n1]), rng.permutation(p[N0 - n1 :])
            perms.append(np.concatenate([head, tail]))
    perms_arr = np.stack(perms)
    sizes: list[int] = []
    solve = core.solve_gram

    def spy(g, *args, **kwargs):
        sizes.append(len(g.m))
        return solve(g, *args, **kwargs)

    monkeypatch.setattr(core, "solve_gram", spy)
    shared = core.placebo_weights(fit, Y, perms_arr, N0 - n1)
    assert sizes == [2 * 3]  # three distinct sets: their time and unit problems
    n0 = N0 - n1
    _assert_as_if_alone(fit, Y, perms_arr, n0, T0, shared)
