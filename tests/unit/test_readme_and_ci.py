"""The README's first code block owes a newcomer exactly two commands, and CI runs the second."""

from __future__ import annotations

import re
import subprocess
import sys

from click.testing import CliRunner

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]


def _first_code_block() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    m = re.search(r"```[a-z]*\n(.*?)```", text, re.S)
    assert m, "README.md has no code block"
    return [
        ln for ln in m.group(1).splitlines() if ln.strip() and not ln.startswith("#")
    ]


def test_readme_has_run_and_test_commands() -> None:
    cmds = _first_code_block()
    assert cmds == ["./dev run", "./dev test"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    body = [
        ln for ln in ci.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
    ]
    assert any(ln.strip().endswith("./dev test") for ln in body)


def test_cli_help_and_version() -> None:
    from tillit.cli.main import main

    res = CliRunner().invoke(main, ["--help"])
    assert res.exit_code == 0 and "estimate" in res.output
    out = subprocess.run(
        [sys.executable, "-m", "tillit.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0 and "tillit" in out.stdout
