"""Real-data sanity check on the bundled BTC sample: numbers that look too good are bugs.

On hourly BTC, "up 1% in 6 hours" is partly predictable from recent volatility alone (big moves
follow big moves), so an AUC somewhat above 0.5 is expected; above 0.8 would mean leakage. The
next close is not predictable beyond persistence: the LSTM must land within a few percent of it.
"""

from __future__ import annotations

import pytest

from core.config import LSTMConfig, XGBConfig
from core.training.train import train_coin


@pytest.mark.slow
def test_real_btc_sample_gives_plausible_not_miraculous_scores(btc_candles):
    xgb, lstm = train_coin(
        "BTC",
        xgb=XGBConfig(n_estimators=40, max_depth=4),
        lstm=LSTMConfig(window=24, units=8, dense_units=4, epochs=2, batch_size=512),
        candles=btc_candles,
    )
    auc = xgb["metrics"]["test"]["roc_auc"]
    assert 0.5 < auc < 0.8, auc
    assert all(f["metrics"]["roc_auc"] < 0.8 for f in xgb["metrics"]["walk_forward"])
    assert abs(lstm["metrics"]["skill"]) < 0.05, lstm["metrics"]["skill"]
    base = lstm["metrics"]["baseline"]["mae"]
    assert 50 < base < 1000  # BTC's typical hourly move in 2025 is a few hundred dollars
