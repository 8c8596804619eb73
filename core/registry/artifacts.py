"""The files of a model's registry folder: version folders, state and lock, checksums, durable
writes, verification, leftovers of killed saves.

Used by :mod:`core.registry.model_registry`. Verification reads every artifact's bytes once and returns exactly
those verified bytes, so a caller can hand them to a loader without reading the files again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from core.atomic import atomic_write_json
from core.errors import IntegrityError
from core.locks import file_lock
from core.procs import pid_alive

__all__ = [
    "METADATA_FILE",
    "STATE_FILE",
    "VERSION",
    "TMP_PREFIX",
    "TRASH_PREFIX",
    "clean_stale",
    "files_under",
    "fsync_tree",
    "json_default",
    "locked",
    "read_state",
    "read_verified",
    "sha256_file",
    "version_numbers",
    "write_state",
]

METADATA_FILE = "metadata.json"
TMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".deleted-"
STATE_FILE = "state.json"
LOCK_FILE = ".lock"
VERSION = re.compile(r"^v([1-9][0-9]*)$")
#: A temp folder whose writer is gone, or this old, is a leftover of a killed save.
STALE_SECONDS = 6 * 3600


def json_default(value: Any) -> Any:
    """numpy scalars/arrays and timestamps in metadata become plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def files_under(folder: Path) -> list[str]:
    """Every regular file below ``folder`` as a relative POSIX path, sorted."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def fsync_tree(folder: Path) -> None:
    for path in [*folder.rglob("*"), folder]:
        flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
        fd = os.open(path, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_verified(
    folder: Path,
    expected: Mapping[str, str],
    *,
    what: str,
    fix: str,
    only: Sequence[str] | None = None,
) -> dict[str, bytes]:
    """Read the artifacts in ``folder`` and check each against its sha256 in ``expected``.

    ``only`` limits the check to some files; otherwise every expected file is read and a file
    that is not expected (say, a dropped-in pickle) is refused too. ``what`` names the version in
    messages, ``fix`` says what to do. Returns ``{file: verified bytes}``.

    Raises:
        IntegrityError: a file changed, is missing, or is not one of the saved artifacts.
    """
    if only is None:
        extra = sorted(set(files_under(folder)) - set(expected) - {METADATA_FILE})
        if extra:
            raise IntegrityError(
                f"{what}: {extra[0]} is not one of the saved artifacts, so the folder {folder} "
                f"was changed after saving; nothing was loaded. {fix}"
            )
    out: dict[str, bytes] = {}
    for rel in only if only is not None else sorted(expected):
        try:
            data = (folder / rel).read_bytes()
        except FileNotFoundError:
            raise IntegrityError(
                f"{what}: artifact {rel} is missing from {folder}; nothing was loaded. {fix}"
            ) from None
        if hashlib.sha256(data).hexdigest() != expected.get(rel):
            raise IntegrityError(
                f"{what}: artifact {rel} was changed after saving (its sha256 no longer matches "
                f"{METADATA_FILE}); nothing was loaded. {fix}"
            )
        out[rel] = data
    return out


def clean_stale(folder: Path) -> None:
    """Remove temp folders of saves whose process is gone, and leftover deleted versions."""
    now = time.time()
    for path in folder.iterdir():
        if path.name.startswith(TRASH_PREFIX):
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(TMP_PREFIX) and path.is_dir():
            pid_text = path.name[len(TMP_PREFIX) :].split("-", 1)[0]
            pid = int(pid_text) if pid_text.isdigit() else 0
            try:
                old = now - path.stat().st_mtime > STALE_SECONDS
            except FileNotFoundError:
                continue
            if pid != os.getpid() and (not pid or not pid_alive(pid) or old):
                shutil.rmtree(path, ignore_errors=True)


def version_numbers(folder: Path) -> list[int]:
    """The version numbers present in a model folder (``v1``, ``v3`` → ``[1, 3]``), sorted."""
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = (VERSION.match(p.name) for p in entries)
    return sorted(int(m.group(1)) for m in found if m and (folder / m.group(0)).is_dir())


def read_state(folder: Path) -> dict[str, Any]:
    """``{"promoted": "vN" | None, "last_version": N}``; ``last_version`` never goes below the
    highest version folder present, so a lost or stale state file cannot make a number reused."""
    try:
        state = json.loads((folder / STATE_FILE).read_text())
    except (OSError, ValueError):
        state = {}
    promoted = state.get("promoted") if isinstance(state, dict) else None
    last = state.get("last_version") if isinstance(state, dict) else None
    last_version = max([int(last) if isinstance(last, int) else 0, *version_numbers(folder), 0])
    return {"promoted": promoted, "last_version": last_version}


def write_state(folder: Path, *, promoted: str | None, last_version: int) -> None:
    atomic_write_json(folder / STATE_FILE, {"promoted": promoted, "last_version": last_version})


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Serialise version numbering and state changes across processes (the OS frees the lock)."""
    with file_lock(folder / LOCK_FILE):
        yield
