"""The Training page in a real browser: no coin preselected, the form kept across a reload, train
one coin with tiny settings, see it in the registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.models import DEFAULT_KINDS
from core.registry.model_registry import ModelRegistry
from tests.browser.conftest import assert_no_exception
from tests.waiting import wait_until
from ui.training_form import settings_path

#: label on the page -> setting name in the saved form
TINY_SETTING = {
    "Trees": "trees",
    "Depth": "depth",
    "Window (candles)": "window",
    "Units": "units",
    "Epochs (max)": "epochs",
    "Batch size": "batch_size",
}
TINY = {
    "Trees": "5",
    "Depth": "2",
    "Window (candles)": "8",
    "Units": "4",
    "Epochs (max)": "1",
    "Batch size": "256",
}


def _saved_form() -> tuple[list[str], dict[str, int]] | None:
    try:
        data = json.loads(settings_path().read_text())
    except (OSError, ValueError):
        return None
    settings = data.get("settings") or {}
    return data.get("coins"), {name: settings.get(name) for name in TINY_SETTING.values()}


@pytest.mark.browser
@pytest.mark.slow
def test_train_one_coin_from_the_page_and_see_it_succeed(
    home_with_sample: Path, start_app, browser_page
):
    page = browser_page
    url = start_app()
    page.goto(f"{url}/training")
    expect(page.get_by_role("heading", name="Training")).to_be_visible(timeout=60_000)

    coins = page.get_by_test_id("stMultiSelect")
    expect(page.get_by_role("button", name="Train")).to_be_disabled()  # no coin preselected
    expect(page.get_by_text("Train is off: Pick at least one coin to train.")).to_be_visible()
    coins.locator("input").click()
    page.keyboard.type("Bitcoin")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")

    page.get_by_text("Settings", exact=True).click()
    for label, value in TINY.items():
        field = page.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Tab")
    # the last change's rerun saves the form: wait for the file, not for a guessed time
    typed = {TINY_SETTING[label]: int(value) for label, value in TINY.items()}
    wait_until(
        lambda: _saved_form() == (["BTCUSDT"], typed),
        90,
        f"the form (BTC, {typed}) saved to {settings_path()}",
        details=lambda: settings_path().read_text() if settings_path().exists() else "no file",
    )

    page.reload()  # the form keeps what was picked and typed
    expect(page.get_by_role("heading", name="Training")).to_be_visible(timeout=60_000)
    coins = page.get_by_test_id("stMultiSelect")
    expect(coins.get_by_text("Bitcoin (BTC)")).to_be_visible(timeout=60_000)
    page.get_by_text("Settings", exact=True).click()
    for label, value in TINY.items():
        expect(page.get_by_label(label, exact=True)).to_have_value(value)
    train = page.get_by_role("button", name="Train")
    expect(train).to_be_enabled()
    train.click()

    expect(page.get_by_text("succeeded").first).to_be_visible(timeout=240_000)
    expect(page.get_by_text("xgb_direction_btcusdt").filter(visible=True).first).to_be_visible()
    expect(page.get_by_text("vol_har_btcusdt").filter(visible=True).first).to_be_visible()
    assert_no_exception(page)

    registry = ModelRegistry()
    names = {m.name for m in registry.records() if m.promoted}
    # the page preselects every default kind: the direction model and the volatility model
    assert names == {f"{kind}_btcusdt" for kind in DEFAULT_KINDS}
    assert registry.record("xgb_direction_btcusdt").params["n_estimators"] == 5
    assert registry.record("xgb_direction_btcusdt").params["max_depth"] == 2
