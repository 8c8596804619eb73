"""The sweep behind a tuned version, as ``metadata.json`` stores it under ``card.tuning``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["TuningRecord"]


@dataclass(frozen=True)
class TuningRecord:
    """The sweep behind a tuned version (a card's ``tuning``, written by
    :func:`core.tuning.study.train_best`): its Optuna study and file, the trials it finished (and
    by state), the search space and the fixed settings, what it maximised, the best trial with its
    value and settings, and the sampler and pruner. Keys a later version adds are kept in
    ``extra`` and written back unchanged."""

    study: str
    storage: str
    trials: int
    trials_by_state: dict[str, int] = field(default_factory=dict)
    search_space: dict[str, Any] = field(default_factory=dict)
    fixed: dict[str, Any] = field(default_factory=dict)
    objective: str = ""
    best_trial: int | None = None
    best_value: float | None = None
    best_params: dict[str, Any] = field(default_factory=dict)
    sampler: str = ""
    pruner: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The stored form: the keys in the order the sweep has always written them."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        return {k: dict(v) if isinstance(v, dict) else v for k, v in out.items()} | self.extra

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TuningRecord:
        """Inverse of :meth:`to_dict`; missing keys take their defaults, unknown ones are kept."""
        known = {f.name for f in fields(cls)} - {"extra"}
        best_trial, best_value = data.get("best_trial"), data.get("best_value")
        return cls(
            study=str(data.get("study") or ""),
            storage=str(data.get("storage") or ""),
            trials=int(data.get("trials") or 0),
            trials_by_state={k: int(v) for k, v in (data.get("trials_by_state") or {}).items()},
            search_space=dict(data.get("search_space") or {}),
            fixed=dict(data.get("fixed") or {}),
            objective=str(data.get("objective") or ""),
            best_trial=None if best_trial is None else int(best_trial),
            best_value=None if best_value is None else float(best_value),
            best_params=dict(data.get("best_params") or {}),
            sampler=str(data.get("sampler") or ""),
            pruner=str(data.get("pruner") or ""),
            extra={k: v for k, v in data.items() if k not in known},
        )
