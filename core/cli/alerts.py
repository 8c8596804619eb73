"""``python -m core alerts test | list``: the notification targets alerts go to.

``test`` sends a test message to every configured target (``CRYPTOVOLT_ALERT_URLS``, the Monitor
page's, ``CRYPTOVOLT_ALERT_WEBHOOK``) or to the ``--url`` given, and says per target whether it
was delivered; the exit code is 1 when any failed. ``list`` shows them with secrets masked.
"""

from __future__ import annotations

import argparse

from core.errors import ConfigError
from core.live.notify import URLS_ENV, configured_urls, parse_targets, probe_message, send_now

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "alerts",
        help="test or list the notification targets (Apprise URLs) alerts are sent to",
        description=(
            f"Alerts go to every Apprise URL in {URLS_ENV} (e.g. tgram://BOT_TOKEN/CHAT_ID, "
            "discord://WEBHOOK_ID/TOKEN, ntfy://TOPIC, json://HOST:PORT/PATH), to those saved "
            "on the Monitor page and to CRYPTOVOLT_ALERT_WEBHOOK."
        ),
    )
    parser.add_argument("action", choices=["test", "list"], help="send a test message, or list")
    parser.add_argument(
        "--url",
        action="append",
        default=None,
        help="a target to use instead of the configured ones (repeat for several)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    home = args.context.home
    urls = list(args.url) if args.url else configured_urls(home)
    if not urls:
        raise ConfigError(
            f"no alert targets: set {URLS_ENV} to one or more Apprise URLs (e.g. "
            "tgram://BOT_TOKEN/CHAT_ID or json://HOST:PORT/PATH) or add them on the Monitor page."
        )
    targets = parse_targets(urls, home=home, tries=3, backoff=0.5)  # a person waits on the answer
    if args.action == "list":
        for target in targets:
            print(target.name)
        return 0
    results = send_now(targets, probe_message())
    for result in results:
        verdict = "delivered" if result.ok else "FAILED"
        tries = f"{result.tries} tr{'y' if result.tries == 1 else 'ies'}"
        print(f"{result.target}: {verdict} ({tries}): {result.answer}")
    failed = sum(not r.ok for r in results)
    print(f"{len(results) - failed} of {len(results)} target(s) delivered.")
    return 1 if failed else 0
