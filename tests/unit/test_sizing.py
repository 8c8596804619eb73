"""Volatility-target sizing in the backtest: the arithmetic by hand, no look-ahead, and on real
trained volatility models: the forecast holds the target closer than trailing sizing and
buy-and-hold on GARCH candles, and has no such advantage on a constant-volatility walk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import BacktestConfig
from core.errors import ConfigError, ModelNotFoundError
from core.registry.model_registry import ModelRegistry
from core.signals.sizing import (
    MATERIAL_GAIN,
    SizingConfig,
    VolForecast,
    load_vol_forecast,
    sizing_backtest,
)
from core.volatility import garman_klass
from core.volatility.train import train_volatility
from tests.core_cli import core_json, run_core
from tests.vol_sim import constant_vol_candles, garch_candles

ROOT = Path(__file__).resolve().parents[2]
START = pd.Timestamp("2025-01-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)


def flat_candles(n: int, *, jump_at: int | None = None) -> pd.DataFrame:
    """``n`` candles with a 1% range each; the close rises 1% at candle ``jump_at``."""
    close = np.full(n, 100.0)
    if jump_at is not None:
        close[jump_at:] = 101.0
    opens = np.concatenate([[100.0], close[:-1]])
    return pd.DataFrame(
        {
            "open_time": START + HOUR * np.arange(n),
            "open": opens,
            "high": np.maximum(opens, close) * 1.005,
            "low": np.minimum(opens, close) * 0.995,
            "close": close,
        }
    )


def forecast_of(values, *, start: int = 200, horizon: int = 24) -> VolForecast:
    times = START + HOUR * (start + np.arange(len(values)))
    return VolForecast(
        "BTCUSDT", "vol_har_btcusdt v1", horizon, "test", True, pd.Series(values, index=times)
    )


def test_forecast_weight_is_target_over_sigma_traded_at_the_next_open_with_costs():
    candles = flat_candles(260, jump_at=230)
    sigma = np.full(48, 0.04)  # 2% target / 4% daily sigma: half the equity
    result = sizing_backtest(
        candles,
        forecast_of(sigma),
        config=BacktestConfig(fee=0.001, slippage_bps=5),
        sizing=SizingConfig(vol_target=0.02),
    )
    eq = result.equity
    assert eq["open_time"].iloc[0] == START + 201 * HOUR  # forecast at 200's close acts at 201
    w = eq["forecast_weight"].to_numpy()
    assert w[0] == pytest.approx(0.5)
    cost = 0.001 + 0.0005
    jump = eq.index[eq["open_time"] == START + 230 * HOUR][0]
    before = 10_000 * (1 - 0.5 * cost)
    assert eq["forecast"].iloc[jump - 1] == pytest.approx(before)
    # the 1% rise of candle 230 moves half the equity
    assert eq["forecast"].iloc[jump] == pytest.approx(before * (1 + 0.5 * 0.01))
    assert w[jump + 1] == pytest.approx(0.5 * 1.01 / 1.005)  # drifted, not yet rebalanced
    bh = result.metrics.buy_and_hold
    assert bh.turnover == pytest.approx(2.0) and bh.avg_size == pytest.approx(1.0)
    assert bh.total_return == pytest.approx((1 - cost) * 1.01 * (1 - cost) - 1)
    # the JSON keeps the keys and order it has always had
    out = result.to_dict()
    assert list(out["metrics"]) == ["forecast", "trailing", "buy_and_hold"]
    assert list(out["metrics"]["buy_and_hold"]) == [
        "total_return",
        "cagr",
        "sharpe",
        "max_drawdown",
        "turnover",
        "avg_size",
        "tracking_error",
        "bias",
        "realised_vol",
    ]
    assert out["metrics"]["buy_and_hold"]["turnover"] == bh.turnover
    assert list(out["tests"]) == ["forecast_vs_trailing", "forecast_vs_buy_and_hold"]
    assert list(out["tests"]["forecast_vs_trailing"]) == ["p_value", "gain", "periods", "better"]


def test_a_later_candle_or_forecast_does_not_change_the_past():
    candles = flat_candles(300)
    rng = np.random.default_rng(3)
    sigma = rng.uniform(0.02, 0.06, 90)
    base = sizing_backtest(candles, forecast_of(sigma), sizing=SizingConfig(rebalance=6)).equity
    changed = sigma.copy()
    changed[60:] *= 3
    later = candles.copy()
    later.loc[262:, ["close", "high"]] *= 1.2
    other = sizing_backtest(later, forecast_of(changed), sizing=SizingConfig(rebalance=6)).equity
    cut = START + 261 * HOUR  # forecast row 60 is made at 260's close and acts from 261
    for column in ("forecast", "trailing", "buy_and_hold", "forecast_weight"):
        a = base.loc[base["open_time"] < cut, column].to_numpy()
        b = other.loc[other["open_time"] < cut, column].to_numpy()
        assert a == pytest.approx(b), column
    assert not np.allclose(base["forecast"].iloc[-1], other["forecast"].iloc[-1])


def test_bad_settings_are_refused_in_words():
    with pytest.raises(ConfigError, match="vol_target"):
        SizingConfig(vol_target=2.0)
    with pytest.raises(ConfigError, match="trailing_hours"):
        SizingConfig(trailing_hours=1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A home with real HAR volatility models: BTC on GARCH candles, ETH on a constant-volatility
    walk, both stored as the coins' candles."""
    from core.data.store import save_candles

    home = tmp_path_factory.mktemp("sizing_home")
    frames = {
        "BTCUSDT": garch_candles(12000, seed=11),
        "ETHUSDT": constant_vol_candles(12000, seed=7),
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRYPTOVOLT_HOME", str(home))
        registry = ModelRegistry()
        for symbol, frame in frames.items():
            save_candles(frame, symbol)
            train_volatility(symbol, estimator="har", registry=registry, candles=frame)
    return home, ModelRegistry(home / "models"), frames


def test_on_garch_candles_the_forecast_holds_the_target_closer(trained):
    _, registry, frames = trained
    forecast = load_vol_forecast(registry, "BTCUSDT")
    assert forecast.gates_passed and forecast.horizon == 24
    result = sizing_backtest(frames["BTCUSDT"], forecast)
    m = result.metrics
    assert m.forecast.tracking_error < m.trailing.tracking_error
    assert m.forecast.tracking_error < m.buy_and_hold.tracking_error
    assert result.tests.vs_trailing.better
    assert result.tests.vs_buy_and_hold.better
    # the forecast's sizes are its own test window's: nothing before it is traded
    test_start = forecast.daily_sigma.index[0]
    assert result.equity["open_time"].iloc[0] == test_start + HOUR
    # sized to 2% a day, the position is about as volatile as that; buy-and-hold is not
    assert abs(m.forecast.realised_vol - 0.02) < abs(m.buy_and_hold.realised_vol - 0.02)


def test_on_a_constant_volatility_walk_the_forecast_has_no_advantage(trained):
    _, registry, frames = trained
    forecast = load_vol_forecast(registry, "ETHUSDT")
    assert not forecast.gates_passed  # nothing beats persistence there
    result = sizing_backtest(frames["ETHUSDT"], forecast)
    versus = result.tests.vs_trailing
    assert not versus.better
    assert abs(versus.gain) < MATERIAL_GAIN
    assert any("fails its gates" in note for note in result.notes)


def test_the_positions_realised_variance_is_weight_squared_times_garman_klass(trained):
    _, registry, frames = trained
    result = sizing_backtest(frames["BTCUSDT"], load_vol_forecast(registry, "BTCUSDT"))
    eq = result.equity.merge(frames["BTCUSDT"], on="open_time", suffixes=("", "_c"))
    v = garman_klass(eq["open"], eq["high"], eq["low"], eq["close"])
    w = eq["forecast_weight"].to_numpy()
    blocks = len(eq) // 24
    per = (w[: blocks * 24] ** 2 * v[: blocks * 24]).reshape(blocks, 24).sum(axis=1)
    assert result.metrics.forecast.realised_vol == pytest.approx(np.sqrt(per.mean()))


def test_cli_prints_the_three_sizings_as_json_and_refuses_a_coin_without_a_model(trained):
    home, _, _ = trained
    out = core_json(home, "backtest", "--coin", "BTC", "--sizing", "--json", "--fee", "0.0005")
    assert set(out["metrics"]) == {"forecast", "trailing", "buy_and_hold"}
    for method in out["metrics"].values():
        assert {"total_return", "sharpe", "max_drawdown", "turnover"} <= set(method)
    assert out["fee"] == 0.0005 and out["vol_target"] == 0.02 and out["rebalance_hours"] == 24
    assert out["tests"]["forecast_vs_trailing"]["better"] is True
    missing = run_core(home, "backtest", "--coin", "SOL", "--sizing")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: SOLUSDT has no volatility model")
    with pytest.raises(ModelNotFoundError):
        load_vol_forecast(ModelRegistry(home / "models"), "SOLUSDT")
