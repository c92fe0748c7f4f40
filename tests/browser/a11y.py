"""Accessibility checks shared by the browser tests: axe-core's WCAG 2.1 AA rules and
the no-sideways-scrolling check at a given width.

axe-core comes from the npm registry: ``./dev test`` installs it into ``.venv/axe``
(``npm install --prefix .venv/axe axe-core``); ``TILLIT_AXE_JS`` may point elsewhere.
The page context must be opened with ``bypass_csp=True`` for the script to be injected.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
AXE_CANDIDATES = [
    os.environ.get("TILLIT_AXE_JS", ""),
    str(REPO / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"),
    str(REPO / "node_modules" / "axe-core" / "axe.min.js"),
    "/usr/lib/node_modules/axe-core/axe.min.js",
    "/usr/local/lib/node_modules/axe-core/axe.min.js",
]
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def find_axe() -> Path | None:
    """The path of ``axe.min.js``, or None."""
    for c in AXE_CANDIDATES:
        if c and Path(c).is_file():
            return Path(c)
    return None


def violations(page: Any, axe_js: str) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on ``page`` (id and up to three targets)."""
    page.add_script_tag(content=axe_js)
    res = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_AA,
    )
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in res["violations"]
    ]


def no_sideways_scroll(page: Any) -> None:
    """Fail when the page is wider than its window."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    view = page.evaluate("() => window.innerWidth")
    assert width <= view, f"page is {width}px wide in a {view}px window"
