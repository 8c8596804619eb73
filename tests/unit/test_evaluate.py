"""Splits purge the label horizon, walk-forward folds move forward in time, metrics add up."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InsufficientDataError
from core.models.base import Task
from core.training.evaluate import (
    chronological_split,
    classification_baseline,
    classification_metrics,
    evaluate,
    persistence_baseline,
    regression_metrics,
    skill,
    validation_split,
    walk_forward_splits,
)


def test_chronological_split_drops_the_last_horizon_rows_before_the_test_period():
    split = chronological_split(1000, test_fraction=0.2, horizon=6)
    assert split.test[0] == 800 and split.test[-1] == 999 and len(split.test) == 200
    assert split.train[0] == 0 and split.train[-1] == 793
    assert split.gap == 6
    # every training label (which looks 6 rows ahead) is known before the test period starts
    assert split.train.max() + 6 < split.test.min()


def test_validation_slice_comes_from_the_end_of_training_with_its_own_purge():
    split = chronological_split(1000, test_fraction=0.2, horizon=6)
    inner = validation_split(split.train, fraction=0.1, horizon=6)
    assert len(inner.test) == round(794 * 0.1)
    assert inner.test[-1] == split.train[-1]  # the end of training, never the test period
    assert inner.train[-1] + 6 < inner.test[0]
    assert inner.gap == 6
    assert set(inner.test).isdisjoint(split.test)


def test_no_validation_slice_keeps_every_training_row():
    inner = validation_split(np.arange(300), fraction=0.0, horizon=6)
    assert len(inner.train) == 300 and len(inner.test) == 0


def test_walk_forward_folds_expand_move_forward_and_are_purged():
    folds = walk_forward_splits(1003, folds=4, horizon=6)
    assert [f.name for f in folds] == ["fold1", "fold2", "fold3", "fold4"]
    block = 1003 // 5
    for k, fold in enumerate(folds, start=1):
        assert fold.train[0] == 0  # expanding: always from the start
        assert fold.test[0] == k * block
        assert fold.gap == 6 and fold.train.max() + 6 < fold.test.min()
    assert folds[-1].test[-1] == 1002  # the last block takes the remainder
    for earlier, later in zip(folds, folds[1:], strict=False):
        assert earlier.test[-1] + 1 == later.test[0]  # held-out blocks tile forward in time
        assert len(later.train) > len(earlier.train)


def test_locate_maps_candle_splits_onto_sample_positions():
    split = chronological_split(100, test_fraction=0.2, horizon=6)
    position = np.arange(20, 95)  # samples exist for candles 20..94 only (warm-up, future)
    rows = split.locate(position)
    assert position[rows.train].min() == 20 and position[rows.train].max() == 73
    assert position[rows.test].min() == 80 and position[rows.test].max() == 94


def test_too_few_rows_say_what_is_needed():
    with pytest.raises(InsufficientDataError, match="at least"):
        chronological_split(40, test_fraction=0.2, horizon=6)
    with pytest.raises(InsufficientDataError, match="walk-forward"):
        walk_forward_splits(200, folds=10, horizon=6)


def test_classification_metrics_by_hand():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.6, 0.4, 0.9])
    m = classification_metrics(y, p)
    assert m["accuracy"] == 0.5
    assert m["balanced_accuracy"] == 0.5
    assert m["precision"] == 0.5 and m["recall"] == 0.5 and m["f1"] == 0.5
    assert m["roc_auc"] == 0.75
    assert m["brier"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.01) / 4)
    expected_ll = -np.mean(np.log([0.9, 0.4, 0.4, 0.9]))
    assert m["log_loss"] == pytest.approx(expected_ll)
    assert m["base_rate"] == 0.5


def test_single_class_has_no_auc_and_no_error():
    m = classification_metrics(np.zeros(5), np.full(5, 0.2))
    assert m["roc_auc"] is None and m["accuracy"] == 1.0 and m["precision"] == 0.0


def test_classification_baseline_is_majority_class_and_training_base_rate():
    y = np.array([0, 0, 0, 1])
    b = classification_baseline(y, train_base_rate=0.2)
    assert b["majority_class"] == 0 and b["accuracy"] == 0.75
    assert b["roc_auc"] == 0.5 and b["balanced_accuracy"] == 0.5
    assert b["brier"] == pytest.approx((3 * 0.04 + 0.64) / 4)
    assert b["log_loss"] == pytest.approx(-(3 * np.log(0.8) + np.log(0.2)) / 4)


def test_regression_metrics_and_persistence_by_hand():
    close = np.array([100.0, 100.0, 100.0, 100.0])
    actual = np.array([101.0, 99.0, 102.0, 100.0])
    forecast = np.array([100.5, 100.5, 101.0, 100.0])
    m = regression_metrics(actual, forecast, close)
    assert m["mae"] == pytest.approx((0.5 + 1.5 + 1.0 + 0.0) / 4)
    assert m["rmse"] == pytest.approx(np.sqrt((0.25 + 2.25 + 1.0) / 4))
    assert m["mape"] == pytest.approx(100 * np.mean([0.5 / 101, 1.5 / 99, 1 / 102, 0]))
    # rows 0..2 moved and were called: up/up ok, up/down wrong, up/up ok; row 3 did not move
    assert m["directional_accuracy"] == pytest.approx(2 / 3)
    base = persistence_baseline(actual, close)
    assert base["mae"] == pytest.approx((1 + 1 + 2 + 0) / 4)
    assert base["directional_accuracy"] is None
    assert base["up_rate"] == pytest.approx(2 / 3) and base["majority_direction"] == pytest.approx(
        2 / 3
    )
    assert skill(m["mae"], base["mae"]) == pytest.approx(1 - 0.75 / 1.0)


def test_skill_is_zero_for_persistence_and_negative_when_worse():
    assert skill(2.0, 2.0) == 0.0
    assert skill(3.0, 2.0) == pytest.approx(-0.5)
    assert skill(1.0, 0.0) is None


def test_evaluate_puts_each_metric_beside_its_baseline():
    y = np.array([0, 1, 0, 1, 1])
    out = evaluate(Task.CLASSIFICATION, y, np.full(5, 0.6), close=np.ones(5), train_actual=[0, 1])
    assert out["baseline"]["train_base_rate"] == 0.5
    assert out["skill"] == pytest.approx(1 - out["metrics"]["brier"] / 0.25)
    close = np.array([10.0, 11.0])
    reg = evaluate("regression", close + 1, close, close=close, train_actual=close)
    assert reg["skill"] == 0.0 and reg["metrics"]["mae"] == reg["baseline"]["mae"] == 1.0
