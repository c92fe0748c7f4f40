"""Honest DiD (Rambachan & Roth 2023) against independent, slow computations."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import optimize, stats

from tillit.cli.main import main
from tillit.core.did import _honest_delta as hd
from tillit.core.did import att_gt, honest_did, honest_sensitivity
from tillit.core.did._honest_arp import Hybrid, Nuisance, gamma_matrix
from tillit.core.did._honest_flci import folded_cv, optimal_flci
from tillit.core.did._honest_lp import EtaLp
from tillit.core.did._honest_sets import rm_set, sd_set
from tillit.core.did.honest import default_grid
from tillit.core.errors import EstimationError

K, T = 4, 3


def _ar1(n: int, rho: float = 0.5, s: float = 0.02) -> np.ndarray:
    i = np.arange(n)
    return s**2 * rho ** np.abs(i[:, None] - i[None, :])


SIGMA = _ar1(K + T)
BETA = np.array([0.004, -0.006, 0.002, -0.003, 0.05, 0.06, 0.04])


# --- building blocks -------------------------------------------------------------


def test_folded_cv_is_the_folded_normal_quantile_and_its_slope() -> None:
    for r in (0.0, 0.3, 1.7, 5.0, 12.0):
        c, dc = folded_cv(r, 0.05)
        assert stats.foldnorm.cdf(c, r) == pytest.approx(0.95, abs=1e-10)
        h = 1e-6
        slope = (folded_cv(r + h, 0.05)[0] - folded_cv(max(r - h, 0), 0.05)[0]) / (
            r + h - max(r - h, 0)
        )
        assert dc == pytest.approx(slope, abs=1e-5)


def test_gamma_matrix_has_l_first_and_is_invertible() -> None:
    for lv in (np.eye(3)[0], np.full(3, 1 / 3), np.array([0.0, 1.0, 0.0])):
        g = gamma_matrix(lv)
        np.testing.assert_allclose(g[0], lv)
        assert abs(np.linalg.det(g)) > 1e-12
    np.testing.assert_allclose(gamma_matrix(np.eye(3)[0]), np.eye(3))


def test_worst_case_bias_formula_equals_lp_over_delta() -> None:
    """``M ||G v||_1`` against the LP ``max v'delta`` over Delta^SD(M) (slope pinned)."""
    rng = np.random.default_rng(1)
    a = hd.a_sd(K, T)
    g = hd.second_diff_inverse(K, T)
    tt = hd.trend(K, T)
    for _ in range(5):
        v = rng.normal(size=K + T)
        v -= tt * (v @ tt) / (tt @ tt)  # trend-free
        pin = np.eye(K + T)[K]  # delta_1 = 0 fixes the free linear trend
        res = optimize.linprog(
            -v, A_ub=a, b_ub=np.full(len(a), 0.3), A_eq=pin[None], b_eq=[0.0],
            bounds=[(None, None)] * (K + T), method="highs",
        )  # fmt: skip
        assert -res.fun == pytest.approx(0.3 * np.abs(g @ v).sum(), rel=1e-9)


def test_eta_lp_cache_gives_the_highs_optimum() -> None:
    rng = np.random.default_rng(2)
    x, sd = rng.normal(size=(8, 2)), rng.uniform(0.5, 2, 8)
    lp, fresh = EtaLp(x, sd), EtaLp(x, sd)
    ys = rng.normal(size=(8, 300))
    many = lp.solve_many(ys)
    assert lp.n_highs < 60  # the cache answered most
    for j in range(0, 300, 7):
        assert fresh._highs(ys[:, j])[0] == pytest.approx(many[j], abs=1e-9)
        assert lp.solve(ys[:, j])[0] == pytest.approx(many[j], abs=1e-9)


# --- the optimal FLCI ----------------------------------------------------------


