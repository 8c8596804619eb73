"""The coin universe: symbol parsing and validation, MATIC → POL, stablecoin refusal.

Every symbol is validated here (letters and digits only) before it touches a path or a URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import InvalidSymbolError, StablecoinError

__all__ = [
    "DEFAULT_COINS",
    "QUOTE",
    "STABLECOINS",
    "Coin",
    "display_name",
    "ensure_tradeable",
    "is_stablecoin",
    "parse_coin",
    "parse_coins",
]

QUOTE = "USDT"

#: The ten default coins, as the USDT pairs that exist today (MATIC is POL since 2024-09-13).
DEFAULT_COINS: tuple[str, ...] = (
    "BTCUSDT",
    "ETHUSDT",
    "SOLUSDT",
    "XRPUSDT",
    "ADAUSDT",
    "AVAXUSDT",
    "POLUSDT",
    "LINKUSDT",
    "UNIUSDT",
    "DOTUSDT",
)

_NAMES = {
    "BTC": "Bitcoin (BTC)",
    "ETH": "Ethereum (ETH)",
    "SOL": "Solana (SOL)",
    "XRP": "XRP (XRP)",
    "ADA": "Cardano (ADA)",
    "AVAX": "Avalanche (AVAX)",
    "POL": "Polygon (POL, formerly MATIC)",
    "MATIC": "Polygon (MATIC, until 2024-09-10)",
    "LINK": "Chainlink (LINK)",
    "UNI": "Uniswap (UNI)",
    "DOT": "Polkadot (DOT)",
}

STABLECOINS = frozenset(
    {
        "USDT",
        "USDC",
        "FDUSD",
        "DAI",
        "TUSD",
        "BUSD",
        "USDP",
        "PYUSD",
        "USDD",
        "USDE",
        "EUR",
        "EURI",
        "AEUR",
        "UST",
        "USTC",
        "GUSD",
        "LUSD",
        "FRAX",
        "XUSD",
        "USD1",
        "BFUSD",
        "RLUSD",
    }
)

_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY")
#: Quotes people type that Binance spot does not have: "BTC/USD" is not a pair there (Binance.US
#: is another exchange). Refused with what to type instead, never read as a base ("BTCUSDUSDT").
_NOT_QUOTES = ("USD",)
_VALID = re.compile(r"^[A-Z0-9]{2,20}$")

MATIC_NOTE = (
    "MATIC was renamed POL: Binance stopped MATICUSDT on 2024-09-10 and opened POLUSDT on "
    "2024-09-13 at the same price, so MATIC means POLUSDT here."
)
MATICUSDT_NOTE = (
    "MATICUSDT stopped trading on 2024-09-10 02:00 UTC; only the history up to then exists. "
    "Ask for MATIC or POL for the live pair POLUSDT."
)


@dataclass(frozen=True)
class Coin:
    """A parsed coin: the exchange symbol (``BTCUSDT``), base and quote, and a note if any."""

    symbol: str
    base: str
    quote: str
    note: str = ""

    @property
    def name(self) -> str:
        return display_name(self.symbol)

    @property
    def stablecoin(self) -> bool:
        return is_stablecoin(self.symbol)


def _split(symbol: str) -> tuple[str, str]:
    for quote in _QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    return symbol, ""


def parse_coin(text: str) -> Coin:
    """Parse what a user typed (``BTC``, ``btc``, ``BTCUSDT``, ``BTC/USDT``, ``btc-usdt``).

    Returns a :class:`Coin` whose ``symbol`` is safe for paths and URLs. ``MATIC`` becomes
    ``POLUSDT`` with a note; an explicit ``MATICUSDT`` stays, with a note that it ended.
    Parsing a symbol this returned gives the same symbol back.

    Raises:
        InvalidSymbolError: empty, or anything but letters and digits (after removing one
            ``/``, ``-`` or ``_`` between base and quote); a quote Binance spot does not have
            (``btc/usd``, ``BTCUSD``, ``eth/xyz``), with what to type instead.
    """
    raw = (text or "").strip().upper()
    parts = re.split(r"[/\-_]", raw)
    if len(parts) > 2 or not all(parts):
        raise InvalidSymbolError(
            f"{text!r} is not a coin symbol: use letters and digits, like BTC, BTCUSDT or BTC/USDT."
        )
    joined = "".join(parts)
    if not _VALID.match(joined):
        raise InvalidSymbolError(
            f"{text!r} is not a coin symbol: use 2-20 letters and digits, like BTC or BTCUSDT."
        )
    if len(parts) == 2:
        base, quote = parts
        if quote not in _QUOTES:
            raise InvalidSymbolError(_unknown_quote(text, base, quote))
    else:
        base, quote = _split(joined)
        fiat = next((q for q in _NOT_QUOTES if not quote and joined.endswith(q)), None)
        if fiat and joined not in STABLECOINS and len(joined) > len(fiat):
            raise InvalidSymbolError(_unknown_quote(text, joined[: -len(fiat)], fiat))
        if not quote:
            quote = QUOTE
            if base == "MATIC":
                return Coin("POLUSDT", "POL", QUOTE, MATIC_NOTE)
    symbol = base + quote
    note = MATICUSDT_NOTE if symbol == "MATICUSDT" else ""
    return Coin(symbol, base, quote, note)


def _unknown_quote(text: str, base: str, quote: str) -> str:
    said = text.strip()
    if quote in _NOT_QUOTES:
        why = f"Binance spot quotes {base} in {QUOTE}, not {quote}"
    else:
        why = f"{quote} is not a quote this app reads ({', '.join(_QUOTES)})"
    return f"{said!r} is not a Binance spot pair: {why}. Type {base} or {base}/{QUOTE} instead."


def parse_coins(text: str | list[str] | tuple[str, ...] | None) -> list[Coin]:
    """Parse a comma-separated list (or a sequence); ``None``, ``""`` or ``"all"`` → defaults.

    Duplicates (``BTC,btcusdt``) are kept once, in first-seen order.

    Raises:
        InvalidSymbolError: a symbol that cannot be used, or a text of commas alone (``","``).
    """
    if text is None or (isinstance(text, str) and text.strip().lower() in {"", "all"}):
        items: list[str] = list(DEFAULT_COINS)
    elif isinstance(text, str):
        items = [t for t in (p.strip() for p in text.split(",")) if t]
    else:
        items = list(text)
    if not items and isinstance(text, str):  # only commas: "," names nothing
        raise InvalidSymbolError(
            f"no coin named in {text!r}: name at least one, e.g. BTC,ETH (or leave it empty "
            "for the default coins)."
        )
    seen: dict[str, Coin] = {}
    for item in items:
        coin = parse_coin(item)
        seen.setdefault(coin.symbol, coin)
    return list(seen.values())


def is_stablecoin(symbol: str) -> bool:
    """True when the base asset of ``symbol`` is a stablecoin (USDCUSDT, FDUSDUSDT, DAI...)."""
    base, _ = _split(symbol.upper())
    return base in STABLECOINS


def ensure_tradeable(symbol: str) -> None:
    """Refuse a stablecoin for training.

    Raises:
        StablecoinError: the base asset is a stablecoin.
    """
    if is_stablecoin(symbol):
        base, _ = _split(symbol.upper())
        raise StablecoinError(
            f"{symbol} is a stablecoin pair: {base} is pegged to a currency, so its price has no "
            "volatility to learn. Pick a coin whose price moves, like BTC or ETH."
        )


def display_name(symbol: str) -> str:
    """A coin as every page names it: ``BTCUSDT`` → ``Bitcoin (BTC)``, ``POLUSDT`` → ``Polygon
    (POL, formerly MATIC)``, ``LTCUSDT`` → ``LTC``, ``ETHBTC`` → ``Ethereum (ETH) / BTC``."""
    base, quote = _split(symbol.upper())
    name = _NAMES.get(base, base)
    return name if quote in (QUOTE, "") else f"{name} / {quote}"
