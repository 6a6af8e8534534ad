"""The one stream loop (providers/sse_pump.py) and its end-of-stream policy, with a toy
parser over a loopback server: the terminator ends the stream (nothing after it is parsed, a
server that keeps the line open cannot stall it), no terminator is StreamTruncated, and the
decoder's end rules (an SSE event without its blank line is dropped, a last NDJSON line needs
no newline) are what every kind gets."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from llmstream_tui.core.parts import StreamPart
from llmstream_tui.core.runnable import RunContext
from llmstream_tui.errors import ProviderError, StreamProtocolError, StreamTruncated
from llmstream_tui.providers.http import HTTPModel
from llmstream_tui.providers.http_errors import ErrorBuilder
from llmstream_tui.providers.spec import ProviderSpec
from llmstream_tui.providers.sse_pump import pump_ndjson, pump_sse
from llmstream_tui.wire.sse import SSEEvent
from tests.support.loopback import LoopbackServer, Reply


class ToyParser:
    """``data: END`` (or ``{"end": true}``) is the terminator, ``boom`` a protocol error,
    anything else one text part."""

    __slots__ = ("done", "errors")

    def __init__(self, errors: ErrorBuilder) -> None:
        self.errors = errors
        self.done = False

    def feed(self, item: SSEEvent | object) -> list[StreamPart]:
        value = item.data if isinstance(item, SSEEvent) else item
        if value in ("END", {"end": True}):
            self.done = True
            return []
        if value in ("boom", {"t": "boom"}):
            raise self.errors.protocol_error("boom")
        text = value["t"] if isinstance(value, dict) else value
        return [StreamPart(str(text))]

    def finish(self) -> None:
        if not self.done:
            raise self.errors.truncated("END")


class ToyModel(HTTPModel):
    stream_content_types = ("text/event-stream", "application/x-ndjson")


def model(server: LoopbackServer, client: httpx.AsyncClient, timeout: float = 10) -> HTTPModel:
    spec = ProviderSpec(kind="toy", base_url=server.url, timeout=timeout)
    return ToyModel(spec, name="toy", client=client)


def ctx() -> RunContext:
    return RunContext(uuid.uuid4(), None)


async def texts(parts: AsyncIterator[StreamPart], into: list[str] | None = None) -> list[str]:
    out = [] if into is None else into
    async for part in parts:
        out.append(part.text)
    return out


def sse(m: HTTPModel) -> AsyncIterator[StreamPart]:
    return pump_sse(m, "/s", {}, ctx(), ToyParser(m))


def ndjson(m: HTTPModel) -> AsyncIterator[StreamPart]:
    return pump_ndjson(m, "/n", {}, ctx(), ToyParser(m))


def lines(*values: Any) -> bytes:
    return b"".join(json.dumps(v).encode() + b"\n" for v in values)


# -- server-sent events ----------------------------------------------------------------------


async def test_sse_stops_at_the_terminator_ignoring_the_rest_of_its_read(
    client: httpx.AsyncClient,
) -> None:
    body = b"data: a\n\ndata: b\n\ndata: END\n\ndata: boom\n\n"
    async with LoopbackServer(Reply.sse(body)) as server:
        m = model(server, client)
        assert await texts(sse(m)) == ["a", "b"]


async def test_sse_server_keeping_the_line_open_after_the_terminator_does_not_stall(
    client: httpx.AsyncClient,
) -> None:
    done = b"data: a\n\ndata: END\n\n"
    reply = Reply.sse(done + b": keep-alive\n\n", stall_after=len(done))
    async with LoopbackServer(reply) as server:
        m = model(server, client, timeout=10)
        assert await asyncio.wait_for(texts(sse(m)), 2) == ["a"]


@pytest.mark.parametrize("pattern", ["whole", "bytes"])
async def test_sse_without_a_terminator_is_truncated_keeping_what_came(
    client: httpx.AsyncClient, pattern: str
) -> None:
    body = b"data: a\n\ndata: b\n\n"
    async with LoopbackServer(Reply.sse(body, pattern=pattern)) as server:
        seen: list[str] = []
        with pytest.raises(StreamTruncated, match="without END"):
            await texts(sse(model(server, client)), seen)
    assert seen == ["a", "b"]


async def test_sse_terminator_without_its_blank_line_is_dropped_by_the_whatwg_rule(
    client: httpx.AsyncClient,
) -> None:
    body = b"data: a\n\ndata: END\n"
    async with LoopbackServer(Reply.sse(body)) as server:
        with pytest.raises(StreamTruncated):
            await texts(sse(model(server, client)))


async def test_sse_parser_errors_pass_through_naming_the_provider(
    client: httpx.AsyncClient,
) -> None:
    body = b"data: a\n\ndata: boom\n\ndata: END\n\n"
    async with LoopbackServer(Reply.sse(body)) as server:
        with pytest.raises(StreamProtocolError) as info:
            await texts(sse(model(server, client)))
    assert info.value.provider == "toy"


# -- NDJSON ----------------------------------------------------------------------------------


async def test_ndjson_stops_at_the_terminator_and_a_held_line_does_not_stall(
    client: httpx.AsyncClient,
) -> None:
    done = lines({"t": "a"}, {"end": True})
    reply = Reply.ndjson(done + lines({"t": "boom"}), stall_after=len(done))
    async with LoopbackServer(reply) as server:
        m = model(server, client, timeout=10)
        assert await asyncio.wait_for(texts(ndjson(m)), 2) == ["a"]


async def test_ndjson_last_line_needs_no_newline(client: httpx.AsyncClient) -> None:
    body = lines({"t": "a"}) + json.dumps({"end": True}).encode()
    async with LoopbackServer(Reply.ndjson(body)) as server:
        assert await texts(ndjson(model(server, client))) == ["a"]


async def test_ndjson_without_a_terminator_is_truncated(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(Reply.ndjson(lines({"t": "a"}))) as server:
        seen: list[str] = []
        with pytest.raises(StreamTruncated):
            await texts(ndjson(model(server, client)), seen)
    assert seen == ["a"]


@pytest.mark.parametrize("tail", [b"", b"\n"])
async def test_ndjson_bad_line_comes_after_the_good_lines_read_with_it(
    client: httpx.AsyncClient, tail: bytes
) -> None:
    body = lines({"t": "a"}, {"t": "b"}) + b'{"t": "c' + tail
    async with LoopbackServer(Reply.ndjson(body)) as server:
        seen: list[str] = []
        with pytest.raises(ProviderError, match="line 3"):
            await texts(ndjson(model(server, client)), seen)
    assert seen == ["a", "b"]
