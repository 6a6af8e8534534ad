"""Conformance tests for the SSE decoder: one class per rule of tests/fixtures/wire/README.md."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmstream_tui.wire import SSEDecoder, SSEEvent, aiter_sse, iter_sse
from tests.support.paths import WIRE as FIXTURE_WIRE
from tests.support.splits import (
    bytewise,
    random_pieces,
    split_at,
)

FIXTURES = FIXTURE_WIRE
SSE_FILES = sorted(FIXTURES.glob("**/*.sse"))
PROPERTY = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode(*chunks: bytes) -> list[SSEEvent]:
    return list(iter_sse(chunks))


def reference_decode(stream: bytes) -> list[SSEEvent]:
    """The WHATWG algorithm written the slow, obvious way, as an oracle."""
    text = stream.decode("utf-8", errors="replace")
    text = text.removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)[:-1]
    events: list[SSEEvent] = []
    data, event_type, id_buffer = "", "", ""
    retry: int | None = None
    for line in lines:
        if line == "":
            if data:
                events.append(SSEEvent(event_type or "message", data[:-1], id_buffer, retry))
            data, event_type, retry = "", "", None
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data += value + "\n"
        elif name == "event":
            event_type = value
        elif name == "id" and "\0" not in value:
            id_buffer = value
        elif name == "retry" and value and all(c in "0123456789" for c in value):
            retry = int(value)
    return events


UTF8_STREAM = "data: héllo € 𝄞 ✓\n\n".encode()


class TestUtf8MayBeSplitAcrossReads:
    @pytest.mark.parametrize("cut", range(1, len(UTF8_STREAM)))
    def test_multibyte_character_split_at_every_position(self, cut: int) -> None:
        assert decode(UTF8_STREAM[:cut], UTF8_STREAM[cut:]) == [SSEEvent(data="héllo € 𝄞 ✓")]

    def test_one_byte_per_read(self) -> None:
        assert decode(*bytewise(UTF8_STREAM)) == [SSEEvent(data="héllo € 𝄞 ✓")]

    def test_invalid_bytes_become_replacement_characters(self) -> None:
        assert decode(b"data: a\xffb\xe2\x82\n\n") == [SSEEvent(data="a\ufffdb\ufffd")]

    def test_close_finalises_incomplete_trailing_bytes(self) -> None:
        decoder = SSEDecoder()
        assert decoder.feed(b"data: x\n\n\xe2\x82") == [SSEEvent(data="x")]
        assert decoder.close() == []
        assert decoder.feed(b"data: y\n\n") == [SSEEvent(data="y")]


class TestExactlyOneLeadingBomIsStripped:
    def test_leading_bom_is_stripped(self) -> None:
        assert decode(b"\xef\xbb\xbfdata: x\n\n") == [SSEEvent(data="x")]

    def test_bom_split_across_reads_is_stripped(self) -> None:
        assert decode(b"\xef", b"\xbb", b"\xbf", b"data: x\n\n") == [SSEEvent(data="x")]

    def test_second_bom_is_not_stripped(self) -> None:
        assert decode(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n") == []

    def test_bom_later_in_stream_is_not_stripped(self) -> None:
        assert decode(b"data: a\n\n\xef\xbb\xbfdata: b\n\n") == [SSEEvent(data="a")]

    def test_bom_in_data_is_kept(self) -> None:
        assert decode(b"data: \xef\xbb\xbfx\n\n") == [SSEEvent(data="\ufeffx")]

    def test_reconnected_stream_may_start_with_a_bom_again(self) -> None:
        decoder = SSEDecoder()
        assert decoder.feed(b"\xef\xbb\xbfdata: a\n\n") == [SSEEvent(data="a")]
        decoder.close()
        assert decoder.feed(b"\xef\xbb\xbfdata: b\n\n") == [SSEEvent(data="b")]


class TestLinesEndAtCrlfLfOrLoneCr:
    @pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
    def test_each_line_ending(self, eol: bytes) -> None:
        stream = b"data: a" + eol + b"data: b" + eol + eol
        assert decode(stream) == [SSEEvent(data="a\nb")]

    def test_mixed_line_endings_in_one_stream(self) -> None:
        stream = b"data: a\rdata: b\r\ndata: c\n\r\ndata: d\r\r"
        assert decode(stream) == [SSEEvent(data="a\nb\nc"), SSEEvent(data="d")]

    def test_crlf_split_across_reads_is_one_line_break(self) -> None:
        assert decode(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n") == [SSEEvent(data="a\nb")]

    def test_cr_at_end_of_read_followed_by_cr_is_two_line_breaks(self) -> None:
        assert decode(b"data: a\r", b"\r") == [SSEEvent(data="a")]

    def test_cr_at_end_of_read_ends_the_line_without_waiting(self) -> None:
        decoder = SSEDecoder()
        assert decoder.feed(b"data: a\r\r") == [SSEEvent(data="a")]
        assert decoder.feed(b"\n") == []
        assert decoder.close() == []

    def test_lf_after_a_split_crlf_only_skipped_once(self) -> None:
        assert decode(b"data: a\r", b"", b"\n", b"\n") == [SSEEvent(data="a")]


class TestNothingElseIsALineBreak:
    @pytest.mark.parametrize(
        "char", ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"]
    )
    def test_unicode_and_ascii_separators_are_data(self, char: str) -> None:
        stream = f"data: a{char}b\n\n".encode()
        assert decode(stream) == [SSEEvent(data=f"a{char}b")]
        assert decode(*bytewise(stream)) == [SSEEvent(data=f"a{char}b")]


class TestBlankLineDispatches:
    def test_event_is_returned_by_the_read_holding_the_blank_line(self) -> None:
        decoder = SSEDecoder()
        assert decoder.feed(b"data: a\n") == []
        assert decoder.feed(b"\n") == [SSEEvent(data="a")]

    def test_many_events_in_one_read_come_in_order(self) -> None:
        stream = b"".join(b"data: %d\n\n" % i for i in range(100))
        assert [e.data for e in decode(stream)] == [str(i) for i in range(100)]


class TestCommentLinesAreIgnored:
    def test_keep_alive_comments(self) -> None:
        stream = b": keep-alive\n\n:\n\ndata: a\n: data: not data\ndata: b\n\n"
        assert decode(stream) == [SSEEvent(data="a\nb")]

    def test_comment_alone_dispatches_nothing(self) -> None:
        assert decode(b": ping\n\n" * 5) == []


class TestOneLeadingSpaceRemovedFromValue:
    @pytest.mark.parametrize(
        ("line", "data"),
        [
            (b"data:x", "x"),
            (b"data: x", "x"),
            (b"data:  x", " x"),
            (b"data:\tx", "\tx"),
            (b"data: a:b: c", "a:b: c"),
            (b"data: ", ""),
            (b"data:", ""),
        ],
    )
    def test_data_value(self, line: bytes, data: str) -> None:
        assert decode(line + b"\n\n") == [SSEEvent(data=data)]

    def test_event_value(self) -> None:
        assert decode(b"event:  two\ndata: x\n\n") == [SSEEvent(event=" two", data="x")]


class TestLineWithoutColonIsFieldWithEmptyValue:
    def test_bare_data_appends_an_empty_line(self) -> None:
        assert decode(b"data\n\n") == [SSEEvent(data="")]
        assert decode(b"data\ndata\n\n") == [SSEEvent(data="\n")]
        assert decode(b"data: a\ndata\ndata: b\n\n") == [SSEEvent(data="a\n\nb")]

    def test_bare_event_resets_type(self) -> None:
        assert decode(b"event: x\nevent\ndata: a\n\n") == [SSEEvent(data="a")]

    def test_bare_id_resets_last_event_id(self) -> None:
        events = decode(b"id: 1\ndata: a\n\nid\ndata: b\n\n")
        assert [e.id for e in events] == ["1", ""]


class TestOnlyFourCaseSensitiveFieldNames:
    @pytest.mark.parametrize(
        "line", [b"Data: x", b"DATA: x", b" data: x", b"data : x", b"foo: x", b"datum: x"]
    )
    def test_other_names_are_ignored(self, line: bytes) -> None:
        assert decode(line + b"\n\n") == []

    def test_unknown_fields_do_not_disturb_the_event(self) -> None:
        stream = b"Event: no\nfoo: bar\ndata: a\nID: 9\nRetry: 5\n\n"
        assert decode(stream) == [SSEEvent(data="a")]


class TestDataLinesJoinWithNewline:
    def test_multi_line_data(self) -> None:
        assert decode(b"data: a\ndata: b\ndata: c\n\n") == [SSEEvent(data="a\nb\nc")]

    def test_only_one_trailing_newline_is_removed(self) -> None:
        assert decode(b"data: a\ndata:\n\n") == [SSEEvent(data="a\n")]
        assert decode(b"data: a\ndata:\ndata:\n\n") == [SSEEvent(data="a\n\n")]


class TestEmptyDataBufferDispatchesNothing:
    def test_event_type_alone(self) -> None:
        assert decode(b"event: ping\n\n") == []

    def test_extra_blank_lines(self) -> None:
        assert decode(b"\n\n\ndata: a\n\n\n\n") == [SSEEvent(data="a")]

    def test_empty_data_field_dispatches_empty_event(self) -> None:
        assert decode(b"data:\n\n") == [SSEEvent(data="")]

    def test_type_of_an_undispatched_event_does_not_leak(self) -> None:
        assert decode(b"event: ping\n\ndata: a\n\n") == [SSEEvent(data="a")]


class TestEventTypeAppliesToNextDispatchOnly:
    def test_type_then_default(self) -> None:
        events = decode(b"event: delta\ndata: 1\n\ndata: 2\n\n")
        assert events == [SSEEvent(event="delta", data="1"), SSEEvent(data="2")]

    def test_last_event_line_wins(self) -> None:
        assert decode(b"event: a\nevent: b\ndata: 1\n\n") == [SSEEvent(event="b", data="1")]

    def test_empty_type_means_message(self) -> None:
        assert decode(b"event:\ndata: 1\n\n") == [SSEEvent(event="message", data="1")]


class TestLastEventIdPersists:
    def test_id_persists_across_events(self) -> None:
        events = decode(b"id: 7\ndata: a\n\ndata: b\n\nid: 8\ndata: c\n\n")
        assert [e.id for e in events] == ["7", "7", "8"]

    def test_id_with_nul_is_ignored(self) -> None:
        events = decode(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")
        assert [e.id for e in events] == ["1", "1"]

    def test_id_without_data_still_sets_last_event_id(self) -> None:
        decoder = SSEDecoder()
        assert decoder.feed(b"id: 5\n\n") == []
        assert decoder.last_event_id == "5"
        assert decoder.feed(b"data: a\n\n") == [SSEEvent(data="a", id="5")]

    def test_property_changes_at_the_blank_line(self) -> None:
        decoder = SSEDecoder()
        decoder.feed(b"id: 1\ndata: a\n")
        assert decoder.last_event_id == ""
        decoder.feed(b"\n")
        assert decoder.last_event_id == "1"

    def test_id_of_a_discarded_event_is_not_kept(self) -> None:
        decoder = SSEDecoder()
        decoder.feed(b"id: 1\ndata: a\n\nid: 2\ndata: b\n")
        assert decoder.close() == []
        assert decoder.last_event_id == "1"
        assert decoder.feed(b"data: c\n\n") == [SSEEvent(data="c", id="1")]


class TestUnterminatedEventIsDiscarded:
    @pytest.mark.parametrize("tail", [b"data: x", b"data: x\n", b"data: x\r", b"data: \xe2\x82"])
    def test_final_event_without_blank_line(self, tail: bytes) -> None:
        assert decode(b"data: a\n\n" + tail) == [SSEEvent(data="a")]

    def test_close_returns_nothing(self) -> None:
        decoder = SSEDecoder()
        decoder.feed(b"event: e\ndata: x\n")
        assert decoder.close() == []
        assert decoder.feed(b"data: y\n\n") == [SSEEvent(data="y")]

    @pytest.mark.parametrize("path", sorted(FIXTURES.glob("anthropic/*.sse")), ids=lambda p: p.name)
    def test_anthropic_fixtures_never_dispatch_message_stop(self, path: Path) -> None:
        stream = path.read_bytes()
        assert re.search(rb'data: {"type":"message_stop" *}$', stream)
        events = decode(stream)
        assert events and events[-1].event != "message_stop"
        assert "message_stop" not in {e.event for e in events}
        for event in events:
            assert json.loads(event.data)["type"] == event.event


class TestRetryOnlyWhenAllAsciiDigits:
    def test_retry_sets_property_and_event(self) -> None:
        decoder = SSEDecoder()
        assert decoder.retry is None
        events = decoder.feed(b"retry: 3000\ndata: a\n\ndata: b\n\n")
        assert decoder.retry == 3000
        assert [e.retry for e in events] == [3000, None]

    def test_retry_takes_effect_without_dispatch(self) -> None:
        decoder = SSEDecoder()
        assert decoder.feed(b"retry: 10\n\n") == []
        assert decoder.retry == 10

    @pytest.mark.parametrize(
        "value",
        [
            b"",
            b" 100",
            b"1.5",
            b"-1",
            b"+1",
            b"1e3",
            b"10ms",
            b"0x10",
            "３".encode(),
            "١٢".encode(),
        ],
    )
    def test_invalid_values_are_ignored(self, value: bytes) -> None:
        decoder = SSEDecoder()
        decoder.feed(b"retry: 5\n\n")
        assert decoder.feed(b"retry: " + value + b"\ndata: a\n\n") == [SSEEvent(data="a")]
        assert decoder.retry == 5

    def test_huge_value_does_not_crash(self) -> None:
        decoder = SSEDecoder()
        assert decoder.feed(b"retry: " + b"9" * 10_000 + b"\ndata: a\n\n") == [SSEEvent(data="a")]
        assert decoder.retry is None


class TestNulInDataIsPreserved:
    def test_nul(self) -> None:
        assert decode(b"data: a\x00b\x00\n\n") == [SSEEvent(data="a\x00b\x00")]

    def test_nul_in_event_type(self) -> None:
        assert decode(b"event: a\x00\ndata: x\n\n") == [SSEEvent(event="a\x00", data="x")]


class TestHugeEvent:
    """A multi-megabyte event decodes exactly, whatever the read size. (Its cost against the
    input size is measured by ``bench/linearity.py``, not asserted here.)"""

    def test_32_mib_event_in_64_kib_reads(self) -> None:
        unit = b"0123456789abcdef" * 3 + "\u00e9\u00e9".encode() + b"xxxxxxxxxx"
        units = (32 * 1024 * 1024) // len(unit)
        stream = b"data: " + unit * units + b"\r\n\r\n"
        step = 64 * 1024
        decoder = SSEDecoder()
        events = [
            e for i in range(0, len(stream), step) for e in decoder.feed(stream[i : i + step])
        ]
        assert len(events) == 1
        assert events[0].data == unit.decode() * units

    def test_many_data_lines_in_one_event(self) -> None:
        stream = b"data: x\n" * 200_000 + b"\n"
        (event,) = decode(*[stream[i : i + 4096] for i in range(0, len(stream), 4096)])
        assert event.data == "\n".join(["x"] * 200_000)


class TestRecordedStreams:
    @pytest.mark.parametrize("path", SSE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
    def test_split_never_changes_events(self, path: Path) -> None:
        stream = path.read_bytes()
        whole = decode(stream)
        assert whole
        assert whole == reference_decode(stream)
        assert decode(*bytewise(stream)) == whole
        for seed in range(5):
            assert decode(*random_pieces(stream, seed)) == whole

    def test_openai_chat_ends_with_done(self) -> None:
        events = decode((FIXTURES / "openai-chat/content-long.sse").read_bytes())
        assert events[-1] == SSEEvent(data="[DONE]")
        for event in events[:-1]:
            assert json.loads(event.data)["object"] == "chat.completion.chunk"

    def test_gemini_crlf_framing(self) -> None:
        stream = (FIXTURES / "gemini/basic.sse").read_bytes()
        assert b"\r\n\r\n" in stream
        events = decode(stream)
        assert events and all("\r" not in e.data for e in events)
        assert all("candidates" in json.loads(e.data) for e in events)

    def test_openai_responses_event_types_match_payload(self) -> None:
        events = decode((FIXTURES / "openai-responses/basic.sse").read_bytes())
        assert events[-1].event == "response.completed"
        for event in events:
            assert json.loads(event.data)["type"] == event.event


class TestHelpers:
    def test_iter_sse_is_lazy(self) -> None:
        def chunks() -> Iterable[bytes]:
            yield b"data: a\n\n"
            raise AssertionError("read too far")

        assert next(iter_sse(chunks())) == SSEEvent(data="a")

    def test_aiter_sse(self) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            for piece in (b"data: \xe2", b"\x82\xac\r", b"\n\r\n", b"data: tail"):
                yield piece

        async def collect() -> list[SSEEvent]:
            return [event async for event in aiter_sse(chunks())]

        assert asyncio.run(collect()) == [SSEEvent(data="€")]

    def test_event_is_immutable_and_hashable(self) -> None:
        event = SSEEvent(data="x")
        with pytest.raises(AttributeError):
            event.data = "y"  # type: ignore[misc]
        assert hash(event) == hash(SSEEvent("message", "x", "", None))


# --- property tests -------------------------------------------------------------------------

_TRICKY = "\u2028\u2029\x85\x0b\x0c\x00:\ufeff é€𝄞 \t"
_value = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]),
        st.sampled_from(_TRICKY),
    ),
    max_size=12,
)
_event = st.fixed_dictionaries(
    {
        "lines": st.lists(_value, min_size=1, max_size=4),
        "type": st.none() | _value,
        "id": st.none() | _value.filter(lambda v: "\0" not in v),
        "retry": st.none() | st.integers(0, 10**6),
        "comments": st.lists(_value, max_size=2),
    }
)


def _encode(
    data: st.DataObject, events: Sequence[dict[str, object]]
) -> tuple[bytes, list[SSEEvent]]:
    """Encode events the way varied servers might; return the bytes and what they mean."""
    lines: list[str] = []
    expected: list[SSEEvent] = []
    last_id = ""
    for spec in events:
        headers: list[str] = []
        if spec["type"] is not None:
            headers.append(f"event: {spec['type']}")
        if spec["id"] is not None:
            headers.append(f"id: {spec['id']}")
            last_id = str(spec["id"])
        if spec["retry"] is not None:
            headers.append(f"retry:{spec['retry']}")
        fields = list(data.draw(st.permutations(headers)))
        data_lines: list[str] = spec["lines"]  # type: ignore[assignment]
        for value in data_lines:
            if value == "" and data.draw(st.booleans()):
                fields.append("data")
            elif not value.startswith(" ") and data.draw(st.booleans()):
                fields.append("data:" + value)
            else:
                fields.append("data: " + value)
        for comment in spec["comments"]:  # type: ignore[attr-defined]
            fields.insert(data.draw(st.integers(0, len(fields))), ":" + str(comment))
        lines += [*fields, ""]
        expected.append(
            SSEEvent(
                str(spec["type"] or "message"),
                "\n".join(data_lines),
                last_id,
                spec["retry"],  # type: ignore[arg-type]
            )
        )
    out: list[str] = []
    if data.draw(st.booleans()):
        out.append("\ufeff")
    previous_eol = ""
    for line in lines:
        choices = ["\n", "\r", "\r\n"]
        if line == "" and previous_eol == "\r":
            choices = ["\r", "\r\n"]  # a lone LF would merge with the CR before it
        previous_eol = data.draw(st.sampled_from(choices))
        out.append(line + previous_eol)
    if data.draw(st.booleans()):
        out.append("data: never dispatched")
    return "".join(out).encode(), expected


class TestProperties:
    @PROPERTY
    @given(st.data(), st.lists(_event, max_size=6))
    def test_random_events_random_endings_random_splits_round_trip(
        self, data: st.DataObject, events: list[dict[str, object]]
    ) -> None:
        stream, expected = _encode(data, events)
        cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))
        assert decode(*split_at(stream, cuts)) == expected
        assert decode(stream) == expected

    _junk = st.lists(
        st.sampled_from(
            (b"\r", b"\n", b"\r\n", b":", b" ", b"1", b"x", b"\x00", b"\xff", b"\xef\xbb\xbf")
            + (b"\xe2\x82", b"\xac", b"\xf0\x9d", b"\x84\x9e")  # halves of multi-byte chars
            + tuple(b"data event id retry".split())
        ),
        max_size=60,
    ).map(b"".join)

    @PROPERTY
    @given(_junk, st.lists(st.integers(0, 200), max_size=20))
    def test_arbitrary_bytes_match_reference_and_ignore_splits(
        self, stream: bytes, cuts: list[int]
    ) -> None:
        expected = reference_decode(stream)
        assert decode(stream) == expected
        assert decode(*split_at(stream, cuts)) == expected
        assert decode(*bytewise(stream)) == expected


def test_every_recorded_stream_folder_is_present() -> None:
    """The conformance tests are parametrised over these files: none may be missing."""
    for folder in (
        "anthropic",
        "gemini",
        "ollama",
        "openai-chat",
        "openai-completions",
        "openai-responses",
    ):
        assert any((FIXTURE_WIRE / folder).iterdir()), folder
