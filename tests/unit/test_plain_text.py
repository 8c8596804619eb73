"""ui.text.plain: outside text rendered by a CommonMark parser (with GFM tables and
strikethrough) comes out as exactly the characters that went in, markup and all."""

from __future__ import annotations

import html

import pytest
from markdown_it import MarkdownIt

from ui.text import plain

HOSTILE = [
    "![x](http://evil.example/x.png)",
    "[click](javascript:alert(1)) and <img src=x onerror=alert(1)>",
    "<http://evil.example> **bold** __bold__ *em* _em_ `code` ~~gone~~",
    "&amp; &#60; \\*not em\\* a\\b",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "# heading\n> quote\n- item\n+ item\n1. item\n2) item\n===\n---",
    "HTTP 400: Invalid symbol (code -1121) at 12:00, see xgboost_btcusdt v1.",
    "[x]: http://evil.example/ref\n[x]",
]


def _render(text: str) -> str:
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    return md.render(text)


@pytest.mark.parametrize("text", HOSTILE)
def test_outside_text_renders_as_the_characters_it_holds(text: str):
    rendered = _render(plain(text))
    assert rendered == f"<p>{html.escape(text, quote=False)}</p>\n"


@pytest.mark.parametrize("text", HOSTILE[:3])
def test_the_same_text_unescaped_would_be_markup(text: str):
    assert _render(text) != f"<p>{html.escape(text, quote=False)}</p>\n"


def test_streamlit_directives_and_autolinks_are_broken_up():
    escaped = plain(":red[alarm] :material/warning: :smile: https://x.example www.x.example $x$")
    assert escaped == (
        r"\:red\[alarm\] \:material/warning: \:smile: https\://x.example www\.x.example \$x\$"
    )


def test_ordinary_sentences_keep_their_source():
    words = "Binance cannot be reached for BTCUSDT, ETHUSDT: HTTP 503 at 12:00 (xgboost_btcusdt)."
    assert plain(words) == words
