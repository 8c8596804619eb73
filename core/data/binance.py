"""HTTP client for Binance spot market data: kline paging, pair listing, one shared rate budget.

:class:`BinanceClient` is the :class:`core.data.exchange.ExchangeClient` the fetch uses. One
client serves every thread of a fetch: it holds one pooled keep-alive ``requests.Session`` and one
:class:`core.data.ratelimit.RateLimiter`, so all threads draw on one request-weight budget, one
in-flight width and one pause, and all stop together on a ban. Before its first other request
the client reads Binance's weight limit from ``exchangeInfo`` (:meth:`read_rate_limits`, once;
the other threads wait for it), so the budget is the one this server publishes.

Failures map to :mod:`core.errors`:

- 5xx, timeouts, connection resets, cut-off or invalid JSON bodies: retried with exponential
  backoff and jitter, ``max_retries`` times, then :class:`BinanceUnavailableError` naming the URL
  and the last failure.
- Connection refused or a host name that does not resolve: :class:`UnreachableError` at once
  (offline or a wrong base URL; waiting would not help), one sentence saying what to check.
- 429: no thread starts a request for ``Retry-After`` seconds and the requests in flight are
  halved (:meth:`core.data.ratelimit.RateLimiter.throttled`), then the request is sent again.
- 418: a ban. One of at most ``max_ban_wait`` seconds is sat out like a 429 with one request in
  flight; a longer one, or a second in one call, raises :class:`BannedError` saying until when
  (UTC), and every other thread's next request raises the same at once, without being sent.
- 418 and 429 are remembered in the home folder (:mod:`core.data.ban_memory`): another process,
  or a rerun, sends nothing during the ban ("banned until 14:32 UTC; fetch again after that")
  and waits out the 429's ``Retry-After``; both expire by themselves.
- 451: :class:`LocationBlockedError` (use ``BINANCE_BASE_URL=https://data-api.binance.vision``).
- 400 with code -1121: :class:`UnknownSymbolError`.

Every answer's used-weight header (``X-MBX-USED-WEIGHT-1M`` for Binance's one-minute window),
5xx and cut bodies included, corrects the budget for weight other programs on the IP spent.
Kline bodies are decoded once with :func:`json.loads` and converted column-wise (pyarrow's
string-to-float cast), with no Python loop per row.

Timings (backoff base, sleep function, clock) are constructor arguments, so tests run fast.
"""

from __future__ import annotations

import collections
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NameResolutionError, NewConnectionError

from core import config
from core.config import Interval
from core.context import Context
from core.data import ban_memory
from core.data.coins import parse_coin
from core.data.fetch_log import fetch_log
from core.data.klines import decode_klines
from core.data.ratelimit import (
    KLINES_WEIGHT,
    RateLimiter,
    WeightLimit,
    backoff,
    describe_wait,
    request_weight_limit,
    retry_after,
)
from core.errors import (
    BannedError,
    BinanceError,
    BinanceUnavailableError,
    LocationBlockedError,
    UnknownSymbolError,
    UnreachableError,
)

__all__ = [
    "KLINES_LIMIT",
    "BinanceClient",
]

