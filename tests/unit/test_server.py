"""ui.server.BackendBaseUrl: every HTML page tells Streamlit's frontend where the server is."""

from __future__ import annotations

import asyncio
import gzip

from ui.server import BackendBaseUrl, inject_base_url

PAGE = b"<!DOCTYPE html><html><head><title>x</title></head><body></body></html>"


def _run(app, path: str = "/charts", method: str = "GET") -> tuple[dict, bytes]:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request"}

    scope = {"type": "http", "method": method, "path": path, "headers": []}
    asyncio.run(BackendBaseUrl(app)(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start, body


def _app(body: bytes, content_type: bytes, *, gzipped: bool = False, chunks: int = 1):
    async def app(scope, receive, send):
        data = gzip.compress(body) if gzipped else body
        headers = [(b"content-type", content_type), (b"content-length", str(len(data)).encode())]
        if gzipped:
            headers.append((b"content-encoding", b"gzip"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        size = -(-len(data) // chunks)
        for i in range(chunks):
            part = data[i * size : (i + 1) * size]
            await send({"type": "http.response.body", "body": part, "more_body": i < chunks - 1})

    return app


def test_the_html_page_gets_the_server_root_as_backend_base_url():
    start, body = _run(_app(PAGE, b"text/html", chunks=3))
    assert body.startswith(b"<!DOCTYPE html><html><head><script>window.__streamlit=")
    assert b'BACKEND_BASE_URL:window.location.origin+"/"' in body
    assert dict(start["headers"])[b"content-length"] == str(len(body)).encode()


def test_a_gzipped_page_is_changed_and_sent_plain():
    start, body = _run(_app(PAGE, b"text/html; charset=utf-8", gzipped=True))
    headers = dict(start["headers"])
    assert b"content-encoding" not in headers and b"BACKEND_BASE_URL" in body


def test_other_responses_pass_untouched():
    js = b"console.log('<head>')"
    _, body = _run(_app(js, b"application/javascript"))
    assert body == js
    _, body = _run(_app(PAGE, b"text/html"), method="POST")
    assert body == PAGE


def test_a_base_url_path_is_kept_and_injection_happens_once():
    once = inject_base_url(PAGE, "/crypto/")
    assert b'window.location.origin+"/crypto/"' in once
    assert inject_base_url(once) == once
    assert inject_base_url(b"no head here") == b"no head here"
