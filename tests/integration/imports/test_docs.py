"""The examples in docs/import.md and docs/kolada.md are real."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tillit.domain.records import Indicator
from tillit.services import imports
from tillit.sources.frame import normalise_observations
from tillit.sources.readers import read_kolada_json

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
DOC = (REPO / "docs" / "import.md").read_text("utf-8")


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)


def test_csv_example_is_the_test_file_and_imports(engine: Engine) -> None:
    example = REPO / "tests" / "data" / "import" / "example.csv"
    assert blocks("csv")[0] == example.read_text("utf-8")
    rep = imports.import_file(
        engine, example, indicators_meta=[Indicator("N00090", "Sjukfrånvaro")]
    )
    assert (rep.n_rows, rep.n_new) == (4, 4)


def test_json_example_parses() -> None:
    df = normalise_observations(read_kolada_json(blocks("json")[0].encode()))
    assert df["value"].tolist() == [12.3]


def test_documented_commands_exist() -> None:
    from click.testing import CliRunner

    from tillit.cli.main import main

    text = DOC + (REPO / "docs" / "kolada.md").read_text("utf-8")
    for cmd in sorted(
        set(re.findall(r"^tillit ([a-z-]+(?: [a-z]+)?)", text, flags=re.M))
    ):
        r = CliRunner().invoke(main, [*cmd.split()[:2], "--help"])
        assert r.exit_code == 0, (cmd, r.output)
