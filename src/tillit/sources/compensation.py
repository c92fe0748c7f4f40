"""Files for the compensation simulator: specs (YAML/JSON), recipients (CSV), Kolada data.

* :func:`read_spec` reads a spec file (``.yaml``/``.yml`` or ``.json``) and validates it
  with :func:`tillit.domain.compensation.parse_spec` (errors name the file and the
  field's path);
* :func:`read_recipients` reads a recipients CSV into a population (errors name file,
  row and column);
* :func:`kolada_homecare` reads the home-care indicators of a Kolada long CSV
  (``kpi,municipality,period,gender,value``, e.g. ``../shared/data/kolada_panel_2024/
  kolada_selected_long.csv``) into one row per municipality and year;
* :func:`homecare_panel` reads the 2014-2017 home-care panel
  (``../shared/data/kolada_homecare_2014_2017``).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.compensation import Population, population_from_frame
from tillit.core.compensation.calibrate import travel_minutes_for_density
from tillit.core.errors import DataError
from tillit.domain.compensation import Spec, parse_spec

__all__ = [
    "HOMECARE_KPIS",
    "SURVEY_KPIS",
    "homecare_panel",
    "kolada_homecare",
    "municipality_indicators",
    "parse_spec_text",
    "read_recipients",
    "read_spec",
]

MAX_BYTES = 20_000_000
SURVEY_KPIS = (
    "U21454",
    "U21455",
    "U21461",
    "U21463",
    "U21467",
    "U21468",
    "U21475",
    "U21477",
)
HOMECARE_KPIS = {
    "N21006": "cost_per_recipient",
    "N21826": "granted_hours",
    "N21706": "share_heavy",
    "N21804": "private_share",
    "N21702": "recipients",
    "N21827": "recipients_time_registered",
    "U21401": "continuity",
}
"""Kolada KPI -> column of the frames below (shares are divided by 100)."""


def parse_spec_text(text: str, *, filename: str = "spec") -> Spec:
    """A spec from YAML or JSON text (JSON is tried first; YAML is a superset)."""
    try:
        raw: Any = json.loads(text)
    except ValueError:
        import yaml

        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DataError(f"not valid YAML or JSON: {exc}", file=filename) from exc
    try:
        return parse_spec(raw)
    except DataError as err:
        raise DataError(err.detail, file=filename, field=err.field) from err


def read_spec(path: str | Path) -> Spec:
    """Read and validate a spec file.

    Raises
    ------
    DataError
        Naming the file and the field's path of the first bad value.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError("file not found", file=str(p))
    data = p.read_bytes()
    if len(data) > MAX_BYTES:
        raise DataError("the file is larger than 20 MB", file=str(p))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason})", file=str(p)) from exc
    return parse_spec_text(text, filename=str(p))


def read_recipients(data: bytes, filename: str, *, seed: int = 0) -> Population:
    """A population from recipients CSV bytes (see ``population_from_frame``)."""
    if not data:
        raise DataError("the file is empty", file=filename)
    if len(data) > MAX_BYTES:
        raise DataError("the file is larger than 20 MB", file=filename)
    try:
        text = data.decode("utf-8-sig")
        sep = (
            ";"
            if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",")
            else ","
        )
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep)
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason})", file=filename) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"not a readable CSV: {exc}", file=filename) from exc
    df.columns = [c.strip() for c in df.columns]
    return population_from_frame(df, source=filename, seed=seed)


def _read_long(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    try:
        df = pd.read_csv(
            path,
            dtype={"kpi": str, "municipality": str, "gender": str},
            encoding="utf-8-sig",
        )
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"not a readable CSV: {exc}", file=str(path)) from exc
    for col in ("kpi", "municipality", "period", "value"):
        if col not in df.columns:
            raise DataError(
                f"a Kolada long CSV needs the column {col!r}", file=str(path), field=col
            )
    return df


