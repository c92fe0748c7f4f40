"""The merged Swedish catalogue and :func:`tr`.

Catalogues are read with Babel's ``.po`` parser the first time a string is translated
(no compiled ``.mo`` files to keep in step); fuzzy entries are ignored, as gettext does.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["LANGS", "N_", "catalog", "tr"]

LANGS = ("sv", "en")
LOCALE_DIR = Path(__file__).with_name("locale")


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (translate with tr)."""
    return message


@cache
def catalog(lang: str) -> dict[str, str]:
    """``msgid -> msgstr`` for ``lang`` over every ``locale/<lang>/*.po`` file.

    English is the source language: its catalogue is empty and ids are shown as they
    are.  A message translated differently in two files raises ``ValueError`` (the
    i18n test reports it with both files).
    """
    from babel.messages.pofile import read_po

    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for po in sorted((LOCALE_DIR / lang).glob("*.po")):
        with po.open("rb") as fh:
            cat = read_po(fh, locale=lang)
        for msg in cat:
            if not msg.id or msg.fuzzy or not isinstance(msg.id, str):
                continue
            text = msg.string if isinstance(msg.string, str) else ""
            if not text:
                continue
            if msg.id in out and out[msg.id] != text:
                raise ValueError(
                    f"{msg.id!r} is translated as {out[msg.id]!r} in {seen[msg.id]} "
                    f"and as {text!r} in {po.name}"
                )
            out[msg.id] = text
            seen[msg.id] = po.name
    return out


def tr(lang: str, message: str, /, **variables: object) -> str:
    """``message`` (English) in ``lang``, with ``{name}`` placeholders filled in.

    An id missing from the Swedish catalogue falls back to the English text (the i18n
    test keeps that from reaching a release).
    """
    text = catalog(lang).get(message, message) if lang != "en" else message
    return text.format(**variables) if variables else text
