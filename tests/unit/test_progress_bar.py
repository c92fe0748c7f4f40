"""The CLI progress bar renders on a terminal before and after its total is known (a
format of an unknown total once crashed `tillit estimate did --honest` on a terminal)."""

from __future__ import annotations

import io
import time

import pytest
from rich.console import Console

from tillit.cli import progress


def test_progress_bar_renders_without_and_with_a_total(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sink = io.StringIO()
    monkeypatch.setattr(
        progress,
        "Console",
        lambda stderr=True: Console(file=sink, force_terminal=True, width=100),
    )
    with progress.progress_bar("work", unit="steps") as update:
        time.sleep(0.25)  # let the live display refresh with no total yet
        update(1, 4)
        time.sleep(0.25)
        update(4, 4)
    out = sink.getvalue()
    assert "work" in out and "steps" in out and "4/4" in out
