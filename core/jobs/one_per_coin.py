"""One training or tuning job per coin at a time.

Two jobs on one coin race to register versions and compete for the same slots, so a launch of a
training job or a sweep first asks :func:`busy_with` and is refused in words by
:func:`refuse_busy` when the coin has one queued or running. The check and the writing of the
new job's folder happen under :func:`launch_lock`, so two launches at once cannot both find the
coin free.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator, Sequence

from core import config
from core.errors import JobError
from core.jobs.status import JobKind

__all__ = ["busy_with", "launch_lock", "refuse_busy"]


@contextlib.contextmanager
def launch_lock() -> Iterator[None]:
    """Held while a launch checks that its coin is free and writes its job folder, so two
    launches at once cannot both find the coin free."""
    runs = config.runs_dir()
    runs.mkdir(parents=True, exist_ok=True)
    with open(runs / ".launch.lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def busy_with(symbols: Sequence[str], *, study: str | None = None) -> dict[str, str]:
    """What keeps each of ``symbols`` busy (a queued or running training job or sweep), in
    words; coins that are free are left out.

    ``study`` leaves out the sweep of that study (a sweep's own process asking)."""
    wanted = set(symbols)
    out: dict[str, str] = {}
    from core.jobs.control import list_jobs

    for found in list_jobs(kind=JobKind.TRAIN):
        if found.active and found.symbol in wanted and found.symbol not in out:
            state = found.state.value
            out[found.symbol] = (
                f"{found.symbol} already has a training job {state} ({found.job_id})"
            )
    from core.tuning.sweeps import running_sweeps

    for name, symbol in running_sweeps():
        if symbol in wanted and symbol not in out and name != study:
            out[symbol] = f"{symbol} already has a sweep running (study {name})"
    return {s: out[s] for s in dict.fromkeys(symbols) if s in out}


def refuse_busy(symbols: Sequence[str], *, study: str | None = None) -> None:
    """Refuse, in words, to start training or tuning coins that already have a job on.

    Raises:
        JobError: naming every busy coin, its job, and what to do; nothing was started.
    """
    busy = list(busy_with(symbols, study=study).values())
    if busy:
        raise JobError(
            f"{'; '.join(busy)}: one job per coin at a time. Wait for it to finish or cancel it "
            "(`python -m core job cancel JOB`, `python -m core tune ... --cancel`, or the "
            "Training page), or leave the coin out; nothing was started."
        )
