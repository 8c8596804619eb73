"""The fetch's log: ``{home}/logs/dataset_fetch.log``, opened for the logs folder it is given
(the edge's ``context.paths.logs``)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

__all__ = ["fetch_log", "log_path"]

_logger = logging.getLogger("cryptovolt.fetch")
_log_lock = threading.Lock()


def log_path(logs: Path) -> Path:
    """``{logs}/dataset_fetch.log`` (``logs``: a home's ``paths.logs``)."""
    return logs / "dataset_fetch.log"


def fetch_log(logs: Path) -> logging.Logger:
    """The fetch logger with a file handler for ``logs`` (a home's ``paths.logs``; created on
    demand, and moved there when the last call named another home's)."""
    path = log_path(logs)
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
