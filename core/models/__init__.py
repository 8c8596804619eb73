"""The models behind one factory: :func:`create_model` and :func:`load_model`.

This is the only place that branches on the model type; training, the registry and the signals
work with the :class:`~core.models.base.Model` protocol. Importing this package loads neither
XGBoost nor TensorFlow: each model's module is imported when a model of that kind is made.
"""

from __future__ import annotations

import importlib
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.config import LSTMConfig, XGBConfig
from core.errors import ConfigError

if TYPE_CHECKING:
    from core.models.base import Model

__all__ = ["ModelKind", "create_model", "load_model"]


class ModelKind(StrEnum):
    """The model types; the value is the registry's ``model_type`` and name prefix."""

    XGBOOST = "xgboost"
    LSTM = "lstm"

    @classmethod
    def parse(cls, value: str | ModelKind) -> ModelKind:
        """``"xgboost"``, ``"xgb"``, ``"LSTM"`` → a kind.

        Raises:
            ConfigError: not a model type.
        """
        text = str(getattr(value, "value", value)).strip().lower()
        text = {"xgb": "xgboost"}.get(text, text)
        try:
            return cls(text)
        except ValueError:
            raise ConfigError(f"Unknown model type {value!r}: use xgboost (xgb) or lstm.") from None


_CLASSES = {
    ModelKind.XGBOOST: ("core.models.xgb", "XGBoostModel", XGBConfig),
    ModelKind.LSTM: ("core.models.lstm", "LSTMModel", LSTMConfig),
}


def _model_class(kind: ModelKind) -> Any:
    module, name, _ = _CLASSES[kind]
    return getattr(importlib.import_module(module), name)


def create_model(kind: str | ModelKind, config: XGBConfig | LSTMConfig | None = None) -> Model:
    """A new, untrained model of ``kind`` with ``config`` (the kind's defaults if ``None``).

    Raises:
        ConfigError: unknown kind, or a config of the other kind's type.
    """
    kind = ModelKind.parse(kind)
    expected = _CLASSES[kind][2]
    if config is not None and not isinstance(config, expected):
        raise ConfigError(
            f"A {kind.value} model takes a {expected.__name__}, not {type(config).__name__}."
        )
    return _model_class(kind)(config)


def load_model(kind: str | ModelKind, directory: Path) -> Model:
    """Read a model of ``kind`` that ``model.save(directory)`` wrote.

    Raises:
        ConfigError: unknown kind.
        ModelError: the folder does not hold such a model.
    """
    return _model_class(ModelKind.parse(kind)).load(Path(directory))
