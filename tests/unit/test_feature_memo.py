"""core.features.memo: the feature matrix is computed once per candle content, never stale."""

from __future__ import annotations

import pandas as pd

from core.features import causal
from core.features.memo import by_content, content_key


def test_equal_candles_compute_once_and_any_change_computes_again(btc_candles):
    calls = []

    @by_content(size=2)
    def doubled(frame: pd.DataFrame) -> pd.DataFrame:
        calls.append(len(frame))
        return frame[["close"]] * 2

    first = doubled(btc_candles)
    again = doubled(btc_candles.copy())  # another object, same content
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, again)
    changed = btc_candles.copy()
    changed.loc[changed.index[-1], "close"] += 1e-9
    assert doubled(changed)["close"].iloc[-1] != first["close"].iloc[-1]
    shifted = btc_candles.set_index(btc_candles.index + 1)  # same values, another index
    assert list(doubled(shifted).index) == list(shifted.index)
    assert len(calls) == 3


def test_callers_get_copies_so_the_memo_never_changes(btc_candles):
    causal.compute_features.cache_clear()
    a = causal.compute_features(btc_candles)
    a.iloc[:, :] = 0.0
    b = causal.compute_features(btc_candles)
    assert not (b.fillna(1.0) == 0.0).all().all()


def test_memoised_features_equal_a_fresh_computation(btc_candles):
    causal.compute_features.cache_clear()
    cut = btc_candles.iloc[:3000]
    warm = causal.compute_features(cut)
    causal.compute_features.cache_clear()
    pd.testing.assert_frame_equal(causal.compute_features(cut.copy()), warm)


def test_frames_with_text_columns_are_not_keyed(btc_candles):
    frame = btc_candles.head(3).assign(note=["a", "b", "c"])
    assert content_key(frame) is None
    assert content_key(btc_candles.head(3)) == content_key(btc_candles.head(3).copy())
