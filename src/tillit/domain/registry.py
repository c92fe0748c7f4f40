"""The pilot registry's tamper-evident chain (pure logic; storage lives in ``store``).

Every registration, amendment or conclusion of a pilot is an *entry*. An entry's hash is the
SHA-256 of its canonical JSON (sorted keys, no whitespace, UTF-8, no NaN) **including the
previous entry's hash**, so changing any stored entry, removing one or reordering them breaks
every later link. Anyone can download the registry as JSON Lines and check it with
``tillit registry verify FILE``.

Entry fields: ``seq`` (1, 2, ...), ``pilot_id``, ``version`` (1 for the registration, +1 per
amendment), ``kind`` (registration | amendment | conclusion), ``registered_at`` (ISO 8601 UTC),
``content`` (the pre-registration document), ``reason`` (required for amendments),
``prev_hash`` (64 zeros for the first entry) and ``hash``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tillit.core.errors import DataError

__all__ = [
    "GENESIS",
    "KINDS",
    "ChainReport",
    "Change",
    "canonical_json",
    "diff_content",
    "entry_hash",
    "make_entry",
    "read_jsonl",
    "verify_chain",
]

GENESIS = "0" * 64
KINDS = ("registration", "amendment", "conclusion")
_HASHED = (
    "seq",
    "pilot_id",
    "version",
    "kind",
    "registered_at",
    "content",
    "reason",
    "prev_hash",
)


def _check_finite(obj: Any, path: str = "content") -> None:
    if isinstance(obj, float) and not math.isfinite(obj):
        raise DataError("numbers must be finite (no NaN or infinity)", field=path)
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            _check_finite(v, f"{path}.{k}")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            _check_finite(v, f"{path}[{i}]")


def canonical_json(obj: Any) -> str:
    """Deterministic JSON text: sorted keys, compact separators, UTF-8, finite numbers."""
    _check_finite(obj)
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the hashed fields of ``entry``."""
    body = {k: entry.get(k) for k in _HASHED}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def make_entry(
    prev: Mapping[str, Any] | None,
    *,
    pilot_id: str,
    version: int,
    kind: str,
    content: Mapping[str, Any],
    reason: str = "",
    registered_at: datetime | None = None,
) -> dict[str, Any]:
    """Build the next entry of the chain after ``prev`` (``None`` for the first)."""
    if kind not in KINDS:
        raise DataError(f"unknown entry kind '{kind}'", field="kind")
    if kind == "amendment" and not reason.strip():
        raise DataError("an amendment needs a reason", field="reason")
    when = (registered_at or datetime.now(UTC)).astimezone(UTC)
    entry: dict[str, Any] = {
        "seq": 1 if prev is None else int(prev["seq"]) + 1,
        "pilot_id": pilot_id,
        "version": int(version),
        "kind": kind,
        "registered_at": when.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "content": json.loads(canonical_json(dict(content))),
        "reason": reason,
        "prev_hash": GENESIS if prev is None else str(prev["hash"]),
    }
    entry["hash"] = entry_hash(entry)
    return entry


@dataclass(frozen=True)
class ChainReport:
    """Outcome of :func:`verify_chain`."""

    ok: bool
    n_entries: int
    n_pilots: int
    head: str
    problem: str = ""
    bad_seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            "ok": self.ok,
            "n_entries": self.n_entries,
            "n_pilots": self.n_pilots,
            "head": self.head,
            "problem": self.problem,
            "bad_seq": self.bad_seq,
        }


def verify_chain(entries: Iterable[Mapping[str, Any]]) -> ChainReport:
    """Check sequence numbers, links, hashes, versions and timestamps of a whole registry."""
    prev_hash, prev_time, n = GENESIS, "", 0
    versions: dict[str, int] = {}

    def bad(e: Mapping[str, Any], why: str) -> ChainReport:
        return ChainReport(False, n, len(versions), prev_hash, why, e.get("seq"))

    for e in entries:
        n += 1
        if e.get("seq") != n:
            return bad(e, f"entry {n} has sequence number {e.get('seq')!r}")
        if e.get("prev_hash") != prev_hash:
            return bad(e, f"entry {n} does not link to the entry before it")
        try:
            h = entry_hash(e)
        except DataError as exc:
            return bad(e, f"entry {n}: {exc.message}")
        if h != e.get("hash"):
            return bad(
                e, f"entry {n} was changed after it was registered (hash mismatch)"
            )
        pid, v, kind = e.get("pilot_id"), e.get("version"), e.get("kind")
        expected = versions.get(str(pid), 0) + (0 if kind == "conclusion" else 1)
        if (
            kind not in KINDS
            or v != expected
            or (kind == "registration") != (str(pid) not in versions)
        ):
            return bad(
                e, f"entry {n}: pilot {pid} has an unexpected {kind} version {v}"
            )
        if kind == "amendment" and not str(e.get("reason", "")).strip():
            return bad(e, f"entry {n}: an amendment without a reason")
        t = str(e.get("registered_at", ""))
        if t < prev_time:
            return bad(e, f"entry {n} is dated before the entry it follows")
        versions[str(pid)] = int(v)
        prev_hash, prev_time = h, t
    return ChainReport(True, n, len(versions), prev_hash)


def read_jsonl(text: str, *, file: str = "registry") -> list[dict[str, Any]]:
    """Parse a downloaded registry (one JSON object per line)."""
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON ({exc.msg})", file=file, row=i) from exc
        if not isinstance(obj, dict):
            raise DataError("each line must be a JSON object", file=file, row=i)
        out.append(obj)
    return out


@dataclass(frozen=True)
class Change:
    """One difference between two versions of a registration."""

    path: str
    old: Any
    new: Any
    kind: str  # added | removed | changed


def diff_content(old: Any, new: Any, path: str = "") -> list[Change]:
    """Field-by-field differences between two versions (for readers of an amendment)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: list[Change] = []
        for k in sorted(set(old) | set(new), key=str):
            p = f"{path}.{k}" if path else str(k)
            if k not in old:
                out.append(Change(p, None, new[k], "added"))
            elif k not in new:
                out.append(Change(p, old[k], None, "removed"))
            else:
                out.extend(diff_content(old[k], new[k], p))
        return out
    if old != new:
        return [Change(path or "(root)", old, new, "changed")]
    return []
