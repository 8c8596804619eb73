"""What a training run records about itself: a fingerprint of its candles, the library versions,
summaries of its metrics, and the shared training log (``{home}/logs/model_training.log``)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import platform
import time
from collections.abc import Iterator
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.data.store import COLUMNS

__all__ = ["candles_sha256", "library_versions", "mean_metrics", "short_metrics", "training_log"]

_LIBRARIES = ("numpy", "pandas", "scikit-learn", "xgboost", "tensorflow", "keras", "TA-Lib")
_SHORT = (
    "roc_auc",
    "accuracy",
    "balanced_accuracy",
    "brier",
    "mae",
    "rmse",
    "directional_accuracy",
)


def candles_sha256(candles: pd.DataFrame) -> str:
    """sha256 over every stored column's values, in ``COLUMNS`` order (times as epoch ms), so
    the same candles give the same fingerprint whatever file or frame they came from."""
    digest = hashlib.sha256()
    for column in COLUMNS:
        values = candles[column].to_numpy()
        if values.dtype.kind == "M":
            values = values.astype("datetime64[ms]").astype("int64")
        digest.update(column.encode())
        digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries a model depends on (read without importing them)."""
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        # the CPU-only builds (xgboost-cpu, tensorflow-cpu) are the same import under another
        # distribution name
        for dist in (name, f"{name}-cpu"):
            with contextlib.suppress(importlib_metadata.PackageNotFoundError):
                out[name] = importlib_metadata.version(dist)
                break
    return out


def short_metrics(values: dict[str, Any]) -> str:
    """``roc_auc=0.53 accuracy=0.85 ...`` for log lines."""
    return " ".join(f"{k}={values[k]:.4g}" for k in _SHORT if isinstance(values.get(k), float))


def mean_metrics(folds: list[dict[str, Any]]) -> dict[str, float]:
    """The mean of each numeric metric (and skill) over walk-forward folds (``{}`` if none)."""
    if not folds:
        return {}
    out = {}
    for key, first in folds[0]["metrics"].items():
        if not isinstance(first, int | float):
            continue
        values = [
            f["metrics"][key] for f in folds if isinstance(f["metrics"].get(key), int | float)
        ]
        out[key] = float(np.mean(values))
    skills = [f["skill"] for f in folds if isinstance(f.get("skill"), int | float)]
    if skills:
        out["skill"] = float(np.mean(skills))
    return out


@contextlib.contextmanager
def training_log(logger: logging.Logger, *, logs: Path) -> Iterator[None]:
    """Send ``logger`` to ``{logs}/model_training.log`` (``logs``: the home's ``paths.logs``)
    for the block, unless a handler on its way up (a job's or the CLI's) already writes there."""
    path = (logs / "model_training.log").resolve()
    current: logging.Logger | None = logger
    while current is not None:
        if any(getattr(h, "baseFilename", None) == str(path) for h in current.handlers):
            yield
            return
        current = current.parent if current.propagate else None
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    formatter.converter = time.gmtime  # UTC, like the job logs
    handler.setFormatter(formatter)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        with contextlib.suppress(OSError):  # a full disk: its lines are lost, not the error
            handler.close()
