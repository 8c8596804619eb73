"""Signals: the ensemble rule and its calibration, live signals, the journal and the backtest.

This is the stage's public face; the modules below it are importable too."""

from __future__ import annotations

from core.signals import journal
from core.signals.backtest import backtest_coin
from core.signals.ensemble import (
    Calibration,
    Confidence,
    Member,
    SignalKind,
    build_calibration,
    combine_votes,
    hits,
    member_frame,
)
from core.signals.live import (
    CoinModels,
    compute_signal,
    compute_signals,
    load_coin_models,
    promoted_versions,
    signal_from_models,
    symbols_with_models,
)
from core.signals.signal import ModelVote, Signal
from core.signals.trading import (
    METRIC_NAMES,
    BacktestMetrics,
    BacktestResult,
    TradeStats,
    compute_metrics,
    positions_from_signals,
    run_backtest,
)

__all__ = [
    "BacktestMetrics",
    "BacktestResult",
    "Calibration",
    "CoinModels",
    "Confidence",
    "METRIC_NAMES",
    "Member",
    "ModelVote",
    "Signal",
    "SignalKind",
    "TradeStats",
    "backtest_coin",
    "build_calibration",
    "combine_votes",
    "compute_metrics",
    "compute_signal",
    "compute_signals",
    "hits",
    "journal",
    "load_coin_models",
    "member_frame",
    "positions_from_signals",
    "promoted_versions",
    "run_backtest",
    "signal_from_models",
    "symbols_with_models",
]
