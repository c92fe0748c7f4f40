"""The evaluation workspace (pilots A, B, C with planted effects) for evidence tests."""

from __future__ import annotations

from ..evaluation.conftest import actors, app, client, codes, engine

__all__ = ["actors", "app", "client", "codes", "engine"]
