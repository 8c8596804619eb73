"""One vocabulary for a model card's gates (issue 20 point 2): gates on the same number count
once, a failed gate reads as its number against its bar, and a near miss says what it is good
for. Cards are built by the real :func:`core.training.card.build_card` where the figure matters."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.models.base import Output
from core.registry.gates import (
    card_verdict,
    gate_checks,
    gates_count,
    gates_summary,
    version_verdict,
)
from core.registry.metadata import Gate, ModelCard, ModelMetadata
from core.training.card import build_card
from core.words import verdict_words


def _probability_card(direction: bool, seed: int = 0) -> ModelCard:
    """A real card: a probability model on 2,000 hours of a random walk. With ``direction`` the
    target is "the close rises" (the direction model: AUC and direction AUC are one figure);
    without, "+1% within the horizon" (the seed's classifier)."""
    rng = np.random.default_rng(seed)
    n = 2000
    future = rng.normal(0, 0.01, n)
    actual = (future > 0).astype(float) if direction else (future > 0.01).astype(float)
    frame = pd.DataFrame(
        {
            "actual": actual,
            "close": 100.0,
            "probability": np.clip(0.5 + rng.normal(0, 0.05, n), 0, 1),
            "future_return": future,
            "vol_score": np.abs(rng.normal(0.01, 0.002, n)),
        }
    )
    return build_card(Output.PROBABILITY, frame, frame.iloc[:800], column="probability", horizon=6)


def test_the_direction_models_one_figure_counts_as_one_gate():
    card = _probability_card(direction=True)
    assert card.metrics.roc_auc == card.metrics.direction_auc
    checks = gate_checks(card)
    merged = next(c for c in checks if "direction" in c.gates)
    assert set(merged.gates) == {"auc", "beats_volatility", "direction"}
    assert merged.label == "direction" and len(checks) == len(card.gates) - 2
    assert gates_count(card).endswith(f"of {len(checks)}") or gates_count(card) == "passes all 4"


def test_the_rise_classifier_keeps_direction_apart_from_its_ranking():
    card = _probability_card(direction=False)
    checks = gate_checks(card)
    assert [c.gates for c in checks][0] == ("auc", "beats_volatility")
    assert ("direction",) in [c.gates for c in checks]
    assert len(checks) == len(card.gates) - 1


def test_a_failed_gate_reads_as_its_number_against_its_bar():
    gates = {
        "auc": Gate(0.613, 0.5, True, "AUC 95% lower bound > 0.5"),
        "beats_volatility": Gate(0.613, 0.5553, True, "AUC 95% lower bound > the ATR/close"),
        "direction": Gate(0.478, 0.5, False, "direction AUC 95% lower bound > 0.5"),
        "log_loss": Gate(0.31, 0.32, True, "log loss < the base rate's"),
        "ece": Gate(0.02, 0.05, True, "ECE out of time <= 0.05"),
        "folds_agree": Gate(0.55, 0.5, True, "folds"),
    }
    card = ModelCard("probability", metrics={"roc_auc": 0.676, "direction_auc": 0.49}, gates=gates)
    assert gates_summary(card) == (
        "passes 4 of 5 — fails: direction (lower bound 0.478, needs > 0.5)"
    )
    # the near miss says what it is good for
    assert card_verdict(card).endswith("it tells when a big move is likely, not which way")
    record = ModelMetadata("xgboost_btcusdt", "v1", "BTCUSDT", "xgboost", card=card)
    assert version_verdict(record) == card_verdict(card)  # a version's verdict: the same words
    assert verdict_words(record).startswith("No edge: passes 4 of 5 — fails: direction")


def test_forecasters_and_volatility_gates_read_in_words_without_internal_names():
    forecaster = ModelCard(
        "return",
        gates={
            "mase": Gate(0.99, 1.0, True, "MASE < 1 (persistence)"),
            "diebold_mariano": Gate(0.31, 0.05, False, "Diebold-Mariano p < 0.05"),
        },
    )
    assert (
        gates_summary(forecaster) == "passes 1 of 2 — fails: more than luck (p 0.31, needs < 0.05)"
    )
    assert "not by more than luck" in card_verdict(forecaster)
    vol = ModelCard(
        "volatility",
        gates={
            "6h_qlike_vs_best_baseline": Gate(0.001, 0.05, True, "6h: QLIKE"),
            "6h_band80_coverage": Gate(0.79, 0.8, True, "6h: cover"),
            "24h_qlike_vs_best_baseline": Gate(0.3, 0.05, False, "24h: QLIKE"),
            "24h_band80_coverage": Gate(0.74, 0.8, False, "24h: cover"),
        },
    )
    summary = gates_summary(vol)
    assert summary.startswith("passes 2 of 4 — fails: 24 h: beats its volatility baselines (p 0.3")
    assert "24 h: 80% band holds (covered 74%, needs 80% give or take 3 points)" in summary
    # which horizon holds comes first, not "no edge" for a model whose 6 h forecast is usable
    assert card_verdict(vol).startswith(
        "its 6 h forecast is usable, its 24 h one has no edge: passes 2 of 4 — fails: 24 h:"
    )
    for text in (summary, card_verdict(vol), gates_summary(forecaster)):
        assert "_" not in text  # no internal gate names


def test_a_card_without_gates_or_no_card_says_so():
    assert gates_summary(None).startswith("no gates measured")
    assert gates_count(None) == "no card"
    assert "retrain" in card_verdict(None)
