"""The signal journal records shown signals once and judges them only after their horizon."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.signals import journal
from core.signals.ensemble import SignalKind
from core.signals.signal import ModelVote, Signal

START = pd.Timestamp("2025-03-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)


def make_signal(
    kind: SignalKind = SignalKind.BULLISH,
    *,
    symbol: str = "BTCUSDT",
    candle: int = 10,
    price: float = 100.0,
    confidence: float | None = 0.55,
    version: str = "v1",
    time: pd.Timestamp | None = None,
) -> Signal:
    no_edge = kind is SignalKind.NO_EDGE
    votes = (
        ModelVote(
            "xgb_direction",
            "XGBoost direction",
            "xgb_direction_btcusdt",
            version,
            0.58,
            0.08,
            None if no_edge else kind,
            not no_edge,
            "no edge: auc 0.48 fails 'AUC 95% lower bound > 0.5'" if no_edge else "votes",
        ),
        ModelVote(
            "lstm_return",
            "LSTM return",
            "lstm_return_btcusdt",
            version,
            0.002,
            0.002,
            None,
            False,
            "no edge: mase 1.01 fails 'MASE < 1 (persistence)'",
        ),
    )
    return Signal(
        symbol=symbol,
        signal=kind,
        reason="No model beats its baselines out of sample." if no_edge else None,
        confidence=None if no_edge else confidence,
        interval=(None, None) if no_edge else (0.5, 0.6),
        support=0 if no_edge else 120,
        base_rate=None if no_edge else 0.5,
        test_hit_rate=None if no_edge else 0.54,
        test_support=0 if no_edge else 80,
        ece_out_of_time=None if no_edge else 0.03,
        strength=0.6,
        bucket=None if no_edge else 2,
        buckets=3,
        horizon=6,
        neutral_band=0.01,
        timeframe="1h",
        price=price,
        candle_time=START + candle * HOUR if time is None else time,
        votes=votes,
    )


def candles(closes) -> pd.DataFrame:
    closes = np.asarray(closes, dtype=float)
    return pd.DataFrame(
        {"open_time": START + HOUR * np.arange(len(closes)), "open": closes, "close": closes}
    )


def test_resolves_a_signal_whose_horizon_passed_and_not_one_whose_horizon_has_not(home: Path):
    journal.record(
        home, [make_signal(candle=10), make_signal(candle=20, version="v2")], source="test"
    )
    closes = np.full(25, 100.0)
    closes[16] = 103.0  # candle 10 + 6: above the entry price → hit
    assert journal.resolve(home, {"BTCUSDT": candles(closes)}) == 1
    frame = journal.entries(home).set_index("candle_time")
    assert frame.loc[START + 10 * HOUR, "status"] == "hit"
    assert frame.loc[START + 10 * HOUR, "exit_close"] == 103.0
    assert frame.loc[START + 10 * HOUR, "move"] == pytest.approx(0.03)
    # candle 20's exit is candle 26, not stored yet: still pending
    assert frame.loc[START + 20 * HOUR, "status"] == "pending"
    more = np.append(closes, [100.0, 99.0])  # candle 26 closes at 99 < 100 → miss
    assert journal.resolve(home, {"BTCUSDT": candles(more)}) == 1
    frame = journal.entries(home).set_index("candle_time")
    assert frame.loc[START + 20 * HOUR, "status"] == "miss"
    assert journal.resolve(home, {"BTCUSDT": candles(more)}) == 0  # nothing resolved twice


def test_bearish_and_neutral_are_judged_by_their_own_meaning(home: Path):
    journal.record(
        home,
        [
            make_signal(SignalKind.BEARISH, candle=0),
            make_signal(SignalKind.NEUTRAL, candle=1),
            make_signal(SignalKind.NEUTRAL, candle=2),
        ],
    )
    closes = np.full(10, 100.0)
    closes[6] = 98.0  # bearish from candle 0: fell → hit
    closes[7] = 100.5  # neutral from candle 1: moved 0.5% < 1% → hit
    closes[8] = 102.0  # neutral from candle 2: moved 2% → miss
    journal.resolve(home, {"BTCUSDT": candles(closes)})
    status = journal.entries(home).sort_values("candle_time")["status"].tolist()
    assert status == ["hit", "hit", "miss"]


def test_the_same_coin_candle_and_versions_is_recorded_once(home: Path):
    assert journal.record(home, [make_signal()], source="app") == 1
    assert journal.record(home, [make_signal()], source="cli") == 0
    assert journal.record(home, [make_signal(version="v2")], source="cli") == 1
    assert len(journal.entries(home)) == 2


def _record_many(home: str, start: int) -> None:
    import os

    os.environ["CRYPTOVOLT_HOME"] = home
    for i in range(start, start + 30):
        journal.record(home, [make_signal(candle=i)], source=f"p{start}")


def test_two_processes_recording_at_once_keep_every_line_whole(home: Path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_record_many, args=(str(home), s)) for s in (0, 15)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    frame = journal.entries(home)
    assert sorted(frame["candle_time"]) == [START + i * HOUR for i in range(45)]
    lines = (home / "journal" / "signals.jsonl").read_text().splitlines()
    assert len(lines) == 45  # overlapping candles 15..29 were deduplicated across processes


def test_a_torn_last_line_is_skipped_and_later_writes_still_land(home: Path):
    journal.record(home, [make_signal(candle=1)])
    path = home / "journal" / "signals.jsonl"
    with open(path, "a") as handle:
        handle.write('{"id": "half-writ')
    assert len(journal.entries(home)) == 1
    journal.record(home, [make_signal(candle=2)])
    assert len(journal.entries(home)) == 2


def test_live_hit_rate_beside_expected_per_coin(home: Path):
    journal.record(
        home,
        [
            make_signal(candle=0, confidence=0.6),
            make_signal(candle=1, confidence=0.5),
            make_signal(candle=2, confidence=0.7),
            make_signal(symbol="ETHUSDT", candle=0, confidence=0.52),
        ],
    )
    closes = np.full(8, 100.0)
    closes[6], closes[7] = 101.0, 99.0  # candle 0 → hit, candle 1 → miss, candle 2 pending
    journal.resolve(home, {"BTCUSDT": candles(closes)})
    rates = journal.hit_rates(journal.entries(home)).set_index("symbol")
    btc = rates.loc["BTCUSDT"]
    assert (btc["signals"], btc["resolved"], btc["pending"], btc["hits"]) == (3, 2, 1, 1)
    assert btc["live_hit_rate"] == pytest.approx(0.5)
    assert btc["expected_hit_rate"] == pytest.approx(0.55)
    assert np.isnan(rates.loc["ETHUSDT", "live_hit_rate"])


def test_resolve_against_the_store_uses_real_closes(home: Path, btc_candles):
    from core.data.store import save_candles

    frame = btc_candles.iloc[:300]
    save_candles(frame, "BTCUSDT")
    early, late = frame.iloc[100], frame.iloc[-1]
    journal.record(
        home,
        [
            make_signal(price=float(early["close"]), time=early["open_time"]),
            make_signal(price=float(late["close"]), time=late["open_time"]),
        ],
    )
    assert journal.resolve_stored(home) == 1
    got = journal.entries(home).set_index("candle_time")
    exit_close = float(frame.iloc[106]["close"])
    assert got.loc[early["open_time"], "exit_close"] == exit_close
    expected = "hit" if exit_close > float(early["close"]) else "miss"
    assert got.loc[early["open_time"], "status"] == expected
    assert got.loc[late["open_time"], "status"] == "pending"


def test_each_members_output_and_vote_is_recorded(home: Path):
    journal.record(home, [make_signal(SignalKind.BEARISH)])
    row = journal.entries(home).iloc[0]
    assert row["signal"] == "BEARISH" and row["base_rate"] == 0.5
    assert (row["confidence_low"], row["confidence_high"]) == (0.5, 0.6)
    votes = {v["kind"]: v for v in row["votes"]}
    assert votes["xgb_direction"]["output"] == 0.58 and votes["xgb_direction"]["vote"] == "BEARISH"
    assert votes["lstm_return"]["vote"] is None and votes["lstm_return"]["gates_passed"] is False


def test_no_edge_is_recorded_with_its_reason_but_never_judged_or_counted(home: Path):
    journal.record(
        home,
        [
            make_signal(SignalKind.NO_EDGE, candle=0),
            make_signal(SignalKind.BULLISH, candle=1, confidence=0.6),
        ],
    )
    closes = np.full(10, 100.0)
    closes[6], closes[7] = 90.0, 101.0  # a NO EDGE "call" would have nothing to be right about
    assert journal.resolve(home, {"BTCUSDT": candles(closes)}) == 1
    frame = journal.entries(home).set_index("candle_time")
    assert frame.loc[START, "status"] == journal.NO_EDGE
    assert "No model beats its baselines" in frame.loc[START, "reason"]
    assert frame.loc[START + HOUR, "status"] == "hit"
    btc = journal.hit_rates(journal.entries(home)).set_index("symbol").loc["BTCUSDT"]
    assert (btc["signals"], btc["no_edge"], btc["resolved"], btc["pending"]) == (1, 1, 1, 0)
    assert btc["live_hit_rate"] == 1.0 and btc["expected_hit_rate"] == pytest.approx(0.6)


def test_lines_written_before_votes_existed_still_read_and_resolve(home: Path):
    folder = home / "journal"
    folder.mkdir()
    old = {
        "id": "0123456789abcdef",
        "recorded_at": "2025-03-01T12:00:00+00:00",
        "source": "cli",
        "symbol": "BTCUSDT",
        "interval": "1h",
        "signal": "BULLISH",
        "confidence": 0.53,
        "support": 200,
        "price": 100.0,
        "candle_time": START.isoformat(),
        "horizon": 6,
        "neutral_band": 0.01,
        "due_time": (START + 6 * HOUR).isoformat(),
        "models": {"xgboost_btcusdt": "v1", "lstm_btcusdt": "v2"},
        "xgb_probability": 0.31,
        "lstm_forecast": 100.4,
    }
    (folder / "signals.jsonl").write_text(json.dumps(old) + "\n")
    row = journal.entries(home).iloc[0]
    assert row["votes"] == [
        {"kind": "xgboost", "name": "xgboost_btcusdt", "version": "v1", "output": 0.31},
        {"kind": "lstm", "name": "lstm_btcusdt", "version": "v2", "output": 100.4},
    ]
    assert pd.isna(row["base_rate"]) and row["status"] == "pending"
    closes = np.full(8, 100.0)
    closes[6] = 101.0
    assert journal.resolve(home, {"BTCUSDT": candles(closes)}) == 1
    assert journal.hit_rates(journal.entries(home)).iloc[0]["hits"] == 1
