"""Attack tests share the web tests' workspace (290 municipalities, four users)."""

from __future__ import annotations

from ..web.conftest import (
    PASSWORDS,
    app_engine,
    client,
    csrf_of,
    sign_in,
    workspace_template,
)

__all__ = [
    "PASSWORDS",
    "app_engine",
    "client",
    "csrf_of",
    "sign_in",
    "workspace_template",
]
