"""Numbers, percentages, kronor and dates as a reader of each language expects them.

Swedish: decimal comma, narrow no-break space (U+202F) between thousands, ``12,5 %``,
``1 234 kr``, ISO dates ``2026-12-08``. English (en_GB): ``1,234.5``, ``12.5%``,
``SEK 1,234``, ``8 Dec 2026``. Missing and non-finite values print as an en dash.
"""

from __future__ import annotations

import math
from datetime import date, datetime

__all__ = [
    "format_date",
    "format_int",
    "format_kr",
    "format_number",
    "format_percent",
]

DASH = "–"
NNBSP = "\u202f"
_LOCALES = {"sv": "sv_SE", "en": "en_GB"}


def _loc(lang: str) -> str:
    return _LOCALES.get(lang, "sv_SE")


def _finite(x: object) -> float | None:
    try:
        f = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _spaces(text: str, lang: str) -> str:
    # CLDR's Swedish group separator is U+00A0; Swedish typography uses a narrow one
    return text.replace("\xa0", NNBSP) if lang == "sv" else text


def format_number(x: object, lang: str, digits: int = 1) -> str:
    """``x`` with exactly ``digits`` decimals and thousands separators."""
    from babel.numbers import format_decimal

    f = _finite(x)
    if f is None:
        return DASH
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    text = format_decimal(round(f, digits), format=pattern, locale=_loc(lang))
    return _spaces(text, lang)


def format_int(x: object, lang: str) -> str:
    """``x`` rounded to a whole number, with thousands separators."""
    return format_number(x, lang, 0)


def format_percent(x: object, lang: str, digits: int = 1, *, share: bool = True) -> str:
    """A percentage; ``share=True`` reads ``x`` as a share (0.125 -> 12,5 %)."""
    from babel.numbers import format_percent as _fp

    f = _finite(x)
    if f is None:
        return DASH
    value = f if share else f / 100.0
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    pattern += "\xa0%" if lang == "sv" else "%"
    return _spaces(_fp(value, format=pattern, locale=_loc(lang)), lang)


def format_kr(x: object, lang: str, digits: int = 0) -> str:
    """An amount in Swedish kronor: ``1 234 kr`` / ``SEK 1,234``."""
    num = format_number(x, lang, digits)
    if num == DASH:
        return DASH
    return f"{num}{NNBSP}kr" if lang == "sv" else f"SEK {num}"


def format_date(d: date | datetime | str | None, lang: str) -> str:
    """A calendar date (ISO in Swedish, ``8 Dec 2026`` in English)."""
    from babel.dates import format_date as _fd

    if d is None or d == "":
        return DASH
    if isinstance(d, str):
        try:
            parsed = datetime.fromisoformat(d)
        except ValueError:
            return d
        d = parsed
    day = d.date() if isinstance(d, datetime) else d
    return day.isoformat() if lang == "sv" else _fd(day, "d MMM y", locale="en_GB")
