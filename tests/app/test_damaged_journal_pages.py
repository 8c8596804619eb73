"""The Signals and Monitor pages carry on over a damaged journal line (a JSON list, bad UTF-8, an
entry without a field): the line is skipped, the rest of the journal shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.signals import journal
from tests.card_home import ROOT
from tests.unit.test_journal import make_signal
from tests.waiting import APP_TIMEOUT

pytestmark = pytest.mark.slow


def damage(home: Path) -> None:
    path = home / "journal" / "signals.jsonl"
    first = json.loads(path.read_bytes().split(b"\n")[0])
    first.pop("due_time")
    first["id"] = "d" * 16
    with open(path, "ab") as handle:
        handle.write(b"[1,2,3]\n" + b'\xff{"id": "x"}\n' + json.dumps(first).encode() + b"\n")


def assert_damage_named(at: AppTest) -> None:
    (warning,) = [w.value for w in at.warning if "damaged line" in w.value]
    assert warning.startswith("3 damaged line(s) in the journal are left out")
    for number in (4, 5, 6):
        assert f"signals.jsonl line {number} is not a journal entry" in warning.replace("\\", "")
    assert "(it has no due_time)" in warning


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page(page).run()
    return at


def test_monitor_page_shows_the_journal_around_a_damaged_line(home: Path):
    journal.record(home, [make_signal(candle=k) for k in range(3)])
    damage(home)
    at = open_page("pages/monitor.py")
    assert not at.exception, at.exception
    table = next(t.value for t in at.table if "status" in t.value.columns)
    assert "Bitcoin (BTC)" in table.index
    assert_damage_named(at)


def test_signals_page_records_and_shows_a_card_over_a_damaged_line(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    toy = {"CRYPTOVOLT_MODEL_PLUGINS": "tests.toy_kind"}
    for args in (["fetch", "--sample"], ["train", "--models", "toyflow"]):
        done = subprocess.run(
            [sys.executable, "-m", "core", *args, "--coins", "BTC"],
            cwd=ROOT,
            env={**os.environ, **toy},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    monkeypatch.setenv("CRYPTOVOLT_MODEL_PLUGINS", "tests.toy_kind")
    import tests.toy_kind  # noqa: F401  (registers the kind in this process too)

    journal.record(home, [make_signal(candle=k) for k in range(3)])
    damage(home)
    last = pd.read_parquet(home / "data" / "raw" / "BTCUSDT-1h.parquet")["open_time"].max()
    monkeypatch.setenv("CRYPTOVOLT_NOW", (last + pd.Timedelta(hours=2)).isoformat())
    at = open_page("pages/signals.py")
    assert not at.exception, at.exception
    assert any("`BTCUSDT`" in m.value for m in at.markdown)
    assert_damage_named(at)
    assert len(journal.entries(home)) == 4  # the three before, and the card's signal
