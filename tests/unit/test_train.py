"""train_coin refuses bad input with messages that say what to do, before any work starts; it
registers each kind with its card, keeps every walk-forward fold before the test window, and
promotes a challenger only when it earns it."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pytest

from core.config import SplitConfig, TargetConfig
from core.errors import ConfigError, InsufficientDataError, NoDataError, StablecoinError
from core.models.settings import DirectionConfig, LSTMConfig, XGBConfig
from core.registry.metadata import ModelMetadata
from core.registry.model_registry import ModelRegistry
from core.training.records import Stage, TrainResult
from core.training.sizing import required_candles
from core.training.train import train_coin
from tests.random_walk import random_walk_candles

TINY_XGB = XGBConfig(n_estimators=10, max_depth=3)
TINY_DIR = DirectionConfig(n_estimators=10, max_depth=2, use_context=False)
HOUR = pd.Timedelta(hours=1)


def test_a_coin_without_data_says_to_fetch_it_first_and_where(home):
    with pytest.raises(NoDataError) as err:
        train_coin("ETH", models=["xgboost"])
    text = str(err.value)
    assert "python -m core fetch --coins ETH" in text and str(home / "data" / "raw") in text


def test_a_stablecoin_is_refused_with_the_reason():
    with pytest.raises(StablecoinError, match="no volatility"):
        train_coin("USDCUSDT", candles=random_walk_candles(3000))


def test_an_unknown_model_kind_is_refused():
    with pytest.raises(ConfigError, match="xgboost"):
        train_coin("BTC", models=["forest"], candles=random_walk_candles(3000))


def test_settings_of_another_kind_are_refused_before_any_work(home):
    with pytest.raises(ConfigError, match="XGBConfig"):
        train_coin(
            "BTC",
            models=["xgboost"],
            settings={"xgboost": LSTMConfig()},
            candles=random_walk_candles(3000),
        )
    assert not (home / "models").exists()


def test_too_few_candles_say_how_many_are_needed(home):
    need = required_candles("xgboost")
    events = []
    with pytest.raises(InsufficientDataError) as err:
        train_coin(
            "BTC", models=["xgboost"], candles=random_walk_candles(need - 1), progress=events.append
        )
    text = str(err.value)
    assert f"{need - 1:,} 1h candles" in text and f"xgboost needs {need:,}" in text
    assert "python -m core fetch --coins BTC" in text
    assert all(e.stage is Stage.LOADING for e in events)  # refused before any fitting
    assert not (home / "models").exists()


def test_required_candles_grow_with_window_folds_and_horizon():
    base = required_candles("xgboost")
    # the folds share the 80% before the test window: 5 blocks of 16% each must hold the
    # warm-up (199) + purge (6) + 229 rows (200 fit rows after the 10% validation slice)
    assert base == 2713
    assert required_candles("xgboost", split=SplitConfig(folds=8)) > base
    assert required_candles("xgboost", target=TargetConfig(horizon=24)) > base
    assert required_candles("xgb_direction") == base  # same features' warm-up
    lstm = required_candles("lstm")
    assert required_candles("lstm", config=LSTMConfig(window=200)) > lstm
    assert required_candles("lstm", config=LSTMConfig(walk_forward=True)) > lstm
    assert required_candles("lstm_return") > lstm  # it runs walk-forward by default


def assert_folds_before_test(registry: ModelRegistry, results: Sequence[TrainResult]) -> None:
    """No walk-forward fold overlaps the test window or its purge, in the registered metadata
    and in the registered predictions: every fold row (and the move over the signal horizon it
    is judged on) ends before the test window starts."""
    for result in results:
        meta = result.metadata
        purge = max(meta.horizon, meta.signal_horizon)
        test_start = pd.Timestamp(meta.split["test"]["start"])
        folds = meta.metrics.walk_forward
        if not folds:
            continue
        predictions = registry.get_predictions(meta.name, meta.version)
        test_rows = predictions[predictions["split"] == "test"]
        assert test_rows["open_time"].min() >= test_start, meta.name
        names = [f"fold{k}" for k in range(1, len(folds) + 1)]
        assert [f.fold for f in folds] == names
        assert set(predictions["split"]) == {*names, "test"}, meta.name
        previous_end = None
        for fold in folds:
            start, end = pd.Timestamp(fold.start), pd.Timestamp(fold.end)
            assert end + purge * HOUR < test_start, (meta.name, fold.fold)
            if previous_end is not None:
                assert start > previous_end  # folds tile forward, no overlap
            previous_end = end
            rows = predictions.loc[predictions["split"] == fold.fold, "open_time"]
            assert len(rows) and rows.min() >= start and rows.max() <= end, fold.fold
            assert rows.max() + purge * HOUR < test_start, (meta.name, fold.fold)


def test_exactly_enough_candles_train_register_and_keep_folds_before_the_test_window(home):
    need = required_candles("xgboost")
    results = train_coin(
        "BTC",
        models=["xgb", "direction"],
        settings={"xgboost": TINY_XGB, "xgb_direction": TINY_DIR},
        candles=random_walk_candles(need, seed=2),
    )
    assert [r.name for r in results] == ["xgboost_btcusdt", "xgb_direction_btcusdt"]
    for result in results:
        meta = result.metadata
        assert isinstance(meta, ModelMetadata)
        assert meta.version == "v1" and meta.data["rows"] == need
        assert len(meta.metrics.walk_forward) == 4
        assert meta.card is not None and meta.card.gates and meta.vote is not None
        assert result.promoted and "first version" in result.promotion
        assert ModelRegistry().record(meta.name).promoted is True
    assert results[0].metadata.params["n_estimators"] == 10
    assert results[1].metadata.vote.up_only is False and results[0].metadata.vote.up_only is True
    assert (home / "logs" / "model_training.log").exists()
    assert_folds_before_test(ModelRegistry(), results)
    frame = ModelRegistry().get_predictions("xgb_direction_btcusdt")
    assert {"future_return", "vol_score", "probability", "actual"} <= set(frame)


def test_a_challenger_that_fails_its_gates_is_registered_but_not_promoted(home):
    candles = random_walk_candles(required_candles("xgboost"), seed=3)
    settings = {"xgboost": TINY_XGB}
    [first] = train_coin("BTC", models=["xgboost"], settings=settings, candles=candles)
    assert first.promoted and first.metadata.version == "v1"
    assert not first.metadata.gates_passed  # a random walk has no edge to find
    [second] = train_coin("BTC", models=["xgboost"], settings=settings, candles=candles)
    assert second.metadata.version == "v2" and not second.promoted
    assert "not promoted" in second.promotion and "v1 stays champion" in second.promotion
    assert ModelRegistry().promoted_version("xgboost_btcusdt") == "v1"
    [forced] = train_coin("BTC", models=["xgboost"], settings=settings, candles=candles, force=True)
    assert forced.promoted and "--force" in forced.promotion
    assert ModelRegistry().promoted_version("xgboost_btcusdt") == "v3"
    assert TrainResult.from_dict(forced.to_dict()) == forced
