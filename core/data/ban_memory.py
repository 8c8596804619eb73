"""Binance's refusals remembered across processes: a ban (HTTP 418) or a pause (HTTP 429's
``Retry-After``) that one process received holds for every process of this home folder.

Binance counts per IP, not per process: a fetch that was banned, then run again at once (by the
user, a cron job, ``watch``), would knock during the ban and have it lengthened (bans escalate
from 2 minutes to 3 days). So :class:`core.data.binance.BinanceClient` records each refusal here
(``{home}/data/binance-refusals.json``, keyed by the server's address, written atomically under a
file lock) and reads it before it sends anything: during a ban it sends nothing and says until
when; during a pause it waits like after its own 429. A refusal expires by itself at its end:
nothing needs to be cleared, and an expired entry is dropped at the next write.

A file that cannot be read is ignored with a warning (a fetch is not stopped by its own notes);
one that cannot be written is logged, and the refusal still holds in the process that got it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.atomic import atomic_write_json
from core.locks import file_lock

__all__ = ["BAN", "PAUSE", "Refusal", "recall", "refusals_path", "remember"]

log = logging.getLogger(__name__)

BAN = "ban"  # HTTP 418: the IP is banned until ``until``
PAUSE = "pause"  # HTTP 429: no request before ``until`` (Retry-After)


@dataclass(frozen=True)
class Refusal:
    """A refusal in force for ``server``: ``kind`` (:data:`BAN` or :data:`PAUSE`) until
    ``until`` (seconds since the epoch, UTC), received at ``since``."""

    server: str
    kind: str
    until: float
    since: float


def refusals_path(data: Path) -> Path:
    """``{data}/binance-refusals.json`` (``data``: the home's ``context.paths.data``)."""
    return data / "binance-refusals.json"


def _server(base_url: str) -> str:
    """The server a refusal belongs to: scheme, host and port (``https://api.binance.com``)."""
    parts = urlsplit(base_url.strip())
    return f"{parts.scheme.lower()}://{(parts.netloc or parts.path).lower()}".rstrip("/")


def _read(path: Path) -> dict[str, dict[str, dict[str, float]]]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring %s: it cannot be read (%s)", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def _entry(value: object) -> tuple[float, float] | None:
    if not isinstance(value, dict):
        return None
    until, since = value.get("until"), value.get("since", 0.0)
    if isinstance(until, int | float) and isinstance(since, int | float):
        return float(until), float(since)
    return None


def remember(base_url: str, kind: str, until: float, *, now: float, refusals: Path) -> None:
    """Record in the file ``refusals`` (:func:`refusals_path`) that ``base_url``'s server refused
    us (``kind``) until ``until`` (epoch seconds).
    A later end already recorded is kept; expired entries are dropped. Never raises for the disk:
    a write that fails is logged."""
    path = refusals
    server = _server(base_url)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(path.with_name(f".{path.name}.lock")):
            data = _read(path)
            kept: dict[str, dict[str, dict[str, float]]] = {}
            for name, kinds in data.items():
                if not isinstance(kinds, dict):
                    continue
                live = {
                    k: {"until": e[0], "since": e[1]}
                    for k, v in kinds.items()
                    if k in (BAN, PAUSE) and (e := _entry(v)) is not None and e[0] > now
                }
                if live:
                    kept[name] = live
            mine = kept.setdefault(server, {})
            old = _entry(mine.get(kind))
            if old is None or old[0] < until:
                mine[kind] = {"until": until, "since": now}
            atomic_write_json(path, kept)
    except OSError as exc:
        log.warning("could not record Binance's %s until %s in %s: %s", kind, until, path, exc)


def recall(base_url: str, *, now: float, refusals: Path) -> Refusal | None:
    """The refusal of ``base_url``'s server in force at ``now``, as the file ``refusals`` says: a ban before a pause, the
    later end first; None when there is none (or it has expired)."""
    server = _server(base_url)
    kinds = _read(refusals).get(server)
    if not isinstance(kinds, dict):
        return None
    for kind in (BAN, PAUSE):
        entry = _entry(kinds.get(kind))
        if entry is not None and entry[0] > now:
            return Refusal(server, kind, entry[0], entry[1])
    return None
