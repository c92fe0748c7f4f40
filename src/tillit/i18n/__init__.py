"""Interface language: gettext catalogues and locale-aware number and date formats.

One mechanism for every user-visible string (#19). Message ids are the English text;
the Swedish translations live in gettext catalogues, one ``.po`` file per area under
``locale/sv/`` (``pilots.po``, ``surveys.po``, ...), merged when first used, so that
work on different areas never edits the same catalogue.

In Python (services, web)::

    from tillit.i18n import tr, N_
    tr(lang, "Registered before start")             # -> "Registrerad före start" for sv
    tr(lang, "{n} treated units", n=3)               # str.format placeholders
    LABEL = N_("Cost per recipient")                 # marked for extraction; tr() later

In templates (Jinja2's i18n extension, installed by :func:`install_jinja`)::

    {{ _("Sign in") }}   {% trans %}Sign in{% endtrans %}   {{ _("{n} units", n=k) }}

``tests/unit/test_i18n.py`` extracts every message id from the code and templates
(Babel's extractors) and fails when the Swedish catalogues lack one, or translate one
twice differently.  Formats: :mod:`tillit.i18n.formats` (decimal comma, narrow no-break
space as thousands separator and "kr" in Swedish; English conventions in English).

This package imports no other part of Tillit; ``core`` does not import it (the engine
returns codes and numbers, the layers above word them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tillit.i18n.catalog import LANGS, N_, catalog, tr
from tillit.i18n.formats import (
    format_date,
    format_int,
    format_kr,
    format_number,
    format_percent,
)

__all__ = [
    "LANGS",
    "N_",
    "catalog",
    "format_date",
    "format_int",
    "format_kr",
    "format_number",
    "format_percent",
    "install_jinja",
    "tr",
]

if TYPE_CHECKING:
    from jinja2 import Environment


def install_jinja(env: Environment) -> None:
    """Add Jinja2's i18n extension to ``env``; ``_``/``gettext`` read ``lang`` from the page.

    The callables are context-aware, so one environment serves every request in its own
    language: a template rendered with ``lang="en"`` in its context gets English.
    """
    from jinja2 import pass_context
    from jinja2.runtime import Context

    @pass_context
    def _gettext(ctx: Context, message: str, **variables: object) -> str:
        return tr(str(ctx.get("lang", "sv")), message, **variables)

    @pass_context
    def _ngettext(
        ctx: Context, singular: str, plural: str, n: int, **variables: object
    ) -> str:
        text = singular if n == 1 else plural
        return tr(str(ctx.get("lang", "sv")), text, n=n, **variables)

    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=False
    )
    env.globals["_"] = _gettext
