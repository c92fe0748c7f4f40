"""The CLI's progress bar (rich, on stderr, shown on a terminal only).

A module of its own so that commands which show no bar, or show it only for optional
work (``estimate did --honest``), import rich only when they need it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

__all__ = ["progress_bar"]


@contextmanager
def progress_bar(
    label: str, unit: str = "rows"
) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr (a terminal only); yields ``update(done, total)``."""
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),  # shows "?" for the total until it is known
        TextColumn(unit),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
