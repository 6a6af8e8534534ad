"""How an ``openai-chat`` stream may end: ``[DONE]``, or (as the official SDK takes it) the
end of the bytes after the ``finish_reason`` chunk and, when usage was asked for, the usage
chunk; anything shorter is ``StreamTruncated`` with the text kept."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from llmstream_tui.core.accumulate import sum_chunks
from llmstream_tui.errors import StreamTruncated
from llmstream_tui.providers.openai import OpenAIChatModel, OpenAIChatParser
from llmstream_tui.providers.registry import build_llm
from llmstream_tui.wire.sse import SSEEvent
from tests.support.loopback import LoopbackServer, Reply
from tests.support.narrowing import stream_chunks
from tests.support.paths import WIRE

DONE = b"data: [DONE]\n\n"


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def without_done(name: str) -> bytes:
    body = (WIRE / "openai-chat" / name).read_bytes()
    assert body.endswith(DONE)
    return body[: -len(DONE)]


def chat(server: LoopbackServer, client: httpx.AsyncClient, **table: Any) -> OpenAIChatModel:
    spec = {"kind": "openai-chat", "model": "gpt-4o", "base_url": server.url + "/v1", **table}
    model = build_llm(spec, name="gpt", client=client)
    assert isinstance(model, OpenAIChatModel)
    return model


async def sdk_reads(server: LoopbackServer) -> tuple[str, str | None, int, list[str]]:
    """Text, finish reason, total tokens and tool-call argument strings, as the SDK sees them."""
    sdk = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="test", max_retries=0)
    text, finish, total, args = "", None, 0, [""] * 8
    try:
        stream = await sdk.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        async for chunk in stream:
            total = chunk.usage.total_tokens if chunk.usage else total
            for choice in chunk.choices:
                text += choice.delta.content or ""
                finish = choice.finish_reason or finish
                for call in choice.delta.tool_calls or []:
                    args[call.index] += (call.function and call.function.arguments) or ""
    finally:
        await sdk.close()
    return text, finish, total, [a for a in args if a]


@pytest.mark.parametrize(
    "name", ["content-short.sse", "tool-calls-a.sse", "tool-calls-parallel.sse"]
)
@pytest.mark.parametrize("pattern", ["whole", "bytes"])
async def test_a_stream_ending_after_finish_and_usage_without_done_is_complete(
    client: httpx.AsyncClient, name: str, pattern: Any
) -> None:
    async with LoopbackServer(Reply.sse(without_done(name), pattern=pattern)) as server:
        chunks = await stream_chunks(chat(server, client))
        expected = await sdk_reads(server)
    total = sum_chunks(chunks)
    assert total is not None
    assert chunks[-1].chunk_position == "last"
    args = [c["args"] for c in total.tool_call_chunks]
    finish = total.response_metadata.get("finish_reason")
    tokens = (total.usage_metadata or {}).get("total_tokens")
    assert (total.content, finish, tokens, args) == expected


CUT_BEFORE_FINISH = (
    b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}\n\n'
    b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}\n\n'
)
FINISH = b'data: {"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
USAGE = (
    b'data: {"id":"c","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,'
    b'"total_tokens":5}}\n\n'
)


async def test_a_stream_cut_before_any_finish_reason_stays_truncated(
    client: httpx.AsyncClient,
) -> None:
    async with LoopbackServer(Reply.sse(CUT_BEFORE_FINISH)) as server:
        with pytest.raises(StreamTruncated) as caught:
            await stream_chunks(chat(server, client))
    assert caught.value.partial_text == "Hello"


async def test_usage_asked_for_but_missing_after_the_finish_reason_is_truncated(
    client: httpx.AsyncClient,
) -> None:
    async with LoopbackServer(Reply.sse(CUT_BEFORE_FINISH + FINISH)) as server:
        with pytest.raises(StreamTruncated):
            await stream_chunks(chat(server, client))


async def test_without_stream_usage_the_finish_reason_alone_completes_the_answer(
    client: httpx.AsyncClient,
) -> None:
    async with LoopbackServer(Reply.sse(CUT_BEFORE_FINISH + FINISH)) as server:
        chunks = await stream_chunks(chat(server, client, stream_usage=False))
    total = sum_chunks(chunks)
    assert total is not None and total.content == "Hello"
    assert total.response_metadata["finish_reason"] == "stop"


def feed_all(parser: OpenAIChatParser, body: bytes) -> None:
    for block in body.split(b"\n\n"):
        if block:
            parser.feed(SSEEvent(data=block.removeprefix(b"data: ").decode()))


def test_parser_end_rules() -> None:
    complete = OpenAIChatParser(expect_usage=True)
    feed_all(complete, CUT_BEFORE_FINISH + FINISH + USAGE)
    complete.finish()  # no exception: finish reason and usage came
    no_usage = OpenAIChatParser(expect_usage=True)
    feed_all(no_usage, CUT_BEFORE_FINISH + FINISH)
    with pytest.raises(StreamTruncated):
        no_usage.finish()
    usage_only = OpenAIChatParser(expect_usage=True)
    feed_all(usage_only, CUT_BEFORE_FINISH + USAGE)
    with pytest.raises(StreamTruncated):
        usage_only.finish()
