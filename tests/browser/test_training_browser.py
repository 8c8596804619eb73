"""The Training page in a real browser: train one coin with tiny settings, see it in the registry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.models import DEFAULT_KINDS
from core.registry.model_registry import ModelRegistry
from tests.browser.conftest import assert_no_exception

TINY = {
    "Trees": "5",
    "Depth": "2",
    "Window (candles)": "8",
    "Units": "4",
    "Epochs (max)": "1",
    "Batch size": "256",
}


@pytest.mark.browser
@pytest.mark.slow
def test_train_one_coin_from_the_page_and_see_it_succeed(
    home_with_sample: Path, start_app, browser_page
):
    page = browser_page
    url = start_app()
    page.goto(f"{url}/training")
    page.get_by_role("heading", name="Training").wait_for(timeout=30_000)

    coins = page.get_by_test_id("stMultiSelect")
    coins.get_by_role("button", name=re.compile("Clear all", re.I)).click()
    coins.locator("input").click()
    page.keyboard.type("Bitcoin")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")

    page.get_by_text("Settings").click()
    for label, value in TINY.items():
        field = page.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Tab")
    page.get_by_role("button", name="Train").click()

    page.get_by_text("succeeded").first.wait_for(timeout=180_000)
    assert_no_exception(page)
    page.get_by_text("lstm_btcusdt").first.wait_for(timeout=10_000)
    page.get_by_text("xgboost_btcusdt").first.wait_for(timeout=10_000)

    registry = ModelRegistry()
    names = {m["name"] for m in registry.list_models() if m["promoted"]}
    # the page preselects every default kind: the directional models and the seed's two
    assert names == {f"{kind}_btcusdt" for kind in DEFAULT_KINDS}
    assert registry.get_metadata("xgboost_btcusdt")["params"]["n_estimators"] == 5
    assert registry.get_metadata("lstm_btcusdt")["params"]["window"] == 8
    assert registry.get_metadata("lstm_return_btcusdt")["params"]["window"] == 8
