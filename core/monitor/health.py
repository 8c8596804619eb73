"""Forward-test health per coin: are the live calls keeping the card's promise? And drift.

:func:`assess` reads the journal (calls resolved by the journal, or here from the stored candles),
groups each coin's calls by the model versions behind them, and scores each group over rolling
windows (:class:`MonitorConfig.windows`, 7 and 30 days). A coin's **status** is that of the
versions behind its newest call, over the ``status_days`` window:

* ``not_enough_calls``: fewer than ``min_calls`` resolved calls (the count is in the reason);
* ``degraded``: a kind of call with at least ``min_kind_calls`` resolved calls is below its
  promise (:attr:`core.monitor.rates.KindRate.below_promise`), or a voting probability member
  with at least ``min_calls`` resolved calls fails its log-loss gate on the live window;
* ``on_track``: otherwise.

``drifted`` is the number of input features with PSI > 0.25 over the last ``drift_days`` against
the training window of the coin's promoted versions (:mod:`core.monitor.drift`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from core.config import Paths
from core.errors import ConfigError
from core.monitor.calls import NO_EDGE, load_calls
from core.monitor.coverage import VolHealth
from core.monitor.drift import DriftReport
from core.monitor.rates import KindRate, MemberScore, in_window, kind_rates, member_scores

if TYPE_CHECKING:
    from core.registry.metadata import ModelMetadata
    from core.registry.model_registry import ModelRegistry

__all__ = [
    "STATUSES",
    "CoinHealth",
    "MonitorConfig",
    "VersionHealth",
    "assess",
    "records_lookup",
]

STATUSES = ("on_track", "degraded", "not_enough_calls")
HOW_TO_GET_CALLS = "run `python -m core watch` or open the Signals page"


@dataclass(frozen=True)
class MonitorConfig:
    """Windows and thresholds of the monitor (see the module docstring)."""

    windows: tuple[int, ...] = (7, 30)
    status_days: int = 30
    min_calls: int = 20
    min_kind_calls: int = 10
    drift_days: int = 7
    psi_bins: int = 10
    psi_epsilon: float = 1e-4

    def __post_init__(self) -> None:
        if not self.windows or min(self.windows) < 1 or self.status_days < 1:
            raise ConfigError(f"Monitor windows must be whole days >= 1, got {self.windows}.")
        if self.min_calls < 1 or self.min_kind_calls < 1 or self.drift_days < 1:
            raise ConfigError("Monitor min_calls, min_kind_calls and drift_days must be >= 1.")
        if self.psi_bins < 2 or not 0.0 < self.psi_epsilon < 1.0:
            raise ConfigError(
                f"PSI needs at least 2 bins and an epsilon in (0, 1), got {self.psi_bins} and "
                f"{self.psi_epsilon}."
            )


@dataclass(frozen=True)
class VersionHealth:
    """One coin's calls made by one set of model versions."""

    versions: str
    models: dict[str, str]
    entries: int
    calls: int
    resolved: int
    pending: int
    no_edge: int
    first_call: pd.Timestamp | None
    last_call: pd.Timestamp | None
    window_end: pd.Timestamp | None
    status: str
    reason: str
    rates: tuple[KindRate, ...] = ()
    members: tuple[MemberScore, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        def stamp(t: pd.Timestamp | None) -> str | None:
            return None if t is None else t.isoformat()

        return {
            "versions": self.versions,
            "models": dict(self.models),
            "entries": self.entries,
            "calls": self.calls,
            "resolved": self.resolved,
            "pending": self.pending,
            "no_edge": self.no_edge,
            "first_call": stamp(self.first_call),
            "last_call": stamp(self.last_call),
            "window_end": stamp(self.window_end),
            "status": self.status,
            "reason": self.reason,
            "rates": [r.to_dict() for r in self.rates],
            "members": [m.to_dict() for m in self.members],
        }


@dataclass(frozen=True)
class CoinHealth:
    """A coin's forward-test status (of the versions behind its newest call) and its drift.

    ``calls`` is the number of resolved calls in the status window, ``drifted`` the number of
    drifted input features; ``versions`` holds every version set's scores, newest last.
    """

    symbol: str
    status: str
    reason: str
    calls: int
    pending: int
    drifted: int
    window_days: int
    window_end: pd.Timestamp | None
    versions: tuple[VersionHealth, ...] = ()
    drift: DriftReport | None = None
    volatility: VolHealth | None = None
    checked_at: pd.Timestamp = field(default_factory=lambda: pd.Timestamp.now(tz="UTC"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (times as ISO 8601 UTC)."""
        return {
            "symbol": self.symbol,
            "status": self.status,
            "reason": self.reason,
            "calls": self.calls,
            "pending": self.pending,
            "drifted": self.drifted,
            "drifted_features": list(self.drift.drifted) if self.drift else [],
            "window_days": self.window_days,
            "window_end": None if self.window_end is None else self.window_end.isoformat(),
            "checked_at": self.checked_at.isoformat(),
            "versions": [v.to_dict() for v in self.versions],
            "drift": self.drift.to_dict() if self.drift else None,
            "volatility": self.volatility.to_dict() if self.volatility else None,
        }


def _utc(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _judge(
    rates: Sequence[KindRate], members: Sequence[MemberScore], n: int, pending: int, cfg: Any
) -> tuple[str, str]:
    days = cfg.status_days
    if n < cfg.min_calls:
        return (
            "not_enough_calls",
            f"Not enough calls yet: {n} resolved in the last {days} days ({pending} pending); "
            f"{cfg.min_calls} are needed to judge.",
        )
    problems = [
        f"{r.kind} calls hit {_pct(r.rate)} (95% {_pct(r.low)}–{_pct(r.high)}, {r.calls} calls, "
        f"about {r.effective_calls:.0f} independent), "
        f"below the {_pct(r.promised_low)}–{_pct(r.promised_high)} promised"
        for r in rates
        if r.calls >= cfg.min_kind_calls and r.below_promise
    ]
    problems += [
        f"{m.name} {m.version} live log loss {m.log_loss:.3f} is not below the base rate's "
        f"{m.base_log_loss:.3f} ({m.calls} calls)"
        for m in members
        if m.votes
        and m.calls >= cfg.min_calls
        and m.live_gate_passed is False
        and m.log_loss is not None
        and m.base_log_loss is not None
    ]
    if problems:
        return "degraded", f"Degraded over the last {days} days: " + "; ".join(problems) + "."
    return (
        "on_track",
        f"On track: {n} resolved calls in the last {days} days, each kind of call within its "
        "promise and every voting model's live log loss below its base rate's.",
    )


def _version_health(
    group: pd.DataFrame, records: Any, end: pd.Timestamp, cfg: MonitorConfig
) -> VersionHealth:
    made = group[group["status"] != NO_EDGE]
    resolved = made[made["status"].isin(["hit", "miss"])]
    times = pd.to_datetime(group["candle_time"], utc=True)
    last = times.max() if len(times) else None
    models = next((m for m in group["models"] if isinstance(m, dict)), {}) or {}
    common: dict[str, Any] = dict(
        versions=str(group["versions"].iloc[0]),
        models=dict(models),
        entries=len(group),
        calls=len(made),
        resolved=len(resolved),
        pending=int((made["status"] == "pending").sum()),
        no_edge=len(group) - len(made),
        first_call=times.min() if len(times) else None,
        last_call=last,
        window_end=end,
    )
    if made.empty:
        why = (
            f"No calls yet: all {len(group)} journal entries are NO EDGE (no model passes its "
            "gates, so nothing is called)."
            if set(group["signal"]) == {"NO_EDGE"}
            else f"No calls yet: none of the {len(group)} journal entries makes a call (NO EDGE "
            "or STALE)."
        )
        return VersionHealth(**common, status="not_enough_calls", reason=why)
    rates = tuple(r for days in cfg.windows for r in kind_rates(resolved, end=end, days=days))
    members = member_scores(resolved, models, records, end=end, days=cfg.status_days)
    n = len(in_window(resolved, end, cfg.status_days))
    pending = int((in_window(made, end, cfg.status_days)["status"] == "pending").sum())
    status_rates = [r for r in rates if r.days == cfg.status_days] or list(
        kind_rates(resolved, end=end, days=cfg.status_days)
    )
    status, reason = _judge(status_rates, members, n, pending, cfg)
    if n == 0 and last is not None:
        reason = reason[:-1] + f" (the newest call is on the candle of {last:%Y-%m-%d %H:%M} UTC)."
    return VersionHealth(**common, status=status, reason=reason, rates=rates, members=members)


def records_lookup(registry: ModelRegistry) -> Callable[[str, str], ModelMetadata | None]:
    """A cached ``(name, version) -> ModelMetadata | None`` over ``registry``."""
    from core.errors import ModelError

    cache: dict[tuple[str, str], ModelMetadata | None] = {}

    def lookup(name: str, version: str) -> ModelMetadata | None:
        if (name, version) not in cache:
            try:
                cache[(name, version)] = registry.record(name, version)
            except ModelError:
                cache[(name, version)] = None
        return cache[(name, version)]

    return lookup


def _drift(
    symbol: str,
    registry: ModelRegistry,
    records: Callable[[str, str], ModelMetadata | None],
    end: Any,
    cfg: MonitorConfig,
    *,
    paths: Paths,
) -> DriftReport:
    from core.data.store import load_candles
    from core.errors import CryptoVoltError
    from core.features.context import REFERENCE_SYMBOLS, load_references
    from core.monitor.drift import feature_drift
    from core.signals.live import promoted_versions

    found = [records(n, v) for n, v in promoted_versions(registry, symbol).items()]
    current = [r for r in found if r is not None]
    if not current:
        return DriftReport(symbol, (), None, None, "no trained model to compare against")
    interval = current[0].interval
    try:
        candles = load_candles(symbol, interval, paths=paths)
    except CryptoVoltError as exc:
        return DriftReport(symbol, (), None, None, str(exc))
    prefixes = tuple(f"feat_{s[: -len('USDT')].lower()}_" for s in REFERENCE_SYMBOLS)
    cross = any(f.startswith(prefixes) for r in current for f in r.features)
    return feature_drift(
        symbol,
        current,
        candles,
        references=load_references(interval, paths=paths) if cross else None,
        end=end,
        days=cfg.drift_days,
        bins=cfg.psi_bins,
        epsilon=cfg.psi_epsilon,
    )


def _volatility(
    symbol: str,
    rows: list[dict[str, Any]],
    registry: ModelRegistry,
    end: pd.Timestamp,
    cfg: MonitorConfig,
    *,
    paths: Paths,
) -> VolHealth:
    """The coin's live band coverage and QLIKE (:mod:`core.monitor.coverage`)."""
    from core.data.store import load_candles
    from core.errors import DataError
    from core.monitor.coverage import vol_health

    candles = None
    if rows:
        try:
            candles = load_candles(symbol, "1h", paths=paths)
        except DataError:
            candles = None
    return vol_health(
        symbol, rows, candles, end=end, days=cfg.status_days, registry=registry, paths=paths
    )


def _symbols(
    symbols: Sequence[str] | None, calls: pd.DataFrame, registry: ModelRegistry
) -> list[str]:
    from core.data.coins import DEFAULT_COINS, parse_coin
    from core.signals.live import symbols_with_models

    if symbols is not None:
        return list(dict.fromkeys(parse_coin(s).symbol for s in symbols))
    found = set(calls["symbol"]) | set(symbols_with_models(registry))
    order = {s: i for i, s in enumerate(DEFAULT_COINS)}
    return sorted(found, key=lambda s: (order.get(s, len(order)), s))


def assess(
    symbols: Sequence[str] | None = None,
    *,
    home: Path,
    now: datetime | pd.Timestamp | None = None,
    config: MonitorConfig | None = None,
) -> list[CoinHealth]:
    """The health of each coin (default: every coin in ``home``'s journal or with a promoted
    model).

    ``now`` ends the windows (default: the system clock; the edges pass their context's time).
    Read-only: the journal is not written. Raises ``SymbolError`` for a coin it cannot parse.
    """
    from core.registry.model_registry import ModelRegistry

    cfg = config or MonitorConfig()
    from core.clock import SystemClock

    end = _utc(SystemClock().now() if now is None else now)
    registry = ModelRegistry(Paths(home).models)
    calls = load_calls(home, symbols)
    records = records_lookup(registry)
    from core.signals.journal import expected_moves

    moves: dict[str, list[dict[str, Any]]] = {}
    for row in expected_moves(home):
        moves.setdefault(str(row["symbol"]), []).append(row)
    out = []
    for symbol in _symbols(symbols, calls, registry):
        mine = calls[calls["symbol"] == symbol]
        versions = tuple(
            _version_health(group, records, end, cfg)
            for _, group in sorted(
                mine.groupby("versions", sort=False),
                key=lambda item: pd.to_datetime(item[1]["candle_time"], utc=True).max(),
            )
        )
        drift = _drift(symbol, registry, records, end, cfg, paths=Paths(home))
        if versions:
            head = versions[-1]
            in_status = [r for r in head.rates if r.days == cfg.status_days]
            n = sum(r.calls for r in in_status) if in_status else 0
            status, reason, pending, window_end = (
                head.status,
                head.reason,
                head.pending,
                head.window_end,
            )
        else:
            n, pending, window_end = 0, 0, end
            status = "not_enough_calls"
            reason = f"No journal entries for {symbol} yet: {HOW_TO_GET_CALLS}."
        volatility = _volatility(
            symbol, moves.get(symbol, []), registry, end, cfg, paths=Paths(home)
        )
        if volatility.degraded:
            # Bands off their promise degrade the coin (and so alert) whatever its calls do.
            reason = volatility.reason if status != "degraded" else f"{reason} {volatility.reason}"
            status = "degraded"
        out.append(
            CoinHealth(
                symbol=symbol,
                status=status,
                reason=reason,
                calls=n,
                pending=pending,
                drifted=len(drift.drifted),
                window_days=cfg.status_days,
                window_end=window_end,
                versions=versions,
                drift=drift,
                volatility=volatility,
            )
        )
    return out
