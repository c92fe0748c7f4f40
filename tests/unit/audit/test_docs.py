"""docs/audit.md keeps up with the CLI flags, the template columns and the export columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from tillit.cli.audit import burden, signals
from tillit.core.audit.signals import _TIDY_COLS
from tillit.core.audit.template import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

DOC = (Path(__file__).resolve().parents[3] / "docs" / "audit.md").read_text(
    encoding="utf-8"
)


@pytest.mark.parametrize("command", [burden, signals], ids=["burden", "signals"])
def test_every_flag_is_documented(command) -> None:  # type: ignore[no-untyped-def]
    for param in command.params:
        for opt in param.opts:
            assert opt in DOC, f"{command.name} {opt} missing from docs/audit.md"


def test_template_columns_are_documented() -> None:
    for col in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
        assert f"| `{col}` |" in DOC, col


def test_export_columns_are_documented() -> None:
    for col in _TIDY_COLS:
        assert col in DOC, col
