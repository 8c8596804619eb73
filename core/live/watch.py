"""The watch loop: signals at every candle close, headless (``python -m core watch``).

A cycle tops the candles up from Binance (the incremental fetch), computes every coin's signal,
records it in the journal and judges the calls whose horizon has passed: that is
:func:`core.usecases.live_signals`, reused as is. Then it asks the monitor how each coin is doing
(:mod:`core.live.health`), raises alerts on changes (:mod:`core.live.alerts`), optionally starts
retraining (:mod:`core.live.retrain`), and sleeps until ``delay`` seconds after the next close.

Restarts are safe: the journal records a (coin, interval, candle, model versions) once, so a
watch killed with ``kill -9`` and started again writes nothing twice, and the cycle it runs at
start picks up the last closed candle. When Binance cannot be reached the top-up backs off and
gives up (the client's retries), the cycle is logged as failed, and the next close tries again;
no exception ends the loop. One watch per home folder (``live/watch.lock``). Progress is logged
to ``{home}/logs/watch.log`` and the last cycle is in ``{home}/live/watch.json``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from core.atomic import atomic_write_json
from core.clock import Clock, SystemClock, next_wake
from core.config import Paths
from core.errors import ConfigError
from core.live.alerts import Alerts, CoinCall
from core.live.health import Health, coin_health
from core.live.logs import live_logger
from core.locks import HeldLock, LockBusy, acquire_lock

if TYPE_CHECKING:
    from core.jobs.results import ModelResult

__all__ = ["CycleReport", "Watch", "WatchConfig", "state_path"]


def state_path(home: Path) -> Path:
    """``{home}/live/watch.json``: the last cycle, the next wake-up, the pid."""
    return Path(home) / "live" / "watch.json"


@dataclass(frozen=True)
class WatchConfig:
    """``coins`` None: every coin with a champion, re-read each cycle (a newly trained coin joins).
    ``delay``: seconds after a candle close to wait for Binance to publish it. ``patient``: the
    top-up retries with backoff for about 15 s before giving up (else within a second or two)."""

    coins: tuple[str, ...] | None = None
    interval: str = "1h"
    delay: float = 5.0
    patient: bool = True
    retrain_stale: timedelta | None = None
    retrain_degraded: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.delay < 600:
            raise ConfigError(f"--delay must be 0..600 seconds after the close, got {self.delay}.")


@dataclass(frozen=True)
class CycleReport:
    at: str
    ok: bool
    why: str = ""
    recorded: int = 0
    resolved: int = 0
    signals: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    alerts: int = 0


class Watch:
    """Runs cycles on ``clock``'s time; ``stop`` (an Event) ends :meth:`run` between cycles."""

    def __init__(
        self,
        cfg: WatchConfig | None = None,
        *,
        home: Path,
        clock: Clock | None = None,
        alerts: Alerts | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.cfg = cfg or WatchConfig()
        self.home = Path(home)  # the edge passes its context's
        self.clock = clock or SystemClock()
        self.alerts = alerts or Alerts(home=self.home)
        self.stop = stop or threading.Event()
        self.log = live_logger("cryptovolt.watch", "watch.log", logs=Paths(self.home).logs)
        self.cycles = 0
        self._lock: HeldLock | None = None

    # ---- one cycle ---------------------------------------------------------------------

    def cycle(self) -> CycleReport:
        """Top up, signal, journal, resolve, check health and alert; never raises."""
        from core.usecases import live_signals

        now = self.clock.now()
        coins = list(self.cfg.coins) if self.cfg.coins else None
        try:
            result = live_signals(
                coins,
                home=self.home,
                refresh=True,
                patient=self.cfg.patient,
                source="watch",
                now=now,
            )
        except Exception as exc:  # a broken registry or disk: log it, try again next close
            self.log.exception("cycle at %s failed", now.isoformat())
            return self._finish(CycleReport(now.isoformat(), False, f"{type(exc).__name__}: {exc}"))
        notes = list(result.top_up.notes) if result.top_up else []
        failed_top_up = result.top_up is not None and not result.top_up.ok
        conflicts = result.top_up.conflicts if result.top_up else ()
        for note in notes:  # a conflict (new candles held back) needs the user: a warning
            loud = failed_top_up or note.startswith(conflicts)
            (self.log.warning if loud else self.log.info)("%s", note)
        for symbol, message in result.errors.items():
            self.log.warning("%s: %s", symbol, message)
        why = ""
        if failed_top_up:
            why = notes[0] if notes else "the top-up failed"
        elif result.errors and not result.signals:
            why = "no coin produced a signal: " + "; ".join(result.errors.values())
        elif not result.signals:
            why = "no coin has a trained model: train one first (`python -m core train`)"
        signals = {s.symbol: str(s.signal) for s in result.signals}
        self.log.info(
            "cycle at %s: %s; %d new journal entries, %d calls resolved",
            now.isoformat(),
            ", ".join(f"{k} {v}" for k, v in signals.items()) or "no signals",
            result.recorded,
            result.resolved,
        )
        report = CycleReport(
            now.isoformat(),
            not why,
            why,
            result.recorded,
            result.resolved,
            signals,
            dict(result.errors),
        )
        health = self._health(list(signals) or coins, now)
        alerts = len(self.alerts.observe(health, now))
        calls = {
            s.symbol: CoinCall(
                str(s.signal),
                (s.vol_regime or {}).get("label"),
                detail=_call_detail(s, result.records),
            )
            for s in result.signals
        }
        alerts += len(self.alerts.signals_changed(calls, now))
        if self.cfg.retrain_stale is not None or self.cfg.retrain_degraded:
            self._retrain(list(signals), health, now)
        return self._finish(dataclasses.replace(report, alerts=alerts))

    def _health(self, symbols: Sequence[str] | None, now: datetime) -> list[Health]:
        found, why_not = coin_health(symbols, home=self.home, now=now)
        if why_not:
            self.log.info("health: %s", why_not)
        for h in found:
            self.log.info("health %s: %s, %d drifted: %s", h.symbol, h.status, h.drifted, h.reason)
        return found

    def _finish(self, report: CycleReport) -> CycleReport:
        now = self.clock.now()
        alerts = self.alerts.cycle_done(report.ok, report.why, now)
        if not report.ok:
            self.log.warning("cycle failed, trying again at the next close: %s", report.why)
        report = dataclasses.replace(report, alerts=report.alerts + len(alerts))
        self.cycles += 1
        self._write_state(report, next_wake(now, self.cfg.interval, delay=self.cfg.delay))
        return report

    def _write_state(self, report: CycleReport, wake: datetime) -> None:
        atomic_write_json(
            state_path(self.home),
            {
                "pid": os.getpid(),
                "cycles": self.cycles,
                "last_cycle": report.__dict__,
                "next_wake": wake.isoformat(),
            },
        )

    # ---- retraining --------------------------------------------------------------------

    def _retrain(self, symbols: Sequence[str], health: Sequence[Health], now: datetime) -> None:
        """Start a background challenger job per coin that needs one; report finished ones.

        A coin is not retried within the staleness limit (or a day) of its last attempt, so a
        challenger that lost does not make the watch retrain every hour."""
        from core import jobs
        from core.live.retrain import plan

        path = self.home / "live" / "retrain.json"
        try:
            tried = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tried = {}
        for symbol, entry in tried.items():
            if entry.get("job") and not entry.get("reported"):
                try:
                    status = jobs.status(entry["job"], runs=Paths(self.home).runs)
                except Exception:  # the run folder was deleted: nothing left to report
                    entry["reported"] = True
                    continue
                if status.state.finished:
                    entry["reported"] = True
                    for r in status.result:
                        self.log.info("retrain %s: %s", symbol, _promotion_words(r, self.home))
                    if status.error:
                        self.log.warning("retrain %s failed: %s", symbol, status.error)
        cooldown = self.cfg.retrain_stale or timedelta(days=1)
        due = [
            s
            for s in symbols
            if s not in tried
            or pd.Timestamp(now) - pd.Timestamp(tried[s]["at"]) >= max(cooldown, timedelta(hours=1))
        ]
        if due:
            try:
                plans = plan(
                    due,
                    home=self.home,
                    stale_after=self.cfg.retrain_stale,
                    if_degraded=self.cfg.retrain_degraded,
                    health={h.symbol: h for h in health},
                    now=now,
                )
                for p in plans:
                    if p.kinds:
                        job = jobs.launch(p.spec, home=self.home)
                        self.log.info("retrain %s: job %s: %s", p.symbol, job, "; ".join(p.reasons))
                        tried[p.symbol] = {"at": now.isoformat(), "job": job}
            except Exception:  # retraining must never stop the watch
                self.log.exception("retraining could not start")
        atomic_write_json(path, tried)

    # ---- the loop ----------------------------------------------------------------------

    def _take_lock(self) -> None:
        path = self.home / "live" / "watch.lock"
        try:
            held = acquire_lock(path, blocking=False)
        except LockBusy:
            raise ConfigError(
                f"another watch is already running on {self.home} (see live/watch.json); "
                "stop it first, or use another CRYPTOVOLT_HOME."
            ) from None
        self._lock = held

    def run(self, *, once: bool = False, cycles: int | None = None) -> CycleReport | None:
        """Run a cycle now, then one after every close until ``stop`` is set (or ``cycles``
        cycles ran, or just one with ``once``). Returns the last cycle's report.

        Raises:
            ConfigError: another watch holds this home folder.
        """
        self._take_lock()
        self.log.info(
            "watch started (pid %d): coins %s, interval %s, %.0fs after each close",
            os.getpid(),
            ",".join(self.cfg.coins) if self.cfg.coins else "every coin with a champion",
            self.cfg.interval,
            self.cfg.delay,
        )
        last: CycleReport | None = None
        try:
            while not self.stop.is_set():
                started = self.clock.now()
                try:
                    last = self.cycle()
                except OSError:  # a full disk or a vanished home: say so, try at the next close
                    self.log.exception("cycle crashed; trying again at the next close")
                if once or (cycles is not None and self.cycles >= cycles):
                    break
                # The close after the one this cycle ran for: a close that passed while the
                # cycle ran (a slow top-up) is not skipped; the sleep is then zero.
                wake = next_wake(started, self.cfg.interval, delay=self.cfg.delay)
                self.log.info("sleeping until %s", wake.isoformat())
                self.clock.sleep((wake - self.clock.now()).total_seconds(), self.stop)
        finally:
            self.alerts.close()
            self.log.info("watch stopped after %d cycle(s)", self.cycles)
            if self._lock is not None:
                self._lock.release()
                self._lock = None
        return last


def _promotion_words(result: ModelResult, home: Path) -> str:
    """What became of a challenger a retrain job registered, from the registry's point of view."""
    from core.config import Paths
    from core.registry.model_registry import ModelRegistry
    from core.usecases import promotion_problems

    name, version = result.name, result.version
    if result.promoted:
        return f"{name} {version}: promoted: its gates pass and it beats the champion."
    try:
        problems = promotion_problems(ModelRegistry(Paths(home).models), name, version)
    except Exception as exc:  # deleted since: say what the job said
        problems = [f"{result.verdict} ({exc})"]
    return f"{name} {version}: not promoted: " + " ".join(problems)


def _call_detail(signal: Any, records: Any) -> str:
    """The alert's words: the coin's verdict line (:mod:`core.verdict`, the same words
    as the Signals page and ``signals``), then the candle it rests on and the price."""
    from core.verdict import coin_verdict

    said = coin_verdict(signal, records).text
    return (
        f"{said} ({signal.timeframe} close {signal.candle_time:%Y-%m-%d %H:%M} UTC, price "
        f"{signal.price:,.6g})"
    )
