"""Make untrusted model text inert for a terminal.

Model output and provider error bodies are untrusted: an ESC could clear the screen or set
the title, an OSC 52 could write the clipboard, a bidi override could reorder what the user
reads. ``escape_controls`` replaces every such character with a visible escape (``\\x1b``,
``\\u202e``) and keeps newlines and tabs, so the text stays readable and nothing executes.
Markup (``[bold]``) is not a terminal matter: the UI renders text as ``rich.text.Text``,
never through a markup parser.
"""

from __future__ import annotations

import re

#: C0 controls except TAB and LF, DEL, C1 controls, bidi embeddings/overrides/isolates,
#: zero-width and invisible formatting characters, line/paragraph separators, BOM.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """``text`` with every control or invisible formatting character shown as an escape.

    Fast path: text with nothing to escape is returned as is (one regex search).
    """
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def has_controls(text: str) -> bool:
    return _UNSAFE.search(text) is not None
