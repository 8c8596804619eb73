"""The one way a test waits for something outside it: poll a condition until it holds.

A fixed sleep is a guess about how fast a busy machine is; on a shared 2-core box the guess is
wrong sooner or later. ``wait_until`` asks again every ``interval`` seconds until ``predicate``
returns something truthy (that value is returned) or ``timeout`` seconds have passed; then the
test fails with one message naming what it waited for, what it saw last and how long it waited.

    status = wait_until(lambda: (s := jobs.status(job_id, runs=env_runs())).finished and s, 120, "the job to end")

Browser tests do not use this: Playwright's ``expect(locator)...`` assertions retry the same way.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = ["APP_TIMEOUT", "WaitTimeout", "took_sigterm", "wait_until"]

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A condition a test waited for did not come true in time."""


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    what: str,
    *,
    interval: float = 0.05,
    ignore: tuple[type[BaseException], ...] = (),
    details: Callable[[], object] | None = None,
) -> T:
    """Call ``predicate`` until it returns a truthy value, and return that value.

    ``ignore``: exceptions that mean "not yet" (a status file being replaced, a server not yet
    listening); any other exception, an ``AssertionError`` from the predicate included, ends the
    wait at once (a process that died need not be waited for). ``details``: called on timeout, its
    value is added to the message (a job's log, a process's output).
    """
    started = time.monotonic()
    deadline = started + timeout
    last: object = None
    while True:
        try:
            found = predicate()
        except ignore as exc:
            last = exc
        else:
            if found:
                return found
            last = found
        if time.monotonic() >= deadline:
            message = f"timed out after {time.monotonic() - started:.1f} s waiting for {what}"
            message += f"; last saw {last!r}"
            if details is not None:
                message += f"\n{details()}"
            raise WaitTimeout(message)
        time.sleep(interval)


def took_sigterm(pid: int) -> bool:
    """True once job process ``pid`` has taken a cancel's SIGTERM (or is gone): the job's runner
    then ignores further SIGTERMs while it unwinds (``core.jobs.runner``), which shows in
    ``/proc/PID/status``. A test that holds the fake Binance's answers releases them at this
    point, so the cancelled job can save what it has and stop as it would on a live network."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    ignored = next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:"))
    return bool(int(ignored, 16) >> (signal.SIGTERM - 1) & 1)


#: Seconds one AppTest ``run()`` may take (``AppTest.from_file(..., default_timeout=...)``). The
#: default 3 s is a quiet laptop's figure; a page that reads every model, on a shared 2-core
#: machine under load, has needed far more. A run that ends sooner is not slowed by it.
APP_TIMEOUT = 180
