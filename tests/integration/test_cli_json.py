"""``--json`` on the commands a script reads: one JSON document on stdout, the same exit code and
``error:`` line on stderr as the text form (fetch against the fake Binance, real HTTP)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from core.cli import main
from core.clock import set_file_clock
from core.data import store
from core.signals import journal
from tests.core_cli import core_json, run_core
from tests.fake_binance import FakeBinance
from tests.unit.test_journal import make_signal


def test_fetch_json_says_per_coin_what_is_stored(fake_binance, capsys):
    args = ["fetch", "--coins", "BTC,FOO", "--days", "2", "--base-url", fake_binance.url, "--json"]
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 1 and [line for line in err.splitlines() if line.startswith("error:")]
    result = json.loads(out)
    assert result["interval"] == "1h" and result["ok"] is False and result["new_rows"] == 48
    coins = {c["symbol"]: c for c in result["coins"]}
    btc, foo = coins["BTCUSDT"], coins["FOOUSDT"]
    assert btc["status"] == "up to date" and btc["rows"] == btc["new_rows"] == 48
    stored = store.load_candles("BTC")["open_time"]
    assert btc["first"] == stored.iloc[0].isoformat() and btc["last"] == stored.iloc[-1].isoformat()
    assert btc["conflict"] is None and btc["missing"] == 0
    assert foo["status"] == "failed" and "unknown symbol FOOUSDT" in foo["reason"]


def test_fetch_json_names_a_conflict_held_back(capsys):
    with FakeBinance(listed_hours=48) as fake:
        assert main(["fetch", "--coins", "SOL", "--days", "3", "--base-url", fake.url]) == 0
        candles = store.load_candles("SOL").iloc[:-2]
        store.save_candles(candles, "SOLUSDT")
        fake.set_scale("SOLUSDT", 0.1)
        capsys.readouterr()
        code = main(["fetch", "--coins", "SOL", "--days", "3", "--base-url", fake.url, "--json"])
    out, _ = capsys.readouterr()
    assert code == 1
    (sol,) = json.loads(out)["coins"]
    assert sol["status"] == "conflict" and sol["new_rows"] == 0
    assert "python -m core data resolve --coin SOL --replace" in sol["conflict"]


def test_fetch_sample_json(capsys):
    assert main(["fetch", "--sample", "--coins", "ETH", "--json"]) == 0
    (eth,) = json.loads(capsys.readouterr().out)["coins"]
    assert eth["symbol"] == "ETHUSDT" and eth["rows"] == len(store.load_candles("ETH")) > 9000


def test_journal_verify_json_names_the_edited_line(home, capsys):
    for i in range(3):
        journal.record(home, [make_signal(candle=i)], source="test")
    assert main(["journal", "verify", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is True
    signals = next(f for f in result["files"] if f["name"] == "signals.jsonl")
    assert signals["entries"] == 3 and signals["problems"] == []

    path = home / "journal" / "signals.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    row = json.loads(lines[1])
    row["signal"] = "BEARISH"
    lines[1] = json.dumps(row) + "\n"
    path.write_text("".join(lines))
    assert main(["journal", "verify", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    signals = next(f for f in result["files"] if f["name"] == "signals.jsonl")
    assert result["ok"] is False and signals["ok"] is False
    assert signals["problems"] == [
        "line 2 (entry #2) was edited: its content no longer matches its sha256."
    ]


@pytest.mark.slow
def test_watch_once_json_is_the_cycle_and_json_without_once_is_refused(home: Path, capsys):
    from tests.live_home import DELAY, HOUR, prepare

    last_candle = prepare(home)
    clock = home / "clock.txt"
    set_file_clock(clock, last_candle + 3 * HOUR + DELAY)
    args = ["watch", "--once", "--quick", "--coins", "BTC", "--clock-file", str(clock), "--json"]
    done = run_core(home, *args, timeout=120, BINANCE_BASE_URL="http://127.0.0.1:9")
    assert done.returncode == 1, done.stderr  # Binance unreachable: the cycle failed, and says so
    cycle = json.loads(done.stdout)
    assert cycle["ok"] is False and "Binance cannot be reached" in cycle["why"]
    assert set(cycle["signals"]) == {"BTCUSDT"} and cycle["recorded"] == 1
    assert pd.Timestamp(cycle["at"]) == last_candle + 3 * HOUR + DELAY

    assert main(["watch", "--coins", "BTC", "--json"]) == 1
    assert capsys.readouterr().err.startswith("error: --json prints one cycle: use it with --once")


@pytest.mark.slow
def test_retrain_json_gives_each_coins_decision_and_why(home: Path):
    from tests.card_home import copy_carded_into

    copy_carded_into(home)
    args = ["retrain", "--coins", "ETH", "--if-stale", "7d", "--json"]
    result = core_json(home, *args, TF_CPP_MIN_LOG_LEVEL="2")
    assert result["ok"] is True and result["outcomes"] == []
    (eth,) = result["plans"]
    assert eth["coin"] == "ETHUSDT" and eth["retrain"] == []
    assert any("fresh" in why for why in eth["why"])


@pytest.mark.slow
def test_train_json_lists_each_new_version_with_its_verdict(home_with_sample: Path):
    tiny = ["--trees", "5", "--depth", "2"]
    args = ["train", "--coins", "BTC", "--models", "xgb", *tiny, "--json"]
    # core_json reads all of stdout as JSON: the progress bars went to stderr
    result = core_json(home_with_sample, *args, TF_CPP_MIN_LOG_LEVEL="2")
    assert result["ok"] is True and result["failed"] == {}
    (version,) = result["versions"]
    assert version["coin"] == "BTCUSDT" and version["version"] == "v1"
    assert version["name"].endswith("_btcusdt") and version["promoted"] is True
    assert version["verdict"] and version["metrics"] and version["seconds"] >= 0
    listed = core_json(home_with_sample, "models", "--json", TF_CPP_MIN_LOG_LEVEL="2")
    assert {(r["name"], r["version"]) for r in listed} == {(version["name"], "v1")}
