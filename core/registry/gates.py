"""One vocabulary for a model card's gates, the same on every page, in the CLI and in alerts.

* :func:`gate_checks`: a card's gates as a person counts them (:class:`GateCheck`; gates that
  measure the same number are one).
* :func:`gates_summary`: ``"passes 4 of 5 — fails: direction (lower bound 0.478, needs > 0.5)"``;
  :func:`gates_count`: ``"passes 4 of 5"`` for a table cell.
* :func:`good_for`: what a near miss is still good for (``"it tells when a big move is likely,
  not which way"``).
* :func:`card_verdict`: has an edge or not, in those words; :func:`version_verdict`: the same
  for a registered version (one trained before cards existed says so);
  :func:`failed_gates`: the failed gates in words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.registry.metadata import Gate, ModelCard, ModelMetadata

__all__ = [
    "GateCheck",
    "card_verdict",
    "failed_gates",
    "gate_checks",
    "gate_words",
    "gates_count",
    "gates_summary",
    "good_for",
    "version_verdict",
]

_OPERATORS = (" <= ", " >= ", " > ", " < ")


def _num(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.3g}"


def gate_words(gate: Gate) -> str:
    """One gate's own rule in words: ``"AUC 95% lower bound is 0.471, needs > 0.5"`` (the rule as
    the card stored it; a verdict words gates with :func:`gate_checks`)."""
    for op in _OPERATORS:
        what, sep, need = gate.rule.partition(op)
        if sep:
            break
    else:
        return f"{gate.rule}: {_num(gate.value)}"
    value = _num(gate.value)
    if gate.value is not None and gate.threshold is not None and value == f"{gate.threshold:.3g}":
        value = f"{gate.value:.6g}"  # 1.0003 against 1: show the digits that decide it
    if gate.threshold is not None and not need.strip()[:1].isdigit():
        need = f"{need} ({gate.threshold:.3g})"
    return f"{what} is {value}, needs {op.strip()} {need}"


@dataclass(frozen=True)
class GateCheck:
    """One gate as a person reads it. Gates of a card that measure the same number count as one
    (the AUC's lower bound against 0.5 and against the volatility baseline; on a direction model
    the direction AUC too, which is then the same figure): ``gates`` names them all.

    ``label`` is the short name (``"direction"``), ``detail`` the number against its bar
    (``"lower bound 0.478, needs > 0.5"``), ``help`` what the check asks, in words.
    """

    label: str
    passed: bool
    detail: str
    help: str
    gates: tuple[str, ...]

    def words(self) -> str:
        """``"direction (lower bound 0.478, needs > 0.5)"``."""
        return f"{self.label} ({self.detail})" if self.detail else self.label


#: Plain words per gate name (volatility gates carry a ``6h_`` / ``24h_`` prefix): label, what
#: the number is called, how it must compare, and what the check asks.
_GATE_WORDS: dict[str, tuple[str, str, str, str]] = {
    "auc": (
        "beats a coin flip",
        "lower bound",
        ">",
        "Does a higher probability go with the event happening? The AUC (the chance it ranks a "
        "random hour where the event happened above one where it did not) must have its 95% "
        "lower bound above 0.5, a coin flip.",
    ),
    "beats_volatility": (
        "beats the volatility baseline",
        "lower bound",
        ">",
        "Does it rank hours better than the recent size of moves alone (ATR / close)? Its AUC's "
        "95% lower bound must clear that baseline's AUC (and 0.5).",
    ),
    "direction": (
        "direction",
        "lower bound",
        ">",
        "Does it tell rises from falls? Its direction AUC (the chance it ranks a random rise above "
        "a random fall) must have its 95% lower bound above 0.5, a coin flip.",
    ),
    "log_loss": (
        "probabilities",
        "log loss",
        "<",
        "Are its probabilities better than always saying the period's base rate? Its log loss "
        "(the penalty for confident mistakes) must be below the base rate's.",
    ),
    "ece": (
        "calibration",
        "calibration error",
        "<=",
        "When it says 60%, does it happen about 60% of the time? The average gap between what it "
        "said and what happened, on the later test window, must be at most 0.05.",
    ),
    "folds_agree": (
        "earlier periods agree",
        "lower bound",
        ">",
        "Did it also work on the walk-forward periods before the test window? One good stretch "
        "can be luck.",
    ),
    "mase": (
        "smaller errors than no change",
        "MASE",
        "<",
        "Are its forecast errors smaller than those of 'the price stays where it is'? MASE is its "
        "error divided by that baseline's: below 1 is better.",
    ),
    "diebold_mariano": (
        "more than luck",
        "p",
        "<",
        "Could its smaller errors be luck? The Diebold-Mariano test's p-value must be below 0.05.",
    ),
    "qlike_vs_best_baseline": (
        "beats its volatility baselines",
        "p",
        "<",
        "Does it forecast volatility better than persistence, EWMA and HAR (QLIKE loss), by more "
        "than luck (Diebold-Mariano p below 0.05 against each)?",
    ),
    "band80_coverage": (
        "80% band holds",
        "covered",
        "within",
        "Did about 80% of the test window's moves fall inside its 80% band (77-83%)?",
    ),
    "band80_kupiec": (
        "band misses as often as promised",
        "p",
        ">=",
        "Kupiec test: are the band's misses as frequent as its level promises? Not rejected at 5%.",
    ),
    "band80_christoffersen": (
        "band misses not bunched",
        "p",
        ">=",
        "Christoffersen test: do misses come in clusters (the band too narrow in a storm)? Not "
        "rejected at 5%.",
    ),
    "band80_terciles": (
        "band holds in quiet and wild hours",
        "worst third off by",
        "<=",
        "Does the 80% band cover about 80% in the quietest, middle and wildest third of hours?",
    ),
}
_FIGURE = {"auc", "beats_volatility", "direction"}
_OP_WORDS = {">": ">", "<": "<", ">=": "≥", "<=": "≤"}


def _split_horizon(name: str) -> tuple[str, str]:
    """``("6h", "band80_coverage")`` for ``"6h_band80_coverage"``; ``("", name)`` otherwise."""
    head, sep, rest = name.partition("_")
    if sep and head.endswith("h") and head[:-1].isdigit():
        return head, rest
    return "", name


def _value(value: float | None, threshold: float | None) -> str:
    text = _num(value)
    if value is not None and threshold is not None and text == f"{threshold:.3g}":
        text = f"{value:.6g}"  # 1.0003 against 1: show the digits that decide it
    return text


def _check(names: list[str], gates: Mapping[str, Gate]) -> GateCheck:
    first = gates[names[0]]
    horizon, base = _split_horizon(names[0])
    keys = [_split_horizon(n)[1] for n in names]
    if "direction" in keys:
        base = "direction"
    elif "beats_volatility" in keys:
        base = "beats_volatility"
    passed = all(gates[n].passed for n in names)
    if base == "direction" and not passed and "beats_volatility" in keys:
        # clear of a coin flip, short of the volatility baseline only: name the bar it misses
        coin_flip = [n for n, k in zip(names, keys, strict=True) if k != "beats_volatility"]
        if all(gates[n].passed for n in coin_flip):
            base = "beats_volatility"
    measured = [float(v) for n in names if (v := gates[n].value) is not None]
    first = Gate(min(measured) if measured else None, first.threshold, passed, first.rule)
    bars = [float(t) for n in names if (t := gates[n].threshold) is not None]
    threshold = max(bars) if bars else None
    known = _GATE_WORDS.get(base)
    if known is None:  # a gate this vocabulary does not know: its own rule
        label = base.replace("_", " ")
        return GateCheck(
            f"{horizon.replace('h', ' h')} {label}".strip(),
            passed,
            gate_words(first),
            first.rule,
            tuple(names),
        )
    label, what, op, help_text = known
    if base == "band80_coverage":
        value = "not measured" if first.value is None else f"{first.value:.0%}"
        detail = f"{what} {value}, needs {first.threshold or 0.8:.0%} give or take 3 points"
    elif base == "band80_terciles":
        value = "not measured" if first.value is None else f"{first.value * 100:.0f} points"
        detail = f"{what} {value}, needs ≤ {(first.threshold or 0.05) * 100:.0f}"
    else:
        detail = f"{what} {_value(first.value, threshold)}"
        if threshold is not None:
            detail += f", needs {_OP_WORDS[op]} {threshold:.3g}"
            if "beats_volatility" in keys and threshold > 0.5:
                detail += ", the volatility baseline's AUC"
            elif base == "log_loss":
                detail += ", the base rate's"
    if base == "folds_agree" and horizon:  # a volatility model's folds: QLIKE against a baseline
        detail = f"QLIKE on the earlier periods {_value(first.value, threshold)}"
        if threshold is not None:
            detail += f", needs < {threshold:.3g}, the best baseline's"
    if horizon:
        label = f"{horizon.removesuffix('h')} h: {label}"
    return GateCheck(label, passed, detail, help_text, tuple(names))


def _same_figure(card: ModelCard) -> set[str]:
    """The gates of ``card`` that measure one number: the AUC against 0.5 and against the
    volatility baseline always (both its lower bound); on a kind whose target is the direction,
    the direction AUC too (the same ranking of rises above falls: equal point estimates; their
    bootstrap bounds differ only by resampling)."""
    same = {"auc", "beats_volatility"}
    auc, direction = (
        card.metrics.as_dict().get("roc_auc"),
        card.metrics.as_dict().get("direction_auc"),
    )
    numbers = isinstance(auc, int | float) and isinstance(direction, int | float)
    if numbers and abs(float(auc) - float(direction)) < 1e-6:  # type: ignore[arg-type]
        same.add("direction")
    return same


def clears_coin_flip(card: ModelCard) -> bool | None:
    """Whether the card's direction AUC clears a coin flip: its ``direction`` gate, with the
    ``auc`` gate when that measures the same figure (a direction model; their bootstrap bounds
    differ by resampling, so both must clear 0.5). None when no direction gate was measured."""
    direction = card.gates.get("direction")
    if direction is None:
        return None
    auc = card.gates.get("auc") if "direction" in _same_figure(card) else None
    return direction.passed and (auc is None or auc.passed)


def gate_checks(card: ModelCard) -> list[GateCheck]:
    """A card's gates as a person counts them (see :class:`GateCheck`), in the card's order."""
    gates = card.gates
    same = _same_figure(card)
    groups: list[list[str]] = []
    by_figure: dict[str, list[str]] = {}
    for name in gates:
        horizon, base = _split_horizon(name)
        if base in same:
            if horizon in by_figure:
                by_figure[horizon].append(name)
                continue
            by_figure[horizon] = [name]
            groups.append(by_figure[horizon])
        else:
            groups.append([name])
    return [_check(names, gates) for names in groups]


def _horizon_split(card: ModelCard) -> tuple[str, str]:
    """A card with per-horizon gates: (the horizons whose gates all pass, those with a failing
    one), each as words (``"6 h"``, ``"6 h and 24 h"``); ``("", "")`` for a card without."""
    horizons: dict[str, bool] = {}
    for c in gate_checks(card):
        horizon = _split_horizon(c.gates[0])[0]
        if horizon:
            horizons[horizon] = horizons.get(horizon, True) and c.passed
    words = {
        ok: " and ".join(h.replace("h", " h") for h, p in horizons.items() if p is ok)
        for ok in (True, False)
    }
    return words[True], words[False]


def good_for(card: ModelCard) -> str:
    """What a model that fails some gates is still good for, in words (empty: nothing said)."""
    checks = gate_checks(card)
    if not checks or all(c.passed for c in checks) or not any(c.passed for c in checks):
        return ""
    usable, unusable = _horizon_split(card)
    if usable or unusable:  # a volatility model: which horizons hold
        return f"its {usable} forecast is usable" if usable else ""
    state = {k: c.passed for c in checks for k in c.gates}
    if state.get("folds_agree") is False:
        return "it worked on the test window but not on the earlier periods: it may be luck"
    if state.get("beats_volatility") and state.get("direction") is False:
        return "it tells when a big move is likely, not which way"
    if state.get("mase") and state.get("diebold_mariano") is False:
        return "its errors are smaller than no change's, but not by more than luck would give"
    if state.get("direction") and (state.get("ece") is False or state.get("log_loss") is False):
        return "it tells rises from falls, but its probabilities are off: read it as a ranking"
    return ""


def gates_summary(card: ModelCard | None) -> str:
    """The one wording of a card's gates, used by every page, the CLI and alerts:
    ``"passes 4 of 5 — fails: direction (lower bound 0.478, needs > 0.5)"``, or
    ``"passes all 5"``; ``"no gates measured (trained before model cards)"`` without a card."""
    if card is None:
        return "no gates measured (trained before model cards)"
    checks = gate_checks(card)
    if not checks:
        return "no gates measured"
    failed = [c for c in checks if not c.passed]
    if not failed:
        return f"passes all {len(checks)}" if len(checks) > 1 else "passes its one gate"
    passed = len(checks) - len(failed)
    return f"passes {passed} of {len(checks)} — fails: " + "; ".join(c.words() for c in failed)


def gates_count(card: ModelCard | None) -> str:
    """The short form for a table cell: ``"passes 4 of 5"`` / ``"passes all 5"``."""
    if card is None:
        return "no card"
    checks = gate_checks(card)
    passed = sum(c.passed for c in checks)
    return f"passes all {passed}" if passed == len(checks) else f"passes {passed} of {len(checks)}"


def card_verdict(card: ModelCard | None) -> str:
    """Whether a card shows an edge, in the one vocabulary, lower case (a log line, a vote's
    reason): ``"no edge: passes 4 of 5 — fails: direction (...); it tells when a big move is
    likely, not which way"``."""
    if card is None:
        return "no edge: trained before model cards existed, so no gate was measured; retrain it"
    summary = gates_summary(card)
    if card.passed:
        gates = "" if summary.endswith("gate") else " gates"
        return f"has an edge: {summary}{gates} on the test window"
    usable, unusable = _horizon_split(card)
    if usable and unusable:  # a volatility card: say first which horizons hold
        return f"{good_for(card)}, its {unusable} one has no edge: {summary}"
    text = f"no edge: {summary}"
    use = good_for(card)
    if use:
        text += f"; {use}"
    power = card.metrics.as_dict().get("min_detectable_auc")
    if isinstance(power, int | float) and any(
        not c.passed and set(c.gates) & _FIGURE for c in gate_checks(card)
    ):
        text += f" (its test window can tell an AUC apart from 0.5 only from about {power:.3f} up)"
    return text


def failed_gates(card: ModelCard) -> list[str]:
    """The failed gates in words, as :func:`gate_checks` counts them:
    ``["direction (lower bound 0.478, needs > 0.5)", ...]``."""
    return [c.words() for c in gate_checks(card) if not c.passed]


def version_verdict(record: ModelMetadata) -> str:
    """Why a registered version votes or not, in words (:func:`card_verdict` of its card)."""
    if record.card is None:
        return "no edge: trained before model cards existed (no gates measured); retrain it"
    return card_verdict(record.card)
