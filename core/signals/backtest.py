"""Backtest of the ensemble signal: calls → held positions with fees and slippage → equity.

**Execution (no look-ahead).** The call made at the close of candle t acts at the **open of
candle t+1**; equity is marked at every close. BULLISH → long, BEARISH → short when
``allow_short`` else flat, NEUTRAL (or no call for that candle) → flat. Whatever is open at the
end is closed at the last close. Costs on every entry and every exit:

* slippage: buying fills at ``price * (1 + bps/10_000)``, selling at ``price * (1 - bps/10_000)``;
* fee: ``fee`` of the traded notional. A long of size f (the fraction of equity it takes, 1 unless
  sized by confidence) buys ``f * equity * (1 - fee) / fill`` units and sells them for
  ``units * fill * (1 - fee)``, so a full-size round trip returns ``(1-fee)^2 * exit / entry``.
  A short sells ``f * equity / fill`` units and receives that notional less the fee, then buys
  them back paying ``fee`` on top: at full size it returns ``(2 - fee) - (1 + fee) * exit / entry``.

**Holding for the horizon.** A call is judged ``horizon`` candles ahead, so a position opened on
it is held at least ``hold`` candles (default: the signal's horizon) and then kept while the call
stays the same; it is closed at the first open after that where the call differs (and reopened
the other way on an opposite call). A call flipping every hour therefore trades about once per
horizon, not every hour. ``hold=1`` is the old "follow every call" rule.

**The threshold, chosen before the test window.** Each call has a *strength*: the mean percentile
of the voting members' |edge| among the walk-forward fold rows (:meth:`Calibration.strengths`).
The strategy trades only calls whose strength is at least ``min_strength``; the members' own vote
margins stay as their cards set them. ``min_strength`` is picked from a grid (0.00 … 0.99) by
replaying the strategy, with the same costs, hold and sizing, on each walk-forward fold's
out-of-sample predictions (all strictly before the test window) and taking the value with the
highest compounded return over the folds after fees and slippage (ties: the lowest). It is then
applied unchanged to the test window. The test window never takes part in the choice.

**Size by confidence** (optional, the seed's "use confidence scores for position sizing"): a
position takes ``size = clip((confidence - 0.5) / (full_size_at - 0.5), 0, 1)`` of equity, where
``confidence`` is the call's out-of-time hit rate from the confidence table (built on the fold
rows, see :mod:`core.signals.ensemble`): no size at a coin flip or below, full size at
``full_size_at`` (default 0.60) or above, linear between. A call without a confidence is not
traded. The size is fixed when the position opens (no rebalancing while it is held). On the fold
rows the table is in-sample, so sized fold returns flatter the choice a little; the test window
is unaffected.

**Beside it.** Buy-and-hold buys at the same open the strategy could first act on and sells at
the last close, with the same costs; the *zero-cost* line is the very same positions and sizes
with no fee and no slippage, so the gap between the two is what trading costs. Metrics are
annualised for the interval with 24/7 trading (365.25 days a year); Sharpe and Sortino use
per-candle returns and a zero risk-free rate.

A coin with no member whose gates passed is **NO EDGE**: the result holds buy-and-hold over the
test window, no trades, and a note saying so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.config import BacktestConfig, Interval, Paths, SignalConfig
from core.signals.backtest_grid import grid_backtest
from core.signals.ensemble import (
    TEST_SPLIT,
)

if TYPE_CHECKING:
    from core.registry.model_registry import ModelRegistry

__all__ = [
    "backtest_coin",
    "backtest_models",
    "cost_column",
    "cost_levels",
]

from core.signals.strategy import choose_threshold, strategy_calls
from core.signals.trading import NO_EDGE_NOTE, BacktestResult, StrategyConfig, run_backtest


def cost_levels(config: BacktestConfig) -> tuple[tuple[float, float], ...]:
    """Five (fee, slippage_bps) levels for the grid: 0, 0.5, 1, 2 and 3 times the config's costs
    (the default costs' multiples when the config has none); level 1x is the config's."""
    fee, slip = config.fee, config.slippage_bps
    if fee == 0 and slip == 0:
        default = BacktestConfig()
        fee, slip = default.fee, default.slippage_bps
        return (
            (0.0, 0.0),
            (fee * 0.5, slip * 0.5),
            (fee, slip),
            (fee * 2, slip * 2),
            (fee * 3, slip * 3),
        )
    return tuple((fee * m, slip * m) for m in (0.0, 0.5, 1.0, 2.0, 3.0))


def cost_column(costs: Sequence[tuple[float, float]], config: BacktestConfig) -> int:
    """Which of ``costs`` (from :func:`cost_levels`) is the config's own."""
    own = (float(config.fee), float(config.slippage_bps))
    for j, (fee, slip) in enumerate(costs):
        if math.isclose(fee, own[0], abs_tol=1e-15) and math.isclose(slip, own[1], abs_tol=1e-12):
            return j
    return min(2, len(costs) - 1)


def backtest_models(
    models: Any,
    candles: pd.DataFrame,
    *,
    config: BacktestConfig | None = None,
    strategy: StrategyConfig | None = None,
    grid: bool = True,
) -> BacktestResult:
    """Backtest loaded :class:`core.signals.live.CoinModels` on their test window (the saved
    out-of-sample predictions) with the threshold chosen on their walk-forward folds.

    Raises ValueError when no candle falls in the test window.
    """
    config = config or BacktestConfig()
    strategy = strategy or StrategyConfig()
    interval = models.timeframe
    hold = strategy.hold or int(models.horizon)
    if not models.loaded:
        from core.errors import ModelNotFoundError

        raise ModelNotFoundError(
            f"{models.symbol} has no direction model, only volatility: the backtest judges "
            f"direction calls. Train one (`python -m core train --coins {models.symbol}`)."
        )
    voting = [x.member for x in models.loaded if x.member.passed]
    if not voting or models.calibration is None:
        return _no_edge(models, candles, config, strategy, hold)
    calls = strategy_calls(voting, models.calibration, config=models.config, strategy=strategy)
    margins = {m.name: m.rule.margin for m in voting}
    chosen = choose_threshold(
        calls,
        candles,
        config=config,
        hold=hold,
        strategy=strategy,
        interval=interval,
        margins=margins,
    )
    test = calls[calls["split"] == TEST_SPLIT].sort_values("open_time").reset_index(drop=True)
    if test.empty:
        raise ValueError(f"{models.symbol}: the models saved no test-window predictions")
    traded = np.where(test["strength"].to_numpy() >= chosen.min_strength, test["vote"], 0)
    test = test.assign(traded=traded.astype("int64"))
    index = pd.DatetimeIndex(test["open_time"])
    signals = pd.Series(traded, index=index)
    sizes = pd.Series(test["size"].to_numpy(), index=index)
    costed = run_backtest(
        candles,
        signals,
        config=config,
        interval=interval,
        symbol=models.symbol,
        hold=hold,
        sizes=sizes,
    )
    free = run_backtest(
        candles,
        signals,
        config=replace(config, fee=0.0, slippage_bps=0.0),
        interval=interval,
        symbol=models.symbol,
        hold=hold,
        sizes=sizes,
    )
    equity = costed.equity.assign(zero_cost=free.equity["strategy"].to_numpy())
    metrics = replace(costed.metrics, zero_cost=free.metrics.strategy)
    heat = None
    if grid:
        heat = grid_backtest(
            candles,
            index,
            test["vote"].to_numpy(),
            test["strength"].to_numpy(),
            strategy.thresholds,
            cost_levels(config),
            hold=hold,
            allow_short=config.allow_short,
            size=test["size"].to_numpy(),
            step=pd.Timedelta(milliseconds=Interval.parse(interval).milliseconds),
        )
    first, last = index[0], index[-1]
    versions = ", ".join(f"{m.name} {m.version}" for m in voting)
    notes = [
        f"Out-of-sample test window {first:%Y-%m-%d %H:%M} → {last:%Y-%m-%d %H:%M} UTC, "
        f"{len(test):,} calls from {versions}.",
        f"Each position is held at least {hold} candle{'s' if hold != 1 else ''} "
        f"(the signal's horizon{'' if strategy.hold is None else ', overridden'}), then kept "
        "while the call stays the same.",
    ]
    if strategy.size_by_confidence:
        notes.append(
            "Position size follows the confidence: clip((confidence - 0.5) / "
            f"({strategy.full_size_at:g} - 0.5), 0, 1) of equity."
        )
    for x in models.loaded:
        if not x.member.passed:
            notes.append(f"{x.member.name} {x.member.version} does not vote: {x.member.reason}")
    return BacktestResult(
        symbol=models.symbol,
        interval=costed.interval,
        config=config,
        equity=equity,
        trades=costed.trades,
        metrics=metrics,
        notes=notes,
        hold=hold,
        strategy=strategy,
        threshold=chosen,
        calls=test,
        grid=heat,
    )


def _no_edge(
    models: Any,
    candles: pd.DataFrame,
    config: BacktestConfig,
    strategy: StrategyConfig,
    hold: int,
) -> BacktestResult:
    """Buy-and-hold over the test window, a flat strategy, and the note saying why."""
    preds = models.loaded[0].member.predictions
    times = pd.DatetimeIndex(sorted(preds.loc[preds["split"] == TEST_SPLIT, "open_time"].unique()))
    if len(times) == 0:
        times = pd.DatetimeIndex(sorted(preds["open_time"].unique()))
    flat = pd.Series(np.zeros(len(times), dtype="int64"), index=times)
    result = run_backtest(
        candles, flat, config=config, interval=models.timeframe, symbol=models.symbol, hold=hold
    )
    notes = [NO_EDGE_NOTE]
    notes += [f"{x.member.name} {x.member.version}: {x.member.reason}" for x in models.loaded]
    return replace(
        result,
        equity=result.equity.assign(zero_cost=result.equity["strategy"].to_numpy()),
        metrics=replace(result.metrics, zero_cost=result.metrics.strategy),
        notes=notes,
        strategy=strategy,
        no_edge=True,
    )


def backtest_coin(
    symbol: str,
    registry: ModelRegistry,
    *,
    candles: pd.DataFrame | None = None,
    config: BacktestConfig | None = None,
    signal_config: SignalConfig | None = None,
    strategy: StrategyConfig | None = None,
    grid: bool = True,
    paths: Paths | None = None,
) -> BacktestResult:
    """Backtest a coin's promoted models on their test window (see :func:`backtest_models`);
    ``candles`` left out are read from the store of the home ``paths`` describes (the edge's
    ``context.paths``).

    Raises:
        ModelNotFoundError: the coin has no trained model.
        NoDataError: no stored candles (needed for the open prices); fetch them first.
    """
    from core.data.store import load_candles
    from core.signals.live import load_coin_models

    models = load_coin_models(
        symbol, registry, config=signal_config, loader=lambda name, version: None
    )
    if candles is None:
        candles = load_candles(models.symbol, models.timeframe, paths=paths)
    return backtest_models(models, candles, config=config, strategy=strategy, grid=grid)
