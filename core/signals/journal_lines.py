"""What a line of the signal journal must hold, and reading a journal file line by line.

A line is an entry when it is a JSON object with the fields readers need, of the right types
(:func:`signal_problem` for ``signals.jsonl``, :func:`outcome_problem` for ``outcomes.jsonl``).
:func:`read_lines` returns the entries of a file; a half-written last line and a torn line
(:func:`core.signals.journal_chain.torn`) are skipped quietly, any other line is damage: skipped
with one logged warning per process naming the file and the line, so the pages, the monitor and
``watch`` carry on and ``python -m core journal verify`` says where it is.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from core.config import Interval
from core.signals import journal_chain

__all__ = ["outcome_problem", "read_lines", "signal_problem", "skipped_lines"]

log = logging.getLogger("core.signals.journal")  # the journal's own warnings

_SIGNAL_FIELDS = ("id", "symbol", "signal", "price", "candle_time", "due_time")
_SIGNAL_NUMBERS = (
    "confidence",
    "confidence_low",
    "confidence_high",
    "support",
    "base_rate",
    "horizon",
    "neutral_band",
)
_OUTCOME_FIELDS = ("id", "status", "exit_time", "exit_close", "move", "resolved_at")
#: (file, line number, line) already warned about: one warning per damaged line per process.
_warned: set[tuple[str, int, bytes]] = set()
#: file → ((mtime_ns, size) when last read, its skipped lines in words), for :func:`skipped_lines`.
_skipped: dict[str, tuple[tuple[int, int], list[str]]] = {}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _missing(row: Mapping[str, Any], fields: Iterable[str]) -> str | None:
    gone = [f for f in fields if row.get(f) is None]
    return f"it has no {', '.join(gone)}" if gone else None


def signal_problem(row: Mapping[str, Any]) -> str | None:
    """Why a parsed ``signals.jsonl`` object cannot be read as a signal, or ``None``."""
    if why := _missing(row, _SIGNAL_FIELDS):
        return why
    for name in ("id", "symbol", "signal"):
        if not isinstance(row[name], str) or not row[name]:
            return f"its {name} {row[name]!r} is not text"
    price = row["price"]
    if not _is_number(price) or not math.isfinite(price) or price <= 0:
        return f"its price {price!r} is not a positive number"
    for name in ("candle_time", "due_time", "recorded_at"):
        if name in row and not _is_time(row[name]):
            return f"its {name} {row[name]!r} is not an ISO time"
    for name in _SIGNAL_NUMBERS:
        if row.get(name) is not None and not _is_number(row[name]):
            return f"its {name} {row[name]!r} is not a number"
    if "interval" in row:
        try:
            Interval.parse(str(row["interval"]))
        except ValueError:
            return f"its interval {row['interval']!r} is not a Binance interval"
    if row.get("models") is not None and not isinstance(row["models"], dict):
        return "its models are not an object"
    votes = row.get("votes")
    if votes is not None and not (
        isinstance(votes, list) and all(isinstance(v, dict) for v in votes)
    ):
        return "its votes are not a list of objects"
    return None


def outcome_problem(row: Mapping[str, Any]) -> str | None:
    """Why a parsed ``outcomes.jsonl`` object cannot be read as an outcome, or ``None``."""
    if why := _missing(row, _OUTCOME_FIELDS):
        return why
    if not isinstance(row["id"], str):
        return f"its id {row['id']!r} is not text"
    if row["status"] not in ("hit", "miss"):
        return f"its status {row['status']!r} is neither hit nor miss"
    for name in ("exit_time", "resolved_at"):
        if not _is_time(row[name]):
            return f"its {name} {row[name]!r} is not an ISO time"
    for name in ("exit_close", "move"):
        if not _is_number(row[name]):
            return f"its {name} {row[name]!r} is not a number"
    return None


def read_lines(
    path: Path, check: Callable[[Mapping[str, Any]], str | None]
) -> list[dict[str, Any]]:
    """The entries of one journal file. A half-written last line (a writer at work, or killed) and
    a torn line ended by the next writer are skipped quietly; a damaged line is skipped with one
    warning naming the file and the line (:mod:`core.signals.journal_chain`)."""
    if not path.exists():
        _skipped.pop(str(path), None)
        return []
    stamp = _stamp(path)  # before the read: a line appended meanwhile makes the next call read
    rows = []
    skipped: list[str] = []
    # the part after the last newline is a line still being written, or torn
    for number, line in enumerate(path.read_bytes().split(b"\n")[:-1], start=1):
        try:
            row = json.loads(line)
        except ValueError:
            row = None
        if isinstance(row, dict):
            why = check(row)
            if why is None:
                rows.append(row)
                continue
        elif journal_chain.torn(line):
            continue
        else:
            why = journal_chain.damage(line)
        skipped.append(f"{path.name} line {number} is not a journal entry ({why}).")
        _warn(path, number, line, why)
    _skipped[str(path)] = (stamp, skipped)
    return rows


def skipped_lines(path: Path, check: Callable[[Mapping[str, Any]], str | None]) -> list[str]:
    """One sentence per damaged line of ``path`` that readers skip (a page shows them); read again
    only when the file changed since the last :func:`read_lines`."""
    known = _skipped.get(str(path))
    if known is None or not path.exists() or known[0] != _stamp(path):
        read_lines(path, check)
    return list(_skipped.get(str(path), ((0, 0), []))[1])


def _stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_mtime_ns, info.st_size


def _warn(path: Path, number: int, line: bytes, why: str) -> None:
    key = (str(path), number, line)
    if key in _warned:
        return
    _warned.add(key)
    log.warning(
        "warning: %s line %d is not a journal entry (%s); skipped. "
        "`python -m core journal verify` checks the whole journal.",
        path,
        number,
        why,
    )
