"""The one exception hierarchy of CryptoVolt.

Every error a user can cause or meet derives from :class:`CryptoVoltError`; its message says what
was wrong and what to do. Pages show ``str(err)``, the CLI prints it on one line and exits non-zero.
Callers catch the base class at the edge (page, CLI command, job process).

    CryptoVoltError
    ├── ConfigError                 impossible settings, caught before any work starts
    ├── SymbolError                 a coin symbol that cannot be used
    │   ├── InvalidSymbolError      not letters and digits, or not a known pair shape
    │   └── StablecoinError         a stablecoin asked for training (no volatility to learn)
    ├── DataError                   candles on disk
    │   ├── NoDataError             nothing stored yet for this coin: fetch it first
    │   ├── CorruptDataError        a file that cannot be read; it was moved aside
    │   └── InsufficientDataError   too few candles for the chosen window and split
    ├── StorageError                a file cannot be written: disk full, read-only, not a folder
    ├── BinanceError                talking to Binance
    │   ├── UnknownSymbolError      400 / -1121: the exchange does not list the pair
    │   ├── LocationBlockedError    451: api.binance.com refuses the user's location
    │   ├── BannedError             418: the IP is banned for a while
    │   └── BinanceUnavailableError 5xx, timeouts, cut bodies after every retry
    │       └── UnreachableError    connection refused or host name unknown (no retries)
    ├── ModelError                  the model registry
    │   ├── ModelNotFoundError      no such model or version
    │   └── IntegrityError          an artifact whose checksum does not match
    └── JobError                    background training jobs

:class:`StorageError` is an :class:`OSError` too; :func:`storage_error` turns an ``OSError`` the
machine raised (ENOSPC, EROFS, EACCES, ...) into one with words, and returns ``None`` for any other
``OSError``, which is a bug to show in full.
"""

from __future__ import annotations

import errno
from pathlib import Path

__all__ = [
    "BannedError",
    "BinanceError",
    "BinanceUnavailableError",
    "ConfigError",
    "CorruptDataError",
    "CryptoVoltError",
    "DataError",
    "InsufficientDataError",
    "IntegrityError",
    "InvalidSymbolError",
    "JobError",
    "LocationBlockedError",
    "ModelError",
    "ModelNotFoundError",
    "NoDataError",
    "StablecoinError",
    "StorageError",
    "SymbolError",
    "UnknownSymbolError",
    "UnreachableError",
    "storage_error",
]


class CryptoVoltError(Exception):
    """Base class: anything CryptoVolt raises on purpose."""


class ConfigError(CryptoVoltError, ValueError):
    """Settings that cannot work (e.g. a test split of 1.5, a window longer than the data)."""


class SymbolError(CryptoVoltError, ValueError):
    """A coin symbol that cannot be used."""


class InvalidSymbolError(SymbolError):
    """A symbol with characters other than letters and digits, or of an unknown shape."""


class StablecoinError(SymbolError):
    """A stablecoin asked for training: its price barely moves, there is nothing to learn."""


class DataError(CryptoVoltError):
    """Candles on disk are missing, broken or too few."""


class NoDataError(DataError):
    """Nothing stored yet for a coin and interval."""


class CorruptDataError(DataError):
    """A candle file that cannot be read; it has been moved aside so it can be fetched again."""


class InsufficientDataError(DataError):
    """Too few candles for the chosen window and split."""


class StorageError(CryptoVoltError, OSError):
    """A file cannot be written: the disk is full, the folder is read-only or not a folder."""

    def __str__(self) -> str:  # the words alone, without OSError's "[Errno 28] ...: path"
        return str(self.strerror or (self.args[0] if self.args else ""))


_FULL = {errno.ENOSPC, errno.EDQUOT}
_DENIED = {errno.EACCES, errno.EPERM}


def storage_error(exc: OSError, path: Path | str | None = None) -> StorageError | None:
    """``exc`` in words with what to do, for the errors of the disk a user can fix; ``None`` for
    any other ``OSError`` (a bug, shown in full). ``path`` is the file meant (default: the
    error's own ``filename``)."""
    if isinstance(exc, StorageError):
        return exc
    where = str(path if path is not None else exc.filename or "a file")
    code = exc.errno
    if code in _FULL:
        words = (
            f"the disk is full: {where} could not be written. Free some space (or set "
            "CRYPTOVOLT_HOME to a folder on a disk with room) and run the command again; files "
            "written before are unchanged."
        )
    elif code == errno.EROFS:
        words = (
            f"{where} is on a read-only file system: set CRYPTOVOLT_HOME to a folder you can "
            "write, or make this one writable."
        )
    elif code in _DENIED:
        words = (
            f"no permission to write {where}: set CRYPTOVOLT_HOME to a folder you can write, or "
            "fix its permissions."
        )
    elif code == errno.ENOTDIR:
        words = (
            f"{where}: part of this path is a file, not a folder. Move that file away or choose "
            "another folder (CRYPTOVOLT_HOME, --out)."
        )
    elif code == errno.EISDIR:
        words = f"{where} is a folder: name a file to write instead."
    else:
        return None
    error = StorageError(code, words)
    error.filename = exc.filename
    return error


class BinanceError(CryptoVoltError):
    """Talking to Binance failed."""


class UnknownSymbolError(BinanceError):
    """Binance answered 400 with code -1121: it does not list this pair."""


class LocationBlockedError(BinanceError):
    """Binance answered 451: api.binance.com refuses requests from the user's location."""


class BannedError(BinanceError):
    """Binance answered 418: the IP is banned for a while after ignoring 429s."""


class BinanceUnavailableError(BinanceError):
    """Server errors, timeouts or cut bodies persisted after every retry."""


class UnreachableError(BinanceUnavailableError):
    """The host refused the connection or its name does not resolve: offline or a wrong URL."""


class ModelError(CryptoVoltError):
    """The model registry."""


class ModelNotFoundError(ModelError, KeyError):
    """No model or version of that name."""

    def __str__(self) -> str:  # KeyError quotes its message; we want the words as they are
        return str(self.args[0]) if self.args else ""


class IntegrityError(ModelError):
    """An artifact whose checksum does not match its metadata; it is never loaded."""


class JobError(CryptoVoltError):
    """A background job cannot be started, found or cancelled."""
