"""Anthropic extended thinking and server tools: signatures and redacted thinking are kept
(``response_metadata["thinking_blocks"]``) through the chunk sum and sent back in the
assistant message of a follow-up, as the API requires when a tool-use conversation goes on;
``server_tool_use`` blocks stream as tool calls. The streams are built from the official
SDK's own event types, and the SDK's accumulated message is the oracle."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import anthropic.types as at
import httpx
import pydantic
import pytest

from llmstream_tui.core.accumulate import sum_chunks
from llmstream_tui.core.messages import AIMessageChunk, HumanMessage, ToolMessage
from llmstream_tui.core.parts import META
from llmstream_tui.providers.anthropic import AnthropicModel, message_parts
from llmstream_tui.providers.http_errors import PlainErrors
from llmstream_tui.providers.registry import build_llm
from tests.support.loopback import LoopbackServer, Reply
from tests.support.narrowing import chat_message, stream_chunks

SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
REDACTED = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)


def sse(*events: pydantic.BaseModel | dict[str, Any]) -> bytes:
    out = []
    for e in events:
        data = e.model_dump_json() if isinstance(e, pydantic.BaseModel) else pydantic_json(e)
        name = json.loads(data)["type"]
        out.append(f"event: {name}\ndata: {data}\n\n".encode())
    return b"".join(out)


def pydantic_json(value: dict[str, Any]) -> str:
    return pydantic.TypeAdapter(dict[str, Any]).dump_json(value).decode()


def start(index: int, block: pydantic.BaseModel) -> pydantic.BaseModel:
    return at.RawContentBlockStartEvent.model_validate(
        {"type": "content_block_start", "index": index, "content_block": block.model_dump()}
    )


def delta(index: int, value: pydantic.BaseModel) -> at.RawContentBlockDeltaEvent:
    return at.RawContentBlockDeltaEvent.model_validate(
        {"type": "content_block_delta", "index": index, "delta": value.model_dump()}
    )


def stop(index: int) -> at.RawContentBlockStopEvent:
    return at.RawContentBlockStopEvent(type="content_block_stop", index=index)


def message_start() -> at.RawMessageStartEvent:
    message = at.Message.model_validate(
        {
            "id": "msg_think",
            "type": "message",
            "role": "assistant",
            "model": "claude-test",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 20, "output_tokens": 1},
        }
    )
    return at.RawMessageStartEvent(type="message_start", message=message)


def message_end(reason: str, output_tokens: int) -> bytes:
    return sse(
        at.RawMessageDeltaEvent.model_validate(
            {
                "type": "message_delta",
                "delta": {"stop_reason": reason, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            }
        ),
        at.RawMessageStopEvent(type="message_stop"),
    )


#: thinking (2 deltas + signature), redacted thinking, text, a tool_use: what a thinking model
#: sends before a tool call.
THINKING_TOOL_USE = sse(
    message_start(),
    start(0, at.ThinkingBlock(type="thinking", thinking="", signature="")),
    delta(0, at.ThinkingDelta(type="thinking_delta", thinking="The user wants ")),
    delta(0, at.ThinkingDelta(type="thinking_delta", thinking="the weather.")),
    delta(0, at.SignatureDelta(type="signature_delta", signature=SIGNATURE)),
    stop(0),
    start(1, at.RedactedThinkingBlock(type="redacted_thinking", data=REDACTED)),
    stop(1),
    start(2, at.TextBlock(type="text", text="")),
    delta(2, at.TextDelta(type="text_delta", text="Checking.")),
    stop(2),
    start(3, at.ToolUseBlock(type="tool_use", id="toolu_1", name="get_weather", input={})),
    delta(3, at.InputJSONDelta(type="input_json_delta", partial_json='{"city": ')),
    delta(3, at.InputJSONDelta(type="input_json_delta", partial_json='"Paris"}')),
    stop(3),
) + message_end("tool_use", 60)

#: a server tool (web search): its call streams like a tool_use, its result is the server's.
SERVER_TOOL = sse(
    message_start(),
    start(
        0,
        at.ServerToolUseBlock(type="server_tool_use", id="srvtoolu_1", name="web_search", input={}),
    ),
    delta(0, at.InputJSONDelta(type="input_json_delta", partial_json='{"query": "paris"}')),
    stop(0),
    {
        "type": "content_block_start",
        "index": 1,
        "content_block": {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_1",
            "content": [
                {
                    "type": "web_search_result",
                    "url": "https://example.com",
                    "title": "Paris",
                    "encrypted_content": "abc",
                    "page_age": None,
                }
            ],
        },
    },
    stop(1),
    start(2, at.TextBlock(type="text", text="")),
    delta(2, at.TextDelta(type="text_delta", text="Sunny.")),
    stop(2),
) + message_end("end_turn", 30)


def make(server: LoopbackServer, client: httpx.AsyncClient) -> AnthropicModel:
    spec = {"kind": "anthropic", "model": "claude-test", "base_url": server.url}
    model = build_llm(spec, name="claude", client=client)
    assert isinstance(model, AnthropicModel)
    return model


async def sdk_message(body: bytes) -> at.Message:
    async with LoopbackServer(Reply.sse(body)) as server:
        sdk = anthropic.AsyncAnthropic(base_url=server.url, api_key="test", max_retries=0)
        try:
            async with sdk.messages.stream(
                model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
            ) as stream:
                return await stream.get_final_message()
        finally:
            await sdk.close()


def sent_back(message: at.Message) -> list[dict[str, Any]]:
    """The SDK's content blocks as a follow-up sends them (``content=message.content``)."""
    keys = {
        "thinking": ("type", "thinking", "signature"),
        "redacted_thinking": ("type", "data"),
        "text": ("type", "text"),
        "tool_use": ("type", "id", "name", "input"),
    }
    out = []
    for block in message.content:
        dumped = block.model_dump()
        out.append({k: dumped[k] for k in keys[block.type]})
    return out


