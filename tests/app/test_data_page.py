"""The Data page under AppTest: defaults, the bundled sample, a fetch job against the fake Binance
(its progress read from disk, found again by a fresh session, cancelled from the page)."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import jobs
from core.data import store
from core.data.coins import DEFAULT_COINS
from tests.fake_binance import FakeBinance
from tests.homes import env_paths, env_runs
from tests.waiting import APP_TIMEOUT, took_sigterm, wait_until
from ui import state

ROOT = Path(__file__).resolve().parents[2]


def _wait_finished(job_id: str, timeout: float = 120.0) -> jobs.JobStatus:
    return wait_until(
        lambda: (found := jobs.status(job_id, runs=env_runs())).finished and found,
        timeout,
        f"job {job_id} to end",
        details=lambda: jobs.tail_log(job_id, runs=env_runs()),
    )


def _progress_texts(at: AppTest) -> str:
    """The overall bar's text and every coin's bar (HTML in markdown)."""
    bars = [p.proto.text for p in at.get("progress")]
    return " ".join(bars + [m.value for m in at.markdown if 'class="cv-coin"' in m.value])


def open_data_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    return at


def test_defaults_ten_coins_1h_two_years_and_the_fetch_button():
    at = open_data_page()
    coins = at.multiselect(key=state.FETCH_COINS)
    assert coins.value == list(DEFAULT_COINS)
    assert "Polygon (POL, formerly MATIC)" in coins.options
    assert at.selectbox(key=state.FETCH_INTERVAL).value == "1h"
    assert at.selectbox(key=state.FETCH_DAYS).value == 730
    labels = [b.label for b in at.button]
    assert "Fetch 2 years" in labels and "Load bundled sample" in labels
    captions = " ".join(c.value for c in at.caption)
    assert "9 coins" in captions and "2024-05-01" in captions and "2025-05-30" in captions
    assert "POL is not in it" in captions
    table = at.dataframe[0].value
    assert list(table["symbol"]) == list(DEFAULT_COINS)
    assert set(table["status"]) == {"not fetched"}


def test_range_choice_renames_the_button():
    at = open_data_page()
    at.selectbox(key=state.FETCH_DAYS).set_value(90).run()
    assert "Fetch 90 days" in [b.label for b in at.button]


def test_load_sample_shows_the_coverage_table():
    at = open_data_page()
    next(b for b in at.button if b.label == "Load bundled sample").click().run()
    assert not at.exception
    assert "9 coins" in at.success[0].value
    table = at.dataframe[0].value.set_index("symbol")
    assert table.loc["BTCUSDT", "rows"] == 9_457 and table.loc["ADAUSDT", "rows"] == 8_332
    assert table.loc["BTCUSDT", "status"] == "partial"
    assert table.loc["POLUSDT", "status"] == "not fetched"
    assert table.loc["BTCUSDT", "first candle (UTC)"] == "2024-05-01 00:00"
    assert table.loc["POLUSDT", "first candle (UTC)"] == ""  # empty, not "None"
    assert table.loc["ETHUSDT", "missing hours"] == 0
    assert table.loc["ETHUSDT", "size on disk"].endswith("KB")
    assert len(store.list_stored()) == 9


@pytest.mark.slow
def test_fetch_runs_in_the_background_and_ends_in_the_coverage_table(monkeypatch):
    with FakeBinance(listed_hours=48) as fake:
        monkeypatch.setenv("BINANCE_BASE_URL", fake.url)
        at = open_data_page()
        at.multiselect(key=state.FETCH_COINS).set_value(["BTCUSDT", "POLUSDT"]).run()
        next(b for b in at.button if b.label == "Fetch 2 years").click().run()
        assert not at.exception
        job = _wait_finished(at.session_state[state.FETCH_JOB])
        assert job.state is jobs.JobState.SUCCEEDED and not job.error, job
        at.run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("symbol")
    assert list(table["status"]) == ["up to date", "up to date"]
    assert (table["rows"] >= 47).all()
    assert any("2 of 2 done" in p.proto.text for p in at.get("progress"))


@pytest.mark.slow
def test_fetch_job_is_on_disk_and_a_fresh_session_finds_it_running(monkeypatch):
    # held requests keep the job running while a second session (as after a server restart) opens
    with FakeBinance(listed_hours=3_000) as fake:
        fake.hold()
        monkeypatch.setenv("BINANCE_BASE_URL", fake.url)
        at = open_data_page()
        at.multiselect(key=state.FETCH_COINS).set_value(["BTCUSDT", "ETHUSDT"]).run()
        next(b for b in at.button if b.label == "Fetch 2 years").click().run()
        job_id = at.session_state[state.FETCH_JOB]
        assert [j.job_id for j in jobs.list_jobs(kind="fetch", runs=env_runs())] == [job_id]

        fresh = open_data_page()  # no session state: the page must find the job from disk
        assert fresh.session_state[state.FETCH_JOB] == job_id
        fetch = next(b for b in fresh.button if b.label == "Fetch 2 years")
        assert fetch.disabled, "a second fetch cannot start while one runs"
        assert 'data-symbol="BTCUSDT"' in _progress_texts(fresh)
        assert 'data-symbol="ETHUSDT"' in _progress_texts(fresh)
        fake.release()
        final = _wait_finished(job_id)
        fresh.run()
    assert final.state is jobs.JobState.SUCCEEDED
    assert [c.state for c in final.coins] == ["up to date", "up to date"]
    assert "2 of 2 done" in _progress_texts(fresh)
    table = fresh.dataframe[0].value.set_index("symbol")
    assert table.loc["BTCUSDT", "status"] == "up to date"


@pytest.mark.slow
def test_cancel_button_stops_the_fetch_job_and_keeps_what_it_fetched(monkeypatch):
    # Ten coins, 180 pages, 0.5 s each. Once a coin's first pages are on disk the fake holds
    # later requests, so the cancel lands mid-fetch however slowly the page runs; the held
    # answers are given once the job is stopping, so it saves what it has and ends.
    with FakeBinance(listed_hours=20_000, latency=0.5) as fake:
        monkeypatch.setenv("BINANCE_BASE_URL", fake.url)
        at = open_data_page()
        next(b for b in at.button if b.label == "Fetch 2 years").click().run()
        job_id = at.session_state[state.FETCH_JOB]
        wait_until(
            store.list_stored,
            120,
            "the fetch's first pages to be saved",
            details=lambda: jobs.tail_log(job_id, runs=env_runs()),
        )
        fake.hold()
        at.run()
        pid = jobs.status(job_id, runs=env_runs()).pid
        assert pid, jobs.status(job_id, runs=env_runs())
        click = threading.Thread(target=at.button(key="fetch_cancel").click().run)
        click.start()
        wait_until(lambda: took_sigterm(pid), 120, "the job to take the cancel's SIGTERM")
        fake.release()
        click.join(APP_TIMEOUT)
        assert not click.is_alive(), "the page's cancel run did not end"
    assert not at.exception
    assert jobs.status(job_id, runs=env_runs()).state is jobs.JobState.CANCELLED
    assert any("cancelled" in w.value for w in at.warning)
    stored = sum(len(store.load_candles(s)) for s, _ in store.list_stored())
    assert 0 < stored < 10 * 17_520


@pytest.mark.slow
def test_failed_coin_is_red_not_counted_as_done_and_says_why_in_full(monkeypatch):
    with FakeBinance(listed_hours=48, unknown=("ETHUSDT",)) as fake:
        monkeypatch.setenv("BINANCE_BASE_URL", fake.url)
        at = open_data_page()
        at.multiselect(key=state.FETCH_COINS).set_value(["BTCUSDT", "ETHUSDT"]).run()
        next(b for b in at.button if b.label == "Fetch 2 years").click().run()
        _wait_finished(at.session_state[state.FETCH_JOB])
        at.run()
    assert not at.exception
    (overall,) = at.get("progress")
    assert overall.proto.value < 100  # the failed coin's range is not counted
    assert "1 of 2 done · **1 failed**" in overall.proto.text
    assert "about 0 s left" not in overall.proto.text
    bars = {
        m.value.split('data-symbol="')[1].split('"')[0]: m.value
        for m in at.markdown
        if 'class="cv-coin"' in m.value
    }
    assert 'data-state="up to date"' in bars["BTCUSDT"]
    eth = bars["ETHUSDT"]
    assert 'data-state="failed"' in eth and "#e5484d" in eth  # red bar and badge
    assert (
        "ETHUSDT failed: unknown symbol ETHUSDT: Binance does not list this pair. Check the "
        "spelling, or use a pair that trades against USDT; nothing is stored yet." in eth
    )
    table = at.dataframe[0].value.set_index("symbol")
    assert table.loc["ETHUSDT", "status"] == "failed"
    assert table.loc["ETHUSDT", "reason"].endswith("nothing is stored yet.")
    assert any(e.label == "Details: this fetch's log" for e in at.expander)


def _button(at: AppTest, label: str, key: str | None = None):
    return next(b for b in at.button if b.label == label and (key is None or b.key == key))


@pytest.mark.slow
def test_a_top_up_from_another_source_is_a_red_conflict_row_until_replaced_or_discarded(
    monkeypatch,
):
    from core.data import quarantine
    from core.data.fetch import fetch_coins

    with FakeBinance(listed_hours=48) as fake:
        fetch_coins(["BTC", "ETH"], days=3, base_url=fake.url)
        for symbol in ("BTCUSDT", "ETHUSDT"):
            store.save_candles(store.load_candles(symbol).iloc[:-2], symbol)
        stored_eth = store.candle_path("ETHUSDT").read_bytes()
        fake.set_scale("BTCUSDT", 0.48)
        fake.set_scale("ETHUSDT", 2.1)
        monkeypatch.setenv("BINANCE_BASE_URL", fake.url)
        at = open_data_page()
        at.multiselect(key=state.FETCH_COINS).set_value(["BTCUSDT", "ETHUSDT"]).run()
        _button(at, "Fetch 2 years").click().run()
        _wait_finished(at.session_state[state.FETCH_JOB])
        at.run()
    assert not at.exception
    bars = " ".join(m.value for m in at.markdown if 'class="cv-coin"' in m.value)
    assert bars.count('data-state="conflict"') == 2 and "#e5484d" in bars
    (overall,) = at.get("progress")
    assert overall.proto.value < 100 and "0 of 2 done · **2 conflict**" in overall.proto.text
    table = at.dataframe[0].value.set_index("symbol")
    assert list(table["status"]) == ["conflict", "conflict"]
    assert table.loc["BTCUSDT", "reason"].startswith("BTCUSDT 1h: 2 new candle(s) from")
    assert "-52%" in table.loc["BTCUSDT", "reason"] and "+110%" in table.loc["ETHUSDT", "reason"]
    errors = [e.value for e in at.error if "were not stored and are held in quarantine" in e.value]
    assert len(errors) == 2 and errors[0].startswith("BTCUSDT 1h") and not at.warning
    held = quarantine.held_candles("BTCUSDT", paths=env_paths())
    before = store.candle_path("BTCUSDT").read_bytes()
    _button(at, "Replace with the new candles", "conflict_replace_BTCUSDT_1h").click().run()
    assert not at.exception  # a dialog asks first; nothing is replaced yet
    assert store.candle_path("BTCUSDT").read_bytes() == before
    _button(at, "Yes, replace", "conflict_yes_BTCUSDT_1h").click().run()
    assert not at.exception
    assert at.success[-1].value.startswith("BTCUSDT 1h now holds the 2 candle(s) from")
    pd.testing.assert_frame_equal(store.load_candles("BTCUSDT"), held)
    _button(at, "Discard the new candles", "conflict_discard_ETHUSDT_1h").click().run()
    assert at.success[-1].value.startswith("Discarded the 2 held candle(s) of ETHUSDT 1h")
    assert store.candle_path("ETHUSDT").read_bytes() == stored_eth
    table = at.dataframe[0].value.set_index("symbol")
    assert "conflict" not in set(table["status"]) and not at.error
    assert quarantine.conflicts(paths=env_paths()) == []


def _fetched_btc() -> bytes:
    """Two days of BTC candles fetched from the fake (2026: outside the sample's span)."""
    from core.data.fetch import fetch_coins

    with FakeBinance(listed_hours=48) as fake:
        fetch_coins(["BTC"], days=3, base_url=fake.url)
    return store.candle_path("BTCUSDT").read_bytes()


def test_load_sample_over_fetched_candles_asks_first_and_replaces_one_coin(home):
    fetched = _fetched_btc()
    at = open_data_page()
    _button(at, "Load bundled sample").click().run()
    assert not at.exception
    assert at.session_state[state.SAMPLE_CONFIRM] is True
    dialog = " ".join(m.value for m in at.markdown)
    assert "These coins already have fetched candles" in dialog and "**Bitcoin (BTC)**: 4" in dialog
    assert [b.key for b in at.button if b.label == "Replace this coin"] == [
        "sample_replace_BTCUSDT"
    ]
    assert store.list_stored() == [("BTCUSDT", "1h")]  # nothing loaded before the answer
    assert store.candle_path("BTCUSDT").read_bytes() == fetched
    _button(at, "Replace this coin").click().run()
    assert not at.exception and state.SAMPLE_CONFIRM not in at.session_state
    assert len(store.load_candles("BTCUSDT")) == 9_457  # the sample's BTC, nothing else
    (aside,) = (home / "data" / "quarantine").glob("BTCUSDT-1h.replaced.*.parquet")
    assert aside.read_bytes() == fetched
    assert len(store.list_stored()) == 9  # the other coins were loaded where they fit
    note = at.success[0].value
    assert note.startswith("Loaded the bundled sample: 9 coins") and "replaced BTCUSDT" in note
    assert not any("delete" in m.value for m in [*at.markdown, *at.success, *at.warning])
    _button(at, "Load bundled sample").click().run()  # only the sample is stored now: no asking
    assert state.SAMPLE_CONFIRM not in at.session_state


def test_load_sample_dialog_cancel_writes_nothing(home):
    fetched = _fetched_btc()
    at = open_data_page()
    _button(at, "Load bundled sample").click().run()
    _button(at, "Cancel", "sample_cancel").click().run()
    assert not at.exception and state.SAMPLE_CONFIRM not in at.session_state
    assert store.list_stored() == [("BTCUSDT", "1h")]
    assert store.candle_path("BTCUSDT").read_bytes() == fetched
    assert not [b for b in at.button if b.label == "Replace this coin"]
