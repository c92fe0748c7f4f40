"""Scale scores and group indices with confidence intervals.

Each respondent's score on a scale is the mean of their answered Likert items (reverse-coded
items flipped: ``6 - x`` on a 1-5 scale), defined only when at least half of the scale's
items were answered. Group indices are means of respondent scores with a t-interval.
Results are *not* yet disclosure-controlled: pass them through
:func:`tillit.core.survey.disclosure.suppress` before showing them to anyone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from tillit.core.errors import DataError
from tillit.core.survey.instruments import Instrument

__all__ = ["group_indices", "scale_scores"]


def scale_scores(answers: pd.DataFrame, inst: Instrument) -> pd.DataFrame:
    """Respondent-level scale scores.

    Parameters
    ----------
    answers
        One row per respondent; a column per question id (Likert answers 1-5 or missing).
        Other columns (group keys) are kept.
    inst
        The instrument the answers belong to.

    Returns
    -------
    DataFrame
        The non-question columns of ``answers`` plus one column per scale.
    """
    qcols = {q.id for q in inst.questions}
    out = answers[[c for c in answers.columns if c not in qcols]].copy()
    for scale in inst.scales:
        items = inst.items(scale.id)
        if not items:
            continue
        present = [q for q in items if q.id in answers.columns]
        if not present:
            out[scale.id] = np.nan
            continue
        block = answers[[q.id for q in present]].apply(pd.to_numeric, errors="coerce")
        x = block.to_numpy(dtype=float, copy=True)
        bad = ~np.isnan(x) & ((x < 1) | (x > 5) | (x != np.round(x)))
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise DataError(
                f"Likert answer must be an integer 1-5, got {x[r, c]!r}",
                row=int(r) + 1,
                field=present[c].id,
            )
        rev = np.array([q.reverse for q in present])
        x[:, rev] = 6.0 - x[:, rev]
        answered = (~np.isnan(x)).sum(axis=1)
        with np.errstate(invalid="ignore"):
            score = np.nanmean(np.where(answered[:, None] > 0, x, 0.0), axis=1)
        score[answered * 2 < len(items)] = np.nan
        out[scale.id] = score
    return out


def group_indices(
    scores: pd.DataFrame,
    by: list[str],
    scales: list[str],
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean score per group and scale with n, SD, SE and a t confidence interval.

    Returns a long DataFrame: the ``by`` columns, ``scale``, ``n``, ``mean``, ``sd``, ``se``,
    ``ci_low``, ``ci_high``. Groups are computed for every scale at once (no loop over rows).
    """
    missing = [c for c in [*by, *scales] if c not in scores.columns]
    if missing:
        raise DataError(f"missing column(s): {', '.join(missing)}", field=missing[0])
    long = scores.melt(
        id_vars=by, value_vars=scales, var_name="scale", value_name="score"
    )
    long = long.dropna(subset=["score"])
    g = long.groupby([*by, "scale"], sort=True, dropna=False)["score"]
    res = g.agg(n="count", mean="mean", sd="std").reset_index()
    res["se"] = res["sd"] / np.sqrt(res["n"])
    df = (res["n"] - 1).clip(lower=1)
    tcrit = stats.t.ppf(0.5 + level / 2, df)
    res["ci_low"] = res["mean"] - tcrit * res["se"]
    res["ci_high"] = res["mean"] + tcrit * res["se"]
    one = res["n"] < 2
    res.loc[one, ["sd", "se", "ci_low", "ci_high"]] = np.nan
    return res
