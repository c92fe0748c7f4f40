"""A strict, safe Markdown subset for user text (dialogue contributions and comments).

Supported: paragraphs (separated by blank lines; single newlines become ``<br>``),
``**strong**``, ``*emphasis*`` / ``_emphasis_``, unordered lists (``-`` or ``*``),
ordered lists (``1.``) and links ``[text](https://...)`` with ``http``/``https`` URLs
only, rendered with ``rel="nofollow noopener"``. Everything else, including any HTML,
is shown as text: every character from the user passes through :func:`html.escape`
before it reaches the output, and the only tags emitted are the fixed ones above.
A link with another scheme (``javascript:``, ``data:``, ...) stays plain text.
"""

from __future__ import annotations

import re
from html import escape
from urllib.parse import urlsplit

__all__ = ["has_link", "render_markdown", "safe_url"]

MAX_LENGTH = 20_000

_LINK = re.compile(r"\[([^\[\]\n]{1,300})\]\(([^()\s]{1,2000})\)")
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_EM = re.compile(
    r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])|(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"
)
_UL = re.compile(r"^\s{0,3}[-*]\s+(.*)$")
_OL = re.compile(r"^\s{0,3}\d{1,9}[.)]\s+(.*)$")
_BARE_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S")


def safe_url(url: str) -> str | None:
    """``url`` if it is an absolute http(s) URL without control characters, else None."""
    if any(ord(c) < 33 or c in '"<>\\`' for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def has_link(text: str) -> bool:
    """Whether ``text`` contains a Markdown link or a bare web address."""
    return bool(_LINK.search(text) or _BARE_URL.search(text))


def _emphasis(text: str) -> str:
    """Escape ``text`` and apply strong/emphasis (no links inside)."""
    out = escape(text, quote=True)
    out = _STRONG.sub(lambda m: f"<strong>{m.group(1)}</strong>", out)
    return _EM.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", out)


def _inline(text: str) -> str:
    parts: list[str] = []
    pos = 0
    for m in _LINK.finditer(text):
        url = safe_url(m.group(2))
        if url is None:
            continue
        parts.append(_emphasis(text[pos : m.start()]))
        parts.append(
            f'<a href="{escape(url, quote=True)}" rel="nofollow noopener">'
            f"{escape(m.group(1), quote=True)}</a>"
        )
        pos = m.end()
    parts.append(_emphasis(text[pos:]))
    return "".join(parts)


def _block(lines: list[str]) -> str:
    if all(_UL.match(ln) for ln in lines):
        items = "".join(f"<li>{_inline(_UL.match(ln).group(1))}</li>" for ln in lines)  # type: ignore[union-attr]
        return f"<ul>{items}</ul>"
    if all(_OL.match(ln) for ln in lines):
        items = "".join(f"<li>{_inline(_OL.match(ln).group(1))}</li>" for ln in lines)  # type: ignore[union-attr]
        return f"<ol>{items}</ol>"
    return "<p>" + "<br>".join(_inline(ln.strip()) for ln in lines) + "</p>"


def render_markdown(text: str) -> str:
    """Render the safe subset of ``text`` to HTML (a string safe to insert as markup).

    Parameters
    ----------
    text
        User text; longer than 20 000 characters is cut.

    Returns
    -------
    str
        HTML made only of ``p``, ``br``, ``strong``, ``em``, ``ul``, ``ol``, ``li`` and
        ``a href="http(s)://..." rel="nofollow noopener"`` elements around escaped text.
    """
    text = text[:MAX_LENGTH].replace("\r\n", "\n").replace("\r", "\n").replace("\0", "")
    blocks: list[list[str]] = [[]]
    for line in text.split("\n"):
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return "".join(_block(b) for b in blocks if b)
