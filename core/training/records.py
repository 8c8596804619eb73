"""What training reports: progress events by stage, and the result of training one kind on one coin."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.registry.metadata import ModelMetadata

__all__ = ["Stage", "TrainProgress", "TrainResult"]


class Stage(StrEnum):
    LOADING = "loading"
    FEATURES = "features"
    FITTING = "fitting"
    WALK_FORWARD = "walk-forward"
    EVALUATING = "evaluating"
    SAVING = "saving"
    DONE = "done"


@dataclass(frozen=True)
class TrainProgress:
    """One progress event; ``model`` is ``None`` for the stages shared by all models."""

    symbol: str
    model: str | None
    stage: Stage
    step: int = 0
    total: int = 0
    message: str = ""
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainResult:
    """What training one kind on one coin produced: the registered record and whether it was
    promoted to champion, with the reason in words."""

    metadata: ModelMetadata
    promoted: bool
    promotion: str

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def version(self) -> str:
        return self.metadata.version

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.metadata.to_dict(),
            "promoted": self.promoted,
            "promotion": self.promotion,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainResult:
        return cls(
            ModelMetadata.from_dict({k: v for k, v in data.items() if k != "promotion"}),
            bool(data.get("promoted")),
            str(data.get("promotion", "")),
        )
