"""What a finished job produced, as typed records inside its :class:`~core.jobs.status.JobStatus`.

- :class:`ModelResult`: one version a training job (or a sweep's final training) registered: its
  name and version, its test-window scores (an :class:`~core.registry.metadata.Evaluation` with
  ``test``, ``baseline`` and ``skill``), whether its gates passed, its verdict and promotion.
A sweep's study is a :class:`~core.registry.sweep_record.SweepResult`, the type a tuned
version's card keeps too. ModelResult reads old status files (missing fields take defaults) and
writes plain JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.registry.gates import version_verdict
from core.registry.metadata import Evaluation, ModelMetadata

__all__ = ["ModelResult", "model_result"]


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class ModelResult:
    """One registered version: ``metrics`` holds the record's ``test`` / ``baseline`` / ``skill``
    as the registry wrote them (no folds)."""

    name: str
    version: str
    model_type: str | None = None
    metrics: Evaluation = field(default_factory=Evaluation)
    train_seconds: float | None = None
    gates_passed: bool = False
    verdict: str = ""
    promoted: bool = False
    promotion: str | None = None

    def to_dict(self) -> dict[str, Any]:
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return fields | {"metrics": self.metrics.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelResult:
        metrics = data.get("metrics")
        promotion = data.get("promotion")
        return cls(
            name=str(data.get("name") or "?"),
            version=str(data.get("version") or "?"),
            model_type=None if data.get("model_type") is None else str(data["model_type"]),
            metrics=Evaluation.from_dict(metrics if isinstance(metrics, Mapping) else {}),
            train_seconds=_float(data.get("train_seconds")),
            gates_passed=bool(data.get("gates_passed")),
            verdict=str(data.get("verdict") or ""),
            promoted=bool(data.get("promoted")),
            promotion=None if promotion is None else str(promotion),
        )

    @property
    def label(self) -> str:
        """``xgboost_btcusdt v3``."""
        return f"{self.name} {self.version}"


def model_result(meta: Mapping[str, Any] | Any) -> ModelResult:
    """The part of a version's metadata a job list shows: name, version and headline metrics,
    gates, verdict and promotion.

    ``meta`` is the registry's metadata dict or a record with ``to_dict`` (a TrainResult)."""
    if not isinstance(meta, Mapping):
        meta = meta.to_dict()
    record = ModelMetadata.from_dict(meta)
    scores = record.metrics
    promotion = meta.get("promotion")
    train_seconds = meta.get("train_seconds")
    return ModelResult(
        name=str(meta.get("name")),
        version=str(meta.get("version")),
        model_type=None if meta.get("model_type") is None else str(meta.get("model_type")),
        metrics=Evaluation(test=scores.test, baseline=scores.baseline, skill=scores.skill),
        train_seconds=float(train_seconds) if isinstance(train_seconds, int | float) else None,
        gates_passed=record.gates_passed,
        verdict=version_verdict(record),
        promoted=bool(meta.get("promoted")),
        promotion=None if promotion is None else str(promotion),
    )
