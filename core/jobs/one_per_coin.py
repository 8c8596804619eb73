"""One training or tuning job per coin at a time.

Two jobs on one coin race to register versions and compete for the same slots, so a launch of a
training job or a sweep first asks :func:`busy_with` and is refused in words by
:func:`refuse_busy` when the coin has one queued or running. The check and the writing of the
new job's folder happen under :func:`launch_lock`, so two launches at once cannot both find the
coin free.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from core.errors import JobError
from core.jobs.status import JobKind
from core.locks import file_lock

__all__ = ["busy_with", "launch_lock", "refuse_busy"]


@contextlib.contextmanager
def launch_lock(*, runs: Path) -> Iterator[None]:
    """Held while a launch checks that its coin is free and writes its job folder, so two
    launches at once cannot both find the coin free."""
    with file_lock(runs / ".launch.lock"):
        yield


def busy_with(symbols: Sequence[str], *, runs: Path, study: str | None = None) -> dict[str, str]:
    """What keeps each of ``symbols`` busy (a queued or running training job or sweep), in
    words; coins that are free are left out.

    ``study`` leaves out sweeps of that study (their own lock refuses a second one, naming the
    process that holds it)."""
    from core.jobs.control import list_jobs

    wanted = set(symbols)
    out: dict[str, str] = {}
    for found in list_jobs(runs=runs):
        symbol = found.symbol
        if not found.active or symbol not in wanted or symbol in out:
            continue
        state = found.state.value
        if found.kind is JobKind.TRAIN:
            out[symbol] = f"{symbol} already has a training job {state} ({found.job_id})"
        elif found.kind is JobKind.TUNE and found.extra.get("study") != study:
            name = found.extra.get("study")
            out[symbol] = f"{symbol} already has a sweep {state} (study {name}, {found.job_id})"
    return {s: out[s] for s in dict.fromkeys(symbols) if s in out}


def refuse_busy(symbols: Sequence[str], *, runs: Path, study: str | None = None) -> None:
    """Refuse, in words, to start training or tuning coins that already have a job on.

    Raises:
        JobError: naming every busy coin, its job, and what to do; nothing was started.
    """
    busy = list(busy_with(symbols, runs=runs, study=study).values())
    if busy:
        raise JobError(
            f"{'; '.join(busy)}: one job per coin at a time. Wait for it to finish or cancel it "
            "(`python -m core job cancel JOB`, `python -m core tune ... --cancel`, or the "
            "Training page), or leave the coin out; nothing was started."
        )
