"""Property tests: malformed CSV/JSON never raises anything but DataError."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tillit.core.errors import DataError
from tillit.sources.frame import normalise_observations
from tillit.sources.readers import read_observations

GOOD_CSV = (
    "indicator,municipality,period,gender,value,count,status\n"
    "N00945,0180,2020,T,1.5,1,\n"
    "N00945,1480,2020-03,K,,0,Missing\n"
)
GOOD_JSON = json.dumps(
    {
        "count": 1,
        "values": [
            {
                "kpi": "N00945",
                "municipality": "0180",
                "period": 2020,
                "values": [{"gender": "T", "status": "", "value": 1.5, "count": 1}],
            }
        ],
    }
)


def parse(data: bytes, fmt: str) -> None:
    """Read and check; only DataError may escape."""
    try:
        df = read_observations(data, fmt, filename="fuzz")
        normalise_observations(df, file="fuzz")
    except DataError as err:
        assert err.message  # a message a person can act on
        assert "Traceback" not in err.message


def mutate(base: str, draw_ops: list[tuple[int, int, str]]) -> bytes:
    b = bytearray(base.encode("utf-8"))
    for pos, cut, insert in draw_ops:
        p = pos % (len(b) + 1)
        b[p : p + cut] = insert.encode("utf-8", "surrogatepass") if insert else b""
    return bytes(b)


ops = st.lists(
    st.tuples(
        st.integers(0, 400),
        st.integers(0, 4),
        st.sampled_from(
            [
                "",
                ",",
                ";",
                "\n",
                '"',
                "{",
                "}",
                "[",
                "]",
                "null",
                "x",
                "-",
                "1e999",
                "\x00",
                "ä",
                ":",
                "9",
            ]
        ),
    ),
    max_size=6,
)

pytestmark = pytest.mark.slow

SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(ops)
def test_mutated_csv(o: list[tuple[int, int, str]]) -> None:
    parse(mutate(GOOD_CSV, o), "csv")


@SETTINGS
@given(ops)
def test_mutated_json(o: list[tuple[int, int, str]]) -> None:
    parse(mutate(GOOD_JSON, o), "kolada-json")


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from(["csv", "kolada-json"]))
def test_random_bytes(data: bytes, fmt: str) -> None:
    parse(data, fmt)


json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=5), inner, max_size=3),
    ),
    max_leaves=8,
)
entry = st.fixed_dictionaries(
    {},
    optional={
        "kpi": json_value,
        "municipality": json_value,
        "ou": json_value,
        "period": json_value,
        "values": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "gender": json_value,
                    "value": json_value,
                    "count": json_value,
                    "status": json_value,
                },
            ),
            max_size=3,
        )
        | json_value,
    },
)


@SETTINGS
@given(st.lists(entry | json_value, max_size=4))
def test_structurally_random_kolada_json(entries: list[object]) -> None:
    parse(json.dumps({"values": entries}).encode(), "kolada-json")


@pytest.mark.parametrize("fmt", ["csv", "kolada-json"])
def test_good_inputs_parse(fmt: str) -> None:
    data = GOOD_CSV if fmt == "csv" else GOOD_JSON
    df = normalise_observations(read_observations(data.encode(), fmt))
    assert len(df) >= 1
