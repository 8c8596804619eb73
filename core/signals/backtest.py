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
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from core.config import BacktestConfig, Interval, SignalConfig
from core.errors import ConfigError
from core.signals.backtest_grid import GridResult, align, grid_backtest
from core.signals.ensemble import (
    FROM_VOTE,
    TEST_SPLIT,
    Calibration,
    Member,
    SignalKind,
    combine_votes,
    member_frame,
)

__all__ = [
    "CHOSEN_WHERE",
    "DEFAULT_THRESHOLDS",
    "METRIC_NAMES",
    "NO_EDGE_NOTE",
    "BacktestResult",
    "ChosenThreshold",
    "StrategyConfig",
    "backtest_coin",
    "backtest_models",
    "choose_threshold",
    "compute_metrics",
    "confidence_size",
    "cost_column",
    "cost_levels",
    "positions_from_signals",
    "run_backtest",
    "strategy_calls",
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
    "avg_size",
)
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
class BacktestResult:
    """``equity``: one row per candle (open_time, open, close, position, size, strategy,
    buy_and_hold, and zero_cost from :func:`backtest_coin`); ``trades``: one row per round trip
    (side, size, entry/exit time and fill price, return, pnl, bars held, exit reason);
    ``metrics``: ``{"strategy", "buy_and_hold"}`` (and ``"zero_cost"``) with :data:`METRIC_NAMES`.
    From :func:`backtest_coin` also: ``threshold`` (where it was chosen), ``calls`` (the test
    window's calls: open_time, vote, strength, confidence, size, traded) and ``grid`` (the test
    window's thresholds x cost levels, for display; choosing from it would be overfitting).
    """

    symbol: str
    interval: str
    config: BacktestConfig
    equity: pd.DataFrame
    trades: pd.DataFrame
    metrics: dict[str, dict[str, float | int | None]]
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
    metrics = {
        "strategy": compute_metrics(
            equity["strategy"],
            trade_frame["return"].tolist(),
            position,
            interval,
            initial=config.initial_cash,
            size=held_size,
        ),
        "buy_and_hold": compute_metrics(
            equity["buy_and_hold"], bench_returns, held, interval, initial=config.initial_cash
        ),
    }
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
) -> dict[str, float | int | None]:
    """Total return, CAGR, Sharpe, Sortino, max drawdown (≤ 0), win rate, trades, exposure
    (share of candles in a position) and avg_size (mean size while in a position).

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
    invested = np.asarray(position) != 0
    sizes = np.ones(len(invested)) if size is None else np.asarray(size, dtype="float64")
    return {
        "total_return": float(total),
        "cagr": float(cagr),
        "sharpe": mean / std * math.sqrt(periods_per_year) if std > 1e-15 else None,
        "sortino": mean / downside * math.sqrt(periods_per_year) if downside > 1e-15 else None,
        "max_drawdown": float(np.min(values / peaks - 1.0)),
        "win_rate": len(wins) / len(trade_returns) if trade_returns else None,
        "trades": len(trade_returns),
        "exposure": float(np.mean(invested)) if len(invested) else 0.0,
        "avg_size": float(np.mean(sizes[invested])) if invested.any() else None,
    }


# --- the strategy: calls, sizes, the threshold chosen on the folds -------------------------------


def confidence_size(confidence: np.ndarray, full_size_at: float = 0.60) -> np.ndarray:
    """``clip((confidence - 0.5) / (full_size_at - 0.5), 0, 1)``; no confidence → 0."""
    c = np.asarray(confidence, dtype="float64")
    size = np.clip((c - 0.5) / (full_size_at - 0.5), 0.0, 1.0)
    return np.where(np.isfinite(size), size, 0.0)


def _confidences(cal: Calibration, votes: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """:meth:`Calibration.lookup`'s ``value`` for many calls at once (NaN where it has none)."""
    out = np.full(len(votes), np.nan)
    table = cal.table
    if table.empty:
        return out
    for vote, kind in FROM_VOTE.items():
        sel = votes == vote
        rows = table[table["signal"] == kind.value]
        if not sel.any() or rows.empty:
            continue
        total = rows[rows["bucket"] == 0]
        fallback = (
            float(total["confidence"].iloc[0])
            if len(total) and int(total["support"].iloc[0]) > 0
            else math.nan
        )
        value = np.full(int(sel.sum()), fallback)
        edges = cal.bucket_edges.get(kind.value)
        if edges is not None:
            bucket = np.searchsorted(edges, strength[sel], "left") + 1
            for b in np.unique(bucket):
                hit = rows[rows["bucket"] == b]
                if len(hit) and int(hit["support"].iloc[0]) >= cal.min_support:
                    value[bucket == b] = float(hit["confidence"].iloc[0])
        out[sel] = value
    return out


