"""Causal volatility inputs and forward targets, one row per candle.

Inputs at candle ``t`` use candles that closed at or before ``t`` only (a test cuts the data at
``t`` and gets the same values). Names follow the project's scheme: ``feat_*`` for inputs,
``target_lrv_{h}h`` for the log realised variance over the next ``h`` hours and ``ret_{h}h`` for
the log return over the same hours (what the expected-move bands cover).

HAR lags (Corsi, 2009) are the log of the mean hourly variance over the last 1, 6, 24 and 168
hours. The boosted estimator also sees the hour of day, the last candle's log range, volume
against its weekly mean, the taker-buy share and the last day's absolute return. The hour of
day (two harmonics, the hour at the candle's close) is known in advance, so it is causal too.

Cross-asset inputs (``feat_ref_*``, boosted estimator): the HAR lags and the 1 h / 24 h log
return of a reference coin (BTC; ETH for BTC itself, :func:`reference_symbol`), attached to the
candles with :func:`attach_reference` and matched to each row by exact open time (both candles
closed at the row's close); a missing reference hour, or candles without a reference attached,
give NaN there, never a neighbour's value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.volatility.intraday import target_variance
from core.volatility.realized import (
    VARIANCE_FLOOR,
    forward_log_rv,
    forward_return,
    hourly_variance,
    on_grid,
    trailing_mean,
)

__all__ = [
    "EXTRA_FEATURES",
    "REFERENCE_FEATURES",
    "HAR_FEATURES",
    "HAR_LAGS",
    "HORIZONS",
    "HOUR_FEATURES",
    "INPUT_FEATURES",
    "VolFrame",
    "attach_reference",
    "attached_reference",
    "build_frame",
    "reference_symbol",
    "sequence_features",
    "sequence_length",
    "ret_column",
    "target_column",
]

#: HAR look-backs in hours: the last hour, six hours, a day and a week.
HAR_LAGS: tuple[int, ...] = (1, 6, 24, 168)
HAR_FEATURES: list[str] = [f"feat_lrv_{k}h" for k in HAR_LAGS]
#: Hour of day as two harmonics: hourly volatility peaks at the US session and dips overnight.
HOUR_FEATURES: list[str] = ["feat_hour_sin", "feat_hour_cos", "feat_hour_sin2", "feat_hour_cos2"]
EXTRA_FEATURES: list[str] = [
    "feat_log_range",
    "feat_log_volume_ratio",
    "feat_taker_share",
    "feat_abs_ret_24h",
]
#: Every per-candle input of the coin's own candles any estimator reads (what drift watches).
INPUT_FEATURES: list[str] = HAR_FEATURES + HOUR_FEATURES + EXTRA_FEATURES
#: The reference coin's HAR lags and returns at the same hour (cross-asset, boosted estimator).
REFERENCE_FEATURES: list[str] = [f"feat_ref_lrv_{k}h" for k in HAR_LAGS] + [
    "feat_ref_ret_1h",
    "feat_ref_ret_24h",
]
_REF_ATTR = "vol_reference"
#: Forecast horizons in hours.
HORIZONS: tuple[int, ...] = (6, 24)


def target_column(horizon: int) -> str:
    return f"target_lrv_{horizon}h"


def ret_column(horizon: int) -> str:
    return f"ret_{horizon}h"


class VolFrame:
    """Features, targets and forward returns of one coin's candles (one row per candle, in the
    candles' order), plus the hourly variance on the time grid for the EWMA and persistence."""

    def __init__(self, frame: pd.DataFrame, variance: np.ndarray, position: np.ndarray) -> None:
        self.frame = frame
        #: The target's variance per grid hour (NaN for missing candles): Garman–Klass, or the
        #: sub-hourly realised variance when attached (core.volatility.intraday).
        self.variance = variance
        #: Grid position of every candle row.
        self.position = position

    def __len__(self) -> int:
        return len(self.frame)


def _log(values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.log(np.maximum(values, VARIANCE_FLOOR)))


def reference_symbol(symbol: str) -> str:
    """The reference coin of ``symbol``'s cross-asset inputs: BTC, and ETH for BTC itself."""
    return "ETHUSDT" if symbol == "BTCUSDT" else "BTCUSDT"


class Reference:
    """A reference coin's candles attached to another coin's (immutable once attached, so a
    copy of the frame shares it instead of copying it)."""

    def __init__(self, symbol: str, candles: pd.DataFrame) -> None:
        self.symbol = symbol
        self.candles = candles

    def __deepcopy__(self, memo: dict[int, object]) -> Reference:
        return self


def attach_reference(candles: pd.DataFrame, symbol: str, reference: pd.DataFrame) -> pd.DataFrame:
    """``candles`` with ``reference`` (store schema, 1h, the coin ``symbol``) attached for the
    cross-asset inputs; carried in ``DataFrame.attrs`` so it follows the frame (``tail``,
    ``iloc``); the candles themselves are not changed."""
    out = candles.copy()
    out.attrs[_REF_ATTR] = Reference(symbol, reference.reset_index(drop=True))
    return out


