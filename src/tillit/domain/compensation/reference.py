"""Year-dependent reference values from the pinned facts: SKR's rate and staff cost.

* :func:`reference_rate` - SKR's average LOV rate for daytime personal care, kronor per
  hour: the surveys' 2013, 2016 and 2019 means, linear in between, and the 2016-2019
  trend carried beyond (an assumption, stated in ``docs/compensation.md``);
* :func:`staff_cost` - the default staff cost per hour (283 kr in 2019) moved with the
  assistant nurses' monthly wage of the year (2014-2022; the nearest year outside).
"""

from __future__ import annotations

from tillit.core.compensation import DEFAULTS
from tillit.domain.compensation.spec import facts

__all__ = ["BASE_WAGE_YEAR", "reference_rate", "staff_cost", "travel_minutes_for_group"]

BASE_WAGE_YEAR = 2019


def reference_rate(year: int) -> float:
    """SKR's average daytime personal-care rate for ``year`` (kr per hour).

    >>> reference_rate(2016), reference_rate(2019), round(reference_rate(2022), 1)
    (377.0, 426.0, 475.0)
    """
    r = facts()["facts"]["skr_rates"]
    pts = sorted((int(y), float(v["mean"])) for y, v in r.items() if y.isdigit())
    if year <= pts[0][0]:
        (y0, v0), (y1, v1) = pts[0], pts[1]
    elif year >= pts[-1][0]:
        (y0, v0), (y1, v1) = pts[-2], pts[-1]
    else:
        i = next(k for k in range(1, len(pts)) if pts[k][0] >= year)
        (y0, v0), (y1, v1) = pts[i - 1], pts[i]
    return v0 + (v1 - v0) * (year - y0) / (y1 - y0)


def staff_cost(year: int) -> float:
    """Staff cost per hour for ``year``: the default prior mean scaled by wages.

    >>> staff_cost(2019) == DEFAULTS["staff_cost"][0][0]
    True
    """
    w = facts()["facts"]["assistant_nurse_wage"]
    wages = {int(y): float(v) for y, v in w.items() if y.isdigit()}
    y = min(max(year, min(wages)), max(wages))
    return DEFAULTS["staff_cost"][0][0] * wages[y] / wages[BASE_WAGE_YEAR]


_GROUP_TRAVEL = (
    ("storstäder", 6.0),
    ("pendlingskommun nära storstad", 9.0),
    ("större stad", 9.0),
    ("lågpendlingskommun", 14.0),
    ("pendlingskommun nära större stad", 11.0),
    ("mindre stad", 13.0),
    ("pendlingskommun nära mindre", 15.0),
    ("besöksnäring", 22.0),
    ("landsbygd", 20.0),
)


def travel_minutes_for_group(skr_group: str) -> float:
    """Mean travel minutes per visit for an SKR municipality group (assumption, docs).

    >>> travel_minutes_for_group("Storstäder"), travel_minutes_for_group("Landsbygdskommun med besöksnäring")
    (6.0, 22.0)
    >>> travel_minutes_for_group("")
    12.0
    """
    name = skr_group.strip().lower()
    for key, minutes in _GROUP_TRAVEL:
        if key in name:
            return minutes
    return 12.0