def _brute_flci(sigma: np.ndarray, k: int, lv: np.ndarray, m: float) -> float:
    """HonestDiD's own route, written independently: for each sd bound ``h`` minimise
    HonestDiD's worst-case-bias objective (``constant + sum |cumsum(w)|``) by SOCP
    (cvxpy), then minimise ``h * cv(bias / h)`` over ``h`` with scipy.stats.foldnorm."""
    cp = pytest.importorskip("cvxpy")
    t = lv.size
    low_tri = np.tril(np.ones((k, k)))
    dmat = np.eye(k) - np.eye(k, k=-1)  # w -> weights on beta_pre
    const = sum(abs(np.arange(1, s + 1) @ lv[t - s :]) for s in range(1, t + 1))
    const -= np.arange(1, t + 1) @ lv

    def bias(h: float) -> float:
        u, w = cp.Variable(k), cp.Variable(k)
        v = cp.hstack([dmat @ w, lv])
        cons = [u >= low_tri @ w, u >= -low_tri @ w, cp.sum(w) == np.arange(1, t + 1) @ lv,
                cp.quad_form(v, cp.psd_wrap(sigma)) <= h**2]  # fmt: skip
        prob = cp.Problem(cp.Minimize(const + cp.sum(u)), cons)
        with warnings.catch_warnings():  # near h_min the SOCP is barely feasible
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            prob.solve(solver=cp.CLARABEL)
        return float(m * prob.value)

    def half(h: float) -> float:
        b = bias(h)
        return h * float(stats.foldnorm.ppf(0.95, b / h))

    h_min = optimal_flci(sigma, k, lv, 0.0, 0.05).sd * (1 + 1e-9)
    res = optimize.minimize_scalar(half, bounds=(h_min, 3 * h_min), method="bounded",
                                   options={"xatol": 1e-9 * h_min})  # fmt: skip
    return float(res.fun)


@pytest.mark.slow
@pytest.mark.parametrize("m", [0.005, 0.02, 0.1])
@pytest.mark.parametrize("lv", [np.eye(T)[0], np.full(T, 1 / T)])
def test_flci_is_the_brute_force_optimum(m: float, lv: np.ndarray) -> None:
    f = optimal_flci(SIGMA, K, lv, m, 0.05)
    assert f.half_length == pytest.approx(_brute_flci(SIGMA, K, lv, m), rel=1e-6)


def test_flci_is_locally_optimal_and_reports_its_own_half_length() -> None:
    """The reported half-length is that of ``v`` (bias by LP over delta, quantile from
    scipy.stats), and no nearby trend-free ``v`` is shorter."""
    lv, m = np.eye(T)[0], 0.01
    f = optimal_flci(SIGMA, K, lv, m, 0.05)
    a, tt = hd.a_sd(K, T), hd.trend(K, T)
    pin = np.eye(K + T)[K][None]

    def half(v: np.ndarray) -> float:
        r = optimize.linprog(-v, A_ub=a, b_ub=np.full(len(a), m), A_eq=pin, b_eq=[0.0],
                             bounds=[(None, None)] * (K + T), method="highs")  # fmt: skip
        sd = float(np.sqrt(v @ SIGMA @ v))
        return sd * float(stats.foldnorm.ppf(0.95, -r.fun / sd))

    assert half(f.v) == pytest.approx(f.half_length, rel=1e-9)
    ns = np.linalg.svd(tt[:K][None])[2][1:].T
    rng = np.random.default_rng(3)
    for _ in range(30):
        step = np.r_[ns @ rng.normal(size=K - 1), np.zeros(T)] * 1e-3
        assert half(f.v + step) >= f.half_length * (1 - 1e-9)


def test_flci_at_m0_is_the_min_variance_trend_free_estimator() -> None:
    lv = np.eye(T)[0]
    f = optimal_flci(SIGMA, K, lv, 0.0, 0.05)
    tt = hd.trend(K, T)
    # minimise v' S v over v_pre with v't = 0: KKT by hand
    s11, s12 = SIGMA[:K, :K], SIGMA[:K, K:]
    kkt = np.block([[2 * s11, tt[:K, None]], [tt[None, :K], np.zeros((1, 1))]])
    sol = np.linalg.solve(kkt, np.r_[-2 * s12 @ lv, -tt[K:] @ lv])
    np.testing.assert_allclose(f.v[:K], sol[:K], atol=1e-10)
    assert f.half_length == pytest.approx(1.959963985 * f.sd, rel=1e-9)
    assert f.v @ tt == pytest.approx(0.0, abs=1e-12)


