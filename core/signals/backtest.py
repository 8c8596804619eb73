"""Backtest of the ensemble signal: signals → trades with fees and slippage → equity and metrics.

Execution model (no look-ahead): the signal computed at the close of candle t decides the position
held from the **open of candle t+1**; the equity is marked at every close. BULLISH → long,
BEARISH → short when ``allow_short`` else flat, NEUTRAL (or no signal for that candle) → flat.
Whatever is open at the end is closed at the last close. Costs on every entry and every exit:

* slippage: buying fills at ``price * (1 + bps/10_000)``, selling at ``price * (1 - bps/10_000)``;
* fee: ``fee`` of the traded notional. A long buys ``equity * (1 - fee) / fill`` units and sells
  them for ``units * fill * (1 - fee)``, so a round trip returns ``(1-fee)^2 * exit / entry``.
  A short sells ``equity / fill`` units (notional = equity) and pays ``fee`` of it, then buys
  them back paying ``fee`` on top: it returns ``(2 - fee) - (1 + fee) * exit / entry`` per unit
  of equity.

Buy-and-hold buys at the same open the strategy could first act on and sells at the last close,
with the same costs. Metrics are annualised for the interval with 24/7 trading
(365.25 days a year); Sharpe and Sortino use per-candle returns and a zero risk-free rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.config import BacktestConfig, Interval, SignalConfig
from core.signals.ensemble import SignalKind

__all__ = [
    "METRIC_NAMES",
    "BacktestResult",
    "backtest_coin",
    "compute_metrics",
    "positions_from_signals",
    "run_backtest",
]

_YEAR_MS = 365.25 * 24 * 3600 * 1000
METRIC_NAMES = (
    "total_return",
    "cagr",
    "sharpe",
    "sortino",
    "max_drawdown",
    "win_rate",
    "trades",
    "exposure",
)


@dataclass(frozen=True)
class BacktestResult:
    """``equity``: one row per candle (open_time, open, close, position, strategy, buy_and_hold);
    ``trades``: one row per round trip (side, entry/exit time and fill price, return, pnl, bars);
    ``metrics``: ``{"strategy": {...}, "buy_and_hold": {...}}`` with :data:`METRIC_NAMES`."""

    symbol: str
    interval: str
    config: BacktestConfig
    equity: pd.DataFrame
    trades: pd.DataFrame
    metrics: dict[str, dict[str, float | int | None]]
    notes: list[str] = field(default_factory=list)


def positions_from_signals(signals: pd.Series, *, allow_short: bool = False) -> pd.Series:
    """Target position (+1 / 0 / -1) per signal; accepts SignalKind, its strings, or -1/0/+1."""
    mapping = {SignalKind.BULLISH.value: 1, SignalKind.BEARISH.value: -1, "NEUTRAL": 0}

    def one(value: Any) -> int:
        if isinstance(value, str):
            pos = mapping.get(value.upper(), 0)
        elif value is None or (isinstance(value, float) and math.isnan(value)):
            pos = 0
        else:
            pos = int(np.sign(value))
        return pos if allow_short or pos >= 0 else 0

    return signals.map(one).astype("int64")


class _Book:
    """Cash and units of one account; fills include slippage and fees (see module docstring)."""

    def __init__(self, cash: float, fee: float, slip: float) -> None:
        self.cash, self.units, self.fee, self.slip = cash, 0.0, fee, slip
        self.side = 0
        self.entry: dict[str, Any] = {}

    def value(self, price: float) -> float:
        return self.cash + self.units * price

    def enter(self, side: int, price: float, when: pd.Timestamp, bar: int) -> None:
        equity = self.cash
        if side > 0:
            fill = price * (1 + self.slip)
            self.units = equity * (1 - self.fee) / fill
            self.cash = 0.0
        else:
            fill = price * (1 - self.slip)
            self.units = -equity / fill
            self.cash = equity + equity * (1 - self.fee)
        self.side = side
        self.entry = {"side": side, "time": when, "fill": fill, "equity": equity, "bar": bar}

    def exit(self, price: float, when: pd.Timestamp, bar: int, reason: str) -> dict[str, Any]:
        if self.side > 0:
            fill = price * (1 - self.slip)
            self.cash += self.units * fill * (1 - self.fee)
        else:
            fill = price * (1 + self.slip)
            self.cash += self.units * fill * (1 + self.fee)
        start = self.entry["equity"]
        trade = {
            "side": "long" if self.side > 0 else "short",
            "entry_time": self.entry["time"],
            "entry_price": self.entry["fill"],
            "exit_time": when,
            "exit_price": fill,
            "return": self.cash / start - 1.0,
            "pnl": self.cash - start,
            "bars": bar - self.entry["bar"] + 1,
            "exit_reason": reason,
        }
        self.units, self.side, self.entry = 0.0, 0, {}
        return trade


def run_backtest(
    candles: pd.DataFrame,
    signals: pd.Series,
    *,
    config: BacktestConfig | None = None,
    interval: str | Interval = "1h",
    symbol: str = "",
) -> BacktestResult:
    """Trade ``signals`` (indexed by the open_time of the candle whose close produced them) on
    ``candles`` (store schema: open_time, open, close) and measure strategy and buy-and-hold.

    The period runs from the first signal's candle to the candle after the last signal (or the
    last candle stored). Raises ValueError when no candle falls in that period.
    """
    config = config or BacktestConfig()
    step = pd.Timedelta(milliseconds=Interval.parse(interval).milliseconds)
    signals = signals.sort_index()
    if signals.empty:
        raise ValueError("no signals to backtest")
    times = candles["open_time"]
    period = candles.loc[(times >= signals.index[0]) & (times <= signals.index[-1] + step)]
    period = period.reset_index(drop=True)
    if period.empty:
        raise ValueError("no candles in the signals' period")
    targets = positions_from_signals(signals, allow_short=config.allow_short)
    # The position during candle k is decided by the signal of candle k-1 (same open_time - step).
    decided = targets.reindex(period["open_time"] - step).fillna(0).astype("int64").to_numpy()
    slip = config.slippage_bps / 10_000
    book = _Book(config.initial_cash, config.fee, slip)
    hold = _Book(config.initial_cash, config.fee, slip)
    opens = period["open"].to_numpy(dtype="float64")
    closes = period["close"].to_numpy(dtype="float64")
    when = list(period["open_time"])
    last = len(period) - 1
    trades: list[dict[str, Any]] = []
    hold_trade: dict[str, Any] | None = None
    strategy, benchmark, position = (
        np.empty(len(period)),
        np.empty(len(period)),
        np.zeros(len(period)),
    )
    for k in range(len(period)):
        if decided[k] != book.side:
            if book.side:
                trades.append(book.exit(opens[k], when[k], k, "signal"))
            if decided[k]:
                book.enter(int(decided[k]), opens[k], when[k], k)
        if k == 1:
            hold.enter(1, opens[k], when[k], k)
        position[k] = book.side
        if k == last:
            if book.side:
                trades.append(book.exit(closes[k], when[k], k, "end of period"))
            if hold.side:
                hold_trade = hold.exit(closes[k], when[k], k, "end of period")
        strategy[k] = book.value(closes[k])
        benchmark[k] = hold.value(closes[k])
    equity = pd.DataFrame(
        {
            "open_time": period["open_time"],
            "open": opens,
            "close": closes,
            "position": position.astype("int64"),
            "strategy": strategy,
            "buy_and_hold": benchmark,
        }
    )
    trade_frame = pd.DataFrame(
        trades,
        columns=[
            "side",
            "entry_time",
            "entry_price",
            "exit_time",
            "exit_price",
            "return",
            "pnl",
            "bars",
            "exit_reason",
        ],
    )
    hold_returns = [hold_trade["return"]] if hold_trade else []
    held = (np.arange(len(period)) >= 1).astype("int64")
    metrics = {
        "strategy": compute_metrics(
            equity["strategy"],
            trade_frame["return"].tolist(),
            position,
            interval,
            initial=config.initial_cash,
        ),
        "buy_and_hold": compute_metrics(
            equity["buy_and_hold"], hold_returns, held, interval, initial=config.initial_cash
        ),
    }
    return BacktestResult(
        symbol, str(Interval.parse(interval)), config, equity, trade_frame, metrics
    )


def compute_metrics(
    equity: pd.Series,
    trade_returns: list[float],
    position: np.ndarray,
    interval: str | Interval,
    *,
    initial: float,
) -> dict[str, float | int | None]:
    """Total return, CAGR, Sharpe, Sortino, max drawdown (≤ 0), win rate, trades, exposure.

    Ratios that are undefined (no variation, no losing candle, no trade) are None.
    """
    values = np.concatenate([[initial], equity.to_numpy(dtype="float64")])
    returns = values[1:] / values[:-1] - 1.0
    periods_per_year = _YEAR_MS / Interval.parse(interval).milliseconds
    total = values[-1] / initial - 1.0
    years = len(returns) / periods_per_year
    cagr = (values[-1] / initial) ** (1 / years) - 1.0 if values[-1] > 0 and years > 0 else -1.0
    std = float(np.std(returns, ddof=1)) if len(returns) > 1 else 0.0
    downside = float(np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2))) if len(returns) else 0.0
    mean = float(np.mean(returns)) if len(returns) else 0.0
    peaks = np.maximum.accumulate(values)
    wins = [r for r in trade_returns if r > 0]
    return {
        "total_return": float(total),
        "cagr": float(cagr),
        "sharpe": mean / std * math.sqrt(periods_per_year) if std > 1e-15 else None,
        "sortino": mean / downside * math.sqrt(periods_per_year) if downside > 1e-15 else None,
        "max_drawdown": float(np.min(values / peaks - 1.0)),
        "win_rate": len(wins) / len(trade_returns) if trade_returns else None,
        "trades": len(trade_returns),
        "exposure": float(np.mean(np.asarray(position) != 0)) if len(position) else 0.0,
    }


def backtest_coin(
    symbol: str,
    registry: Any,
    *,
    candles: pd.DataFrame | None = None,
    config: BacktestConfig | None = None,
    signal_config: SignalConfig | None = None,
) -> BacktestResult:
    """Backtest a coin's promoted models on their test period (the saved out-of-sample
    predictions), replaying the ensemble rule of :mod:`core.signals.live` row by row.

    Raises:
        ModelNotFoundError: the coin has no trained model.
        NoDataError: no stored candles (needed for the open prices); fetch them first.
    """
    from core.data.store import load_candles
    from core.registry.model_registry import model_name
    from core.signals.ensemble import merge_predictions, rule_signals
    from core.signals.live import LSTM, XGBOOST, load_coin_models

    models = load_coin_models(
        symbol, registry, config=signal_config, loader=lambda name, version: None
    )
    frames = {}
    for kind in (XGBOOST, LSTM):
        name = model_name(kind, models.symbol)
        if name in models.models:
            preds = registry.get_predictions(name, models.models[name])
            frames[kind] = preds[preds["split"] == "test"]
    merged = merge_predictions(frames.get(XGBOOST), frames.get(LSTM))
    votes = rule_signals(merged, base_rate=models.base_rate, config=models.config)
    signals = pd.Series(votes.to_numpy(), index=pd.DatetimeIndex(merged["open_time"]))
    if candles is None:
        candles = load_candles(models.symbol, models.interval)
    result = run_backtest(
        candles, signals, config=config, interval=models.interval, symbol=models.symbol
    )
    first, last = merged["open_time"].iloc[0], merged["open_time"].iloc[-1]
    result.notes.append(
        f"Out-of-sample test period {first:%Y-%m-%d %H:%M} → {last:%Y-%m-%d %H:%M} UTC, "
        f"{len(merged):,} signals from {', '.join(f'{n} {v}' for n, v in models.models.items())}."
    )
    return result
