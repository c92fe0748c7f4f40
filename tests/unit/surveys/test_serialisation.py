"""Instruments stored as JSON and an organisation's own questions."""

from __future__ import annotations

import pytest

from tillit.core.errors import DataError
from tillit.core.survey import CITIZEN, STAFF
from tillit.services.surveys import (
    hash_code,
    instrument_from_json,
    instrument_to_json,
    parse_extra_questions,
)


@pytest.mark.parametrize("inst", [STAFF, CITIZEN])
def test_instrument_round_trip(inst) -> None:
    assert instrument_from_json(instrument_to_json(inst)) == inst


def test_extended_instrument_round_trip() -> None:
    extra = parse_extra_questions(
        "own1 | likert | local | Vi hinner. | We have time.\n\n"
        "own2 | number | hours | Timmar | Hours"
    )
    ext = STAFF.extend(extra, new_id="staff+0180")
    back = instrument_from_json(instrument_to_json(ext))
    assert back == ext and back.version == 2
    assert back.question("own2").high == 1000.0


@pytest.mark.parametrize(
    "text,field",
    [("own1 | likert | x", "questions"), ("bad id! | likert | x | a | b", "id")],
)
def test_extra_question_errors_name_the_line(text: str, field: str) -> None:
    with pytest.raises(DataError) as e:
        parse_extra_questions(text)
    assert e.value.row == 1 and e.value.field == field


def test_codes_are_hashed() -> None:
    h = hash_code("abc")
    assert len(h) == 64 and h != "abc" and hash_code(" abc ") == h
