"""A fake Binance spot API on 127.0.0.1 that speaks the real wire format and misbehaves on demand.

``GET /api/v3/klines`` answers like Binance: an array of twelve-element arrays (open time ms;
open, high, low, close, volume as strings; close time ms = open + interval - 1; quote volume as a
string; trade count as an int; taker buy base and quote volume as strings; ``"0"``), at most
``limit`` rows from ``startTime`` (or the latest ``limit`` up to ``endTime``/now), ending with the
still-open candle. Every answer carries ``X-MBX-USED-WEIGHT-1M`` (and, with a ``weight_window``
other than a minute, ``X-MBX-USED-WEIGHT-3S`` and the like). ``/api/v3/ping``, ``/api/v3/time``
and ``/api/v3/exchangeInfo`` (weight 20; its ``rateLimits`` list the fake's weight limit) exist
too. Candles are synthetic but deterministic: the same open time always gives the same candle,
whatever the page (:meth:`FakeBinance.candles` gives the series to compare with).

Throttling like Binance's, when ``weight_limit`` is set: request weight is counted per rolling
``weight_window`` at arrival (refused requests too); a request that passes the limit is answered
429 with ``Retry-After`` (whole seconds until the window has room), and any request arriving
during that back-off (after ``backoff_grace`` seconds, for requests already on the wire) bans the
IP: 418 with ``Retry-After: ban_seconds`` for it and every request until the ban ends.
:attr:`FakeBinance.requests_in_backoff` counts requests that arrived during a back-off or a ban.
:meth:`FakeBinance.ban` bans at once (first contact). ``error_rate`` answers that share of all
requests 500/502/503 and ``cut_rate`` that share of klines bodies cut off, from a seeded random.

Faults (``fail_next``, klines requests unless ``path`` says otherwise): ``429``/``418`` with
``Retry-After``, ``500``/``502``/``503``, ``451``, ``cut`` (a Content-Length larger than the
body, then the connection closes), ``badjson``, ``reset`` (connection closed without an answer).
Unknown symbols answer 400 with code -1121.
``scale`` (or ``set_scale``) multiplies a symbol's prices from then on, so a top-up after it
meets the stored candles with a jump (a different source, for the seam check). ``hold`` keeps
requests unanswered until ``release``, so a test acts on a fetch that is surely mid-way.

    with FakeBinance(listed_hours=500, latency=0.05) as fake:
        fetch_coins(["BTC"], base_url=fake.url)

Manual runs and the bench: ``python -m tests.fake_binance --port 9100 --latency 0.05``
(``--scale BTCUSDT=0.48``: another source for BTC).
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import random
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

__all__ = ["FakeBinance", "Request"]

_STEP_MS = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
}
_EPOCH_2017 = 1_500_000_000_000  # listing time of every symbol unless told otherwise
_KLINES = "/api/v3/klines"
_WEIGHTS = {_KLINES: 2, "/api/v3/exchangeInfo": 20}


@dataclass(frozen=True)
class Request:
    """One request as the fake saw it (``at``: ``time.monotonic()`` when it arrived)."""

    path: str
    params: dict[str, str]
    status: int
    at: float


@dataclass
class _Fault:
    kind: str
    retry_after: int
    symbol: str | None
    remaining: int
    path: str | None = _KLINES
    header: bool = True  # send Retry-After (Binance always does; a proxy may drop it)


@dataclass
class _Throttle:
    """Binance's rate limiting: a rolling weight window, back-off after 429, bans after 418."""

    weight_limit: int | None
    weight_window: float
    ban_seconds: int
    backoff_grace: float
    error_rate: float
    cut_rate: float
    rng: random.Random
    window: collections.deque = field(default_factory=collections.deque)  # (arrival, weight)
    window_weight: int = 0
    backoff_from: float = 0.0
    backoff_until: float = 0.0
    banned_until: float = 0.0
    in_backoff: int = 0

    def used(self, now: float) -> int:
        while self.window and self.window[0][0] <= now - self.weight_window:
            self.window_weight -= self.window.popleft()[1]
        return self.window_weight

    def retry_after(self, now: float) -> int:
        """Whole seconds until the window's weight is back under the limit."""
        limit, left = self.weight_limit or 0, self.window_weight
        for at, weight in self.window:
            left -= weight
            if left <= limit:
                return max(1, math.ceil(at + self.weight_window - now))
        return 1


