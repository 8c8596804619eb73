"""LSTM forecaster of the next close from the last ``window`` candles.

Inputs per candle: the log return of the close, log(high / low) and the log change of volume, so
one network reads any price level; each is standardised with the mean and spread of the TRAINING
rows only (learned in :meth:`LSTMModel.fit`). The network predicts the standardised next log
return; forecasts are turned back into prices (``close * exp(return)``), so every metric is in
price units and sits beside persistence (a return of 0).

TensorFlow is imported only inside :meth:`LSTMModel.fit`. After :meth:`LSTMModel.load` the forward
pass runs in numpy from the exported weights (``weights.npz``), so a process that only loads and
predicts (the dashboard, signals) never imports TensorFlow. The ``.keras`` file is kept beside it
in Keras' own format.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from core.config import LSTMConfig, SignalConfig, TargetConfig
from core.errors import InsufficientDataError, ModelError
from core.features.causal import NEXT_CLOSE, compute_targets
from core.models.base import (
    Dataset,
    Output,
    StepCallback,
    Task,
    VoteRule,
    read_json,
    write_json,
)
from core.models.calibration import _sigmoid
from core.models.keras_runtime import _epoch_callback, _tensorflow

__all__ = ["INPUTS", "LSTMModel"]

#: What the network reads per candle, in channel order.
INPUTS = ("log_return", "log_high_low", "log_volume_change")
_RAW = ("close", "high", "low", "volume")
_KERAS_FILE = "model.keras"
_WEIGHTS_FILE = "weights.npz"
_INFO_FILE = "model.json"
_CHUNK = 4096


def raw_windows(candles: pd.DataFrame, window: int) -> np.ndarray:
    """``(n - window, window + 1, 4)`` windows of close, high, low, volume; window ``k`` ends at
    candle ``k + window`` (one candle more than ``window``: the first return needs it)."""
    raw = candles[list(_RAW)].to_numpy(dtype="float64")
    if len(raw) < window + 1:
        return np.empty((0, window + 1, len(_RAW)))
    view = np.lib.stride_tricks.sliding_window_view(raw, window + 1, axis=0)
    return view.transpose(0, 2, 1)


def transform(X: np.ndarray) -> np.ndarray:
    """Raw windows ``(n, window + 1, 4)`` → unscaled inputs ``(n, window, 3)`` (see INPUTS)."""
    close, high, low, volume = (X[..., i] for i in range(4))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.stack(
            [
                np.diff(np.log(close), axis=1),
                np.log(high[:, 1:] / low[:, 1:]),
                np.diff(np.log1p(volume), axis=1),
            ],
            axis=-1,
        )


class LSTMModel:
    """The forecaster behind the :class:`core.models.base.Model` protocol.

    Learned state: ``x_mean_``, ``x_scale_`` (per input channel), ``y_mean_``, ``y_scale_`` (next
    log return), ``weights_`` (numpy arrays of every layer), ``history_`` (loss per epoch),
    ``best_epoch_``, ``epochs_run_``, ``train_rows_``; right after :meth:`fit` also
    ``keras_model_``.
    """

    kind: ClassVar[str] = "lstm"
    output: ClassVar[Output] = Output.PRICE
    output_name: ClassVar[str] = "forecast"
    task = Task.REGRESSION

    def __init__(self, config: LSTMConfig | None = None) -> None:
        self.config = config or LSTMConfig()

    def params(self) -> dict[str, Any]:
        return asdict(self.config)

    def vote_rule(self, config: SignalConfig) -> VoteRule:
        """Up / down when the forecast close is ``min_return`` (log) above / below the close."""
        return VoteRule(Output.PRICE, config.min_return)

    def make_dataset(
        self,
        candles: pd.DataFrame,
        *,
        target: TargetConfig | None = None,
        context: Mapping[str, pd.DataFrame] | None = None,
    ) -> Dataset:
        """One sample per candle with ``window`` candles of history and a known next close
        (``target`` is unused: the forecaster's target is always the next close)."""
        w = self.config.window
        X = raw_windows(candles, w)
        nxt = compute_targets(candles, horizon=1)[NEXT_CLOSE].to_numpy()[w:]
        with np.errstate(invalid="ignore"):
            good = np.isfinite(X).all(axis=(1, 2)) & (X[..., :3] > 0).all(axis=(1, 2))
        valid = good & np.isfinite(nxt) & (nxt > 0)
        position = np.flatnonzero(valid) + w
        return Dataset(
            X=np.ascontiguousarray(X[valid]),
            y=nxt[valid].astype("float64"),
            position=position,
            open_time=candles["open_time"].to_numpy()[position],
            close=candles["close"].to_numpy(dtype="float64")[position],
            horizon=1,
            features=list(INPUTS),
            target=NEXT_CLOSE,
        )

    # ---- fitting -------------------------------------------------------------------------

    def _scaled_target(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (np.log(np.asarray(y, dtype="float64") / X[:, -1, 0]) - self.y_mean_) / self.y_scale_

    def scale(self, X: np.ndarray) -> np.ndarray:
        """Raw windows → the standardised network inputs, with the training rows' scaler."""
        self._check_fitted()
        return (transform(X) - self.x_mean_) / self.x_scale_

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        on_step: StepCallback | None = None,
    ) -> Self:
        """Train on raw windows ``X`` and next closes ``y``.

        The scaler is fit here, on these training rows only (each sample's own candle). With
        ``validation`` (cut by the caller from the end of the training period) and
        ``patience > 0``, training stops after ``patience`` epochs without a better validation
        loss and the best epoch's weights are restored.

        Raises:
            InsufficientDataError: fewer training windows than one batch needs.
        """
        cfg = self.config
        if len(X) < 2:
            raise InsufficientDataError("The LSTM needs at least two training windows.")
        keras = _tensorflow()
        keras.utils.set_random_seed(cfg.random_state)
        own = transform(X)[:, -1, :]  # the inputs at each training sample's own candle
        self.x_mean_ = own.mean(axis=0)
        self.x_scale_ = np.where(own.std(axis=0) > 0, own.std(axis=0), 1.0)
        target = np.log(np.asarray(y, dtype="float64") / X[:, -1, 0])
        self.y_mean_ = float(target.mean())
        self.y_scale_ = float(target.std()) or 1.0
        self.train_rows_ = int(len(X))
        inputs = self.scale(X).astype("float32")
        labels = self._scaled_target(X, y).astype("float32")[:, None]
        val_data = None
        if validation is not None and len(validation[1]):
            val_data = (
                self.scale(validation[0]).astype("float32"),
                self._scaled_target(*validation).astype("float32")[:, None],
            )

        self._train_network(keras, inputs, labels, val_data, on_step)
        return self

    def _train_network(
        self,
        keras: Any,
        inputs: np.ndarray,
        labels: np.ndarray,
        val_data: tuple[np.ndarray, np.ndarray] | None,
        on_step: StepCallback | None,
    ) -> None:
        """Build and fit the network on scaled ``inputs``/``labels`` (early stopping on
        ``val_data`` restoring the best weights, no shuffling); keeps its history and weights."""
        cfg = self.config
        model = self._build(keras, inputs.shape[-1])
        callbacks: list[Any] = [_epoch_callback(keras, on_step, cfg.epochs)]
        if val_data is not None and cfg.patience > 0:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=cfg.patience, restore_best_weights=True
                )
            )
        history = model.fit(
            inputs,
            labels,
            batch_size=cfg.batch_size,
            epochs=cfg.epochs,
            validation_data=val_data,
            shuffle=False,
            callbacks=callbacks,
            verbose=0,
        )
        self.history_ = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        self.epochs_run_ = len(self.history_.get("loss", []))
        val_loss = self.history_.get("val_loss") or []
        restored = bool(val_loss) and cfg.patience > 0
        self.best_epoch_ = int(np.argmin(val_loss)) + 1 if restored else self.epochs_run_
        self.keras_model_ = model
        self.weights_ = [np.asarray(v.numpy(), dtype="float32") for v in model.weights]
        self._keras_bytes: bytes | None = None

    def _build(self, keras: Any, channels: int) -> Any:
        cfg = self.config
        layers: list[Any] = [keras.Input((cfg.window, channels))]
        for i in range(cfg.layers):
            layers.append(keras.layers.LSTM(cfg.units, return_sequences=i < cfg.layers - 1))
            layers.append(keras.layers.Dropout(cfg.dropout))
        layers += [keras.layers.Dense(cfg.dense_units), keras.layers.Dense(1)]
        model = keras.Sequential(layers)
        optimizer = keras.optimizers.Adam(learning_rate=cfg.learning_rate)
        model.compile(optimizer=optimizer, loss="mse", jit_compile=False)
        return model

    # ---- predicting (numpy only) ------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "x_mean_"):
            raise ModelError("This LSTM model is not trained yet: call fit() or load one.")

    def forward(self, inputs: np.ndarray) -> np.ndarray:
        """The network's output for standardised inputs ``(n, window, channels)``, in numpy.

        Same maths as Keras' LSTM (gates i, f, c, o; sigmoid and tanh) with dropout off, in
        float32 like Keras.
        """
        from threadpoolctl import threadpool_limits

        inputs = np.asarray(inputs, dtype="float32")
        # These matmuls are small: one BLAS thread is fastest, and several spin badly when other
        # processes (a second training job, the dashboard) share the cores (measured: 1.8 s vs
        # 7.8 s for 3,500 windows on a loaded 2-core box).
        with threadpool_limits(limits=1, user_api="blas"):
            out = [self._forward(inputs[i : i + _CHUNK]) for i in range(0, len(inputs), _CHUNK)]
        return np.concatenate(out).astype("float64") if out else np.empty(0)

    def _forward(self, seq: np.ndarray) -> np.ndarray:
        w = iter(self.weights_)
        h = seq
        for i in range(self.config.layers):
            kernel, recurrent, bias = next(w), next(w), next(w)
            units = recurrent.shape[0]
            projected = h @ kernel + bias  # the input part of every step at once
            state = np.zeros((len(h), units), dtype=h.dtype)
            cell = np.zeros((len(h), units), dtype=h.dtype)
            steps = []
            for t in range(projected.shape[1]):
                z = projected[:, t] + state @ recurrent
                gate_i, gate_f = _sigmoid(z[:, :units]), _sigmoid(z[:, units : 2 * units])
                gate_o = _sigmoid(z[:, 3 * units :])
                cell = gate_f * cell + gate_i * np.tanh(z[:, 2 * units : 3 * units])
                state = gate_o * np.tanh(cell)
                steps.append(state)
            h = np.stack(steps, axis=1) if i < self.config.layers - 1 else state
        for kernel in w:
            h = h @ kernel + next(w)
        return h[:, 0]

    def predict_output(self, X: np.ndarray) -> np.ndarray:
        """Next-close forecasts (price units) for raw windows ``X`` ``(n, window + 1, 4)``."""
        self._check_fitted()
        scaled = self.forward(self.scale(X))
        return X[:, -1, 0] * np.exp(scaled * self.y_scale_ + self.y_mean_)

    def predict_latest(
        self, candles: pd.DataFrame, *, context: Mapping[str, pd.DataFrame] | None = None
    ) -> float:
        """The forecast of the close after the last candle of ``candles`` (closed, store schema).

        Raises:
            InsufficientDataError: fewer than ``window + 1`` candles.
        """
        self._check_fitted()
        need = self.config.window + 1
        if len(candles) < need:
            raise InsufficientDataError(
                f"The LSTM forecast needs the last {need} candles; got {len(candles)}. "
                "Fetch more history."
            )
        X = raw_windows(candles.iloc[-need:], self.config.window)
        return float(self.predict_output(X)[0])

    def summary(self) -> dict[str, Any]:
        """What training did, for the metadata: the loss curve and where it stopped."""
        self._check_fitted()
        return {
            "inputs": list(INPUTS),
            "train_rows": self.train_rows_,
            "epochs_run": self.epochs_run_,
            "best_epoch": self.best_epoch_,
            "loss_curve": self.history_,
            "scaler": {
                "x_mean": self.x_mean_.tolist(),
                "x_scale": self.x_scale_.tolist(),
                "y_mean": self.y_mean_,
                "y_scale": self.y_scale_,
            },
        }

    # ---- files -----------------------------------------------------------------------------

    def save(self, directory: Path) -> list[str]:
        """``model.keras`` (Keras format), ``weights.npz`` (weights + scaler for the numpy
        forward pass) and ``model.json`` (settings, inputs, loss curve)."""
        self._check_fitted()
        directory = Path(directory)
        if getattr(self, "keras_model_", None) is not None:
            with warnings.catch_warnings():
                # Keras 3.15 + numpy 2 warn inside model.save about __array__(copy=); harmless
                warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
                self.keras_model_.save(directory / _KERAS_FILE)
        elif self._keras_bytes is not None:
            (directory / _KERAS_FILE).write_bytes(self._keras_bytes)
        else:
            raise ModelError("This LSTM model has no Keras file to save (it was loaded without).")
        arrays = {f"w{i}": w for i, w in enumerate(self.weights_)}
        arrays.update(x_mean=self.x_mean_, x_scale=self.x_scale_)
        arrays.update(y_mean=np.array(self.y_mean_), y_scale=np.array(self.y_scale_))
        np.savez(directory / _WEIGHTS_FILE, **arrays)  # type: ignore[arg-type]
        info = {"kind": self.kind, "config": self.params(), **self.summary()}
        info["weights"] = len(self.weights_)
        write_json(directory / _INFO_FILE, info)
        return [_KERAS_FILE, _WEIGHTS_FILE, _INFO_FILE]

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read a model written by :meth:`save`, without importing TensorFlow.

        Raises:
            ModelError: a file is missing or not what :meth:`save` writes.
        """
        directory = Path(directory)
        try:
            info = read_json(directory / _INFO_FILE)
            model = cls(LSTMConfig(**info["config"]))
            with np.load(io.BytesIO((directory / _WEIGHTS_FILE).read_bytes())) as npz:
                arrays = {k: npz[k] for k in npz.files}  # allow_pickle stays False
            keras_bytes = (directory / _KERAS_FILE).read_bytes()
            model.weights_ = [arrays[f"w{i}"].astype("float32") for i in range(info["weights"])]
            model.x_mean_, model.x_scale_ = arrays["x_mean"], arrays["x_scale"]
            model.y_mean_, model.y_scale_ = float(arrays["y_mean"]), float(arrays["y_scale"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"Cannot load the LSTM model in {directory}: {exc}") from exc
        model.history_ = info.get("loss_curve") or {}
        model.epochs_run_ = int(info.get("epochs_run", 0))
        model.best_epoch_ = int(info.get("best_epoch", 0))
        model.train_rows_ = int(info.get("train_rows", 0))
        model.keras_model_ = None
        model._keras_bytes = keras_bytes
        return model
