"""Backtest arithmetic pinned by hand-computed cases, the no-look-ahead property, and the
strategy on hand-built members: held for the horizon, threshold chosen on the folds only,
zero cost beside costs, size by confidence, NO EDGE."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.config import BacktestConfig, SignalConfig
from core.models.base import Output, VoteRule
from core.signals.backtest import backtest_models
from core.signals.ensemble import Member, build_calibration
from core.signals.live import CoinModels, Loaded
from core.signals.trading import (
    NO_EDGE_NOTE,
    StrategyConfig,
    compute_metrics,
    positions_from_signals,
    run_backtest,
)

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
    metrics = result.metrics.strategy
    assert metrics.total_return == pytest.approx(final / 10_000 - 1)
    assert metrics.trades == 1 and metrics.win_rate == 1.0
    assert metrics.exposure == pytest.approx(1 / 3)


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
    assert result.metrics.buy_and_hold.trades == 1
    assert result.metrics.strategy.trades == 0
    assert result.equity["strategy"].tolist() == [10_000] * 3


def test_short_only_with_the_long_short_option():
    sigs = signals("BEARISH", "NEUTRAL", "NEUTRAL")
    flat = run_backtest(THREE, sigs, config=BacktestConfig())
    assert flat.metrics.strategy.trades == 0
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
    assert m.total_return == pytest.approx(0.21)
    assert m.max_drawdown == pytest.approx(99 / 110 - 1)
    assert m.sharpe == pytest.approx(returns.mean() / returns.std(ddof=1) * math.sqrt(per_year))
    downside = math.sqrt(np.mean(np.minimum(returns, 0) ** 2))
    assert m.sortino == pytest.approx(returns.mean() / downside * math.sqrt(per_year))
    assert m.cagr == pytest.approx(1.21 ** (per_year / 3) - 1)
    assert m.win_rate == 0.5 and m.trades == 2
    assert m.exposure == pytest.approx(2 / 3)


def test_flat_strategy_has_undefined_ratios_not_invented_ones():
    m = compute_metrics(pd.Series([100.0, 100.0]), [], np.array([0, 0]), "4h", initial=100.0)
    assert m.sharpe is None and m.sortino is None and m.win_rate is None
    assert m.total_return == 0 and m.max_drawdown == 0


def test_positions_map_signals_and_respect_long_only():
    s = pd.Series(["BULLISH", "BEARISH", "NEUTRAL", 1, -1, 0])
    assert positions_from_signals(s).tolist() == [1, 0, 0, 1, 0, 0]
    assert positions_from_signals(s, allow_short=True).tolist() == [1, -1, 0, 1, -1, 0]


# --- holding, sizes -----------------------------------------------------------------------------


def test_a_position_is_held_for_the_hold_then_kept_while_the_call_stays():
    flat = candles([100] * 10, [100] * 10)
    sigs = signals(
        "BULLISH", "NEUTRAL", "NEUTRAL", "NEUTRAL", "BULLISH", "BULLISH", "NEUTRAL", "NEUTRAL",
        "NEUTRAL", "NEUTRAL",
    )  # fmt: skip
    result = run_backtest(flat, sigs, config=BacktestConfig(fee=0, slippage_bps=0), hold=3)
    # entered at the open of candle 1; held 3 candles → first exit chance at the open of 4, where
    # the call of candle 3 is NEUTRAL: out. Re-entered at 5 on candle 4's call, kept through 6
    # (candle 5 still BULLISH), 3 candles minimum → exit at the open of 8.
    assert result.equity["position"].tolist() == [0, 1, 1, 1, 0, 1, 1, 1, 0, 0]
    assert result.trades["bars"].tolist() == [3, 3]
    follow = run_backtest(flat, sigs, config=BacktestConfig(fee=0, slippage_bps=0), hold=1)
    assert follow.equity["position"].tolist() == [0, 1, 0, 0, 0, 1, 1, 0, 0, 0]


def test_a_half_size_long_moves_half_the_equity():
    sigs = signals("BULLISH", "NEUTRAL", "NEUTRAL")
    sizes = pd.Series([0.5, 1.0, 1.0], index=sigs.index)
    config = BacktestConfig(fee=0.001, slippage_bps=0)
    result = run_backtest(THREE, sigs, config=config, sizes=sizes)
    expected = 5_000 + 5_000 * 0.999**2 * 120 / 110
    assert result.equity["strategy"].iloc[-1] == pytest.approx(expected)
    assert result.trades["size"].tolist() == [0.5]
    assert result.metrics.strategy.avg_size == 0.5


# --- the strategy on hand-built members ----------------------------------------------------------


FOLDS = 4


def walk(n: int, seed: int, scale: float = 0.01) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100 * np.exp(np.cumsum(rng.normal(0, scale, n)))


def frame_for(closes: np.ndarray, horizon: int) -> pd.DataFrame:
    """Candles (open = previous close) with the split of each row: FOLDS equal fold blocks over
    the first 80%, a purge, then the test window."""
    n = len(closes)
    data = candles(np.append(closes[0], closes[:-1]), closes)
    test_start = int(n * 0.8)
    block = (test_start - horizon) // FOLDS
    split = np.array(["none"] * n, dtype=object)
    for k in range(FOLDS):
        split[k * block : (k + 1) * block] = f"fold{k + 1}"
    split[test_start:] = "test"
    future = np.full(n, np.nan)
    future[:-horizon] = closes[horizon:] / closes[:-horizon] - 1
    return data.assign(split=split, future_return=future)


def member(data: pd.DataFrame, forecast: np.ndarray, *, passed: bool = True) -> Member:
    rows = data["split"] != "none"
    preds = data.loc[rows, ["open_time", "split", "close", "future_return"]].assign(
        forecast_return=np.asarray(forecast, dtype=float)[rows.to_numpy()]
    )
    # the test window's last rows have no known outcome, as in a real registry
    return Member(
        kind="lstm_return",
        name="lstm_return_btcusdt",
        version="v1",
        rule=VoteRule(Output.RETURN),
        output_name="forecast_return",
        predictions=preds.reset_index(drop=True),
        passed=passed,
        reason="votes: its gates pass" if passed else "AUC interval does not clear 0.5",
    )


def models_for(
    members: list[Member], horizon: int, config: SignalConfig | None = None
) -> CoinModels:
    """What :func:`core.signals.live.load_coin_models` returns, from hand-built members."""
    config = config or SignalConfig()
    voting = [m for m in members if m.passed]
    cal = build_calibration(voting, horizon=horizon, config=config) if voting else None
    loaded = tuple(Loaded(m, None, None) for m in members)
    return CoinModels("BTCUSDT", "1h", loaded, cal, config, horizon)


def test_a_call_flipping_every_hour_is_held_for_the_horizon():
    horizon = 6
    data = frame_for(walk(2_000, 1), horizon)
    flips = np.where(np.arange(len(data)) % 2 == 0, 0.01, -0.01)
    models = models_for([member(data, flips)], horizon)
    config = BacktestConfig(allow_short=True)
    result = backtest_models(models, data, config=config)
    trades = result.trades
    assert len(trades) > 10
    assert (trades.loc[trades["exit_reason"] == "signal", "bars"] >= horizon).all()
    every_hour = backtest_models(models, data, config=config, strategy=StrategyConfig(hold=1))
    assert len(every_hour.trades) > 4 * len(trades)
    assert result.hold == horizon and every_hour.hold == 1


def planted(
    seed: int, strong_informed: bool, test_seed: int = 99
) -> tuple[pd.DataFrame, np.ndarray]:
    """Fold rows: 30% strong calls (|edge| 1%) and 70% weak ones (0.1%); one kind is right
    about the next candle, the other a coin flip. Test rows: random calls."""
    horizon = 1
    closes = walk(3_000, seed)
    data = frame_for(closes, horizon)
    rng = np.random.default_rng(seed + 1)
    n = len(data)
    move = np.sign(np.append(closes[1:] - closes[:-1], 0))
    strong = rng.random(n) < 0.3
    informed = strong if strong_informed else ~strong
    direction = np.where(informed, move, rng.choice([-1.0, 1.0], n))
    forecast = direction * np.where(strong, 0.01, 0.001)
    test = (data["split"] == "test").to_numpy()
    other = np.random.default_rng(test_seed)
    forecast[test] = other.choice([-1.0, 1.0], test.sum()) * other.choice([0.01, 0.001], test.sum())
    return data, forecast


def chosen_for(data: pd.DataFrame, forecast: np.ndarray) -> tuple[float, object]:
    models = models_for([member(data, forecast)], 1)
    result = backtest_models(
        models, data, config=BacktestConfig(fee=0.0005, slippage_bps=0, allow_short=True)
    )
    return result.threshold.min_strength, result


def test_the_threshold_is_chosen_on_the_folds_only():
    data, forecast = planted(3, strong_informed=True)
    q, result = chosen_for(data, forecast)
    assert result.threshold.tuned and result.threshold.folds == ("fold1", "fold2", "fold3", "fold4")
    assert q > 0.6  # only the strong (informed) calls are worth trading
    assert result.threshold.fold_return > result.threshold.untuned_return
    assert result.threshold.fold_end < result.threshold.test_start
    swapped, forecast2 = planted(3, strong_informed=False)
    q2, _ = chosen_for(swapped, forecast2)
    assert q2 != q and q2 < 0.6  # the weak calls are the informed ones: trade them too
    # Changing the test window's calls or prices leaves the choice exactly as it was.
    _, other_calls = planted(3, strong_informed=True, test_seed=5)
    q3, result3 = chosen_for(data, other_calls)
    assert q3 == q
    pd.testing.assert_frame_equal(result3.threshold.grid, result.threshold.grid)
    shocked = data.copy()
    test = (data["split"] == "test").to_numpy()
    shocked.loc[test, ["open", "close"]] *= np.linspace(1, 3, test.sum())[:, None]
    q4, result4 = chosen_for(shocked, forecast)
    assert q4 == q
    pd.testing.assert_frame_equal(result4.threshold.grid, result.threshold.grid)
    assert result4.metrics.strategy != result.metrics.strategy
    assert "chosen on the walk-forward folds, before the test window" in result.threshold.summary


def test_zero_cost_is_never_worse_than_with_costs():
    data, forecast = planted(11, strong_informed=True)
    models = models_for([member(data, forecast)], 1)
    for allow_short in (False, True):
        config = BacktestConfig(fee=0.002, slippage_bps=10, allow_short=allow_short)
        result = backtest_models(models, data, config=config)
        m = result.metrics
        assert m.zero_cost.trades == m.strategy.trades > 0
        assert m.zero_cost.total_return > m.strategy.total_return
        assert (result.equity["zero_cost"] >= result.equity["strategy"] - 1e-9).all()
        assert m.buy_and_hold.trades == 1


#: The keys the JSON of ``backtest --json`` has always given each leg, in order.
LEG_KEYS = [
    "total_return",
    "cagr",
    "sharpe",
    "sortino",
    "max_drawdown",
    "win_rate",
    "trades",
    "exposure",
    "avg_size",
]


def test_the_metrics_json_keeps_its_legs_keys_and_numbers():
    data, forecast = planted(11, strong_informed=True)
    result = backtest_models(models_for([member(data, forecast)], 1), data)
    out = result.metrics.to_dict()
    assert list(out) == ["strategy", "zero_cost", "buy_and_hold"]
    assert all(list(leg) == LEG_KEYS for leg in out.values())
    strategy = result.metrics.strategy
    assert out["strategy"] == {key: getattr(strategy, key) for key in LEG_KEYS}
    assert out["strategy"]["trades"] == len(result.trades) > 0
    # the engine alone has no zero-cost leg, and its JSON says nothing of one
    alone = run_backtest(candles([1.0, 1.1, 1.2], [1.1, 1.2, 1.3]), pd.Series([1], index=[START]))
    assert list(alone.metrics.to_dict()) == ["strategy", "buy_and_hold"]


def always_up(up_share: float, seed: int = 4) -> tuple[pd.DataFrame, Member]:
    """Candles going up on ``up_share`` of the hours, and a member always forecasting up."""
    rng = np.random.default_rng(seed)
    steps = np.where(rng.random(1_500) < up_share, 0.01, -0.01)
    data = frame_for(100 * np.cumprod(1 + steps), 1)
    return data, member(data, np.full(len(data), 0.01))


def test_size_follows_the_confidence():
    data, up = always_up(0.55)
    config = SignalConfig(strength_buckets=1, min_support=1, prior_strength=0)
    models = models_for([up], 1, config)
    folds = data[data["split"].str.startswith("fold")]
    hit = float((folds["future_return"] > 0).mean())  # BULLISH's hit rate on the folds
    expected = (hit - 0.5) / (0.6 - 0.5)
    assert 0.2 < expected < 0.8
    costless = BacktestConfig(fee=0, slippage_bps=0)
    full = backtest_models(models, data, config=costless)
    sizing = StrategyConfig(size_by_confidence=True, full_size_at=0.6)
    sized = backtest_models(models, data, config=costless, strategy=sizing)
    assert sized.trades["size"].to_numpy() == pytest.approx(expected)
    assert sized.metrics.strategy.avg_size == pytest.approx(expected)
    assert full.metrics.strategy.avg_size == 1.0
    assert sized.calls["confidence"].to_numpy() == pytest.approx(hit)
    # one long held through the window both times: the sized one moves `expected` as much
    assert len(full.trades) == len(sized.trades) == 1
    assert sized.metrics.strategy.total_return == pytest.approx(
        expected * full.metrics.strategy.total_return
    )
    assert "confidence" in " ".join(sized.notes)
    # a confidence at or below a coin flip takes no position at all
    data, up = always_up(0.45)
    never = backtest_models(models_for([up], 1, config), data, strategy=sizing)
    assert never.trades.empty and never.metrics.strategy.total_return == 0


def test_a_coin_without_a_passing_model_is_no_edge():
    data = frame_for(walk(1_000, 2), 6)
    models = models_for([member(data, np.full(len(data), 0.01), passed=False)], 6)
    result = backtest_models(models, data)
    assert result.no_edge and result.threshold is None
    assert result.notes[0] == NO_EDGE_NOTE
    assert "AUC interval does not clear 0.5" in result.notes[1]
    assert result.trades.empty and result.metrics.strategy.total_return == 0
    assert result.metrics.buy_and_hold.trades == 1
    assert result.metrics.zero_cost == result.metrics.strategy
    assert (
        result.equity["open_time"].iloc[0] == data.loc[data["split"] == "test", "open_time"].iloc[0]
    )


def test_confidences_for_many_calls_equal_the_calibration_lookup():
    from core.signals.ensemble import FROM_VOTE
    from core.signals.strategy import _confidences

    data, forecast = planted(5, strong_informed=True)
    rng = np.random.default_rng(0)
    forecast = forecast * rng.uniform(0.2, 3, len(forecast))  # many strengths, 3 buckets
    models = models_for([member(data, forecast)], 1, SignalConfig(min_support=40))
    cal = models.calibration
    votes = rng.choice([-1, 0, 1], 400)
    strength = rng.random(400)
    many = _confidences(cal, votes, strength)
    one = [
        cal.lookup(FROM_VOTE[int(v)], float(s)).value for v, s in zip(votes, strength, strict=True)
    ]
    assert np.allclose(many, np.array(one, dtype=float), equal_nan=True)
    assert np.isfinite(many).mean() > 0.5


def test_cost_levels_hold_the_configs_own_costs():
    from core.signals.backtest import cost_column, cost_levels

    for config in (
        BacktestConfig(),
        BacktestConfig(fee=0, slippage_bps=0),
        BacktestConfig(fee=0.002),
    ):
        levels = cost_levels(config)
        assert len(levels) == 5 and levels[0] == (0.0, 0.0)
        assert levels[cost_column(levels, config)] == pytest.approx(
            (config.fee, config.slippage_bps)
        )
