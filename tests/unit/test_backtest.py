"""Backtest arithmetic pinned by hand-computed cases, and the no-look-ahead property."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.config import BacktestConfig
from core.signals.backtest import compute_metrics, positions_from_signals, run_backtest

START = pd.Timestamp("2025-01-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)


def candles(opens, closes) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "open_time": START + HOUR * np.arange(len(opens)),
            "open": np.asarray(opens, dtype=float),
            "close": np.asarray(closes, dtype=float),
        }
    )


def signals(*values) -> pd.Series:
    return pd.Series(list(values), index=START + HOUR * np.arange(len(values)))


THREE = candles([100, 110, 120], [105, 115, 125])


def test_three_candles_one_long_trade_with_fees_and_slippage():
    config = BacktestConfig(fee=0.001, slippage_bps=5)
    result = run_backtest(THREE, signals("BULLISH", "NEUTRAL", "NEUTRAL"), config=config)
    buy = 110 * 1.0005  # signal at the close of candle 0 fills at the open of candle 1
    sell = 120 * 0.9995  # NEUTRAL at the close of candle 1 exits at the open of candle 2
    units = 10_000 * 0.999 / buy
    final = units * sell * 0.999
    assert final == pytest.approx(10_000 * 0.999**2 * sell / buy)
    equity = result.equity["strategy"].tolist()
    assert equity == pytest.approx([10_000, units * 115, final])
    assert result.equity["position"].tolist() == [0, 1, 0]
    [trade] = result.trades.to_dict("records")
    assert trade["side"] == "long"
    assert trade["entry_time"] == START + HOUR and trade["exit_time"] == START + 2 * HOUR
    assert trade["entry_price"] == pytest.approx(buy) and trade["exit_price"] == pytest.approx(sell)
    assert trade["return"] == pytest.approx(final / 10_000 - 1)
    metrics = result.metrics["strategy"]
    assert metrics["total_return"] == pytest.approx(final / 10_000 - 1)
    assert metrics["trades"] == 1 and metrics["win_rate"] == 1.0
    assert metrics["exposure"] == pytest.approx(1 / 3)


def test_fees_are_paid_on_entry_and_exit():
    config = BacktestConfig(fee=0.001, slippage_bps=0)
    result = run_backtest(THREE, signals("BULLISH", "NEUTRAL", "NEUTRAL"), config=config)
    assert result.equity["strategy"].iloc[-1] == pytest.approx(10_000 * 0.999 * 0.999 * 120 / 110)
    free = run_backtest(
        THREE,
        signals("BULLISH", "NEUTRAL", "NEUTRAL"),
        config=BacktestConfig(fee=0, slippage_bps=0),
    )
    assert free.equity["strategy"].iloc[-1] == pytest.approx(10_000 * 120 / 110)


def test_buy_and_hold_enters_with_the_strategy_and_exits_at_the_last_close():
    config = BacktestConfig(fee=0.001, slippage_bps=5)
    result = run_backtest(THREE, signals("NEUTRAL", "NEUTRAL", "NEUTRAL"), config=config)
    expected = 10_000 * 0.999**2 * (125 * 0.9995) / (110 * 1.0005)
    assert result.equity["buy_and_hold"].iloc[-1] == pytest.approx(expected)
    assert result.metrics["buy_and_hold"]["trades"] == 1
    assert result.metrics["strategy"]["trades"] == 0
    assert result.equity["strategy"].tolist() == [10_000] * 3


def test_short_only_with_the_long_short_option():
    sigs = signals("BEARISH", "NEUTRAL", "NEUTRAL")
    flat = run_backtest(THREE, sigs, config=BacktestConfig())
    assert flat.metrics["strategy"]["trades"] == 0
    result = run_backtest(THREE, sigs, config=BacktestConfig(allow_short=True))
    sell, buy_back = 110 * 0.9995, 120 * 1.0005
    expected = 10_000 * ((2 - 0.001) - (1 + 0.001) * buy_back / sell)
    assert result.equity["strategy"].iloc[-1] == pytest.approx(expected)
    # marked at the close of candle 1: the short lost (115 - 109.945) per unit
    units = 10_000 / sell
    assert result.equity["strategy"].iloc[1] == pytest.approx(10_000 * 1.999 - units * 115)
    [trade] = result.trades.to_dict("records")
    assert trade["side"] == "short" and trade["return"] < 0


def test_flip_from_long_to_short_pays_exit_and_entry_at_the_same_open():
    data = candles([100, 100, 100, 100], [100, 100, 100, 100])
    result = run_backtest(
        data,
        signals("BULLISH", "BEARISH", "NEUTRAL", "NEUTRAL"),
        config=BacktestConfig(fee=0.001, slippage_bps=0, allow_short=True),
    )
    after_long = 10_000 * 0.999**2
    after_short = after_long * ((2 - 0.001) - (1 + 0.001))
    assert result.equity["strategy"].iloc[-1] == pytest.approx(after_short)
    assert result.trades["side"].tolist() == ["long", "short"]


def test_open_position_is_closed_at_the_last_close():
    result = run_backtest(
        THREE, signals("BULLISH", "BULLISH", "BULLISH"), config=BacktestConfig(slippage_bps=0)
    )
    assert result.equity["strategy"].iloc[-1] == pytest.approx(10_000 * 0.999**2 * 125 / 110)
    assert result.trades["exit_reason"].tolist() == ["end of period"]


def test_changing_future_prices_or_signals_does_not_change_past_equity():
    rng = np.random.default_rng(7)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 80)))
    opens = np.append(100, closes[:-1])
    kinds = rng.choice(["BULLISH", "BEARISH", "NEUTRAL"], size=80)
    config = BacktestConfig(allow_short=True)
    base = run_backtest(candles(opens, closes), signals(*kinds), config=config)
    future_prices = closes.copy()
    future_prices[50:] *= 1.5
    changed = run_backtest(
        candles(np.append(100, future_prices[:-1]), future_prices), signals(*kinds), config=config
    )
    # candles 0..49 are identical; candle 50's open is the close of 49, so also unchanged
    assert changed.equity["strategy"][:50].tolist() == base.equity["strategy"][:50].tolist()
    assert changed.equity["strategy"].iloc[-1] != base.equity["strategy"].iloc[-1]
    other = kinds.copy()
    other[60:] = np.where(other[60:] == "BULLISH", "BEARISH", "BULLISH")
    flipped = run_backtest(candles(opens, closes), signals(*other), config=config)
    # the signal at candle 60 acts at candle 61's open, so equity through candle 60 is the same
    assert flipped.equity["strategy"][:61].tolist() == base.equity["strategy"][:61].tolist()


def test_metrics_on_a_known_equity_curve():
    equity = pd.Series([110.0, 99.0, 121.0])
    m = compute_metrics(equity, [0.1, -0.05], np.array([1, 0, 1]), "1h", initial=100.0)
    returns = np.array([0.1, -0.1, 121 / 99 - 1])
    per_year = 365.25 * 24
    assert m["total_return"] == pytest.approx(0.21)
    assert m["max_drawdown"] == pytest.approx(99 / 110 - 1)
    assert m["sharpe"] == pytest.approx(returns.mean() / returns.std(ddof=1) * math.sqrt(per_year))
    downside = math.sqrt(np.mean(np.minimum(returns, 0) ** 2))
    assert m["sortino"] == pytest.approx(returns.mean() / downside * math.sqrt(per_year))
    assert m["cagr"] == pytest.approx(1.21 ** (per_year / 3) - 1)
    assert m["win_rate"] == 0.5 and m["trades"] == 2
    assert m["exposure"] == pytest.approx(2 / 3)


def test_flat_strategy_has_undefined_ratios_not_invented_ones():
    m = compute_metrics(pd.Series([100.0, 100.0]), [], np.array([0, 0]), "4h", initial=100.0)
    assert m["sharpe"] is None and m["sortino"] is None and m["win_rate"] is None
    assert m["total_return"] == 0 and m["max_drawdown"] == 0


def test_positions_map_signals_and_respect_long_only():
    s = pd.Series(["BULLISH", "BEARISH", "NEUTRAL", 1, -1, 0])
    assert positions_from_signals(s).tolist() == [1, 0, 0, 1, 0, 0]
    assert positions_from_signals(s, allow_short=True).tolist() == [1, -1, 0, 1, -1, 0]
