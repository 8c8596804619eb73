"""Retraining when a champion is stale or its coin is degraded (champion / challenger).

:func:`plan` decides per coin which champions to retrain and says why (or why not): a champion
older than ``stale_after`` is retrained; with ``if_degraded`` every champion of a coin that the
monitor calls degraded is. A challenger is trained with its champion's own settings (kind
settings, target, split), so only the data is new. :func:`run` trains them (in this process, or
as background jobs through the job queue) and says for each new version whether it was promoted
and why: training's champion / challenger rule (:mod:`core.training.train`) promotes it only when
its gates pass and it beats the champion. Decisions go to ``{home}/logs/retrain.log``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from core.config import Paths, SplitConfig, TargetConfig
from core.errors import ConfigError, CryptoVoltError
from core.live.health import Health, coin_health
from core.live.logs import live_logger
from core.registry.metadata import ModelMetadata

if TYPE_CHECKING:
    from core.registry.model_registry import ModelRegistry

__all__ = ["RetrainPlan", "age_words", "parse_age", "plan", "retrain_log", "run"]

_STATUS_WORDS = {"on_track": "on track", "not_enough_calls": "without enough calls to judge yet"}
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def retrain_log(home: Path) -> Any:
    """The ``retrain.log`` of ``home``."""
    return live_logger("cryptovolt.retrain", "retrain.log", logs=Paths(home).logs)


def parse_age(text: str) -> timedelta:
    """``"7d"`` → 7 days; units m, h, d, w (``"0d"``: every champion counts as stale).

    Raises:
        ConfigError: anything else.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*", str(text).lower())
    if not match:
        raise ConfigError(f"an age looks like 7d, 12h or 2w (m, h, d, w); got {text!r}.")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def age_words(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


@dataclass(frozen=True)
class RetrainPlan:
    """One coin: the champions to retrain (``kinds``, empty: none) and the reasons, in words."""

    symbol: str
    kinds: tuple[str, ...]
    reasons: tuple[str, ...]
    spec: Any = None  # core.jobs.JobSpec with the champions' settings, when kinds is not empty


def _fields(cls: type, values: Mapping[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in values.items() if k in names}


def champion_spec(symbol: str, records: Sequence[ModelMetadata]) -> Any:
    """A training job for ``records``' kinds with their own settings, target and split."""
    from core.jobs import JobSpec
    from core.models import config_class

    first = records[0]
    target = TargetConfig(
        horizon=first.signal_horizon,
        threshold=float(first.target.get("threshold") or TargetConfig().threshold),
    )
    return JobSpec(
        symbol=symbol,
        models=tuple(r.model_type for r in records),
        interval=first.interval,
        target=target,
        split=SplitConfig(**_fields(SplitConfig, first.split)),
        settings={
            r.model_type: config_class(r.model_type)(
                **_fields(config_class(r.model_type), r.params)
            )
            for r in records
        },
    )


def plan(
    symbols: Sequence[str] | None = None,
    *,
    home: Path,
    stale_after: timedelta | None = None,
    if_degraded: bool = False,
    registry: ModelRegistry | None = None,
    health: Mapping[str, Health] | None = None,
    now: datetime | None = None,
) -> list[RetrainPlan]:
    """Which champions of which coins to retrain (default: every coin with a champion).

    ``health`` maps a symbol to its :class:`~core.live.health.Health` (asked of the monitor, on
    ``home``'s journal, when ``if_degraded`` and not given).

    Raises:
        ConfigError: neither ``stale_after`` nor ``if_degraded`` (nothing would ever retrain).
    """
    from core.registry.model_registry import ModelRegistry
    from core.signals.live import promoted_versions, symbols_with_models

    if stale_after is None and not if_degraded:
        raise ConfigError(
            "say when to retrain: --if-stale 7d and/or --if-degraded "
            "(`python -m core train` retrains unconditionally)."
        )
    registry = registry if registry is not None else ModelRegistry(Paths(home).models)
    now = now or datetime.now(UTC)
    coins = list(symbols) if symbols else symbols_with_models(registry)
    unknown_health = None
    if if_degraded and health is None:
        found, unknown_health = coin_health(coins, home=home, now=now)
        health = {h.symbol: h for h in found}
    plans = []
    for symbol in coins:
        records = [
            registry.record(name, version)
            for name, version in promoted_versions(registry, symbol).items()
        ]
        if not records:
            plans.append(RetrainPlan(symbol, (), (f"{symbol} has no champion: train it first.",)))
            continue
        chosen: list[ModelMetadata] = []
        reasons: list[str] = []
        state = (health or {}).get(symbol)
        if if_degraded and state is not None and state.degraded:
            chosen = list(records)
            reasons.append(f"{symbol} is degraded: {state.reason}")
        elif if_degraded:
            why = unknown_health or (
                f"{symbol} is {_STATUS_WORDS.get(state.status, state.status)}"
                if state
                else f"the monitor has nothing on {symbol}"
            )
            reasons.append(f"not degraded: {why}")
        for record in records:
            if stale_after is None or not record.created_at:
                continue
            age = pd.Timestamp(now) - pd.Timestamp(record.created_at)
            old = f"{record.name} {record.version} is {age_words(age)} old"
            limit = age_words(stale_after)
            if age >= stale_after:
                reasons.append(f"{old} (limit {limit}): stale")
                if record not in chosen:
                    chosen.append(record)
            else:
                reasons.append(f"{old} (limit {limit}): fresh")
        spec = champion_spec(symbol, chosen) if chosen else None
        kinds = tuple(r.model_type for r in chosen)
        plans.append(RetrainPlan(symbol, kinds, tuple(reasons), spec))
    log = retrain_log(home)
    for p in plans:
        action = f"retrain {', '.join(p.kinds)}" if p.kinds else "keep"
        log.info("%s: %s: %s", p.symbol, action, "; ".join(p.reasons))
    return plans


def run(
    plans: Sequence[RetrainPlan], *, home: Path, background: bool = False, progress: Any = None
) -> list[str]:
    """Train a challenger for every plan with kinds, in ``home``; returns one line per new
    version (promoted or not, and why) or per launched job. One coin's failure is reported, not raised. In the
    foreground each coin is a job of its own run here (:func:`core.jobs.runner.train_here`):
    a coin with a training job on is refused, and a cancel stops this coin and the rest."""
    log = retrain_log(home)
    lines: list[str] = []
    for p in plans:
        if not p.kinds:
            continue
        if background:
            from core import jobs

            job_id = jobs.launch(p.spec, home=home)
            lines.append(f"{p.symbol}: challenger training launched as job {job_id}.")
            log.info(lines[-1])
            continue
        from core import jobs
        from core.jobs.runner import JobCancelled, train_here

        try:  # a job of its own, run here: listed, one per coin, stopped by `job cancel`
            job_id = jobs.prepare(p.spec, home=home)
            results = train_here(
                job_id, p.spec, paths=Paths(home), progress=progress, tag="retrain"
            )
        except CryptoVoltError as exc:
            lines.append(f"{p.symbol}: retraining failed: {exc}")
            log.error(lines[-1])
            continue
        except JobCancelled:
            lines.append(f"{p.symbol}: retraining cancelled; versions registered before stay.")
            log.warning(lines[-1])
            break
        for result in results:
            lines.append(f"{result.name} {result.version}: {result.promotion}.")
            log.info(lines[-1])
    return lines
