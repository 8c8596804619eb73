"""The Training page in a real browser: no coin preselected, the form kept across a reload, train
one coin with tiny settings, see it in the registry."""

from __future__ import annotations

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
    assert page.get_by_role("button", name="Train").is_disabled()  # no coin preselected
    page.get_by_text("Train is off: Pick at least one coin to train.").wait_for(timeout=10_000)
    coins.locator("input").click()
    page.keyboard.type("Bitcoin")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")

    page.get_by_text("Settings", exact=True).click()
    for label, value in TINY.items():
        field = page.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Tab")
    page.wait_for_timeout(1500)  # let the last change's rerun save the form

    page.reload()  # the form keeps what was picked and typed
    page.get_by_role("heading", name="Training").wait_for(timeout=30_000)
    coins = page.get_by_test_id("stMultiSelect")
    coins.get_by_text("Bitcoin (BTC)").wait_for(timeout=30_000)
    page.get_by_text("Settings", exact=True).click()
    for label, value in TINY.items():
        assert page.get_by_label(label, exact=True).input_value() == value, label
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
