"""What a sweep searches: the search space of a model kind (its registry entry's ``search``).

A space maps a settings field (of the kind's settings dataclass) to a
:class:`~core.models.search.Param`; the same data is stored with the study and on the tuned
version's card, so a card says exactly what was searched. Settings given on the command line (``--trees 200``) are held
fixed and left out of the space.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from core.errors import ConfigError
from core.models import config_class, kind_info, kinds
from core.models.search import Param

__all__ = ["apply", "describe", "space_for", "suggest", "tunable"]


def tunable() -> list[str]:
    """The kinds with a search space, in registration order."""
    return [k for k in kinds() if kind_info(k).search]


def space_for(kind: str, fixed: Iterable[str] = ()) -> dict[str, Param]:
    """The space of ``kind`` (aliases accepted; its registry entry's ``search``) without the
    ``fixed`` settings.

    Raises:
        ConfigError: an unknown kind, or one without a search space.
    """
    info = kind_info(kind)
    if not info.search:
        raise ConfigError(
            f"No search space for {info.name!r}: tune supports {', '.join(tunable())}. "
            "Give its registry entry (core/models) a search space."
        )
    held = set(fixed)
    return {key: p for key, p in info.search.items() if key not in held}


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
