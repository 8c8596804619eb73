"""Atomic file writes: a temp file in the same folder, fsync, then ``os.replace``.

The file system is the interface between the Streamlit server, training subprocesses and CLI runs;
writing this way means no reader ever sees half a file and a process killed at any point leaves
either the old file or the new one, never a mix. A write the disk refuses (full, read-only, a
folder where the file should be) raises :class:`core.errors.StorageError` naming the file, and
leaves the old file as it was.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import storage_error

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_json", "atomic_write_text"]


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` to fill a temp file next to ``path``, then move it into place.

    The temp file is removed if ``write`` raises; ``path`` is then untouched.

    Raises:
        StorageError: the disk is full or read-only, or ``path`` is a folder.
    """
    path = Path(path)
    try:
        _replace(path, write)
    except OSError as exc:
        error = storage_error(exc, path)
        if error is None:
            raise
        raise error from exc


def _replace(path: Path, write: Callable[[Path], None]) -> None:
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    atomic_write(path, write)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON (datetimes and paths via ``str``)."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
