"""Calibrating the simulator on real data: the 2014-2017 home-care panel and the
Kolada panel (N21006 cost per recipient, N21826 granted hours, N21706, N21804, U21401
continuity and the U214xx user-survey items).

The reference rate of a year is SKR's average (:func:`tillit.domain.compensation.
reference_rate`) and the staff cost follows wages (:func:`staff_cost`).  Held-out
years: 2017 for the 2014-2017 panel, 2020-2022 for the Kolada panel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tillit.core.compensation.calibrate import (
    Calibration,
    calibrate,
    survey_associations,
)
from tillit.core.errors import DataError
from tillit.core.results import jsonable_dict
from tillit.domain.compensation import reference_rate, staff_cost
from tillit.sources.compensation import SURVEY_KPIS, homecare_panel, kolada_homecare

__all__ = ["HOMECARE_TEST_YEARS", "KOLADA_TEST_YEARS", "calibrate_data"]

HOMECARE_TEST_YEARS = (2017,)
KOLADA_TEST_YEARS = (2020, 2021, 2022)
Progress = Callable[[int, int], None]


def _years(frame: pd.DataFrame) -> tuple[dict[int, float], dict[int, float]]:
    ys = sorted(int(y) for y in frame["year"].unique())
    return {y: reference_rate(y) for y in ys}, {y: staff_cost(y) for y in ys}


def calibrate_data(
    *,
    homecare_dir: Path | None = None,
    kolada_file: Path | None = None,
    n_recipients: int = 1000,
    seed: int = 2016,
    homecare_test_years: Sequence[int] = HOMECARE_TEST_YEARS,
    kolada_test_years: Sequence[int] = KOLADA_TEST_YEARS,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Calibrate on whichever data are given; returns the report and the fits.

    Returns
    -------
    dict
        ``report`` (JSON: per data set the fit and its errors, the staff-pool sizes,
        the survey associations) and ``fits`` (:class:`Calibration` by data set).
    """
    if homecare_dir is None and kolada_file is None:
        raise DataError(
            "give the home-care panel directory, a Kolada long CSV, or both",
            field="data",
        )
    fits: dict[str, Calibration] = {}
    report: dict[str, Any] = {"version": 1, "data": {}}
    density = None
    if homecare_dir is not None:
        frame, density = homecare_panel(homecare_dir)
        rates, wages = _years(frame)
        fits["homecare_2014_2017"] = calibrate(
            frame, rates=rates, staff_cost=wages, test_years=homecare_test_years,
            n_recipients=n_recipients, seed=seed, source=str(homecare_dir), progress=progress,
        )  # fmt: skip
    if kolada_file is not None:
        frame = kolada_homecare(kolada_file, density=density)
        rates, wages = _years(frame)
        fits["kolada_panel"] = calibrate(
            frame, rates=rates, staff_cost=wages, test_years=kolada_test_years,
            n_recipients=n_recipients, seed=seed, source=str(kolada_file), progress=progress,
        )  # fmt: skip
        assoc = survey_associations(frame, SURVEY_KPIS)
        report["survey_associations"] = assoc.to_dict(orient="records")
    for name, fit in fits.items():
        report["data"][name] = fit.to_dict()
    return {"report": jsonable_dict(report), "fits": fits}
