"""The JSON a script reads, built in one place for the CLI's ``--json`` and the HTTP API.

Each function returns plain JSON-ready data; :func:`dumps` renders it the one way both print it,
so ``python -m core signals --json`` and ``GET /api/v1/signals`` give the same bytes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.config import Paths
    from core.registry.model_registry import ModelRegistry

__all__ = ["card", "dumps", "health", "models", "signals"]


def dumps(payload: Any) -> str:
    """``payload`` as the CLI prints it: indented, timestamps and other objects as text."""
    return json.dumps(payload, indent=2, default=str)


def signals(result: Any, *, paths: Paths) -> list[dict[str, Any]]:
    """One object per signal of a :class:`core.usecases.LiveSignals`: the signal's fields,
    ``conflict`` (the sentence of the coin's held-back candles, ``None`` when there are none),
    ``verdict`` (the coin's one line in plain words, :mod:`core.verdict`) and ``market``
    (24 h / 7 d change, volatility against its one-year median, from the candles of the home
    ``paths`` describes)."""
    from core.verdict import verdicts

    held = {k: c.sentence() for k, c in result.conflicts.items()}
    said = verdicts(result.signals, result.records, paths=paths)
    return [
        {
            **s.to_dict(),
            "conflict": held.get(s.symbol),
            "verdict": v.line,
            "market": None if v.context is None else v.context.to_dict(),
        }
        for s, v in zip(result.signals, said, strict=True)
    ]


def models(registry: ModelRegistry) -> list[dict[str, Any]]:
    """Every version in ``registry``: its metadata, ``champion``, ``gates_passed`` and the
    ``verdict`` in words; a version whose metadata cannot be read keeps only its name and its
    ``error``."""
    from core.words import verdict_words

    rows: list[dict[str, Any]] = []
    for record in registry.records():
        if record.error:
            rows.append(
                {
                    "name": record.name,
                    "version": record.version,
                    "model_type": record.model_type,
                    "symbol": record.symbol,
                    "error": record.error,
                    "promoted": record.promoted,
                }
            )
            continue
        row = {**record.to_dict(), "champion": record.promoted}
        row["gates_passed"] = record.gates_passed
        row["verdict"] = verdict_words(record)
        rows.append(row)
    return rows


def card(registry: ModelRegistry, name: str, version: str | None = None) -> dict[str, Any]:
    """One version's metadata and card (the champion by default), with ``promoted``,
    ``gates_passed`` and ``verdict``.

    Raises:
        ModelNotFoundError: no such model or version.
    """
    from core.words import verdict_words

    record = registry.record(name, version)
    payload = {**record.to_dict(), "promoted": record.promoted}
    payload["gates_passed"] = record.gates_passed
    payload["verdict"] = verdict_words(record)
    return dict(payload)


def health(*, now: datetime | None = None) -> dict[str, Any]:
    """The server is up: ``status`` ``"ok"``, the package ``version``, the API's ``api`` version
    and the server's clock (``time``, UTC)."""
    from core import version

    return {
        "status": "ok",
        "version": version(),
        "api": "v1",
        "time": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
    }
