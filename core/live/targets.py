"""One notification target: an Apprise URL, and how a message reaches it.

``json://`` / ``jsons://`` targets go out over our own urllib3 pool: Apprise's JSON body
(``version``, ``title``, ``message``, ``attachments``, ``type``, plus the URL's ``:key=value``
extras) and beside them the alert's fields (``source``, ``time``, ``kind``, ``symbol``, ``link``),
retried by urllib3's ``Retry`` on connection errors, 429 and 5xx, waiting as long as
``Retry-After`` asks (up to :data:`MAX_RETRY_AFTER`; a longer wait is a failed delivery, not an
early retry). Every other service is sent by Apprise's own plugin (it knows each API; the body is
declared plain text, so a chat app shows it as text), retried here with exponential backoff; its
answer is what Apprise logged about the failure. Redirects are never followed: a 3xx is a failed
delivery, with its ``Location`` in the answer.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import urllib3
from urllib3 import BaseHTTPResponse
from urllib3.util.retry import Retry

from core.errors import ConfigError

__all__ = ["MAX_RETRY_AFTER", "RETRY_STATUSES", "Delivery", "Message", "Target"]

#: The longest Retry-After (seconds) a delivery waits for; a target asking more has failed.
MAX_RETRY_AFTER = 300.0
#: Answers worth another try: throttled, or the receiver's own trouble.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Message:
    """What one alert says: a title, the verdict line, a link; ``fields`` go to JSON receivers."""

    title: str
    body: str
    link: str = ""
    fields: dict[str, Any] | None = None

    def text(self) -> str:
        return f"{self.body}\n{self.link}" if self.link else self.body


@dataclass(frozen=True)
class Delivery:
    """How one message fared at one target (``target``: its URL with secrets masked)."""

    target: str
    ok: bool
    answer: str
    tries: int


# ---- targets -------------------------------------------------------------------------------


def _asset() -> Any:
    import apprise

    # Apprise follows redirects unless told not to; a redirect could re-post an alert anywhere
    return apprise.AppriseAsset(http_redirects=False)


@contextmanager
def _apprise_answers() -> Iterator[list[str]]:
    """Collect what Apprise logs at WARNING or above on this thread (its words for a failure)."""
    me = threading.get_ident()
    lines: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.thread == me:
                lines.append(" ".join(record.getMessage().split()))

    handler = _Collect(logging.WARNING)
    logger = logging.getLogger("apprise")
    logger.addHandler(handler)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)


class Target:
    """One notification URL. :meth:`deliver` blocks (with its retries); call it off the loop."""

    def __init__(
        self,
        url: str,
        *,
        tries: int = 5,
        backoff: float = 1.0,
        backoff_max: float = 60.0,
        timeout: float = 10.0,
    ) -> None:
        import apprise
        from apprise.plugins.custom_json import NotifyJSON

        # Apprise is partly typed: its plugins' url() is not
        plugin: Any = apprise.Apprise.instantiate(url, asset=_asset(), suppress_exceptions=True)
        if plugin is None:
            raise ConfigError(
                f"{_mask(url)!r} is not a notification URL Apprise knows; use its form, e.g. "
                "tgram://BOT_TOKEN/CHAT_ID, discord://WEBHOOK_ID/TOKEN, ntfy://TOPIC or "
                "json://HOST:PORT/PATH (https://github.com/caronc/apprise/wiki)."
            )
        self.url = url
        self.plugin: Any = plugin
        self.name = str(plugin.url(privacy=True)).split("?", 1)[0]  # secrets masked
        self.ours = isinstance(plugin, NotifyJSON)
        self.tries, self.backoff, self.backoff_max, self.timeout = (
            max(1, tries),
            backoff,
            backoff_max,
            timeout,
        )
        self._pool: Any = None

    def deliver(self, message: Message) -> Delivery:
        """Send ``message``, retrying as the module docstring says; never raises."""
        try:
            return self._json(message) if self.ours else self._apprise(message)
        except Exception as exc:  # a plugin's own bug must not end the delivery thread
            return Delivery(self.name, False, f"{type(exc).__name__}: {exc}", 1)

    # -- Apprise's plugins ---------------------------------------------------------------------

    def _apprise(self, message: Message) -> Delivery:
        from apprise import NotifyFormat, NotifyType

        answer, wait = "", self.backoff
        for attempt in range(1, self.tries + 1):
            with _apprise_answers() as said:
                ok = self.plugin.notify(
                    body=message.text(),
                    title=message.title,
                    notify_type=NotifyType.WARNING,
                    body_format=NotifyFormat.TEXT,
                )
            if ok:
                return Delivery(self.name, True, "delivered", attempt)
            answer = "; ".join(said) or "the service did not accept it"
            if attempt < self.tries:
                time.sleep(wait)
                wait = min(wait * 2, self.backoff_max)
        return Delivery(self.name, False, answer, self.tries)

    # -- JSON over our own transport -----------------------------------------------------------

    def _json_request(self, message: Message) -> tuple[str, str, bytes, dict[str, str]]:
        """Method, URL, body and headers exactly as Apprise's json:// plugin would send them,
        plus the alert's fields beside them."""
        from apprise.plugins.custom_json import JSONPayloadField

        p = self.plugin
        payload: dict[str, Any] = {
            JSONPayloadField.VERSION: p.json_version,
            JSONPayloadField.TITLE: message.title,
            JSONPayloadField.MESSAGE: message.text(),
            JSONPayloadField.ATTACHMENTS: [],
            JSONPayloadField.MESSAGETYPE: "warning",
        }
        for key, value in p.payload_extras.items():  # json://...?:key=value, as Apprise does
            if key in payload:
                if value:
                    payload[value] = payload[key]
                del payload[key]
            else:
                payload[key] = value
        if message.fields is not None:  # the alert's own fields, beside Apprise's (kept first)
            extra = {"source": "cryptovolt", **message.fields, "link": message.link}
            payload.update({k: v for k, v in extra.items() if k not in payload})
        url = f"{'https' if p.secure else 'http'}://{p.host}"
        if isinstance(p.port, int):
            url += f":{p.port}"
        url += p.fullpath
        if p.params:
            url += "?" + urlencode(p.params)
        headers = {"User-Agent": p.app_id, "Content-Type": "application/json", **p.headers}
        if p.user:
            auth = f"{p.user}:{p.password or ''}"
            headers.update(urllib3.util.make_headers(basic_auth=auth))
        return p.method, url, json.dumps(payload).encode("utf-8"), headers

    def _json(self, message: Message) -> Delivery:
        if self._pool is None:
            self._pool = urllib3.PoolManager(
                cert_reqs="CERT_REQUIRED" if self.plugin.verify_certificate else "CERT_NONE"
            )
        method, url, body, headers = self._json_request(message)
        retry = _Retry(
            total=self.tries - 1,
            redirect=0,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=None,  # POST too: a duplicate alert beats a lost one
            backoff_factor=self.backoff,
            backoff_max=self.backoff_max,
            respect_retry_after_header=True,
            raise_on_status=False,
            raise_on_redirect=False,
        )
        try:
            resp = self._pool.request(
                method,
                url,
                body=body,
                headers=headers,
                retries=retry,
                redirect=False,
                timeout=urllib3.Timeout(total=self.timeout),
            )
        except _WaitTooLong as exc:
            return Delivery(self.name, False, str(exc), exc.tries)
        except urllib3.exceptions.MaxRetryError as exc:
            return Delivery(self.name, False, f"no answer: {exc.reason}", self.tries)
        except urllib3.exceptions.HTTPError as exc:
            return Delivery(self.name, False, f"no answer: {exc}", 1)
        tries = 1 + len(resp.retries.history) if resp.retries is not None else 1
        status = resp.status
        if 300 <= status < 400:
            where = resp.headers.get("Location", "(no Location)")
            return Delivery(
                self.name,
                False,
                f"HTTP {status} redirect to {where} (redirects are not followed; use the final "
                "URL)",
                tries,
            )
        if status < 300:
            return Delivery(self.name, True, f"delivered (HTTP {status})", tries)
        text = " ".join(resp.data[:300].decode("utf-8", "replace").split())
        return Delivery(self.name, False, f"HTTP {status} {resp.reason or ''}: {text}", tries)


class _WaitTooLong(Exception):
    def __init__(self, wait: float, tries: int) -> None:
        super().__init__(
            f"the target asked to wait {wait:.0f} s before another try (more than "
            f"{MAX_RETRY_AFTER:.0f} s): given up"
        )
        self.tries = tries


class _Retry(Retry):
    """urllib3's Retry, refusing a Retry-After longer than :data:`MAX_RETRY_AFTER`."""

    def sleep_for_retry(self, response: BaseHTTPResponse) -> bool:
        wait = self.get_retry_after(response)
        if wait is not None and wait > MAX_RETRY_AFTER:
            raise _WaitTooLong(wait, len(self.history))
        return super().sleep_for_retry(response)


def _mask(url: str) -> str:
    """``url`` with everything after the scheme's host hidden (for an error line)."""
    head = url.split("://", 1)
    return f"{head[0]}://…" if len(head) == 2 else url[:12] + "…"
