"""Log files of the live stage under ``{home}/logs/``: ``watch.log`` and ``retrain.log``."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

__all__ = ["live_logger"]

_lock = threading.Lock()


def live_logger(name: str, filename: str, *, logs: Path) -> logging.Logger:
    """Logger ``name`` writing to ``{logs}/{filename}`` (``logs``: the home's
    ``context.paths.logs``; re-pointed when another home asks, as in tests)."""
    logger = logging.getLogger(name)
    path = logs / filename
    with _lock:
        current = [h for h in logger.handlers if isinstance(h, logging.FileHandler)]
        if not any(Path(h.baseFilename) == path for h in current):
            for handler in current:
                logger.removeHandler(handler)
                handler.close()
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(path, encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
    return logger
