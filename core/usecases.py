"""What the dashboard and the CLI share: each use case written once, here.

* :func:`live_signals`: top the candles up (when asked), compute every coin's signal, record what
  is shown in the journal and judge the entries that came due. ``python -m core signals`` and the
  Signals page both call it; the page only passes its cached loaders.
* :func:`top_up_candles`: fetch only the candles missing since the last stored one.
* :func:`promote`: champion / challenger by hand: a version whose gates fail, or that does not
  beat a champion whose gates pass, is refused unless forced.
* Words (:mod:`core.words`, re-exported here): :func:`gate_words`, :func:`verdict_words`,
  :func:`vote_words`, :func:`stale_words`, :func:`training_words` say in plain words what a model
  card, a member's vote or a STALE signal means, the same way on the screen and in the terminal.

Nothing here imports Streamlit (or TensorFlow).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from core.clock import SystemClock
from core.config import Interval, Paths, SignalConfig
from core.data.coins import parse_coin
from core.data.quarantine import Conflict, pending
from core.errors import CryptoVoltError, ModelError
from core.models.base import Output
from core.registry.metadata import ModelMetadata
from core.signals import journal
from core.signals.ensemble import SignalKind
from core.signals.live import CoinModels, load_coin_models, signal_from_models
from core.signals.live import symbols_with_models as _symbols_with_models
from core.signals.signal import Signal
from core.words import age_text, verdict_words

if TYPE_CHECKING:
    from core.registry.model_registry import ModelRegistry

__all__ = [
    "LiveSignals",
    "TopUp",
    "live_signals",
    "promote",
    "promotion_problems",
    "top_up_candles",
]

#: ``models(symbol) -> CoinModels``, ``candles(symbol, timeframe) -> frame`` and
#: ``compute(models, candles) -> Signal``: how :func:`live_signals` gets each piece (the UI
#: passes cached ones).
ModelsLoader = Callable[[str], CoinModels]
CandleLoader = Callable[[str, str], pd.DataFrame]
Compute = Callable[[CoinModels, pd.DataFrame], Signal]


# ---- candles -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopUp:
    """What a top-up did: one-line ``notes`` to show, the coins it could not refresh, how many
    new candles it stored, and the coins whose new candles did not fit the stored ones (held in
    quarantine, not stored: ``conflicts``; their sentences are the notes that start with the
    symbol)."""

    notes: tuple[str, ...]
    failed: tuple[str, ...] = ()
    added: int = 0
    conflicts: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed


def _step(timeframe: str) -> pd.Timedelta:
    return pd.Timedelta(milliseconds=Interval.parse(timeframe).milliseconds)


def top_up_candles(
    symbols: Sequence[str],
    *,
    home: Path,
    interval: str = "1h",
    patient: bool = True,
    now: datetime | None = None,
) -> TopUp:
    """Fetch the candles missing since each coin's last stored one (never a fresh two-year
    download, and never a candle before the first stored one); Binance's refusals are
    remembered in ``home`` (the edge's context).

    New candles that do not fit the stored ones (another source: a price jump where they meet)
    are not stored: they are held in quarantine (:mod:`core.data.quarantine`), the coin is listed
    in ``conflicts`` and a note says what was found and how to choose.

    ``patient=False`` (a person waiting on a button) gives up within seconds when Binance is
    unreachable instead of retrying for minutes. Never raises for the exchange: when Binance
    cannot be reached the notes say so and how old the stored candles are.
    """
    from core.data.ban_memory import refusals_path
    from core.data.binance import BinanceClient
    from core.data.fetch import fetch_coins
    from core.data.store import coverage

    now = now or datetime.now(UTC)
    symbols = [parse_coin(s).symbol for s in symbols]
    if not symbols:
        return TopUp(())
    firsts = [coverage(s, interval, paths=Paths(home)).first for s in symbols]
    oldest = min((f for f in firsts if f is not None), default=None)
    days = 2 if oldest is None else max(2, math.ceil((pd.Timestamp(now) - oldest).days + 1))
    notes: list[str] = []
    failed: list[str] = []
    results: list[Any] = []
    try:
        paths = Paths(home)
        refusals = refusals_path(paths.data)
        client = (
            BinanceClient(refusals=refusals, logs=paths.logs)
            if patient
            else BinanceClient(
                timeout=(3.0, 15.0),
                max_retries=2,
                backoff_base=0.25,
                refusals=refusals,
                logs=paths.logs,
            )
        )
        try:
            results = fetch_coins(
                symbols,
                interval=interval,
                days=min(days, 3650),
                client=client,
                now=now,
                head=False,
                paths=paths,
            )
        finally:
            client.close()
    except CryptoVoltError as exc:
        failed = list(symbols)
        notes.append(f"Binance cannot be reached: {exc}")
    conflicts = [r for r in results if str(getattr(r.status, "value", r.status)) == "conflict"]
    conflict_notes = []
    for r in conflicts:
        held = pending(r.symbol, interval, paths=Paths(home))
        conflict_notes.append(held.sentence() if held is not None else f"{r.symbol}: {r.reason}")
    bad = [r for r in results if str(getattr(r.status, "value", r.status)) == "failed"]
    if bad:
        failed = [r.symbol for r in bad]
        notes.append(f"Binance cannot be reached for {', '.join(failed)}: {bad[0].reason}")
    if notes:
        ages = []
        for symbol in symbols:
            cov = coverage(symbol, interval, paths=Paths(home))
            last = None if cov.last is None else cov.last + _step(interval)
            ages.append(f"{symbol} {age_text(last, now)}")
        notes.append("Showing the stored candles: " + ", ".join(ages) + ".")
        return TopUp(tuple(notes + conflict_notes), tuple(failed), 0, _symbols(conflicts))
    added = sum(int(r.new_rows or 0) for r in results)
    done = f"Candles topped up from Binance: {added} new candle(s)."
    if conflicts:
        done = done[:-1] + f"; not stored for {', '.join(_symbols(conflicts))} (conflict)."
    return TopUp((done, *conflict_notes), (), added, _symbols(conflicts))


def _symbols(results: Sequence[Any]) -> tuple[str, ...]:
    return tuple(r.symbol for r in results)


# ---- live signals --------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveSignals:
    """The outcome of :func:`live_signals`.

    ``signals`` in the order asked; ``errors`` maps a coin to the message that stopped it (one bad
    coin does not hide the others); ``records`` maps every member's model name to its typed
    record (its card says why it votes or not); ``track_record`` is the journal's live hit rate
    per coin (:func:`core.signals.journal.hit_rates`); ``conflicts`` maps a coin to its unresolved
    conflict (new candles held in quarantine: :mod:`core.data.quarantine`).
    """

    signals: tuple[Signal, ...]
    errors: dict[str, str] = field(default_factory=dict)
    records: dict[str, ModelMetadata] = field(default_factory=dict)
    top_up: TopUp | None = None
    recorded: int = 0
    resolved: int = 0
    track_record: pd.DataFrame = field(default_factory=pd.DataFrame)
    conflicts: dict[str, Conflict] = field(default_factory=dict)

    def outputs(self, signal: Signal) -> dict[str, Output | None]:
        """What each member of ``signal`` predicts (probability, return, price)."""
        return {
            v.name: (r.vote.output if (r := self.records.get(v.name)) and r.vote else None)
            for v in signal.votes
        }


def live_signals(
    symbols: Sequence[str] | None = None,
    *,
    home: Path,
    registry: ModelRegistry | None = None,
    config: SignalConfig | None = None,
    refresh: bool = False,
    patient: bool = True,
    source: str | None = "cli",
    models: ModelsLoader | None = None,
    candles: CandleLoader | None = None,
    compute: Compute | None = None,
    now: datetime | None = None,
    judge: bool = True,
) -> LiveSignals:
    """Every asked coin's live signal (default: every coin with a promoted model), journalled.

    With ``refresh`` the candles are topped up first (:func:`top_up_candles`). Every signal is
    judged at ``now``: one whose last closed candle is older than its horizon is STALE. Each
    signal shown is recorded in the journal under ``source`` (``None``: not recorded), except
    STALE ones (they call nothing); journal entries whose horizon has passed are judged against
    the closes (the ones loaded here, else the store). ``models``, ``candles`` and ``compute``
    replace loading a coin's models, its candles and computing its signal (the UI passes cached
    versions of each). ``now`` (default: the system clock; the edges pass their
    context's, which honours ``CRYPTOVOLT_NOW``) is when the staleness check, the top-up and the journal think it is (the
    watch loop's clock). ``judge=False`` (with ``source=None`` and no ``refresh``: the read-only
    HTTP API) leaves the journal as it is: nothing is judged or written. ``home``: the home
    folder whose journal is read and written (the edge's context).

    Raises nothing for one coin (its message lands in ``errors``); a broken registry raises
    what the registry raises.
    """
    from core.data.store import load_candles
    from core.registry.model_registry import ModelRegistry

    registry = registry if registry is not None else ModelRegistry(Paths(home).models)
    config = config or SignalConfig()
    chosen = (
        _symbols_with_models(registry)
        if symbols is None
        else [parse_coin(s).symbol for s in symbols]
    )
    load_models = models or (lambda s: load_coin_models(s, registry, config=config))
    load_frame = candles or (lambda s, tf: load_candles(s, tf, paths=Paths(home)))
    when = pd.Timestamp(now if now is not None else SystemClock().now())
    signal_of = compute or (
        lambda b, f: signal_from_models(b, f, now=when.to_pydatetime(), paths=Paths(home))
    )
    top_up = None
    if refresh and chosen:
        top_up = top_up_candles(chosen, home=home, patient=patient, now=now)
    signals: list[Signal] = []
    errors: dict[str, str] = {}
    records: dict[str, ModelMetadata] = {}
    frames: dict[tuple[str, str], pd.DataFrame] = {}
    conflicts: dict[str, Conflict] = {}
    for symbol in chosen:
        try:
            bundle = load_models(symbol)
            if (held := pending(symbol, bundle.timeframe, paths=Paths(home))) is not None:
                conflicts[symbol] = held
            records.update({x.member.name: x.record for x in bundle.loaded})
            frame = load_frame(symbol, bundle.timeframe)
            frames[(symbol, bundle.timeframe)] = frame
            signals.append(signal_of(bundle, frame).at(when))
        except CryptoVoltError as exc:
            errors[symbol] = str(exc)
    calls = [s for s in signals if s.signal is not SignalKind.STALE]
    recorded = journal.record(home, calls, source=source, now=now) if calls and source else 0
    resolved = journal.resolve_stored(home, candles=frames, now=now) if judge else 0
    return LiveSignals(
        tuple(signals),
        errors,
        records,
        top_up,
        recorded,
        resolved,
        journal.hit_rates(journal.entries(home)),
        conflicts,
    )


# ---- champion / challenger by hand ---------------------------------------------------------


def promotion_problems(registry: ModelRegistry, name: str, version: str) -> list[str]:
    """Why ``version`` should not become ``name``'s champion (empty: nothing stands in the way).

    A version whose gates fail has no edge; one whose metrics do not beat a champion whose gates
    pass would replace a better model.
    """
    from core.training.card import beats

    record = registry.record(name, version)
    problems = []
    if not record.gates_passed:
        problems.append(verdict_words(record))
    try:
        champion = registry.record(name)
    except ModelError:
        return problems
    rival = champion.version != record.version and champion.gates_passed
    if rival and not beats(record.card, champion.card):
        problems.append(
            f"It does not beat champion {champion.version}, whose gates pass "
            "(AUC for probabilities, MASE for forecasters)."
        )
    return problems


def promote(registry: ModelRegistry, name: str, version: str, *, force: bool = False) -> str:
    """Make ``version`` the champion that signals use; returns what happened in words.

    Raises:
        ModelError: its gates fail or it does not beat a passing champion, unless ``force``
            (the message says which gates failed); ModelNotFoundError: no such version.
    """
    record = registry.record(name, version)
    if record.promoted:
        return f"{name} {record.version} is already the champion."
    problems = promotion_problems(registry, name, record.version)
    if problems and not force:
        raise ModelError(
            f"Not promoting {name} {record.version}. "
            + " ".join(problems)
            + " Promote it anyway with --force (the Models page: 'Promote anyway')."
        )
    registry.promote(name, record.version)
    tail = " (forced: " + " ".join(problems) + ")" if problems else ""
    return f"{name} {record.version} is now the champion{tail}."