def test_flci_widens_with_m_and_covers_the_identified_set() -> None:
    lv = np.eye(T)[0]
    prev = 0.0
    for m in (0.0, 0.01, 0.02, 0.05):
        f = optimal_flci(SIGMA, K, lv, m, 0.05)
        assert f.half_length > prev
        prev = f.half_length
        a = hd.a_sd(K, T)
        lo, hi = hd.identified_set(BETA, a, np.full(len(a), m), K, lv)
        clo, chi = f.interval(BETA)
        if np.isfinite(lo):
            assert clo <= lo + 1e-12 and hi <= chi + 1e-12


# --- conditional / hybrid sets -------------------------------------------------


def _id_rm(beta: np.ndarray, lv: np.ndarray, mbar: float) -> tuple[float, float]:
    """Identified set of Delta^RM by brute force: the union of the pieces' LPs."""
    bounds = []
    for s, pos in hd.rm_pieces(K):
        a = hd.a_rm(K, T, mbar, s, pos)
        lo, hi = hd.identified_set(beta, a, np.zeros(len(a)), K, lv)
        if np.isfinite(lo):
            bounds.append((lo, hi))
    return min(b[0] for b in bounds), max(b[1] for b in bounds)


@pytest.mark.parametrize("kind", ["rm", "sd"])
def test_sets_contain_and_shrink_to_the_identified_set(kind: str) -> None:
    """As sigma -> 0 the confidence set shrinks onto the identified set (computed by LP)."""
    lv = np.eye(T)[0]
    beta = np.array([0.03, 0.02, 0.01, 0.005, 0.05, 0.06, 0.07])
    if kind == "rm":
        lo, hi = _id_rm(beta, lv, 1.0)
    else:
        a = hd.a_sd(K, T)
        lo, hi = hd.identified_set(beta, a, np.full(len(a), 0.01), K, lv)
    widths = []
    for scale in (1.0, 0.1, 0.01):
        sig = SIGMA * scale**2
        if kind == "rm":
            cs = rm_set(beta, sig, K, lv, 1.0, 0.05, lf_draws=2000)
        else:
            cs = sd_set(beta, sig, K, lv, 0.01, 0.05)
        assert cs.lb <= lo + 1e-9 and cs.ub >= hi - 1e-9
        widths.append((lo - cs.lb) + (cs.ub - hi))
    assert widths[2] < 0.05 * widths[0]
    assert widths[2] < 0.02 * (hi - lo) + 1e-3


def _coverage(make: Callable[[], list[Nuisance]], theta: float, n: int) -> float:
    tests = make()
    rng = np.random.default_rng(11)
    draws = rng.multivariate_normal(BETA_TRUE, SIGMA, size=n)
    hits = 0
    for b in draws:
        for t_ in tests:
            t_.set_beta(b)
        hits += any(not t_.rejects(theta) for t_ in tests)
    return hits / n


TAU = np.array([0.05, 0.06, 0.04])
DELTA_TRUE = np.array([-0.03, -0.02, -0.01, 0.0, 0.012, 0.024, 0.036])  # a linear trend
BETA_TRUE = DELTA_TRUE + np.r_[np.zeros(K), TAU]


