"""The default demo workspace, generated once per test session (about 2 s)."""

from __future__ import annotations

import pytest

from tillit.domain.demo import DemoWorkspace, generate_demo


@pytest.fixture(scope="session")
def demo_ws() -> DemoWorkspace:
    """``generate_demo()`` with the default seed 2016."""
    return generate_demo()
