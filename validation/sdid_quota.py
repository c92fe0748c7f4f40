"""Print Tillit's SDID on the gender-quota example beside the pinned published figures.

Usage: python validation/sdid_quota.py PATH/TO/quota_example.dta
(``tests/reference/synth/sdid_quota.json`` says where the file and the figures come from.)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

from tillit.core.synth import sdid

PIN = json.loads(
    (Path(__file__).parents[1] / "tests/reference/synth/sdid_quota.json").read_text()
)


def main(path: str) -> None:
    """Run the three pinned fits and print published, ours and the difference."""
    raw = pd.read_stata(path)
    for c in ("womparl", "lngdp", "quota"):
        raw[c] = raw[c].astype(float)
    for key, cov, method in (
        ("staggered", [], "optimized"),
        ("covariates_projected", ["lngdp"], "projected"),
        ("covariates_optimized", ["lngdp"], "optimized"),
    ):
        d = raw[raw.lngdp.notna()] if cov else raw
        first = d[d.quota == 1].groupby("country").year.min()
        t = time.perf_counter()
        res = sdid(
            d,
            outcome="womparl",
            unit="country",
            time="year",
            treated_units=list(first.index),
            treatment_start=first.to_dict(),
            variance="none",
            covariates=cov,
            covariate_method=method,
        )
        pub = PIN[key]["att"]
        est = res.estimate.estimate
        print(
            f"{key:22s} published {pub:.5f}  ours {est:.6f}  diff {est - pub:+.2e}  "
            f"({time.perf_counter() - t:.1f} s)"
        )


if __name__ == "__main__":
    main(sys.argv[1])
