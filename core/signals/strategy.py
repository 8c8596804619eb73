"""The backtest's strategy: the ensemble's calls with strength, confidence and size, and the
strength threshold chosen on the walk-forward folds only (see :mod:`core.signals.backtest`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.config import BacktestConfig, Interval, SignalConfig
from core.signals.backtest_grid import grid_backtest
from core.signals.ensemble import (
    FROM_VOTE,
    TEST_SPLIT,
    Calibration,
    Member,
    combine_votes,
    member_frame,
)
from core.signals.trading import ChosenThreshold, StrategyConfig

__all__ = ["choose_threshold", "confidence_size", "strategy_calls"]


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