@pytest.mark.parametrize("kind", ["C-LF RM", "C-F SD", "C-LF SD"])
def test_monte_carlo_coverage_at_a_point_in_delta(kind: str) -> None:
    """Coverage of theta = tau_1 when delta (a linear trend, on the edge of Delta^RM(1)
    and inside Delta^SD(0.005)) holds: at least 95% minus a 3-sigma binomial margin."""
    lv, n = np.eye(T)[0], 600

    def make() -> list[Nuisance]:
        if kind == "C-LF RM":
            h = Hybrid("LF", 0.005, lf_draws=2000)
            out = []
            for s, pos in hd.rm_pieces(K):
                a = hd.a_rm(K, T, 1.0, s, pos)
                out.append(Nuisance(BETA_TRUE, SIGMA, a, np.zeros(len(a)), K, lv, 0.05,
                                    h, hd.post_rows(a, K)))  # fmt: skip
            return out
        a = hd.a_sd(K, T)
        d = np.full(len(a), 0.005)
        if kind == "C-F SD":
            fl = optimal_flci(SIGMA, K, lv, 0.005, 0.005)
            h = Hybrid("FLCI", 0.005, fl.v, fl.half_length)
        else:
            h = Hybrid("LF", 0.005, lf_draws=2000)
        return [Nuisance(BETA_TRUE, SIGMA, a, d, K, lv, 0.05, h, hd.post_rows(a, K))]

    cov = _coverage(make, float(TAU[0]), n)
    print(f"coverage {kind}: {cov:.3f}")  # noqa: T201 (reported with -s)
    assert cov >= 0.95 - 3 * np.sqrt(0.95 * 0.05 / n)


@pytest.mark.parametrize("kind", ["sd", "rm"])
def test_primal_and_dual_truncation_agree(kind: str) -> None:
    """At non-degenerate vertices the dual route (LP bisection for vlo/vup) reaches the
    primal formula's decision."""
    lv = np.full(T, 1 / T)  # with e_1 every vertex is degenerate (dual route only)
    if kind == "sd":
        a = hd.a_sd(K, T)
        d = np.full(len(a), 0.01)
    else:
        a = hd.a_rm(K, T, 1.0, 0, True)
        d = np.zeros(len(a))
    nu = Nuisance(BETA, SIGMA, a, d, K, lv, 0.05, Hybrid("ARP"), hd.post_rows(a, K))
    same = []
    for th in np.linspace(-0.1, 0.2, 61):
        y = (nu.y0 - nu.a1 * th)[nu.r]
        eta, _, lam = nu._lp.solve(y)
        bind = lam > 1e-6
        if bind.sum() == nu.xt.shape[1] + 1:
            same.append(
                nu._primal(y, y, eta, bind, None) == nu._dual(y, y, eta, lam, None)
            )
    assert len(same) >= 40 and all(same)


# --- the public API --------------------------------------------------------------


def test_honest_sensitivity_result_api() -> None:
    res = honest_sensitivity(BETA, SIGMA, K, T, m_grid=[0.0, 0.01, 0.05])
    d = res.to_dict()
    assert list(d) == [
        "outcome", "method", "delta", "ci_method", "parameter", "target", "l_vec",
        "alpha", "num_pre_periods", "num_post_periods", "original", "sensitivity",
        "breakdown", "largest_significant", "notes",
    ]  # fmt: skip
    assert list(d["sensitivity"][0]) == ["m", "ci_low", "ci_high", "open"]
    json.dumps(d, allow_nan=False)
    tidy = res.tidy()
    assert list(tidy.columns) == ["m", "ci_low", "ci_high", "method", "delta"]
    assert tidy["method"].iloc[0] == "Original" and len(tidy) == 4
    assert "Breakdown" in res.summary()
    fig = res.plot()
    assert fig.axes and fig.axes[0].get_xlabel() == "M"
    inc = (res.ci_low <= 0) & (res.ci_high >= 0)
    want = res.m[np.argmax(inc)] if inc.any() else None
    assert res.breakdown == want
    z = 1.959963984540054
    assert res.original.ci_low == pytest.approx(BETA[K] - z * np.sqrt(SIGMA[K, K]))


