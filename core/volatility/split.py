"""One coin's rows at one horizon, split chronologically with purges (docs/VOLATILITY.md).

The test window is the most recent ``test_fraction`` of candles; training rows stop ``horizon``
candles before it. The last ``calibration_fraction`` of the training rows (purged again) is the
calibration slice; the rows before it are the fitting rows, on which the EWMA decay and the
historical mean are chosen. Only rows whose inputs, target, return and baselines are all known
are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.training.evaluate import chronological_split, validation_split
from core.volatility.baselines import (
    choose_decay,
    ewma_forecast,
    mean_forecast,
    persistence_forecast,
)
from core.volatility.features import HAR_FEATURES, VolFrame, ret_column, target_column

__all__ = ["Rows", "split_rows"]


def _usable(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    return np.asarray(np.isfinite(frame[list(columns)].to_numpy(dtype="float64")).all(axis=1))


@dataclass
class Rows:
    """One coin's rows at one horizon: fitting, calibration and test (usable rows only, purged),
    the EWMA decay chosen on the fitting rows, and the baselines' forecasts."""

    fit: np.ndarray
    cal: np.ndarray
    test: np.ndarray
    decay: float
    baselines: dict[str, np.ndarray]


def split_rows(
    vf: VolFrame,
    horizon: int,
    features: Sequence[str],
    *,
    test_fraction: float = 0.2,
    calibration_fraction: float = 0.2,
) -> Rows:
    """The chronological split of one coin's rows (see the module doc), on rows where the
    ``features``, the HAR lags, the target, the return and the baselines are all known."""
    frame = vf.frame
    y_all = frame[target_column(horizon)].to_numpy(dtype="float64")
    base = {"persistence": persistence_forecast(vf, horizon)}
    ok = _usable(frame, [*features, *HAR_FEATURES, target_column(horizon), ret_column(horizon)])
    ok &= np.isfinite(base["persistence"])
    test_split = chronological_split(len(frame), test_fraction=test_fraction, horizon=horizon)
    cal_split = validation_split(test_split.train, fraction=calibration_fraction, horizon=horizon)
    fit_rows = cal_split.train[ok[cal_split.train]]
    decay = choose_decay(vf, horizon, fit_rows, y_all)
    base["ewma"] = ewma_forecast(vf, horizon, decay)
    ok &= np.isfinite(base["ewma"])
    fit_rows = fit_rows[ok[fit_rows]]
    base["mean"] = mean_forecast(len(frame), y_all[fit_rows])
    cal_rows = cal_split.test[ok[cal_split.test]]
    test_rows = test_split.test[ok[test_split.test]]
    return Rows(fit_rows, cal_rows, test_rows, decay, base)
