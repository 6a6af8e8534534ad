"""Make untrusted model text inert for a terminal.

Model output and provider error bodies are untrusted: an ESC could clear the screen or set
the title, an OSC 52 could write the clipboard, a bidi override could reorder what the user
reads, and invisible characters (tag characters, soft hyphens, zero-width spaces) could hide
text the user never sees. ``escape_controls`` replaces every such character with a visible
escape (``\\x1b``, ``\\u202e``, ``\\U000e0041``) and keeps newlines and tabs, so the text
stays readable and nothing executes. Markup (``[bold]``) is not a terminal matter: the UI
renders text as ``rich.text.Text``, never through a markup parser.

What is escaped: the C0 controls but TAB and LF, DEL, the C1 controls, the line and paragraph
separators, and *every* Unicode format character (category ``Cf``: bidi marks, embeddings,
overrides and isolates, U+061C, zero-width and invisible characters, U+00AD, U+180E, the
BOM, the tag characters U+E0000-U+E007F, interlinear annotations...), bar two.

The two kept, because text needs them to render: the zero-width joiner U+200D (emoji
sequences such as a family or a flame heart are joined by it) and non-joiner U+200C (Persian
and Indic spelling). Each is kept only where it can do that job, right after a visible
non-ASCII character (an emoji, a variation selector, a letter or a virama) and not before an
ASCII one; anywhere else (between ASCII letters, at the start of a piece, one joiner after
another) it can only hide bits, and is escaped. The test scans every code point of the
running Python's Unicode database, so a new ``Cf`` character cannot slip through unnoticed.
"""

from __future__ import annotations

import re

#: C0 controls except TAB and LF, DEL, C1 controls, U+2028/U+2029, and every format (Cf)
#: character of Unicode 14 (``tests/adversarial/test_hostile_wire.py`` checks the list
#: against ``unicodedata``); the joiners U+200C/U+200D are in it and judged in context. The
#: few astral format characters between U+110BD and U+1D17A are matched by that whole range
#: (one range test per character instead of six: the search runs twice as fast) and told
#: apart in ``_escape``; the range holds no emoji and no common script.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd-\U0001d17a\U000e0000-\U000e007f]"
)
#: ASCII text (``str.isascii`` is free) can only hold these: a much cheaper search.
_UNSAFE_ASCII = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_ASTRAL_FORMAT = frozenset(
    "\U000110bd\U000110cd"
    + "".join(map(chr, range(0x13430, 0x13440)))
    + "".join(map(chr, range(0x1BCA0, 0x1BCA4)))
    + "".join(map(chr, range(0x1D173, 0x1D17B)))
)
_JOINERS = frozenset("\u200c\u200d")


def _joiner_renders(text: str, at: int) -> bool:
    """A joiner at ``at`` follows a visible non-ASCII character and precedes no ASCII one."""
    if at == 0:
        return False
    before = text[at - 1]
    if before < "\x80" or before.isspace() or _UNSAFE.match(before):
        return False
    after = text[at + 1 : at + 2]
    return not after or after >= "\x80"


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        if char in _JOINERS and _joiner_renders(match.string, match.start()):
            return char
        return f"\\u{code:04x}"
    if code < 0xE0000 and char not in _ASTRAL_FORMAT:
        return char  # a visible character of the coarse range (a hieroglyph, a note)
    return f"\\U{code:08x}"


def escape_controls(text: str) -> str:
    """``text`` with every control or invisible formatting character shown as an escape.

    Fast path: text with nothing to escape is returned as is (one regex search); so is text
    whose only such characters are joiners that render (an emoji sequence).
    """
    unsafe = _UNSAFE_ASCII if text.isascii() else _UNSAFE
    if unsafe.search(text) is None:
        return text
    escaped = unsafe.sub(_escape, text)
    return text if escaped == text else escaped


def has_controls(text: str) -> bool:
    """Whether ``escape_controls`` would change ``text``."""
    unsafe = _UNSAFE_ASCII if text.isascii() else _UNSAFE
    return any(_escape(m) != m.group() for m in unsafe.finditer(text))
