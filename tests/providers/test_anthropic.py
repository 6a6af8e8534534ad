"""The ``anthropic`` kind: conformance with the official SDK on recorded streams, and our
own cases for events, usage, truncation, requests and the key."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest

from llmstream_tui.core.accumulate import sum_chunks
from llmstream_tui.core.messages import AIMessageChunk
from llmstream_tui.errors import (
    AuthError,
    HTTPStatusError,
    StreamProtocolError,
    StreamTruncated,
    UpstreamError,
)
from llmstream_tui.providers.anthropic import AnthropicModel
from llmstream_tui.providers.registry import build_llm
from tests.support.loopback import LoopbackServer, Reply
from tests.support.narrowing import chat_message, stream_chunks
from tests.support.paths import WIRE as FIXTURE_WIRE

WIRE = FIXTURE_WIRE / "anthropic"
FILES = sorted(WIRE.glob("*.sse"))
PATTERNS = ["whole", "bytes", "random"]
CANARY = "sk-ant-canary-7f3a9b1c2d"


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)


def make(server: LoopbackServer, client: httpx.AsyncClient, **table: Any) -> AnthropicModel:
    spec = {"kind": "anthropic", "model": "claude-test", "base_url": server.url, **table}
    model = build_llm(spec, name="claude", client=client)
    assert isinstance(model, AnthropicModel)
    return model


async def collect(model: AnthropicModel, prompt: Any = "hi") -> AIMessageChunk:
    chunks = await stream_chunks(model, prompt)
    total = sum_chunks(chunks)
    assert total is not None
    return total


def sse(*events: tuple[str, dict[str, Any]], end: str = "\n\n") -> bytes:
    text = "\n\n".join(f"event: {name}\ndata: {json.dumps(data)}" for name, data in events)
    return (text + end).encode()


def start(input_tokens: int = 10, output_tokens: int = 1) -> tuple[str, dict[str, Any]]:
    return (
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": "claude-test",
                "stop_reason": None,
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
            },
        },
    )


def text_delta(text: str, index: int = 0) -> tuple[str, dict[str, Any]]:
    return (
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "text_delta", "text": text},
        },
    )


def message_delta(stop: str = "end_turn", **usage: int) -> tuple[str, dict[str, Any]]:
    return (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": usage or {"output_tokens": 5},
        },
    )


STOP = ("message_stop", {"type": "message_stop"})


# -- conformance -----------------------------------------------------------------------------


async def sdk_result(server: LoopbackServer) -> anthropic.types.Message:
    sdk = anthropic.AsyncAnthropic(base_url=server.url, api_key="test", max_retries=0)
    try:
        async with sdk.messages.stream(
            model="claude-test", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            return await stream.get_final_message()
    finally:
        await sdk.close()


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
async def test_recorded_stream_matches_the_official_sdk(
    path: Path, pattern: str, client: httpx.AsyncClient
) -> None:
    reply = Reply.sse_file(path, pattern=pattern, seed=len(path.name), max_piece=40)
    async with LoopbackServer(reply) as server:
        expected = await sdk_result(server)
        ours = await collect(make(server, client))
    expected_text = "".join(b.text for b in expected.content if b.type == "text")
    assert ours.content == expected_text
    assert ours.response_metadata["finish_reason"] == expected.stop_reason
    assert ours.usage_metadata == {
        "input_tokens": expected.usage.input_tokens,
        "output_tokens": expected.usage.output_tokens,
        "total_tokens": expected.usage.input_tokens + expected.usage.output_tokens,
    }
    assert ours.id == expected.id
    message = ours.to_message()
    sdk_tools = [b for b in expected.content if b.type == "tool_use"]
    assert [(c["name"], c["id"]) for c in message.tool_calls] == [(b.name, b.id) for b in sdk_tools]
    if path.stem == "tool-use-response":  # complete JSON: the arguments agree too
        assert [c["args"] for c in message.tool_calls] == [b.input for b in sdk_tools]


async def test_recorded_refusal_is_marked_with_its_details(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(Reply.sse_file(WIRE / "refusal-response.sse")) as server:
        ours = await collect(make(server, client))
    assert ours.content == ""
    assert "refusal" in ours.additional_kwargs
    assert ours.response_metadata["stop_details"]["category"] == "cyber"


# -- events ----------------------------------------------------------------------------------


async def test_error_event_mid_stream_is_upstream_error_keeping_the_text(
    client: httpx.AsyncClient,
) -> None:
    body = sse(
        start(),
        text_delta("Hel"),
        text_delta("lo"),
        (
            "error",
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        ),
    )
    async with LoopbackServer(Reply.sse(body)) as server:
        with pytest.raises(UpstreamError) as info:
            await collect(make(server, client))
    err = info.value
    assert err.partial_text == "Hello"
    assert err.provider == "claude"
    assert "Overloaded" in str(err) and "overloaded_error" in str(err)
    assert err.hint is not None and "\n" not in str(err)


async def test_stream_cut_before_the_stop_reason_is_truncated(client: httpx.AsyncClient) -> None:
    body = sse(start(), text_delta("Half an ans"), text_delta("wer"))
    async with LoopbackServer(Reply.sse(body)) as server:
        with pytest.raises(StreamTruncated) as info:
            await collect(make(server, client))
    assert info.value.partial_text == "Half an answer"
    assert "message_stop" in str(info.value)


async def test_stop_reason_without_message_stop_is_complete_like_the_sdk(
    client: httpx.AsyncClient,
) -> None:
    body = sse(start(), text_delta("Done."), message_delta("end_turn", output_tokens=3))
    async with LoopbackServer(Reply.sse(body)) as server:
        ours = await collect(make(server, client))
    assert ours.content == "Done." and ours.response_metadata["finish_reason"] == "end_turn"


async def test_server_keeping_the_line_open_after_message_stop_does_not_stall(
    client: httpx.AsyncClient,
) -> None:
    body = sse(start(), text_delta("ok"), message_delta(), STOP)
    reply = Reply.sse(body + b"event: ping\ndata: {}\n\n", stall_after=len(body))
    async with LoopbackServer(reply) as server:
        ours = await asyncio.wait_for(collect(make(server, client, timeout=10)), 2)
    assert ours.content == "ok" and ours.response_metadata["finish_reason"] == "end_turn"


async def test_pings_unknown_events_and_comments_are_ignored(client: httpx.AsyncClient) -> None:
    body = (
        b": keep-alive comment\n\n"
        + sse(start(), ("ping", {"type": "ping"}), text_delta("A"))
        + b"event: future_event\ndata: {this is not json\n\n"
        + b'event: ping\ndata: {"type": "ping"}\n\n'
        + sse(
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "citations_delta", "citation": {}},
                },
            ),
            text_delta("B"),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            message_delta(),
            STOP,
        )
    )
    async with LoopbackServer(Reply.sse(body)) as server:
        ours = await collect(make(server, client))
    assert ours.content == "AB"


async def test_events_without_an_event_line_dispatch_on_their_type(
    client: httpx.AsyncClient,
) -> None:
    events = [start(), text_delta("x"), message_delta(), STOP]
    body = "".join(f"data: {json.dumps(data)}\n\n" for _, data in events).encode()
    async with LoopbackServer(Reply.sse(body)) as server:
        ours = await collect(make(server, client))
    assert ours.content == "x" and ours.response_metadata["finish_reason"] == "end_turn"


async def test_malformed_json_in_a_known_event_is_a_protocol_error(
    client: httpx.AsyncClient,
) -> None:
    body = sse(start(), text_delta("ok")) + b'event: content_block_delta\ndata: {"type\n\n'
    async with LoopbackServer(Reply.sse(body)) as server:
        with pytest.raises(StreamProtocolError) as info:
            await collect(make(server, client))
    assert info.value.partial_text == "ok"


async def test_cumulative_usage_becomes_deltas_that_sum_to_the_totals(
    client: httpx.AsyncClient,
) -> None:
    body = sse(
        start(input_tokens=40, output_tokens=1),
        text_delta("a"),
        message_delta(None, output_tokens=4),  # type: ignore[arg-type]  # a progress update
        text_delta("b"),
        message_delta("max_tokens", input_tokens=40, output_tokens=9),
        STOP,
    )
    async with LoopbackServer(Reply.sse(body)) as server:
        chunks = await stream_chunks(make(server, client))
    deltas = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert deltas == [
        {"input_tokens": 40, "output_tokens": 0, "total_tokens": 40},
        {"input_tokens": 0, "output_tokens": 4, "total_tokens": 4},
        {"input_tokens": 0, "output_tokens": 5, "total_tokens": 5},
    ]
    total = sum_chunks(chunks)
    assert total is not None and total.usage_metadata == {
        "input_tokens": 40,
        "output_tokens": 9,
        "total_tokens": 49,
    }


async def test_thinking_and_tool_deltas_stay_out_of_the_answer(client: httpx.AsyncClient) -> None:
    body = sse(
        start(),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "thinking", "thinking": ""},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": "Let me "},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": "think."},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "signature_delta", "signature": "c2ln"},
            },
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        text_delta("Checking.", 1),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 2,
                "content_block": {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "lookup",
                    "input": {},
                },
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 2,
                "delta": {"type": "input_json_delta", "partial_json": '{"q": '},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 2,
                "delta": {"type": "input_json_delta", "partial_json": '"x"}'},
            },
        ),
        message_delta("tool_use"),
        STOP,
    )
    async with LoopbackServer(Reply.sse(body)) as server:
        model = make(server, client)
        events = [e async for e in model.astream_events("hi", version="v2")]
    streamed: list[AIMessageChunk] = []
    for e in events:
        if e["event"] == "on_chat_model_stream":
            chunk = e["data"]["chunk"]
            assert isinstance(chunk, AIMessageChunk)
            streamed.append(chunk)
    assert [
        c.additional_kwargs.get("reasoning_content") for c in streamed if c.additional_kwargs
    ] == ["Let me ", "think."]
    assert [c.tool_call_chunks[0]["args"] for c in streamed if c.tool_call_chunks] == [
        "",
        '{"q": ',
        '"x"}',
    ]
    final = events[-1]["data"]["output"]
    assert isinstance(final, AIMessageChunk)
    assert final.content == "Checking."
    assert final.to_message().tool_calls == [
        {"name": "lookup", "args": {"q": "x"}, "id": "toolu_1", "type": "tool_call"}
    ]


# -- requests --------------------------------------------------------------------------------


def ok_stream() -> Reply:
    return Reply.sse(sse(start(), text_delta("ok"), message_delta(), STOP))


async def test_request_maps_params_messages_and_auth(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", CANARY)
    async with LoopbackServer(ok_stream()) as server:
        model = make(
            server,
            client,
            params={
                "temperature": 0.3,
                "top_p": 0.9,
                "stop": ["END"],
                "seed": 7,
                "system": "ignored",
            },
            headers={"x-extra": "1"},
        )
        await model.ainvoke(
            [("system", "Be terse."), ("user", "hi"), ("assistant", "yo"), ("user", "again")]
        )
    request = server.requests[0]
    assert request.method == "POST" and request.path == "/v1/messages"
    assert request.headers["x-api-key"] == CANARY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    assert request.headers["x-extra"] == "1"
    assert request.json() == {
        "model": "claude-test",
        "max_tokens": 1024,
        "stream": True,
        "system": "Be terse.",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "yo"},
            {"role": "user", "content": "again"},
        ],
        "temperature": 0.3,
        "top_p": 0.9,
        "stop_sequences": ["END"],
    }


async def test_configured_system_max_tokens_stop_and_overrides(
    client: httpx.AsyncClient,
) -> None:
    async with LoopbackServer(ok_stream()) as server:
        model = make(
            server,
            client,
            params={"system": "You are kind.", "max_tokens": 50},
            thinking_budget=2048,
            api_key_env="MY_CLAUDE_KEY",
        )
        await model.ainvoke("hi", stop=["\n\n"], temperature=1.0, metadata={"user_id": "u1"})
    body = server.requests[0].json()
    assert body["system"] == "You are kind."
    assert body["max_tokens"] == 50
    assert body["stop_sequences"] == ["\n\n"]
    assert body["temperature"] == 1.0
    assert body["metadata"] == {"user_id": "u1"}
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert "x-api-key" not in server.requests[0].headers  # MY_CLAUDE_KEY is unset


async def test_stream_false_sends_one_json_request(client: httpx.AsyncClient) -> None:
    answer = {
        "id": "msg_9",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "s"},
            {"type": "text", "text": "Hello!"},
            {"type": "tool_use", "id": "toolu_9", "name": "f", "input": {"a": 1}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 30},
    }
    async with LoopbackServer(Reply.json(answer)) as server:
        model = make(server, client, stream=False)
        chunks = [c async for c in model.astream("hi")]
    assert len(chunks) == 1
    # not streamed: the one item is the whole AIMessage (as langchain-core yields it then)
    message = chat_message(chunks[0])
    assert message.content == "Hello!"
    assert message.additional_kwargs["reasoning_content"] == "hmm"
    assert message.tool_calls[0]["args"] == {"a": 1}
    assert message.usage_metadata == {"input_tokens": 12, "output_tokens": 30, "total_tokens": 42}
    assert message.response_metadata["finish_reason"] == "tool_use"
    assert "stream" not in server.requests[0].json()


async def test_batch_runs_each_prompt(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(ok_stream()) as server:
        results = await make(server, client).abatch(["a", "b", "c"])
    assert [chat_message(m).content for m in results] == ["ok"] * 3
    assert sorted(r.json()["messages"][0]["content"] for r in server.requests) == ["a", "b", "c"]


async def test_http_error_shows_anthropics_message(client: httpx.AsyncClient) -> None:
    body = {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "max_tokens: must be at most 8192"},
    }
    async with LoopbackServer(Reply.json(body, status=400)) as server:
        with pytest.raises(HTTPStatusError) as info:
            await collect(make(server, client))
    assert info.value.status == 400
    assert "max_tokens: must be at most 8192" in str(info.value)


async def test_canary_key_never_appears_in_errors_or_reprs(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", CANARY)
    echo = {
        "type": "error",
        "error": {"type": "authentication_error", "message": f"invalid x-api-key {CANARY}"},
    }
    async with LoopbackServer(Reply.json(echo, status=401)) as server:
        model = make(server, client)
        with pytest.raises(AuthError) as info:
            await collect(model)
        mid = sse(
            start(),
            (
                "error",
                {"type": "error", "error": {"type": "api_error", "message": f"key {CANARY} broke"}},
            ),
        )
        server.set_replies(Reply.sse(mid))
        with pytest.raises(UpstreamError) as info2:
            await collect(model)
    for exc in (info.value, info2.value):
        for text in (str(exc), repr(exc), json.dumps(exc.to_dict()), exc.message):
            assert CANARY not in text
    for text in (repr(model), repr(model.spec), str(model.spec.model_dump()), str(vars(model))):
        assert CANARY not in text
    assert server.requests[0].headers["x-api-key"] == CANARY


async def test_model_listing_parses_ids(client: httpx.AsyncClient) -> None:
    async with LoopbackServer() as server:
        server.routes["/v1/models"] = Reply.json(
            {
                "data": [
                    {"id": "claude-sonnet-4", "type": "model", "display_name": "Sonnet 4"},
                    {"id": "claude-haiku-4", "type": "model", "display_name": "Haiku 4"},
                ],
                "has_more": False,
                "first_id": "claude-sonnet-4",
                "last_id": "claude-haiku-4",
            }
        )
        models = await make(server, client).list_models()
    assert models == ["claude-haiku-4", "claude-sonnet-4"]
    assert server.requests[0].path == "/v1/models?limit=1000"
    assert server.requests[0].method == "GET"


async def test_closing_the_stream_closes_the_connection(client: httpx.AsyncClient) -> None:
    body = sse(start(), *[text_delta(f"w{i} ") for i in range(50)], message_delta(), STOP)
    async with LoopbackServer(Reply.sse(body, stall_after=len(body) // 3)) as server:
        stream = make(server, client).astream("hi")
        assert isinstance(stream, AsyncGenerator)  # what aclosing needs: astream is one
        async with aclosing(stream):
            async for chunk in stream:
                assert isinstance(chunk, AIMessageChunk)
                if chunk.content:
                    break
        await asyncio.wait_for(server.requests[0].disconnected.wait(), 5)
    assert server.requests[0].bytes_sent < len(body)
