"""What a training job is: its states, and its spec (one coin, its models, every setting).

A :class:`JobSpec` validates itself on construction, so a bad coin, model or setting is refused
before anything is written or started; :func:`make_specs` builds specs from the main settings a
person changes on the Training page or as ``python -m core train`` flags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from core.config import Interval, Paths, SplitConfig, TargetConfig
from core.data.coins import ensure_tradeable, parse_coin
from core.errors import ConfigError, NoDataError
from core.models import DEFAULT_KINDS, config_class, kind_info, parse_kinds, pooled_kind

if TYPE_CHECKING:
    from core.registry.model_registry import ModelRegistry

__all__ = [
    "SETTINGS",
    "JobSpec",
    "make_specs",
    "parse_models",
    "require_data",
]


def parse_models(value: str | Sequence[str]) -> tuple[str, ...]:
    """``"xgb,lstm"``, ``"all"``, ``"seed"``, ``["XGBoost"]`` → kind names (see core.models).

    Raises:
        ConfigError: an unknown model name, or none at all.
    """
    return parse_kinds(value)


def _default_settings(models: Sequence[str]) -> dict[str, Any]:
    return {kind: config_class(kind)() for kind in models}


@dataclass(frozen=True)
class JobSpec:
    """What one job trains: one coin, its models and every setting, validated on construction.

    ``settings`` maps each model kind to its settings dataclass (defaults for kinds left out).
    ``pool``: the coins a pooled kind among ``models`` is fit over (empty: every stored coin).

    Raises:
        InvalidSymbolError, StablecoinError, ConfigError: a symbol, model or setting that cannot
            work (before anything is written or started).
    """

    symbol: str
    models: tuple[str, ...] = DEFAULT_KINDS
    interval: str = "1h"
    target: TargetConfig = field(default_factory=TargetConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    settings: Mapping[str, Any] = field(default_factory=dict)
    force: bool = False
    pool: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        symbol = parse_coin(self.symbol).symbol
        ensure_tradeable(symbol)
        object.__setattr__(self, "symbol", symbol)
        models = parse_models(self.models)
        object.__setattr__(self, "models", models)
        object.__setattr__(self, "interval", Interval.parse(self.interval).value)
        given = {parse_kinds([k])[0]: v for k, v in dict(self.settings).items()}
        object.__setattr__(self, "settings", {k: given.get(k) or config_class(k)() for k in models})
        object.__setattr__(self, "pool", tuple(parse_coin(s).symbol for s in self.pool))

    def train(
        self, *, paths: Paths, registry: ModelRegistry | None = None, progress: Any = None
    ) -> list[Any]:
        """Run ``core.training.train.train_coin`` with these settings (loads TensorFlow for an
        LSTM). Returns its :class:`~core.training.train.TrainResult` list; raises what it raises."""
        from core.training.train import train_coin

        return train_coin(
            self.symbol,
            models=self.models,
            interval=self.interval,
            target=self.target,
            split=self.split,
            settings=self.settings,
            force=self.force,
            registry=registry,
            progress=progress,
            pool=self.pool or None,
            paths=paths,
        )

    def run(self, reporter: Any) -> str:
        """The job's work in its process: wait for a slot, train, register
        (:func:`core.jobs.train_job.train_job`). Returns the success message."""
        from core.jobs.train_job import train_job

        return train_job(self, reporter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "train",
            "symbol": self.symbol,
            "models": list(self.models),
            "interval": self.interval,
            "target": asdict(self.target),
            "split": asdict(self.split),
            "settings": {kind: asdict(cfg) for kind, cfg in self.settings.items()},
            "force": self.force,
        } | ({"pool": list(self.pool)} if self.pool else {})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobSpec:
        """Read ``spec.json`` (also the older form with ``xgb`` / ``lstm`` settings keys)."""
        try:
            models = parse_models(data.get("models") or DEFAULT_KINDS)
            raw = dict(data.get("settings") or {})
            for old, kind in (("xgb", "xgboost"), ("lstm", "lstm")):
                if old in data and kind not in raw:
                    raw[kind] = data[old]
            settings = {k: config_class(k)(**(raw.get(k) or {})) for k in models}
            return cls(
                symbol=data["symbol"],
                models=models,
                interval=data.get("interval", "1h"),
                target=TargetConfig(**(data.get("target") or {})),
                split=SplitConfig(**(data.get("split") or {})),
                settings=settings,
                force=bool(data.get("force", False)),
                pool=tuple(data.get("pool") or ()),
            )
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"Job spec is not valid ({exc}); launch the job again.") from None


#: The main settings a person can change (form fields, CLI flags) → (stage, dataclass field).
#: A model setting applies to every chosen kind whose settings have that field.
SETTINGS: dict[str, tuple[str, str]] = {
    "horizon": ("target", "horizon"),
    "threshold": ("target", "threshold"),
    "trees": ("model", "n_estimators"),
    "depth": ("model", "max_depth"),
    "window": ("model", "window"),
    "units": ("model", "units"),
    "epochs": ("model", "epochs"),
    "batch_size": ("model", "batch_size"),
    "patience": ("model", "patience"),
}


def make_specs(
    coins: Sequence[str],
    *,
    models: str | Sequence[str] = DEFAULT_KINDS,
    interval: str = "1h",
    force: bool = False,
    pooled: bool = False,
    **settings: Any,
) -> list[JobSpec]:
    """One validated :class:`JobSpec` per coin from the main settings (keys of :data:`SETTINGS`;
    ``None`` keeps the default). Everything is checked before anything is started, and every
    invalid setting is reported, not just the first.

    ``pooled`` trains each kind's pooled form (one model over every coin, carded per coin). A
    pooled kind goes into the first coin's job only, pooling over all ``coins``.

    Raises:
        ConfigError: an unknown setting, an impossible value, no coins, an unknown model, a kind
            with no pooled form.
        InvalidSymbolError, StablecoinError: a coin that cannot be trained.
    """
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise ConfigError(f"Unknown setting(s) {unknown}: use {', '.join(SETTINGS)}.")
    if not coins:
        raise ConfigError("Pick at least one coin to train.")
    kinds = parse_models(models)
    if pooled:
        kinds = tuple(dict.fromkeys(pooled_kind(k) for k in kinds))
    target_values: dict[str, Any] = {}
    model_values: dict[str, Any] = {}
    for key, value in settings.items():
        if value is not None:
            stage, name = SETTINGS[key]
            (target_values if stage == "target" else model_values)[name] = value
    problems: list[str] = []
    target = TargetConfig()
    try:
        target = TargetConfig(**target_values)
    except ConfigError as exc:
        problems.append(str(exc))
    built: dict[str, Any] = {}
    for kind in kinds:
        cls = config_class(kind)
        names = {f.name for f in fields(cls)}
        try:
            built[kind] = cls(**{k: v for k, v in model_values.items() if k in names})
        except (ConfigError, TypeError) as exc:
            if str(exc) not in problems:
                problems.append(str(exc))
    if problems:
        raise ConfigError(" ".join(problems))
    each = tuple(k for k in kinds if not kind_info(k).pooled)
    once = tuple(k for k in kinds if kind_info(k).pooled)
    pool = tuple(coins) if once else ()
    return [
        JobSpec(
            coin,
            (*each, *once) if i == 0 else each,
            interval,
            target,
            SplitConfig(),
            {k: built[k] for k in ((*each, *once) if i == 0 else each)},
            force,
            pool,
        )
        for i, coin in enumerate(coins)
        if each or i == 0
    ]


def require_data(spec: JobSpec, *, paths: Paths) -> None:
    """Refuse a coin with no stored candles (in the home ``paths`` describes) before a job is
    started for it.

    Raises:
        NoDataError: the message says where the candles should be and how to fetch them.
    """
    from core.data.store import candle_path

    path = candle_path(spec.symbol, spec.interval, paths=paths)
    if not path.exists():
        base = parse_coin(spec.symbol).base
        raise NoDataError(
            f"No {spec.interval} candles for {spec.symbol} in {path.parent}. Fetch them first: "
            f"the Data page, or `python -m core fetch --coins {base}`."
        )