KLINES_LIMIT = 1000
_EXCHANGE_INFO = "/api/v3/exchangeInfo"
#: ``GET /api/v3/exchangeInfo`` weighs 20, with or without a symbol.
_EXCHANGE_INFO_WEIGHT = 20
_RETRYABLE = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class BinanceClient:
    """Binance market data over one pooled keep-alive session; safe to share between threads.

    Implements :class:`core.data.exchange.ExchangeClient` (``name`` ``"binance"``).

    Args:
        base_url: defaults to :func:`core.config.binance_base_url` (``BINANCE_BASE_URL``).
        pool_size: keep-alive connections kept open; at least the number of fetching threads.
        timeout: (connect, read) seconds per request.
        max_retries: extra attempts after 5xx, timeouts, resets and cut bodies.
        backoff_base: first backoff in seconds; doubles per attempt, with jitter, up to
            ``backoff_max``.
        max_pause: the longest 429 ``Retry-After`` we sit out; a longer one raises.
        max_ban_wait: the longest 418 ban we sit out; a longer one raises at once in every
            thread (real bans last 2 minutes to 3 days).
        limiter: a shared :class:`RateLimiter` (one is made when omitted, allowing
            ``pool_size`` requests in flight).
        sleep, clock: injectable for tests (``sleep`` None: waits are woken at once by a ban).
        refusals: the file that remembers this server's bans and pauses across processes, the
            home's (:func:`core.data.ban_memory.refusals_path` of ``context.paths.data``). Left
            out (a notebook's ``BinanceClient()``, a fetch not given one), it is that of the home
            :meth:`core.context.Context.from_env` names, resolved here once, as the base URL.
        logs: the folder of ``dataset_fetch.log`` (the home's ``context.paths.logs``), where
            pauses and weight limits are logged; left out, that of the same home as
            ``refusals``.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        pool_size: int = 32,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_pause: float = 300.0,
        max_ban_wait: float = 10.0,
        max_rate_limited: int = 10,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
        refusals: Path | None = None,
        logs: Path | None = None,
    ) -> None:
        self.name = "binance"
        if refusals is None or logs is None:
            paths = Context.from_env().paths
            refusals = refusals or ban_memory.refusals_path(paths.data)
            logs = logs or paths.logs
        self.refusals = refusals
        self.logs = logs
        self.page_limit = KLINES_LIMIT
        self.base_url = config.binance_base_url(base_url)
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_pause = max_pause
        self.max_ban_wait = max_ban_wait
        self.max_rate_limited = max_rate_limited
        self._clock = clock
        self.limiter = limiter or RateLimiter(
            clock=clock, sleep=sleep, max_in_flight=max(pool_size, 1)
        )
        self.session = requests.Session()
        # Our own retry loop handles failures; urllib3 must not retry behind its back.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool_size, 1), max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = "CryptoVolt/0.1 (+market data research)"
        # Proxies (HTTPS_PROXY, NO_PROXY) and a CA bundle from the environment, read once here:
        # with trust_env requests looks them up, and stats ~/.netrc, on every request.
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            self.session.verify = bundle
        self.session.trust_env = False
        self.requests_sent = 0
        #: requests sent per path (``"/api/v3/klines"``), for benchmarks and tests
        self.sent: collections.Counter[str] = collections.Counter()
        self._count_lock = threading.Lock()
        self._limits_read = False
        self._limits_lock = threading.Lock()

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> BinanceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one request -------------------------------------------------------------------------

    def get_json(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        weight: int = 1,
        decode: Callable[[bytes], Any] = json.loads,
    ) -> Any:
        """GET ``base_url + path`` and ``decode`` the body (JSON by default), with the shared
        budget and retry rules; a body ``decode`` refuses (ValueError) is retried like a cut one.

        Raises:
            UnknownSymbolError, LocationBlockedError, BannedError, BinanceUnavailableError,
            BinanceError: see the module docstring.
        """
        url = self.base_url + path
        self._heed_remembered()  # another process's ban or pause holds here too
        if path != _EXCHANGE_INFO:
            self._read_limits_once()
        symbol = (params or {}).get("symbol", "")
        failures = rate_limited = bans = 0
        last = ""
        while True:
            ticket = self.limiter.acquire(weight, in_flight=True)  # raises during a ban
            with self._count_lock:
                self.requests_sent += 1
                self.sent[path] += 1
            ok = False
            try:
                resp = self.session.get(url, params=params, timeout=self.timeout, stream=True)
                # every answer's weight counts, errors and bodies cut off below included
                used = resp.headers.get(self.limiter.header)
                if used and used.isdigit():
                    self.limiter.observe(int(used))
                content = resp.content  # the whole body; a cut one raises (retried)
                status = resp.status_code
                if status == 200:
                    # bytes straight to json: no charset guessing, one decode
                    result = decode(content)
                    ok = True
                    return result
                if status == 429:
                    wait = retry_after(resp)
                    self.limiter.throttled(ticket, wait)
                    self._remember(ban_memory.PAUSE, wait)
                    rate_limited += 1
                    if rate_limited > self.max_rate_limited or wait > self.max_pause:
                        raise BinanceUnavailableError(
                            f"Binance kept rate-limiting {url} (HTTP 429, asked to wait "
                            f"{describe_wait(wait)}). Try again later or with fewer workers."
                        )
                    continue
                if status == 418:
                    wait = _ban_seconds(resp, content, self._clock())
                    self._remember(ban_memory.BAN, wait)
                    bans += 1
                    if bans >= 2 or wait > self.max_ban_wait:
                        raise self.limiter.ban(wait)
                    self.limiter.throttled(ticket, wait, to_one=True)
                    continue
                if status == 451:
                    raise LocationBlockedError(
                        f"{self.base_url} refuses requests from your location (HTTP 451). Set "
                        f"BINANCE_BASE_URL={config.BINANCE_VISION_URL} (Binance's public "
                        "market-data mirror) or pass --base-url, then fetch again."
                    )
                if status == 400 and _error_code(resp) == -1121:
                    raise UnknownSymbolError(
                        f"unknown symbol {symbol}: Binance does not list this pair. Check the "
                        "spelling, or use a pair that trades against USDT."
                    )
                if status < 500:
                    raise BinanceError(
                        f"Binance refused {url} with HTTP {status}: {_error_text(resp)}"
                    )
                last = f"HTTP {status}"
            except _RETRYABLE as exc:
                unreachable = _unreachable(exc)
                if unreachable:
                    raise UnreachableError(
                        f"Cannot reach {self.base_url} ({unreachable}): check the network "
                        "connection and the address (--base-url or BINANCE_BASE_URL), then fetch "
                        "again."
                    ) from None
                last = f"{type(exc).__name__}: {_short(exc)}"
            except ValueError as exc:  # a body that is not JSON, e.g. cut off mid-array
                last = f"invalid JSON body ({_short(exc)})"
            finally:
                self.limiter.release(ticket, ok=ok)
            failures += 1
            if failures > self.max_retries:
                raise BinanceUnavailableError(
                    f"Binance is unavailable: {url} failed {failures} times; last failure: "
                    f"{last}. Check your connection or BINANCE_BASE_URL and fetch again (what "
                    "was fetched so far is kept)."
                )
            # a ban set by another thread meanwhile ends the wait (and this request) at once
            self.limiter.hold(backoff(failures - 1, base=self.backoff_base, cap=self.backoff_max))

    def _remember(self, kind: str, seconds: float) -> None:
        now = self._clock()
        ban_memory.remember(self.base_url, kind, now + seconds, now=now, refusals=self.refusals)

    def _heed_remembered(self) -> None:
        """Before sending: a ban another process (or an earlier run) received from this server
        raises at once, sending nothing (one of at most ``max_ban_wait`` seconds is waited out);
        its pause after a 429 is waited out here like our own (a longer one than ``max_pause``
        raises).

        Raises:
            BannedError, BinanceUnavailableError.
        """
        now = self._clock()
        found = ban_memory.recall(self.base_url, now=now, refusals=self.refusals)
        if found is None:
            return
        left = found.until - now
        if found.kind == ban_memory.BAN and left > self.max_ban_wait:
            raise self.limiter.ban(left)
        if found.kind == ban_memory.PAUSE and left > self.max_pause:
            raise BinanceUnavailableError(
                f"Binance asked this IP to wait {describe_wait(left)} (HTTP 429, seen by another "
                "run); try again after that or with fewer workers."
            )
        self.limiter.pause(left)

    def _read_limits_once(self) -> None:
        """Read the weight limit from ``exchangeInfo`` before the first other request; the other
        threads wait for it. A server that cannot say (no such endpoint, errors after every
        retry) leaves Binance's documented 6000 per minute; an unreachable host or a ban raises
        (and the next request tries again)."""
        if self._limits_read:
            return
        with self._limits_lock:
            if self._limits_read:
                return
            try:
                limit = self.read_rate_limits()
            except (UnreachableError, BannedError):
                raise
            except BinanceError as exc:
                fetch_log(self.logs).warning(
                    "exchangeInfo gave no rate limit (%s); using %d weight per minute",
                    exc,
                    self.limiter.limit,
                )
            else:
                if limit is None:
                    fetch_log(self.logs).warning(
                        "exchangeInfo lists no REQUEST_WEIGHT limit; using %d weight per %g s",
                        self.limiter.limit,
                        self.limiter.window,
                    )
            self._limits_read = True

    def read_rate_limits(self) -> WeightLimit | None:
        """Apply Binance's published request-weight limit (``exchangeInfo`` for one symbol, so
        the body is small; weight 20) to the shared budget; returns it, or None when the answer
        lists none. Called once, before the client's first other request."""
        body = self.get_json(_EXCHANGE_INFO, {"symbol": "BTCUSDT"}, weight=_EXCHANGE_INFO_WEIGHT)
        return self._apply_rate_limits(body)

    def _apply_rate_limits(self, body: object) -> WeightLimit | None:
        limit = request_weight_limit(body.get("rateLimits") if isinstance(body, dict) else None)
        if limit:
            self.limiter.set_limit(limit.limit, seconds=limit.seconds)
            self._limits_read = True
            fetch_log(self.logs).info(
                "rate limit from %s: %d request weight per %g s (using %d)",
                self.base_url,
                limit.limit,
                limit.seconds,
                self.limiter.budget,
            )
        return limit

    def ping(self) -> None:
        """``GET /api/v3/ping``; raises like :meth:`get_json` when Binance cannot be reached."""
        self.get_json("/api/v3/ping", weight=1)

    def server_time_ms(self) -> int:
        """Binance's clock (``GET /api/v3/time``), epoch milliseconds."""
        body = self.get_json("/api/v3/time", weight=1)
        if not isinstance(body, dict) or not isinstance(body.get("serverTime"), int):
            raise BinanceError(f"Binance answered /api/v3/time with {str(body)[:100]!r}")
        return int(body["serverTime"])

    # -- pairs -------------------------------------------------------------------------------

    def list_symbols(self, *, quote: str | None = None) -> list[str]:
        """Every spot pair trading now (``GET /api/v3/exchangeInfo``), optionally only those
        quoted in ``quote`` (``"USDT"``), sorted."""
        body = self.get_json(_EXCHANGE_INFO, weight=_EXCHANGE_INFO_WEIGHT)
        self._apply_rate_limits(body)
        entries = body.get("symbols") if isinstance(body, dict) else None
        if not isinstance(entries, list):
            raise BinanceError("Binance answered exchangeInfo without a list of symbols")
        return sorted(
            str(e["symbol"])
            for e in entries
            if isinstance(e, dict)
            and e.get("status", "TRADING") == "TRADING"
            and "symbol" in e
            and (quote is None or e.get("quoteAsset") == quote.upper())
        )

    def validate_symbol(self, symbol: str) -> str:
        """``symbol`` checked against Binance with a one-candle klines request (weight 2, not
        exchangeInfo's 20). Returns the symbol; raises UnknownSymbolError when Binance does not
        list it, and the other request errors as :meth:`get_json`."""
        checked = parse_coin(symbol).symbol
        self.klines(checked, Interval.D1, start_ms=0, limit=1)
        return checked

    # -- klines ------------------------------------------------------------------------------

    def klines(
        self,
        symbol: str,
        interval: str | Interval,
        *,
        start_ms: int,
        end_ms: int | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """One page of ``GET /api/v3/klines`` (open and closed candles) as a store-schema frame."""
        params: dict[str, Any] = {
            "symbol": parse_coin(symbol).symbol,
            "interval": Interval.parse(interval).value,
            "startTime": int(start_ms),
            "limit": int(limit or self.page_limit),
        }
        if end_ms is not None:
            params["endTime"] = int(end_ms)
        return self.get_json("/api/v3/klines", params, weight=KLINES_WEIGHT, decode=decode_klines)

    def iter_klines(
        self,
        symbol: str,
        interval: str | Interval,
        *,
        start_ms: int,
        end_ms: int,
        now_ms: int,
        limit: int = KLINES_LIMIT,
    ) -> Iterator[pd.DataFrame]:
        """Closed candles with ``start_ms <= open_time <= end_ms``, one frame per page, oldest first.

        Pages by ``startTime`` (next page starts one interval after the last open time) and stops
        on a short page or once past ``end_ms``, so a range of N candles costs ceil(N / limit)
        requests. Candles whose close time is not before ``now_ms`` are dropped: the last row
        Binance returns is usually the still-open candle.
        """
        step = Interval.parse(interval).milliseconds
        start = int(start_ms)
        now_ts = pd.Timestamp(now_ms, unit="ms", tz="UTC")
        while start <= end_ms:
            page = self.klines(symbol, interval, start_ms=start, end_ms=end_ms, limit=limit)
            if page.empty:
                return
            last_open = int(page["open_time"].iloc[-1].value // 1_000_000)
            closed = page.loc[page["close_time"] < now_ts].reset_index(drop=True)
            if not closed.empty:
                yield closed
            if len(page) < limit or len(closed) < len(page):
                return
            start = last_open + step


_BANNED_UNTIL = re.compile(rb"banned until (\d{12,14})")


def _ban_seconds(resp: requests.Response, body: bytes, now: float) -> float:
    """How long a 418's ban lasts: ``Retry-After``, or the end Binance writes in the body
    ("IP banned until 1620286253180", epoch ms) when that is later or the header is missing."""
    found = _BANNED_UNTIL.search(body[:2000])
    told = int(found.group(1)) / 1000 - now if found else None
    if "Retry-After" not in resp.headers and told is not None:
        return max(told, 0.0)
    return max(retry_after(resp), told or 0.0)


def _error_code(resp: requests.Response) -> int | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def _error_text(resp: requests.Response) -> str:
    try:
        body = resp.json()
        if isinstance(body, dict) and "msg" in body:
            return f"{body['msg']} (code {body.get('code')})"
    except ValueError:
        pass
    return resp.text[:200] or resp.reason or "no details"


def _unreachable(exc: BaseException) -> str:
    """Why no connection could be made (refused, unknown host), or "" for other failures.

    requests wraps urllib3's error in ``MaxRetryError.reason``; a connect timeout is not here
    (it is retried like every timeout)."""
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    if isinstance(reason, NameResolutionError):
        return "its host name does not resolve"
    if isinstance(reason, NewConnectionError):
        cause = reason.__cause__ or reason.__context__
        errno_text = getattr(cause, "strerror", None)
        return (errno_text or "no connection could be made").lower()
    return ""


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 160 else text[:157] + "..."
