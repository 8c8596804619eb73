"""The fetch's log: ``{home}/logs/dataset_fetch.log``, opened for whichever home is current."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from core import config

__all__ = ["fetch_log", "log_path"]

_logger = logging.getLogger("cryptovolt.fetch")
_log_lock = threading.Lock()


def log_path() -> Path:
    """``{home}/logs/dataset_fetch.log``."""
    return config.logs_dir() / "dataset_fetch.log"


def fetch_log() -> logging.Logger:
    """The fetch logger with a file handler for the current home folder (created on demand)."""
    path = log_path()
    with _log_lock:
        current = [h for h in _logger.handlers if isinstance(h, logging.FileHandler)]
        if not any(Path(h.baseFilename) == path for h in current):
            for handler in current:
                _logger.removeHandler(handler)
                handler.close()
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(path, encoding="utf-8")
            handler.setFormatter(
                logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(message)s")
            )
            _logger.addHandler(handler)
            _logger.setLevel(logging.INFO)
    return _logger
