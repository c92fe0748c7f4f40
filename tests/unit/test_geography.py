from tillit.domain.geography import geography, municipalities
from tillit.domain.records import org_kind_for_code, parse_period


def test_all_290_municipalities_with_counties_and_groups() -> None:
    m = municipalities()
    assert len(m) == 290
    assert m["code"].str.fullmatch(r"\d{4}").all()
    assert (m["county_code"] == m["code"].str[:2]).all()
    assert (m["skr_group_code"] != "").all()
    assert m.set_index("code").loc["0180", "name"] == "Stockholm"
    assert (geography()["kind"] == "region").sum() == 21


def test_code_kinds_and_periods() -> None:
    assert org_kind_for_code("0000") == "country"
    assert org_kind_for_code("0001") == "region"
    assert org_kind_for_code("0180") == "municipality"
    assert parse_period("2024") == (2024, 0)
    assert parse_period("2024-03") == (2024, 3)
    for bad in ("2024-13", "24", "1800", "2024-3", "abcd"):
        assert parse_period(bad) is None
