"""Settings: where files live, and one frozen dataclass per stage (a model kind's settings live
with the kind, in :mod:`core.models.settings`).

Every dataclass validates itself in ``__post_init__`` and raises :class:`core.errors.ConfigError`
with a message that says which setting is wrong and what would work, so impossible settings are
caught by the form and by the CLI before any work starts.

The home folder (``CRYPTOVOLT_HOME``, default the project folder) holds everything the app writes:
``data/raw/`` (candles), ``models/`` (registry), ``runs/`` (training jobs), ``logs/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from core.errors import ConfigError

__all__ = [
    "BINANCE_DEFAULT_URL",
    "BINANCE_VISION_URL",
    "PROJECT_DIR",
    "BacktestConfig",
    "FetchConfig",
    "Interval",
    "Paths",
    "SignalConfig",
    "SplitConfig",
    "TargetConfig",
    "binance_base_url",
    "home",
    "sample_dir",
]

PROJECT_DIR = Path(__file__).resolve().parent.parent
BINANCE_DEFAULT_URL = "https://api.binance.com"
BINANCE_VISION_URL = "https://data-api.binance.vision"
INSTALLED_HOME = Path("~/.cryptovolt").expanduser()


def home() -> Path:
    """The home folder the environment names: ``$CRYPTOVOLT_HOME`` if set, else the project
    folder in a clone, else ``~/.cryptovolt`` (an installed copy never writes into
    site-packages). Read by the edges only, through :meth:`core.context.Context.from_env`; the
    CLI's ``--home`` builds its Context from the option instead.

    Raises:
        ConfigError: ``$CRYPTOVOLT_HOME`` names a file (a missing folder is created on write).
    """
    value = os.environ.get("CRYPTOVOLT_HOME", "").strip()
    if not value:
        return PROJECT_DIR if (PROJECT_DIR / "pyproject.toml").is_file() else INSTALLED_HOME
    path = Path(value).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ConfigError(
            f"CRYPTOVOLT_HOME={value} is a file, not a folder: set CRYPTOVOLT_HOME to a folder "
            "(a missing one is created)."
        )
    return path


@dataclass(frozen=True)
class Paths:
    """Where each kind of file lives under one home folder: the one home of these rules. The
    edge builds it from its :class:`core.context.Context` (``context.paths``) and the stages take
    the folder they write to as an argument."""

    home: Path

    @property
    def data(self) -> Path:
        """``{home}/data``."""
        return self.home / "data"

    @property
    def raw(self) -> Path:
        """Where candle files live: ``{home}/data/raw``."""
        return self.data / "raw"

    @property
    def quarantine(self) -> Path:
        """Where unreadable or conflicting candles are set aside: ``{home}/data/quarantine``."""
        return self.data / "quarantine"

    @property
    def models(self) -> Path:
        """The model registry root: ``{home}/models``."""
        return self.home / "models"

    @property
    def runs(self) -> Path:
        """One folder per job: ``{home}/runs``."""
        return self.home / "runs"

    @property
    def logs(self) -> Path:
        """``{home}/logs``."""
        return self.home / "logs"


def sample_dir() -> Path:
    """The bundled real sample ships with the code, so it is never under the home folder."""
    return PROJECT_DIR / "data" / "sample"


def binance_base_url(override: str | None = None) -> str:
    """``override``, else ``$BINANCE_BASE_URL``, else https://api.binance.com (no trailing /)."""
    url = override or os.environ.get("BINANCE_BASE_URL", "").strip() or BINANCE_DEFAULT_URL
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"Binance base URL {url!r} must start with http:// or https:// "
            f"(for example {BINANCE_VISION_URL})."
        )
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # .port checks the number (0-65535)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket "http://[::1", a port "abc"
        raise ConfigError(
            f"Binance base URL {url!r} is not a valid URL ({exc}): use e.g. {BINANCE_VISION_URL} "
            "or http://[::1]:8080."
        ) from exc
    if not host:
        raise ConfigError(f"Binance base URL {url!r} names no host: use e.g. {BINANCE_VISION_URL}.")
    return url.rstrip("/")


class Interval(StrEnum):
    """Binance kline intervals."""

    M1 = "1m"
    M3 = "3m"
    M5 = "5m"
    M15 = "15m"
    M30 = "30m"
    H1 = "1h"
    H2 = "2h"
    H4 = "4h"
    H6 = "6h"
    H8 = "8h"
    H12 = "12h"
    D1 = "1d"
    D3 = "3d"
    W1 = "1w"

    @property
    def milliseconds(self) -> int:
        unit = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}[self.value[-1]]
        return int(self.value[:-1]) * unit

    @classmethod
    def parse(cls, value: str | Interval) -> Interval:
        try:
            return cls(str(value).strip())
        except ValueError:
            allowed = ", ".join(i.value for i in cls)
            raise ConfigError(f"Unknown interval {value!r}: use one of {allowed}.") from None


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


