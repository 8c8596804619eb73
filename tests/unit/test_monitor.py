"""The monitor on journals of real calls (tests/monitor_journal.py): a planted regime change turns
the coin degraded, the same process continuing stays on track, a few calls say not enough calls
with the count; outcomes come from the journal when it has them, else from the stored candles."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from core.monitor import STATUSES, CoinHealth, assess, load_calls
from core.signals import journal
from tests.monitor_journal import journal_home

pytestmark = pytest.mark.slow


def btc(found: list[CoinHealth]) -> CoinHealth:
    return next(h for h in found if h.symbol == "BTCUSDT")


def test_a_planted_regime_change_turns_the_coin_degraded(home: Path):
    now = journal_home(home, regime="degraded")
    health = btc(assess(["BTC"], home=home, now=now))
    assert health.status == "degraded", health.reason
    assert health.reason.startswith("Degraded over the last 30 days: ")
    calls = load_calls(home, ["BTC"])
    judged = calls[calls["status"].isin(["hit", "miss"])]
    assert len(judged) == 110
    assert (judged["status"] == "miss").mean() > 0.6  # the calls really miss after the change
    head = health.versions[-1]
    below = [r for r in head.rates if r.days == 30 and r.below_promise]
    assert below, [r.to_dict() for r in head.rates]
    for rate in below:
        assert rate.high is not None and rate.promised_low is not None
        assert rate.rate is not None and rate.rate < rate.promised_low
        assert f"{rate.kind} calls hit {rate.rate:.0%}" in health.reason
    xgb = next(m for m in head.members if m.name == "xgb_direction_btcusdt")
    assert xgb.votes and xgb.calls == len(judged)
    assert xgb.log_loss is not None and xgb.base_log_loss is not None
    assert xgb.live_gate_passed is False  # worse than the base rate once the input lies


def test_the_same_process_continuing_stays_on_track(home: Path):
    now = journal_home(home, regime="stable")
    health = btc(assess(["BTC"], home=home, now=now))
    assert health.status == "on_track", health.reason
    assert health.calls == 110 and health.reason.startswith(f"On track: {health.calls} resolved")
    head = health.versions[-1]
    assert head.versions == "lstm_return_btcusdt v1 + xgb_direction_btcusdt v1"
    assert not any(r.below_promise for r in head.rates)
    month = [r for r in head.rates if r.days == 30 and r.calls]
    assert sum(r.calls for r in month) == health.calls
    for r in month:  # each live rate carries its own Wilson interval and the promise beside it
        assert r.low is not None and r.high is not None and r.low <= r.rate <= r.high
        assert r.promised is not None and r.promised_low <= r.promised <= r.promised_high
    xgb = next(m for m in head.members if m.name == "xgb_direction_btcusdt")
    assert xgb.live_gate_passed is True and xgb.log_loss < xgb.base_log_loss
    assert health.drift is not None and health.drift.measured
    assert health.drifted == 0  # same process: no feature is unlike every training week


def test_a_few_calls_say_not_enough_calls_with_the_count(home: Path):
    now = journal_home(home, regime="stable", calls=8)
    health = btc(assess(["BTC"], home=home, now=now))
    assert health.status == "not_enough_calls"
    assert health.calls == 8
    assert "8 resolved in the last 30 days" in health.reason and "20 are needed" in health.reason


def test_outcomes_resolved_by_the_journal_are_read_and_match_the_candles(home: Path):
    now = journal_home(home, regime="degraded")
    from_candles = load_calls(home, ["BTC"])
    assert set(from_candles["resolved_by"].dropna()) == {"candles"}
    assert journal.resolve_stored(home, now=now.to_pydatetime()) > 0
    from_journal = load_calls(home, ["BTC"])
    judged = from_journal["status"].isin(["hit", "miss"])
    assert set(from_journal.loc[judged, "resolved_by"]) == {"journal"}
    assert list(from_journal["status"]) == list(from_candles["status"])
    assert btc(assess(["BTC"], home=home, now=now)).status == "degraded"


def test_windows_end_at_now_and_old_calls_fall_out(home: Path):
    now = journal_home(home, regime="stable")
    later = btc(assess(["BTC"], home=home, now=now + pd.Timedelta(days=40)))
    assert later.status == "not_enough_calls" and later.calls == 0
    assert "the newest call is on the candle of" in later.reason
    assert later.drift is not None and not later.drift.measured  # no candles in that week


def test_no_journal_says_how_to_get_one(home: Path):
    found = assess(["BTC", "ETH"], home=home)
    assert [h.symbol for h in found] == ["BTCUSDT", "ETHUSDT"]
    for h in found:
        assert h.status == "not_enough_calls" and h.calls == 0 and h.drifted == 0
        assert "python -m core watch" in h.reason and "Signals page" in h.reason


def test_to_dict_is_json_with_the_interface_fields(home: Path):
    now = journal_home(home, regime="stable", calls=8)
    data = json.loads(json.dumps([h.to_dict() for h in assess(home=home, now=now)]))
    by_symbol = {d["symbol"]: d for d in data}
    assert set(by_symbol) == {"BTCUSDT", "ETHUSDT"}  # the journal's coin and every trained coin
    for d in data:
        assert d["status"] in STATUSES and isinstance(d["drifted"], int) and d["reason"]
    assert by_symbol["BTCUSDT"]["versions"][-1]["rates"][0]["kind"] == "BULLISH"
