"""Signals: the ensemble rule and its calibration, live signals, the journal and the backtest.

This is the stage's public face; the modules below it are importable too."""

from __future__ import annotations

from core.signals import journal
from core.signals.backtest import (
    METRIC_NAMES,
    BacktestResult,
    backtest_coin,
    compute_metrics,
    positions_from_signals,
    run_backtest,
)
from core.signals.ensemble import (
    Calibration,
    SignalKind,
    build_calibration,
    combine_votes,
    lstm_votes,
    merge_predictions,
    rule_signals,
    xgb_votes,
)
from core.signals.live import (
    LSTM,
    XGBOOST,
    CoinModels,
    Signal,
    compute_signal,
    compute_signals,
    load_coin_models,
    promoted_versions,
    signal_from_models,
    symbols_with_models,
)

__all__ = [
    "BacktestResult",
    "Calibration",
    "CoinModels",
    "LSTM",
    "METRIC_NAMES",
    "Signal",
    "SignalKind",
    "XGBOOST",
    "backtest_coin",
    "build_calibration",
    "combine_votes",
    "compute_metrics",
    "compute_signal",
    "compute_signals",
    "journal",
    "load_coin_models",
    "lstm_votes",
    "merge_predictions",
    "positions_from_signals",
    "promoted_versions",
    "rule_signals",
    "run_backtest",
    "signal_from_models",
    "symbols_with_models",
    "xgb_votes",
]
