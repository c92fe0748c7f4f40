"""Kolada metadata (KPIs, municipality groups) from files or API responses.

Reads the shapes of the Kolada v3 ``/kpi`` and ``/municipality_groups`` endpoints, and
the flat CSV snapshots of them (e.g. ../shared/data/kolada_metadata_v3_2026/).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from tillit.core.errors import DataError
from tillit.domain.records import Indicator
from tillit.sources.readers import decode_text

__all__ = [
    "SKR_GROUP_IDS",
    "group_kind",
    "indicators_from_records",
    "peer_groups_from_frame",
    "read_kpi_metadata",
    "read_municipality_groups",
]

# Kolada's SKR kommungrupper 2023 (A1..C9)
SKR_GROUP_IDS = frozenset(f"G9278{d}" for d in range(6, 10)) | frozenset(
    f"G9279{d}" for d in range(5)
)
_UNIT = re.compile(r",\s*([^,]{1,40})$")


def _bool(x: Any) -> bool:
    if isinstance(x, bool):
        return x
    return str(x).strip().lower() in {"true", "1", "yes", "t"}


def _unit_of_measure(title: str) -> str:
    """Kolada titles end with the unit after the last comma ("..., kr/inv", "..., andel (%)")."""
    m = _UNIT.search(title)
    return m.group(1).strip() if m else ""


def indicators_from_records(records: Iterable[Mapping[str, Any]]) -> list[Indicator]:
    """Indicators from Kolada KPI records (``id, title, description, operating_area,
    is_divided_by_gender, ...``)."""
    out = []
    for n, r in enumerate(records, start=1):
        kid = str(r.get("id") or "").strip()
        title = str(r.get("title") or "").strip()
        if not kid or not title:
            raise DataError("a KPI needs an id and a title", row=n, field="id")
        area = str(r.get("operating_area") or "").strip()
        out.append(
            Indicator(
                id=kid,
                title=title[:400],
                description=str(r.get("description") or ""),
                area=area[:200],
                unit_of_measure=_unit_of_measure(title)[:60],
                divided_by_gender=_bool(r.get("is_divided_by_gender", False)),
                higher_is_better=None,
                source="Kolada",
            )
        )
    return out


def read_kpi_metadata(data: bytes, *, file: str | None = None) -> list[Indicator]:
    """KPI metadata from a Kolada ``/kpi`` JSON response or the CSV snapshot (kpi.csv)."""
    text = decode_text(data, file)
    if text.lstrip()[:1] in ("{", "["):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"not valid JSON: {exc.msg}",
                file=file,
                row=f"line {exc.lineno}, column {exc.colno}",
            ) from exc
        recs = doc.get("values", []) if isinstance(doc, dict) else doc
        if not isinstance(recs, list) or not all(isinstance(r, dict) for r in recs):
            raise DataError("expected a list of KPI objects", file=file, row="values")
    else:
        try:
            df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise DataError(f"not a readable CSV: {exc}", file=file) from exc
        if "id" not in df.columns or "title" not in df.columns:
            raise DataError(
                "KPI metadata needs columns id and title", file=file, field="id"
            )
        recs = df.to_dict("records")
    try:
        return indicators_from_records(recs)
    except DataError as err:
        raise DataError(err.detail, file=file, row=err.row, field=err.field) from err


def group_kind(group_id: str, title: str) -> str:
    """``skr`` for SKR kommungrupper, ``similar`` for "Liknande kommuner/regioner",
    else ``kolada``."""
    if group_id in SKR_GROUP_IDS:
        return "skr"
    if title.lower().startswith(("liknande kommuner", "liknande regioner")):
        return "similar"
    return "kolada"


def peer_groups_from_frame(df: pd.DataFrame) -> dict[str, tuple[str, str, list[str]]]:
    """Peer groups from a flat ``group_id, group_title, member_id`` table."""
    out: dict[str, tuple[str, str, list[str]]] = {}
    for gid, g in df.groupby("group_id", sort=True):
        title = str(g["group_title"].iat[0])
        out[str(gid)] = (
            title[:400],
            group_kind(str(gid), title),
            sorted(set(g["member_id"])),
        )
    return out


def read_municipality_groups(
    data: bytes, *, file: str | None = None
) -> dict[str, tuple[str, str, list[str]]]:
    """Kolada municipality groups from the flat CSV snapshot or a ``/municipality_groups``
    JSON response (``{"values": [{"id", "title", "members": [{"id", "title"}]}]}``)."""
    text = decode_text(data, file)
    if text.lstrip()[:1] in ("{", "["):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON: {exc.msg}", file=file) from exc
        recs = doc.get("values", []) if isinstance(doc, dict) else doc
        rows = []
        for n, g in enumerate(recs):
            try:
                rows += [
                    (str(g["id"]), str(g["title"]), str(m["id"])) for m in g["members"]
                ]
            except (KeyError, TypeError) as exc:
                raise DataError(
                    "a group needs id, title and members[].id",
                    file=file,
                    row=f"values[{n}]",
                ) from exc
        df = pd.DataFrame(rows, columns=["group_id", "group_title", "member_id"])
    else:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        need = {"group_id", "group_title", "member_id"} - set(df.columns)
        if need:
            raise DataError(
                f"missing column(s) {', '.join(sorted(need))}",
                file=file,
                field=min(need),
            )
    return peer_groups_from_frame(df)
