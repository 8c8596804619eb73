"""Plain words for what the numbers mean, the same on the screen and in the terminal.

* :func:`gate_words`, :func:`verdict_words`, :func:`headline`: a model card's gates, verdict and
  key numbers beside their baselines.
* :func:`vote_words`: one member's part in a signal.
* :func:`age_text`, :func:`stale_words`, :func:`training_words`: how old the
  candles are, why a signal is STALE, what its models learned from and how far the candles are
  past that.

Nothing here imports Streamlit (or TensorFlow).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

import pandas as pd

from core.clock import span_words
from core.models.base import Output
from core.registry.gates import card_verdict
from core.registry.metadata import ModelMetadata
from core.signals.ensemble import SignalKind
from core.signals.signal import ModelVote, Signal

__all__ = [
    "age_text",
    "headline",
    "stale_words",
    "training_words",
    "verdict_words",
    "vote_words",
]


def age_text(last_close: pd.Timestamp | None, now: datetime) -> str:
    """``"3 h old"`` / ``"12.5 days old"`` / ``"18.3 months old"`` for a candle that closed at
    ``last_close``: :func:`span_words`, so a card and the verdict line say one age."""
    if last_close is None:
        return "no candles stored"
    return f"{span_words(pd.Timestamp(now) - last_close)} old"


def stale_words(signal: Signal, when: Callable[[datetime], str] | None = None) -> str:
    """Why a signal is STALE and what to do, in one sentence (empty when it is not stale).
    ``when`` writes the candle's close time (default: UTC, ``"2025-05-30 01:00 UTC"``); the
    dashboard passes one in the viewer's zone."""
    if not signal.stale or signal.age is None:
        return ""
    closed = when(signal.closed_at) if when else f"{signal.closed_at:%Y-%m-%d %H:%M} UTC"
    return (
        f"STALE: the last closed candle is {span_words(signal.age)} old "
        f"({closed}), older than the signal's horizon of "
        f"{signal.horizon} x {signal.timeframe} candles, so nothing is called on it. Top the "
        "candles up (Refresh, or `python -m core signals --refresh`)."
    )


def training_words(signal: Signal) -> tuple[str, str]:
    """``(window, warning)``: what the models learned from and when, and (when the candles lie
    more than a month past the last candle any model saw) a warning in words."""
    parts = []
    for v in signal.votes:
        if v.trained_from is None or v.trained_to is None:
            continue
        text = (
            f"{v.label} {v.version} trained on {v.trained_from:%Y-%m-%d} to {v.trained_to:%Y-%m-%d}"
        )
        if v.tested_to is not None:
            text += f", tested to {v.tested_to:%Y-%m-%d}"
        if v.trained_at is not None and signal.as_of is not None and signal.as_of >= v.trained_at:
            # a clock pinned before the training (CRYPTOVOLT_NOW on old candles) has no "ago"
            text += f", {span_words(signal.as_of - v.trained_at)} ago"
        parts.append(text)
    window = "; ".join(parts)
    gap, seen = signal.past_training, signal.seen_to
    if not signal.far_past_training or gap is None or seen is None:
        return window, ""
    warning = (
        f"The candles this signal is computed on are {span_words(gap)} past the last candle its "
        f"models saw ({seen:%Y-%m-%d}): markets change, so their edge may be gone. Retrain "
        "before trusting it."
    )
    return window, warning


def verdict_words(record: ModelMetadata) -> str:
    """A version's verdict as a sentence (:func:`card_verdict` with a capital and a stop)."""
    text = card_verdict(record.card)
    return f"{text[:1].upper()}{text[1:]}."


#: The card metrics a one-line headline shows, per output: (metric, label).
_HEADLINE = {
    Output.PROBABILITY.value: (("roc_auc", "AUC"), ("direction_auc", "direction AUC")),
    Output.RETURN.value: (("mase", "MASE"), ("directional_accuracy", "direction hit rate")),
    Output.PRICE.value: (("mase", "MASE"), ("directional_accuracy", "direction hit rate")),
}


def headline(record: ModelMetadata) -> str:
    """The card's key test-window numbers beside their baselines, with 95% intervals:
    ``"AUC 0.657 [0.62, 0.69] vs 0.5 · direction AUC 0.657 [0.62, 0.69] vs 0.5"``."""
    card = record.card
    if card is None:
        from core.registry.names import headline_metrics

        numbers = "  ".join(f"{k} {v}" for k, v in headline_metrics(record.metrics).items())
        return f"{numbers} (no card)".strip()
    parts = []
    metrics, baselines = card.metrics.as_dict(), card.baselines.as_dict()
    for key, label in _HEADLINE.get(card.output, ()):
        value = metrics.get(key)
        if value is None:
            continue
        text = f"{label} {value:.4g}"
        interval = card.intervals.get(key)
        if interval is not None and interval.low is not None and interval.high is not None:
            text += f" [{interval.low:.3g}, {interval.high:.3g}]"
        base = baselines.get(key)
        if base is None and key == "directional_accuracy":
            base = baselines.get("majority_direction")
        if base is not None:
            text += f" vs {base:.3g}"
        parts.append(text)
    return " · ".join(parts)


def _output_words(vote: ModelVote, output: Output | None) -> str:
    if vote.output is None:
        return "no output on these candles"
    if output is Output.PROBABILITY:
        side = "above" if (vote.edge or 0.0) >= 0 else "below"
        edge = "" if vote.edge is None else f" ({abs(vote.edge):.3f} {side} its base rate)"
        return f"probability {vote.output:.3f}{edge}"
    if output is Output.RETURN:
        return f"forecast return {vote.output:+.3%}"
    if output is Output.PRICE:
        edge = "" if vote.edge is None else f" ({math.expm1(vote.edge):+.2%})"
        return f"forecast close {vote.output:,.6g}{edge}"
    return f"output {vote.output:.4g}"


def vote_words(vote: ModelVote, record: ModelMetadata | None = None) -> str:
    """One member's part in a signal: what it says and whether it votes, and if not, why.

    ``"XGBoost direction (xgb_direction_btcusdt v1): probability 0.375 (0.102 below its base
    rate) → votes BEARISH"``.
    """
    output = record.vote.output if record is not None and record.vote else None
    head = f"{vote.label} ({vote.name} {vote.version}): {_output_words(vote, output)}"
    if not vote.passed:
        why = verdict_words(record) if record is not None else vote.reason
        return f"{head} → does not vote. {why}"
    if vote.vote is None:
        return f"{head} → does not vote ({vote.reason})"
    if vote.vote is SignalKind.NEUTRAL:
        return f"{head} → no view (inside its margin)"
    return f"{head} → votes {vote.vote.value}"
