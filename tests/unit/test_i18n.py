"""Every user-visible message has its Swedish translation (one i18n mechanism, #19).

Message ids are extracted with Babel's own extractors from the Python code (``tr``,
``N_``, ``_``, ``gettext``, ``ngettext``) and the Jinja2 templates (``_()``,
``{% trans %}``), as ``pybabel extract`` would, and looked up in the merged Swedish
catalogue (``src/tillit/i18n/locale/sv/*.po``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from tillit.i18n import catalog, format_kr, format_number, format_percent, tr

SRC = Path(__file__).resolve().parents[2] / "src" / "tillit"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "N_": None,
    "ngettext": (1, 2),
    "tr": (2,),
}
METHODS = [
    ("**/templates/**.html", "jinja2"),
    ("**.py", "python"),
]


def _messages() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _ctx in extract_from_dir(
        str(SRC),
        METHODS,
        keywords=KEYWORDS,
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for mid in ids:
            if mid:
                found.setdefault(mid, []).append(f"{filename}:{lineno}")
    return found


def test_every_message_has_a_swedish_translation() -> None:
    sv = catalog("sv")
    missing = {m: where for m, where in _messages().items() if m not in sv}
    assert not missing, "untranslated into Swedish (add to locale/sv/<area>.po):\n" + (
        "\n".join(f"  {m!r} at {', '.join(w[:2])}" for m, w in sorted(missing.items()))
    )


def test_the_check_sees_an_untranslated_message() -> None:
    assert "A message nobody translated" not in catalog("sv")
    assert tr("sv", "A message nobody translated") == "A message nobody translated"


def test_translation_and_placeholders() -> None:
    assert tr("sv", "Sign in") == "Logga in"
    assert tr("en", "Sign in") == "Sign in"
    assert tr("en", "{n} units", n=3) == "3 units"


@pytest.mark.parametrize(
    ("lang", "number", "percent", "kr"),
    [
        ("sv", "1\u202f234\u202f567,89", "12,5\u202f%", "1\u202f234\u202fkr"),
        ("en", "1,234,567.89", "12.5%", "SEK 1,234"),
    ],
)
def test_formats(lang: str, number: str, percent: str, kr: str) -> None:
    assert format_number(1234567.891, lang, 2) == number
    assert format_percent(0.125, lang) == percent
    assert format_kr(1234.4, lang) == kr
    assert format_number(float("nan"), lang) == "–"
