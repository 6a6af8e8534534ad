"""``core/parts.py``: the part a provider adapter yields."""

from __future__ import annotations

from llmstream_tui.core.parts import TEXT, StreamPart, text_part


def _slots(part: StreamPart) -> dict[str, object]:
    return {name: getattr(part, name) for name in StreamPart.__slots__}


def test_text_part_is_the_keyword_built_text_part_in_every_slot() -> None:
    for text, id_ in (("Hello", "chatcmpl-1"), ("", None), ("\n", "")):
        assert _slots(text_part(text, id_)) == _slots(StreamPart(text, TEXT, id=id_))
    assert repr(text_part("a", None)) == repr(StreamPart("a"))
