"""The decoders' size limit (``max_event_bytes`` / ``max_line_bytes``): what they hold never
exceeds the limit plus one read, the verdict does not depend on how the bytes were split,
and what came before the oversized event is delivered."""

from __future__ import annotations

import pytest

from llmstream_tui.wire import NDJSONDecoder, SSEDecoder
from llmstream_tui.wire.errors import WireLimitError

LIMIT = 4096
READ = 1000


def held(decoder: SSEDecoder | NDJSONDecoder) -> int:
    """Characters or bytes the decoder holds for its pending event or line."""
    pieces = list(decoder._tail)
    if isinstance(decoder, SSEDecoder):
        pieces += decoder._data
    return sum(map(len, pieces))


@pytest.mark.parametrize("prefix", [b"data: ", b": comment ", b"event: ", b""])
def test_sse_endless_line_is_cut_at_the_limit_plus_one_read(prefix: bytes) -> None:
    decoder = SSEDecoder(max_event_bytes=LIMIT)
    decoder.feed(prefix)
    with pytest.raises(WireLimitError) as info:
        for _ in range(100):
            decoder.feed(b"x" * READ)
            assert held(decoder) <= LIMIT
    assert held(decoder) <= LIMIT + READ
    assert str(info.value) == "an event longer than the 4 KiB limit"


def test_sse_many_data_lines_count_towards_one_event() -> None:
    decoder = SSEDecoder(max_event_bytes=LIMIT)
    with pytest.raises(WireLimitError):
        for _ in range(10_000):
            decoder.feed(b"data:\n")  # empty data lines still join with newlines
    assert len(decoder._data) <= LIMIT + 1


def test_sse_events_before_the_oversized_one_are_delivered() -> None:
    decoder = SSEDecoder(max_event_bytes=LIMIT)
    with pytest.raises(WireLimitError) as info:
        decoder.feed(b"data: ok\n\ndata: " + b"y" * (LIMIT + 10) + b"\n\n")
    assert [e.data for e in info.value.decoded] == ["ok"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("read", [1, 7, 100, 10_000])
def test_sse_verdict_does_not_depend_on_the_split(read: int) -> None:
    # A pending line counts with its field name ("data: "), a dispatched event without:
    # the verdict is the same for every split once the event is clear of that margin.
    fits = b"data: " + b"a" * (LIMIT - 8) + b"\n\n"
    too_big = b"data: " + b"a" * LIMIT + b"\ndata: b\n\n"
    for body, ok in ((fits, True), (too_big, False)):
        decoder = SSEDecoder(max_event_bytes=LIMIT)
        events = []
        try:
            for i in range(0, len(body), read):
                events += decoder.feed(body[i : i + read])
        except WireLimitError:
            assert not ok
        else:
            assert ok and len(events) == 1 and len(events[0].data) == LIMIT - 8


def test_sse_events_under_the_limit_flow_forever() -> None:
    decoder = SSEDecoder(max_event_bytes=LIMIT)
    event = b"data: " + b"z" * (LIMIT // 2) + b"\n\n"
    count = sum(len(decoder.feed(event[:100]) + decoder.feed(event[100:])) for _ in range(500))
    assert count == 500 and held(decoder) == 0


def test_ndjson_endless_line_is_cut_at_the_limit_plus_one_read() -> None:
    decoder = NDJSONDecoder(max_line_bytes=LIMIT)
    assert decoder.feed(b'{"a": 1}\n{"b": ') == [{"a": 1}]
    with pytest.raises(WireLimitError) as info:
        for _ in range(100):
            decoder.feed(b"x" * READ)
            assert held(decoder) <= LIMIT
    assert held(decoder) <= LIMIT + READ
    assert str(info.value) == "a line longer than the 4 KiB limit"


@pytest.mark.parametrize("read", [3, 1000, 100_000])
def test_ndjson_long_complete_line_is_refused_however_split(read: int) -> None:
    body = b'{"ok": 1}\n"' + b"q" * LIMIT + b'"\n{"after": 2}\n'
    decoder = NDJSONDecoder(max_line_bytes=LIMIT)
    values: list[object] = []
    with pytest.raises(WireLimitError) as info:
        for i in range(0, len(body), read):
            values += decoder.feed(body[i : i + read])
    assert values + info.value.decoded == [{"ok": 1}]


def test_ndjson_lines_up_to_the_limit_pass() -> None:
    line = b'"' + b"q" * (LIMIT - 2) + b'"\n'
    decoder = NDJSONDecoder(max_line_bytes=LIMIT)
    assert decoder.feed(line * 3) == ["q" * (LIMIT - 2)] * 3