def kolada_homecare(
    path: str | Path, *, density: pd.Series | None = None
) -> pd.DataFrame:
    """Home-care indicators of a Kolada long CSV, one row per municipality and year.

    Columns: ``municipality, year`` and those of :data:`HOMECARE_KPIS` and
    :data:`SURVEY_KPIS` present in the file (shares 0-1); ``travel_minutes`` from
    ``density`` (inhabitants per km2 by municipality code) when given.  Only the
    290 municipalities (4-digit codes, not ``00xx`` regions), gender ``T``.
    """
    df = _read_long(Path(path))
    keep = set(HOMECARE_KPIS) | set(SURVEY_KPIS)
    df = df[df["kpi"].isin(keep)]
    if "gender" in df.columns:
        df = df[df["gender"].fillna("T") == "T"]
    code = df["municipality"].astype(str).str.zfill(4)
    df = df.assign(municipality=code)
    df = df[(code.str.len() == 4) & ~code.str.startswith("00")]
    wide = df.pivot_table(
        index=["municipality", "period"], columns="kpi", values="value", aggfunc="first"
    ).reset_index()
    wide = wide.rename(columns={"period": "year", **HOMECARE_KPIS})
    for share in ("share_heavy", "private_share"):
        if share in wide.columns:
            wide[share] = wide[share] / 100.0
    wide["year"] = wide["year"].astype(int)
    if density is not None:
        wide["travel_minutes"] = travel_minutes_for_density(
            wide["municipality"].map(density).fillna(density.median()).to_numpy()
        )
    wide.columns.name = None
    return wide


def homecare_panel(directory: str | Path) -> tuple[pd.DataFrame, pd.Series]:
    """The 2014-2017 home-care panel and each municipality's density.

    Returns ``(frame, density)``: one row per municipality and year with
    ``municipality, year, cost_per_recipient, granted_hours, private_share,
    travel_minutes``; density in inhabitants per km2 by municipality code.
    """
    d = Path(directory)
    path = d / "panel_data_2014_2017_utf8.csv"
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    raw = pd.read_csv(path, dtype={"municipality_id": str})
    need = ("municipality_id", "year", "cost", "hours", "public_providers", "density")
    for col in need:
        if col not in raw.columns:
            raise DataError(
                f"the home-care panel needs the column {col!r}",
                file=str(path),
                field=col,
            )
    out = pd.DataFrame(
        {
            "municipality": raw["municipality_id"].str.zfill(4),
            "year": raw["year"].astype(int),
            "cost_per_recipient": raw["cost"].astype(float),
            "granted_hours": raw["hours"].astype(float),
            "private_share": 1.0 - raw["public_providers"].astype(float) / 100.0,
            "travel_minutes": travel_minutes_for_density(
                raw["density"].to_numpy(dtype=float)
            ),
        }
    )
    density = (
        raw.groupby(raw["municipality_id"].str.zfill(4))["density"]
        .first()
        .astype(float)
    )
    return out, density


def municipality_indicators(
    frame: pd.DataFrame, code: str, year: int | None = None
) -> dict[str, Any]:
    """The newest (or ``year``'s) home-care values of one municipality in a frame from
    :func:`kolada_homecare`, each indicator from its own newest year."""
    rows = frame[frame["municipality"] == code].sort_values("year")
    if year is not None:
        rows = rows[rows["year"] <= year]
    if rows.empty:
        raise DataError(
            f"no home-care indicators for municipality {code}", field="municipality"
        )
    out: dict[str, Any] = {"municipality": code}
    for col in (*HOMECARE_KPIS.values(), "travel_minutes"):
        if col in rows.columns:
            s = rows[["year", col]].dropna()
            if not s.empty:
                out[col] = float(s[col].iloc[-1])
                out[f"{col}_year"] = int(s["year"].iloc[-1])
    if not np.isfinite(out.get("granted_hours", np.nan)):
        raise DataError(
            f"municipality {code} has no granted hours per recipient (N21826)",
            field="N21826",
        )
    return out
