"""What a sweep searches: one search space per model kind, as plain data.

A space maps a settings field (of the kind's settings dataclass in :mod:`core.config`) to a
:class:`Param`; the same data is stored with the study and on the tuned version's card, so a card
says exactly what was searched. Settings given on the command line (``--trees 200``) are held
fixed and left out of the space.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError
from core.models import config_class, parse_kind

__all__ = ["SPACES", "Param", "apply", "describe", "space_for", "suggest"]


@dataclass(frozen=True)
class Param:
    """One searched setting: ``int`` / ``float`` between ``low`` and ``high`` (``log`` scale or
    ``step``), or ``categorical`` over ``choices``."""

    kind: str
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "categorical":
            return {"type": "categorical", "choices": list(self.choices)}
        out: dict[str, Any] = {"type": self.kind, "low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step is not None:
            out["step"] = self.step
        return out


_BOOSTED = {
    "n_estimators": Param("int", 50, 400, step=50),
    "max_depth": Param("int", 2, 8),
    "learning_rate": Param("float", 0.01, 0.3, log=True),
    "subsample": Param("float", 0.5, 1.0),
    "colsample_bytree": Param("float", 0.5, 1.0),
}
_RECURRENT = {
    "window": Param("int", 24, 96, step=12),
    "units": Param("int", 8, 64, log=True),
    "dropout": Param("float", 0.0, 0.4),
    "learning_rate": Param("float", 1e-4, 1e-2, log=True),
    "batch_size": Param("categorical", choices=(64, 128, 256)),
}

#: The search space of every kind that can be tuned.
SPACES: dict[str, dict[str, Param]] = {
    "xgboost": dict(_BOOSTED),
    "xgb_direction": {
        **_BOOSTED,
        "max_depth": Param("int", 2, 6),
        "min_child_weight": Param("float", 1.0, 50.0, log=True),
    },
    "lstm": dict(_RECURRENT),
    "lstm_return": {**_RECURRENT, "window": Param("int", 24, 72, step=12)},
}


def space_for(kind: str, fixed: Iterable[str] = ()) -> dict[str, Param]:
    """The space of ``kind`` (aliases accepted) without the ``fixed`` settings.

    Raises:
        ConfigError: an unknown kind, or one without a search space.
    """
    name = parse_kind(kind)
    if name not in SPACES:
        raise ConfigError(
            f"No search space for {name!r}: tune supports {', '.join(SPACES)}. "
            "Add one to core/tuning/space.py."
        )
    held = set(fixed)
    return {key: p for key, p in SPACES[name].items() if key not in held}


def describe(space: Mapping[str, Param]) -> dict[str, dict[str, Any]]:
    """The space as JSON-able data (stored with the study and on the card)."""
    return {key: p.to_dict() for key, p in space.items()}


def suggest(trial: Any, space: Mapping[str, Param]) -> dict[str, Any]:
    """Ask an Optuna ``trial`` for one value per searched setting."""
    values: dict[str, Any] = {}
    for key, p in space.items():
        if p.kind == "categorical":
            values[key] = trial.suggest_categorical(key, list(p.choices))
        elif p.kind == "int":
            step = int(p.step or 1)
            values[key] = trial.suggest_int(key, int(p.low), int(p.high), step=step, log=p.log)
        else:
            values[key] = trial.suggest_float(key, p.low, p.high, log=p.log, step=p.step)
    return values


def apply(kind: str, base: Mapping[str, Any], values: Mapping[str, Any]) -> Any:
    """The kind's settings dataclass: its defaults, then ``base`` (fixed), then ``values``.

    Raises:
        ConfigError: a value the settings refuse (its message says which).
    """
    cls = config_class(kind)
    names = {f.name for f in dataclasses.fields(cls)}
    merged = {k: v for k, v in {**base, **values}.items() if k in names}
    return cls(**merged)
