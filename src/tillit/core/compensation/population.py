"""Recipients of home care: a year's population as arrays, read or generated.

A :class:`Population` holds one value per recipient (all monthly figures): granted
hours, the share of personal care (the rest is service), the shares of personal care
given in the evening and at night, planned visits, travel minutes per visit, the
provider type and a latent *complexity* ``z`` (standard normal: how much longer than
average a granted hour takes with this recipient).  Recipients are kept sorted by
provider type so that the engine sums each provider's recipients as one slice.

:func:`generate_population` draws a realistic population from a municipality's Kolada
home-care indicators: the number of recipients, mean granted hours per recipient and
month (N21826), the share with 120 or more granted hours (N21706) and the share in
private provision (N21804).  Granted hours follow a gamma distribution whose mean is
N21826 and whose upper tail matches N21706 (the shape is solved for; the default shape
when N21706 is missing is an assumption, see ``docs/compensation.md``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaincc

from tillit.core.compensation.codes import PROVIDERS
from tillit.core.errors import DataError

__all__ = [
    "MAX_RECIPIENTS",
    "Population",
    "gamma_shape_for_tail",
    "gamma_tail",
    "generate_population",
    "population_from_frame",
]

MAX_RECIPIENTS = 200_000
HEAVY_HOURS = 120.0  # N21706: recipients with 120+ granted hours a month
DEFAULT_SHAPE = 1.1  # gamma shape when N21706 is unknown (assumption)
PLANNED_VISIT_MINUTES = 30.0  # median planned visit length (assumption)
_COLUMNS = {
    "granted_hours": (0.0, 744.0),
    "personal_care_share": (0.0, 1.0),
    "evening_share": (0.0, 1.0),
    "night_share": (0.0, 1.0),
    "visits_per_month": (0.0, 3000.0),
    "travel_minutes": (0.0, 240.0),
    "complexity": (-10.0, 10.0),
}


@dataclass(frozen=True)
class Population:
    """One value per recipient; build with :func:`population_from_frame` or
    :func:`generate_population` (they validate and sort by provider)."""

    granted_hours: np.ndarray
    personal_share: np.ndarray
    evening_share: np.ndarray
    night_share: np.ndarray
    visits: np.ndarray
    travel_minutes: np.ndarray
    provider: np.ndarray
    complexity: np.ndarray
    noise: np.ndarray
    uniform: np.ndarray
    ids: tuple[str, ...] = ()
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n(self) -> int:
        """Number of recipients."""
        return int(self.granted_hours.size)

    def slices(self) -> list[slice]:
        """The contiguous slice of each provider type (in :data:`PROVIDERS` order)."""
        counts = np.bincount(self.provider, minlength=len(PROVIDERS))
        edges = np.concatenate([[0], np.cumsum(counts)])
        return [slice(int(a), int(b)) for a, b in itertools.pairwise(edges)]

    def summary_dict(self) -> dict[str, Any]:
        """Counts and means for reports (stable keys)."""
        counts = np.bincount(self.provider, minlength=len(PROVIDERS))
        return {
            "n_recipients": self.n,
            "source": self.source,
            "granted_hours_per_month_mean": float(self.granted_hours.mean()),
            "visits_per_month_mean": float(self.visits.mean()),
            "share_heavy": float(np.mean(self.granted_hours >= HEAVY_HOURS)),
            "providers": {p: int(c) for p, c in zip(PROVIDERS, counts, strict=True)},
            "notes": list(self.notes),
        }


def _make(
    data: dict[str, np.ndarray],
    ids: tuple[str, ...],
    source: str,
    notes: tuple[str, ...],
) -> Population:
    return Population(
        granted_hours=data["granted_hours"],
        personal_share=data["personal_share"],
        evening_share=data["evening_share"],
        night_share=data["night_share"],
        visits=data["visits"],
        travel_minutes=data["travel_minutes"],
        provider=data["provider"],
        complexity=data["complexity"],
        noise=data["noise"],
        uniform=data["uniform"],
        ids=ids,
        source=source,
        notes=notes,
    )


def _sorted(
    cols: dict[str, np.ndarray], provider: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    order = np.argsort(provider, kind="stable")
    out = {k: np.ascontiguousarray(v[order]) for k, v in cols.items()}
    out["provider"] = np.ascontiguousarray(provider[order].astype(np.int64))
    n = provider.size
    out["noise"] = rng.standard_normal(n)
    out["uniform"] = rng.random(n)
    return out


def _evening_night(hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Evening and night shares of personal care by need (assumption, docs)."""
    evening = np.where(hours >= 60, 0.30, np.where(hours >= 20, 0.20, 0.10))
    night = np.where(hours >= 90, 0.10, 0.0)
    return evening, night


