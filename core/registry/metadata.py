"""Typed model records: :class:`ModelMetadata` with its :class:`ModelCard` (scores, intervals,
:class:`Gate` s, a :mod:`core.registry.calibration` table) and its
:class:`Evaluation` (test window, baseline, skill, walk-forward :class:`FoldScores`).

Training builds a record and hands it to ``ModelRegistry.save`` (``ModelMetadata.to_dict()`` is
``metadata.json``); everything that reads a version (signals, backtest, CLI, pages) gets it from
``ModelRegistry.record`` / ``records`` (which read the file with :meth:`ModelMetadata.from_dict`).
Schema version 2 adds the card and the vote rule. Version-1 files (written before cards existed)
still load: their vote rule is derived from the model type and they have no card, so their gates
count as failed ("trained before model cards") and they do not vote until retrained.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Self

from core.models.base import Output, VoteRule
from core.registry.calibration import BandCalibration, Reliability, finite
from core.registry.horizons import CardCoverage, HorizonRecord
from core.registry.sweep_record import TuningRecord

__all__ = [
    "SCHEMA_VERSION",
    "ClassifierBaselines",
    "ClassifierMetrics",
    "Evaluation",
    "FoldScores",
    "ForecastBaselines",
    "ForecastMetrics",
    "Gate",
    "MetricInterval",
    "ModelCard",
    "ModelMetadata",
    "PooledOver",
    "Scores",
]

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class Gate:
    """One pass/fail check of a model card: ``value`` against ``threshold`` as ``rule`` says."""

    value: float | None
    threshold: float | None
    passed: bool
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "threshold": self.threshold,
            "passed": self.passed,
            "rule": self.rule,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Gate:
        return cls(data.get("value"), data.get("threshold"), bool(data["passed"]), data["rule"])


@dataclass(frozen=True)
class MetricInterval:
    """A statistic with its (``level``) block-bootstrap percentile interval, as a card stores it.

    ``point`` is the statistic on the full sample; ``low``/``high`` are None when no resample gave
    a defined statistic. ``resamples`` counts the resamples that did, so a reader can tell a solid
    interval from one built on a handful of draws. Made by
    :func:`core.training.stats.block_bootstrap`.
    """

    point: float | None
    low: float | None
    high: float | None
    level: float = 0.95
    block: int = 72
    resamples: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (floats, ints and None only)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MetricInterval:
        """Inverse of :meth:`to_dict`; missing keys take their defaults (None for the numbers),
        NaN or infinite numbers read as None, extras are ignored."""
        return cls(
            point=finite(data.get("point")),
            low=finite(data.get("low")),
            high=finite(data.get("high")),
            level=float(data.get("level", 0.95)),
            block=int(data.get("block", 72)),
            resamples=int(data.get("resamples", 0)),
        )


@dataclass(frozen=True, kw_only=True)
class Scores:
    """A card's numbers on the test window (its metrics or its baselines).

    The subclasses name the numbers of each output as attributes; this base class holds the
    per-horizon numbers of a volatility card (``6h_qlike``, ...), whose names depend on its
    horizons, and any number a later version wrote that this one does not know (``extra``).
    :meth:`as_dict` is the stored form (``metadata.json``'s ``card.metrics``)."""

    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Every number by name, in the stored order."""
        named = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        return {**named, **self.extra}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        known = {f.name for f in fields(cls)} - {"extra"}
        values = {k: v for k, v in data.items() if k in known}
        return cls(**values, extra={k: v for k, v in data.items() if k not in known})


@dataclass(frozen=True, kw_only=True)
class ClassifierMetrics(Scores):
    """A probability model's numbers on the test window (see core.training.card)."""

    n: int | None = None
    base_rate: float | None = None
    roc_auc: float | None = None
    fold_roc_auc: float | None = None
    min_detectable_auc: float | None = None
    auc_half_width: float | None = None
    direction_auc: float | None = None
    log_loss: float | None = None
    brier: float | None = None
    brier_skill: float | None = None
    balanced_accuracy: float | None = None
    ece: float | None = None


@dataclass(frozen=True, kw_only=True)
class ClassifierBaselines(Scores):
    """What a probability model is measured against: AUC 0.5, the ATR/close volatility score,
    the test period's base rate."""

    roc_auc: float | None = None
    direction_auc: float | None = None
    volatility_auc: float | None = None
    volatility_direction_auc: float | None = None
    log_loss: float | None = None
    brier: float | None = None
    base_rate: float | None = None


@dataclass(frozen=True, kw_only=True)
class ForecastMetrics(Scores):
    """A forecaster's numbers on the test window, in log-return space."""

    n: int | None = None
    mae_log_return: float | None = None
    mase: float | None = None
    skill: float | None = None
    directional_accuracy: float | None = None
    dm_statistic: float | None = None
    dm_p_value: float | None = None


@dataclass(frozen=True, kw_only=True)
class ForecastBaselines(Scores):
    """Persistence (no change) and the majority direction."""

    mae_log_return: float | None = None
    mase: float | None = None
    skill: float | None = None
    majority_direction: float | None = None


def _scores_classes(output: str) -> tuple[type[Scores], type[Scores]]:
    """(metrics class, baselines class) of a card's output."""
    if output == Output.PROBABILITY.value:
        return ClassifierMetrics, ClassifierBaselines
    if output in (Output.RETURN.value, Output.PRICE.value):
        return ForecastMetrics, ForecastBaselines
    return Scores, Scores


@dataclass(frozen=True)
class ModelCard:
    """What a version can be trusted with: metrics with intervals, baselines, gates.

    ``metrics`` and ``baselines`` are the numbers on the test window (:class:`ClassifierMetrics`
    and :class:`ClassifierBaselines` for probabilities, :class:`ForecastMetrics` and
    :class:`ForecastBaselines` for forecasters, per-horizon :class:`Scores` for volatility; a
    plain mapping given here is read as the output's class); ``intervals`` maps a metric name
    to its 95% :class:`MetricInterval`;
    ``calibration`` (probability models) is the :class:`Reliability` table built on the
    walk-forward folds and reported on the test window, with ``ece_out_of_time``. ``tuning`` (a tuned
    version only) names its Optuna study, the trials tried and the search space.
    """

    output: str
    metrics: Scores = field(default_factory=Scores)
    baselines: Scores = field(default_factory=Scores)
    intervals: dict[str, MetricInterval] = field(default_factory=dict)
    gates: dict[str, Gate] = field(default_factory=dict)
    calibration: Reliability | None = None
    #: A volatility model only: band calibration per horizon (stored as ``calibration``).
    bands: dict[str, BandCalibration] | None = None
    notes: tuple[str, ...] = ()
    #: A tuned version: its Optuna study, how many trials were tried and the search space.
    tuning: TuningRecord | None = None
    #: A volatility model only: band coverage on the test window, ``coverage.share("24h", "80")``.
    coverage: CardCoverage | None = None

    def __post_init__(self) -> None:
        metrics_class, baselines_class = _scores_classes(self.output)
        scores: Any = self.metrics
        if not isinstance(scores, metrics_class):
            data = scores.as_dict() if isinstance(scores, Scores) else scores
            object.__setattr__(self, "metrics", metrics_class.from_dict(data))
        scores = self.baselines
        if not isinstance(scores, baselines_class):
            data = scores.as_dict() if isinstance(scores, Scores) else scores
            object.__setattr__(self, "baselines", baselines_class.from_dict(data))
        intervals: dict[str, Any] = dict(self.intervals)
        for key, interval in intervals.items():
            if not isinstance(interval, MetricInterval):
                intervals[key] = MetricInterval.from_dict(interval)
        object.__setattr__(self, "intervals", intervals)

    @property
    def passed(self) -> bool:
        """True when there is at least one gate and every gate passed."""
        return bool(self.gates) and all(g.passed for g in self.gates.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": self.output,
            "passed": self.passed,
            "metrics": self.metrics.as_dict(),
            "baselines": self.baselines.as_dict(),
            "intervals": {k: i.to_dict() for k, i in self.intervals.items()},
            "gates": {name: g.to_dict() for name, g in self.gates.items()},
            "calibration": self._calibration_dict(),
            "notes": list(self.notes),
            "coverage": None if self.coverage is None else self.coverage.to_dict(),
        } | ({"tuning": self.tuning.to_dict()} if self.tuning else {})

    def _calibration_dict(self) -> dict[str, Any] | None:
        if self.calibration is not None:
            return self.calibration.to_dict()
        if self.bands is not None:
            return {key: band.to_dict() for key, band in self.bands.items()}
        return None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelCard:
        """Inverse of :meth:`to_dict`. The stored ``calibration`` is a reliability table (it has
        a ``table``) or, on a volatility card, band calibration per horizon."""
        calibration = data.get("calibration") or None
        reliability = bands = None
        if calibration is not None and "table" in calibration:
            reliability = Reliability.from_dict(calibration)
        elif calibration is not None:
            bands = {k: BandCalibration.from_dict(v) for k, v in calibration.items()}
        return cls(
            output=str(data["output"]),
            metrics=Scores(extra=dict(data.get("metrics") or {})),
            baselines=Scores(extra=dict(data.get("baselines") or {})),
            intervals={
                k: MetricInterval.from_dict(v) for k, v in (data.get("intervals") or {}).items()
            },
            gates={k: Gate.from_dict(v) for k, v in (data.get("gates") or {}).items()},
            calibration=reliability,
            bands=bands,
            notes=tuple(data.get("notes") or ()),
            tuning=TuningRecord.from_dict(data["tuning"]) if data.get("tuning") else None,
            coverage=CardCoverage.from_dict(data["coverage"]) if data.get("coverage") else None,
        )


def _skill(value: Any) -> float | None:
    """A stored skill; the earliest files kept ``{"mae": ...}`` (or ``{"skill": ...}``)."""
    if isinstance(value, Mapping):
        value = value.get("mae", value.get("skill"))
    return finite(value) if isinstance(value, int | float) else None


def _numbers(data: Any) -> dict[str, Any]:
    return dict(data) if isinstance(data, Mapping) else {}


@dataclass(frozen=True)
class FoldScores:
    """One walk-forward fold: its name, its test window's first and last candle (None on a
    pooled model's folds), the model's metrics there (by name, as
    :func:`core.training.evaluate.evaluate` names them), the naive baseline's, and the skill
    against it. ``extra`` keeps what else the trainer recorded (the row counts)."""

    fold: str
    metrics: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)
    skill: float | None = None
    start: str | None = None
    end: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        times = {k: getattr(self, k) for k in ("start", "end") if getattr(self, k) is not None}
        return {
            **self.extra,
            "fold": self.fold,
            **times,
            "metrics": self.metrics,
            "baseline": self.baseline,
            "skill": self.skill,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FoldScores:
        known = {f.name for f in fields(cls)} - {"extra"}
        start, end = data.get("start"), data.get("end")
        return cls(
            fold=str(data.get("fold") or ""),
            metrics=_numbers(data.get("metrics")),
            baseline=_numbers(data.get("baseline")),
            skill=_skill(data.get("skill")),
            start=None if start is None else str(start),
            end=None if end is None else str(end),
            extra={k: v for k, v in data.items() if k not in known},
        )


@dataclass(frozen=True)
class PooledOver:
    """A pooled model's own card (on every coin's rows) and the coins it was fitted on."""

    card: ModelCard | None
    coins: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"card": self.card.to_dict() if self.card else None, "coins": list(self.coins)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PooledOver:
        card = data.get("card")
        return cls(
            card=ModelCard.from_dict(card) if isinstance(card, Mapping) else None,
            coins=tuple(str(c) for c in data.get("coins") or ()),
        )


@dataclass(frozen=True)
class Evaluation:
    """A version's evaluation, ``metadata.json``'s ``metrics``: the test window's metrics
    (``test``), the naive baseline's (``baseline``) and the skill against it, what that skill is
    (``skill_basis``), the walk-forward folds with their mean (or why there are none:
    ``walk_forward_note``) and, on a pooled model, :class:`PooledOver`. A volatility model
    records ``test`` and ``baseline`` only. ``extra`` keeps keys this version does not know."""

    test: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)
    skill: float | None = None
    skill_basis: str | None = None
    walk_forward: tuple[FoldScores, ...] = ()
    walk_forward_mean: dict[str, Any] | None = None
    walk_forward_note: str | None = None
    pooled: PooledOver | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The stored form; fields that are None (or folds a model never ran) are left out."""
        out: dict[str, Any] = {**self.extra, "test": self.test, "baseline": self.baseline}
        for key in ("skill", "skill_basis", "walk_forward_mean", "walk_forward_note"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.walk_forward or self.skill_basis is not None or self.pooled is not None:
            out["walk_forward"] = [f.to_dict() for f in self.walk_forward]
        if self.pooled is not None:
            out["pooled"] = self.pooled.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        """Inverse of :meth:`to_dict`; reads every stored version (missing keys take defaults)."""
        known = {f.name for f in fields(cls)} - {"extra"}
        note, basis, pooled = (data.get(k) for k in ("walk_forward_note", "skill_basis", "pooled"))
        mean = data.get("walk_forward_mean")
        return cls(
            test=_numbers(data.get("test")),
            baseline=_numbers(data.get("baseline")),
            skill=_skill(data.get("skill")),
            skill_basis=None if basis is None else str(basis),
            walk_forward=tuple(
                FoldScores.from_dict(f)
                for f in data.get("walk_forward") or ()
                if isinstance(f, Mapping)
            ),
            walk_forward_mean=dict(mean) if isinstance(mean, Mapping) else None,
            walk_forward_note=None if note is None else str(note),
            pooled=PooledOver.from_dict(pooled) if isinstance(pooled, Mapping) else None,
            extra={k: v for k, v in data.items() if k not in known},
        )


@dataclass(frozen=True)
class ModelMetadata:
    """One registered version, as ``metadata.json`` holds it (see the module docstring)."""

    name: str
    version: str
    symbol: str
    model_type: str
    interval: str = "1h"
    created_at: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    features: tuple[str, ...] = ()
    target: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    split: dict[str, Any] = field(default_factory=dict)
    #: The evaluation (a mapping given here is read with :meth:`Evaluation.from_dict`).
    metrics: Evaluation = field(default_factory=Evaluation)
    training: dict[str, Any] = field(default_factory=dict)
    train_seconds: float | None = None
    library_versions: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    vote: VoteRule | None = None
    card: ModelCard | None = None
    #: A volatility model only: what it measured per horizon (``volatility["24h"]``).
    volatility: dict[str, HorizonRecord] = field(default_factory=dict)
    promoted: bool = False
    schema_version: int = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        metrics: Any = self.metrics
        if not isinstance(metrics, Evaluation):
            object.__setattr__(self, "metrics", Evaluation.from_dict(metrics or {}))

    @property
    def horizon(self) -> int:
        """Candles the target looks ahead (1 for next-candle forecasters)."""
        return int(self.target.get("horizon") or 1)

    @property
    def signal_horizon(self) -> int:
        """Candles the signal built on this version is judged over (the trainer's target)."""
        return int(self.target.get("signal_horizon") or self.target.get("horizon") or 1)

    @property
    def gates_passed(self) -> bool:
        return self.card is not None and self.card.passed

    @property
    def error(self) -> str | None:
        """Why the registry could not read this version's ``metadata.json`` (``records()`` lists
        such a version with its name only); None for a readable record."""
        error = self.extra.get("error")
        return None if error is None else str(error)

    def test_metric(self, key: str) -> Any:
        """A test-window metric from the card, else from the evaluation metrics."""
        card = self.card.metrics.as_dict() if self.card is not None else {}
        if key in card:
            return card[key]
        return self.metrics.test.get(key)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out.pop("extra")
        out["features"] = list(self.features)
        out["vote"] = self.vote.to_dict() if self.vote else None
        out["card"] = self.card.to_dict() if self.card else None
        out["metrics"] = self.metrics.to_dict()
        out.pop("volatility")
        if self.volatility:
            out["volatility"] = {key: h.to_dict() for key, h in self.volatility.items()}
        return {**self.extra, **out}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelMetadata:
        """Read a record of any schema version (version-1 files have no ``schema_version``)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["extra"] = {k: v for k, v in data.items() if k not in known}
        values["schema_version"] = int(data.get("schema_version") or 1)
        values["features"] = tuple(data.get("features") or ())
        target = data.get("target")
        if isinstance(target, str):  # the earliest files stored the column name only
            values["target"] = {"column": target}
        vote = data.get("vote")
        if vote:
            values["vote"] = VoteRule.from_dict(vote)
        else:  # a version-2 record without a rule does not vote (a volatility model)
            values["vote"] = _v1_vote(data) if values["schema_version"] == 1 else None
        card = data.get("card")
        values["card"] = ModelCard.from_dict(card) if card else None
        horizons = data.get("volatility")
        values["volatility"] = {
            str(k): HorizonRecord.from_dict(h)
            for k, h in (horizons.items() if isinstance(horizons, Mapping) else ())
            if isinstance(h, Mapping)
        }
        for key in ("name", "version", "symbol", "model_type"):
            values[key] = str(data.get(key, ""))
        values["promoted"] = bool(data.get("promoted", False))
        return cls(**values)


def _v1_vote(data: Mapping[str, Any]) -> VoteRule | None:
    """The vote rule of a version-1 file (which did not record one): its kind's, with the default
    signal settings; ``None`` for a kind no longer registered."""
    from core.config import SignalConfig
    from core.errors import ConfigError
    from core.models import kind_info

    try:
        recipe = kind_info(str(data.get("model_type", ""))).recipe
    except ConfigError:
        return None
    baseline = (data.get("metrics") or {}).get("baseline") or {}
    return recipe.vote_rule(SignalConfig(), float(baseline.get("train_base_rate") or 0.5))
