"""The Models page's forecast plot: the persistence forecast beside the model's, told apart."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ui.model_charts import forecast_figure, persistence_words


def _price_predictions(n: int = 700, *, lag: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n + 1)))
    # a "model" that is persistence nudged by ``lag`` of the last move: no real skill
    forecast = close[:-1] * (1 + lag)
    return pd.DataFrame(
        {
            "open_time": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "split": ["fold1"] * 100 + ["test"] * (n - 100),
            "close": close[:-1],
            "forecast": forecast,
            "actual": close[1:],
        }
    )


def test_the_price_forecast_plot_draws_persistence_beside_the_model_in_its_own_colour():
    preds = _price_predictions(lag=0.002)
    fig = forecast_figure(preds)
    traces = {t.meta: t for t in fig.data}
    assert set(traces) == {"actual", "persistence", "forecast"}
    test = preds[preds["split"] == "test"].tail(168)  # a week: a one-hour lag shows
    np.testing.assert_allclose(traces["persistence"].y, test["close"].to_numpy())
    np.testing.assert_allclose(traces["forecast"].y, test["forecast"].to_numpy())
    colours = {t.line.color for t in fig.data}
    assert len(colours) == 3, "actual, model and persistence each have their own colour"
    subtitle = fig.layout.title.subtitle.text.replace("<br>", " ")
    assert "over the 600 test candles" in subtitle
    assert "larger than persistence's: no better than repeating the last close" in subtitle


def test_the_words_say_when_the_model_beats_persistence_and_by_how_much():
    rng = np.random.default_rng(5)
    actual = rng.normal(0, 0.01, 400)
    preds = pd.DataFrame(
        {
            "open_time": pd.date_range("2024-01-01", periods=400, freq="h", tz="UTC"),
            "split": "test",
            "close": 100.0,
            "forecast_return": actual * 0.5,  # half of every move, the right way
            "actual": actual,
        }
    )
    words = persistence_words(preds, column="forecast_return")
    naive = np.mean(np.abs(actual))
    assert f"{np.mean(np.abs(actual * 0.5)) / naive:.0%}" == "50%"
    assert "50.0% smaller than persistence's" in words and "persistence (no change)" in words
    fig = forecast_figure(preds, column="forecast_return")
    assert not np.any(next(t for t in fig.data if t.meta == "persistence").y)