def test_honest_sensitivity_rejects_bad_input() -> None:
    with pytest.raises(EstimationError, match="entries"):
        honest_sensitivity(BETA[:-1], SIGMA, K, T)
    with pytest.raises(EstimationError, match="l_vec"):
        honest_sensitivity(BETA, SIGMA, K, T, l_vec=[1.0, 0.0])
    with pytest.raises(EstimationError, match="ci must be"):
        honest_sensitivity(BETA, SIGMA, K, T, method="relative_magnitudes", ci="FLCI")
    with pytest.raises(EstimationError, match="positive semi-definite"):
        honest_sensitivity(BETA, -SIGMA, K, T)
    with pytest.raises(EstimationError, match="m_grid"):
        honest_sensitivity(BETA, SIGMA, K, T, m_grid=[-1.0])


def test_default_grids_follow_honestdid() -> None:
    np.testing.assert_allclose(
        default_grid(BETA, SIGMA, K, "relative_magnitudes"), np.linspace(0, 2, 10)
    )
    a = hd.a_sd(K, 0)
    se = np.sqrt(np.diag(a @ SIGMA[:K, :K] @ a.T))
    ub = np.max(a @ BETA[:K] + 1.6448536269514722 * se)
    np.testing.assert_allclose(
        default_grid(BETA, SIGMA, K, "smoothness"), np.linspace(0, ub, 10)
    )
    np.testing.assert_allclose(
        honest_sensitivity(BETA, SIGMA, K, T).m, np.linspace(0, ub, 10)
    )
    rm = honest_sensitivity(BETA, SIGMA, K, T, method="relative_magnitudes",
                            m_grid=[0.0, 1.0, 2.0], lf_draws=2000)  # fmt: skip
    assert np.all(np.diff(rm.ci_high - rm.ci_low) > 0)


@pytest.fixture
def universal(sim: Callable[..., pd.DataFrame]) -> object:
    return att_gt(sim(n=150, seed=5), outcomes=["y0", "y1"], unit="id", time="year",
                  cohort="g", base_period="universal")  # fmt: skip


def test_honest_did_uses_the_event_study_and_its_covariance(universal: object) -> None:
    o = universal["y1"]  # type: ignore[index]
    e = o.dynamic.labels["event_time"]
    keep = e != -1
    res = honest_did(universal, "y1", m_grid=[0.0, 0.1], target="average")
    post = e[keep] >= 0
    assert (
        res.num_pre_periods == int((~post).sum()) and res.num_post_periods == post.sum()
    )
    assert res.original.estimate == pytest.approx(o.dynamic.estimate[keep][post].mean())
    v = o.dynamic_vcov[np.ix_(keep, keep)][np.ix_(post, post)]
    assert res.original.se == pytest.approx(np.sqrt(v.mean()), rel=1e-12)
    direct = honest_sensitivity(o.dynamic.estimate[keep], o.dynamic_vcov[np.ix_(keep, keep)],
                                int((~post).sum()), int(post.sum()), m_grid=[0.0, 0.1],
                                l_vec=np.full(post.sum(), 1 / post.sum()))  # fmt: skip
    np.testing.assert_allclose(res.ci_low, direct.ci_low)
    assert res.outcome == "y1" and "average" in res.target
    first = honest_did(universal, "y1", m_grid=[0.0], target=1)
    assert first.l_vec[1] == 1.0


def test_honest_did_needs_universal_base_period(
    sim: Callable[..., pd.DataFrame],
) -> None:
    r = att_gt(sim(n=90, seed=6), outcomes=["y0"], unit="id", time="year", cohort="g")
    with pytest.raises(EstimationError, match="universal"):
        honest_did(r)
    r2 = att_gt(sim(n=90, seed=6), outcomes=["y0"], unit="id", time="year", cohort="g",
                base_period="universal", honest=False)  # fmt: skip
    with pytest.raises(EstimationError, match="covariance"):
        honest_did(r2)


