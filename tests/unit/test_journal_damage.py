"""A damaged journal line is skipped by every reader with one warning naming the file and the
line, and ``journal verify`` reports it; a head file deleted with the last lines is reported."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from core.monitor.calls import load_calls
from core.signals import journal, journal_chain
from tests.unit.test_journal import HOUR, START, candles, make_signal

DAMAGE = {
    b"[1,2,3]": "it is JSON a list, not an object",
    b'\xff\xfe{"id": "x"}': "it is not valid UTF-8 (byte 1)",
}


def _record_three(home: Path) -> Path:
    journal.record(home, [make_signal(candle=k) for k in range(3)])
    return home / "journal" / "signals.jsonl"


def _without(line: bytes, field: str) -> bytes:
    row = json.loads(line)
    row.pop(field)
    row["id"] = "f" * 16  # not a duplicate of the entry it was copied from
    return json.dumps(row).encode()


def _damage(path: Path) -> list[bytes]:
    """Append a list, bad UTF-8 and an entry without its price (lines 4, 5, 6)."""
    first = path.read_bytes().split(b"\n")[0]
    lines = [*DAMAGE, _without(first, "price")]
    with open(path, "ab") as handle:
        handle.write(b"".join(line + b"\n" for line in lines))
    return lines


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_every_reader_skips_a_damaged_line_with_one_warning_naming_file_and_line(
    home: Path, caplog: pytest.LogCaptureFixture
):
    path = _record_three(home)
    _damage(path)
    caplog.set_level(logging.WARNING, logger="core.signals.journal")

    assert len(journal.entries(home)) == 3
    warned = _warnings(caplog)
    assert len(warned) == 3
    for number, why in zip((4, 5, 6), [*DAMAGE.values(), "it has no price"], strict=True):
        assert any(f"{path} line {number} is not a journal entry ({why})" in w for w in warned)

    # the other readers carry on, and the same line is not warned about twice in one process
    assert (
        journal.hit_rates(journal.entries(home)).set_index("symbol").loc["BTCUSDT", "signals"] == 3
    )
    assert len(load_calls(home, lookup=lambda symbol, interval: None)) == 3
    closes = np.full(20, 100.0)
    closes[6:] = 101.0
    assert journal.resolve(home, {"BTCUSDT": candles(closes)}) == 3
    assert journal.record(home, [make_signal(candle=5)]) == 1
    assert len(journal.entries(home)) == 4
    assert len(_warnings(caplog)) == 3


def test_a_damaged_outcome_line_is_skipped_and_the_signal_stays_pending(
    home: Path, caplog: pytest.LogCaptureFixture
):
    _record_three(home)
    outcomes = home / "journal" / "outcomes.jsonl"
    bad = {"id": journal.entries(home)["id"].iloc[0], "status": "hit", "exit_time": "soon"}
    bad |= {"exit_close": 1.0, "move": 0.01, "resolved_at": START.isoformat()}
    outcomes.write_text(json.dumps(bad) + "\n")
    caplog.set_level(logging.WARNING, logger="core.signals.journal")
    assert set(journal.entries(home)["status"]) == {"pending"}
    assert _warnings(caplog) == [
        f"warning: {outcomes} line 1 is not a journal entry (its exit_time 'soon' is not an "
        "ISO time); skipped. `python -m core journal verify` checks the whole journal."
    ]


def test_verify_reports_each_damaged_line_as_a_problem_not_a_note(home: Path):
    path = _record_three(home)
    _damage(path)
    report = journal.verify(home)[0]
    assert not report.ok
    assert report.problems == [
        "line 4 is not a journal entry: it is JSON a list, not an object; readers skip it.",
        "line 5 is not a journal entry: it is not valid UTF-8 (byte 1); readers skip it.",
        "line 6 is not a journal entry: it has no price; readers skip it.",
    ]
    assert report.notes == [] and report.entries == 3


def test_deleting_the_last_line_with_its_head_file_is_reported(home: Path):
    path = _record_three(home)
    path.write_bytes(b"".join(line + b"\n" for line in path.read_bytes().split(b"\n")[:2]))
    journal_chain.head_path(path).unlink()
    report = journal.verify(home)[0]
    assert report.problems == [
        "the head file signals.head.json is missing beside 2 sealed entries: entries at the end "
        "of signals.jsonl may have been deleted with it. If nothing was deleted, the next signal "
        "recorded writes a new head."
    ]


def test_every_cut_of_a_written_line_is_torn_and_damage_never_is(home: Path):
    path = _record_three(home)
    line = path.read_bytes().split(b"\n")[0]
    unicode = json.dumps({"id": 'é \\ " \u2603', "n": -1.5e-3, "t": True, "z": None}).encode()
    for whole in (line, unicode, json.dumps(json.loads(unicode), ensure_ascii=False).encode()):
        assert not journal_chain.torn(whole)
        assert all(journal_chain.torn(whole[:cut]) for cut in range(1, len(whole)))
    for damaged in [*DAMAGE, b"", b"garbage", b'{"a": 1}}', b'{"a" 1}', b'"text"', b"12"]:
        assert not journal_chain.torn(damaged)


def test_a_torn_line_still_reads_quietly(home: Path, caplog: pytest.LogCaptureFixture):
    path = _record_three(home)
    with open(path, "a") as handle:
        handle.write('{"id": "half-writ')
    journal.record(home, [make_signal(candle=4, time=START + 4 * HOUR)])
    caplog.set_level(logging.WARNING, logger="core.signals.journal")
    assert len(journal.entries(home)) == 4
    assert _warnings(caplog) == []


def test_damaged_names_the_skipped_lines_and_follows_the_file(home: Path):
    path = _record_three(home)
    assert journal.damaged(home) == []
    _damage(path)
    assert journal.damaged(home) == [
        "signals.jsonl line 4 is not a journal entry (it is JSON a list, not an object).",
        "signals.jsonl line 5 is not a journal entry (it is not valid UTF-8 (byte 1)).",
        "signals.jsonl line 6 is not a journal entry (it has no price).",
    ]
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(lines[:3] + lines[4:]))  # the list removed by hand
    assert [d.split(" is not")[0] for d in journal.damaged(home)] == [
        "signals.jsonl line 4",
        "signals.jsonl line 5",
    ]
