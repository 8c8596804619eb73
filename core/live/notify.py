"""Where alerts go beyond ``logs/alerts.log``: chat apps, e-mail and JSON receivers, by URL.

A target is a notification URL in Apprise's form (https://github.com/caronc/apprise/wiki):
``tgram://BOT_TOKEN/CHAT_ID``, ``discord://WEBHOOK_ID/TOKEN``, ``slack://T/B/X``, ``ntfy://topic``,
``mailtos://user:pass@example.com``, ``json://host:port/path`` ... Targets come from
``CRYPTOVOLT_ALERT_URLS`` (several, separated by spaces, commas or new lines), from the Monitor
page (saved in ``{home}/settings/alert_urls.json``, readable by its owner only: URLs hold tokens)
and, for older set-ups, ``CRYPTOVOLT_ALERT_WEBHOOK`` (an http(s) URL, sent as the ``json://``
target of the same address).

Each alert becomes a title, the plain verdict line and a link to the page that shows it
(``CRYPTOVOLT_APP_URL``, default ``http://localhost:8501``). Delivery runs on one background
thread (:class:`Notifier`), so a slow or dead target never holds up the watch loop; how each
target is reached, retried and judged is :mod:`core.live.targets`.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from core.atomic import atomic_write_json
from core.errors import ConfigError
from core.live.targets import Delivery, Message, Target

__all__ = [
    "APP_URL_ENV",
    "URLS_ENV",
    "WEBHOOK_ENV",
    "Notifier",
    "app_link",
    "configured_urls",
    "parse_targets",
    "save_urls",
    "saved_urls",
    "send_now",
    "probe_message",
    "webhook_as_url",
]

URLS_ENV = "CRYPTOVOLT_ALERT_URLS"
WEBHOOK_ENV = "CRYPTOVOLT_ALERT_WEBHOOK"
APP_URL_ENV = "CRYPTOVOLT_APP_URL"

log = logging.getLogger("cryptovolt.watch")


def app_link(page: str = "") -> str:
    """The dashboard's URL for ``page`` (``"signals"``, ``"monitor"``)."""
    base = os.environ.get(APP_URL_ENV, "").strip() or "http://localhost:8501"
    return f"{base.rstrip('/')}/{page}" if page else base


def probe_message() -> Message:
    """The message of ``python -m core alerts test``."""
    return Message(
        "CryptoVolt: test alert",
        f"A test from CryptoVolt on {socket.gethostname()}: alerts reach this target.",
        app_link("monitor"),
        {"kind": "test", "symbol": None, "time": None, "message": "test"},
    )


# ---- configuration -------------------------------------------------------------------------


def webhook_as_url(url: str) -> str:
    """The ``json://`` target of a plain http(s) webhook URL (its query becomes ``-key=value``
    headers-free parameters, as Apprise spells extra query arguments)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(
            f"{WEBHOOK_ENV} must be an http(s) URL, got {url!r}; or use {URLS_ENV} with any "
            "Apprise URL."
        )
    scheme = "jsons" if parts.scheme == "https" else "json"
    query = urlencode([(f"-{k}", v) for k, v in parse_qsl(parts.query, keep_blank_values=True)])
    return f"{scheme}://{parts.netloc}{parts.path or '/'}" + (f"?{query}" if query else "")


def _split(text: str) -> list[str]:
    return [u for u in re.split(r"[\s,]+", text.strip()) if u]


def _settings_path(home: Path) -> Path:
    return Path(home) / "settings" / "alert_urls.json"


def saved_urls(home: Path) -> list[str]:
    """The URLs saved on the Monitor page (empty when none or unreadable)."""
    try:
        data = json.loads(_settings_path(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    urls = data.get("urls") if isinstance(data, dict) else None
    return [str(u) for u in urls] if isinstance(urls, list) else []


def save_urls(urls: Iterable[str], home: Path) -> list[str]:
    """Check every URL (ConfigError naming the first bad one: nothing is saved then) and save
    them, readable by the owner only. Returns the masked names."""
    clean = list(dict.fromkeys(u.strip() for u in urls if u.strip()))
    names = [Target(u).name for u in clean]
    path = _settings_path(home)
    atomic_write_json(path, {"urls": clean})
    os.chmod(path, 0o600)
    return names


def configured_urls(home: Path) -> list[str]:
    """Every target URL: ``CRYPTOVOLT_ALERT_URLS``, then the saved ones, then the old webhook."""
    urls = _split(os.environ.get(URLS_ENV, "")) + saved_urls(home)
    webhook = os.environ.get(WEBHOOK_ENV, "").strip()
    if webhook:
        urls.append(webhook_as_url(webhook))
    return list(dict.fromkeys(urls))


def parse_targets(urls: Sequence[str], *, home: Path | None = None, **options: Any) -> list[Target]:
    """A :class:`Target` per URL. Raises ConfigError naming the first URL Apprise cannot use
    and where it was set (the environment, or the Monitor page's list saved in ``home``)."""
    env = set(_split(os.environ.get(URLS_ENV, "")))
    saved = set(saved_urls(home)) if home is not None else set()
    targets = []
    for url in urls:
        try:
            targets.append(Target(url, **options))
        except ConfigError as exc:
            where = (
                f" It is set in {URLS_ENV}."
                if url in env
                else " It is saved on the Monitor page (settings/alert_urls.json)."
                if url in saved
                else ""
            )
            raise ConfigError(f"{exc}{where}") from None
    return targets


def send_now(targets: Sequence[Target], message: Message) -> list[Delivery]:
    """Deliver ``message`` to every target at once (one thread each); a Delivery per target."""
    results: list[Delivery | None] = [None] * len(targets)

    def one(i: int) -> None:
        results[i] = targets[i].deliver(message)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(targets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [r for r in results if r is not None]


# ---- the background sender -----------------------------------------------------------------


class Notifier:
    """Sends messages to ``targets`` from one background thread; :meth:`send` never blocks.

    Each outcome is logged (``cryptovolt.watch``, so ``logs/watch.log``): delivered, or failed with
    the target's answer; :attr:`deliveries` keeps them for the caller to inspect.
    """

    def __init__(self, targets: Sequence[Target]) -> None:
        self.targets = list(targets)
        self.deliveries: list[Delivery] = []
        self._queue: queue.Queue[Message] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, home: Path) -> Notifier | None:
        """The configured targets' notifier, or None when none is set (ConfigError: a bad URL)."""
        urls = configured_urls(home)
        return cls(parse_targets(urls, home=home)) if urls else None

    def send(self, message: Message) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="alert-notify", daemon=True)
                self._thread.start()
        self._queue.put_nowait(message)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait up to ``timeout`` s for queued messages to be delivered (or given up)."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._queue.all_tasks_done.wait(left)
        return True

    def _run(self) -> None:
        while True:
            message = self._queue.get()
            try:
                for delivery in send_now(self.targets, message):
                    self.deliveries.append(delivery)
                    if delivery.ok:
                        log.info(
                            "alert %r to %s: %s after %d tr%s",
                            message.title,
                            delivery.target,
                            delivery.answer,
                            delivery.tries,
                            "y" if delivery.tries == 1 else "ies",
                        )
                    else:
                        log.warning(
                            "alert %r to %s: failed after %d tr%s: %s",
                            message.title,
                            delivery.target,
                            delivery.tries,
                            "y" if delivery.tries == 1 else "ies",
                            delivery.answer,
                        )
            finally:
                self._queue.task_done()
