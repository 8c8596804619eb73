"""A sweep's study as records: its outcome so far, and the sweep behind a tuned version.

- :class:`SweepResult`: the study's trials by state and its best complete trial (number, value,
  settings). A sweep job's status carries it while trials run (``status.json``'s ``sweep``).
- :class:`TuningRecord`: a tuned version's card (``metadata.json`` under ``card.tuning``): the
  study's :class:`SweepResult` when its best settings trained, plus how the sweep ran (its file,
  the search space and fixed settings, what it maximised, the sampler and pruner).

Both read what older versions wrote (missing fields take defaults) and write it back unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SweepResult", "TuningRecord"]


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class SweepResult:
    """A sweep's study so far: finished trials (complete or pruned), trials by state, and the best
    complete trial's number, mean walk-forward skill and settings (None before one completed)."""

    study: str
    finished: int = 0
    trials_by_state: dict[str, int] = field(default_factory=dict)
    best_trial: int | None = None
    best_value: float | None = None
    best_params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SweepResult:
        counts = data.get("trials_by_state")
        params = data.get("best_params")
        return cls(
            study=str(data.get("study") or ""),
            finished=int(data.get("finished") or 0),
            trials_by_state=(
                {str(k): int(v) for k, v in counts.items()} if isinstance(counts, Mapping) else {}
            ),
            best_trial=_int(data.get("best_trial")),
            best_value=_float(data.get("best_value")),
            best_params=dict(params) if isinstance(params, Mapping) else {},
        )


#: The keys a card's ``tuning`` has always had, in the order the sweep writes them.
_CARD_KEYS = (
    "study",
    "storage",
    "trials",
    "trials_by_state",
    "search_space",
    "fixed",
    "objective",
    "best_trial",
    "best_value",
    "best_params",
    "sampler",
    "pruner",
)


@dataclass(frozen=True)
class TuningRecord:
    """The sweep behind a tuned version (a card's ``tuning``, written by
    :func:`core.tuning.study.train_best`): ``result``, its study's :class:`SweepResult` when the
    best settings trained (stored flat: ``finished`` as ``trials``), the study's file
    (``storage``), the search space and the fixed settings, what it maximised, and the sampler
    and pruner. Keys a later version adds are kept in ``extra`` and written back unchanged."""

    result: SweepResult
    storage: str
    search_space: dict[str, Any] = field(default_factory=dict)
    fixed: dict[str, Any] = field(default_factory=dict)
    objective: str = ""
    sampler: str = ""
    pruner: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The stored form: the keys in the order the sweep has always written them."""
        r = self.result
        out = {
            "study": r.study,
            "storage": self.storage,
            "trials": r.finished,
            "trials_by_state": dict(r.trials_by_state),
            "search_space": dict(self.search_space),
            "fixed": dict(self.fixed),
            "objective": self.objective,
            "best_trial": r.best_trial,
            "best_value": r.best_value,
            "best_params": dict(r.best_params),
            "sampler": self.sampler,
            "pruner": self.pruner,
        }
        return out | self.extra

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TuningRecord:
        """Inverse of :meth:`to_dict`; missing keys take their defaults, unknown ones are kept."""
        return cls(
            result=SweepResult.from_dict({**data, "finished": data.get("trials")}),
            storage=str(data.get("storage") or ""),
            search_space=dict(data.get("search_space") or {}),
            fixed=dict(data.get("fixed") or {}),
            objective=str(data.get("objective") or ""),
            sampler=str(data.get("sampler") or ""),
            pruner=str(data.get("pruner") or ""),
            extra={k: v for k, v in data.items() if k not in _CARD_KEYS},
        )