def test_cli_honest_flag(tmp_path: object, sim: Callable[..., pd.DataFrame]) -> None:
    p = tmp_path / "panel.csv"  # type: ignore[operator]
    sim(n=120, k=2, seed=7).to_csv(p, index=False)
    base = ["estimate", "did", "--data", str(p), "--outcome", "y0", "--outcome", "y1",
            "--unit", "id", "--time", "year", "--cohort", "g"]  # fmt: skip
    r = CliRunner().invoke(main, [*base, "--honest", "smoothness"])
    assert r.exit_code == 2 and "--base-period universal" in r.stderr
    r = CliRunner().invoke(main, [*base, "--base-period", "universal", "--honest",
                                  "smoothness", "--honest-m", "0",
                                  "--honest-m", "0.05", "--format", "json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    for name in ("y0", "y1"):
        h = d["outcomes"][name]["honest"]
        assert h["delta"] == "DeltaSD" and h["ci_method"] == "FLCI"
        assert [row["m"] for row in h["sensitivity"]] == [0.0, 0.05]
    one = base[:6] + base[8:]  # without "--outcome y1"
    r = CliRunner().invoke(main, [*one, "--base-period", "universal", "--honest",
                                  "relative-magnitudes", "--honest-m", "1",
                                  "--honest-target", "average"])  # fmt: skip
    assert r.exit_code == 0 and "DeltaRM, C-LF" in r.stdout
    r = CliRunner().invoke(main, [*base, "--base-period", "universal", "--honest",
                                  "smoothness", "--honest-target", "x"])  # fmt: skip
    assert r.exit_code == 2 and "--honest-target" in r.stderr
    r = CliRunner().invoke(main, [*base, "--base-period", "universal", "--honest",
                                  "smoothness", "--honest-target", "99",
                                  "--format", "json"])  # fmt: skip
    assert r.exit_code == 0
    assert (
        "not a post-period" in json.loads(r.stdout)["outcomes"]["y1"]["honest"]["error"]
    )


def test_docs_name_every_honest_json_key() -> None:
    """docs/did.md documents the honest JSON: every key is named there."""
    from pathlib import Path

    docs = (Path(__file__).parents[3] / "docs" / "did.md").read_text()
    d = honest_sensitivity(BETA, SIGMA, K, T, m_grid=[0.0]).to_dict()
    keys = set(d) | set(d["sensitivity"][0]) | set(d["original"])
    missing = sorted(k for k in keys if f'"{k}"' not in docs)
    assert not missing, f"undocumented JSON keys: {missing}"


@pytest.mark.parametrize("kind", ["ARP", "LF"])
def test_one_post_period_coverage(kind: str) -> None:
    """With one post-period (no nuisance parameters: HonestDiD's
    ``.testInIdentifiedSet``), coverage of tau where delta is a linear pre-trend bent by
    the full M at the treatment date (the edge of Delta^SD(M))."""
    from tillit.core.did._honest_arp import NoNuisance

    k, m, tau = 5, 0.01, 0.04
    sig = _ar1(k + 1, 0.4, 0.008)
    delta = 0.003 * hd.trend(k, 1)
    delta[k] += m
    a = hd.a_sd(k, 1)
    d = np.full(len(a), m)
    assert (a @ delta <= d + 1e-12).all()
    truth = delta + np.r_[np.zeros(k), tau]
    h = Hybrid(kind, 0.005 if kind == "LF" else 0.0)
    test = NoNuisance(truth, sig, a, d, k, 0.05, h)
    n, hits = 800, 0
    for b in np.random.default_rng(5).multivariate_normal(truth, sig, size=n):
        test.beta = b
        hits += not test.rejects(tau)
    assert hits / n >= 0.95 - 3 * np.sqrt(0.95 * 0.05 / n)


def test_progress_is_reported_after_each_m() -> None:
    calls: list[tuple[int, int]] = []
    res = honest_sensitivity(
        BETA,
        SIGMA,
        K,
        T,
        m_grid=[0.0, 0.01, 0.05],
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]
    quiet = honest_sensitivity(BETA, SIGMA, K, T, m_grid=[0.0, 0.01, 0.05])
    assert res.to_dict() == quiet.to_dict()