def _visits(hours: np.ndarray, minutes: float = PLANNED_VISIT_MINUTES) -> np.ndarray:
    return np.maximum(1.0, np.round(hours * 60.0 / minutes))


def population_from_frame(
    df: pd.DataFrame, *, source: str = "", seed: int = 0
) -> Population:
    """Validate a recipients table (one row per recipient) into a :class:`Population`.

    Columns: ``granted_hours`` (required, hours a month) and optionally
    ``personal_care_share``, ``evening_share``, ``night_share``, ``visits_per_month``,
    ``travel_minutes``, ``provider`` (``in_house``, ``for_profit``, ``non_profit``),
    ``complexity`` and ``id``.  Missing optional columns take the documented defaults.

    Raises
    ------
    DataError
        Naming ``source``, the 1-based row and the column of the first bad cell.
    """
    if "granted_hours" not in df.columns:
        raise DataError(
            "the column 'granted_hours' is required", file=source, field="granted_hours"
        )
    n = len(df)
    if n == 0:
        raise DataError("no recipients", file=source)
    if n > MAX_RECIPIENTS:
        raise DataError(f"more than {MAX_RECIPIENTS} recipients", file=source)
    cols: dict[str, np.ndarray] = {}
    for name, (lo, hi) in _COLUMNS.items():
        if name not in df.columns:
            continue
        raw = df[name]
        vals = pd.to_numeric(
            raw.astype(str).str.replace(",", ".", regex=False).str.strip(),
            errors="coerce",
        ).to_numpy(dtype=float)
        bad = ~np.isfinite(vals) | (vals < lo) | (vals > hi)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(
                f"{raw.iloc[i]!r} is not a number between {lo:g} and {hi:g}",
                file=source, row=i + 1, field=name,
            )  # fmt: skip
        cols[name] = vals
    hours = cols["granted_hours"]
    ev_default, night_default = _evening_night(hours)
    personal = cols.get("personal_care_share", np.full(n, 0.75))
    evening = cols.get("evening_share", ev_default)
    night = cols.get("night_share", night_default)
    over = evening + night > 1.0 + 1e-12
    if over.any():
        i = int(np.argmax(over))
        raise DataError(
            "evening_share + night_share exceeds 1",
            file=source,
            row=i + 1,
            field="night_share",
        )
    visits = cols.get("visits_per_month", _visits(hours))
    zero = (visits <= 0) & (hours > 0)
    if zero.any():
        i = int(np.argmax(zero))
        raise DataError(
            "a recipient with granted hours needs at least one visit",
            file=source,
            row=i + 1,
            field="visits_per_month",
        )
    provider = np.zeros(n, dtype=np.int64)
    if "provider" in df.columns:
        codes = (
            df["provider"].astype(str).str.strip().str.lower().replace({"": "in_house"})
        )
        for i, c in enumerate(codes):
            if c not in PROVIDERS:
                raise DataError(
                    f"unknown provider {c!r} (use {', '.join(PROVIDERS)})",
                    file=source, row=i + 1, field="provider",
                )  # fmt: skip
        provider = np.array([PROVIDERS.index(c) for c in codes], dtype=np.int64)
    rng = np.random.default_rng(seed)
    complexity = cols.get("complexity", rng.standard_normal(n))
    travel = cols.get("travel_minutes", np.full(n, 10.0))
    ids = (
        df["id"].astype(str).to_numpy()
        if "id" in df.columns
        else np.arange(1, n + 1).astype(str)
    )
    data = _sorted(
        {"granted_hours": hours, "personal_share": personal, "evening_share": evening,
         "night_share": night, "visits": visits, "travel_minutes": travel,
         "complexity": complexity, "ids": ids},
        provider, rng,
    )  # fmt: skip
    ids_sorted = tuple(str(x) for x in data.pop("ids"))
    return _make(data, ids_sorted, source, ())


def gamma_tail(x: float, shape: float | np.ndarray, mean: float) -> np.ndarray:
    """``P(X >= x)`` for a gamma distribution with ``shape`` and ``mean``."""
    k = np.asarray(shape, dtype=float)
    return np.asarray(gammaincc(k, x * k / mean))