#: Most kline requests a fetch keeps in flight (pooled connections); fewer when the minute's
#: request-weight budget has less room (core.data.fetch).
FETCH_MAX_IN_FLIGHT = 32


@dataclass(frozen=True)
class FetchConfig:
    """What to download: coins, interval, how many days back, where from, requests in flight."""

    coins: tuple[str, ...] = ()
    interval: Interval = Interval.H1
    days: int = 730
    base_url: str | None = None
    max_workers: int = FETCH_MAX_IN_FLIGHT

    def __post_init__(self) -> None:
        object.__setattr__(self, "interval", Interval.parse(self.interval))
        _require(1 <= self.days <= 3650, f"days must be between 1 and 3650, got {self.days}.")
        _require(
            1 <= self.max_workers <= 64,
            f"workers (requests in flight) must be between 1 and 64, got {self.max_workers}.",
        )


@dataclass(frozen=True)
class TargetConfig:
    """The classifier's label: close ``horizon`` candles ahead at least ``threshold`` above."""

    horizon: int = 6
    threshold: float = 0.01

    def __post_init__(self) -> None:
        _require(1 <= self.horizon <= 168, f"horizon must be 1..168 candles, got {self.horizon}.")
        _require(
            0.0 < self.threshold < 0.5,
            f"threshold must be a fraction between 0 and 0.5 (0.01 = 1%), got {self.threshold}.",
        )

    @property
    def column(self) -> str:
        """The target's column name, e.g. ``target_up_1pct_6h``."""
        pct = f"{self.threshold * 100:g}".replace(".", "p")
        return f"target_up_{pct}pct_{self.horizon}h"


@dataclass(frozen=True)
class SplitConfig:
    """Chronological split: the last ``test_fraction`` is the test set; ``folds`` walk-forward."""

    test_fraction: float = 0.2
    validation_fraction: float = 0.1
    folds: int = 4

    def __post_init__(self) -> None:
        _require(0.05 <= self.test_fraction <= 0.5, "test_fraction must be between 0.05 and 0.5.")
        _require(
            0.0 <= self.validation_fraction <= 0.3,
            "validation_fraction must be between 0 and 0.3.",
        )
        _require(2 <= self.folds <= 20, f"folds must be between 2 and 20, got {self.folds}.")


@dataclass(frozen=True)
class SignalConfig:
    """The ensemble's vote thresholds and its confidence table (the rule: core/signals/ensemble.py).

    A probability model votes when its probability is at least a margin away from its event's
    base rate on the training rows: ``probability_margin`` for an event such as "+1% within 6 h"
    (base rate 15-30%), ``direction_margin`` for "the close 6 h ahead is higher" (base rate about
    50%, where a few points already matter). A return or price forecaster votes when its forecast
    log return is beyond +/- ``min_return``. ``horizon`` (candles a call is judged over) defaults
    to the models' target horizon; a NEUTRAL call is right when the close moved less than
    ``neutral_band`` over it. Confidence cells hold at least ``min_support`` calls and are shrunk
    toward the outcome's base rate with a Beta prior worth ``prior_strength`` calls.
    """

    probability_margin: float = 0.05
    direction_margin: float = 0.02
    min_return: float = 0.001
    require_agreement: bool = False
    strength_buckets: int = 3
    min_support: int = 30
    neutral_band: float = 0.01
    horizon: int | None = None
    prior_strength: float = 20.0
    #: Daily volatility the position size aims at (0.02 = 2% of the position's value per day).
    vol_target: float = 0.02

    def __post_init__(self) -> None:
        _require(0 < self.vol_target <= 1, "vol_target must be a daily fraction in (0, 1].")
        for name in ("probability_margin", "direction_margin"):
            value = getattr(self, name)
            _require(
                0 <= value < 0.5, f"{name} must be a probability gap in [0, 0.5), got {value}."
            )
        _require(
            0 <= self.min_return < 0.5,
            "min_return must be a fraction in [0, 0.5) (0.001 = 0.1%).",
        )
        _require(1 <= self.strength_buckets <= 10, "strength_buckets must be 1..10.")
        _require(1 <= self.min_support <= 100_000, "min_support must be 1..100000.")
        _require(0 < self.neutral_band < 0.5, "neutral_band must be a fraction in (0, 0.5).")
        _require(0 <= self.prior_strength <= 10_000, "prior_strength must be 0..10000 calls.")
        _require(
            self.horizon is None or 1 <= self.horizon <= 168,
            f"horizon must be 1..168 candles (or None for the model's own), got {self.horizon}.",
        )


@dataclass(frozen=True)
class BacktestConfig:
    """Trading costs and mode for the backtest."""

    fee: float = 0.001
    slippage_bps: float = 5.0
    allow_short: bool = False
    initial_cash: float = 10_000.0

    def __post_init__(self) -> None:
        _require(0 <= self.fee < 0.1, "fee must be a fraction per side below 0.1 (0.001 = 0.1%).")
        _require(0 <= self.slippage_bps < 1000, "slippage_bps must be 0..1000.")
        _require(self.initial_cash > 0, "initial_cash must be positive.")
