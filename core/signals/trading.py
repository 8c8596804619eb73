"""The backtest engine: held positions with fees and slippage → equity, trades and metrics.

The execution model and the cost arithmetic are described in :mod:`core.signals.backtest`, which
builds the calls this engine trades (and chooses their threshold on the walk-forward folds).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from core.config import BacktestConfig, Interval
from core.errors import ConfigError
from core.signals.backtest_grid import GridResult, align
from core.signals.ensemble import (
    SignalKind,
)

__all__ = [
    "CHOSEN_WHERE",
    "DEFAULT_THRESHOLDS",
    "METRIC_NAMES",
    "NO_EDGE_NOTE",
    "BacktestMetrics",
    "BacktestResult",
    "ChosenThreshold",
    "StrategyConfig",
    "TradeStats",
    "compute_metrics",
    "positions_from_signals",
    "run_backtest",
]

_YEAR_MS = 365.25 * 24 * 3600 * 1000
#: The grid ``min_strength`` is chosen from: 0.00, 0.01, …, 0.99.
DEFAULT_THRESHOLDS: tuple[float, ...] = tuple(round(i / 100, 2) for i in range(100))
NO_EDGE_NOTE = "NO EDGE: no model passed its gates, nothing to trade."
#: The words every display of the chosen threshold carries.
CHOSEN_WHERE = "chosen on the walk-forward folds, before the test window"


@dataclass(frozen=True)
class StrategyConfig:
    """How calls become positions (see the module docstring).

    ``hold``: candles a position is held at least (None: the signal's horizon);
    ``size_by_confidence`` with ``full_size_at``: position size from the call's confidence;
    ``thresholds``: the min-strength grid the folds choose from.
    """

    hold: int | None = None
    size_by_confidence: bool = False
    full_size_at: float = 0.60
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS

    def __post_init__(self) -> None:
        if self.hold is not None and not 1 <= self.hold <= 1000:
            raise ConfigError(f"hold must be 1..1000 candles, got {self.hold}.")
        if not 0.5 < self.full_size_at <= 1.0:
            raise ConfigError(
                f"full_size_at must be a confidence in (0.5, 1], got {self.full_size_at}."
            )
        if not self.thresholds or any(not 0 <= q <= 1 for q in self.thresholds):
            raise ConfigError("thresholds must be a non-empty list of strengths in [0, 1].")


@dataclass(frozen=True)
class ChosenThreshold:
    """The ``min_strength`` the walk-forward folds chose, and what it did there.

    ``fold_return``: compounded return over the fold periods at ``min_strength`` after costs;
    ``untuned_return``: the same with every call traded (``min_strength`` 0); ``grid``: one row
    per candidate (min_strength, fold_return, trades); ``margins``: each voting member's vote
    margin, unchanged. ``tuned`` is False when there were no fold predictions to choose on.
    """

    min_strength: float
    hold: int
    tuned: bool
    folds: tuple[str, ...]
    fold_rows: int
    fold_start: pd.Timestamp | None
    fold_end: pd.Timestamp | None
    test_start: pd.Timestamp | None
    fold_return: float | None
    fold_trades: int
    untuned_return: float | None
    grid: pd.DataFrame
    margins: dict[str, float]

    @property
    def where(self) -> str:
        """Where the threshold was chosen, in words."""
        if not self.tuned:
            return (
                "not tuned: the models have no walk-forward fold predictions, so every call "
                "is traded (min strength 0)"
            )
        names = f"{self.folds[0]}..{self.folds[-1]}" if len(self.folds) > 1 else self.folds[0]
        return (
            f"{CHOSEN_WHERE}: {names}, {self.fold_start:%Y-%m-%d %H:%M} → "
            f"{self.fold_end:%Y-%m-%d %H:%M} UTC, {self.fold_rows:,} calls"
        )

    @property
    def summary(self) -> str:
        """The chosen value, where it was chosen and what it did there, in one sentence."""
        if not self.tuned:
            return f"Min strength 0.00: {self.where}."
        untuned = (
            ""
            if self.untuned_return is None
            else f"; with every call traded: {self.untuned_return:+.2%}"
        )
        return (
            f"Min strength {self.min_strength:.2f}, {self.where}; there it returned "
            f"{self.fold_return:+.2%} after costs over {self.fold_trades:,} trades{untuned}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_strength": self.min_strength,
            "hold": self.hold,
            "tuned": self.tuned,
            "chosen_on": self.where,
            "folds": list(self.folds),
            "fold_rows": self.fold_rows,
            "fold_start": None if self.fold_start is None else str(self.fold_start),
            "fold_end": None if self.fold_end is None else str(self.fold_end),
            "test_start": None if self.test_start is None else str(self.test_start),
            "fold_return": self.fold_return,
            "fold_trades": self.fold_trades,
            "untuned_fold_return": self.untuned_return,
            "margins": self.margins,
        }


@dataclass(frozen=True)
class TradeStats:
    """What one leg of a backtest (the strategy, the same at zero cost, or buy-and-hold) did over
    its period, from :func:`compute_metrics`: total return, CAGR, Sharpe and Sortino (annualised,
    per-candle returns, zero risk-free rate), max drawdown (<= 0), win rate, trades, exposure
    (share of candles in a position) and avg_size (mean size while in a position). Ratios that are
    undefined (no variation, no losing candle, no trade) are None."""

    total_return: float
    cagr: float
    sharpe: float | None
    sortino: float | None
    max_drawdown: float
    win_rate: float | None
    trades: int
    exposure: float
    avg_size: float | None

    def to_dict(self) -> dict[str, float | int | None]:
        """The JSON form: :data:`METRIC_NAMES` in order."""
        return asdict(self)


#: The metrics of a :class:`TradeStats`, in the order tables and JSON show them.
METRIC_NAMES: tuple[str, ...] = tuple(f.name for f in fields(TradeStats))


@dataclass(frozen=True)
class BacktestMetrics:
    """The legs of a backtest: ``strategy``, ``buy_and_hold`` over the same period with the same
    costs, and ``zero_cost`` (the strategy's positions with no fee or slippage; set by
    :func:`core.signals.backtest.backtest_models`, None from :func:`run_backtest` alone)."""

    strategy: TradeStats
    buy_and_hold: TradeStats
    zero_cost: TradeStats | None = None

    def to_dict(self) -> dict[str, dict[str, float | int | None]]:
        """The JSON form: ``{"strategy", "zero_cost", "buy_and_hold"}`` (no ``zero_cost`` when
        None), each :meth:`TradeStats.to_dict`."""
        legs = (
            ("strategy", self.strategy),
            ("zero_cost", self.zero_cost),
            ("buy_and_hold", self.buy_and_hold),
        )
        return {key: leg.to_dict() for key, leg in legs if leg is not None}


@dataclass(frozen=True)
class BacktestResult:
    """``equity``: one row per candle (open_time, open, close, position, size, strategy,
    buy_and_hold, and zero_cost from :func:`backtest_coin`); ``trades``: one row per round trip
    (side, size, entry/exit time and fill price, return, pnl, bars held, exit reason);
    ``metrics``: the strategy's, buy-and-hold's (and the zero-cost) :class:`TradeStats`.
    From :func:`backtest_coin` also: ``threshold`` (where it was chosen), ``calls`` (the test
    window's calls: open_time, vote, strength, confidence, size, traded) and ``grid`` (the test
    window's thresholds x cost levels, for display; choosing from it would be overfitting).
    """

    symbol: str
    interval: str
    config: BacktestConfig
    equity: pd.DataFrame
    trades: pd.DataFrame
    metrics: BacktestMetrics
    notes: list[str] = field(default_factory=list)
    hold: int = 1
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    threshold: ChosenThreshold | None = None
    calls: pd.DataFrame | None = None
    grid: GridResult | None = None
    no_edge: bool = False


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
        self.size = 0.0
        self.entry: dict[str, Any] = {}

    def value(self, price: float) -> float:
        return self.cash + self.units * price

    def enter(
        self, side: int, price: float, when: pd.Timestamp, bar: int, size: float = 1.0
    ) -> None:
        equity = self.cash
        stake = equity * size
        if side > 0:
            fill = price * (1 + self.slip)
            self.units = stake * (1 - self.fee) / fill
            self.cash = equity - stake
        else:
            fill = price * (1 - self.slip)
            self.units = -stake / fill
            self.cash = equity + stake * (1 - self.fee)
        self.side, self.size = side, size
        self.entry = {"side": side, "time": when, "fill": fill, "equity": equity, "bar": bar}

    def exit(
        self, price: float, when: pd.Timestamp, bar: int, reason: str, *, at_close: bool = False
    ) -> dict[str, Any]:
        if self.side > 0:
            fill = price * (1 - self.slip)
            self.cash += self.units * fill * (1 - self.fee)
        else:
            fill = price * (1 + self.slip)
            self.cash += self.units * fill * (1 + self.fee)
        start = self.entry["equity"]
        trade = {
            "side": "long" if self.side > 0 else "short",
            "size": self.size,
            "entry_time": self.entry["time"],
            "entry_price": self.entry["fill"],
            "exit_time": when,
            "exit_price": fill,
            "return": self.cash / start - 1.0,
            "pnl": self.cash - start,
            # candles the position was held: an exit at an open does not hold that candle
            "bars": bar - self.entry["bar"] + (1 if at_close else 0),
            "exit_reason": reason,
        }
        self.units, self.side, self.size, self.entry = 0.0, 0, 0.0, {}
        return trade


_TRADE_COLUMNS = [
    "side",
    "size",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "return",
    "pnl",
    "bars",
    "exit_reason",
]


def run_backtest(
    candles: pd.DataFrame,
    signals: pd.Series,
    *,
    config: BacktestConfig | None = None,
    interval: str | Interval = "1h",
    symbol: str = "",
    hold: int = 1,
    sizes: pd.Series | None = None,
) -> BacktestResult:
    """Trade ``signals`` (indexed by the open_time of the candle whose close produced them) on
    ``candles`` (store schema: open_time, open, close) and measure strategy and buy-and-hold.

    A position is held at least ``hold`` candles, then kept while the signal stays the same
    (see the module docstring). ``sizes`` (same index, 0..1) is the fraction of equity a
    position opened on that signal takes; default 1. The period runs from the first signal's
    candle to the candle after the last signal (or the last candle stored). Raises ValueError
    when there are no signals or no candle falls in that period.
    """
    config = config or BacktestConfig()
    if hold < 1:
        raise ConfigError(f"hold must be at least 1 candle, got {hold}.")
    step = pd.Timedelta(milliseconds=Interval.parse(interval).milliseconds)
    signals = signals.sort_index()
    aligned = align(candles, pd.DatetimeIndex(signals.index), step)
    period = aligned.period
    targets = positions_from_signals(signals, allow_short=config.allow_short).to_numpy()
    # The position during candle k is decided by the signal of candle k-1 (open_time - step).
    decided = aligned.take(targets)
    size = np.ones(len(signals)) if sizes is None else sizes.reindex(signals.index).to_numpy()
    sized = aligned.take(np.nan_to_num(np.asarray(size, dtype="float64")), 0.0)
    slip = config.slippage_bps / 10_000
    book = _Book(config.initial_cash, config.fee, slip)
    bench = _Book(config.initial_cash, config.fee, slip)
    opens, closes = aligned.opens, aligned.closes
    when = list(period["open_time"])
    n = len(period)
    last = n - 1
    trades: list[dict[str, Any]] = []
    bench_trade: dict[str, Any] | None = None
    strategy, benchmark = np.empty(n), np.empty(n)
    position, held_size = np.zeros(n, dtype="int64"), np.zeros(n)
    for k in range(n):
        target = int(decided[k])
        if book.side and target != book.side and k - book.entry["bar"] >= hold:
            trades.append(book.exit(opens[k], when[k], k, "signal"))
        if not book.side and target:
            book.enter(target, opens[k], when[k], k, float(sized[k]))
        if k == 1:
            bench.enter(1, opens[k], when[k], k)
        position[k], held_size[k] = book.side, book.size
        if k == last:
            if book.side:
                trades.append(book.exit(closes[k], when[k], k, "end of period", at_close=True))
            if bench.side:
                bench_trade = bench.exit(closes[k], when[k], k, "end of period", at_close=True)
        strategy[k] = book.value(closes[k])
        benchmark[k] = bench.value(closes[k])
    equity = pd.DataFrame(
        {
            "open_time": period["open_time"],
            "open": opens,
            "close": closes,
            "position": position,
            "size": held_size,
            "strategy": strategy,
            "buy_and_hold": benchmark,
        }
    )
    trade_frame = pd.DataFrame(trades, columns=_TRADE_COLUMNS)
    bench_returns = [bench_trade["return"]] if bench_trade else []
    held = (np.arange(n) >= 1).astype("int64")
    metrics = BacktestMetrics(
        strategy=compute_metrics(
            equity["strategy"],
            trade_frame["return"].tolist(),
            position,
            interval,
            initial=config.initial_cash,
            size=held_size,
        ),
        buy_and_hold=compute_metrics(
            equity["buy_and_hold"], bench_returns, held, interval, initial=config.initial_cash
        ),
    )
    return BacktestResult(
        symbol, str(Interval.parse(interval)), config, equity, trade_frame, metrics, hold=hold
    )


def compute_metrics(
    equity: pd.Series,
    trade_returns: list[float],
    position: np.ndarray,
    interval: str | Interval,
    *,
    initial: float,
    size: np.ndarray | None = None,
) -> TradeStats:
    """The :class:`TradeStats` of an equity curve (starting from ``initial``), its closed trades'
    returns and the position (and size) held through each candle."""
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
    invested = np.asarray(position) != 0
    sizes = np.ones(len(invested)) if size is None else np.asarray(size, dtype="float64")
    return TradeStats(
        total_return=float(total),
        cagr=float(cagr),
        sharpe=mean / std * math.sqrt(periods_per_year) if std > 1e-15 else None,
        sortino=mean / downside * math.sqrt(periods_per_year) if downside > 1e-15 else None,
        max_drawdown=float(np.min(values / peaks - 1.0)),
        win_rate=len(wins) / len(trade_returns) if trade_returns else None,
        trades=len(trade_returns),
        exposure=float(np.mean(invested)) if len(invested) else 0.0,
        avg_size=float(np.mean(sizes[invested])) if invested.any() else None,
    )
