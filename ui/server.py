"""The app's ASGI wrapper: deep links such as ``/charts`` connect without 404s.

Streamlit's frontend does not know where the server lives, so, opened at ``/charts``, it first
tries the page's own path (``/charts/_stcore/health`` and ``/charts/_stcore/host-config``), gets
a 404 for each (deliberate: ``_RESERVED_STATIC_PATH_SUFFIXES`` in Streamlit's static routes), and
only then ``/_stcore/...``: two console errors on every reload or shared link
(streamlit/streamlit#7074, open). Answering 200 under the page's path is no fix: the frontend
would take ``/charts`` as the app's base and show the default page.

The frontend reads ``window.__streamlit.BACKEND_BASE_URL`` (its hook for hosts that embed
Streamlit); when that is the server's root, it tries only there. :class:`BackendBaseUrl` adds
that one line to the HTML page Streamlit serves, so the first attempt is the right one.
``streamlit_app.py`` builds ``app = st.App(...)`` with it when ``streamlit run`` imports the file
(Streamlit's ASGI mode); the app's script runs (and AppTest) only draw pages.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["BackendBaseUrl", "inject_base_url"]

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]


def inject_base_url(html: bytes, base_path: str = "") -> bytes:
    """``html`` with a script setting ``window.__streamlit.BACKEND_BASE_URL`` to the server's root
    (``location.origin`` + ``base_path``) at the start of ``<head>``; unchanged without one."""
    path = "/" + base_path.strip("/") + ("/" if base_path.strip("/") else "")
    script = (
        "<script>window.__streamlit=Object.assign({},window.__streamlit,"
        f"{{BACKEND_BASE_URL:window.location.origin+{json.dumps(path)}}})</script>"
    ).encode()
    head = html.find(b"<head>")
    if head < 0 or b"BACKEND_BASE_URL" in html:
        return html
    cut = head + len(b"<head>")
    return html[:cut] + script + html[cut:]


class BackendBaseUrl:
    """ASGI middleware: every HTML page the server sends tells the frontend the server's root."""

    def __init__(self, app: Any, base_path: str = "") -> None:
        self.app = app
        self.base_path = base_path

    async def __call__(self, scope: Message, receive: Any, send: Send) -> None:
        if scope.get("type") != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        chunks: list[bytes] = []

        async def wrapped(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                if message.get("status") == 200 and headers.get(b"content-type", b"").startswith(
                    b"text/html"
                ):
                    held = message  # sent with the changed body below
                    return
            elif message["type"] == "http.response.body" and held is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                await self._send_changed(held, b"".join(chunks), send)
                return
            await send(message)

        await self.app(scope, receive, wrapped)

    async def _send_changed(self, start: Message, body: bytes, send: Send) -> None:
        headers = [(k, v) for k, v in start.get("headers", [])]
        encoding = next((v for k, v in headers if k.lower() == b"content-encoding"), b"")
        if encoding not in (b"", b"gzip"):  # not ours to rewrite: send it as it came
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        if encoding == b"gzip":
            body = gzip.decompress(body)
        body = inject_base_url(body, self.base_path)
        skip = {b"content-length", b"content-encoding"}
        headers = [(k, v) for k, v in headers if k.lower() not in skip]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})
