"""One file lock for every part of CryptoVolt that must exclude another process.

A lock is a file next to what it guards (``runs/.launch.lock``, ``runs/.slots/{n}.lock``,
``tuning/{study}.lock``, a coin's ``.{candles}.lock``, a model folder's lock, the journal's
``.lock``, ``live/watch.lock``). :func:`file_lock` holds it through the ``filelock`` library:
``flock`` on Linux and macOS (the same lock a process of an older CryptoVolt takes on the same
file, so the two still exclude each other), ``msvcrt`` on Windows. The OS frees it when the
holding process dies, so a killed process never blocks the next one. The file stays in place.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

__all__ = ["HeldLock", "LockBusy", "acquire_lock", "file_lock"]


class LockBusy(Exception):
    """Another process (or another holder in this one) holds the lock."""


class HeldLock:
    """A lock taken by :func:`acquire_lock`; :meth:`release` gives it back (once)."""

    def __init__(self, lock: FileLock) -> None:
        self._lock: FileLock | None = lock

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def acquire_lock(path: Path, *, blocking: bool = True, timeout: float | None = None) -> HeldLock:
    """Take the exclusive lock on ``path`` (its folder is created) until ``release()``.

    ``blocking=False`` tries once; ``timeout`` waits at most that many seconds; else it waits
    until the lock is free. Two holders exclude each other whether they are two processes, two
    threads or two takers in one thread.

    Raises:
        LockBusy: the lock was not free (not blocking, or after ``timeout``).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    wait = 0.0 if not blocking else (-1.0 if timeout is None else max(0.0, timeout))
    lock = FileLock(path, timeout=wait, fallback_to_soft=False, preserve_lock_file=True)
    try:
        lock.acquire()
    except Timeout:
        raise LockBusy(f"{path} is locked by another process") from None
    return HeldLock(lock)


@contextlib.contextmanager
def file_lock(path: Path, *, blocking: bool = True, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock on ``path`` for the block (see :func:`acquire_lock`).

    Raises:
        LockBusy: the lock was not free (not blocking, or after ``timeout``).
    """
    held = acquire_lock(path, blocking=blocking, timeout=timeout)
    try:
        yield
    finally:
        held.release()
