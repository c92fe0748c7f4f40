"""Result of :func:`tillit.core.synth.synth`: weights, gaps, RMSPE and placebo inference."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.results import jsonable_dict
from tillit.core.synth._panel import WidePanel, py

__all__ = ["PlaceboFit", "SynthResult", "UnitFit"]


def _rmspe(g: np.ndarray) -> float:
    return float(np.sqrt(np.mean(g**2))) if len(g) else math.nan


@dataclass(frozen=True, eq=False)
class UnitFit:
    """The synthetic control of one treated unit (or of the pooled treated average)."""

    unit: str
    start: Any
    start_col: int
    weights: dict[str, float]
    v: dict[str, float]
    actual: np.ndarray
    synthetic: np.ndarray
    gap: np.ndarray
    pre_rmspe: float
    post_rmspe: float
    exact_predictor_fit: bool = False

    @property
    def ratio(self) -> float:
        """Post/pre RMSPE ratio."""
        return self.post_rmspe / self.pre_rmspe if self.pre_rmspe > 0 else math.inf

    def to_dict(self, times: np.ndarray) -> dict[str, Any]:
        """JSON shape of one fit."""
        t = times[: len(self.gap)].tolist()
        return jsonable_dict(
            {
                "unit": self.unit,
                "start": self.start,
                "weights": {k: v for k, v in self.weights.items() if v > 1e-10},
                "predictor_weights": self.v,
                "exact_predictor_fit": self.exact_predictor_fit,
                "gap": [
                    {"time": a, "gap": g} for a, g in zip(t, self.gap, strict=True)
                ],
                "actual": self.actual.tolist(),
                "synthetic": self.synthetic.tolist(),
                "pre_rmspe": self.pre_rmspe,
                "post_rmspe": self.post_rmspe,
                "ratio": self.ratio,
            }
        )


@dataclass(frozen=True, eq=False)
class PlaceboFit:
    """A donor refitted as if treated at ``start``."""

    unit: str
    start: Any
    gap: np.ndarray
    pre_rmspe: float
    post_rmspe: float

    @property
    def ratio(self) -> float:
        """Post/pre RMSPE ratio."""
        return self.post_rmspe / self.pre_rmspe if self.pre_rmspe > 0 else math.inf


@dataclass(frozen=True, eq=False)
class SynthResult:
    """Synthetic control fits with placebo inference.

    ``weights`` are the donor weights of the single treated unit, or with several treated
    units the average of their weights (the weights of the averaged synthetic control).
    ``gap`` is in calendar time with one start, else in event time (periods since start).
    """

    times: np.ndarray
    fits: tuple[UnitFit, ...]
    placebos: tuple[PlaceboFit, ...]
    p_value: float
    time_placebo: tuple[UnitFit, ...] | None
    pooled: UnitFit | None
    variant: str
    placebo: str
    seed: int | None
    donors: tuple[str, ...]
    event_time: np.ndarray
    gap: np.ndarray

    @classmethod
    def build(
        cls,
        *,
        panel: WidePanel,
        fits: tuple[UnitFit, ...],
        placebos: tuple[PlaceboFit, ...],
        p_value: float,
        time_placebo: tuple[UnitFit, ...] | None,
        pooled: UnitFit | None,
        variant: str,
        placebo: str,
        seed: int | None,
        donors: tuple[str, ...],
    ) -> SynthResult:
        """Average the gaps in event time and assemble the result."""
        T = len(panel.times)
        lo = min(-f.start_col for f in fits)
        hi = max(T - f.start_col for f in fits)
        ev = np.arange(lo, hi)
        acc = np.zeros(len(ev))
        cnt = np.zeros(len(ev))
        for f in fits:
            idx = np.arange(T) - f.start_col - lo
            acc[idx] += f.gap
            cnt[idx] += 1
        with np.errstate(invalid="ignore"):
            gap = acc / cnt
        keep = cnt == len(fits)  # event times every treated unit has
        return cls(
            np.asarray(panel.times),
            fits,
            placebos,
            p_value,
            time_placebo,
            pooled,
            variant,
            placebo,
            seed,
            donors,
            ev[keep],
            gap[keep],
        )

    @property
    def staggered(self) -> bool:
        """Whether treated units start in different periods."""
        return len({f.start_col for f in self.fits}) > 1

    @property
    def weights(self) -> dict[str, float]:
        """Donor weights (averaged over treated units)."""
        out = dict.fromkeys(self.donors, 0.0)
        for f in self.fits:
            for k, v in f.weights.items():
                out[k] += v / len(self.fits)
        return out

    @property
    def pre_rmspe(self) -> float:
        """RMSPE of the (average) gap before treatment."""
        return _rmspe(self.gap[self.event_time < 0])

    @property
    def post_rmspe(self) -> float:
        """RMSPE of the (average) gap from the start on."""
        return _rmspe(self.gap[self.event_time >= 0])

    @property
    def att(self) -> float:
        """Average post-treatment gap."""
        post = self.gap[self.event_time >= 0]
        return float(post.mean()) if len(post) else math.nan

    def _gap_times(self) -> list[Any]:
        if self.staggered:
            return list(self.event_time.tolist())
        c = self.fits[0].start_col
        return [py(self.times[int(e) + c]) for e in self.event_time]

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON: weights, gap, pre_rmspe, post_rmspe, p_value, placebo gaps."""
        d: dict[str, Any] = {
            "estimator": "synth",
            "variant": self.variant,
            "estimate": self.att,
            "weights": {k: v for k, v in self.weights.items() if v > 1e-10},
            "gap": [
                {"time": t, "event_time": int(e), "gap": g}
                for t, e, g in zip(
                    self._gap_times(), self.event_time, self.gap, strict=True
                )
            ],
            "pre_rmspe": self.pre_rmspe,
            "post_rmspe": self.post_rmspe,
            "rmspe_ratio": self.post_rmspe / self.pre_rmspe
            if self.pre_rmspe > 0
            else None,
            "p_value": self.p_value,
            "placebo": self.placebo,
            "seed": self.seed,
            "placebo_gaps": [
                {
                    "unit": p.unit,
                    "start": p.start,
                    "gap": p.gap.tolist(),
                    "pre_rmspe": p.pre_rmspe,
                    "post_rmspe": p.post_rmspe,
                    "ratio": p.ratio,
                }
                for p in self.placebos
            ],
            "fits": [f.to_dict(self.times) for f in self.fits],
        }
        if self.pooled is not None:
            d["pooled"] = self.pooled.to_dict(self.times)
        if self.time_placebo is not None:
            d["time_placebo"] = [f.to_dict(self.times) for f in self.time_placebo]
        return jsonable_dict(d)

    def tidy(self) -> pd.DataFrame:
        """One row per gap period (the average gap with several treated units)."""
        return pd.DataFrame(
            {
                "time": self._gap_times(),
                "event_time": self.event_time,
                "gap": self.gap,
                "post": self.event_time >= 0,
            }
        )

    def summary(self) -> str:
        """Text for people."""
        top = sorted(self.weights.items(), key=lambda kv: -kv[1])[:8]
        names = ", ".join(f.unit for f in self.fits)
        lines = [
            f"Synthetic control ({self.variant}) for {names}",
            f"  average post-treatment gap {self.att:.4f}",
            f"  RMSPE pre {self.pre_rmspe:.4f}, post {self.post_rmspe:.4f}",
            "  donor weights: " + ", ".join(f"{k} {v:.3f}" for k, v in top if v > 1e-4),
        ]
        for f in self.fits:
            if f.exact_predictor_fit:
                lines.append(
                    f"  {f.unit}: donors match its predictors exactly, so the predictor "
                    "weights do not matter; the donor weights are the best pre-period "
                    "fit among exact matches"
                )
        if self.placebo == "space":
            lines.append(
                f"  placebo-in-space p = {self.p_value:.4f} "
                f"({len(self.placebos)} placebo fits, post/pre RMSPE ratio)"
            )
        if self.time_placebo:
            for f in self.time_placebo:
                g = f.gap[f.start_col :]
                lines.append(
                    f"  placebo-in-time at {f.start}: mean gap {g.mean():.4f}, "
                    f"RMSPE ratio {f.ratio:.3f}"
                )
        return "\n".join(lines)

    def plot(self, kind: str = "paths", ax: Any = None) -> Any:
        """Plot ``paths`` (actual vs synthetic), ``gaps`` (with placebos) or ``weights``."""
        from tillit.core.synth.plots import plot_synth

        return plot_synth(self, kind=kind, ax=ax)