def strategy_calls(
    members: Sequence[Member],
    calibration: Calibration,
    *,
    config: SignalConfig | None = None,
    strategy: StrategyConfig | None = None,
) -> pd.DataFrame:
    """Every row the voting ``members`` all predicted (folds and test window) with the ensemble's
    call: ``open_time, split, vote, strength, confidence, size``. ``size`` is 1, or the
    confidence size when ``strategy.size_by_confidence`` (then a call of size 0 is no call)."""
    config = config or SignalConfig()
    strategy = strategy or StrategyConfig()
    frame = member_frame(members)
    kinds = [m.kind for m in members]
    votes = combine_votes(
        frame[[f"vote_{k}" for k in kinds]].to_numpy(), require_agreement=config.require_agreement
    )
    strength = calibration.strengths({k: frame[f"edge_{k}"].to_numpy() for k in kinds})
    confidence = _confidences(calibration, votes, strength)
    if strategy.size_by_confidence:
        size = confidence_size(confidence, strategy.full_size_at)
        votes = np.where(size > 0, votes, 0)
    else:
        size = np.ones(len(votes))
    return pd.DataFrame(
        {
            "open_time": frame["open_time"],
            "split": frame["split"],
            "vote": votes.astype("int64"),
            "strength": strength,
            "confidence": confidence,
            "size": size,
        }
    )


def _fold_names(calls: pd.DataFrame) -> list[str]:
    names = [s for s in calls["split"].unique() if s != TEST_SPLIT]

    def key(name: str) -> tuple[int, str]:
        digits = "".join(ch for ch in name if ch.isdigit())
        return (int(digits) if digits else 0, name)

    return sorted(names, key=key)


def choose_threshold(
    calls: pd.DataFrame,
    candles: pd.DataFrame,
    *,
    config: BacktestConfig,
    hold: int,
    strategy: StrategyConfig | None = None,
    interval: str | Interval = "1h",
    margins: dict[str, float] | None = None,
) -> ChosenThreshold:
    """Pick ``min_strength`` on the fold rows of ``calls`` only (see the module docstring).

    Each fold is traded on its own (its own period, closed at its end), at the costs of
    ``config``; the objective is the sum over folds of log(1 + fold return). Rows of the test
    window are never read.
    """
    strategy = strategy or StrategyConfig()
    step = pd.Timedelta(milliseconds=Interval.parse(interval).milliseconds)
    thresholds = np.asarray(strategy.thresholds, dtype="float64")
    folds = _fold_names(calls)
    test = calls.loc[calls["split"] == TEST_SPLIT, "open_time"]
    test_start = pd.Timestamp(test.min()) if len(test) else None
    log_growth = np.zeros(len(thresholds))
    trades = np.zeros(len(thresholds), dtype="int64")
    used: list[str] = []
    rows = 0
    starts, ends = [], []
    for name in folds:
        part = calls[calls["split"] == name].sort_values("open_time")
        index = pd.DatetimeIndex(part["open_time"])
        try:
            grid = grid_backtest(
                candles,
                index,
                part["vote"].to_numpy(),
                part["strength"].to_numpy(),
                thresholds,
                [(config.fee, config.slippage_bps)],
                hold=hold,
                allow_short=config.allow_short,
                size=part["size"].to_numpy(),
                step=step,
            )
        except ValueError:  # no candles stored for that fold's period
            continue
        log_growth += np.log(np.maximum(1.0 + grid.total_return[:, 0], 1e-12))
        trades += grid.trades
        used.append(name)
        rows += len(part)
        starts.append(index[0])
        ends.append(index[-1])
    table = pd.DataFrame(
        {
            "min_strength": thresholds,
            "fold_return": np.expm1(log_growth) if used else np.nan,
            "trades": trades,
        }
    )
    if not used:
        return ChosenThreshold(
            min_strength=0.0,
            hold=hold,
            tuned=False,
            folds=(),
            fold_rows=0,
            fold_start=None,
            fold_end=None,
            test_start=test_start,
            fold_return=None,
            fold_trades=0,
            untuned_return=None,
            grid=table,
            margins=dict(margins or {}),
        )
    best = int(np.argmax(log_growth))
    zero = np.nonzero(thresholds == 0)[0]
    return ChosenThreshold(
        min_strength=float(thresholds[best]),
        hold=hold,
        tuned=True,
        folds=tuple(used),
        fold_rows=rows,
        fold_start=min(starts),
        fold_end=max(ends),
        test_start=test_start,
        fold_return=float(np.expm1(log_growth[best])),
        fold_trades=int(trades[best]),
        untuned_return=float(np.expm1(log_growth[zero[0]])) if len(zero) else None,
        grid=table,
        margins=dict(margins or {}),
    )


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
    metrics = {
        "strategy": costed.metrics["strategy"],
        "zero_cost": free.metrics["strategy"],
        "buy_and_hold": costed.metrics["buy_and_hold"],
    }
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
        metrics={**result.metrics, "zero_cost": dict(result.metrics["strategy"])},
        notes=notes,
        strategy=strategy,
        no_edge=True,
    )


def backtest_coin(
    symbol: str,
    registry: Any,
    *,
    candles: pd.DataFrame | None = None,
    config: BacktestConfig | None = None,
    signal_config: SignalConfig | None = None,
    strategy: StrategyConfig | None = None,
    grid: bool = True,
) -> BacktestResult:
    """Backtest a coin's promoted models on their test window (see :func:`backtest_models`).

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
        candles = load_candles(models.symbol, models.timeframe)
    return backtest_models(models, candles, config=config, strategy=strategy, grid=grid)
