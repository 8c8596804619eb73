"""The journal's sha256 chain: verify names the line that was edited or deleted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from core.signals import journal
from tests.conftest import ROOT
from tests.unit.test_journal import START, candles, make_signal


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def _record_five(home: Path) -> Path:
    for i in range(5):
        journal.record(home, [make_signal(candle=i)], source="test")
    return home / "journal" / "signals.jsonl"


def _problems(home: Path) -> list[str]:
    return [p for report in journal.verify(home) for p in report.problems]


def test_an_intact_journal_verifies_and_every_line_chains_to_the_one_before(home: Path):
    path = _record_five(home)
    closes = np.full(12, 100.0)
    journal.resolve(home, {"BTCUSDT": candles(closes)})
    reports = journal.verify(home)
    assert [r.ok for r in reports] == [True, True]
    assert [r.entries for r in reports] == [5, 5]
    rows = [json.loads(line) for line in _lines(path)]
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert all(b["prev"] == a["hash"] for a, b in zip(rows, rows[1:], strict=False))


def test_verify_names_an_edited_line(home: Path):
    path = _record_five(home)
    lines = _lines(path)
    row = json.loads(lines[2])
    row["signal"] = "BEARISH"  # someone rewrites history: BULLISH → BEARISH
    lines[2] = json.dumps(row) + "\n"
    path.write_text("".join(lines))
    assert _problems(home) == [
        "line 3 (entry #3) was edited: its content no longer matches its sha256."
    ]


def test_an_edit_that_recomputes_its_own_hash_is_caught_by_the_next_line(home: Path):
    from core.signals.journal_chain import entry_hash

    path = _record_five(home)
    lines = _lines(path)
    row = json.loads(lines[1])
    row["price"] = 1.0
    row["hash"] = entry_hash(row)
    lines[1] = json.dumps(row) + "\n"
    path.write_text("".join(lines))
    assert _problems(home) == ["line 3 (entry #3) does not chain to line 2: line 2 was rewritten."]


def test_verify_names_a_deleted_line_and_a_deleted_last_line(home: Path):
    path = _record_five(home)
    lines = _lines(path)
    path.write_text("".join(lines[:1] + lines[2:]))  # entry #2 gone
    assert _problems(home) == ["entry #2 before line 2 was deleted."]
    path.write_text("".join(lines[:4]))  # the last entry gone: only the head file knows
    assert _problems(home) == [
        "entry #5 at the end of signals.jsonl was deleted (the head file records #5)."
    ]


def test_an_unchained_journal_is_sealed_by_the_first_new_line_without_being_rewritten(home: Path):
    folder = home / "journal"
    folder.mkdir()
    old = {"id": "0123456789abcdef", "symbol": "BTCUSDT", "interval": "1h", "signal": "BULLISH"}
    old |= {"price": 100.0, "candle_time": START.isoformat(), "horizon": 6, "models": {}}
    old |= {"due_time": START.isoformat()}
    legacy = json.dumps(old) + "\n"
    (folder / "signals.jsonl").write_text(legacy)
    journal.record(home, [make_signal(candle=3)])
    text = (folder / "signals.jsonl").read_text()
    assert text.startswith(legacy)  # the old line is kept byte for byte
    report = journal.verify(home)[0]
    assert report.ok and (report.legacy, report.entries) == (1, 1)
    assert "written before the chain existed" in report.notes[0]
    (folder / "signals.jsonl").write_text(text.replace('"price": 100.0', '"price": 90.0', 1))
    assert "written before the chain, were changed or deleted" in _problems(home)[0]


def test_a_torn_line_from_a_killed_writer_is_a_note_not_tampering(home: Path):
    path = _record_five(home)
    with open(path, "a") as handle:
        handle.write('{"id": "half-writ')
    journal.record(home, [make_signal(candle=9)])
    report = journal.verify(home)[0]
    assert report.ok and report.entries == 6
    assert report.notes == [
        "line 6 is unreadable (a torn write, ended by the next writer); readers skip it."
    ]


def test_journal_verify_cli_exits_1_naming_the_line_and_export_writes_csv_and_json(home: Path):
    path = _record_five(home)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "core", "journal", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    done = cli("verify")
    assert done.returncode == 0, done.stderr
    assert "signals.jsonl: 5 entries, chain intact" in done.stdout
    out = home / "journal.csv"
    done = cli("export", "--format", "csv", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text().splitlines()[0].startswith("id,recorded_at,source,symbol")
    assert len(out.read_text().splitlines()) == 6
    done = cli("export", "--format", "json")
    assert [r["status"] for r in json.loads(done.stdout)] == ["pending"] * 5
    lines = _lines(path)
    path.write_text("".join(lines[:2] + lines[3:]))
    done = cli("verify")
    assert done.returncode == 1
    assert "entry #3 before line 3 was deleted." in done.stdout


def test_a_journal_longer_than_the_tail_read_still_chains(home: Path):
    journal.record(home, [make_signal(candle=i) for i in range(150)])
    path = home / "journal" / "signals.jsonl"
    assert path.stat().st_size > 1 << 16  # append reads only the last 64 KiB
    journal.record(home, [make_signal(candle=200)])
    report = journal.verify(home)[0]
    assert report.ok and report.entries == 151
