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


def test_picker_labels_start_with_the_symbol_so_a_typed_symbol_matches_only_its_coin():
    from core.data.coins import picker_label

    labels = {s: picker_label(s) for s in DEFAULT_COINS}
    assert labels["BTCUSDT"] == "BTC · Bitcoin"
    assert labels["POLUSDT"] == "POL · Polygon (formerly MATIC)"
    assert labels["XRPUSDT"] == "XRP"
    assert picker_label("ETHBTC") == "ETH/BTC · Ethereum" and picker_label("LTC") == "LTC"

    def prefix_matches(typed: str) -> list[str]:  # what the picker's filter_mode="prefix" keeps
        return [s for s, label in labels.items() if label.lower().startswith(typed.lower())]

    assert prefix_matches("LTC") == []  # nothing to steal Enter: LTC is added as typed
    assert [parse_coin("LTC").symbol] == ["LTCUSDT"]
    assert prefix_matches("eth") == ["ETHUSDT"] and prefix_matches("POL") == ["POLUSDT"]
    for symbol in DEFAULT_COINS:  # every default coin's symbol finds exactly that coin
        base = parse_coin(symbol).base
        assert prefix_matches(base) == [symbol], base
