"""LSTM forecaster of the next candle's log return from a multivariate window.

The target is ``log(close[t + 1] / close[t])``. The network reads the last ``window`` candles up to
t, seven channels per candle (:data:`INPUTS`): the log return of the close, ``log(high / low)``,
the log change of volume, the taker-buy share of volume minus 0.5 (0 on a zero-volume candle),
the standard deviation of the last 24 log returns (computed from candles up to that one only),
and the hour of day as sine and cosine. All of them are scale-free, so one network reads any
price level.

A sample exists only where its whole look-back (the ``window`` candles, the candle before the
first of them, and the 23 before that which the first volatility value needs) and its next candle
are consecutive: a window that spans a gap (missing candles) has no row, nor does one whose next
candle lies after a gap.

Each channel is standardised with the mean and spread of the TRAINING rows only (each sample's
own candle, learned in :meth:`LSTMReturnModel.fit`), and so is the target. The network is the seed
LSTM's (:mod:`core.models.lstm`: stacked ``LSTM(units)`` with ``Dropout``, ``Dense(dense_units)``,
``Dense(1)``, Adam, MSE, early stopping on the validation slice with the best weights restored,
no shuffling). TensorFlow is imported only inside :meth:`LSTMReturnModel.fit`; after
:meth:`LSTMReturnModel.load` the forward pass is :mod:`core.models.lstm`'s numpy one.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from core.config import LSTMReturnConfig, SignalConfig, TargetConfig
from core.errors import InsufficientDataError, ModelError
from core.features.indicators import _f64, epoch_ms, gap_starts
from core.models.base import Dataset, Output, StepCallback, Task, VoteRule, read_json
from core.models.keras_runtime import _tensorflow
from core.models.lstm import LSTMModel

__all__ = ["INPUTS", "NEXT_LOG_RETURN", "VOLATILITY_WINDOW", "LSTMReturnModel", "channels"]

#: What the network reads per candle, in channel order.
INPUTS = (
    "log_return",
    "log_high_low",
    "log_volume_change",
    "taker_buy_share",
    "volatility_24",
    "hour_sin",
    "hour_cos",
)
#: The target's name: the next candle's log return.
NEXT_LOG_RETURN = "target_next_log_return"
#: Log returns in the rolling volatility channel.
VOLATILITY_WINDOW = 24
_INFO_FILE = "model.json"
_WEIGHTS_FILE = "weights.npz"
_KERAS_FILE = "model.keras"


def _log_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(a / b)
    out[~np.isfinite(out)] = np.nan
    return out


def channels(candles: pd.DataFrame) -> np.ndarray:
    """``(n, 7)`` float64 inputs per candle (:data:`INPUTS` order); row t uses candles ``<= t``.

    NaN where a value is undefined: the first row's returns, the first ``VOLATILITY_WINDOW`` rows'
    volatility, a non-positive price. Gaps are not looked at here (:meth:`make_dataset` drops the
    windows that span one).
    """
    c, h, lo, v = (_f64(candles[k]) for k in ("close", "high", "low", "volume"))
    taker = _f64(candles["taker_buy_base_volume"])
    n = len(c)
    out = np.full((n, len(INPUTS)), np.nan)
    if n == 0:
        return out
    ret = np.full(n, np.nan)
    ret[1:] = _log_ratio(c[1:], c[:-1])
    out[:, 0] = ret
    out[:, 1] = _log_ratio(h, lo)
    with np.errstate(invalid="ignore"):
        lv = np.log1p(v)
    out[1:, 2] = lv[1:] - lv[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, 3] = np.where(v > 0, taker / v, 0.5) - 0.5
    k = VOLATILITY_WINDOW
    if n > k:
        # per-window std, so the value does not depend on where the series starts (bit for bit)
        view = np.lib.stride_tricks.sliding_window_view(ret[1:], k)
        out[k:, 4] = view.std(axis=1, ddof=1)
    hour = (epoch_ms(candles["open_time"]) % 86_400_000) / 3_600_000.0
    out[:, 5] = np.sin(2 * np.pi * hour / 24.0)
    out[:, 6] = np.cos(2 * np.pi * hour / 24.0)
    return out


class LSTMReturnModel(LSTMModel):
    """The return forecaster behind the :class:`core.models.base.Model` protocol.

    The network, its numpy forward pass and :meth:`save` are :class:`~core.models.lstm.LSTMModel`'s;
    inputs, target and scaling are this module's. Learned state: ``x_mean_``, ``x_scale_`` (per
    channel), ``y_mean_``, ``y_scale_`` (next log return), ``weights_``, ``history_``,
    ``best_epoch_``, ``epochs_run_``, ``train_rows_``; right after :meth:`fit` also
    ``keras_model_``.
    """

    kind: ClassVar[str] = "lstm_return"
    output: ClassVar[Output] = Output.RETURN
    output_name: ClassVar[str] = "forecast_return"
    task = Task.REGRESSION
    config: LSTMReturnConfig

    def __init__(self, config: LSTMReturnConfig | None = None) -> None:
        self.config = config or LSTMReturnConfig()

    @property
    def lookback(self) -> int:
        """Candles before a sample's own candle that its inputs need."""
        return self.config.window + VOLATILITY_WINDOW - 1

    def vote_rule(self, config: SignalConfig) -> VoteRule:
        """Up / down when the forecast log return is beyond +/- ``min_return``."""
        return VoteRule(Output.RETURN, config.min_return)

    def make_dataset(
        self,
        candles: pd.DataFrame,
        *,
        target: TargetConfig | None = None,
        context: Mapping[str, pd.DataFrame] | None = None,
    ) -> Dataset:
        """One sample per candle t whose look-back (``lookback`` candles before it) and next
        candle are consecutive and known: ``X[i]`` is the ``(window, 7)`` unscaled inputs up to
        t, ``y[i] = log(close[t + 1] / close[t])``. ``target`` and ``context`` are unused."""
        w, look = self.config.window, self.lookback
        feats = channels(candles)
        c = _f64(candles["close"])
        n = len(c)
        nxt = np.full(n, np.nan)
        if n > 1:
            nxt[:-1] = _log_ratio(c[1:], c[:-1])
        t = np.arange(look, n - 1)  # candidates: a full look-back and a next candle
        if len(t) == 0:
            return self._dataset(candles, np.empty((0, w, len(INPUTS))), nxt[:0], t)
        gaps = np.cumsum(gap_starts(candles))
        contiguous = gaps[t + 1] - gaps[t - look] == 0  # no gap from t - look to t + 1
        windows = np.lib.stride_tricks.sliding_window_view(feats, w, axis=0)  # (n-w+1, 7, w)
        X = windows[t - w + 1].transpose(0, 2, 1)
        valid = contiguous & np.isfinite(X).all(axis=(1, 2)) & np.isfinite(nxt[t])
        return self._dataset(candles, X[valid], nxt[t][valid], t[valid])

    def _dataset(
        self, candles: pd.DataFrame, X: np.ndarray, y: np.ndarray, position: np.ndarray
    ) -> Dataset:
        return Dataset(
            X=np.ascontiguousarray(X, dtype="float32"),
            y=np.asarray(y, dtype="float64"),
            position=position,
            open_time=candles["open_time"].to_numpy()[position],
            close=candles["close"].to_numpy(dtype="float64")[position],
            horizon=1,
            features=list(INPUTS),
            target=NEXT_LOG_RETURN,
        )

    # ---- fitting ----------------------------------------------------------------------------

    def scale(self, X: np.ndarray) -> np.ndarray:
        """Unscaled windows → standardised network inputs, with the training rows' scaler."""
        self._check_fitted()
        return (np.asarray(X, dtype="float64") - self.x_mean_) / self.x_scale_

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        on_step: StepCallback | None = None,
    ) -> Self:
        """Train on windows ``X`` ``(n, window, 7)`` and next log returns ``y``.

        The scalers are fit here, on these training rows only. With ``validation`` and
        ``patience > 0``, training stops after ``patience`` epochs without a better validation
        loss and the best epoch's weights are restored.

        Raises:
            InsufficientDataError: fewer than two training windows.
        """
        cfg = self.config
        X = np.asarray(X, dtype="float64")
        y = np.asarray(y, dtype="float64")
        if len(X) < 2:
            raise InsufficientDataError("The LSTM return model needs at least two windows.")
        keras = _tensorflow()
        keras.utils.set_random_seed(cfg.random_state)
        own = X[:, -1, :]  # each training sample's own candle, so no candle counts w times
        spread = own.std(axis=0)
        self.x_mean_ = own.mean(axis=0)
        self.x_scale_ = np.where(spread > 0, spread, 1.0)
        self.y_mean_ = float(y.mean())
        self.y_scale_ = float(y.std()) or 1.0
        self.train_rows_ = int(len(X))
        inputs = self.scale(X).astype("float32")
        labels = ((y - self.y_mean_) / self.y_scale_).astype("float32")[:, None]
        val_data = None
        if validation is not None and len(validation[1]):
            val_y = np.asarray(validation[1], dtype="float64")
            val_data = (
                self.scale(validation[0]).astype("float32"),
                ((val_y - self.y_mean_) / self.y_scale_).astype("float32")[:, None],
            )
        self._train_network(keras, inputs, labels, val_data, on_step)
        return self

    # ---- predicting (numpy only) --------------------------------------------------------------

    def predict_output(self, X: np.ndarray) -> np.ndarray:
        """Forecast next log returns for unscaled windows ``X`` ``(n, window, 7)``."""
        self._check_fitted()
        if len(X) == 0:
            return np.empty(0)
        return self.forward(self.scale(X)) * self.y_scale_ + self.y_mean_

    def predict_latest(
        self, candles: pd.DataFrame, *, context: Mapping[str, pd.DataFrame] | None = None
    ) -> float:
        """The forecast log return of the candle after the last one of ``candles`` (closed,
        store schema), from the last ``window + 24`` candles. A gap inside them is not refused
        (the live signal keeps working after an exchange halt), only undefined inputs are.

        Raises:
            InsufficientDataError: fewer than ``window + 24`` candles, or an input is undefined
                (a zero or missing price among them).
        """
        self._check_fitted()
        need = self.lookback + 1
        if len(candles) < need:
            raise InsufficientDataError(
                f"The LSTM return forecast needs the last {need} candles ({self.config.window} "
                f"in its window and {VOLATILITY_WINDOW} more for the volatility input); got "
                f"{len(candles)}. Fetch more history."
            )
        # float32 like make_dataset, so this equals the prediction of the same sample there
        X = channels(candles.iloc[-need:])[-self.config.window :][None].astype("float32")
        if not np.isfinite(X).all():
            raise InsufficientDataError(
                "An input of the LSTM return forecast is undefined in the last "
                f"{need} candles (a zero or missing price or volume). Fetch the candles again."
            )
        return float(self.predict_output(X)[0])

    def summary(self) -> dict[str, Any]:
        """What training did: inputs, rows, the loss curve, where it stopped, the scalers."""
        return {**super().summary(), "inputs": list(INPUTS), "target": NEXT_LOG_RETURN}

    # ---- files --------------------------------------------------------------------------------

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read a model written by :meth:`save` (LSTMModel's format), without TensorFlow.

        Raises:
            ModelError: a file is missing or not what :meth:`save` writes.
        """
        directory = Path(directory)
        try:
            info = read_json(directory / _INFO_FILE)
            if info.get("kind") != cls.kind:
                raise ValueError(f"it holds a {info.get('kind')!r} model, not {cls.kind!r}")
            model = cls(LSTMReturnConfig(**info["config"]))
            with np.load(io.BytesIO((directory / _WEIGHTS_FILE).read_bytes())) as npz:
                arrays = {k: npz[k] for k in npz.files}  # allow_pickle stays False
            keras_bytes = (directory / _KERAS_FILE).read_bytes()
            model.weights_ = [arrays[f"w{i}"].astype("float32") for i in range(info["weights"])]
            model.x_mean_, model.x_scale_ = arrays["x_mean"], arrays["x_scale"]
            model.y_mean_, model.y_scale_ = float(arrays["y_mean"]), float(arrays["y_scale"])
            if model.x_mean_.shape != (len(INPUTS),):
                raise ValueError(f"its scaler has {model.x_mean_.shape} channels, not 7")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"Cannot load the LSTM return model in {directory}: {exc}") from exc
        model.history_ = info.get("loss_curve") or {}
        model.epochs_run_ = int(info.get("epochs_run", 0))
        model.best_epoch_ = int(info.get("best_epoch", 0))
        model.train_rows_ = int(info.get("train_rows", 0))
        model.keras_model_ = None
        model._keras_bytes = keras_bytes
        return model
