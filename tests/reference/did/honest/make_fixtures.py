"""Rebuild the honest-DiD reference fixtures (run by hand; not collected by pytest).

Sources (see README.md):

* ``bc.json``, ``lw.json``: ``data/BCdata_EventStudy.rda`` and ``data/LWdata_EventStudy.rda``
  of github.com/asheshrambachan/HonestDiD, and the published results precomputed by the
  package authors for its vignette, ``data/VignetteResults.rda`` at commit
  fdadae33428a024df204c210da48cc5362966e89 (removed later with the vignette).
* ``medicaid.json``: the event study of HonestDiD's README (TWFE of ``dins`` on
  ``i(year, D, ref = 2013)`` with state and year effects, clustered by state, years before
  2016, the 2015 cohort dropped), re-estimated with pyfixest on ``ehec_data`` (as shipped
  by moderndid 0.2.0, ``moderndid/core/datasets/ehec_data.pkl.gz``); the published tables
  are typed from the README.

Usage::

    pip install --target /tmp/rdata rdata   # reads .rda lists; not a Tillit dependency
    PYTHONPATH=/tmp/rdata python make_fixtures.py /path/to/HonestDiD.git
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
VIGNETTE_COMMIT = "fdadae33428a024df204c210da48cc5362966e89"


def _rda(repo: str, rev: str, path: str) -> dict[str, Any]:
    import rdata  # type: ignore[import-not-found]

    raw = subprocess.run(
        ["git", "-C", repo, "show", f"{rev}:{path}"], capture_output=True, check=True
    ).stdout
    return _pairlist(rdata.parser.parse_data(raw).object)


def _name(tag: Any) -> str:
    if tag.info.type.name == "REF":
        tag = tag.referenced_object
    return str(tag.value.value.decode())


def _attrs(o: Any) -> dict[str, Any]:
    out, a = {}, o.attributes
    while a is not None and a.info.type.name == "LIST":
        out[_name(a.tag)] = a.value[0]
        a = a.value[1]
    return out


def _conv(o: Any) -> Any:
    t, at = o.info.type.name, _attrs(o)
    if t == "VEC":
        vals = [_conv(x) for x in o.value]
        return (
            dict(zip(_conv(at["names"]), vals, strict=True)) if "names" in at else vals
        )
    if t in ("REAL", "INT", "LGL"):
        v = np.asarray(o.value)
        if "dim" in at:
            v = v.reshape([int(x) for x in _conv(at["dim"])], order="F")
        return v.tolist()
    if t == "STR":
        return [x.value.decode() if x.value is not None else None for x in o.value]
    return None


def _pairlist(root: Any) -> dict[str, Any]:
    out, a = {}, root
    while a is not None and a.info.type.name == "LIST":
        out[_name(a.tag)] = _conv(a.value[0])
        a = a.value[1]
    return out


def _medicaid() -> dict[str, Any]:
    import pandas as pd
    import pyfixest as pf  # type: ignore[import-untyped]
    from moderndid.core import datasets  # type: ignore[import-untyped]

    df = pd.read_pickle(Path(datasets.__file__).parent / "ehec_data.pkl.gz")
    d = df[(df.year < 2016) & (df.yexp2.isna() | (df.yexp2 != 2015))].copy()
    d["D"] = (d.yexp2 == 2014).astype(int)
    fit = pf.feols(
        "dins ~ i(year, D, ref=2013) | stfips + year", data=d, vcov={"CRV1": "stfips"}
    )
    return {"betahat": fit.coef().tolist(), "sigma": np.asarray(fit._vcov).tolist()}


def main(repo: str) -> None:
    vr = _rda(repo, VIGNETTE_COMMIT, "data/VignetteResults.rda")["VignetteResults"]
    bc = _rda(repo, "HEAD", "data/BCdata_EventStudy.rda")["BCdata_EventStudy"]
    lw = _rda(repo, "HEAD", "data/LWdata_EventStudy.rda")["LWdata_EventStudy"]
    keep = ("betahat", "sigma", "timeVec", "referencePeriod")
    bc_out = {k: bc[k] for k in keep}
    bc_out["DeltaSDNB_CF"] = vr["BC_DeltaSDNB_RobustResults"]
    lw_out = {k: lw[k] for k in keep}
    lw_out["DeltaSD_FLCI"] = vr["LW_DeltaSD_RobustResults"]
    for name, obj in (("bc.json", bc_out), ("lw.json", lw_out)):
        (HERE / name).write_text(json.dumps(obj, indent=1) + "\n")
    med = json.loads((HERE / "medicaid.json").read_text())
    med.update(_medicaid())
    (HERE / "medicaid.json").write_text(json.dumps(med, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
