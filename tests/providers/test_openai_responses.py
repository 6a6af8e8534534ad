"""``openai-responses``: the recorded stream and hand-made ones (refusal, function call,
reasoning summary, incomplete) give what the official ``openai`` SDK gives; errors, the
terminator, requests and ``stream = false``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from llmstream_tui.core.accumulate import sum_chunks
from llmstream_tui.core.messages import AIMessageChunk
from llmstream_tui.core.parts import META, REASONING, REFUSAL, TEXT, TOOL_CALL
from llmstream_tui.errors import StreamProtocolError, StreamTruncated, UpstreamError
from llmstream_tui.providers.openai_responses import OpenAIResponsesModel, OpenAIResponsesParser
from llmstream_tui.providers.registry import build_llm
from llmstream_tui.wire.sse import SSEEvent
from tests.support.loopback import LoopbackServer, Reply
from tests.support.narrowing import chat_message, stream_chunks
from tests.support.paths import WIRE as FIXTURE_WIRE

WIRE = FIXTURE_WIRE / "openai-responses"
FILES = sorted(WIRE.glob("*.sse"))
PATTERNS = ["whole", "bytes", "random"]
RID = "resp_1"


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def make(server: LoopbackServer, client: httpx.AsyncClient, **table: Any) -> OpenAIResponsesModel:
    spec = {"kind": "openai-responses", "model": "gpt-5.4", "base_url": server.url + "/v1", **table}
    model = build_llm(spec, name="resp", client=client)
    assert isinstance(model, OpenAIResponsesModel)
    return model


async def collect(model: OpenAIResponsesModel) -> AIMessageChunk:
    total = sum_chunks(await stream_chunks(model))
    assert total is not None
    return total


def response(
    status: str = "completed", output: list[Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": RID,
        "object": "response",
        "created_at": 1,
        "status": status,
        "model": "gpt-5.4",
        "output": output or [],
        "error": None,
        "incomplete_details": None,
        "usage": {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8},
        **extra,
    }


def sse(*events: dict[str, Any], terminal: bool = True) -> bytes:
    out = []
    for n, event in enumerate(events):
        event = {**event, "sequence_number": n}
        out.append(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n")
    return "".join(out).encode()


CREATED = {"type": "response.created", "response": response("in_progress")}


def delta(kind: str, text: str, index: int = 0) -> dict[str, Any]:
    return {
        "type": kind,
        "item_id": "item",
        "output_index": index,
        "content_index": 0,
        "delta": text,
    }


def completed(output: list[Any], status: str = "completed", **extra: Any) -> dict[str, Any]:
    return {"type": f"response.{status}", "response": response(status, output, **extra)}


# -- conformance -----------------------------------------------------------------------------


async def sdk_result(server: LoopbackServer) -> dict[str, Any]:
    sdk = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="test", max_retries=0)
    deltas: dict[str, list[str]] = {"text": [], "refusal": [], "reasoning": [], "args": []}
    final = None
    try:
        stream = await sdk.responses.create(model="gpt-5.4", input="hi", stream=True)
        async for event in stream:
            if event.type == "response.output_text.delta":
                deltas["text"].append(event.delta)
            elif event.type == "response.refusal.delta":
                deltas["refusal"].append(event.delta)
            elif event.type == "response.reasoning_summary_text.delta":
                deltas["reasoning"].append(event.delta)
            elif event.type in ("response.completed", "response.incomplete"):
                final = event.response
    finally:
        await sdk.close()
    assert final is not None
    calls = [(o.call_id, o.name, o.arguments) for o in final.output if o.type == "function_call"]
    reason = final.incomplete_details.reason if final.incomplete_details else None
    usage = final.usage
    assert usage is not None
    return {
        "text": "".join(deltas["text"]),
        "output_text": final.output_text,
        "refusal": "".join(deltas["refusal"]),
        "reasoning": "".join(deltas["reasoning"]),
        "finish": reason or final.status,
        "id": final.id,
        "calls": calls,
        "usage": (usage.input_tokens, usage.output_tokens, usage.total_tokens),
    }


def assert_same(ours: AIMessageChunk, expected: dict[str, Any]) -> None:
    assert ours.content == expected["text"]  # a refusal is not content (issue 12)
    assert ours.additional_kwargs.get("refusal", "") == expected["refusal"]
    assert ours.additional_kwargs.get("reasoning_content", "") == expected["reasoning"]
    assert ours.response_metadata["finish_reason"] == expected["finish"]
    assert ours.id == expected["id"]
    usage = ours.usage_metadata or {}
    assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == expected[
        "usage"
    ]
    assert [(c["id"], c["name"], c["args"]) for c in ours.tool_call_chunks] == expected["calls"]


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
async def test_recorded_stream_matches_the_official_sdk(
    path: Path, pattern: str, client: httpx.AsyncClient
) -> None:
    async with LoopbackServer(Reply.sse_file(path, pattern=pattern, max_piece=40)) as server:
        expected = await sdk_result(server)
        ours = await collect(make(server, client))
    assert ours.content == expected["output_text"] == "Hi there! How can I assist you today?"
    assert ours.usage_metadata == {
        "input_tokens": 37,
        "output_tokens": 11,
        "total_tokens": 48,
        "output_token_details": {"reasoning": 0},
    }
    assert_same(ours, expected)


CALL_ITEM = {
    "id": "fc_1",
    "type": "function_call",
    "call_id": "call_9",
    "name": "get_weather",
    "arguments": "",
    "status": "in_progress",
}
DONE_CALL = {**CALL_ITEM, "arguments": '{"city":"Paris"}', "status": "completed"}
REASONING_ITEM = {
    "id": "rs_1",
    "type": "reasoning",
    "summary": [{"type": "summary_text", "text": "Need the weather."}],
    "encrypted_content": "gAAAA-opaque",
}

HAND_MADE = {
    "function-call": sse(
        CREATED,
        {"type": "response.output_item.added", "output_index": 0, "item": CALL_ITEM},
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_1",
            "output_index": 0,
            "delta": '{"city":',
        },
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_1",
            "output_index": 0,
            "delta": '"Paris"}',
        },
        completed([DONE_CALL]),
    ),
    "refusal": sse(
        CREATED,
        delta("response.refusal.delta", "I can't"),
        delta("response.refusal.delta", " help with that."),
        completed(
            [
                {
                    "id": "m",
                    "type": "message",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "refusal", "refusal": "I can't help with that."}],
                }
            ]
        ),
    ),
    "reasoning-then-text": sse(
        CREATED,
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs",
            "output_index": 0,
            "summary_index": 0,
            "delta": "Thinking",
        },
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs",
            "output_index": 0,
            "summary_index": 0,
            "delta": " hard.",
        },
        {"type": "response.output_text.annotation.added", "item_id": "m", "output_index": 1},
        delta("response.output_text.delta", "Forty", 1),
        delta("response.output_text.delta", "-two", 1),
        completed(
            [
                {
                    "id": "m",
                    "type": "message",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": "Forty-two", "annotations": []}],
                }
            ]
        ),
    ),
    "reasoning-then-call": sse(
        CREATED,
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**REASONING_ITEM, "summary": []},
        },
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "delta": "Need the weather.",
        },
        {"type": "response.output_item.done", "output_index": 0, "item": REASONING_ITEM},
        {
            "type": "response.output_item.added",
            "output_index": 1,
            "item": {**DONE_CALL, "arguments": "", "status": "in_progress"},
        },
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_1",
            "output_index": 1,
            "delta": '{"city":"Paris"}',
        },
        completed([REASONING_ITEM, DONE_CALL]),
    ),
    "incomplete": sse(
        CREATED,
        delta("response.output_text.delta", "Once upon"),
        completed(
            [
                {
                    "id": "m",
                    "type": "message",
                    "role": "assistant",
                    "status": "incomplete",
                    "content": [{"type": "output_text", "text": "Once upon", "annotations": []}],
                }
            ],
            status="incomplete",
            incomplete_details={"reason": "max_output_tokens"},
        ),
    ),
}


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("name", sorted(HAND_MADE))
async def test_hand_made_streams_match_the_official_sdk(
    name: str, pattern: str, client: httpx.AsyncClient
) -> None:
    async with LoopbackServer(Reply.sse(HAND_MADE[name], pattern=pattern)) as server:
        expected = await sdk_result(server)
        ours = await collect(make(server, client))
    assert_same(ours, expected)


async def test_function_call_arguments_are_parsed_into_the_message(
    client: httpx.AsyncClient,
) -> None:
    async with LoopbackServer(Reply.sse(HAND_MADE["function-call"])) as server:
        message = chat_message(await make(server, client).ainvoke("weather?"))
    assert message.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_9", "type": "tool_call"}
    ]
    assert message.content == ""


# -- the parser ------------------------------------------------------------------------------


def feed(parser: OpenAIResponsesParser, event: dict[str, Any]) -> list[tuple[str, str]]:
    parts = parser.feed(SSEEvent(event["type"], json.dumps(event)))
    return [(p.text, p.channel) for p in parts]


def test_each_delta_goes_to_its_channel_and_the_rest_is_ignored() -> None:
    parser = OpenAIResponsesParser()
    assert feed(parser, CREATED) == [("", META)]
    assert feed(parser, delta("response.output_text.delta", "a")) == [("a", TEXT)]
    assert feed(parser, delta("response.refusal.delta", "b")) == [("b", REFUSAL)]
    assert feed(parser, delta("response.reasoning_text.delta", "c")) == [("c", REASONING)]
    assert feed(
        parser, {"type": "response.function_call_arguments.delta", "output_index": 2, "delta": "{"}
    ) == [("", TOOL_CALL)]
    assert feed(parser, {"type": "response.output_text.done", "text": "a"}) == []
    assert feed(parser, {"type": "response.in_progress", "response": {}}) == []
    assert feed(parser, {"type": "something.new"}) == []
    assert not parser.done


def test_completed_carries_usage_stop_reason_and_ends_the_stream() -> None:
    parser = OpenAIResponsesParser()
    usage = {
        "input_tokens": 4,
        "output_tokens": 6,
        "total_tokens": 10,
        "input_tokens_details": {"cached_tokens": 1},
        "output_tokens_details": {"reasoning_tokens": 2},
    }
    [part] = parser.parse(completed([], usage=usage))
    assert parser.done
    assert part.finish_reason == "completed"
    assert part.usage == {
        "input_tokens": 4,
        "output_tokens": 6,
        "total_tokens": 10,
        "input_token_details": {"cache_read": 1},
        "output_token_details": {"reasoning": 2},
    }


def test_error_and_failed_events_are_upstream_errors() -> None:
    with pytest.raises(UpstreamError, match="Rate limit exceeded"):
        OpenAIResponsesParser().feed(
            SSEEvent(
                "error",
                json.dumps(
                    {
                        "type": "error",
                        "code": "rate_limit_exceeded",
                        "message": "Rate limit exceeded",
                        "param": None,
                    }
                ),
            )
        )
    failed = {
        "type": "response.failed",
        "response": response(
            "failed", error={"code": "server_error", "message": "The model crashed"}
        ),
    }
    with pytest.raises(UpstreamError, match="The model crashed"):
        OpenAIResponsesParser().parse(failed)
    with pytest.raises(StreamProtocolError, match="malformed JSON"):
        OpenAIResponsesParser().feed(SSEEvent(data="{nope"))
    with pytest.raises(StreamTruncated, match="response.completed"):
        OpenAIResponsesParser().finish()


async def test_failed_mid_stream_keeps_the_text(client: httpx.AsyncClient) -> None:
    body = sse(
        CREATED,
        delta("response.output_text.delta", "Half"),
        {
            "type": "response.failed",
            "response": response("failed", error={"code": "server_error", "message": "oops"}),
        },
    )
    async with LoopbackServer(Reply.sse(body, pattern="random")) as server:
        with pytest.raises(UpstreamError) as info:
            await collect(make(server, client))
    assert info.value.partial_text == "Half"
    assert str(info.value) == "resp: provider error mid-stream: oops [server_error]"


async def test_end_without_a_terminal_event_is_truncated(client: httpx.AsyncClient) -> None:
    body = sse(CREATED, delta("response.output_text.delta", "Half"))
    async with LoopbackServer(Reply.sse(body, framing="close")) as server:
        with pytest.raises(StreamTruncated) as info:
            await collect(make(server, client))
    assert info.value.partial_text == "Half"
    assert "truncated" in str(info.value)


# -- requests and stream = false -------------------------------------------------------------


async def test_request_maps_system_to_instructions_and_max_output_tokens(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-2")
    params = {
        "system": "Be brief.",
        "max_tokens": 20,
        "temperature": 0.5,
        "top_p": 0.8,
        "seed": 3,
        "stop": ["x"],
    }
    async with LoopbackServer(Reply.sse_file(FILES[0])) as server:
        await collect(make(server, client, params=params))
        request = server.requests[0]
    assert request.path == "/v1/responses"
    assert request.headers["authorization"] == "Bearer sk-test-2"
    assert request.json() == {
        "model": "gpt-5.4",
        "input": [{"role": "user", "content": "hi"}],
        "instructions": "Be brief.",
        "max_output_tokens": 20,
        "temperature": 0.5,
        "top_p": 0.8,
        "stream": True,
    }


async def test_without_streaming_one_json_request(client: httpx.AsyncClient) -> None:
    answer = response(
        "completed",
        [
            {
                "id": "rs",
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "Hmm."}],
            },
            {
                "id": "m",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "Hello!", "annotations": []}],
            },
            DONE_CALL,
        ],
    )
    async with LoopbackServer(Reply.json(answer)) as server:
        model = make(server, client, stream=False)
        message = chat_message(await model.ainvoke("hi"))
        assert server.requests[0].json()["stream"] is False
    assert message.content == "Hello!"
    assert message.additional_kwargs == {"reasoning_content": "Hmm."}
    assert message.response_metadata["finish_reason"] == "completed"
    assert message.usage_metadata == {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8}
    assert message.tool_calls[0]["args"] == {"city": "Paris"}


async def test_reasoning_items_go_back_before_the_calls_they_preceded(
    client: httpx.AsyncClient,
) -> None:
    """A reasoning model's function calls must be sent back with the reasoning items of
    the same response (``encrypted_content`` included), or the API rejects the turn."""
    from llmstream_tui.core.messages import HumanMessage, ToolMessage

    done = sse(CREATED, delta("response.output_text.delta", "Sunny."), completed([]))
    async with LoopbackServer(
        Reply.sse(HAND_MADE["reasoning-then-call"]), Reply.sse(done)
    ) as server:
        llm = make(server, client)
        answer = chat_message(await llm.ainvoke("weather?"))
        assert answer.response_metadata["reasoning_items"] == [REASONING_ITEM]
        follow_up = [HumanMessage("weather?"), answer, ToolMessage("18C", tool_call_id="call_9")]
        await llm.ainvoke(follow_up)
    sent = server.requests[1].json()["input"]
    assert sent == [
        {"role": "user", "content": "weather?"},
        REASONING_ITEM,
        {
            "type": "function_call",
            "call_id": "call_9",
            "name": "get_weather",
            "arguments": '{"city": "Paris"}',
        },
        {"type": "function_call_output", "call_id": "call_9", "output": "18C"},
    ]
