"""In Chromium: the Charts page's expected-move band, coarse indicators and date Window; the
Training page's results table with collapsed logs."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect

from core.atomic import atomic_write_json
from core.data.store import save_candles
from core.registry.model_registry import ModelRegistry
from core.volatility.train import train_volatility
from tests.browser.conftest import assert_no_exception
from tests.vol_sim import garch_candles

_TRACE_METAS = "() => document.querySelector('.js-plotly-plot').data.map(t => t.meta || '')"


@pytest.mark.browser
def test_charts_draw_the_band_ahead_of_the_last_candle_and_coarse_indicators(
    home: Path, start_app, browser_page
):
    candles = garch_candles(12000, seed=11)
    save_candles(candles, "BTCUSDT")
    train_volatility("BTC", estimator="har", registry=ModelRegistry(), candles=candles)
    last = candles["open_time"].iloc[-1]
    url = start_app(CRYPTOVOLT_NOW=(last + pd.Timedelta(minutes=90)).isoformat())
    page = browser_page
    page.goto(f"{url}/charts")
    expect(page.get_by_role("heading", name="Charts")).to_be_visible(timeout=60_000)
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Expected move ahead of the last candle, from vol_har_btcusdt v1"))
    # the band's fans are drawn (filled paths) and the time axis reaches 24 h past the candles
    expect(page.locator(".js-plotly-plot g.scatterlayer path.js-fill")).to_have_count(3)
    metas = page.evaluate(_TRACE_METAS)
    assert {"expected_move_50", "expected_move_80", "expected_move_90"} <= set(metas)
    right = page.evaluate(
        "() => document.querySelector('.js-plotly-plot')._fullLayout.xaxis.range[1]"
    )
    assert pd.Timestamp(right) >= (last + pd.Timedelta(hours=25)).tz_convert(None)
    expect(page.get_by_text("Window (UTC dates)")).to_be_visible()
    assert_no_exception(page)

    page.get_by_role("radio", name="all", exact=True).click()
    expect(page.get_by_text("the indicators drawn are computed on these 6h candles", exact=False))
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=60_000)
    assert_no_exception(page)


def _write_job(home: Path, job_id: str, result: list[dict]) -> None:
    atomic_write_json(
        home / "runs" / job_id / "status.json",
        {
            "job_id": job_id,
            "symbol": "BTCUSDT",
            "models": ["xgboost"],
            "state": "succeeded",
            "created_ns": time.time_ns(),
            "started_at": "2025-06-01T10:00:00+00:00",
            "finished_at": "2025-06-01T10:01:05+00:00",
            "result": result,
        },
    )
    (home / "runs" / job_id / "job.log").write_text("a line of the training log\n")


@pytest.mark.browser
@pytest.mark.slow
def test_training_page_after_a_run_is_a_results_table_with_logs_collapsed(
    home_with_sample: Path, start_app, browser_page
):
    from core.jobs import make_specs
    from core.jobs.results import model_result
    from core.training.train import train_coin

    [spec] = make_specs(["BTC"], models="xgboost", trees=5, depth=2)
    train_coin("BTC", models=spec.models, settings=spec.settings)  # v1, the champion
    [trained] = train_coin("BTC", models=spec.models, settings=spec.settings)  # v2, this job's
    assert trained.metadata.version == "v2"
    _write_job(
        home_with_sample,
        "20250601-100000-btcusdt-aaaa",
        [model_result(trained.metadata.to_dict()).to_dict()],
    )
    page = browser_page
    page.goto(f"{start_app()}/training")
    results = page.locator(".st-key-training_results")
    expect(results.get_by_text("Bitcoin (BTC)")).to_be_visible(timeout=60_000)
    expect(results.get_by_role("button", name="Open", exact=True)).to_be_visible()
    # the log and the per-version paragraphs are folded: their text is not shown
    expect(page.get_by_text("a line of the training log")).not_to_be_visible()
    expect(page.get_by_text("Promoted: it is the champion")).not_to_be_visible()
    folded = page.locator('[data-testid="stExpander"] details')
    expect(folded.first).to_be_attached()
    for i in range(folded.count()):
        expect(folded.nth(i)).not_to_have_attribute("open", "")
    assert_no_exception(page)
    # at 800 px (sidebar open) each row's button still shows its whole label, not "O…"
    page.set_viewport_size({"width": 800, "height": 1000})
    page.wait_for_function(
        """() => {
            const labels = [...document.querySelectorAll(
                '.st-key-training_results button .stMarkdownEllipsis')];
            return labels.length > 0 && labels.every(e => e.scrollWidth <= e.clientWidth);
        }"""
    )
    results.get_by_role("button", name="Open", exact=True).click()
    expect(page.get_by_role("heading", name="Models", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_text("xgboost_btcusdt").first).to_be_visible()
    # Open shows the version this job trained (v2), not the first, and the URL names it
    expect(page).to_have_url(re.compile(r"/models\?coin=BTCUSDT&model=xgboost_btcusdt&version=v2$"))
    expect(page.get_by_role("radio", name="v2", exact=True)).to_be_checked()
    assert_no_exception(page)
