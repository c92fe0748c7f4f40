from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from tillit.core.errors import DataError
from tillit.domain.registry import (
    GENESIS,
    diff_content,
    entry_hash,
    make_entry,
    read_jsonl,
    verify_chain,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PLAN = {
    "title": "Tillitsbaserad hemtjänst",
    "outcomes": {"primary": ["N00945"]},
    "mde": 0.2,
}


def _chain() -> list[dict]:
    e1 = make_entry(
        None,
        pilot_id="P1",
        version=1,
        kind="registration",
        content=PLAN,
        registered_at=T0,
    )
    e2 = make_entry(
        e1,
        pilot_id="P2",
        version=1,
        kind="registration",
        content={"title": "x"},
        registered_at=T0 + timedelta(days=1),
    )
    amended = copy.deepcopy(PLAN)
    amended["outcomes"]["secondary"] = ["U21468"]
    e3 = make_entry(
        e2,
        pilot_id="P1",
        version=2,
        kind="amendment",
        content=amended,
        reason="added a secondary outcome",
        registered_at=T0 + timedelta(days=2),
    )
    e4 = make_entry(
        e3,
        pilot_id="P1",
        version=2,
        kind="conclusion",
        content={"verdict": "no effect"},
        registered_at=T0 + timedelta(days=3),
    )
    return [e1, e2, e3, e4]


def test_valid_chain_verifies() -> None:
    chain = _chain()
    rep = verify_chain(chain)
    assert rep.ok and rep.n_entries == 4 and rep.n_pilots == 2
    assert rep.head == chain[-1]["hash"]
    assert chain[0]["prev_hash"] == GENESIS


def test_hash_is_sha256_of_canonical_json() -> None:
    e = _chain()[0]
    body = {
        k: e[k]
        for k in (
            "seq",
            "pilot_id",
            "version",
            "kind",
            "registered_at",
            "content",
            "reason",
            "prev_hash",
        )
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert e["hash"] == hashlib.sha256(text.encode()).hexdigest() == entry_hash(e)


@pytest.mark.parametrize(
    ("mutate", "expect"),
    [
        (lambda c: c[0]["content"].__setitem__("mde", 0.1), "changed after"),
        (lambda c: c.pop(1), "sequence number"),
        (
            lambda c: [e.__setitem__("seq", e["seq"] - 1) for e in c[2:]] and c.pop(1),
            "does not link",
        ),
        (lambda c: c.reverse(), "sequence"),
        (lambda c: c[2].__setitem__("reason", "other reason"), "changed after"),
    ],
)
def test_any_tampering_is_detected(mutate, expect) -> None:  # type: ignore[no-untyped-def]
    chain = _chain()
    mutate(chain)
    rep = verify_chain(chain)
    assert not rep.ok and expect in rep.problem


def test_rehashing_a_changed_entry_still_breaks_the_next_link() -> None:
    chain = _chain()
    chain[0]["content"]["mde"] = 0.1
    chain[0]["hash"] = entry_hash(chain[0])
    rep = verify_chain(chain)
    assert not rep.ok and rep.bad_seq == 2


def test_amendment_needs_reason_and_versions_must_follow() -> None:
    e1 = _chain()[0]
    with pytest.raises(DataError, match="reason"):
        make_entry(e1, pilot_id="P1", version=2, kind="amendment", content=PLAN)
    skip = make_entry(
        e1, pilot_id="P1", version=3, kind="amendment", content=PLAN, reason="r"
    )
    assert not verify_chain([e1, skip]).ok


def test_nan_is_refused() -> None:
    with pytest.raises(DataError):
        make_entry(
            None,
            pilot_id="P",
            version=1,
            kind="registration",
            content={"x": float("nan")},
        )


def test_jsonl_round_trip_and_diff() -> None:
    chain = _chain()
    text = "\n".join(json.dumps(e, ensure_ascii=False) for e in chain)
    assert verify_chain(read_jsonl(text)).ok
    with pytest.raises(DataError, match="row 2"):
        read_jsonl('{"a":1}\n{not json')
    changes = diff_content(chain[0]["content"], chain[2]["content"])
    assert [(c.path, c.kind) for c in changes] == [("outcomes.secondary", "added")]


def test_cli_verify(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from tillit.cli.main import main

    chain = _chain()
    good = tmp_path / "r.jsonl"
    good.write_text("\n".join(json.dumps(e) for e in chain), encoding="utf-8")
    res = CliRunner().invoke(main, ["registry", "verify", str(good)])
    assert res.exit_code == 0 and "intact" in res.output
    chain[1]["content"]["title"] = "y"
    bad = tmp_path / "b.jsonl"
    bad.write_text("\n".join(json.dumps(e) for e in chain), encoding="utf-8")
    res = CliRunner().invoke(main, ["registry", "verify", str(bad)])
    assert res.exit_code == 1 and "entry 2 was changed" in res.output
    res = CliRunner().invoke(main, ["registry", "verify", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "file not found" in res.output
