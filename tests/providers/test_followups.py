"""Follow-up turns after a tool call, kind by kind: the JSON body a loopback server receives
for the second turn carries the assistant's calls (and whatever else the API needs back with
them: Anthropic's thinking signatures, Gemini's thought signatures) and the tool results.
Where an official SDK defines the request shape, its ``*Param`` types validate our body."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import ollama
import pydantic
import pytest
from anthropic.types import MessageParam
from openai.types.chat import ChatCompletionMessageParam
from openai.types.responses import ResponseInputParam

from llmstream_tui.core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from llmstream_tui.core.runnable import LanguageModel
from llmstream_tui.providers.registry import build_llm
from tests.support.loopback import LoopbackServer, Reply
from tests.support.narrowing import chat_message
from tests.support.paths import WIRE

CALL = {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
RESULT = '{"temp_c": 21}'


@pytest.fixture(autouse=True)
def _no_ambient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def model(kind: str, server: LoopbackServer, client: httpx.AsyncClient) -> LanguageModel[Any, Any]:
    root = server.url + "/v1" if kind.startswith("openai") else server.url
    spec = {"kind": kind, "model": "m", "base_url": root}
    return build_llm(spec, name=kind, client=client)


def follow_up(ai: AIMessage, tool_call_id: str = "call_1") -> list[BaseMessage]:
    return [HumanMessage("weather in Paris?"), ai, ToolMessage(RESULT, tool_call_id=tool_call_id)]


async def turns(
    kind: str, client: httpx.AsyncClient, first: Reply, second: Reply
) -> tuple[AIMessage, dict[str, Any]]:
    """Run a first turn on ``first``, then the follow-up with its answer and a tool result;
    the answer and the second request's JSON body."""
    async with LoopbackServer(first, second) as server:
        llm = model(kind, server, client)
        ai = chat_message(await llm.ainvoke("weather in Paris?"))
        assert ai.tool_calls, "the first turn must call a tool"
        call_id = str(ai.tool_calls[0]["id"] or "")
        chat_message(await llm.ainvoke(follow_up(ai, call_id)))
        return ai, server.requests[1].json()


# -- OpenAI Chat Completions -----------------------------------------------------------------

CHAT_OK = (
    b'data: {"id":"c2","choices":[{"index":0,"delta":{"content":"21C"},"finish_reason":"stop"}]}'
    b'\n\ndata: {"id":"c2","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,'
    b'"total_tokens":2}}\n\ndata: [DONE]\n\n'
)


async def test_openai_chat_follow_up_sends_the_calls_and_the_tool_result(
    client: httpx.AsyncClient,
) -> None:
    first = Reply.sse_file(WIRE / "openai-chat" / "tool-calls-a.sse")
    ai, body = await turns("openai-chat", client, first, Reply.sse(CHAT_OK))
    messages = body["messages"]
    pydantic.TypeAdapter(list[ChatCompletionMessageParam]).validate_python(messages)
    call = ai.tool_calls[0]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
    sent = messages[1]["tool_calls"]
    assert [(c["id"], c["type"], c["function"]["name"]) for c in sent] == [
        (call["id"], "function", "get_weather")
    ]
    assert json.loads(sent[0]["function"]["arguments"]) == call["args"]
    assert messages[2] == {"role": "tool", "content": RESULT, "tool_call_id": call["id"]}


# -- OpenAI Responses ------------------------------------------------------------------------

RESPONSES_OK = (
    b'event: response.created\ndata: {"type":"response.created","response":{"id":"r2"}}\n\n'
    b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta",'
    b'"delta":"21C"}\n\nevent: response.completed\ndata: {"type":"response.completed",'
    b'"response":{"id":"r2","status":"completed"}}\n\n'
)


async def test_openai_responses_follow_up_sends_function_call_items(
    client: httpx.AsyncClient,
) -> None:
    async with LoopbackServer(Reply.sse(RESPONSES_OK)) as server:
        llm = model("openai-responses", server, client)
        ai = AIMessage("Let me look.", tool_calls=[CALL])
        await llm.ainvoke(follow_up(ai))
        items = server.requests[0].json()["input"]
    pydantic.TypeAdapter(ResponseInputParam).validate_python(items)
    assert items == [
        {"role": "user", "content": "weather in Paris?"},
        {"role": "assistant", "content": "Let me look."},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city": "Paris"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": RESULT},
    ]


# -- Anthropic -------------------------------------------------------------------------------

ANTHROPIC_OK = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"m2","usage":'
    b'{"input_tokens":1,"output_tokens":1}}}\n\nevent: content_block_delta\ndata: {"type":'
    b'"content_block_delta","index":0,"delta":{"type":"text_delta","text":"21C"}}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
    b'"usage":{"output_tokens":2}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n'
)


async def sdk_content(body: bytes) -> list[dict[str, Any]]:
    """The official SDK's final message content for ``body``, as it would be sent back
    (``messages.append({"role": "assistant", "content": message.content})``)."""
    async with LoopbackServer(Reply.sse(body)) as server:
        sdk = anthropic.AsyncAnthropic(base_url=server.url, api_key="test", max_retries=0)
        try:
            async with sdk.messages.stream(
                model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
            ) as stream:
                message = await stream.get_final_message()
        finally:
            await sdk.close()
    keys = ("type", "text", "id", "name", "input", "thinking", "signature", "data")
    return [{k: v for k, v in b.model_dump().items() if k in keys} for b in message.content]


