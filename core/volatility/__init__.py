"""Volatility: realised variance from hourly ranges, forecasts judged against persistence, EWMA
and HAR, and expected-move bands calibrated out of time (docs/VOLATILITY.md).

Pure functions and small estimators; nothing here imports streamlit or TensorFlow, and XGBoost
is imported only when a boosted estimator is fit or loaded.
"""

from __future__ import annotations

from core.volatility.bands import LEVELS, BandState, christoffersen, conformal_bands, kupiec
from core.volatility.baselines import HARModel, ewma_forecast, persistence_forecast
from core.volatility.evaluate import HorizonResult, VolEvaluation, evaluate_coin
from core.volatility.features import HORIZONS, VolFrame, build_frame
from core.volatility.metrics import diebold_mariano, log_mse, qlike, r2
from core.volatility.realized import garman_klass

__all__ = [
    "HORIZONS",
    "LEVELS",
    "BandState",
    "HARModel",
    "HorizonResult",
    "VolEvaluation",
    "VolFrame",
    "build_frame",
    "christoffersen",
    "conformal_bands",
    "diebold_mariano",
    "evaluate_coin",
    "ewma_forecast",
    "garman_klass",
    "kupiec",
    "log_mse",
    "persistence_forecast",
    "qlike",
    "r2",
]
