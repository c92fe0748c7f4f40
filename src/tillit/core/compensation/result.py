"""Results of the compensation simulator: per model, per draw, with summaries.

:class:`SimulationResult` keeps every output of every model for every draw (so that
comparisons are paired draw by draw) and derives the reported metrics from them;
``to_dict()`` is the stable JSON documented in ``docs/compensation.md`` (the CLI's
``--format json``), ``tidy()`` one row per model and metric, ``summary()`` a table.
Codes, not prose: the layers above word them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.compensation.behaviour import Draws
from tillit.core.compensation.codes import PROVIDERS
from tillit.core.compensation.models import ModelArrays
from tillit.core.compensation.population import Population
from tillit.core.results import jsonable_dict

__all__ = [
    "DISTRIBUTIONS",
    "FLAG_RULES",
    "INTERVAL",
    "METRICS",
    "PAIRED",
    "QUANTILES",
    "SimulationResult",
    "Tornado",
]

INTERVAL = 0.90
METRICS = (
    "cost_total",
    "cost_per_recipient",
    "provider_margin",
    "provider_margin_kr",
    "delivered_share",
    "paid_share",
    "registration_hours",
    "registration_cost",
    "continuity",
    "selection_share",
    "visit_length_ratio",
)
"""Reported metrics, each per model and draw (see :meth:`SimulationResult.metric`)."""

PAIRED = (
    "cost_per_recipient",
    "delivered_share",
    "registration_hours",
    "provider_margin",
)
"""Metrics whose paired difference from the baseline is reported (``vs_baseline``)."""
DISTRIBUTIONS = ("cost_per_recipient", "provider_margin")
"""Metrics whose quantiles over draws are reported (``distribution``)."""
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)

FLAG_RULES = {
    "under_delivery": ("delivered_share", "<", 0.85),
    "over_delivery": ("paid_share", ">", 1.0),
    "rushing": ("visit_length_ratio", "<", 0.85),
    "selection": ("selection_share", ">", 0.05),
    "margin_risk": ("provider_margin", "<", 0.0),
}
"""Flag -> (metric, comparison, threshold); a flag's value is the share of draws in
which the rule holds."""


def _rows(x: np.ndarray, fn: str, q: float = 0.5) -> np.ndarray:
    """Mean or quantile of each row over its finite values (NaN for a row without any)."""
    out = np.full(x.shape[0], np.nan)
    for i, row in enumerate(x):
        ok = row[np.isfinite(row)]
        if ok.size:
            out[i] = ok.mean() if fn == "mean" else np.quantile(ok, q)
    return out


@dataclass(frozen=True)
class SimulationResult:
    """Every output of every model for every draw.

    ``outputs[name]`` is ``(M, D)`` (or ``(M, D, K)`` for the ``*_by_provider``
    outputs), yearly totals in kronor, hours or counts; ``staff_cost`` and
    ``cancel_rate`` are the draws' values, ``(D,)``.
    """

    names: tuple[str, ...]
    bases: tuple[str, ...]
    n_recipients: int
    n_private: int
    granted_hours: float
    outputs: Mapping[str, np.ndarray]
    staff_cost: np.ndarray
    cancel_rate: np.ndarray
    seed: int
    population: Mapping[str, Any]

    @classmethod
    def build(
        cls,
        pop: Population,
        models: ModelArrays,
        out: dict[str, np.ndarray],
        draws: Draws,
        *,
        seed: int,
    ) -> SimulationResult:
        """Wrap the engine's outputs."""
        return cls(
            names=models.names,
            bases=tuple(models.basis_code(i) for i in range(models.m)),
            n_recipients=pop.n,
            n_private=int(np.sum(pop.provider > 0)),
            granted_hours=float(12.0 * pop.granted_hours.sum()),
            outputs=out,
            staff_cost=np.asarray(draws.values["staff_cost"], dtype=float),
            cancel_rate=np.asarray(draws.values["cancel_rate"], dtype=float),
            seed=seed,
            population=pop.summary_dict(),
        )

    @property
    def n_draws(self) -> int:
        """Number of draws (1: the prior means)."""
        return int(self.staff_cost.size)

    def metric(self, name: str) -> np.ndarray:
        """``(M, D)`` values of a reported metric (:data:`METRICS`)."""
        o = self.outputs
        reg = o["registration_hours_staff"] + o["registration_hours_purchaser"]
        cancel = 1.0 - self.cancel_rate[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            if name == "cost_total":
                x = o["cost_total"]
            elif name == "cost_per_recipient":
                x = o["cost_total"] / self.n_recipients
            elif name == "provider_margin_kr":
                x = o["cost_total"] - o["provider_cost"]
            elif name == "provider_margin":
                x = (o["cost_total"] - o["provider_cost"]) / o["cost_total"]
            elif name == "delivered_share":
                x = o["delivered_hours"] / self.granted_hours
            elif name == "paid_share":
                x = o["paid_hours"] / self.granted_hours
            elif name == "registration_hours":
                x = reg
            elif name == "registration_cost":
                x = reg * self.staff_cost[None, :]
            elif name == "continuity":
                x = o["continuity"]
            elif name == "selection_share":
                x = o["moved"] / max(self.n_private, 1)
            elif name == "visit_length_ratio":
                x = o["delivered_hours"] / (self.granted_hours * cancel)
            else:
                raise KeyError(f"unknown metric {name!r}")
        return np.asarray(x, dtype=float)

    def value(self, name: str) -> np.ndarray:
        """``(M,)`` estimate: the single run, or the mean over draws."""
        return _rows(self.metric(name), "mean")

    def interval(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(M,)`` 5th and 95th percentiles over draws (NaN with one draw)."""
        x = self.metric(name)
        if self.n_draws < 2:
            nan = np.full(x.shape[0], np.nan)
            return nan, nan.copy()
        a = (1.0 - INTERVAL) / 2.0
        return _rows(x, "q", a), _rows(x, "q", 1.0 - a)

    def flags(self) -> np.ndarray:
        """``(M, F)`` share of draws in which each flag of :data:`FLAG_RULES` holds."""
        cols = []
        for metric, op, thr in FLAG_RULES.values():
            x = self.metric(metric)
            hit = (x < thr) if op == "<" else (x > thr)
            cols.append(np.where(np.isfinite(x), hit, False).mean(axis=1))
        return np.stack(cols, axis=1)

    def differences(
        self, name: str = "cost_per_recipient", baseline: int = 0
    ) -> np.ndarray:
        """``(M, D)`` paired differences of a metric from the baseline model."""
        x = self.metric(name)
        return np.asarray(x - x[baseline : baseline + 1], dtype=float)

    def cheapest_probability(self) -> np.ndarray:
        """``(M,)`` share of draws in which each model has the lowest total cost."""
        x = self.outputs["cost_total"]
        best = np.argmin(x, axis=0)
        return np.asarray(np.bincount(best, minlength=x.shape[0]) / x.shape[1])

    def _by_provider(self, i: int) -> dict[str, Any]:
        pay = self.outputs["payments_by_provider"][i]
        cost = self.outputs["cost_by_provider"][i]
        out = {}
        for k, p in enumerate(PROVIDERS):
            if not np.any(self.outputs["granted_by_provider"][i, :, k] > 0):
                continue
            pk, ck = pay[:, k], cost[:, k]
            with np.errstate(all="ignore"):
                margin = (pk - ck) / pk
            out[p] = {"payments": float(pk.mean()), "cost": float(ck.mean()),
                      "margin": float(np.nanmean(margin)), "loss_probability": float(np.mean(pk < ck))}  # fmt: skip
        return out

    def _paired(self, name: str, i: int, baseline: int) -> dict[str, Any]:
        d = self.differences(name, baseline)[i]
        d = d[np.isfinite(d)]
        out: dict[str, Any] = {"mean": float(d.mean()) if d.size else None}
        if i != baseline and d.size:
            out["probability_lower"] = float(np.mean(d < 0))
        if self.n_draws > 1 and d.size:
            a = (1.0 - INTERVAL) / 2.0
            out["ci_low"], out["ci_high"] = (
                float(np.quantile(d, a)),
                float(np.quantile(d, 1 - a)),
            )
        return out

    def model_dicts(self, baseline: int = 0) -> list[dict[str, Any]]:
        """One dict per model: metrics, intervals, flags, per provider, vs baseline."""
        vals = {m: self.value(m) for m in METRICS}
        ivs = {m: self.interval(m) for m in METRICS}
        flags = self.flags()
        cheap = self.cheapest_probability()
        loss = np.mean(self.metric("provider_margin_kr") < 0, axis=1)
        dist = {m: self.metric(m) for m in DISTRIBUTIONS}
        rows = []
        for i, name in enumerate(self.names):
            row: dict[str, Any] = {"name": name, "basis": self.bases[i]}
            row.update({m: float(vals[m][i]) for m in METRICS})
            row["margin_loss_probability"] = float(loss[i])
            row["visits_made"] = float(np.mean(self.outputs["visits_made"][i]))
            row["staff_hours"] = float(np.mean(self.outputs["staff_hours"][i]))
            row["flags"] = {f: float(flags[i, j]) for j, f in enumerate(FLAG_RULES)}
            row["by_provider"] = self._by_provider(i)
            row["vs_baseline"] = {m: self._paired(m, i, baseline) for m in PAIRED}
            row["cheapest_probability"] = float(cheap[i])
            if self.n_draws > 1:
                row["ci_low"] = {m: float(ivs[m][0][i]) for m in METRICS}
                row["ci_high"] = {m: float(ivs[m][1][i]) for m in METRICS}
                row["distribution"] = {
                    m: [float(v) for v in np.quantile(dist[m][i], QUANTILES)]
                    for m in DISTRIBUTIONS
                }
            rows.append(row)
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON (``docs/compensation.md``); non-finite numbers become null."""
        return jsonable_dict(
            {
                "version": 1,
                "n_recipients": self.n_recipients,
                "draws": self.n_draws,
                "seed": self.seed,
                "interval": INTERVAL if self.n_draws > 1 else None,
                "baseline": self.names[0],
                "staff_cost": float(self.staff_cost.mean()),
                "population": dict(self.population),
                "models": self.model_dicts(),
            }
        )

    def tidy(self) -> pd.DataFrame:
        """One row per model and metric: ``model, basis, metric, value, ci_low, ci_high``."""
        rows = []
        for m in METRICS:
            v, (lo, hi) = self.value(m), self.interval(m)
            for i, name in enumerate(self.names):
                rows.append((name, self.bases[i], m, v[i], lo[i], hi[i]))
        return pd.DataFrame(
            rows, columns=["model", "basis", "metric", "value", "ci_low", "ci_high"]
        )

    def summary(self) -> str:
        """A plain table (codes and numbers; the CLI prints a worded one)."""
        t = self.tidy()
        wide = t.pivot(index="model", columns="metric", values="value").loc[
            list(self.names)
        ]
        return wide[
            [
                "cost_per_recipient",
                "provider_margin",
                "delivered_share",
                "registration_hours",
            ]
        ].to_string()


@dataclass(frozen=True)
class Tornado:
    """One-at-a-time sensitivity: for each parameter the metrics at its low and high
    quantile (``values[metric]`` is ``(P, 2, M)``) and at the centre (``(M,)``)."""

    parameters: tuple[str, ...]
    low: float
    high: float
    names: tuple[str, ...]
    centre: Mapping[str, np.ndarray]
    values: Mapping[str, np.ndarray]

    @classmethod
    def build(
        cls, res: SimulationResult, names: tuple[str, ...], low: float, high: float
    ) -> Tornado:
        """From a result whose draws are the centre then (low, high) per parameter."""
        p = len(names)
        metrics = {m: res.metric(m) for m in METRICS}
        metrics["difference_cost_per_recipient"] = res.differences()
        centre = {m: x[:, 0] for m, x in metrics.items()}
        vals = {
            m: x[:, 1:].reshape(x.shape[0], p, 2).transpose(1, 2, 0)
            for m, x in metrics.items()
        }
        return cls(names, low, high, res.names, centre, vals)

    def ranked(self, metric: str, model: int) -> list[tuple[str, float, float, float]]:
        """``(parameter, value at low, value at high, swing)``, largest swing first."""
        v = self.values[metric][:, :, model]
        swing = np.abs(v[:, 1] - v[:, 0])
        order = np.argsort(-np.nan_to_num(swing, nan=-1.0), kind="stable")
        return [
            (self.parameters[j], float(v[j, 0]), float(v[j, 1]), float(swing[j]))
            for j in order
        ]

    def flips(self, model: int) -> list[str]:
        """Parameters whose low or high value changes the sign of the model's cost
        difference from the baseline (the conclusion does not survive them)."""
        c = self.centre["difference_cost_per_recipient"][model]
        v = self.values["difference_cost_per_recipient"][:, :, model]
        if c == 0:
            return []
        return [
            self.parameters[j]
            for j in range(len(self.parameters))
            if np.any(np.sign(v[j]) == -np.sign(c))
        ]

    def to_dict(self, metric: str = "cost_per_recipient") -> dict[str, Any]:
        """Stable JSON: per model the ranked parameters and the flipping ones."""
        return jsonable_dict(
            {
                "metric": metric,
                "quantiles": [self.low, self.high],
                "models": [
                    {
                        "name": n,
                        "centre": float(self.centre[metric][i]),
                        "parameters": [
                            {"parameter": p, "low": lo, "high": hi, "swing": s}
                            for p, lo, hi, s in self.ranked(metric, i)
                        ],
                        "difference_flips": self.flips(i) if i > 0 else [],
                    }
                    for i, n in enumerate(self.names)
                ],
            }
        )

    def tidy(self, metric: str = "cost_per_recipient") -> pd.DataFrame:
        """One row per model and parameter."""
        rows = [
            (n, p, lo, hi, s)
            for i, n in enumerate(self.names)
            for p, lo, hi, s in self.ranked(metric, i)
        ]
        return pd.DataFrame(
            rows, columns=["model", "parameter", "low", "high", "swing"]
        )

    def summary(self, metric: str = "cost_per_recipient", top: int = 5) -> str:
        """The largest swings per model."""
        t = self.tidy(metric)
        return t.groupby("model", sort=False).head(top).to_string(index=False)
