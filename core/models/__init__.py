"""The model kinds behind one factory: :func:`create_model`, :func:`load_model` and friends.

This is the only place that names the kinds; training, the registry, the signals, the CLI and the
pages work with the :class:`~core.models.base.Model` protocol and a kind's name. A new kind is one
module (a class following the protocol) plus one :func:`register_kind` entry. Importing this
package loads neither XGBoost nor TensorFlow: a kind's module is imported when a model of that
kind is made or loaded.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import ConfigError

if TYPE_CHECKING:
    from core.models.base import Model

__all__ = [
    "DEFAULT_KINDS",
    "PLUGINS_ENV",
    "SEED_KINDS",
    "KindInfo",
    "config_class",
    "create_model",
    "kind_info",
    "kinds",
    "load_model",
    "parse_kind",
    "parse_kinds",
    "register_kind",
]


@dataclass(frozen=True)
class KindInfo:
    """One model kind: where its class and its settings class live, what it is in words."""

    name: str
    module: str
    class_name: str
    config: str  # "module:ClassName" of its frozen settings dataclass
    label: str
    description: str
    aliases: tuple[str, ...] = ()


_KINDS: dict[str, KindInfo] = {}


def register_kind(info: KindInfo) -> None:
    """Add (or replace) a model kind. The name is the registry's ``model_type`` and the prefix of
    its model names (``{name}_{symbol}``): lowercase letters, digits and ``_``."""
    _KINDS[info.name] = info


register_kind(
    KindInfo(
        "xgb_direction",
        "core.models.xgb_direction",
        "DirectionModel",
        "core.config:DirectionConfig",
        "XGBoost direction",
        "P(the close 6 candles ahead is higher), calibrated; cross-asset and 4h/1d inputs",
        aliases=("direction", "dir"),
    )
)
register_kind(
    KindInfo(
        "lstm_return",
        "core.models.lstm_return",
        "LSTMReturnModel",
        "core.config:LSTMReturnConfig",
        "LSTM return",
        "next-candle log return from a multivariate 48-candle window",
        aliases=("return", "ret"),
    )
)
register_kind(
    KindInfo(
        "xgboost",
        "core.models.xgb",
        "XGBoostModel",
        "core.config:XGBConfig",
        "XGBoost +1%",
        "seed model: P(the close 6 candles ahead is at least 1% higher)",
        aliases=("xgb",),
    )
)
register_kind(
    KindInfo(
        "lstm",
        "core.models.lstm",
        "LSTMModel",
        "core.config:LSTMConfig",
        "LSTM price",
        "seed model: the next close from the last 60 candles",
    )
)

#: What ``train`` fits by default: the directional models that drive the signal, and the seed's.
DEFAULT_KINDS: tuple[str, ...] = ("xgb_direction", "lstm_return", "xgboost", "lstm")
#: The seed's configuration (XGBoost "+1% in 6 h", LSTM on the price level).
SEED_KINDS: tuple[str, ...] = ("xgboost", "lstm")
#: Environment variable naming modules that register more kinds (see _load_plugins).
PLUGINS_ENV = "CRYPTOVOLT_MODEL_PLUGINS"


def _load_plugins() -> None:
    """Import the modules named in ``$CRYPTOVOLT_MODEL_PLUGINS`` (comma-separated); each calls
    :func:`register_kind` for the kinds it adds, so every process (CLI, jobs, the app) sees
    them."""
    for module in filter(None, (m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(","))):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(
                f"{PLUGINS_ENV} names {module!r}, which cannot be imported ({exc}). Fix or unset "
                f"{PLUGINS_ENV}."
            ) from None


def kinds() -> list[str]:
    """Every registered kind, in registration order."""
    return list(_KINDS)


def parse_kind(value: Any) -> str:
    """``"xgboost"``, ``"xgb"``, ``"LSTM"``, ``"direction"`` → a kind's name.

    Raises:
        ConfigError: not a model kind.
    """
    text = str(getattr(value, "value", value)).strip().lower().replace("-", "_")
    for info in _KINDS.values():
        if text == info.name or text in info.aliases:
            return info.name
    raise ConfigError(
        f"Unknown model type {value!r}: use one of {', '.join(_KINDS)} "
        "(or all / seed for the seed's xgboost + lstm)."
    )


def parse_kinds(value: str | Any) -> tuple[str, ...]:
    """``"xgb,lstm"``, ``"all"``, ``"seed"``, ``["XGBoost"]`` → kind names, in order, no repeats.

    Raises:
        ConfigError: an unknown kind, or none at all.
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in (str(getattr(i, "value", i)).strip().lower() for i in items):
        if item in {"all", "default"}:
            out.extend(DEFAULT_KINDS)
        elif item in {"seed", "both"}:
            out.extend(SEED_KINDS)
        elif item:
            out.append(parse_kind(item))
    if not out:
        raise ConfigError(f"Pick at least one model: {', '.join(_KINDS)}, all or seed.")
    return tuple(dict.fromkeys(out))


def kind_info(kind: str) -> KindInfo:
    """The registered :class:`KindInfo` of ``kind`` (aliases accepted). Raises ConfigError."""
    return _KINDS[parse_kind(kind)]


def config_class(kind: str) -> type:
    """The settings dataclass of ``kind`` (imports only its module, never XGBoost/TensorFlow)."""
    module, _, name = kind_info(kind).config.partition(":")
    return getattr(importlib.import_module(module), name)


def _model_class(kind: str) -> Any:
    info = kind_info(kind)
    return getattr(importlib.import_module(info.module), info.class_name)


def create_model(kind: str, config: Any | None = None) -> Model:
    """A new, untrained model of ``kind`` with ``config`` (the kind's defaults if ``None``).

    Raises:
        ConfigError: unknown kind, or a config of another kind's type.
    """
    expected = config_class(kind)
    if config is not None and type(config) is not expected:
        raise ConfigError(
            f"A {parse_kind(kind)} model takes a {expected.__name__}, not {type(config).__name__}."
        )
    return _model_class(kind)(config)


def load_model(kind: str, directory: Path) -> Model:
    """Read a model of ``kind`` that ``model.save(directory)`` wrote.

    Raises:
        ConfigError: unknown kind.
        ModelError: the folder does not hold such a model.
    """
    return _model_class(kind).load(Path(directory))


_load_plugins()
