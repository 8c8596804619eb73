"""What a training job is: its states, and its spec (one coin, its models, every setting).

A :class:`JobSpec` validates itself on construction, so a bad coin, model or setting is refused
before anything is written or started; :func:`make_specs` builds specs from the main settings a
person changes on the Training page or as ``python -m core train`` flags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from core.config import Interval, LSTMConfig, SplitConfig, TargetConfig, XGBConfig
from core.data.coins import ensure_tradeable, parse_coin
from core.errors import ConfigError, NoDataError

__all__ = [
    "ACTIVE_STATES",
    "SETTINGS",
    "JobSpec",
    "JobState",
    "make_specs",
    "parse_models",
    "require_data",
]


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self not in ACTIVE_STATES


ACTIVE_STATES = frozenset({JobState.QUEUED, JobState.RUNNING})
MODEL_ALIASES = {"xgb": "xgboost", "xgboost": "xgboost", "lstm": "lstm"}


def parse_models(value: str | Sequence[str]) -> tuple[str, ...]:
    """``"xgb,lstm"``, ``"both"``, ``"all"``, ``["XGBoost"]`` → ``("xgboost", "lstm")``.

    Raises:
        ConfigError: an unknown model name, or none at all.
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in (str(getattr(i, "value", i)).strip().lower() for i in items):
        if item in {"both", "all"}:
            out.extend(["xgboost", "lstm"])
        elif item in MODEL_ALIASES:
            out.append(MODEL_ALIASES[item])
        elif item:
            raise ConfigError(f"Unknown model {item!r}: use xgb, lstm or both.")
    if not out:
        raise ConfigError("Pick at least one model: xgb, lstm or both.")
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class JobSpec:
    """What one job trains: one coin, its models and every setting, validated on construction.

    Raises:
        InvalidSymbolError, StablecoinError, ConfigError: a symbol, model or setting that cannot
            work (before anything is written or started).
    """

    symbol: str
    models: tuple[str, ...] = ("xgboost", "lstm")
    interval: str = "1h"
    target: TargetConfig = field(default_factory=TargetConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    xgb: XGBConfig = field(default_factory=XGBConfig)
    lstm: LSTMConfig = field(default_factory=LSTMConfig)

    def __post_init__(self) -> None:
        symbol = parse_coin(self.symbol).symbol
        ensure_tradeable(symbol)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "models", parse_models(self.models))
        object.__setattr__(self, "interval", Interval.parse(self.interval).value)

    def train(self, *, registry: Any = None, progress: Any = None) -> list[dict[str, Any]]:
        """Run ``core.training.train.train_coin`` with these settings (loads TensorFlow for an LSTM).

        Returns the metadata of each registered version; raises what ``train_coin`` raises.
        """
        from core.models import ModelKind
        from core.training.train import train_coin

        return train_coin(
            self.symbol,
            models=tuple(ModelKind(m) for m in self.models),
            interval=self.interval,
            target=self.target,
            split=self.split,
            xgb=self.xgb,
            lstm=self.lstm,
            registry=registry,
            progress=progress,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "models": list(self.models),
            "interval": self.interval,
            "target": asdict(self.target),
            "split": asdict(self.split),
            "xgb": asdict(self.xgb),
            "lstm": asdict(self.lstm),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobSpec:
        try:
            return cls(
                symbol=data["symbol"],
                models=tuple(data.get("models") or ("xgboost", "lstm")),
                interval=data.get("interval", "1h"),
                target=TargetConfig(**(data.get("target") or {})),
                split=SplitConfig(**(data.get("split") or {})),
                xgb=XGBConfig(**(data.get("xgb") or {})),
                lstm=LSTMConfig(**(data.get("lstm") or {})),
            )
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"Job spec is not valid ({exc}); launch the job again.") from None


#: The main settings a person can change (form fields, CLI flags) → (stage, dataclass field).
SETTINGS: dict[str, tuple[str, str]] = {
    "horizon": ("target", "horizon"),
    "threshold": ("target", "threshold"),
    "trees": ("xgb", "n_estimators"),
    "depth": ("xgb", "max_depth"),
    "window": ("lstm", "window"),
    "units": ("lstm", "units"),
    "epochs": ("lstm", "epochs"),
    "batch_size": ("lstm", "batch_size"),
    "patience": ("lstm", "patience"),
}
_STAGE_CONFIGS = {"target": TargetConfig, "xgb": XGBConfig, "lstm": LSTMConfig}


def make_specs(
    coins: Sequence[str],
    *,
    models: str | Sequence[str] = ("xgboost", "lstm"),
    interval: str = "1h",
    **settings: Any,
) -> list[JobSpec]:
    """One validated :class:`JobSpec` per coin from the main settings (keys of :data:`SETTINGS`;
    ``None`` keeps the default). Everything is checked before anything is started.

    Raises:
        ConfigError: an unknown setting, an impossible value, no coins, an unknown model.
        InvalidSymbolError, StablecoinError: a coin that cannot be trained.
    """
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise ConfigError(f"Unknown setting(s) {unknown}: use {', '.join(SETTINGS)}.")
    if not coins:
        raise ConfigError("Pick at least one coin to train.")
    values: dict[str, dict[str, Any]] = {stage: {} for stage in _STAGE_CONFIGS}
    for key, value in settings.items():
        if value is not None:
            stage, name = SETTINGS[key]
            values[stage][name] = value
    try:
        built = {stage: cls(**values[stage]) for stage, cls in _STAGE_CONFIGS.items()}
    except TypeError as exc:
        raise ConfigError(f"Settings are not valid: {exc}") from None
    models = parse_models(models)
    return [
        JobSpec(coin, models, interval, built["target"], SplitConfig(), built["xgb"], built["lstm"])
        for coin in coins
    ]


def require_data(spec: JobSpec) -> None:
    """Refuse a coin with no stored candles before a job is started for it.

    Raises:
        NoDataError: the message says where the candles should be and how to fetch them.
    """
    from core.data.store import candle_path

    path = candle_path(spec.symbol, spec.interval)
    if not path.exists():
        base = parse_coin(spec.symbol).base
        raise NoDataError(
            f"No {spec.interval} candles for {spec.symbol} in {path.parent}. Fetch them first: "
            f"the Data page, or `python -m core fetch --coins {base}`."
        )
