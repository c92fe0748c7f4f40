"""The evaluation workspace (pilots A, B, C with planted effects) for evidence tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location(
    "tillit_eval_workspace",
    Path(__file__).resolve().parents[1] / "evaluation" / "conftest.py",
)
assert _SPEC is not None and _SPEC.loader is not None
_MOD = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_MOD)

engine = _MOD.engine
codes = _MOD.codes
actors = _MOD.actors
app = _MOD.app
client = _MOD.client