def attached_reference(candles: pd.DataFrame) -> Reference | None:
    """The reference attached to ``candles`` by :func:`attach_reference`, or None."""
    found = candles.attrs.get(_REF_ATTR)
    return found if isinstance(found, Reference) else None


def _reference_columns(candles: pd.DataFrame) -> dict[str, np.ndarray]:
    """The ``feat_ref_*`` columns per candle row of ``candles`` (NaN without a reference)."""
    n = len(candles)
    ref = attached_reference(candles)
    if ref is None or ref.candles.empty or n == 0:
        return {name: np.full(n, np.nan) for name in REFERENCE_FEATURES}
    grid, _ = on_grid(ref.candles)
    v = hourly_variance(grid)
    close = grid["close"].to_numpy(dtype="float64")
    values: dict[str, np.ndarray] = {
        f"feat_ref_lrv_{k}h": _log(trailing_mean(v, k)) for k in HAR_LAGS
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in (1, 24):
            lagged = pd.Series(close).shift(k).to_numpy()
            values[f"feat_ref_ret_{k}h"] = np.log(close / lagged)
    # Exact open-time match on the reference's own hourly grid: nothing from a later hour.
    start = pd.Timestamp(ref.candles["open_time"].iloc[0])
    offset = (pd.DatetimeIndex(candles["open_time"]) - start) / pd.Timedelta(hours=1)
    idx = np.asarray(offset, dtype="float64")
    ok = (idx >= 0) & (idx < len(grid)) & (idx == np.floor(idx))
    pick = np.where(ok, idx, 0).astype("int64")
    return {name: np.where(ok, values[name][pick], np.nan) for name in REFERENCE_FEATURES}


def sequence_features(window: int) -> list[str]:
    """The last ``window`` hours' log variance, oldest first (``feat_lrv_seq_{k}``: ``k`` hours
    before this one), the sequence an LSTM reads."""
    return [f"feat_lrv_seq_{k}" for k in range(window - 1, -1, -1)]


def sequence_length(features: Sequence[str]) -> int:
    """How many hours of the log-variance sequence ``features`` hold (0: none)."""
    return sum(1 for name in features if name.startswith("feat_lrv_seq_"))


def build_frame(
    candles: pd.DataFrame, horizons: Sequence[int] = HORIZONS, *, sequence: int = 0
) -> VolFrame:
    """Inputs, targets and forward returns for every candle of ``candles`` (store schema, time
    order). Rows whose look-back or look-ahead is incomplete hold NaN there. ``sequence``: also
    the last ``sequence`` hours' log variance (:func:`sequence_features`)."""
    grid, position = on_grid(candles.reset_index(drop=True))
    v = hourly_variance(grid)
    cols: dict[str, np.ndarray] = {}
    for lag, name in zip(HAR_LAGS, HAR_FEATURES, strict=True):
        cols[name] = _log(trailing_mean(v, lag))
    times = pd.DatetimeIndex(candles["open_time"].to_numpy())
    close = grid["close"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        log_range = np.log(grid["high"].to_numpy() / grid["low"].to_numpy())
        volume = grid["volume"].to_numpy(dtype="float64")
        vol_ratio = np.log(volume / trailing_mean(volume, 168))
        taker = grid["taker_buy_base_volume"].to_numpy(dtype="float64") / volume
        ret24 = np.abs(np.log(close / pd.Series(close).shift(24).to_numpy()))
    cols["feat_log_range"] = np.log(np.maximum(log_range, 1e-5))
    cols["feat_log_volume_ratio"] = np.where(np.isfinite(vol_ratio), vol_ratio, np.nan)
    cols["feat_taker_share"] = np.where(np.isfinite(taker), taker, np.nan)
    cols["feat_abs_ret_24h"] = ret24
    target_v = target_variance(candles, grid, v)  # sub-hourly RV when attached, else v
    hourly = _log(v)
    for k, name in enumerate(reversed(sequence_features(sequence))):
        cols[name] = pd.Series(hourly).shift(k).to_numpy()
    for h in horizons:
        cols[target_column(h)] = forward_log_rv(target_v, h)
        cols[ret_column(h)] = forward_return(close, h)
    frame = pd.DataFrame({k: np.asarray(c)[position] for k, c in cols.items()})
    # Hour of day comes from the candle's own open time (the close is the next hour).
    hour_angle = 2.0 * np.pi * ((times.hour.to_numpy() + 1) % 24) / 24.0
    for k, (sin, cos) in enumerate(zip(HOUR_FEATURES[::2], HOUR_FEATURES[1::2], strict=True)):
        frame.insert(len(HAR_FEATURES) + 2 * k, sin, np.sin((k + 1) * hour_angle))
        frame.insert(len(HAR_FEATURES) + 2 * k + 1, cos, np.cos((k + 1) * hour_angle))
    for name, values in _reference_columns(candles).items():
        frame[name] = values
    frame.insert(0, "open_time", candles["open_time"].to_numpy())
    frame.insert(1, "close", candles["close"].to_numpy(dtype="float64"))
    return VolFrame(frame, target_v, position)  # baselines judged in the target's own measure