async def test_anthropic_follow_up_sends_tool_use_and_tool_result_blocks(
    client: httpx.AsyncClient,
) -> None:
    recorded = (WIRE / "anthropic" / "tool-use-response.sse").read_bytes()
    ai, body = await turns("anthropic", client, Reply.sse(recorded), Reply.sse(ANTHROPIC_OK))
    messages = body["messages"]
    pydantic.TypeAdapter(list[MessageParam]).validate_python(messages)
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == await sdk_content(recorded)
    call_id = ai.tool_calls[0]["id"]
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": call_id, "content": RESULT}
    ]


def test_anthropic_parallel_tool_results_and_a_user_message_share_one_user_turn() -> None:
    from llmstream_tui.providers.anthropic import anthropic_messages

    second = {**CALL, "id": "call_2"}
    ai = AIMessage("", tool_calls=[CALL, second])
    messages = anthropic_messages(
        [
            HumanMessage("both?"),
            ai,
            ToolMessage("a", tool_call_id="call_1"),
            ToolMessage("b", tool_call_id="call_2"),
            HumanMessage("thanks"),
        ]
    )
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert [b["type"] for b in messages[1]["content"]] == ["tool_use", "tool_use"]
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "a"},
        {"type": "tool_result", "tool_use_id": "call_2", "content": "b"},
        {"type": "text", "text": "thanks"},
    ]


# -- Gemini ----------------------------------------------------------------------------------


def gemini_sse(*responses: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + json.dumps(r).encode() + b"\r\n\r\n" for r in responses)


GEMINI_CALL = gemini_sse(
    {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hm.", "thought": True}]}}]},
    {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {
                            "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                            "thoughtSignature": "c2lnLTE=",
                        }
                    ],
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 3},
    },
)
GEMINI_OK = gemini_sse(
    {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": "21C"}]}, "finishReason": "STOP"}
        ]
    }
)


async def test_gemini_follow_up_sends_the_call_with_its_thought_signature(
    client: httpx.AsyncClient,
) -> None:
    ai, body = await turns("gemini", client, Reply.sse(GEMINI_CALL), Reply.sse(GEMINI_OK))
    assert ai.additional_kwargs["reasoning_content"] == "Hm."
    assert ai.response_metadata["thought_signatures"] == {"0": "c2lnLTE="}
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "weather in Paris?"}]},
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                    "thoughtSignature": "c2lnLTE=",
                }
            ],
        },
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "get_weather", "response": {"temp_c": 21}}}],
        },
    ]


def test_gemini_results_of_parallel_calls_share_one_content_and_text_goes_under_output() -> None:
    from llmstream_tui.providers.gemini import gemini_contents

    ai = AIMessage("", tool_calls=[{**CALL, "id": None}, {**CALL, "name": "get_time", "id": None}])
    contents = gemini_contents(
        [HumanMessage("?"), ai, ToolMessage("sunny"), ToolMessage('{"t": "noon"}')]
    )
    assert contents[2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"output": "sunny"}}},
            {"functionResponse": {"name": "get_time", "response": {"t": "noon"}}},
        ],
    }


# -- Ollama ----------------------------------------------------------------------------------

OLLAMA_CALL = (
    json.dumps(
        {
            "model": "m",
            "message": {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
                ],
            },
            "done": False,
        }
    )
    + "\n"
    + json.dumps({"model": "m", "message": {"role": "assistant", "content": ""}, "done": True})
    + "\n"
)
OLLAMA_OK = json.dumps(
    {"model": "m", "message": {"role": "assistant", "content": "21C"}, "done": True}
)


async def test_ollama_follow_up_sends_the_calls_as_the_sdk_types_them(
    client: httpx.AsyncClient,
) -> None:
    ai, body = await turns(
        "ollama-chat", client, Reply.ndjson(OLLAMA_CALL), Reply.ndjson(OLLAMA_OK + "\n")
    )
    messages = body["messages"]
    typed = [ollama.Message.model_validate(m) for m in messages]
    assert typed[1].tool_calls is not None
    assert [(c.function.name, dict(c.function.arguments)) for c in typed[1].tool_calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert messages[2] == {"role": "tool", "content": RESULT, "tool_name": "get_weather"}
    assert typed[2].tool_name == "get_weather"
    assert ai.tool_calls[0]["args"] == {"city": "Paris"}


def test_a_result_answers_the_call_with_its_id_else_the_next_unanswered_one() -> None:
    from llmstream_tui.providers.params import answered_calls

    a, b, c = ({**CALL, "id": id_, "name": f"f{n}"} for n, id_ in enumerate(["a", "b", None]))
    messages: list[BaseMessage] = [
        HumanMessage("?"),
        AIMessage("", tool_calls=[a, b, c]),
        ToolMessage("for b", tool_call_id="b"),
        ToolMessage("no id", tool_call_id=""),
        ToolMessage("no id", tool_call_id=""),
        ToolMessage("stray", tool_call_id="zzz"),
    ]
    assert answered_calls(messages) == [None, None, b, a, c, None]
