"""The backtest over a grid of thresholds x cost levels at once, in numpy.

Same execution model as the event loop in :mod:`core.signals.backtest` (that module's docstring is
the reference): a call at the close of candle t acts at the open of t+1, a position is held at
least ``hold`` candles and then kept while the call stays the same, fills carry slippage and fees,
whatever is open at the end is closed at the last close. What differs is only how it is computed:

* **positions** depend on the calls and the threshold, not on costs: one pass over the candles
  updates every threshold's position at once (a vector per candle, no Python work per threshold);
* **returns**: each round trip multiplies equity by a growth factor that depends on its entry
  and exit fills, its size and the fee, so the total of a cell is the product of its trades'
  factors, computed for every trade and every cost level in one broadcast.

``tests/unit/test_backtest_grid.py`` checks on the bundled real candles that every cell's trades
(entry and exit times, fills, returns) and total return equal the event loop's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Aligned", "GridResult", "GridTrades", "align", "grid_backtest", "hold_positions"]


@dataclass(frozen=True)
class Aligned:
    """Candles of a backtest period and, per candle, the row of the signal that decides it.

    ``source[k]`` is the position (in the signal arrays) of the call made at the close of the
    candle before candle ``k`` (open_time - one interval), or -1 when there is none.
    """

    period: pd.DataFrame
    opens: np.ndarray
    closes: np.ndarray
    source: np.ndarray

    def take(self, values: np.ndarray, fill: float | int = 0) -> np.ndarray:
        """``values`` (one per signal) moved onto the candles they decide; ``fill`` elsewhere."""
        values = np.asarray(values)
        out = np.full((len(self.source), *values.shape[1:]), fill, dtype=values.dtype)
        ok = self.source >= 0
        out[ok] = values[self.source[ok]]
        return out


def align(candles: pd.DataFrame, index: pd.DatetimeIndex, step: pd.Timedelta) -> Aligned:
    """The period from the first signal's candle to the candle after the last signal.

    ``index`` is the sorted open_time of the signals. Raises ValueError when it is empty or no
    candle falls in the period.
    """
    if len(index) == 0:
        raise ValueError("no signals to backtest")
    times = candles["open_time"]
    period = candles.loc[(times >= index[0]) & (times <= index[-1] + step)].reset_index(drop=True)
    if period.empty:
        raise ValueError("no candles in the signals' period")
    lookup = pd.Series(np.arange(len(index)), index=index)
    source = lookup.reindex(period["open_time"] - step).fillna(-1).to_numpy(dtype="int64")
    return Aligned(
        period,
        period["open"].to_numpy(dtype="float64"),
        period["close"].to_numpy(dtype="float64"),
        source,
    )


def hold_positions(decided: np.ndarray, hold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions for each column of ``decided`` (candles x columns of -1/0/+1 targets).

    At candle k: an open position whose target changed is closed at the open once it has been
    held ``hold`` candles; then, when flat and the target is not 0, one is opened. Returns
    ``(side, entered, exited)``: the side held during each candle, and whether a position was
    opened / closed at its open (closing at the last close is not in ``exited``).
    """
    decided = np.asarray(decided, dtype="int8")
    if decided.ndim == 1:
        decided = decided[:, None]
    n, cols = decided.shape
    side = np.zeros(cols, dtype="int8")
    entry = np.zeros(cols, dtype="int64")
    sides = np.zeros((n, cols), dtype="int8")
    entered = np.zeros((n, cols), dtype=bool)
    exited = np.zeros((n, cols), dtype=bool)
    active = np.asarray(decided.any(axis=1))
    for k in range(n):
        if not active[k] and not side.any():
            continue
        target = decided[k]
        leave = (side != 0) & (target != side) & (k - entry >= hold)
        if leave.any():
            exited[k] = leave
            side[leave] = 0
        enter = (side == 0) & (target != 0)
        if enter.any():
            entered[k] = enter
            side[enter] = target[enter]
            entry[enter] = k
        sides[k] = side
    return sides, entered, exited


@dataclass(frozen=True)
class GridTrades:
    """Every round trip of every threshold column (sorted by column, then time)."""

    column: np.ndarray
    side: np.ndarray
    size: np.ndarray
    entry: np.ndarray  # candle of the entry (at its open)
    exit: np.ndarray  # candle of the exit
    at_close: np.ndarray  # exit at the last close (end of period) rather than at an open


