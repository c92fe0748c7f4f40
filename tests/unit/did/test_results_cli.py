"""Result objects (JSON, tidy, summary, plot) and the CLI."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tillit.cli.main import main
from tillit.core.did import att_gt

KW = {"unit": "id", "time": "year", "cohort": "g"}


def test_to_dict_is_strict_json_with_documented_keys(
    sim: Callable[..., pd.DataFrame],
) -> None:
    res = att_gt(sim(k=2), outcomes=["y0", "y1"], bootstrap=99, seed=1, **KW)
    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert d["method"] == "did" and d["n_units"] == 120 and d["n_periods"] == 8
    assert set(d["outcomes"]) == {"y0", "y1"}
    o = d["outcomes"]["y0"]
    assert d["att_gt"] == o["att_gt"]
    row = o["att_gt"][0]
    for key in (
        "group",
        "time",
        "event_time",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "p_value",
        "cband_low",
        "cband_high",
    ):
        assert key in row
    agg = o["aggregations"]
    assert set(agg) == {
        "simple",
        "group",
        "group_overall",
        "calendar",
        "calendar_overall",
        "dynamic",
        "dynamic_overall",
    }
    assert {"estimate", "se", "ci_low", "ci_high"} <= set(agg["simple"])
    assert "event_time" in agg["dynamic"][0]
    for key in ("pretrend", "balance", "comparison_group", "honest"):
        assert key in o["diagnostics"]
    assert set(o["verdict"]) == {"en", "sv"}
    assert set(d["multiple_testing"]) >= {"holm", "bh", "romano_wolf"}


@pytest.mark.slow
def test_frozen_tidy_summary_plot(sim: Callable[..., pd.DataFrame]) -> None:
    res = att_gt(sim(), outcomes=["y0"], bootstrap=99, seed=1, **KW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.n_units = 3  # type: ignore[misc]
    t = res.tidy()
    assert {"outcome", "term", "estimate", "se", "ci_low", "ci_high"} <= set(t.columns)
    assert (t.term == "att_gt").sum() == len(res["y0"].att_gt)
    assert "Overall ATT" in res.summary()
    import matplotlib

    matplotlib.use("Agg")
    ax = res.plot()
    assert ax.get_xlabel() == "event time"


def test_verdict_never_overstates(sim: Callable[..., pd.DataFrame]) -> None:
    res = att_gt(sim(effect=0.0, seed=9), outcomes=["y0"], **KW)["y0"]
    s = res.simple
    v = res.verdict
    if s.ci_low[0] <= 0 <= s.ci_high[0]:
        assert "consistent with no effect" in v["en"]
        assert "förenliga med ingen effekt" in v["sv"]
    assert "parallel trends" in v["en"] and "parallella trender" in v["sv"]


def test_honest_bounds_widen_with_mbar(sim: Callable[..., pd.DataFrame]) -> None:
    for base in ("varying", "universal"):
        h = att_gt(sim(seed=4), outcomes=["y0"], base_period=base, **KW)["y0"]
        hb = h.diagnostics["honest"]
        widths = [r["ci_high"] - r["ci_low"] for r in hb["relative_magnitudes"]]
        assert np.all(np.diff(widths) > 0)
        sd = [r["ci_high"] - r["ci_low"] for r in hb["smoothness"]]
        assert np.all(np.diff(sd) > 0)
        assert hb["relative_magnitudes"][0]["ci_low"] < hb["estimate"]


@pytest.fixture
def csv(tmp_path: Path, sim: Callable[..., pd.DataFrame]) -> Path:
    p = tmp_path / "panel.csv"
    sim(k=2).to_csv(p, index=False)
    return p


def _run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, ["estimate", *args])
    return r.exit_code, r.stdout, r.stderr


def test_cli_did_json(csv: Path) -> None:
    code, out, _ = _run(
        "did",
        "--data",
        str(csv),
        "--outcome",
        "y0",
        "--outcome",
        "y1",
        "--unit",
        "id",
        "--time",
        "year",
        "--cohort",
        "g",
        "--covariate",
        "x",
        "--method",
        "ipw",
        "--control",
        "notyet",
        "--bootstrap",
        "99",
        "--seed",
        "3",
        "--format",
        "json",
    )
    assert code == 0
    d = json.loads(out)
    assert d["settings"]["method"] == "ipw" and d["settings"]["control"] == "notyet"
    assert set(d["outcomes"]) == {"y0", "y1"}


def test_cli_table_and_event_study(csv: Path) -> None:
    code, out, _ = _run(
        "did",
        "--data",
        str(csv),
        "--outcome",
        "y0",
        "--unit",
        "id",
        "--time",
        "year",
        "--cohort",
        "g",
    )
    assert code == 0 and "ATT(g,t)" in out
    code, out, _ = _run(
        "event-study",
        "--data",
        str(csv),
        "--outcome",
        "y0",
        "--unit",
        "id",
        "--time",
        "year",
        "--cohort",
        "g",
        "--format",
        "json",
    )
    assert code == 0
    d = json.loads(out)
    assert d["method"] == "event-study"
    o = d["outcomes"]["y0"]
    assert {"dynamic", "twfe_event_study", "bacon"} <= set(o)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outcome", "nope"], "missing column"),
        (["--outcome", "y0", "--cohort", "year"], "two cohorts"),
        (["--outcome", "y0", "--bootstrap", "9", "--cluster", "g"], "clusters"),
    ],
)
def test_cli_errors_exit_2_without_traceback(
    csv: Path, args: list[str], message: str
) -> None:
    code, out, err = _run(
        "did",
        "--data",
        str(csv),
        "--unit",
        "id",
        "--time",
        "year",
        *(["--cohort", "g"] if "--cohort" not in args else []),
        *args,
    )
    assert code == 2
    assert err.startswith("Error: ") and message in err
    assert "Traceback" not in out + err


def test_cli_no_never_treated(tmp_path: Path, sim: Callable[..., pd.DataFrame]) -> None:
    p = tmp_path / "p.csv"
    sim(never_share=0.0).to_csv(p, index=False)
    code, _, err = _run(
        "did",
        "--data",
        str(p),
        "--outcome",
        "y0",
        "--unit",
        "id",
        "--time",
        "year",
        "--cohort",
        "g",
        "--control",
        "never",
    )
    assert code == 2 and "never-treated" in err


def test_docs_name_every_json_key(sim: Callable[..., pd.DataFrame]) -> None:
    """docs/did.md documents the JSON: every key the result emits is named there."""
    docs = (Path(__file__).parents[3] / "docs" / "did.md").read_text()
    d = att_gt(sim(), outcomes=["y0"], bootstrap=49, seed=1, **KW).to_dict()
    o = d["outcomes"]["y0"]
    keys = (
        set(d)
        | set(o)
        | set(o["aggregations"])
        | set(o["att_gt"][0])
        | set(o["diagnostics"])
        | set(d["settings"])
        | set(d["multiple_testing"])
    )
    missing = sorted(k for k in keys if f'"{k}"' not in docs)
    assert not missing, f"undocumented JSON keys: {missing}"
