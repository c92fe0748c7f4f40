"""Panel helpers for design calculations: wide matrix and per-window DiD contrasts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tillit.core.errors import DataError, EstimationError

__all__ = ["wide_panel", "window_contrasts"]


def wide_panel(
    data: pd.DataFrame, unit: str, time: str, outcome: str
) -> tuple[NDArray[np.float64], NDArray[np.object_], NDArray[np.float64]]:
    """Return ``(Y, units, periods)`` with ``Y[i, t]`` the outcome (NaN when missing).

    Periods are sorted; a period no unit has is absent, so "consecutive" means
    consecutive among observed periods.
    """
    for col in (unit, time, outcome):
        if col not in data.columns:
            raise DataError(
                f"no column {col!r}; the data has {', '.join(map(str, data.columns))}",
                field=col,
            )
    y = pd.to_numeric(data[outcome], errors="coerce")
    bad = np.flatnonzero(y.isna() & data[outcome].notna())
    if bad.size:
        raise DataError(
            f"not a number: {data[outcome].iloc[bad[0]]!r}",
            row=int(bad[0]) + 1,
            field=outcome,
        )
    t = pd.to_numeric(data[time], errors="coerce")
    if t.isna().any():
        row = int(np.flatnonzero(t.isna())[0]) + 1
        raise DataError("period must be a number", row=row, field=time)
    frame = pd.DataFrame({"u": data[unit].astype(str), "t": t, "y": y})
    if frame.duplicated(["u", "t"]).any():
        row = int(np.flatnonzero(frame.duplicated(["u", "t"]))[0]) + 1
        raise DataError("duplicate unit and period", row=row, field=time)
    wide = frame.pivot(index="u", columns="t", values="y").sort_index(axis=1)
    return (
        wide.to_numpy(dtype=float),
        wide.index.to_numpy(dtype=object),
        wide.columns.to_numpy(dtype=float),
    )


def window_contrasts(
    y: NDArray[np.float64], pre: int, post: int
) -> NDArray[np.float64]:
    """``D[s, i] = mean(post window) - mean(pre window)`` for every start ``s``.

    Window ``s`` covers columns ``s .. s+pre-1`` (pre) and ``s+pre .. s+pre+post-1``
    (post). A unit missing any value in a window gets NaN there.
    """
    n_t = y.shape[1]
    n_w = n_t - pre - post + 1
    if pre < 1 or post < 1:
        raise DataError("pre- and post-periods must be at least 1")
    if n_w < 1:
        raise EstimationError(
            f"the panel has {n_t} periods; {pre} pre + {post} post periods do not fit"
        )
    zero = np.zeros((y.shape[0], 1))
    c = np.concatenate([zero, np.cumsum(np.nan_to_num(y), axis=1)], axis=1)
    miss = np.concatenate([zero, np.cumsum(np.isnan(y), axis=1)], axis=1)
    s = np.arange(n_w)
    pre_mean = (c[:, s + pre] - c[:, s]) / pre
    post_mean = (c[:, s + pre + post] - c[:, s + pre]) / post
    gaps = miss[:, s + pre + post] - miss[:, s]
    return np.where(gaps > 0, np.nan, post_mean - pre_mean).T