@dataclass(frozen=True)
class GridResult:
    """Every cell of a thresholds x costs grid.

    ``total_return[i, j]``: threshold ``thresholds[i]`` at cost level ``costs[j]`` (fee,
    slippage_bps); ``trades[i]``: round trips at threshold i (the same at every cost);
    ``exposure[i]``: share of candles in a position.
    """

    thresholds: np.ndarray
    costs: tuple[tuple[float, float], ...]
    total_return: np.ndarray
    trades: np.ndarray
    exposure: np.ndarray
    period: pd.DataFrame
    detail: GridTrades | None = None
    fill_in: np.ndarray | None = None  # per trade x cost level
    fill_out: np.ndarray | None = None
    growth: np.ndarray | None = None  # equity multiplier of each trade at each cost level

    def trades_of(self, i: int, j: int) -> pd.DataFrame:
        """Round trips of cell (threshold i, cost level j), with the event loop's columns:
        side, size, entry_time, entry_price, exit_time, exit_price, return, bars."""
        t = self.detail
        if t is None or self.fill_in is None or self.fill_out is None or self.growth is None:
            raise ValueError("this grid kept no trades")
        sel = t.column == i
        times = self.period["open_time"].to_numpy()
        return pd.DataFrame(
            {
                "side": np.where(t.side[sel] > 0, "long", "short"),
                "size": t.size[sel],
                "entry_time": times[t.entry[sel]],
                "entry_price": self.fill_in[sel, j],
                "exit_time": times[t.exit[sel]],
                "exit_price": self.fill_out[sel, j],
                "return": self.growth[sel, j] - 1.0,
                "bars": t.exit[sel] - t.entry[sel] + t.at_close[sel],
            }
        ).astype(
            {
                "entry_time": self.period["open_time"].dtype,
                "exit_time": self.period["open_time"].dtype,
            }
        )

    def frame(self) -> pd.DataFrame:
        """Long form: threshold, fee, slippage_bps, total_return, trades, exposure."""
        rows = []
        for i, q in enumerate(self.thresholds):
            for j, (fee, slip) in enumerate(self.costs):
                rows.append(
                    {
                        "threshold": float(q),
                        "fee": fee,
                        "slippage_bps": slip,
                        "total_return": float(self.total_return[i, j]),
                        "trades": int(self.trades[i]),
                        "exposure": float(self.exposure[i]),
                    }
                )
        return pd.DataFrame(rows)


def _trades(
    sides: np.ndarray, entered: np.ndarray, exited: np.ndarray, size: np.ndarray
) -> GridTrades:
    n = len(sides)
    col_in, k_in = np.nonzero(entered.T)
    col_out, k_out = np.nonzero(exited.T)
    still = np.nonzero(sides[-1] != 0)[0] if n else np.array([], dtype="int64")
    col_out = np.concatenate([col_out, still])
    k_out = np.concatenate([k_out, np.full(len(still), n - 1)])
    at_close = np.concatenate(
        [np.zeros(len(col_out) - len(still), bool), np.ones(len(still), bool)]
    )
    order = np.lexsort((at_close, k_out, col_out))
    col_out, k_out, at_close = col_out[order], k_out[order], at_close[order]
    if not np.array_equal(col_in, col_out):  # pragma: no cover - a bug, not an input error
        raise AssertionError("entries and exits do not pair up")
    side = sides[k_in, col_in].astype("int64")
    return GridTrades(col_in, side, size[k_in], k_in, k_out, at_close)


def grid_backtest(
    candles: pd.DataFrame,
    index: pd.DatetimeIndex,
    calls: np.ndarray,
    strength: np.ndarray,
    thresholds: Sequence[float] | np.ndarray,
    costs: Sequence[tuple[float, float]],
    *,
    hold: int = 1,
    allow_short: bool = False,
    size: np.ndarray | None = None,
    step: pd.Timedelta = pd.Timedelta(hours=1),  # noqa: B008 (immutable)
) -> GridResult:
    """Total return of every (threshold, cost) cell.

    ``calls`` (+1 / -1 / 0) and ``strength`` are one per signal, at the open_times ``index``
    (sorted); at threshold q a call is traded when its strength is at least q. ``size`` (0..1,
    default 1) is the fraction of equity a position opened on that call takes. ``costs`` are
    ``(fee per side, slippage in bps)`` pairs.
    """
    aligned = align(candles, index, step)
    calls = np.asarray(calls, dtype="int64")
    if not allow_short:
        calls = np.where(calls > 0, 1, 0)
    q = np.asarray(thresholds, dtype="float64")
    strength = np.asarray(strength, dtype="float64")
    sized = np.ones(len(calls)) if size is None else np.asarray(size, dtype="float64")
    # (signals x thresholds) targets, moved onto the candles they decide
    targets = np.where(strength[:, None] >= q[None, :], calls[:, None], 0).astype("int8")
    decided = aligned.take(targets)
    sides, entered, exited = hold_positions(decided, hold)
    trades = _trades(sides, entered, exited, aligned.take(sized, 0.0))
    fee = np.array([c[0] for c in costs], dtype="float64")[None, :]
    slip = np.array([c[1] for c in costs], dtype="float64")[None, :] / 10_000
    long = (trades.side > 0)[:, None]
    entry_price = aligned.opens[trades.entry][:, None]
    exit_price = np.where(trades.at_close, aligned.closes[trades.exit], aligned.opens[trades.exit])[
        :, None
    ]
    fill_in = np.where(long, entry_price * (1 + slip), entry_price * (1 - slip))
    fill_out = np.where(long, exit_price * (1 - slip), exit_price * (1 + slip))
    f = trades.size[:, None]
    growth = np.where(
        long,
        (1 - f) + f * (1 - fee) / fill_in * fill_out * (1 - fee),
        1 + f * (1 - fee) - f / fill_in * fill_out * (1 + fee),
    )
    total = np.ones((len(q), len(costs)))
    counts = np.bincount(trades.column, minlength=len(q))
    if len(trades.column):
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        has = counts > 0
        total[has] = np.multiply.reduceat(growth, starts[has], axis=0)
    return GridResult(
        thresholds=q,
        costs=tuple((float(a), float(b)) for a, b in costs),
        total_return=total - 1.0,
        trades=counts,
        exposure=(sides != 0).mean(axis=0) if len(sides) else np.zeros(len(q)),
        period=aligned.period,
        detail=trades,
        fill_in=fill_in,
        fill_out=fill_out,
        growth=growth,
    )
