"""The seam check (core.data.seam), the quarantine it feeds (core.data.quarantine), and how a
failed coin is said (core.data.fetch_status)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from core.data import quarantine, store
from core.data.fetch_status import data_age, failure_sentence
from core.data.seam import find_seams
from core.data.store import normalize_candles
from core.errors import NoDataError
from tests.homes import env_paths


def candles(start: str, prices: list[float]) -> pd.DataFrame:
    """Hourly candles from ``start``; each opens where the previous one closed."""
    opens = pd.date_range(start, periods=len(prices), freq="h", tz="UTC")
    ms = opens.as_unit("ms").asi8
    previous = [prices[0], *prices[:-1]]
    return normalize_candles(
        pd.DataFrame(
            {
                "open_time": ms,
                "open": previous,
                "high": [max(a, b) for a, b in zip(previous, prices, strict=True)],
                "low": [min(a, b) for a, b in zip(previous, prices, strict=True)],
                "close": prices,
                "volume": 1.0,
                "close_time": ms + 3_599_999,
                "quote_asset_volume": 1.0,
                "number_of_trades": 1,
                "taker_buy_base_volume": 0.5,
                "taker_buy_quote_volume": 0.5,
            }
        )
    )


STORED = candles("2026-01-01 00:00", [100.0, 101.0, 100.5, 102.0])


def test_a_top_up_ten_times_higher_is_a_tail_seam_with_both_prices():
    new = candles("2026-01-01 04:00", [1_020.0, 1_025.0])
    new.loc[0, "open"] = 1_020.0
    after = pd.concat([STORED, new], ignore_index=True)
    (seam,) = find_seams(STORED, after, symbol="BTCUSDT", interval="1h")
    assert seam.side == "tail"
    assert seam.stored_price == 102.0 and seam.new_price == 1_020.0
    assert seam.stored_time == pd.Timestamp("2026-01-01 03:00", tz="UTC")
    assert seam.new_time == pd.Timestamp("2026-01-01 04:00", tz="UTC")
    assert round(seam.change, 6) == 9.0
    text = seam.sentence()
    assert "BTCUSDT 1h" in text and "+900%" in text and "2026-01-01 04:00 UTC" in text
    assert "different sources" in text and "check the base URL" in text


def test_a_normal_hour_is_no_seam_and_the_threshold_is_relative():
    after = pd.concat([STORED, candles("2026-01-01 04:00", [103.0])], ignore_index=True)
    after.loc[4, "open"] = 102.0 * 1.15  # a 15% gap: large for an hour, under the 20% default
    assert find_seams(STORED, after, symbol="BTCUSDT", interval="1h") == []
    assert len(find_seams(STORED, after, symbol="BTCUSDT", interval="1h", threshold=0.1)) == 1


def test_a_drop_to_a_tenth_and_a_prepended_head_are_seams_too():
    head = candles("2025-12-31 22:00", [9.0, 10.0])  # closes at 10 before an open of 100
    tail = candles("2026-01-01 04:00", [10.2])
    tail.loc[0, "open"] = 10.2
    after = pd.concat([head, STORED, tail], ignore_index=True)
    seams = find_seams(STORED, after, symbol="ETHUSDT", interval="1h")
    assert [s.side for s in seams] == ["tail", "head"]
    assert round(seams[0].change, 2) == -0.9 and round(seams[1].change, 2) == -0.9
    assert "closes at 10" in seams[1].sentence()


def test_nothing_stored_before_or_nothing_new_is_no_seam():
    assert find_seams(STORED.iloc[0:0], STORED, symbol="BTCUSDT", interval="1h") == []
    assert find_seams(STORED, STORED, symbol="BTCUSDT", interval="1h") == []


def test_candles_for_stored_hours_must_agree_with_them():
    same = STORED.copy()
    same["close"] = same["close"] * 1.004  # within 0.5%: rounding, the same source
    assert find_seams(STORED, same, symbol="BTCUSDT", interval="1h") == []
    other = STORED.iloc[1:3].copy()
    other["close"] = other["close"] * 0.48  # another price series for the same hours
    (seam,) = find_seams(STORED, other, symbol="BTCUSDT", interval="1h")
    assert seam.side == "overlap" and seam.count == 2
    assert "2 new candle(s) for hours already stored disagree" in seam.sentence()
    assert "-52.0%" in seam.sentence()


def test_across_a_long_gap_the_allowed_jump_grows_like_a_random_walk():
    months_later = candles("2026-03-01 00:00", [150.0])  # 1,400 hours after the stored run
    months_later.loc[0, "open"] = 150.0  # +47% over two months: a market, not a splice
    assert find_seams(STORED, months_later, symbol="BTCUSDT", interval="1h") == []
    next_hour = candles("2026-01-01 04:00", [150.0])
    next_hour.loc[0, "open"] = 150.0
    assert [s.side for s in find_seams(STORED, next_hour, symbol="BTCUSDT", interval="1h")] == [
        "tail"
    ]


def test_admit_holds_what_does_not_fit_and_writes_nothing_to_the_store(home):
    store.save_candles(STORED, "BTCUSDT")
    before = store.candle_path("BTCUSDT").read_bytes()
    fits = candles("2026-01-01 04:00", [102.5])
    assert (
        quarantine.admit(
            STORED, fits, symbol="BTCUSDT", interval="1h", source="x", paths=env_paths()
        )
        is None
    )
    assert quarantine.pending("BTCUSDT", paths=env_paths()) is None
    new = candles("2026-01-01 04:00", [1_020.0, 1_025.0])
    new.loc[0, "open"] = 1_020.0
    conflict = quarantine.admit(
        STORED, new, symbol="BTCUSDT", interval="1h", source="http://x", paths=env_paths()
    )
    assert conflict is not None and conflict == quarantine.pending("BTCUSDT", paths=env_paths())
    assert conflict.rows == 2 and conflict.stored_rows == 4 and conflict.source == "http://x"
    assert conflict.sentence().startswith(
        "BTCUSDT 1h: 2 new candle(s) from http://x (2026-01-01 04:00 to 2026-01-01 05:00 UTC) "
        "were not stored and are held in quarantine. Price jump at the seam of BTCUSDT 1h"
    )
    assert "python -m core data resolve --coin BTC --replace" in conflict.sentence()
    pd.testing.assert_frame_equal(quarantine.held_candles("BTCUSDT", paths=env_paths()), new)
    assert store.candle_path("BTCUSDT").read_bytes() == before
    assert (
        quarantine.held_path("BTCUSDT", paths=env_paths()).parent
        == home / "data" / "quarantine" / "conflicts"
    )
    log = (home / "logs" / "dataset_fetch.log").read_text()
    assert "WARNING" in log and "Price jump at the seam of BTCUSDT" in log


def test_resolve_replace_keeps_the_old_series_aside_and_discard_keeps_the_stored(home):
    new = candles("2026-01-01 04:00", [1_020.0])
    new.loc[0, "open"] = 1_020.0
    for symbol in ("BTCUSDT", "ETHUSDT"):
        store.save_candles(STORED, symbol)
        quarantine.admit(
            STORED, new, symbol=symbol, interval="1h", source="http://x", paths=env_paths()
        )
    old = store.candle_path("ETHUSDT").read_bytes()
    assert [c.symbol for c in quarantine.conflicts(paths=env_paths())] == ["BTCUSDT", "ETHUSDT"]
    said = quarantine.resolve("BTC", replace=True, paths=env_paths())
    assert said.startswith("BTCUSDT 1h now holds the 1 candle(s) from http://x")
    pd.testing.assert_frame_equal(store.load_candles("BTCUSDT"), new)
    (aside,) = (home / "data" / "quarantine").glob("BTCUSDT-1h.replaced.*.parquet")
    pd.testing.assert_frame_equal(store.normalize_candles(pd.read_parquet(aside)), STORED)
    assert quarantine.resolve("ETH", replace=False, paths=env_paths()).startswith(
        "Discarded the 1 held candle(s)"
    )
    assert store.candle_path("ETHUSDT").read_bytes() == old
    assert (
        quarantine.conflicts(paths=env_paths()) == []
        and not quarantine.held_path("ETHUSDT", paths=env_paths()).exists()
    )
    with pytest.raises(NoDataError, match="no conflict to resolve"):
        quarantine.resolve("ETH", replace=True, paths=env_paths())


def test_a_failed_coin_says_what_failed_how_old_its_data_is_and_what_to_do():
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    last = pd.Timestamp("2025-05-30 23:00", tz="UTC")
    reason = (
        "Cannot reach http://127.0.0.1:9 (connection refused): check the network connection "
        "and the address (--base-url or BINANCE_BASE_URL), then fetch again."
    )
    text = failure_sentence("BTCUSDT", reason, last, "1h", now=now)
    assert text.startswith("BTCUSDT failed: Cannot reach http://127.0.0.1:9")
    assert "then fetch again; the stored candles end 2025-05-30 23:00 UTC, 18.2 months old." in text
    assert ". " not in text and text.endswith(".")  # one sentence
    assert failure_sentence("FOOUSDT", "unknown symbol", None).endswith(
        "FOOUSDT failed: unknown symbol; nothing is stored yet."
    )


def test_data_age_in_hours_then_days():
    now = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    assert data_age(pd.Timestamp("2026-01-02 11:00", tz="UTC"), now=now).endswith(
        "less than an hour old"
    )
    assert data_age(pd.Timestamp("2026-01-02 08:00", tz="UTC"), now=now).endswith("3 hours old")
    assert data_age(pd.Timestamp("2025-12-01 11:00", tz="UTC"), now=now).endswith("32.0 days old")
    tokyo = data_age(  # the dashboard writes the time in the viewer's zone
        pd.Timestamp("2025-12-01 11:00", tz="UTC"),
        now=now,
        when=lambda t: f"{t.tz_convert('Asia/Tokyo'):%Y-%m-%d %H:%M} JST",
    )
    assert tokyo.startswith("the stored candles end 2025-12-01 20:00 JST, ") and "UTC" not in tokyo