def gamma_shape_for_tail(
    mean: float, tail: float, threshold: float = HEAVY_HOURS
) -> float:
    """The gamma shape ``k`` with mean ``mean`` and ``P(X >= threshold) = tail``.

    A gamma distribution with a given mean has a largest possible tail share; for a
    larger ``tail`` the shape that comes closest (the one giving the largest tail) is
    returned.

    Examples
    --------
    >>> k = gamma_shape_for_tail(30.0, 0.05)
    >>> round(float(gamma_tail(120.0, k, 30.0)), 6)
    0.05
    """
    from scipy import optimize

    if not (0 < tail < 1) or mean <= 0:
        raise DataError(
            "the tail share must be strictly between 0 and 1 and the mean positive"
        )

    def gap(logk: float) -> float:
        k = float(np.exp(logk))
        return float(gamma_tail(threshold, k, mean)) - tail

    lo, hi = np.log(0.05), np.log(200.0)
    grid = np.linspace(lo, hi, 241)
    tails = gamma_tail(threshold, np.exp(grid), mean)
    j = int(np.argmax(tails))
    a, b = grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]
    top = float(
        optimize.minimize_scalar(
            lambda lk: -gap(lk),
            bounds=(a, b),
            method="bounded",
            options={"xatol": 1e-10},
        ).x
    )
    if (
        gap(top) <= 0
    ):  # even the heaviest gamma tail is lighter: come as close as possible
        return float(np.exp(top))
    # the tail falls with the shape to the right of the maximum: one root there
    return float(np.exp(optimize.brentq(gap, top, hi, xtol=1e-12)))


def generate_population(
    n: int,
    *,
    mean_hours: float,
    share_heavy: float | None = None,
    private_share: float = 0.0,
    non_profit_share_of_private: float = 0.1,
    travel_minutes: float = 10.0,
    seed: int = 0,
    source: str = "generated",
) -> Population:
    """Draw ``n`` recipients from home-care indicators (gamma-distributed hours).

    Parameters
    ----------
    n
        Number of recipients (1 to 200 000).
    mean_hours
        Mean granted hours per recipient and month (Kolada N21826).
    share_heavy
        Share with 120+ granted hours a month (N21706, as a share 0-1); None: the
        default shape.
    private_share
        Share of recipients with a private provider (N21804 / 100).
    non_profit_share_of_private
        Share of the private recipients with a non-profit provider (assumption).
    travel_minutes
        Mean travel minutes per visit (exponentially spread around the mean).

    Examples
    --------
    >>> pop = generate_population(2000, mean_hours=30.0, share_heavy=0.05, seed=1)
    >>> pop.n, round(float(pop.granted_hours.mean()))
    (2000, 30)
    """
    if not 1 <= n <= MAX_RECIPIENTS:
        raise DataError(
            f"the number of recipients must be between 1 and {MAX_RECIPIENTS}",
            field="n",
        )
    if not 0 < mean_hours <= 744:
        raise DataError(
            "mean granted hours must be between 0 and 744 a month", field="mean_hours"
        )
    for name, v in (
        ("private_share", private_share),
        ("non_profit_share_of_private", non_profit_share_of_private),
    ):
        if not 0 <= v <= 1:
            raise DataError("must be a share between 0 and 1", field=name)
    notes = []
    shape = DEFAULT_SHAPE
    if share_heavy is not None and 0 < share_heavy < 1:
        shape = gamma_shape_for_tail(mean_hours, share_heavy)
        got = float(gamma_tail(HEAVY_HOURS, shape, mean_hours))
        if abs(got - share_heavy) > 0.1 * share_heavy:
            notes.append(
                f"share_heavy {share_heavy:.3f} exceeds what a gamma with this mean allows; {got:.3f} used"
            )
    else:
        notes.append("share_heavy unknown: gamma shape 1.1 assumed")
    rng = np.random.default_rng(seed)
    hours = rng.gamma(shape, mean_hours / shape, size=n)
    hours = np.clip(hours, 0.25, 744.0)
    hours *= mean_hours / hours.mean()  # the indicator's mean exactly
    personal = np.clip(0.45 + 0.45 * hours / (hours + 20.0), 0.0, 1.0)
    evening, night = _evening_night(hours)
    visits = _visits(hours)
    travel = rng.exponential(travel_minutes, size=n).clip(1.0, 120.0)
    u = rng.random(n)
    provider = np.where(u < private_share * (1 - non_profit_share_of_private), 1, 0)
    provider = np.where(
        (u >= private_share * (1 - non_profit_share_of_private)) & (u < private_share),
        2,
        provider,
    )
    data = _sorted(
        {"granted_hours": hours, "personal_share": personal, "evening_share": evening,
         "night_share": night, "visits": visits, "travel_minutes": travel,
         "complexity": rng.standard_normal(n)},
        provider.astype(np.int64), rng,
    )  # fmt: skip
    return _make(data, (), source, tuple(notes))
