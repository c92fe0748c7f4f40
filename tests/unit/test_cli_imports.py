"""Every ``tillit estimate`` command imports only what it needs (#17 goal 1).

Each check runs the command in a fresh interpreter and reads ``sys.modules`` at the end:
``--help`` loads no engine at all (no numpy, pandas, scipy), and neither ``--help`` nor
a real run loads the store (sqlalchemy, alembic), the web stack (fastapi, starlette,
jinja2, uvicorn) or optional solvers (cvxpy, numba, the honest-DiD linear programmes)
unless the command asks for them.  The command list is the CLI's own table, so a new
estimate command is held to the same rule the day it is registered.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tillit.cli import main as cli

STORE = {"sqlalchemy", "alembic", "psycopg"}
WEB = {"fastapi", "starlette", "jinja2", "uvicorn", "httpx"}
JACKKNIFE = ["--variance", "jackknife", "--treated-unit", "u05"]
SOLVERS = {"cvxpy", "numba", "tillit.core.did.honest", "tillit.core.did._honest_lp"}
ENGINE = {"numpy", "pandas", "scipy", "matplotlib", "rich"}
OUR_LAYERS = ("tillit.store", "tillit.services", "tillit.web", "tillit.sources")


def _modules_after(args: list[str]) -> tuple[set[str], str]:
    code = (
        "import sys\n"
        "from tillit.cli.main import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(out.stderr.split()), out.stdout


def _offenders(mods: set[str], banned: set[str]) -> list[str]:
    hit = {m for m in mods if m in banned or m.split(".")[0] in banned}
    hit |= {m for m in mods if m.startswith(OUR_LAYERS)}
    return sorted(hit)


@pytest.mark.parametrize("name", sorted(cli._ESTIMATE))
def test_estimate_help_imports_no_engine(name: str) -> None:
    mods, out = _modules_after(["estimate", name, "--help"])
    assert "--data" in out or "Usage" in out
    assert _offenders(mods, STORE | WEB | SOLVERS | ENGINE) == []


def test_design_help_imports_no_engine() -> None:
    mods, _ = _modules_after(["design", "randomise", "--help"])
    assert _offenders(mods, STORE | WEB | SOLVERS | ENGINE) == []


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    rows = []
    for u in range(24):
        cohort = (0, 5, 7)[u % 3]
        for t in range(1, 10):
            y = rng.normal() + u / 10 + (1.0 if cohort and t >= cohort else 0.0)
            rows.append((f"u{u:02d}", t, cohort, y))
    path = tmp_path_factory.mktemp("imports") / "panel.csv"
    pd.DataFrame(rows, columns=["unit", "period", "cohort", "y"]).to_csv(
        path, index=False
    )
    return path


@pytest.mark.parametrize(
    ("args", "banned"),
    [
        (["did"], STORE | WEB | SOLVERS),
        (["event-study"], STORE | WEB | SOLVERS),
        (["sdid", "--treatment-start", "7", "--treated-unit", "u02"], STORE | WEB),
        (
            ["sdid", "--treatment-start", "7", "--treated-unit", "u02", *JACKKNIFE],
            STORE | WEB | SOLVERS,
        ),
        (["synth", "--treatment-start", "7", "--treated-unit", "u02"], STORE | WEB),
    ],
    ids=["did", "event-study", "sdid", "sdid-jackknife", "synth"],
)
def test_estimate_runs_import_no_store_web_or_unasked_solver(
    panel: Path, args: list[str], banned: set[str]
) -> None:
    cmd = ["estimate", args[0], "--data", str(panel), "--outcome", "y"]
    cmd += [*args[1:], "--format", "json"]
    mods, out = _modules_after(cmd)
    assert json.loads(out)  # it ran
    assert _offenders(mods, banned) == []


def test_honest_did_loads_its_linear_programmes_when_asked(panel: Path) -> None:
    """The rule above is not vacuous: asking for honest DiD does load them."""
    cmd = ["estimate", "did", "--data", str(panel), "--outcome", "y"]
    cmd += ["--base-period", "universal", "--honest", "smoothness", "--format", "json"]
    mods, _ = _modules_after(cmd)
    assert "tillit.core.did.honest" in mods
