"""Text from outside shown as text: an exchange's answer, a file's content, a log line.

Streamlit renders the body of ``st.markdown``, ``st.error``, ``st.warning``, ``st.info``,
``st.success``, ``st.caption``, ``st.toast`` and ``st.progress`` as Markdown (GitHub flavour, plus
``:red[...]`` colours, ``:material/...:`` icons, emoji short codes and ``$...$`` maths). A server
that answers ``![x](http://evil.example/x.png)`` would make the page fetch that image; a bare
``http://...`` or ``www....`` becomes a link. :func:`plain` backslash-escapes every character
that can start markup there (CommonMark lets any ASCII punctuation be escaped), so the reader sees
the characters as they came, and our own words around it keep their Markdown.

Characters that cannot start markup where they stand are left alone, so ordinary sentences read
the same in the page's source: a comma, a period mid-line, a colon before a space or a digit
(``HTTP 400: ...``, ``12:00``), an underscore inside a word (``xgboost_btcusdt``).
"""

from __future__ import annotations

import re

__all__ = ["plain"]

# Markup wherever they stand: code spans, emphasis, links and images ([ ]), raw HTML and
# autolinks (< >), tables, strikethrough, maths, entities, e-mail autolinks.
_ALWAYS = re.compile(r"([\\`*\[\]<>|~$&@{}])")
# "_" opens or closes emphasis only at a word's edge.
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# ":red[", ":material/...:", ":smile:" and "http://" all have a colon right before a letter or "/".
_COLON = re.compile(r":(?=[^\s\d])")
# GFM turns "www.example.com" into a link.
_WWW = re.compile(r"(?i)\b(www)\.")
# Block markers at the start of a line: headings, quotes, lists, rules, setext underlines.
_LINE_START = re.compile(r"(?m)^(\s*)([#>+\-=]|\d+(?=[.)]))")


def plain(text: object) -> str:
    """``text`` (anything; ``str()`` of it) escaped so Streamlit's Markdown shows it literally."""
    out = _ALWAYS.sub(r"\\\1", str(text))
    out = _UNDERSCORE.sub(r"\\_", out)
    out = _COLON.sub(r"\\:", out)
    out = _WWW.sub(r"\1\\.", out)
    return _LINE_START.sub(_escape_line_start, out)


def _escape_line_start(match: re.Match[str]) -> str:
    lead, marker = match.group(1), match.group(2)
    if marker[0].isdigit():  # "1." / "1)": escape the dot or bracket that follows the number
        return f"{lead}{marker}\\"
    return f"{lead}\\{marker}"
