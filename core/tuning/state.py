"""Where a study lives and who is running it: ``{home}/tuning/``.

- ``{study}.db``: the Optuna study (SQLite), so a killed sweep resumes from its finished trials;
- ``{study}.lock``: locked (:mod:`core.locks`) by the process running the sweep (the OS frees
  it when that process dies, so a killed sweep never blocks the next one); a second sweep of
  the same study while one runs is refused;
- ``{study}.holder.json``: who took that lock (pid, start time), read only while it is held.

A sweep itself is a job (:mod:`core.jobs.tune_job`): its state, progress and results are its job
status under ``{home}/runs/``, like every other job's.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.atomic import atomic_write_json
from core.data.coins import parse_coin
from core.errors import ConfigError, JobError
from core.locks import LockBusy, acquire_lock, file_lock
from core.models import parse_kind

__all__ = [
    "LockHolder",
    "checked_name",
    "lock_holder",
    "refuse_if_tuned",
    "storage_path",
    "storage_url",
    "study_lock",
    "study_name",
    "tuning_dir",
]


def tuning_dir(home: Path) -> Path:
    """``{home}/tuning``."""
    return Path(home) / "tuning"


def study_name(kind: str, symbol: str, interval: str = "1h") -> str:
    """``xgboost_btcusdt_1h``: one study per kind, coin and interval (aliases accepted)."""
    return f"{parse_kind(kind)}_{parse_coin(symbol).symbol.lower()}_{interval}"


def checked_name(name: str) -> str:
    """``name`` when it can name a study file (ConfigError otherwise)."""
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ConfigError(f"{name!r} is not a study name: letters, digits, - and _ only.")
    return name


def storage_path(home: Path, name: str) -> Path:
    return tuning_dir(home) / f"{checked_name(name)}.db"


def storage_url(home: Path, name: str) -> str:
    """The study's SQLAlchemy URL (SQLite under the home folder)."""
    return f"sqlite:///{storage_path(home, name)}"


def _lock_path(home: Path, name: str) -> Path:
    return tuning_dir(home) / f"{checked_name(name)}.lock"


def _holder_path(home: Path, name: str) -> Path:
    return tuning_dir(home) / f"{checked_name(name)}.holder.json"


@dataclass(frozen=True)
class LockHolder:
    """Who holds a study's lock, as ``{study}.holder.json`` says: the pid and when it took it
    (either None when the file is missing or unreadable: the lock is held all the same)."""

    pid: int | None = None
    started_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "started_at": self.started_at}

    @classmethod
    def from_dict(cls, data: Any) -> LockHolder:
        """Read the holder file's JSON; anything that is not a dict of the two reads as unknown."""
        if not isinstance(data, dict):
            return cls()
        pid, started = data.get("pid"), data.get("started_at")
        return cls(
            pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
            started_at=str(started) if started else None,
        )


def _busy(home: Path, name: str) -> JobError:
    holder = lock_holder(home, name) or LockHolder()
    who = f"process {holder.pid}" if holder.pid else "another process"
    since = f" since {holder.started_at}" if holder.started_at else ""
    return JobError(
        f"Study {name} is already being tuned by {who}{since}: wait for it to finish, or stop it "
        "(the Training page's Tuning section, `python -m core tune ... --cancel`, or `job cancel`)."
    )


@contextlib.contextmanager
def study_lock(home: Path, name: str) -> Iterator[None]:
    """Hold the study's lock for the block; the OS releases it if this process dies.

    Raises:
        JobError: another process holds it (the message names it and says what to do).
    """
    try:
        held = acquire_lock(_lock_path(home, name), blocking=False)
    except LockBusy:
        raise _busy(home, name) from None
    try:
        started = datetime.now(UTC).isoformat(timespec="seconds")
        atomic_write_json(_holder_path(home, name), LockHolder(os.getpid(), started).to_dict())
        yield
    finally:
        held.release()


def refuse_if_tuned(home: Path, name: str) -> None:
    """Refuse before anything starts when a process holds the study's lock.

    Raises:
        JobError: the study is being tuned (the message names the process and what to do).
    """
    if lock_holder(home, name) is not None:
        raise _busy(home, name)


def lock_holder(home: Path, name: str) -> LockHolder | None:
    """Who holds the study's lock, or None when nobody does."""
    path = _lock_path(home, name)
    if not path.exists():
        return None
    try:
        with file_lock(path, blocking=False):
            return None
    except LockBusy:
        try:
            found = json.loads(_holder_path(home, name).read_text() or "{}")
        except (OSError, ValueError):
            found = {}
        return LockHolder.from_dict(found)
