"""``python -m core serve``: the read-only HTTP API alone, without the dashboard (uvicorn).

The routes, the JSON and the access rule are :mod:`core.api.app`'s, the same ones the dashboard's
server mounts at ``/api/v1``. The server listens on the loopback unless ``--host`` says
otherwise; listening anywhere else needs a token (``--token`` or ``$CRYPTOVOLT_API_TOKEN``),
which every request must then send as ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys

from core.api.app import PREFIX, TOKEN_ENV, Access, is_loopback
from core.errors import ConfigError

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the read-only HTTP API (signals, models, cards) without the dashboard",
        description=(
            f"Serve GET {PREFIX}/signals, /signals/COIN, /models, /models/NAME, /health and "
            "/openapi.json: the same JSON as the CLI's --json, read-only (no top-up, no journal, "
            "no jobs). Requests from this machine need no token; any other needs "
            f"'Authorization: Bearer TOKEN' (the token from --token or ${TOKEN_ENV})."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine)"
    )
    parser.add_argument(
        "--port", type=int, default=8502, help="port (default 8502; 0: any free port)"
    )
    parser.add_argument(
        "--token",
        default=None,
        help=f"the bearer token other machines must send (default ${TOKEN_ENV}; the variable "
        "keeps it out of the process list)",
    )
    parser.set_defaults(func=run)


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``.

    Raises:
        ConfigError: the address cannot be used (unknown name, port taken, not this machine's).
    """
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port}: give a port from 1 to 65535 (0: any free port).")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError(f"--host {host}: not an address this machine has ({exc}).") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}): choose another --port "
            "(or --port 0 for any free one)."
        ) from None
    return sock


def run(args: argparse.Namespace) -> int:
    import uvicorn
    from starlette.applications import Starlette

    from core.api.app import mount

    access = Access.for_address(args.host, args.token)
    if access.bound_elsewhere and access.token is None:
        raise ConfigError(
            f"--host {args.host} listens beyond this machine: set a token first "
            f"({TOKEN_ENV}=... or --token ...); every request must then send "
            "'Authorization: Bearer <token>'."
        )
    sock = _listen(args.host, args.port)
    port = sock.getsockname()[1]
    shown = f"[{args.host}]" if ":" in args.host else args.host
    rule = (
        "requests from this machine need no token"
        if not access.bound_elsewhere
        else "every request needs the bearer token"
    )
    print(f"CryptoVolt API on http://{shown}:{port}{PREFIX} (read-only; {rule})", flush=True)
    if not is_loopback(args.host):
        print(f"note: listening on {args.host}; put TLS in front of it", file=sys.stderr)
    app = Starlette(routes=[mount(access, args.context)])
    config = uvicorn.Config(app, log_level=os.environ.get("CRYPTOVOLT_API_LOG", "warning"))
    with contextlib.closing(sock):
        uvicorn.Server(config).run(sockets=[sock])
    return 0
