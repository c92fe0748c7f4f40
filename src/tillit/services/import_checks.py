"""What an import checks against the store before it writes (codes that must exist).

Internal to :mod:`tillit.services.imports`: every function takes the import's open
:class:`Connection` and raises :class:`~tillit.core.errors.DataError` naming file, row
and field of the first row that fails.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from tillit.core.errors import DataError, PermissionDenied
from tillit.domain import access
from tillit.domain.records import Actor
from tillit.sources.frame import first_bad, row_label, source_field
from tillit.store import catalog as catalog_repo
from tillit.store import imports as repo
from tillit.store.db import Connection

__all__ = ["check_indicators", "check_own_rows", "resolve_codes"]


def _raise_first(
    bad: np.ndarray,
    obs: pd.DataFrame,
    file: str | None,
    field: str,
    message: Callable[[str], str],
) -> None:
    i = first_bad(bad)
    if i is not None:
        raise DataError(
            message(str(obs[field].iat[i])),
            file=file,
            row=row_label(obs, i),
            field=source_field(obs, field),
        )


def _unknown_org_message(known: dict[str, int]) -> Callable[[str], str]:
    def msg(code: str) -> str:
        hint = ""
        if code.isdigit() and len(code) < 4 and code.zfill(4) in known:
            hint = f" (did a spreadsheet drop the leading zero of {code.zfill(4)}?)"
        elif not known:
            hint = " (the database has no organisations: run `tillit db seed`)"
        return f"unknown municipality or organisation {code!r}{hint}"

    return msg


def resolve_codes(
    conn: Connection, obs: pd.DataFrame, file: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Organisation and unit ids per row; DataError for the first unknown code.

    A row with a unit and no organisation gets the unit's organisation (``obs`` is
    changed in place); a unit of another organisation than the row names is an error.
    """
    owners = repo.unit_owners(conn, (c for c in obs["unit_code"].unique() if c))
    unit_id = {c: i for c, i, _o in owners}
    unit_org = {c: o for c, _i, o in owners}
    has_unit = (obs["unit_code"] != "").to_numpy()
    bad = has_unit & ~obs["unit_code"].isin(unit_id.keys()).to_numpy()
    _raise_first(bad, obs, file, "unit_code", lambda c: f"unknown unit {c!r}")
    owner_s = obs["unit_code"].map(unit_org).astype(object)
    owner = owner_s.where(owner_s.notna(), "").to_numpy(dtype=object)
    org = obs["org_code"].to_numpy(dtype=object)
    clash = has_unit & (org != "") & (org != owner)
    i = first_bad(clash)
    if i is not None:
        raise DataError(
            f"unit {obs['unit_code'].iat[i]!r} belongs to organisation {owner[i]!r}, "
            f"not {org[i]!r}",
            file=file,
            row=row_label(obs, i),
            field=source_field(obs, "org_code"),
        )
    obs["org_code"] = pd.Series(
        np.where(org == "", owner, org), index=obs.index, dtype=object
    )
    known = repo.organisation_ids(conn)
    bad = ~obs["org_code"].isin(known.keys()).to_numpy()
    _raise_first(bad, obs, file, "org_code", _unknown_org_message(known))
    org_id = obs["org_code"].map(known).to_numpy(dtype=np.int64)
    uid = obs["unit_code"].map(unit_id).fillna(0).to_numpy(dtype=np.int64)
    return org_id, uid


def check_indicators(conn: Connection, obs: pd.DataFrame, file: str | None) -> None:
    """Every row's indicator must be in the store."""
    known = catalog_repo.indicator_ids(conn, obs["indicator"].unique())
    bad = ~obs["indicator"].isin(known).to_numpy()
    _raise_first(
        bad,
        obs,
        file,
        "indicator",
        lambda c: (
            f"unknown indicator {c!r}: load its metadata first "
            "(tillit import --metadata kpi.csv, or tillit kolada metadata)"
        ),
    )


def check_own_rows(actor: Actor | None, obs: pd.DataFrame, org_id: np.ndarray) -> None:
    """A member imports rows of their own organisation only (admins and system: any)."""
    if actor is None or access.is_admin(actor):
        return
    own = actor.organisation_id if access.is_member(actor) else None
    i = first_bad(org_id != (-1 if own is None else own))
    if i is not None:
        raise PermissionDenied(
            f"you may import data only for your own organisation; row "
            f"{row_label(obs, i)} is for {obs['org_code'].iat[i]!r}"
        )
