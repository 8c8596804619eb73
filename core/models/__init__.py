"""The registry of model kinds. A kind is a recipe plus an estimator (plus a name).

- A **recipe** (:class:`~core.models.recipe.Recipe`) says what goes in (features, windows), what
  is predicted (target, horizon, output: probability / return / price / volatility), how the
  output votes, which inputs the drift monitor watches, and which of its own settings tuning
  searches. Recipes here: :data:`~core.models.tabular.UP_MOVE` and
  :data:`~core.models.tabular.DIRECTION` (classification), :data:`~core.models.sequence.NEXT_CLOSE_RECIPE`
  and :data:`~core.models.sequence.NEXT_RETURN` (regression on candle windows),
  :data:`~core.models.volatility.LOG_VARIANCE` (the log realised variance over the next 6 h / 24 h;
  it brings its own training flow, ``Kind.trainer``, and never votes).
- An **estimator** (:class:`~core.models.estimator.Estimator`) fits, predicts, saves and loads
  arrays, knowing nothing of candles: :class:`~core.models.boosted.XGBoostEstimator`,
  :class:`~core.models.hist_gb.HistGBEstimator`, :class:`~core.models.network.LSTMEstimator`.
  Calibration (Platt / isotonic on the validation slice) wraps a classifier when the kind's
  settings carry a ``calibration`` field.
- :class:`~core.models.kind.KindModel` joins them behind the :class:`~core.models.base.Model`
  protocol that training, the registry, the signals and the UI use; nothing outside
  :mod:`core.models` names a kind or branches on one.

How to add a kind::

    from core.models import Kind, register_kind
    from core.models.search import BOOSTED

    register_kind(Kind(
        "lgbm_direction",                      # registry model_type, model name prefix
        recipe=DIRECTION,                      # an existing recipe, or your own Recipe
        estimator="my.module:MyEstimator",     # imported only when a model is made / loaded
        estimator_name="LightGBM",
        config="my.module:MySettings",         # frozen dataclass: estimator + recipe fields
        label="LightGBM direction",
        description="P(the close 6 candles ahead is higher), calibrated",
        search=BOOSTED,                         # what a tuning sweep searches
    ))

A module outside core registers its kinds when named in ``$CRYPTOVOLT_MODEL_PLUGINS``.
Importing this package loads neither XGBoost nor TensorFlow.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import ConfigError
from core.models.kind import Kind, KindModel
from core.models.search import (
    BOOSTED,
    HIST_BOOSTED,
    RECURRENT,
    VOL_BOOSTED,
    VOL_RECURRENT,
    Param,
)
from core.models.sequence import NEXT_CLOSE_RECIPE, NEXT_RETURN
from core.models.tabular import DIRECTION, UP_MOVE
from core.models.volatility import LOG_VARIANCE

if TYPE_CHECKING:
    from core.models.base import Model

__all__ = [
    "DEFAULT_KINDS",
    "PLUGINS_ENV",
    "SEED_KINDS",
    "Kind",
    "config_class",
    "create_model",
    "kind_info",
    "kinds",
    "load_model",
    "parse_kind",
    "parse_kinds",
    "pooled_kind",
    "register_kind",
    "voting_kinds",
]

_KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> None:
    """Add (or replace) a model kind. The name is the registry's ``model_type`` and the prefix of
    its model names (``{name}_{symbol}``): lowercase letters, digits and ``_``."""
    _KINDS[kind.name] = kind


_XGB = "core.models.boosted:XGBoostEstimator"
_LSTM = "core.models.network:LSTMEstimator"
_HGB = "core.models.hist_gb:HistGBEstimator"

register_kind(
    Kind(
        "xgb_direction",
        DIRECTION,
        _XGB,
        "XGBoost",
        "core.models.settings:DirectionConfig",
        "XGBoost direction",
        "P(the close 6 candles ahead is higher), calibrated; cross-asset and 4h/1d inputs",
        aliases=("direction", "dir"),
        default=True,
        search={
            **BOOSTED,
            "max_depth": Param("int", 2, 6),
            "min_child_weight": Param("float", 1.0, 50.0, log=True),
        },
    )
)
register_kind(
    Kind(
        "lstm_return",
        NEXT_RETURN,
        _LSTM,
        "LSTM",
        "core.models.settings:LSTMReturnConfig",
        "LSTM return",
        "next-candle log return from a multivariate 48-candle window",
        aliases=("return", "ret"),
        search={**NEXT_RETURN.search, **RECURRENT},
    )
)
register_kind(
    Kind(
        "xgboost",
        UP_MOVE,
        _XGB,
        "XGBoost",
        "core.models.settings:XGBConfig",
        "XGBoost +1%",
        "seed model: P(the close 6 candles ahead is at least 1% higher)",
        aliases=("xgb",),
        seed=True,
        search=BOOSTED,
    )
)
register_kind(
    Kind(
        "lstm",
        NEXT_CLOSE_RECIPE,
        _LSTM,
        "LSTM",
        "core.models.settings:LSTMConfig",
        "LSTM price",
        "seed model: the next close from the last 60 candles",
        seed=True,
        search={**NEXT_CLOSE_RECIPE.search, **RECURRENT},
    )
)

# the third estimator: one file (core/models/hist_gb.py) serving both classification recipes
register_kind(
    Kind(
        "hgb_direction",
        DIRECTION,
        _HGB,
        "HistGradientBoosting",
        "core.models.hist_gb:HGBConfig",
        "HistGB direction",
        "P(the close 6 candles ahead is higher), scikit-learn HistGradientBoosting, calibrated",
        search=HIST_BOOSTED,
    )
)
register_kind(
    Kind(
        "hgb",
        UP_MOVE,
        _HGB,
        "HistGradientBoosting",
        "core.models.hist_gb:HGBConfig",
        "HistGB +1%",
        "P(the close 6 candles ahead is at least 1% higher), scikit-learn HistGradientBoosting",
        aliases=("histgb",),
        search=HIST_BOOSTED,
    )
)

# A pooled direction model: one XGBoost direction model over every chosen coin's rows (inputs
# normalised per coin), carded and gated per coin, calling only its most confident decile.
register_kind(
    Kind(
        "pooled_direction",
        DIRECTION,
        _XGB,
        "XGBoost",
        "core.models.settings:DirectionConfig",
        "Pooled XGBoost direction",
        "P(the close 6 candles ahead is higher) from one model over every chosen coin; calls only "
        "its most confident decile",
        aliases=("direction_pooled",),
        trainer="core.training.pooled:train_pooled",
        loader="core.training.pooled:PooledCoinModel",
        pooled=True,
        pools="xgb_direction",
    )
)

# Volatility: one recipe, three estimators, each per coin or pooled over every chosen coin. The
# flow (several horizons, baselines, bands) is core.volatility.train.train_kind; the saved model is
# core.volatility.model.VolatilityModel (volatility.json).
_VOL_TRAINER = "core.volatility.train:train_kind"
_VOL_LOADER = "core.volatility.model:VolatilityModel"
for _est, _class, _name, _cfg, _what in (
    (
        "har",
        "core.volatility.estimators:HARModel",
        "HAR (OLS in logs)",
        "VolHARConfig",
        "HAR lags (1 h, 6 h, 1 d, 1 w) + hour of day",
    ),
    (
        "gbm",
        _XGB,
        "XGBoost",
        "VolGBMConfig",
        "boosted trees on HAR lags, hour, range, volume, taker (and, with cross_asset, BTC's)",
    ),
    (
        "lstm",
        _LSTM,
        "LSTM",
        "VolLSTMConfig",
        "an LSTM on the last 48 hours of log variance",
    ),
):
    register_kind(
        Kind(
            f"vol_{_est}",
            LOG_VARIANCE,
            _class,
            _name,
            f"core.models.volatility:{_cfg}",
            f"Volatility {_est.upper()}",
            f"log realised variance over the next 6 h and 24 h: {_what}; expected-move bands",
            aliases=(f"volatility_{_est}",) + (("volatility", "vol") if _est == "har" else ()),
            # the expected move, regime and position size on every card (6 h passes on most
            # coins); a few seconds per coin
            default=_est == "har",
            trainer=_VOL_TRAINER,
            loader=_VOL_LOADER,
            # a sweep scores QLIKE skill on walk-forward folds (core.volatility.tune); the HAR
            # is OLS with nothing to search
            search={"gbm": VOL_BOOSTED, "lstm": VOL_RECURRENT}.get(_est, {}),
        )
    )
    register_kind(
        Kind(
            f"vol_pooled_{_est}",
            LOG_VARIANCE,
            _class,
            _name,
            f"core.models.volatility:{_cfg}",
            f"Volatility {_est.upper()} (pooled)",
            f"one {_est.upper()} fit on every chosen coin's rows (inputs normalised per coin), "
            "carded per coin",
            pooled=True,
            pools=f"vol_{_est}",
            trainer=_VOL_TRAINER,
            loader=_VOL_LOADER,
        )
    )

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


def voting_kinds() -> list[str]:
    """The kinds whose output votes on direction (every kind but the volatility ones)."""
    return [name for name, kind in _KINDS.items() if kind.votes]


def pooled_kind(kind: str) -> str:
    """The pooled kind of ``kind`` (``vol_har`` -> ``vol_pooled_har``; a pooled kind itself).

    Raises:
        ConfigError: ``kind`` has no pooled form.
    """
    name = parse_kind(kind)
    if _KINDS[name].pooled:
        return name
    for other in _KINDS.values():
        if other.pools == name:
            return other.name
    can = [k.pools for k in _KINDS.values() if k.pools]
    raise ConfigError(
        f"{name} cannot be trained pooled; these can: {', '.join(can)} (or name a pooled kind: "
        f"{', '.join(k.name for k in _KINDS.values() if k.pooled)})."
    )


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
        f"(or all for {', '.join(DEFAULT_KINDS)}; seed for {', '.join(SEED_KINDS)})."
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


def kind_info(kind: str) -> Kind:
    """The registered :class:`Kind` of ``kind`` (aliases accepted). Raises ConfigError."""
    return _KINDS[parse_kind(kind)]


def config_class(kind: str) -> type:
    """The settings dataclass of ``kind`` (imports only its module, never XGBoost/TensorFlow)."""
    return kind_info(kind).config_class()


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
    return KindModel(kind_info(kind), config)


def load_model(kind: str, directory: Path) -> Model:
    """Read a model of ``kind`` that ``model.save(directory)`` wrote.

    Raises:
        ConfigError: unknown kind.
        ModelError: the folder does not hold such a model.
    """
    info = kind_info(kind)
    if info.loader:
        loaded: Model = info.loader_class().load(Path(directory))
        return loaded
    return KindModel.load(info, Path(directory))


_load_plugins()
#: What ``train`` fits by default (the kinds registered with ``default=True``).
DEFAULT_KINDS: tuple[str, ...] = tuple(k.name for k in _KINDS.values() if k.default)
#: The seed's configuration (XGBoost "+1% in 6 h", LSTM on the price level).
SEED_KINDS: tuple[str, ...] = tuple(k.name for k in _KINDS.values() if k.seed)
