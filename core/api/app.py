"""The read-only HTTP API: ``GET /api/v1/...`` as a Starlette app.

Routes (every one a GET; any other method is answered 405):

* ``/api/v1/health``: the server is up, its version and clock.
* ``/api/v1/signals`` (``?coins=BTC,ETH``, ``?vol_target=0.02``): every trained coin's live signal,
  the same JSON as ``python -m core signals --json --no-journal``.
* ``/api/v1/signals/{coin}``: one coin's signal object (404 with the reason when it has none).
* ``/api/v1/models``: every version in the registry, as ``python -m core models --json``.
* ``/api/v1/models/{name}`` (``?version=v2``): one version's card, as ``models show NAME --json``.
* ``/api/v1/openapi.json``: the OpenAPI 3.1 description of the above.

Nothing here writes: signals are computed on the stored candles without a top-up, and the journal
is neither written nor judged (the CLI's ``signals`` records its calls; the API does not).

Who may ask (:class:`Access`): a request from this machine (the peer is a loopback address, the
``Host`` names the loopback, and no proxy header says it was forwarded) needs nothing, like the
dashboard; any other request, and every request when the server listens beyond the loopback,
needs ``Authorization: Bearer <token>`` with the token the user set (``CRYPTOVOLT_API_TOKEN`` or
``serve --token``). Without a token set, such requests are refused (401) with what to do.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from core.api import payloads
from core.errors import CryptoVoltError

if TYPE_CHECKING:
    from core.context import Context
    from core.registry.model_registry import ModelRegistry

__all__ = ["PREFIX", "TOKEN_ENV", "Access", "create_app", "is_loopback", "mount", "openapi"]

PREFIX = "/api/v1"
TOKEN_ENV = "CRYPTOVOLT_API_TOKEN"

#: Headers a reverse proxy adds: a request carrying one came from elsewhere, whatever its peer.
_FORWARDED = (b"forwarded", b"x-forwarded-for", b"x-real-ip", b"x-forwarded-host")
_MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def is_loopback(host: str | None) -> bool:
    """``host`` (an address or ``localhost``, IPv6 with or without brackets) is this machine's
    loopback; ``None``, empty, ``0.0.0.0`` and any other name are not."""
    if not host:
        return False
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


def _host_name(value: str) -> str:
    """The name in a ``Host`` header, without its port."""
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


@dataclass(frozen=True)
class Access:
    """Who may read the API. ``token``: the bearer token the user set (``None``: none set);
    ``bound_elsewhere``: the server listens beyond the loopback, so every request needs it."""

    token: str | None = None
    bound_elsewhere: bool = False

    @classmethod
    def for_address(cls, address: str | None, token: str | None = None) -> Access:
        """The rule for a server listening on ``address`` (``None``/empty: every interface),
        with ``token`` (default: ``$CRYPTOVOLT_API_TOKEN``; blank counts as none)."""
        chosen = token if token is not None else os.environ.get(TOKEN_ENV)
        return cls(token=(chosen or "").strip() or None, bound_elsewhere=not is_loopback(address))

    def refusal(self, scope: Scope) -> str | None:
        """Why the request in ``scope`` is refused, or ``None`` when it may be answered."""
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"authorization", b"").decode("latin-1").strip()
        if given and self.token is not None:
            scheme, _, value = given.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(
                value.strip().encode(), self.token.encode()
            ):
                return None
            return "wrong token: send 'Authorization: Bearer <token>' with the server's token."
        if self._local(scope, headers):
            return None
        if self.token is None:
            return (
                "this request does not come from this machine, and no API token is set: start "
                f"the server with {TOKEN_ENV} set (or `serve --token`) and send "
                "'Authorization: Bearer <token>'."
            )
        return "a request from off this machine needs 'Authorization: Bearer <token>'."

    def _local(self, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        if self.bound_elsewhere or any(h in headers for h in _FORWARDED):
            return False
        peer = (scope.get("client") or (None,))[0]
        host = _host_name(headers.get(b"host", b"").decode("latin-1"))
        return is_loopback(peer) and is_loopback(host)


class _Guard:
    """ASGI middleware: answers 401 (JSON, ``WWW-Authenticate: Bearer``) to a refused request."""

    def __init__(self, app: Any, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "http" and (why := self.access.refusal(scope)) is not None:
            answer = JSONResponse(
                {"error": why.strip()}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _json(payload: Any, status_code: int = 200) -> Response:
    return Response(payloads.dumps(payload), status_code, media_type="application/json")


def _error(status_code: int, message: str) -> Response:
    return _json({"error": message}, status_code)


def _context(request: Request) -> Context:
    """This request's context: the one its server was given (``core serve``: the CLI's, with its
    ``--home``), else the environment's, read at this request (the dashboard's server)."""
    from core.context import Context

    given: Context | None = getattr(request.app.state, "context", None)
    return given if given is not None else Context.from_env()


def _live(coins: list[str] | None, vol_target: float, ctx: Context) -> Any:
    from core.config import SignalConfig
    from core.usecases import live_signals

    config = SignalConfig(vol_target=vol_target)
    return live_signals(
        coins,
        home=ctx.home,
        config=config,
        refresh=False,
        source=None,
        judge=False,
        now=ctx.now(),
    )


def _vol_target(request: Request) -> float:
    raw = request.query_params.get("vol_target", "0.02")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < 10:
        raise HTTPException(400, f"vol_target={raw!r}: give a daily volatility such as 0.02.")
    return value


def health(request: Request) -> Response:
    return _json(payloads.health())


def signals(request: Request) -> Response:
    from core.data.coins import parse_coins

    vol_target = _vol_target(request)
    asked = request.query_params.get("coins")
    try:
        coins = [c.symbol for c in parse_coins(asked)] if asked else None
    except CryptoVoltError as exc:
        return _error(400, str(exc))
    ctx = _context(request)
    return _json(payloads.signals(_live(coins, vol_target, ctx), paths=ctx.paths))


def signal(request: Request) -> Response:
    from core.data.coins import parse_coin

    vol_target = _vol_target(request)
    try:
        symbol = parse_coin(request.path_params["coin"]).symbol
    except CryptoVoltError as exc:
        return _error(404, str(exc))
    ctx = _context(request)
    result = _live([symbol], vol_target, ctx)
    found = payloads.signals(result, paths=ctx.paths)
    if not found:
        why = result.errors.get(symbol, "no trained model")
        return _error(404, f"no signal for {symbol}: {why}")
    return _json(found[0])


def _registry(request: Request) -> ModelRegistry:
    """This request's registry: the models folder of its context's home (as :func:`_live`)."""
    from core.registry.model_registry import ModelRegistry

    return ModelRegistry(_context(request).paths.models)


def models(request: Request) -> Response:
    return _json(payloads.models(_registry(request)))


def model(request: Request) -> Response:
    name = request.path_params["name"]
    if not _MODEL_NAME.match(name):
        return _error(404, f"no model named {name!r}: names look like xgb_direction_btcusdt.")
    try:
        return _json(payloads.card(_registry(request), name, request.query_params.get("version")))
    except CryptoVoltError as exc:
        return _error(404, str(exc))


def openapi_json(request: Request) -> Response:
    return JSONResponse(openapi())


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    why = "the API is read-only: use GET." if exc.status_code == 405 else str(exc.detail)
    answer = _error(exc.status_code, why)
    answer.headers.update(exc.headers or {})
    return answer


ROUTES = (
    ("/health", health, "Health", "The server is up: status, version, API version, clock (UTC)."),
    ("/signals", signals, "Signals", "Every trained coin's live signal (no top-up, no journal)."),
    ("/signals/{coin}", signal, "Signal", "One coin's live signal."),
    ("/models", models, "Models", "Every model version in the registry, with its verdict."),
    ("/models/{name}", model, "Model card", "One version's metadata and card."),
    ("/openapi.json", openapi_json, "OpenAPI", "This API's OpenAPI 3.1 description."),
)


def create_app(access: Access, context: Context | None = None) -> Starlette:
    """The API's routes (paths without the ``/api/v1`` prefix) behind ``access``, answering from
    ``context`` (its edge's: ``core serve``'s ``args.context``), else from the context the
    environment describes at each request."""
    from starlette.middleware import Middleware

    app = Starlette(
        routes=[Route(path, fn, methods=["GET"]) for path, fn, _, _ in ROUTES],
        middleware=[Middleware(_Guard, access=access)],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.context = context
    return app


def mount(access: Access, context: Context | None = None) -> Mount:
    """The API at ``/api/v1``, for a server that also serves other routes (the dashboard)."""
    return Mount(PREFIX, app=create_app(access, context))


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 description of every route, its parameters and answers."""
    from core import version

    error = {"$ref": "#/components/schemas/Error"}

    def answer(text: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"description": text, "content": {"application/json": {"schema": schema}}}

    common = {
        "401": answer("Off this machine without the right bearer token.", error),
        "405": answer("Any method but GET: the API is read-only.", error),
    }
    query = {
        "vol_target": {
            "name": "vol_target",
            "in": "query",
            "required": False,
            "description": "Daily volatility the position size aims at (default 0.02).",
            "schema": {"type": "number", "default": 0.02, "exclusiveMinimum": 0},
        },
        "coins": {
            "name": "coins",
            "in": "query",
            "required": False,
            "description": "Comma-separated coins (default: every coin with a model).",
            "schema": {"type": "string", "example": "BTC,ETH"},
        },
        "coin": {"name": "coin", "in": "path", "required": True, "schema": {"type": "string"}},
        "name": {
            "name": "name",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "example": "xgb_direction_btcusdt"},
        },
        "version": {
            "name": "version",
            "in": "query",
            "required": False,
            "description": "A version label such as v2 (default: the champion).",
            "schema": {"type": "string"},
        },
    }
    signal_ref = {"$ref": "#/components/schemas/Signal"}
    model_ref = {"$ref": "#/components/schemas/ModelVersion"}
    shapes: dict[str, tuple[list[str], dict[str, Any], bool]] = {
        "/health": ([], {"$ref": "#/components/schemas/Health"}, False),
        "/signals": (["coins", "vol_target"], {"type": "array", "items": signal_ref}, False),
        "/signals/{coin}": (["coin", "vol_target"], signal_ref, True),
        "/models": ([], {"type": "array", "items": model_ref}, False),
        "/models/{name}": (["name", "version"], model_ref, True),
        "/openapi.json": ([], {"type": "object"}, False),
    }
    paths: dict[str, Any] = {}
    for path, _, summary, text in ROUTES:
        params, schema, may_miss = shapes[path]
        responses = {"200": answer(text, schema), **common}
        if params and path != "/health":
            responses["400"] = answer("A query parameter that cannot be used.", error)
        if may_miss:
            responses["404"] = answer("No such coin, model or version, or no signal.", error)
        paths[PREFIX + path] = {
            "get": {
                "summary": summary,
                "description": text,
                "operationId": summary.lower().replace(" ", "_"),
                "parameters": [query[p] for p in params],
                "responses": responses,
            }
        }
    nullable_number = {"type": ["number", "null"]}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CryptoVolt API",
            "version": version(),
            "description": (
                "Read-only: the same JSON as the CLI's --json. Requests from this machine need no "
                "token; any other needs 'Authorization: Bearer <token>' ($" + TOKEN_ENV + ")."
            ),
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                },
                "Health": {
                    "type": "object",
                    "required": ["status", "version", "api", "time"],
                    "properties": {
                        "status": {"const": "ok"},
                        "version": {"type": "string"},
                        "api": {"const": "v1"},
                        "time": {"type": "string", "format": "date-time"},
                    },
                },
                "Signal": {
                    "type": "object",
                    "required": ["symbol", "signal", "confidence", "interval", "candle_time"],
                    "properties": {
                        "symbol": {"type": "string", "example": "BTCUSDT"},
                        "signal": {"enum": ["BULLISH", "BEARISH", "NEUTRAL", "NO_EDGE", "STALE"]},
                        "reason": {"type": ["string", "null"]},
                        "confidence": nullable_number,
                        "interval": {"type": "array", "items": nullable_number},
                        "support": {"type": "integer"},
                        "base_rate": nullable_number,
                        "test_hit_rate": nullable_number,
                        "horizon": {"type": "integer"},
                        "timeframe": {"type": "string"},
                        "price": {"type": "number"},
                        "candle_time": {"type": "string", "format": "date-time"},
                        "stale": {"type": "boolean"},
                        "gates_passed": {"type": "object"},
                        "models": {"type": "object"},
                        "votes": {"type": "array", "items": {"type": "object"}},
                        "expected_move": {},
                        "vol_regime": {},
                        "position_size": {},
                        "conflict": {"type": ["string", "null"]},
                    },
                },
                "ModelVersion": {
                    "type": "object",
                    "required": ["name", "version"],
                    "properties": {
                        "name": {"type": "string"},
                        "version": {"type": "string"},
                        "symbol": {"type": "string"},
                        "model_type": {"type": "string"},
                        "promoted": {"type": "boolean"},
                        "champion": {"type": "boolean"},
                        "gates_passed": {},
                        "verdict": {"type": "string"},
                        "card": {"type": ["object", "null"]},
                        "error": {"type": "string"},
                    },
                },
            },
        },
        "security": [{}, {"bearer": []}],
    }
