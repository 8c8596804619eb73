"""One volatility model over every coin's training rows, scored per coin on its own test window.

Inputs are normalised per coin so coins with different volatility levels share one model: each
coin's level ``c`` is the mean of its weekly log variance (``feat_lrv_168h``) on its own fitting
rows; the log-variance inputs and the target are taken relative to ``c`` (the log range relative
to ``c / 2``), hour of day, volume ratio, taker share and returns are left as they are. The
reference coin's log-variance inputs (``feat_ref_lrv_*``) are taken relative to the reference's
own mean weekly log variance on the coin's fitting rows. The model
is fit once on the union of every coin's fitting rows (each coin split chronologically with its
own purge), then, per coin, its level is set and its bands calibrated on that coin's calibration
rows, and it is scored on that coin's test window — so every coin gets its own card, gates and
expected move, exactly as a per-coin model does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from core.volatility.coin_view import CoinView, normalise
from core.volatility.estimators import estimator_features, make_estimator, reference_params
from core.volatility.evaluate import VolEvaluation, evaluate_horizon, horizon_key
from core.volatility.features import (
    HORIZONS,
    attached_reference,
    build_frame,
    sequence_length,
    target_column,
)
from core.volatility.folds import fold_windows
from core.volatility.split import split_rows

__all__ = ["evaluate_pooled"]

LEVEL_FEATURE = "feat_lrv_168h"
REFERENCE_LEVEL = "feat_ref_lrv_168h"


def _fit_pooled(
    frames: Mapping[str, Any],
    horizon: int,
    estimator: str,
    params: dict[str, Any] | None,
    train: Mapping[str, np.ndarray],
) -> tuple[Any, dict[str, tuple[float, float]]]:
    """One ``estimator`` fit on every coin's ``train`` rows, each coin's inputs and target taken
    relative to its own level on those rows (the reference's inputs to the reference's level on
    the same rows); returns it and each coin's (level, reference level)."""
    inner = make_estimator(estimator, params)
    feats = list(inner.features)
    xs, ys, offsets = [], [], {}
    for coin, vf in frames.items():
        frame, rows = vf.frame, train[coin]
        level = float(np.mean(frame[LEVEL_FEATURE].to_numpy()[rows]))
        ref_level = (
            float(np.mean(frame[REFERENCE_LEVEL].to_numpy()[rows]))
            if REFERENCE_LEVEL in feats
            else 0.0
        )
        offsets[coin] = (level, ref_level)
        X = frame[feats].to_numpy(dtype="float64")[rows]
        xs.append(normalise(X, feats, level, ref_level))
        ys.append(frame[target_column(horizon)].to_numpy(dtype="float64")[rows] - level)
    inner.fit(np.concatenate(xs), np.concatenate(ys))
    return inner, offsets


def evaluate_pooled(
    candles: Mapping[str, pd.DataFrame],
    *,
    estimator: str = "har",
    horizons: Sequence[int] = HORIZONS,
    test_fraction: float = 0.2,
    calibration_fraction: float = 0.2,
    params: dict[str, Any] | None = None,
) -> dict[str, VolEvaluation]:
    """Fit one ``estimator`` on every coin's training rows; one evaluation per coin.

    Raises:
        InsufficientDataError: a coin has too few candles for the split.
        ValueError: an unknown estimator, or no coins.
    """
    if not candles:
        raise ValueError("A pooled volatility model needs at least one coin.")
    every = all(attached_reference(c) is not None for c in candles.values())
    params = reference_params(estimator, params, every)
    sequence = sequence_length(estimator_features(estimator, params))
    frames = {coin: build_frame(c, horizons, sequence=sequence) for coin, c in candles.items()}
    results: dict[str, dict[str, Any]] = {coin: {} for coin in frames}
    for h in horizons:
        feats = estimator_features(estimator, params)
        rows = {
            coin: split_rows(
                vf, h, feats, test_fraction=test_fraction, calibration_fraction=calibration_fraction
            )
            for coin, vf in frames.items()
        }
        inner, offsets = _fit_pooled(
            frames, h, estimator, params, {c: r.fit for c, r in rows.items()}
        )
        # Walk-forward: the same pooled fit on each fold's training rows of every coin.
        windows = {coin: fold_windows(r.fit, horizon=h) for coin, r in rows.items()}
        fold_models: dict[str, list[CoinView]] = {coin: [] for coin in frames}
        if all(windows.values()):
            for k in range(min(len(w) for w in windows.values())):
                train = {coin: w[k][0] for coin, w in windows.items()}
                fold_inner, fold_offsets = _fit_pooled(frames, h, estimator, params, train)
                for coin in frames:
                    fold_models[coin].append(CoinView(fold_inner, estimator, *fold_offsets[coin]))
        for coin, vf in frames.items():
            view = CoinView(inner, estimator, *offsets[coin])
            results[coin][horizon_key(h)] = evaluate_horizon(
                vf,
                h,
                estimator=f"pooled_{estimator}",
                test_fraction=test_fraction,
                calibration_fraction=calibration_fraction,
                fitted=view,
                fold_models=fold_models[coin] or None,
            )
    return {coin: VolEvaluation(f"pooled_{estimator}", res) for coin, res in results.items()}
