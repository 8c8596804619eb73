"""Tuning a volatility kind: QLIKE skill on walk-forward folds before the test window, then the
best settings trained, carded with the sweep and judged for promotion like any version."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import SplitConfig, TargetConfig
from core.data.store import save_candles
from core.errors import ConfigError
from core.models.volatility import VolGBMConfig, VolHARConfig
from core.registry.model_registry import ModelRegistry
from core.tuning import TuneSpec, counts, space_for
from core.tuning.objective import InnerData, score_settings
from core.tuning.study import run_sweep
from tests.vol_sim import constant_vol_candles, garch_candles

SPLIT = SplitConfig(folds=2)
HAR6 = VolHARConfig(horizons=(6,))


def _score(candles, cfg=HAR6) -> list[float]:
    data = InnerData.build("vol_har", candles, target=TargetConfig(), split=SPLIT)
    return score_settings(data, cfg)[1]


def test_vol_gbm_has_a_search_space_and_the_har_none() -> None:
    space = space_for("vol_gbm")
    assert {"n_estimators", "max_depth", "learning_rate", "subsample", "cross_asset"} <= set(space)
    assert "window" in space_for("vol_lstm")
    with pytest.raises(ConfigError, match="No search space"):
        space_for("vol_har")


def test_volatility_score_never_sees_the_test_window_and_is_a_qlike_skill() -> None:
    candles = garch_candles(3000, seed=31)
    start = len(candles) - int(round(len(candles) * 0.2))
    changed_test = candles.copy()
    for column in ("open", "high", "low", "close"):
        values = candles[column].to_numpy(dtype="float64", copy=True)
        values[start:] *= 3.0
        changed_test[column] = values
    base = _score(candles)
    assert _score(changed_test) == base
    # nothing to forecast at constant volatility: no skill over the best naive forecast
    assert np.mean(_score(constant_vol_candles(3000, seed=32))) < 0.01
    changed_inner = candles.copy()
    high = candles["high"].to_numpy(dtype="float64", copy=True)
    high[start - 400 : start] *= 1.01
    changed_inner["high"] = high
    assert _score(changed_inner) != base


def test_tune_on_a_vol_kind_registers_a_tuned_version_with_its_card(home) -> None:
    save_candles(garch_candles(2500, seed=41), "BTCUSDT", "1h")
    save_candles(garch_candles(2500, seed=42), "ETHUSDT", "1h")  # BTC's cross-asset reference
    fixed = {"n_estimators": 40, "max_depth": 2, "horizons": (6,), "cross_asset": True}
    spec = TuneSpec("BTC", "vol_gbm", trials=2, split=SPLIT, fixed=fixed)
    study, result = run_sweep(home, spec)
    assert counts(study)["finished"] == 2
    assert "QLIKE" in study.user_attrs["objective"]
    assert result is not None and result.name == "vol_gbm_btcusdt"
    record = ModelRegistry().record("vol_gbm_btcusdt", result.metadata.version)
    card = record.card
    assert card is not None and card.tuning is not None
    assert card.tuning.result.finished == 2 and "learning_rate" in card.tuning.search_space
    assert set(card.tuning.result.best_params) == {"learning_rate", "subsample"}
    assert any(note.startswith("tuned: the best of 2") for note in card.notes)
    settings = record.params["settings"]
    assert settings["learning_rate"] == pytest.approx(
        card.tuning.result.best_params["learning_rate"]
    )
    assert settings["cross_asset"] is True and record.data["context"] == ["ETHUSDT"]
    assert "6h_qlike_vs_best_baseline" in card.gates
    assert result.promoted and "first version" in result.promotion  # the promotion verdict
    assert VolGBMConfig(**settings).n_estimators == 40  # the settings round-trip