@dataclass
class _State:
    now_ms: Callable[[], int]
    listed: dict[str, int]
    default_listed_ms: int | None
    delisted: dict[str, int]
    unknown: set[str]
    gaps: dict[str, list[tuple[int, int]]]
    latency: float
    scale: dict[str, float] = field(default_factory=dict)
    faults: list[_Fault] = field(default_factory=list)
    log: list[Request] = field(default_factory=list)
    weight: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrivals: int = 0
    hold_from: int | None = None  # requests arriving from this one on wait for ``released``
    released: threading.Event = field(default_factory=threading.Event)
    throttle: _Throttle | None = None


def _price(symbol: str, k: int) -> float:
    """A deterministic wiggly price path per symbol (k = candle index since the epoch)."""
    base = 10 + zlib.crc32(symbol.encode()) % 50_000
    wave = 0.08 * math.sin(k / 97.0) + 0.03 * math.sin(k / 13.1) + 0.01 * math.sin(k / 3.7)
    return base * math.exp(wave)


def _kline(symbol: str, open_ms: int, step: int, scale: float = 1.0) -> list:
    k = open_ms // step
    open_, close = scale * _price(symbol, k - 1), scale * _price(symbol, k)
    high = max(open_, close) * (1 + 0.001 * (1 + k % 5))
    low = min(open_, close) * (1 - 0.001 * (1 + k % 3))
    volume = 100 + (k * 7919) % 1000 / 10
    quote = volume * (open_ + close) / 2
    taker = volume * (0.4 + (k % 20) / 100)
    return [
        open_ms,
        f"{open_:.8f}",
        f"{high:.8f}",
        f"{low:.8f}",
        f"{close:.8f}",
        f"{volume:.8f}",
        open_ms + step - 1,
        f"{quote:.8f}",
        50 + (k * 31) % 400,
        f"{taker:.8f}",
        f"{taker * (open_ + close) / 2:.8f}",
        "0",
    ]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib name)
        return

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        state = self.server.state
        url = urlparse(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        arrived = time.monotonic()
        with state.lock:
            state.arrivals += 1
            held = state.hold_from is not None and state.arrivals > state.hold_from
        if held:
            state.released.wait()
        weight = _WEIGHTS.get(url.path, 1)
        used = {"X-MBX-USED-WEIGHT-1M": str(self._used_weight(weight))}
        # decided on arrival (a held request arrives when released)
        fault = self._throttle(url.path, weight, time.monotonic(), used)
        if state.latency:
            time.sleep(state.latency)
        fault = fault or self._take_fault(url.path, params.get("symbol"))
        status = self._answer(url.path, params, fault, used)
        with state.lock:
            state.log.append(Request(url.path, params, status, arrived))

    def _throttle(self, path: str, weight: int, now: float, used: dict[str, str]) -> _Fault | None:
        """Count the weight in the rolling window; a 429 past the limit, a 418 during a
        back-off or a ban, else maybe a random 5xx or cut body."""
        throttle = self.server.state.throttle
        if throttle is None:
            return None
        with self.server.state.lock:
            if now < throttle.banned_until:
                throttle.in_backoff += 1
                return _Fault("418", math.ceil(throttle.banned_until - now), None, 0)
            if throttle.backoff_from + throttle.backoff_grace <= now < throttle.backoff_until:
                throttle.in_backoff += 1
                throttle.banned_until = now + throttle.ban_seconds
                return _Fault("418", throttle.ban_seconds, None, 0)
            throttle.window.append((now, weight))
            throttle.window_weight += weight
            in_window = throttle.used(now)
            if throttle.weight_window != 60:
                used[_window_header(throttle.weight_window)] = str(in_window)
            if throttle.weight_limit is not None and in_window > throttle.weight_limit:
                return _Fault("429", throttle.retry_after(now), None, 0)
            draw = throttle.rng.random()
            if draw < throttle.error_rate:
                return _Fault(throttle.rng.choice(("500", "502", "503")), 0, None, 0)
            if path == _KLINES and draw < throttle.error_rate + throttle.cut_rate:
                return _Fault("cut", 0, None, 0)
        return None

    def _take_fault(self, path: str, symbol: str | None) -> _Fault | None:
        state = self.server.state
        with state.lock:
            for fault in state.faults:
                if (
                    fault.remaining
                    and (fault.symbol is None or fault.symbol == symbol)
                    and (fault.path is None or fault.path == path)
                ):
                    fault.remaining -= 1
                    return fault
        return None

    def _used_weight(self, weight: int) -> int:
        state = self.server.state
        minute = int(time.time() // 60)
        with state.lock:
            state.weight[minute] = state.weight.get(minute, 0) + weight
            return state.weight[minute]

    def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> int:
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        return status

    def _answer(
        self, path: str, params: dict[str, str], fault: _Fault | None, used: dict[str, str]
    ) -> int:
        if fault is not None:
            return self._misbehave(fault, used, params)
        if path == "/api/v3/ping":
            return self._send(200, {}, used)
        if path == "/api/v3/time":
            return self._send(200, {"serverTime": self.server.state.now_ms()}, used)
        if path == "/api/v3/exchangeInfo":
            return self._exchange_info(params, used)
        if path != _KLINES:
            return self._send(404, {"code": -1000, "msg": "Unknown path."}, used)
        return self._klines(params, used)

    def _exchange_info(self, params: dict[str, str], used: dict[str, str]) -> int:
        state = self.server.state
        symbol = params.get("symbol")
        if symbol is not None and (not symbol or symbol in state.unknown):
            return self._send(400, {"code": -1121, "msg": "Invalid symbol."}, used)
        names = [symbol] if symbol else sorted({*_LISTED_BY_DEFAULT, *state.listed})
        throttle = state.throttle
        if throttle is not None and throttle.weight_limit is not None:
            unit, num = "SECOND", int(throttle.weight_window)
            if throttle.weight_window % 60 == 0:
                unit, num = "MINUTE", int(throttle.weight_window // 60)
            weight = {"interval": unit, "intervalNum": num, "limit": throttle.weight_limit}
        else:
            weight = {"interval": "MINUTE", "intervalNum": 1, "limit": 6000}
        body = {
            "timezone": "UTC",
            "serverTime": state.now_ms(),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", **weight},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                {
                    "rateLimitType": "RAW_REQUESTS",
                    "interval": "MINUTE",
                    "intervalNum": 5,
                    "limit": 61000,
                },
            ],
            "exchangeFilters": [],
            "symbols": [
                {
                    "symbol": name,
                    "status": "BREAK" if name in state.delisted else "TRADING",
                    "baseAsset": name.removesuffix("USDT"),
                    "quoteAsset": "USDT",
                }
                for name in names
            ],
        }
        return self._send(200, body, used)

    def _misbehave(self, fault: _Fault, used: dict[str, str], params: dict[str, str]) -> int:
        kind = fault.kind
        if kind in ("429", "418"):
            throttle = self.server.state.throttle
            if kind == "429" and throttle is not None:
                # from this answer on, the client must wait Retry-After (else: a ban)
                with self.server.state.lock:
                    now = time.monotonic()
                    throttle.backoff_from, throttle.backoff_until = now, now + fault.retry_after
            headers = {**used, "Retry-After": str(fault.retry_after)} if fault.header else used
            until = int((time.time() + fault.retry_after) * 1000)
            msg = (  # Binance's own words, a ban's end in epoch ms
                "Too many requests."
                if kind == "429"
                else f"Way too much request weight used; IP banned until {until}. Please use "
                "the websocket for live updates to avoid bans."
            )
            return self._send(int(kind), {"code": -1003, "msg": msg}, headers)
        if kind == "451":
            msg = "Service unavailable from a restricted location according to 'b. Eligibility'."
            return self._send(451, {"code": 0, "msg": msg}, used)
        if kind in ("500", "502", "503", "504"):
            return self._send(int(kind), {"code": -1001, "msg": "Internal error."}, used)
        if kind == "reset":
            self.close_connection = True
            self.connection.close()
            return 0
        body = json.dumps(self._rows(params) or [[0]]).encode()
        if kind == "badjson":
            body = body[: max(1, len(body) // 2)]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
        else:  # "cut": promise the whole body, send half, hang up
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            body = body[: max(1, len(body) // 2)]
        for key, value in used.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if kind == "cut":
            self.close_connection = True
            self.connection.close()
        return 200

    def _rows(self, params: dict[str, str]) -> list[list] | None:
        return _series(self.server.state, params)

    def _klines(self, params: dict[str, str], used: dict[str, str]) -> int:
        state = self.server.state
        symbol = params.get("symbol", "")
        if params.get("interval", "") not in _STEP_MS:
            return self._send(400, {"code": -1120, "msg": "Invalid interval."}, used)
        if not symbol or symbol in state.unknown:
            return self._send(400, {"code": -1121, "msg": "Invalid symbol."}, used)
        return self._send(200, self._rows(params), used)


def _window_header(seconds: float) -> str:
    return f"X-MBX-USED-WEIGHT-{int(seconds)}S"


_LISTED_BY_DEFAULT = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "POLUSDT")


def _series(state: _State, params: dict[str, str]) -> list[list] | None:
    """The klines answer's rows for ``params`` (the still-open candle included)."""
    symbol = params.get("symbol", "")
    step = _STEP_MS.get(params.get("interval", ""))
    if step is None or symbol in state.unknown:
        return None
    limit = min(int(params.get("limit", 500)), 1000)
    now = state.now_ms()
    first = state.listed.get(symbol, state.default_listed_ms or _EPOCH_2017)
    first = -(-first // step) * step
    last = (now // step) * step  # the still-open candle
    if symbol in state.delisted:
        last = min(last, (state.delisted[symbol] // step) * step)
    if "endTime" in params:
        last = min(last, (int(params["endTime"]) // step) * step)
    if "startTime" in params:
        start = max(first, -(-int(params["startTime"]) // step) * step)
        opens: Iterable[int] = range(start, last + 1, step)
    else:
        opens = range(max(first, last - (limit - 1) * step), last + 1, step)
    gaps = state.gaps.get(symbol, [])
    rows = []
    for open_ms in opens:
        if any(lo <= open_ms < hi for lo, hi in gaps):
            continue
        rows.append(_kline(symbol, open_ms, step, state.scale.get(symbol, 1.0)))
        if len(rows) >= limit:
            break
    return rows


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State

    def handle_error(self, request: object, client_address: object) -> None:
        """Hang-ups are part of the act ("reset", "cut"), not errors worth a traceback."""


class FakeBinance:
    """The fake server in a background thread; a context manager with ``.url``.

    Args:
        port: 0 picks a free port.
        now_ms: fixed "now" in epoch ms, or None for the real clock.
        listed_hours: when set, every symbol is listed only that many hours before now, so a
            2-year fetch stays small (good for browser tests).
        listed: listing time (epoch ms) per symbol, overriding ``listed_hours``.
        delisted: last open time (epoch ms) per symbol that stopped trading (MATICUSDT).
        unknown: symbols answered with 400/-1121 (``FOOUSDT`` and ``MATICUSDT`` never exist
            unless listed).
        gaps: per symbol, ``(from_ms, to_ms)`` spans with no candles (exchange halts).
        latency: seconds added to every request.
        scale: per symbol, a factor on every price (1 unless given; see ``set_scale``).
        weight_limit, weight_window: throttle at ``weight_limit`` request weight per rolling
            ``weight_window`` seconds (None: never 429 on its own; see the module docstring).
        ban_seconds: the ``Retry-After`` of the 418 ban for a request sent during a back-off.
        backoff_grace: seconds after a 429 during which arriving requests count as already on
            the wire (not banned); a quarter second covers a loaded machine's scheduling.
        error_rate, cut_rate, seed: share of answers 5xx and of klines bodies cut off, drawn
            from ``random.Random(seed)``.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        now_ms: int | None = None,
        listed_hours: int | None = None,
        listed: dict[str, int] | None = None,
        delisted: dict[str, int] | None = None,
        unknown: Iterable[str] = ("FOOUSDT",),
        gaps: dict[str, list[tuple[int, int]]] | None = None,
        latency: float = 0.0,
        scale: dict[str, float] | None = None,
        weight_limit: int | None = None,
        weight_window: float = 60.0,
        ban_seconds: int = 120,
        backoff_grace: float = 0.25,
        error_rate: float = 0.0,
        cut_rate: float = 0.0,
        seed: int = 0,
    ) -> None:
        def clock() -> int:
            return now_ms if now_ms is not None else int(time.time() * 1000)

        default_listed = None
        if listed_hours is not None:
            default_listed = clock() - listed_hours * 3_600_000
        self.state = _State(
            now_ms=clock,
            listed=dict(listed or {}),
            default_listed_ms=default_listed,
            delisted=dict(delisted or {}),
            unknown=set(unknown),
            gaps=dict(gaps or {}),
            latency=latency,
            scale=dict(scale or {}),
            throttle=_Throttle(
                weight_limit=weight_limit,
                weight_window=float(weight_window),
                ban_seconds=ban_seconds,
                backoff_grace=backoff_grace,
                error_rate=error_rate,
                cut_rate=cut_rate,
                rng=random.Random(seed),
            ),
        )
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.state = self.state
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeBinance:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-binance", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeBinance:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control and inspection ---------------------------------------------------------------

    def fail_next(
        self,
        kind: str,
        *,
        count: int = 1,
        retry_after: int = 1,
        symbol: str | None = None,
        path: str | None = _KLINES,
        header: bool = True,
    ) -> None:
        """Answer the next ``count`` requests to ``path`` (klines by default; None: any path),
        of ``symbol`` if given, with a fault (a 429/418 without ``Retry-After`` when not
        ``header``)."""
        with self.state.lock:
            self.state.faults.append(_Fault(kind, retry_after, symbol, count, path, header))

    def ban(self, seconds: int) -> None:
        """Ban from now on: every request is answered 418 with the ban's remaining seconds."""
        assert self.state.throttle is not None
        with self.state.lock:
            self.state.throttle.banned_until = time.monotonic() + seconds

    def unban(self) -> None:
        """End a ban and any back-off now (as if their time had passed)."""
        assert self.state.throttle is not None
        with self.state.lock:
            self.state.throttle.banned_until = self.state.throttle.backoff_until = 0.0

    def spend(self, weight: int) -> None:
        """Weight another program on the same IP spends now (it shows in the used-weight
        headers and counts toward the limit)."""
        assert self.state.throttle is not None
        with self.state.lock:
            self.state.throttle.window.append((time.monotonic(), weight))
            self.state.throttle.window_weight += weight
            minute = int(time.time() // 60)
            self.state.weight[minute] = self.state.weight.get(minute, 0) + weight

    @property
    def requests_in_backoff(self) -> int:
        """Requests that arrived during a 429's back-off (after the grace) or a ban."""
        assert self.state.throttle is not None
        with self.state.lock:
            return self.state.throttle.in_backoff

    def candles(self, symbol: str, start_ms: int, end_ms: int, interval: str = "1h") -> list:
        """Every kline row the fake serves for ``symbol`` with ``start_ms <= open <= end_ms``
        (wire format), to compare stored candles with."""
        rows: list[list] = []
        start = start_ms
        while start <= end_ms:
            params = {"symbol": symbol, "interval": interval, "limit": "1000"}
            page = _series(self.state, {**params, "startTime": str(start), "endTime": str(end_ms)})
            if not page:
                break
            rows += page
            start = page[-1][0] + _STEP_MS[interval]
        return rows

    def hold(self, *, after: int = 0) -> None:
        """Answer ``after`` more requests, then keep every later one waiting, unanswered, until
        :meth:`release`: a fetch is then mid-way for as long as a test needs, however fast or
        slow the machine is."""
        with self.state.lock:
            self.state.released.clear()
            self.state.hold_from = self.state.arrivals + after

    def release(self) -> None:
        """Answer the held requests and every later one."""
        with self.state.lock:
            self.state.hold_from = None
            self.state.released.set()

    @property
    def arrived(self) -> int:
        """How many requests have arrived (answered, being answered or held)."""
        with self.state.lock:
            return self.state.arrivals

    def set_latency(self, seconds: float) -> None:
        self.state.latency = seconds

    def set_scale(self, symbol: str, factor: float) -> None:
        """Multiply ``symbol``'s prices by ``factor`` from now on (every page, old and new)."""
        with self.state.lock:
            self.state.scale[symbol] = factor

    @property
    def requests(self) -> list[Request]:
        with self.state.lock:
            return list(self.state.log)

    def count(self, path: str = "/api/v3/klines", *, symbol: str | None = None) -> int:
        """How many requests reached ``path`` (for ``symbol``, if given)."""
        return sum(
            1
            for r in self.requests
            if r.path == path and (symbol is None or r.params.get("symbol") == symbol)
        )

    def reset_counts(self) -> None:
        with self.state.lock:
            self.state.log.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the fake Binance API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--listed-hours", type=int, default=None)
    parser.add_argument(
        "--scale",
        action="append",
        default=[],
        metavar="SYMBOL=FACTOR",
        help="another price series for a symbol, e.g. BTCUSDT=0.48 (a different source)",
    )
    parser.add_argument("--weight-limit", type=int, default=None, help="e.g. 24 (per window)")
    parser.add_argument("--weight-window", type=float, default=60.0, help="seconds")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of answers 5xx")
    parser.add_argument("--cut-rate", type=float, default=0.0, help="share of bodies cut off")
    args = parser.parse_args()
    scale = {k: float(v) for k, _, v in (item.partition("=") for item in args.scale)}
    fake = FakeBinance(
        port=args.port,
        latency=args.latency,
        listed_hours=args.listed_hours,
        scale=scale,
        weight_limit=args.weight_limit,
        weight_window=args.weight_window,
        error_rate=args.error_rate,
        cut_rate=args.cut_rate,
    )
    print(f"fake Binance on {fake.url} (Ctrl-C to stop)", flush=True)
    try:
        fake._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake._server.server_close()


if __name__ == "__main__":
    main()
