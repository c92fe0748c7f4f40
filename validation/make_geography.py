"""Build src/tillit/domain/data/geography.csv from ../shared/data (facts: codes and names).

Run: .venv/bin/python validation/make_geography.py
Sources: municipalities_se (CC0) for municipalities and counties; Kolada metadata for
regions and the SKR municipality groups 2023.
"""

from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
OUT = REPO / "src" / "tillit" / "domain" / "data" / "geography.csv"


def main() -> None:
    read = {"dtype": str, "keep_default_na": False}
    mun = pd.read_csv(SHARED / "municipalities_se" / "municipality_county.csv", **read)
    skr = pd.read_csv(
        SHARED / "kolada_metadata_v3_2026" / "kommungrupp_skr2023.csv", **read
    )
    kol = pd.read_csv(SHARED / "kolada_metadata_v3_2026" / "municipality.csv", **read)
    m = mun.merge(
        skr, left_on="municipality_code", right_on="municipality_id", how="left"
    )
    rows = [
        {
            "code": r.municipality_code,
            "name": r.municipality_name_short,
            "kind": "municipality",
            "county_code": r.county_code,
            "county_name": r.county_name,
            "skr_group_code": r.group_code,
            "skr_group": r.kommungrupp,
            "skr_main_group": r.huvudgrupp,
            "skr_kolada_group_id": r.kolada_group_id,
        }
        for r in m.itertuples()
    ]
    counties = mun.drop_duplicates("county_code").set_index("county_code")[
        "county_name"
    ]
    for r in kol[kol["type"] == "L"].itertuples():
        kind = "country" if r.id == "0000" else "region"
        cc = "" if kind == "country" else r.id[2:]
        rows.append(
            {
                "code": r.id,
                "name": r.title,
                "kind": kind,
                "county_code": cc,
                "county_name": counties.get(cc, ""),
                "skr_group_code": "",
                "skr_group": "",
                "skr_main_group": "",
                "skr_kolada_group_id": "",
            }
        )
    out = pd.DataFrame(rows).sort_values("code")
    assert (out.kind == "municipality").sum() == 290
    out.to_csv(OUT, index=False)
    print(f"wrote {OUT} ({len(out)} rows)")


if __name__ == "__main__":
    main()
