"""Who may read the HTTP API (core.api.app.Access), from the ASGI scope a server hands it."""

from __future__ import annotations

from core.api.app import Access, is_loopback


def scope(peer: str, host: str, **headers: str) -> dict:
    raw = [(b"host", host.encode())] + [
        (k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()
    ]
    return {"type": "http", "client": (peer, 50000), "headers": raw}


def test_loopback_names_and_addresses():
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "", None, "192.0.2.2", "::", "example.com", "10.0.0.5"):
        assert not is_loopback(host), host


def test_this_machine_needs_no_token_and_anything_else_does():
    access = Access(token="t0k")
    assert access.refusal(scope("127.0.0.1", "localhost:8501")) is None
    assert access.refusal(scope("::1", "[::1]:8501")) is None
    assert access.refusal(scope("192.0.2.7", "192.0.2.2:8501")) is not None
    assert access.refusal(scope("127.0.0.1", "evil.example:8501")) is not None  # DNS rebinding
    assert access.refusal(scope("127.0.0.1", "localhost", x_forwarded_for="1.2.3.4")) is not None
    assert access.refusal(scope("127.0.0.1", "localhost", forwarded="for=1.2.3.4")) is not None
    good = scope("192.0.2.7", "192.0.2.2", authorization="Bearer t0k")
    assert access.refusal(good) is None
    assert access.refusal(scope("192.0.2.7", "x", authorization="Bearer t0K")) is not None
    assert access.refusal(scope("127.0.0.1", "localhost", authorization="Basic t0k")) is not None


def test_a_server_beyond_the_loopback_asks_everyone():
    access = Access.for_address("0.0.0.0", "t0k")
    assert access.bound_elsewhere
    assert access.refusal(scope("127.0.0.1", "localhost")) is not None
    assert access.refusal(scope("127.0.0.1", "localhost", authorization="Bearer t0k")) is None
    assert not Access.for_address("localhost", "").bound_elsewhere
    assert Access.for_address("localhost", "  ").token is None  # blank is no token
    assert "no API token is set" in (Access().refusal(scope("192.0.2.7", "h")) or "")
