"""The seed's LSTM network as an :class:`~core.models.estimator.Estimator` (regression).

Stacked ``LSTM(units)`` with ``Dropout``, ``Dense(dense_units)``, ``Dense(1)``, Adam, MSE, no
shuffling; with a validation slice and ``patience > 0``, early stopping restores the best epoch's
weights. Inputs ``(n, window, channels)`` are standardised per channel with the mean and spread of
each TRAINING sample's own (last) step, and the target with its training mean and spread, fit in
:meth:`LSTMEstimator.fit` only. TensorFlow is imported only inside :meth:`LSTMEstimator.fit`;
after :meth:`LSTMEstimator.load` the forward pass runs in numpy from the exported weights
(``weights.npz``), so a process that only loads and predicts never imports TensorFlow. The
``.keras`` file is kept beside it in Keras' own format. Settings: :class:`core.models.settings.LSTMConfig`.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from core.errors import InsufficientDataError, ModelError
from core.models.base import StepCallback, Task
from core.models.calibration import sigmoid
from core.models.keras_runtime import epoch_callback, load_keras

__all__ = ["LSTMEstimator"]

_KERAS_FILE = "model.keras"
_WEIGHTS_FILE = "weights.npz"
_CHUNK = 4096


class LSTMEstimator:
    """Learned state: ``x_mean_``, ``x_scale_`` (per channel), ``y_mean_``, ``y_scale_``,
    ``weights_`` (numpy arrays of every layer), ``history_`` (loss per epoch), ``best_epoch_``,
    ``epochs_run_``; right after :meth:`fit` also ``keras_model_``."""

    name: ClassVar[str] = "LSTM"
    tasks: ClassVar[frozenset[Task]] = frozenset({Task.REGRESSION})

    def __init__(self, config: Any) -> None:
        self.config = config

    def scale(self, X: np.ndarray) -> np.ndarray:
        """Inputs → the standardised network inputs, with the training rows' scaler."""
        return np.asarray((np.asarray(X, dtype="float64") - self.x_mean_) / self.x_scale_)

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        task: Task,
        features: list[str],
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        on_step: StepCallback | None = None,
    ) -> Self:
        """Fit the scalers on these rows, then the network.

        Raises:
            InsufficientDataError: fewer than two training windows.
        """
        cfg = self.config
        X = np.asarray(X, dtype="float64")
        y = np.asarray(y, dtype="float64")
        if len(X) < 2:
            raise InsufficientDataError("The LSTM needs at least two training windows.")
        keras = load_keras()
        keras.utils.set_random_seed(cfg.random_state)
        own = X[:, -1, :]  # each training sample's own candle, so no candle counts w times
        spread = own.std(axis=0)
        self.x_mean_ = own.mean(axis=0)
        self.x_scale_ = np.where(spread > 0, spread, 1.0)
        self.y_mean_ = float(y.mean())
        self.y_scale_ = float(y.std()) or 1.0
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

    def _train_network(
        self,
        keras: Any,
        inputs: np.ndarray,
        labels: np.ndarray,
        val_data: tuple[np.ndarray, np.ndarray] | None,
        on_step: StepCallback | None,
    ) -> None:
        cfg = self.config
        model = self._build(keras, inputs.shape[-1])
        callbacks: list[Any] = [epoch_callback(keras, on_step, cfg.epochs)]
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

    # ---- predicting (numpy only) --------------------------------------------------------------

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
                gate_i, gate_f = sigmoid(z[:, :units]), sigmoid(z[:, units : 2 * units])
                gate_o = sigmoid(z[:, 3 * units :])
                cell = gate_f * cell + gate_i * np.tanh(z[:, 2 * units : 3 * units])
                state = gate_o * np.tanh(cell)
                steps.append(state)
            h = np.stack(steps, axis=1) if i < self.config.layers - 1 else state
        for kernel in w:
            h = h @ kernel + next(w)
        return h[:, 0]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The forecast target (unscaled) per window."""
        if not hasattr(self, "x_mean_"):
            raise ModelError("This LSTM model is not trained yet: call fit() or load one.")
        if len(X) == 0:
            return np.empty(0)
        return self.forward(self.scale(X)) * self.y_scale_ + self.y_mean_

    def summary(self) -> dict[str, Any]:
        """The loss curve, where it stopped, the scalers."""
        return {
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

    # ---- files --------------------------------------------------------------------------------

    def save(self, directory: Path) -> tuple[list[str], dict[str, Any]]:
        """``model.keras`` (Keras format) and ``weights.npz`` (weights + scaler for the numpy
        forward pass)."""
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
        return [_KERAS_FILE, _WEIGHTS_FILE], {**self.summary(), "weights": len(self.weights_)}

    def to_arrays(self) -> dict[str, Any]:
        """What the numpy forward pass needs (weights and scalers), as JSON-ready lists."""
        return {
            "weights": [w.tolist() for w in self.weights_],
            "x_mean": self.x_mean_.tolist(),
            "x_scale": self.x_scale_.tolist(),
            "y_mean": self.y_mean_,
            "y_scale": self.y_scale_,
            "epochs_run": self.epochs_run_,
            "best_epoch": self.best_epoch_,
        }

    @classmethod
    def from_arrays(cls, config: Any, data: Mapping[str, Any]) -> Self:
        """A model for the numpy forward pass from :meth:`to_arrays` (no Keras file)."""
        model = cls(config)
        model.weights_ = [np.asarray(w, dtype="float32") for w in data["weights"]]
        model.x_mean_ = np.asarray(data["x_mean"], dtype="float64")
        model.x_scale_ = np.asarray(data["x_scale"], dtype="float64")
        model.y_mean_, model.y_scale_ = float(data["y_mean"]), float(data["y_scale"])
        model.epochs_run_, model.best_epoch_ = int(data["epochs_run"]), int(data["best_epoch"])
        model.history_, model.keras_model_, model._keras_bytes = {}, None, None
        return model

    @classmethod
    def load(cls, config: Any, directory: Path, info: Mapping[str, Any]) -> Self:
        """Read what :meth:`save` wrote, without importing TensorFlow."""
        directory = Path(directory)
        model = cls(config)
        with np.load(io.BytesIO((directory / _WEIGHTS_FILE).read_bytes())) as npz:
            arrays = {k: npz[k] for k in npz.files}  # allow_pickle stays False
        model._keras_bytes = (directory / _KERAS_FILE).read_bytes()
        model.weights_ = [arrays[f"w{i}"].astype("float32") for i in range(info["weights"])]
        model.x_mean_, model.x_scale_ = arrays["x_mean"], arrays["x_scale"]
        model.y_mean_, model.y_scale_ = float(arrays["y_mean"]), float(arrays["y_scale"])
        channels = len(info["features"])
        if model.x_mean_.shape != (channels,):
            raise ValueError(f"its scaler has {model.x_mean_.shape} channels, not {channels}")
        model.history_ = info.get("loss_curve") or {}
        model.epochs_run_ = int(info.get("epochs_run", 0))
        model.best_epoch_ = int(info.get("best_epoch", 0))
        model.keras_model_ = None
        return model
