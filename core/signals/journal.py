"""The signal journal: every signal shown is recorded, and later judged against the real close.

Two append-only JSON-lines files under ``{home}/journal/``:

* ``signals.jsonl``: one line per shown signal (time recorded, coin, interval, signal, its
  reason, confidence with its interval and support, the base rate, price, candle time, horizon,
  model versions, each member's output and vote (``votes``), where it was shown). The same coin +
  interval + candle time + model versions is recorded once, whoever shows it.
* ``outcomes.jsonl``: one line per resolved signal: the close ``horizon`` candles after the
  signal's candle, the move, and hit or miss (the rule of :mod:`core.signals.ensemble`: BULLISH is
  a hit when that close is above the signal's price, BEARISH when below, NEUTRAL when it moved
  less than the neutral band).

NO EDGE signals are recorded too (what the product showed is on file) but they make no call, so
they are never judged: their status is "no edge" and hit rates leave them out. Lines written
before ``votes`` existed (with ``xgb_probability`` / ``lstm_forecast``) still read: those two
numbers come back as the ``output`` of an ``xgboost`` / ``lstm`` vote.

Lines are only ever appended, under an exclusive ``flock`` so two processes (the app and a cron
CLI run) cannot interleave or duplicate; a reader skips a half-written last line, so a process
killed mid-write loses at most that one line and never corrupts the rest. A damaged line (not
JSON, not an object, bad UTF-8, an object missing a field or with one of the wrong type) is
skipped by every reader with one logged warning naming the file and the line; the rest reads. Each line is written
once and sealed on a sha256 chain (``seq``, ``prev``, ``hash``; :mod:`core.signals.journal_chain`),
so :func:`verify` (``python -m core journal verify``) finds an edited or a deleted line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core.config import Interval, Paths
from core.locks import file_lock
from core.signals import journal_chain
from core.signals.journal_lines import (
    outcome_problem,
    read_lines,
    signal_problem,
    skipped_lines,
)

__all__ = [
    "COLUMNS",
    "damaged",
    "entries",
    "entry_id",
    "expected_moves",
    "hit_rates",
    "journal_dir",
    "record",
    "resolve",
    "resolve_stored",
    "verify",
]

#: Status of a NO EDGE entry: nothing was called, so nothing is judged.
NO_EDGE = "no edge"
_NO_CALL = "NO_EDGE"

COLUMNS = (
    "id",
    "recorded_at",
    "source",
    "symbol",
    "interval",
    "signal",
    "reason",
    "confidence",
    "confidence_low",
    "confidence_high",
    "support",
    "base_rate",
    "price",
    "candle_time",
    "horizon",
    "neutral_band",
    "due_time",
    "models",
    "votes",
    "status",
    "exit_time",
    "exit_close",
    "move",
    "resolved_at",
)


def journal_dir(home: Path) -> Path:
    """``{home}/journal``."""
    return Path(home) / "journal"


def _signals_path(home: Path) -> Path:
    return journal_dir(home) / "signals.jsonl"


def _outcomes_path(home: Path) -> Path:
    return journal_dir(home) / "outcomes.jsonl"


def entry_id(symbol: str, interval: str, candle_time: Any, models: Mapping[str, str]) -> str:
    """A stable id for (coin, interval, candle time, model versions)."""
    stamp = pd.Timestamp(candle_time).tz_convert("UTC").isoformat()
    versions = ",".join(f"{k}={v}" for k, v in sorted(models.items()))
    return hashlib.sha256(f"{symbol}|{interval}|{stamp}|{versions}".encode()).hexdigest()[:16]


@contextmanager
def _locked(home: Path) -> Iterator[None]:
    with file_lock(journal_dir(home) / ".lock"):
        yield


def _signal_rows(home: Path) -> list[dict[str, Any]]:
    return read_lines(_signals_path(home), signal_problem)


def _outcome_rows(home: Path) -> list[dict[str, Any]]:
    return read_lines(_outcomes_path(home), outcome_problem)


def damaged(home: Path) -> list[str]:
    """One sentence per damaged line of the journal, which every reader skips (for a page to show;
    ``python -m core journal verify`` checks everything)."""
    return skipped_lines(_signals_path(home), signal_problem) + skipped_lines(
        _outcomes_path(home), outcome_problem
    )


def _append(path: Path, rows: list[dict[str, Any]]) -> None:
    journal_chain.append(path, rows)


def verify(home: Path) -> list[journal_chain.ChainReport]:
    """Check both journal files against their hash chains (:mod:`core.signals.journal_chain`):
    one report per file, whose ``problems`` name every edited, deleted or inserted line."""
    with _locked(home):
        return [
            journal_chain.verify_file(_signals_path(home), signal_problem),
            journal_chain.verify_file(_outcomes_path(home), outcome_problem),
        ]


def record(
    home: Path, signals: Iterable[Any], *, source: str = "app", now: datetime | None = None
) -> int:
    """Record shown signals (:class:`core.signals.live.Signal`, NO EDGE included); returns how
    many were new."""
    recorded_at = pd.Timestamp(now or datetime.now(UTC)).isoformat()
    with _locked(home):
        known = {row.get("id") for row in _signal_rows(home)}
        rows = []
        for sig in signals:
            key = entry_id(sig.symbol, sig.timeframe, sig.candle_time, sig.models)
            if key in known:
                continue
            known.add(key)
            step = pd.Timedelta(milliseconds=Interval.parse(sig.timeframe).milliseconds)
            low, high = sig.interval
            rows.append(
                {
                    "id": key,
                    "recorded_at": recorded_at,
                    "source": source,
                    "symbol": sig.symbol,
                    "interval": sig.timeframe,
                    "signal": str(sig.signal),
                    "reason": sig.reason,
                    "confidence": sig.confidence,
                    "confidence_low": low,
                    "confidence_high": high,
                    "support": sig.support,
                    "base_rate": sig.base_rate,
                    "price": sig.price,
                    "candle_time": sig.candle_time.isoformat(),
                    "horizon": sig.horizon,
                    "neutral_band": sig.neutral_band,
                    "due_time": (sig.candle_time + sig.horizon * step).isoformat(),
                    "models": dict(sig.models),
                    "votes": [_vote_row(v) for v in sig.votes],
                    "expected_move": getattr(sig, "expected_move", None),
                    "vol_regime": getattr(sig, "vol_regime", None),
                    "position_size": getattr(sig, "position_size", None),
                    "vol_model": getattr(sig, "vol_model", None),
                }
            )
        _append(_signals_path(home), rows)
    return len(rows)


def _vote_row(vote: Any) -> dict[str, Any]:
    return {
        "kind": vote.kind,
        "name": vote.name,
        "version": vote.version,
        "output": vote.output,
        "edge": vote.edge,
        "vote": None if vote.vote is None else str(vote.vote),
        "gates_passed": vote.passed,
    }


def _old_votes(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``votes`` of a line written before they existed, from its two per-kind numbers."""
    models = row.get("models") or {}
    out = []
    for column, kind in (("xgb_probability", "xgboost"), ("lstm_forecast", "lstm")):
        name = next((n for n in models if n.startswith(f"{kind}_")), None)
        if row.get(column) is not None or name:
            version = models.get(name) if name else None
            out.append({"kind": kind, "name": name, "version": version, "output": row.get(column)})
    return out


