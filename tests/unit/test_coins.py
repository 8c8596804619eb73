"""core.data.coins: what users type becomes a safe exchange symbol, with MATIC → POL."""

from __future__ import annotations

import pytest

from core.data.coins import (
    DEFAULT_COINS,
    MATIC_NOTE,
    MATICUSDT_NOTE,
    display_name,
    ensure_tradeable,
    is_stablecoin,
    parse_coin,
    parse_coins,
)
from core.errors import InvalidSymbolError, StablecoinError


@pytest.mark.parametrize("text", ["BTC", "btc", "BTCUSDT", "BTC/USDT", "btc-usdt", " Btc "])
def test_every_spelling_of_bitcoin_is_btcusdt(text):
    coin = parse_coin(text)
    assert (coin.symbol, coin.base, coin.quote, coin.note) == ("BTCUSDT", "BTC", "USDT", "")


def test_matic_means_polusdt_with_a_note():
    coin = parse_coin("matic")
    assert coin.symbol == "POLUSDT" and coin.note == MATIC_NOTE
    assert "2024-09-10" in coin.note and "2024-09-13" in coin.note


def test_explicit_maticusdt_stays_with_a_note_that_it_ended():
    coin = parse_coin("MATICUSDT")
    assert coin.symbol == "MATICUSDT" and coin.note == MATICUSDT_NOTE
    assert "2024-09-10" in coin.note


@pytest.mark.parametrize(
    "text", ["", "  ", "BTC USDT", "../etc", "BTC;rm", "B", "ÄBC", "BTC/USDT/X", "btc/", "a" * 30]
)
def test_anything_but_letters_and_digits_is_refused_before_paths_or_urls(text):
    with pytest.raises(InvalidSymbolError):
        parse_coin(text)


def test_defaults_are_ten_usdt_pairs_and_pol_is_named_for_humans():
    assert len(DEFAULT_COINS) == 10 and all(s.endswith("USDT") for s in DEFAULT_COINS)
    assert "POLUSDT" in DEFAULT_COINS and "MATICUSDT" not in DEFAULT_COINS
    assert display_name("POLUSDT") == "Polygon (POL, formerly MATIC)"
    assert display_name("BTCUSDT") == "Bitcoin (BTC)"


def test_parse_coins_defaults_dedupes_and_keeps_order():
    assert [c.symbol for c in parse_coins(None)] == list(DEFAULT_COINS)
    assert [c.symbol for c in parse_coins("all")] == list(DEFAULT_COINS)
    assert [c.symbol for c in parse_coins("eth, BTC,btcusdt,MATIC")] == [
        "ETHUSDT",
        "BTCUSDT",
        "POLUSDT",
    ]
    assert [c.symbol for c in parse_coins(["sol", "SOL/USDT"])] == ["SOLUSDT"]


@pytest.mark.parametrize("symbol", ["USDCUSDT", "FDUSDUSDT", "DAIUSDT", "TUSDUSDT"])
def test_stablecoins_are_flagged_and_refused_for_training(symbol):
    assert is_stablecoin(symbol) and parse_coin(symbol).stablecoin
    with pytest.raises(StablecoinError, match="volatility"):
        ensure_tradeable(symbol)


def test_real_coins_are_tradeable():
    for symbol in DEFAULT_COINS:
        assert not is_stablecoin(symbol)
        ensure_tradeable(symbol)


def test_a_typed_symbol_that_starts_no_coin_label_is_added_as_typed():
    """The picker (ui.coin_input) lists coins by display_name and matches a label's start: a
    typed symbol steals no coin unless it starts that coin's name."""
    labels = {s: display_name(s) for s in DEFAULT_COINS}
    assert labels["BTCUSDT"] == "Bitcoin (BTC)" and display_name("LTCUSDT") == "LTC"
    assert display_name("ETHBTC") == "Ethereum (ETH) / BTC" and display_name("ltc") == "LTC"

    def prefix_matches(typed: str) -> list[str]:  # what the picker's filter_mode="prefix" keeps
        return [s for s, label in labels.items() if label.lower().startswith(typed.lower())]

    assert prefix_matches("LTC") == []  # nothing to steal Enter: LTC is added as typed
    assert prefix_matches("eth") == ["ETHUSDT"] and prefix_matches("Sol") == ["SOLUSDT"]
    for symbol in DEFAULT_COINS:  # a symbol matches its own coin or none; never another one
        base = parse_coin(symbol).base
        assert set(prefix_matches(base)) <= {symbol} or base == "POL", base


@pytest.mark.parametrize(
    ("text", "base"),
    [("btc/usd", "BTC"), ("BTCUSD", "BTC"), ("eth-usd", "ETH"), ("sol/xyz", "SOL")],
)
def test_a_pair_binance_spot_does_not_have_is_refused_with_what_to_type(text, base):
    with pytest.raises(InvalidSymbolError, match=f"Type {base} or {base}/USDT instead"):
        parse_coin(text)


@pytest.mark.parametrize("text", ["PYUSD", "FDUSD", "TUSD"])
def test_stablecoins_named_usd_are_still_coins_refused_later_for_training(text):
    assert parse_coin(text).stablecoin


@pytest.mark.parametrize("symbol", [*DEFAULT_COINS, "LTCUSDT", "ETHBTC", "MATICUSDT", "BTCEUR"])
def test_parsing_a_parsed_symbol_gives_it_back(symbol):
    assert parse_coin(parse_coin(symbol).symbol).symbol == parse_coin(symbol).symbol
