"""A version's model card on screen: the verdict in words, metrics beside their baselines with
95% intervals, every gate with pass / fail, and the reliability table.

Everything comes from the typed record (:class:`~core.registry.metadata.ModelMetadata` and its
:class:`~core.registry.metadata.ModelCard`) that training wrote once; the words come from
:mod:`core.usecases`, so the page and ``python -m core models show`` say the same thing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.registry.gates import gate_checks
from core.registry.metadata import ModelCard, ModelMetadata
from core.training.trust import model_warnings, skill_words
from core.words import headline, verdict_words
from ui.text import plain

__all__ = [
    "MEANINGS",
    "VERDICT_HELP",
    "gates_frame",
    "metrics_frame",
    "numbers_help",
    "reliability_frame",
    "render_card",
]

#: How card metric keys read on screen (others are shown as they are).
_LABELS = {
    "n": "rows scored",
    "base_rate": "base rate (test period)",
    "roc_auc": "AUC",
    "direction_auc": "direction AUC",
    "log_loss": "log loss",
    "brier": "Brier score",
    "brier_skill": "Brier skill",
    "balanced_accuracy": "balanced accuracy",
    "ece": "calibration error (ECE)",
    "mae_log_return": "MAE (log return)",
    "mase": "MASE",
    "skill": "skill (1 - MASE)",
    "directional_accuracy": "direction hit rate",
    "dm_statistic": "Diebold-Mariano statistic",
    "dm_p_value": "Diebold-Mariano p",
    "volatility_auc": "ATR/close score's AUC (volatility baseline)",
    "volatility_direction_auc": "ATR/close score's direction AUC",
}
#: What each statistic means, in words (shown beside it).
MEANINGS = {
    "n": "How many test-window hours it was scored on.",
    "base_rate": "How often the event happened in the test window, whatever the model said.",
    "roc_auc": "Chance it ranks a random hour with the event above one without: 0.5 is a coin flip.",
    "fold_roc_auc": "The same on the walk-forward periods before the test window.",
    "min_detectable_auc": "The smallest AUC this many test hours could tell apart from 0.5.",
    "auc_half_width": "How far the AUC could move by chance alone (95%).",
    "direction_auc": "Chance it ranks a random rise above a random fall: 0.5 is a coin flip.",
    "log_loss": "Penalty for confident mistakes: lower is better; compare with the baseline.",
    "brier": "Mean squared gap between probability and outcome: lower is better.",
    "brier_skill": "How much better than always saying the base rate: 0 is no better.",
    "balanced_accuracy": "Share right, counting rises and the rest equally: 0.5 is chance.",
    "ece": "Average gap between the probability said and how often it happened: 0 is perfect.",
    "mae_log_return": "Average size of its forecast error, as a log return.",
    "mase": "Its error divided by 'no change''s error: below 1 beats no change.",
    "skill": "1 - MASE: 0 is no better than no change.",
    "directional_accuracy": "Share of hours it got the direction right.",
    "dm_statistic": "Diebold-Mariano test statistic: how clearly its errors differ from no change's.",
    "dm_p_value": "Chance of errors this much smaller by luck: below 0.05 counts.",
    "volatility_auc": "What the recent size of moves alone (ATR / close) scores as a ranking.",
    "volatility_direction_auc": "The same ATR/close score ranking rises above falls.",
}
#: What a verdict's words and numbers mean (the tooltip beside every verdict).
VERDICT_HELP = (
    "How many of its checks the version passes on the test window (the most recent 20% of "
    "candles, never trained on). Each failing check names its number and what it needed. A "
    "lower bound is the low end of the range the number falls in 95% of the time when the test "
    "hours are resampled: a check needs that whole range past the bar, so a lucky number does "
    "not pass. No edge: a check fails, so the version does not vote in a signal."
)


def numbers_help(record: ModelMetadata) -> str:
    """Words for the numbers of a version's headline (``AUC 0.68 [0.61, 0.74] vs 0.5``): the
    notation, then each statistic in it."""
    card = record.card
    keys = [k for k in card.metrics.as_dict() if k in MEANINGS] if card is not None else []
    shown = headline(record)
    said = [
        f"{_LABELS.get(k, k)}: {MEANINGS[k]}"
        for k in keys
        if f"{_LABELS.get(k, k)} " in shown or (k == "directional_accuracy" and "hit rate" in shown)
    ]
    return "  \n".join(
        [
            "Scores on the test window (the most recent 20% of candles, never trained on); "
            "[low, high]: the range the score falls in 95% of the time when the test hours are "
            "resampled; vs: what a naive baseline scores.",
            *said,
        ]
    )


#: The baseline a metric stands beside when the card stores it under another name.
_BASELINE_OF = {"directional_accuracy": "majority_direction"}


def _num(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""  # a table cell: empty where nothing is known
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def metrics_frame(card: ModelCard) -> pd.DataFrame:
    """``metric | test window | 95% interval | baseline`` for every card metric."""
    rows = []
    metrics, baselines = card.metrics.as_dict(), card.baselines.as_dict()
    for key, value in metrics.items():
        interval = card.intervals.get(key)
        low, high = (interval.low, interval.high) if interval is not None else (None, None)
        baseline = baselines.get(key, baselines.get(_BASELINE_OF.get(key, "")))
        rows.append(
            {
                "metric": _LABELS.get(key, key),
                "test window": _num(value),
                "95% interval": f"{_num(low, 3)} to {_num(high, 3)}" if low is not None else "",
                "baseline": _num(baseline),
                "what it means": MEANINGS.get(key, ""),
            }
        )
    extra = {k: v for k, v in baselines.items() if k not in metrics}
    for key, value in extra.items():
        if key in _BASELINE_OF.values():
            continue
        label = _LABELS.get(key, key)
        rows.append(
            {
                "metric": label,
                "test window": "",
                "95% interval": "",
                "baseline": _num(value),
                "what it means": MEANINGS.get(key, ""),
            }
        )
    return pd.DataFrame(rows).set_index("metric")


def gates_frame(card: ModelCard) -> pd.DataFrame:
    """``check | result | measured | what it asks | card keys``: each gate as the one vocabulary
    counts it (:func:`core.words.gate_checks`: gates on the same number are one)."""
    rows = [
        {
            "check": c.label,
            "result": "✅ pass" if c.passed else "❌ fail",
            "measured": c.detail,
            "what it asks": c.help,
            "card keys": ", ".join(c.gates),
        }
        for c in gate_checks(card)
    ]
    return pd.DataFrame(rows).set_index("check")


def reliability_frame(card: ModelCard) -> pd.DataFrame:
    """The reliability table: per probability bin, the hit rate it was built with on the
    walk-forward folds and the hit rate it then had on the test window (with a Wilson interval).
    Empty for forecasters."""
    rows = []
    for row in card.calibration.table if card.calibration else ():
        low, high = row.test_low, row.test_high
        rows.append(
            {
                "bin": row.bin,
                "built on folds: calls": _num(row.built_n),
                "built on folds: hit rate": _num(row.built_hit_rate, 3),
                "reported on test: calls": _num(row.test_n),
                "reported on test: hit rate": _num(row.test_hit_rate, 3),
                "test 95% interval": f"{_num(low, 3)} to {_num(high, 3)}"
                if low is not None
                else "",
            }
        )
    return pd.DataFrame(rows).set_index("bin") if rows else pd.DataFrame()


def render_card(record: ModelMetadata) -> None:
    """The card of one version, in a bordered box (see the module docstring)."""
    with st.container(border=True):
        role = "champion" if record.promoted else "challenger"
        st.markdown(
            f"**{plain(record.name)}** {plain(record.version)} · {role} · {headline(record)}"
        )
        verdict = verdict_words(record)
        warnings = model_warnings(record)
        if record.gates_passed and not warnings:
            st.success(verdict, icon=":material/verified:")
        elif record.gates_passed:  # passing gates on numbers that cannot be real is no green box
            st.warning(f"{verdict} But see below.", icon=":material/help:")
        else:
            st.warning(
                f"{verdict} It does not vote, so it never drives a signal.",
                icon=":material/block:",
            )
        for warning in warnings:
            st.warning(plain(warning), icon=":material/report:")
        card = record.card
        if card is None:
            return
        skill = skill_words(record)
        if skill:
            st.markdown(f"**Skill**: {skill}")
        st.markdown("**Test window, beside its baselines**")
        st.table(metrics_frame(card))
        st.markdown("**Gates**")
        st.table(gates_frame(card))
        reliability = reliability_frame(card)
        if not reliability.empty:
            ece = card.calibration.ece_out_of_time if card.calibration else None
            st.markdown(
                "**Reliability**: built on the walk-forward folds, reported on the later test "
                f"window (calibration error out of time {_num(ece, 3)})"
            )
            st.table(reliability)
        for note in card.notes:
            st.caption(plain(note))