def entries(home: Path, *, symbol: str | None = None) -> pd.DataFrame:
    """Every recorded signal with its outcome: ``status`` is "pending", "hit" or "miss"."""
    outcomes: dict[str, dict[str, Any]] = {}
    for row in _outcome_rows(home):
        outcomes.setdefault(row["id"], row)
    seen: set[str] = set()
    rows = []
    for row in _signal_rows(home):
        if row.get("id") in seen or (symbol and row.get("symbol") != symbol):
            continue
        seen.add(row["id"])
        out = outcomes.get(row["id"], {})
        status = NO_EDGE if row.get("signal") == _NO_CALL else out.get("status", "pending")
        votes = row["votes"] if "votes" in row else _old_votes(row)
        rows.append({**row, "votes": votes, "status": status, **_outcome_fields(out)})
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for column in ("recorded_at", "candle_time", "due_time", "exit_time", "resolved_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


def expected_moves(home: Path, *, symbol: str | None = None) -> list[dict[str, Any]]:
    """The recorded signals that showed an expected move (``expected_move`` not empty), each once,
    in file order: the monitor judges their bands and volatility forecasts."""
    seen: set[str] = set()
    out = []
    for row in _signal_rows(home):
        if row.get("id") in seen or (symbol and row.get("symbol") != symbol):
            continue
        seen.add(row["id"])
        if isinstance(row.get("expected_move"), dict) and row["expected_move"]:
            out.append(row)
    return out


def _outcome_fields(out: Mapping[str, Any]) -> dict[str, Any]:
    return {k: out.get(k) for k in ("exit_time", "exit_close", "move", "resolved_at")}


def _judge(signal: str, move: float, band: float) -> bool:
    if signal == "BULLISH":
        return move > 0
    if signal == "BEARISH":
        return move < 0
    return abs(move) < band


def resolve(
    home: Path, candles_by_symbol: Mapping[str, pd.DataFrame], *, now: datetime | None = None
) -> int:
    """Judge every pending signal whose horizon has passed in the given candles.

    ``candles_by_symbol`` maps a symbol to its closed candles (store schema) in the signal's
    interval. The exit is the candle opening ``horizon`` candles after the signal's candle (the
    next stored one if that candle is missing from a gap). A signal whose exit candle is not in
    the candles yet stays pending; a NO EDGE signal is never judged. Returns how many were
    resolved now.
    """
    return _resolve(home, lambda symbol, interval: candles_by_symbol.get(symbol), now=now)


def resolve_stored(
    home: Path,
    *,
    candles: Mapping[tuple[str, str], pd.DataFrame] | None = None,
    now: datetime | None = None,
) -> int:
    """:func:`resolve` against the candles in the store (each signal's own interval).

    ``candles`` maps ``(symbol, interval)`` to closed candles already in hand (a caller's
    cache); the store is read only for the others.
    """
    from core.data.store import load_candles
    from core.errors import DataError

    cache: dict[tuple[str, str], pd.DataFrame | None] = dict(candles or {})

    def lookup(symbol: str, interval: str) -> pd.DataFrame | None:
        if (symbol, interval) not in cache:
            try:
                cache[(symbol, interval)] = load_candles(symbol, interval, paths=Paths(home))
            except DataError:
                cache[(symbol, interval)] = None
        return cache[(symbol, interval)]

    return _resolve(home, lookup, now=now)


def _resolve(
    home: Path, lookup: Callable[[str, str], pd.DataFrame | None], *, now: datetime | None
) -> int:
    resolved_at = pd.Timestamp(now or datetime.now(UTC)).isoformat()
    with _locked(home):
        done = {row["id"] for row in _outcome_rows(home)}
        new = []
        seen: set[str] = set()
        for row in _signal_rows(home):
            if row["id"] in done or row["id"] in seen or row.get("signal") == _NO_CALL:
                continue
            seen.add(row["id"])
            candles = lookup(row["symbol"], row.get("interval", "1h"))
            if candles is None or candles.empty:
                continue
            due = pd.Timestamp(row["due_time"])
            later = candles.loc[candles["open_time"] >= due]
            if later.empty:
                continue
            exit_row = later.iloc[0]
            move = float(exit_row["close"]) / float(row["price"]) - 1.0
            hit = _judge(row["signal"], move, float(row.get("neutral_band") or 0.01))
            new.append(
                {
                    "id": row["id"],
                    "status": "hit" if hit else "miss",
                    "exit_time": pd.Timestamp(exit_row["open_time"]).isoformat(),
                    "exit_close": float(exit_row["close"]),
                    "move": move,
                    "resolved_at": resolved_at,
                }
            )
        _append(_outcomes_path(home), new)
    return len(new)


def hit_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Per coin: ``symbol, signals, no_edge, pending, resolved, hits, live_hit_rate,
    expected_hit_rate, base_rate``.

    ``signals`` counts calls (BULLISH / BEARISH / NEUTRAL); NO EDGE entries are counted apart in
    ``no_edge`` and never in a rate. ``expected_hit_rate`` is the mean confidence the resolved
    calls were shown with and ``base_rate`` the mean base rate beside it, so the rates compare
    like with like; all three are NaN until something is resolved. ``frame``: :func:`entries`.
    """
    columns = [
        "symbol",
        "signals",
        "no_edge",
        "pending",
        "resolved",
        "hits",
        "live_hit_rate",
        "expected_hit_rate",
        "base_rate",
    ]
    rows = []
    for symbol, group in frame.groupby("symbol", sort=True):
        calls = group[group["status"] != NO_EDGE]
        done = calls[calls["status"] != "pending"]
        hits = int((done["status"] == "hit").sum())
        confidence = pd.to_numeric(done["confidence"], errors="coerce").dropna()
        base = pd.to_numeric(done["base_rate"], errors="coerce").dropna()
        rows.append(
            {
                "symbol": symbol,
                "signals": len(calls),
                "no_edge": len(group) - len(calls),
                "pending": int((calls["status"] == "pending").sum()),
                "resolved": len(done),
                "hits": hits,
                "live_hit_rate": hits / len(done) if len(done) else float("nan"),
                "expected_hit_rate": float(confidence.mean()) if len(confidence) else float("nan"),
                "base_rate": float(base.mean()) if len(base) else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=columns)