@pytest.mark.parametrize("pattern", ["whole", "bytes"])
async def test_thinking_signature_and_redacted_thinking_are_kept_through_the_sum(
    client: httpx.AsyncClient, pattern: Any
) -> None:
    async with LoopbackServer(Reply.sse(THINKING_TOOL_USE, pattern=pattern)) as server:
        chunks = await stream_chunks(make(server, client))
    expected = await sdk_message(THINKING_TOOL_USE)
    blocks = [
        {
            "type": "thinking",
            "thinking": "The user wants the weather.",
            "signature": SIGNATURE,
            "index": 0,
        },
        {"type": "redacted_thinking", "data": REDACTED, "index": 1},
    ]
    linear, pairwise = sum_chunks(chunks), sum(chunks[1:], chunks[0])
    assert isinstance(pairwise, AIMessageChunk)
    for total in (linear, pairwise):
        assert total is not None
        assert total.response_metadata["thinking_blocks"] == blocks
        assert total.additional_kwargs["reasoning_content"] == "The user wants the weather."
        assert total.content == "Checking."
    thinking = expected.content[0]
    assert isinstance(thinking, at.ThinkingBlock) and thinking.signature == SIGNATURE


async def test_follow_up_sends_thinking_blocks_first_as_the_sdk_message_has_them(
    client: httpx.AsyncClient,
) -> None:
    done = sse(message_start()) + message_end("end_turn", 2)
    async with LoopbackServer(Reply.sse(THINKING_TOOL_USE), Reply.sse(done)) as server:
        llm = make(server, client)
        ai = chat_message(await llm.ainvoke("weather?"))
        follow = [HumanMessage("weather?"), ai, ToolMessage("21C", tool_call_id="toolu_1")]
        chat_message(await llm.ainvoke(follow))
        messages = server.requests[1].json()["messages"]
    pydantic.TypeAdapter(list[at.MessageParam]).validate_python(messages)
    assert messages[1] == {
        "role": "assistant",
        "content": sent_back(await sdk_message(THINKING_TOOL_USE)),
    }
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "21C"}
    ]


def test_a_whole_response_keeps_its_thinking_blocks() -> None:
    data = {
        "id": "msg_1",
        "model": "claude-test",
        "content": [
            {"type": "thinking", "thinking": "hm", "signature": SIGNATURE},
            {"type": "redacted_thinking", "data": REDACTED},
            {"type": "text", "text": "ok"},
        ],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 1, "output_tokens": 2},
    }
    last = message_parts(data, PlainErrors())[-1]
    assert last.channel == META and last.metadata is not None
    assert last.metadata["thinking_blocks"] == [
        {"type": "thinking", "thinking": "hm", "signature": SIGNATURE, "index": 0},
        {"type": "redacted_thinking", "data": REDACTED, "index": 1},
    ]


async def test_server_tool_use_streams_as_a_tool_call_and_goes_back_with_its_result_blocks(
    client: httpx.AsyncClient,
) -> None:
    done = sse(message_start()) + message_end("end_turn", 2)
    async with LoopbackServer(Reply.sse(SERVER_TOOL), Reply.sse(done)) as server:
        llm = make(server, client)
        chunks = await stream_chunks(llm)
        total = sum_chunks(chunks)
        assert total is not None
        ai = total.to_message()
        await llm.ainvoke([HumanMessage("weather?"), ai, HumanMessage("and tomorrow?")])
        messages = server.requests[1].json()["messages"]
    expected = await sdk_message(SERVER_TOOL)
    assert total.content == "".join(b.text for b in expected.content if b.type == "text")
    assert total.tool_call_chunks == [
        {"name": "web_search", "args": '{"query": "paris"}', "id": "srvtoolu_1", "index": 0}
    ]
    assert total.response_metadata["server_blocks"] == [
        {**expected.content[1].model_dump(exclude_unset=True), "index": 1}
    ]
    # the follow-up carries the server's call and its result, as the server's own blocks
    assert messages[1] == {
        "role": "assistant",
        "content": [
            {
                "type": "server_tool_use",
                "id": "srvtoolu_1",
                "name": "web_search",
                "input": {"query": "paris"},
            },
            {
                "type": "web_search_tool_result",
                "tool_use_id": "srvtoolu_1",
                "content": [
                    {
                        "type": "web_search_result",
                        "url": "https://example.com",
                        "title": "Paris",
                        "encrypted_content": "abc",
                        "page_age": None,
                    }
                ],
            },
            {"type": "text", "text": "Sunny."},
        ],
    }
