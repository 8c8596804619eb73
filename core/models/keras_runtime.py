"""Keras on TensorFlow for the LSTM kinds: imported only when a network is trained, quiet and with
this machine's thread count, and the callback that reports each epoch as a fit step."""

from __future__ import annotations

import os
import time
from typing import Any

from core.models.base import FitStep, StepCallback, thread_count

__all__ = ["epoch_callback", "load_keras"]


def load_keras() -> Any:
    """Import Keras on TensorFlow, quiet, with the thread count set before TF starts its pools."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(thread_count())
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # TF already ran something in this process; its pools are fixed by now
    import keras

    return keras


def epoch_callback(keras: Any, on_step: StepCallback | None, total: int) -> Any:
    """A Keras callback that reports each epoch's losses and an estimate of the time left."""

    class Epochs(keras.callbacks.Callback):  # type: ignore[misc]  # Keras has no types
        def on_train_begin(self, logs: Any = None) -> None:
            self.started = time.monotonic()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if on_step is None:
                return
            done = epoch + 1
            per_epoch = (time.monotonic() - self.started) / done
            metrics = {k: float(v) for k, v in (logs or {}).items() if k in ("loss", "val_loss")}
            on_step(FitStep(done, total, metrics, per_epoch * (total - done)))

    return Epochs()
