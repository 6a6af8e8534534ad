"""Tests for the NDJSON decoder (Ollama's streaming format)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmstream_tui.wire import NDJSONDecoder, WireDecodeError, aiter_ndjson, iter_ndjson
from tests.support.paths import WIRE as FIXTURE_WIRE
from tests.support.splits import (
    bytewise,
    random_pieces,
    split_at,
)

FIXTURES = FIXTURE_WIRE
NDJSON_FILES = sorted(FIXTURES.glob("**/*.ndjson"))
PROPERTY = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode(*chunks: bytes) -> list[object]:
    return list(iter_ndjson(chunks))


STREAM = '{"a": "héllo €"}\n{"b": [1, 2, {"c": null}]}\n'.encode()
VALUES = [{"a": "héllo €"}, {"b": [1, 2, {"c": None}]}]


class TestLinesSplitAnywhere:
    @pytest.mark.parametrize("cut", range(1, len(STREAM)))
    def test_two_reads_split_at_every_position(self, cut: int) -> None:
        assert decode(STREAM[:cut], STREAM[cut:]) == VALUES

    def test_one_byte_per_read(self) -> None:
        assert decode(*bytewise(STREAM)) == VALUES

    def test_values_come_with_the_read_that_ends_their_line(self) -> None:
        decoder = NDJSONDecoder()
        assert decoder.feed(b'{"a":') == []
        assert decoder.feed(b"1}") == []
        assert decoder.feed(b'\n{"b"') == [{"a": 1}]
        assert decoder.feed(b"") == []

    def test_any_json_value_per_line(self) -> None:
        assert decode(b'1\n"s"\nnull\n[true]\n') == [1, "s", None, [True]]


class TestFinalLineWithoutNewline:
    def test_delivered_by_close(self) -> None:
        decoder = NDJSONDecoder()
        assert decoder.feed(b'{"a":1}\n{"b":2}') == [{"a": 1}]
        assert decoder.close() == [{"b": 2}]

    def test_close_on_empty_stream(self) -> None:
        assert NDJSONDecoder().close() == []

    def test_close_then_reuse(self) -> None:
        decoder = NDJSONDecoder()
        decoder.feed(b"1\n2")
        assert decoder.close() == [2]
        assert decoder.feed(b"3\n") == [3]


class TestBlankLinesAndCarriageReturns:
    def test_crlf_line_endings(self) -> None:
        assert decode(b'{"a":1}\r\n{"b":2}\r\n') == [{"a": 1}, {"b": 2}]

    def test_crlf_split_across_reads(self) -> None:
        assert decode(b'{"a":1}\r', b'\n{"b":2}\r', b"\n") == [{"a": 1}, {"b": 2}]

    def test_blank_and_whitespace_lines_are_skipped(self) -> None:
        assert decode(b"\n\r\n  \n\t\r\n1\n\n2\r\n   ") == [1, 2]

    def test_unicode_line_separators_are_not_line_breaks(self) -> None:
        stream = '{"a": "x\u2028y\u0085z"}\n'.encode()
        assert decode(*bytewise(stream)) == [{"a": "x\u2028y\u0085z"}]


class TestInvalidLineRaises:
    def test_line_number_counts_blank_lines(self) -> None:
        with pytest.raises(WireDecodeError) as caught:
            decode(b"1\n\n2\nnope\n3\n")
        assert caught.value.line_number == 4
        assert caught.value.snippet == "nope"
        assert str(caught.value).startswith("line 4: ")
        assert "'nope'" in str(caught.value)

    def test_is_a_value_error(self) -> None:
        assert issubclass(WireDecodeError, ValueError)

    def test_message_is_one_line_and_snippet_is_80_chars(self) -> None:
        line = '{"text": "' + "x\r\u2028\x00" * 100
        with pytest.raises(WireDecodeError) as caught:
            decode(line.encode() + b"\n")
        assert caught.value.line_number == 1
        assert not any(c in str(caught.value) for c in "\r\u2028\x00")
        assert len(caught.value.snippet) == 80
        assert repr(caught.value.snippet) in str(caught.value)

    def test_final_line_without_newline_is_checked_at_close(self) -> None:
        decoder = NDJSONDecoder()
        assert decoder.feed(b"1\n{") == [1]
        with pytest.raises(WireDecodeError) as caught:
            decoder.close()
        assert caught.value.line_number == 2

    def test_invalid_utf8_raises(self) -> None:
        with pytest.raises(WireDecodeError) as caught:
            decode(b'"\xff"\n')
        assert caught.value.snippet == '"\ufffd"'

    def test_values_before_the_bad_line_are_kept(self) -> None:
        decoder = NDJSONDecoder()
        with pytest.raises(WireDecodeError) as caught:
            decoder.feed(b"1\n2\n[\n3\n4")
        assert caught.value.decoded == [1, 2]
        assert decoder.feed(b"\n") == [3, 4]
        assert decoder.close() == []

    def test_line_numbers_continue_after_an_error(self) -> None:
        decoder = NDJSONDecoder()
        with pytest.raises(WireDecodeError):
            decoder.feed(b"1\nx\n2\ny\n")
        with pytest.raises(WireDecodeError) as caught:
            decoder.feed(b"")
        assert caught.value.line_number == 4
        assert caught.value.decoded == [2]

    def test_iter_yields_good_values_before_raising(self) -> None:
        got: list[object] = []
        with pytest.raises(WireDecodeError):
            got.extend(iter_ndjson([b"1\n2\n{oops}\n3\n"]))
        assert got == [1, 2]


class TestHugeLine:
    """A multi-megabyte line decodes exactly in 64 KiB reads. (Its cost against the input
    size is measured by ``bench/linearity.py``, not asserted here.)"""

    def test_32_mib_line_in_64_kib_reads(self) -> None:
        unit = "\u00e9\\nxxxx\\t".encode()
        count = (32 * 1024 * 1024) // len(unit)
        line = b'{"t": "' + unit * count + b'"}\n'
        step = 64 * 1024
        decoder = NDJSONDecoder()
        values = [v for i in range(0, len(line), step) for v in decoder.feed(line[i : i + step])]
        assert values == [{"t": "\u00e9\nxxxx\t" * count}]


class TestRecordedStreams:
    @pytest.mark.parametrize("path", NDJSON_FILES, ids=lambda p: p.name)
    def test_split_never_changes_values(self, path: Path) -> None:
        stream = path.read_bytes()
        whole = decode(stream)
        assert whole == [json.loads(line) for line in stream.splitlines() if line.strip()]
        assert decode(*bytewise(stream)) == whole
        for seed in range(5):
            assert decode(*random_pieces(stream, seed)) == whole

    def test_midstream_error_object_is_a_value_not_an_exception(self) -> None:
        values = decode((FIXTURES / "ollama/generate-midstream-error.ndjson").read_bytes())
        assert isinstance(values[-1], dict) and "error" in values[-1]
        assert all(isinstance(v, dict) and "error" not in v for v in values[:-1])


class TestHelpers:
    def test_iter_ndjson_is_lazy(self) -> None:
        def chunks() -> Iterable[bytes]:
            yield b"1\n"
            raise AssertionError("read too far")

        assert next(iter_ndjson(chunks())) == 1

    def test_aiter_ndjson(self) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            for piece in (b'{"a":"\xe2', b'\x82\xac"}\r', b"\n\n", b"[2]"):
                yield piece

        async def collect() -> list[object]:
            return [value async for value in aiter_ndjson(chunks())]

        assert asyncio.run(collect()) == [{"a": "€"}, [2]]

    def test_aiter_ndjson_yields_good_values_before_raising(self) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"1\n2\n"
            yield b"3\n!\n"

        async def collect(into: list[object]) -> None:
            async for value in aiter_ndjson(chunks()):
                into.append(value)

        got: list[object] = []
        with pytest.raises(WireDecodeError):
            asyncio.run(collect(got))
        assert got == [1, 2, 3]


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


class TestProperties:
    @PROPERTY
    @given(st.data(), st.lists(_json, max_size=8))
    def test_random_values_random_endings_random_splits_round_trip(
        self, data: st.DataObject, values: list[object]
    ) -> None:
        parts: list[str] = []
        for value in values:
            parts.append(data.draw(st.sampled_from(["", "\n", "\r\n", " \n"])))
            ending = data.draw(st.sampled_from(["\n", "\r\n"]))
            parts.append(json.dumps(value, ensure_ascii=data.draw(st.booleans())) + ending)
        unterminated = data.draw(st.booleans())
        if values and unterminated:
            parts[-1] = parts[-1].rstrip("\r\n")
        stream = "".join(parts).encode()
        cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))
        assert decode(*split_at(stream, cuts)) == values
