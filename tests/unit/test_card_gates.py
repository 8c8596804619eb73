"""Gates of a probability model's card that look past the test window: the walk-forward folds
must agree with it (DESIGN rule 12), and the card states how small an AUC its window can detect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.models.base import Output
from core.registry.gates import card_verdict, failed_gates
from core.training.card import build_card


def rows(n: int, skill: float, seed: int) -> pd.DataFrame:
    """``n`` hourly prediction rows of a "closes higher" classifier: ``skill`` 0 is noise, larger
    values tilt the probability toward what happened."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype("float64")
    p = np.clip(0.5 + skill * (y - 0.5) + rng.normal(0, 0.05, n), 0.01, 0.99)
    move = np.where(y == 1, 1.0, -1.0) * rng.uniform(0.001, 0.01, n)
    return pd.DataFrame(
        {
            "actual": y,
            "close": 100.0,
            "probability": p,
            "future_return": move,
            "vol_score": rng.uniform(0.001, 0.01, n),
        }
    )


def card(test_skill: float, fold_skill: float):
    return build_card(
        Output.PROBABILITY,
        rows(1500, test_skill, seed=1),
        rows(3000, fold_skill, seed=2),
        column="probability",
        horizon=6,
    )


def test_a_model_that_passes_on_the_test_window_but_is_flat_on_its_folds_does_not_pass():
    flat = card(test_skill=0.04, fold_skill=0.0)
    assert flat.gates["auc"].passed and flat.gates["direction"].passed  # the test window says yes
    gate = flat.gates["folds_agree"]
    assert not gate.passed and gate.value < 0.5 < flat.metrics.roc_auc
    assert not flat.passed
    assert any(t.startswith("earlier periods agree (") for t in failed_gates(flat))
    assert "not on the earlier periods" in card_verdict(flat)


def test_a_model_whose_folds_agree_with_its_test_window_passes_that_gate():
    agree = card(test_skill=0.04, fold_skill=0.04)
    assert agree.gates["folds_agree"].passed and agree.gates["folds_agree"].value > 0.5
    assert agree.metrics.fold_roc_auc > 0.5


def test_a_card_without_fold_predictions_cannot_show_that_its_folds_agree():
    alone = build_card(
        Output.PROBABILITY, rows(1500, 0.04, seed=1), None, column="probability", horizon=6
    )
    assert not alone.gates["folds_agree"].passed and alone.gates["folds_agree"].value is None


def test_the_card_states_the_smallest_auc_its_test_window_can_tell_from_one_half():
    small = card(test_skill=0.0, fold_skill=0.0)
    # 1,500 balanced rows: the analytic half-width under no skill is 1.96 x sqrt(1501 / (12 x
    # 750 x 750)) = 0.029; the block bootstrap's may be wider, never narrower.
    analytic = 1.96 * np.sqrt(1501 / (12 * 750 * 750))
    mde = small.metrics.min_detectable_auc
    assert mde == pytest.approx(0.5 + small.metrics.auc_half_width, abs=1e-6)
    assert 0.5 + analytic - 0.002 <= mde < 0.56
    assert any(f"from about {mde:.3f} up" in note for note in small.notes)
    # four times the rows: about half the detectable effect
    big = build_card(
        Output.PROBABILITY,
        rows(6000, 0.0, seed=3),
        rows(3000, 0.0, seed=2),
        column="probability",
        horizon=6,
    )
    assert big.metrics.min_detectable_auc - 0.5 < 0.7 * (mde - 0.5)


def test_a_failing_card_says_in_its_verdict_how_small_an_auc_it_could_have_seen():
    flat = card(test_skill=0.0, fold_skill=0.0)
    mde = flat.metrics.min_detectable_auc
    assert not flat.passed
    assert card_verdict(flat).endswith(
        f"(its test window can tell an AUC apart from 0.5 only from about {mde:.3f} up)"
    )
