"""The third estimator (scikit-learn's HistGradientBoosting, one file): its numpy prediction is
sklearn's own at the kept iteration, it stops on the chronological validation slice, it serves
both classification recipes, and it saves and loads without pickle."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from core.config import TargetConfig
from core.models import create_model, kind_info, load_model
from core.models.hist_gb import HGBConfig

TINY = HGBConfig(n_estimators=60, learning_rate=0.1, early_stopping_rounds=5, use_context=False)


@pytest.mark.parametrize("kind", ["hgb", "hgb_direction"])
def test_hist_gb_predicts_what_sklearn_predicts_and_round_trips(kind, btc_candles, tmp_path):
    assert kind_info(kind).estimator_name == "HistGradientBoosting"
    model = create_model(kind, TINY)
    ds = model.make_dataset(btc_candles.iloc[:3000], target=TargetConfig())
    train, valid, test = slice(0, 2000), slice(2006, 2400), slice(2400, None)
    model.fit(ds.X[train], ds.y[train], validation=(ds.X[valid], ds.y[valid]))
    kept = model.summary()["trees"]
    assert (
        0 <= kept < TINY.n_estimators
    )  # stopped early on the validation slice, later trees dropped

    reference = HistGradientBoostingClassifier(
        learning_rate=0.1, max_iter=60, max_depth=6, max_leaf_nodes=TINY.max_leaf_nodes,
        min_samples_leaf=TINY.min_samples_leaf, l2_regularization=TINY.l2_regularization,
        early_stopping=True, scoring="loss", n_iter_no_change=5, random_state=TINY.random_state,
    ).fit(ds.X[train], ds.y[train], X_val=ds.X[valid], y_val=ds.y[valid])  # fmt: skip
    staged = list(reference.staged_predict_proba(ds.X[test]))
    np.testing.assert_allclose(model.predict_raw(ds.X[test]), staged[kept - 1][:, 1], rtol=1e-9)

    p = model.predict_output(ds.X[test])
    assert ((p > 0) & (p < 1)).all() and model.calibrator_ is not None  # Platt on validation
    files = model.save(tmp_path)
    assert sorted(files) == ["model.json", "trees.npz"]
    loaded = load_model(kind, tmp_path)
    np.testing.assert_array_equal(loaded.predict_output(ds.X[test]), p)
    cut = btc_candles.iloc[: ds.position[-1] + 1]
    assert loaded.predict_latest(cut) == pytest.approx(p[-1], rel=1e-9)
