"""The Monitor page's Alerts field: where alerts are sent (Apprise URLs), saved and tested."""

from __future__ import annotations

import os

import streamlit as st

from core.errors import ConfigError
from core.live.notify import (
    URLS_ENV,
    WEBHOOK_ENV,
    configured_urls,
    parse_targets,
    probe_message,
    save_urls,
    saved_urls,
    send_now,
)
from ui import state
from ui.context import context
from ui.text import plain

__all__ = ["render_alert_targets"]

_PLACEHOLDER = "tgram://BOT_TOKEN/CHAT_ID\ndiscord://WEBHOOK_ID/TOKEN\njson://127.0.0.1:9000/hook"


def _from_environment() -> str:
    set_by = [name for name in (URLS_ENV, WEBHOOK_ENV) if os.environ.get(name, "").strip()]
    return " and ".join(f"`{name}`" for name in set_by)


def render_alert_targets() -> None:
    """An expander with the saved URLs (one per line), Save, and Save and send a test (a line
    per target: delivered, or failed with the target's answer)."""
    with st.expander("Alerts: where they are sent", icon=":material/notifications:"):
        st.caption(
            "The watch loop (`python -m core watch`) sends each alert (a coin degraded or "
            "drifted, a coin's signal changed, the watch failing) to every URL here, in "
            "[Apprise's form](https://github.com/caronc/apprise/wiki): Telegram, Discord, "
            "Slack, ntfy, e-mail, a JSON receiver... Saved in `settings/alert_urls.json`, "
            "readable by you only (the URLs hold tokens)."
        )
        home = context().home
        env = _from_environment()
        if env:
            st.caption(f"Also sent to the targets in {env}.")
        if state.ALERT_URLS not in st.session_state:
            st.session_state[state.ALERT_URLS] = "\n".join(saved_urls(home))
        with st.form("alert_targets_form", border=False):
            text = st.text_area(
                "Notification URLs, one per line", key=state.ALERT_URLS, placeholder=_PLACEHOLDER
            )
            left, right = st.columns(2)
            save = left.form_submit_button("Save", icon=":material/save:")
            test = right.form_submit_button("Save and send a test", icon=":material/send:")
        if not (save or test):
            return
        try:
            names = save_urls(text.splitlines(), home)
            st.success(f"Saved {len(names)} target(s).", icon=":material/check:")
            if not test:
                return
            targets = parse_targets(configured_urls(home), home=home, tries=2, backoff=0.5)
        except ConfigError as exc:
            st.error(plain(exc), icon=":material/error:")
            return
        if not targets:
            st.info("No target to test: add a URL first.")
            return
        with st.spinner("Sending a test to every target…"):
            results = send_now(targets, probe_message())
        for r in results:
            line = plain(f"{r.target}: {r.answer}")
            if r.ok:
                st.success(line, icon=":material/mark_chat_read:")
            else:
                st.error(f"Not delivered: {line}", icon=":material/error:")
