"""Can a "beats its baseline" be trusted? Checks a person would make before believing a number.

* :func:`skill_words`: the card's skill metric named for what it is (Brier skill against the test
  period's base rate for probabilities; 1 - MASE against persistence for forecasters), with its
  95% interval, and "no edge" in words when the interval's lower bound does not clear zero.
* :func:`model_warnings`: a classifier that never predicts the positive class on the test window
  (its predicted-up column is empty, so its accuracy is the base rate's); numbers too good to be
  true for intraday crypto candles (test AUC above :data:`AUC_TOO_GOOD`, forecaster skill above
  :data:`SKILL_TOO_GOOD`): :data:`SUSPICIOUS`.
* :func:`backtest_warnings`: an absurd CAGR or a Sharpe above :data:`SHARPE_TOO_GOOD` is
  suspicious; a CAGR annualised from less than a year of candles carries a caveat.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from core.config import Interval
from core.registry.metadata import ClassifierMetrics, ForecastMetrics

__all__ = [
    "AUC_TOO_GOOD",
    "CAGR_TOO_GOOD",
    "SHARPE_TOO_GOOD",
    "SKILL_TOO_GOOD",
    "SUSPICIOUS",
    "backtest_warnings",
    "model_warnings",
    "skill_words",
]

SUSPICIOUS = "suspicious: check the data source and for look-ahead"
#: On intraday crypto candles, out-of-sample numbers beyond these are almost always a leak or
#: a synthetic series (a deterministic fake gives AUC 0.999), not an edge.
AUC_TOO_GOOD = 0.75
SKILL_TOO_GOOD = 0.3
SHARPE_TOO_GOOD = 5.0
CAGR_TOO_GOOD = 10.0  # +1,000% a year
_DAY_MS = 86_400_000

#: (metric key, name) of the skill a card reports, per output.
_SKILL = {
    "probability": ("brier_skill", "Brier skill vs the base rate"),
    "return": ("skill", "skill vs persistence (1 - MASE)"),
    "price": ("skill", "skill vs persistence (1 - MASE)"),
}


def _intraday(interval: str) -> bool:
    try:
        return Interval.parse(interval).milliseconds < _DAY_MS
    except Exception:  # an interval this build does not know: do not guess
        return False


def skill_words(record: Any) -> str:
    """``"Brier skill vs the base rate +0.012 [-0.004, 0.027]: no edge"`` ("" without a card).

    "no edge" whenever the 95% interval's lower bound is not above zero: a difference that small
    (288.78 vs 288.81) is noise, whatever its sign."""
    card = record.card
    if card is None or card.output not in _SKILL:
        return ""
    key, name = _SKILL[card.output]
    if isinstance(card.metrics, ClassifierMetrics):
        value = card.metrics.brier_skill
    elif isinstance(card.metrics, ForecastMetrics):
        value = card.metrics.skill
    else:
        value = None
    if value is None:
        return f"{name}: not measured"
    interval = card.intervals.get(key)
    low, high = (interval.low, interval.high) if interval is not None else (None, None)
    text = f"{name} {value:+.3f}"
    if low is not None and high is not None:
        text += f" [{low:+.3f}, {high:+.3f}]"
    if low is not None and low > 0:
        return text
    if high is not None and high <= 0 or (high is None and value <= 0):
        return text + ": no edge (no better than the baseline)"
    return text + ": no edge (its 95% interval includes 0)"


def model_warnings(record: Any) -> list[str]:
    """What should stop a person from trusting a version's numbers, each in one sentence."""
    card = record.card
    if card is None:
        return []
    out = []
    test = record.metrics.test
    if card.output == "probability":
        rate = test.get("predicted_positive_rate")
        if isinstance(rate, int | float) and rate <= 0:
            out.append(
                "It never predicts the positive class on the test window (its predicted-up "
                "column is empty): its accuracy is the base rate's, and it only ranks."
            )
        auc = card.metrics.roc_auc if isinstance(card.metrics, ClassifierMetrics) else None
        if isinstance(auc, int | float) and auc > AUC_TOO_GOOD and _intraday(record.interval):
            out.append(
                f"Test AUC {auc:.3f} is above {AUC_TOO_GOOD} on {record.interval} candles, which "
                f"real markets do not give: {SUSPICIOUS}."
            )
    else:
        skill = card.metrics.skill if isinstance(card.metrics, ForecastMetrics) else None
        if isinstance(skill, int | float) and skill > SKILL_TOO_GOOD and _intraday(record.interval):
            out.append(
                f"Forecast skill {skill:.2f} vs persistence is above {SKILL_TOO_GOOD} on "
                f"{record.interval} candles, which real markets do not give: {SUSPICIOUS}."
            )
    return out


def backtest_warnings(cagr: float | None, sharpe: float | None, start: Any, end: Any) -> list[str]:
    """A strategy's ``cagr`` and ``sharpe`` (a backtest's ``TradeStats``) over ``start``..``end``:
    too-good numbers and a short-window caveat, each in one sentence."""
    out = []
    if isinstance(sharpe, int | float) and sharpe > SHARPE_TOO_GOOD:
        out.append(f"A Sharpe ratio of {sharpe:.1f} is far beyond real trading: {SUSPICIOUS}.")
    if isinstance(cagr, int | float) and cagr > CAGR_TOO_GOOD:
        out.append(f"A CAGR of {cagr:,.0%} is absurd for a real market: {SUSPICIOUS}.")
    days = (pd.Timestamp(end) - pd.Timestamp(start)).total_seconds() / 86_400
    if 0 < days < 365 and isinstance(cagr, int | float):
        out.append(
            f"The CAGR is annualised from {days:.0f} days of candles: a short run compounded to "
            "a year says little about a year; read the total return instead."
        )
    return out
