"""The ``gemini`` kind: the recorded stream, decoding rules, requests, the key, listing.

There is no official SDK among our test dependencies for Gemini, so the conformance test
compares against values derived by hand from tests/fixtures/wire/gemini/basic.sse (see
``EXPECTED``), served whole, one byte per write and in random pieces.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import httpx
import pytest

from llmstream_tui.core.accumulate import sum_chunks
from llmstream_tui.core.messages import AIMessageChunk, HumanMessage
from llmstream_tui.errors import (
    AuthError,
    HTTPStatusError,
    StreamProtocolError,
    StreamTruncated,
    UpstreamError,
)
from llmstream_tui.providers.gemini import GeminiModel
from llmstream_tui.providers.registry import build_llm
from tests.support.loopback import LoopbackServer, Reply
from tests.support.narrowing import chat_message, stream_chunks
from tests.support.paths import WIRE as FIXTURE_WIRE

WIRE = FIXTURE_WIRE / "gemini"
CANARY = "AIza-canary-0b1e2c3d4f"

#: Derived by hand from basic.sse: the four events' ``parts[].text`` joined, the last event's
#: ``finishReason``, and its ``usageMetadata`` (promptTokenCount 399, candidatesTokenCount 191,
#: totalTokenCount 590; the earlier events repeat promptTokenCount 399 cumulatively).
EXPECTED = {
    "basic": (
        (
            'Certainly! I\'ll create a simple "Hello, World!" page where each letter has a'
            " different color using inline styles for simplicity.  Each letter will be wrapped"
        ),
        "STOP",
        {"input_tokens": 399, "output_tokens": 191, "total_tokens": 590},
    ),
}


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)


def make(server: LoopbackServer, client: httpx.AsyncClient, **table: Any) -> GeminiModel:
    spec = {"kind": "gemini", "model": "gemini-2.5-flash", "base_url": server.url, **table}
    model = build_llm(spec, name="gem", client=client)
    assert isinstance(model, GeminiModel)
    return model


async def collect(model: GeminiModel, prompt: Any = "hi") -> AIMessageChunk:
    total = sum_chunks(await stream_chunks(model, prompt))
    assert total is not None
    return total


def sse(*payloads: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + json.dumps(p).encode() + b"\r\n\r\n" for p in payloads)


def event(*parts: dict[str, Any], finish: str | None = None, **usage: int) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": list(parts), "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    out: dict[str, Any] = {"candidates": [candidate], "modelVersion": "gemini-2.5-flash"}
    if usage:
        out["usageMetadata"] = usage
    return out


# -- conformance -----------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", ["whole", "bytes", "random"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_recorded_stream_gives_the_hand_derived_values(
    name: str, pattern: str, client: httpx.AsyncClient
) -> None:
    reply = Reply.sse_file(WIRE / f"{name}.sse", pattern=pattern, seed=3, max_piece=25)
    async with LoopbackServer(reply) as server:
        chunks = await stream_chunks(make(server, client))
    text, finish, usage = EXPECTED[name]
    total = sum_chunks(chunks)
    assert total is not None
    assert total.content == text
    assert total.response_metadata["finish_reason"] == finish
    assert total.usage_metadata == usage
    # One chunk per event (4) plus our closing chunk: usage rode on the text chunks.
    assert len(chunks) == 5


def test_every_recorded_file_has_expected_values() -> None:
    assert sorted(p.stem for p in WIRE.glob("*.sse")) == sorted(EXPECTED)


# -- decoding --------------------------------------------------------------------------------


async def test_cumulative_usage_becomes_deltas(client: httpx.AsyncClient) -> None:
    body = sse(
        event({"text": "a"}, promptTokenCount=10, totalTokenCount=10),
        event({"text": "b"}, promptTokenCount=10, candidatesTokenCount=2, totalTokenCount=12),
        event(
            {"text": "c"},
            finish="STOP",
            promptTokenCount=10,
            candidatesTokenCount=5,
            thoughtsTokenCount=7,
            totalTokenCount=22,
        ),
    )
    async with LoopbackServer(Reply.sse(body)) as server:
        chunks = await stream_chunks(make(server, client))
    assert [c.usage_metadata for c in chunks[:3]] == [
        {"input_tokens": 10, "output_tokens": 0, "total_tokens": 10},
        {"input_tokens": 0, "output_tokens": 2, "total_tokens": 2},
        {
            "input_tokens": 0,
            "output_tokens": 10,
            "total_tokens": 10,
            "output_token_details": {"reasoning": 7},
        },
    ]
    total = sum_chunks(chunks)
    assert total is not None and total.usage_metadata == {
        "input_tokens": 10,
        "output_tokens": 12,
        "total_tokens": 22,
        "output_token_details": {"reasoning": 7},
    }


async def test_thoughts_and_function_calls_stay_out_of_the_answer(
    client: httpx.AsyncClient,
) -> None:
    body = sse(
        event({"text": "Considering the city", "thought": True}),
        event({"text": "Let me look."}),
        event(
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
            {"functionCall": {"name": "get_time", "args": {}}},
            finish="STOP",
        ),
    )
    async with LoopbackServer(Reply.sse(body)) as server:
        total = await collect(make(server, client))
    assert total.content == "Let me look."
    assert total.additional_kwargs["reasoning_content"] == "Considering the city"
    assert [(c["name"], c["args"]) for c in total.to_message().tool_calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {}),
    ]


async def test_error_object_mid_stream_is_upstream_error(client: httpx.AsyncClient) -> None:
    body = sse(
        event({"text": "Part"}),
        {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}},
    )
    async with LoopbackServer(Reply.sse(body)) as server:
        with pytest.raises(UpstreamError) as info:
            await collect(make(server, client))
    assert info.value.partial_text == "Part"
    assert "The model is overloaded." in str(info.value) and "UNAVAILABLE" in str(info.value)


async def test_stream_without_finish_reason_is_truncated(client: httpx.AsyncClient) -> None:
    body = sse(event({"text": "Once"}), event({"text": " upon"}))
    async with LoopbackServer(Reply.sse(body)) as server:
        with pytest.raises(StreamTruncated) as info:
            await collect(make(server, client))
    assert info.value.partial_text == "Once upon"
    assert "finishReason" in str(info.value)


async def test_blocked_prompt_is_a_refusal(client: httpx.AsyncClient) -> None:
    body = sse(
        {
            "promptFeedback": {"blockReason": "SAFETY"},
            "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8},
        }
    )
    async with LoopbackServer(Reply.sse(body)) as server:
        total = await collect(make(server, client))
    assert total.content == ""
    assert "refusal" in total.additional_kwargs
    assert total.response_metadata["finish_reason"] == "SAFETY"
    assert total.usage_metadata == {"input_tokens": 8, "output_tokens": 0, "total_tokens": 8}


async def test_unknown_fields_comments_and_keepalives_are_ignored(
    client: httpx.AsyncClient,
) -> None:
    body = (
        b": keep-alive\r\n\r\n"
        + sse({"somethingNew": {"x": 1}}, event({"text": "ok"}, finish="STOP"))
        + b"event: custom\r\nid: 7\r\n\r\n"
    )
    async with LoopbackServer(Reply.sse(body)) as server:
        total = await collect(make(server, client))
    assert total.content == "ok"


async def test_malformed_event_is_a_protocol_error(client: httpx.AsyncClient) -> None:
    body = sse(event({"text": "ok"})) + b'data: {"candidates": [\r\n\r\n'
    async with LoopbackServer(Reply.sse(body)) as server:
        with pytest.raises(StreamProtocolError) as info:
            await collect(make(server, client))
    assert info.value.partial_text == "ok"


# -- requests --------------------------------------------------------------------------------


def ok() -> Reply:
    return Reply.sse(sse(event({"text": "ok"}, finish="STOP")))


async def test_request_maps_contents_system_and_generation_config(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", CANARY)
    async with LoopbackServer(ok()) as server:
        model = make(
            server,
            client,
            params={
                "temperature": 0.5,
                "max_tokens": 300,
                "top_p": 0.95,
                "stop": ["END"],
                "seed": 3,
            },
            thinking_budget=0,
        )
        await model.ainvoke(
            [("system", "Be terse."), ("user", "hi"), ("assistant", "yo"), ("user", "again")]
        )
    request = server.requests[0]
    assert request.method == "POST"
    assert request.path == "/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert request.headers["x-goog-api-key"] == CANARY
    assert "authorization" not in request.headers and "key=" not in request.path
    assert request.json() == {
        "contents": [
            {"role": "user", "parts": [{"text": "hi"}]},
            {"role": "model", "parts": [{"text": "yo"}]},
            {"role": "user", "parts": [{"text": "again"}]},
        ],
        "systemInstruction": {"parts": [{"text": "Be terse."}]},
        "generationConfig": {
            "temperature": 0.5,
            "maxOutputTokens": 300,
            "topP": 0.95,
            "seed": 3,
            "stopSequences": ["END"],
            "thinkingConfig": {"thinkingBudget": 0},
        },
    }


async def test_google_api_key_is_the_fallback_and_system_param_is_used(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "google-key")
    async with LoopbackServer(ok()) as server:
        model = make(server, client, model="models/gemini-pro", params={"system": "Sys."})
        await model.ainvoke("hi", stop=["x"])
    request = server.requests[0]
    assert request.headers["x-goog-api-key"] == "google-key"
    assert request.path.startswith("/models/gemini-pro:streamGenerateContent")
    body = request.json()
    assert body["systemInstruction"] == {"parts": [{"text": "Sys."}]}
    assert body["generationConfig"] == {"stopSequences": ["x"]}


async def test_stream_false_calls_generate_content(client: httpx.AsyncClient) -> None:
    answer = event(
        {"text": "Whole."},
        finish="MAX_TOKENS",
        promptTokenCount=4,
        candidatesTokenCount=2,
        totalTokenCount=6,
    )
    async with LoopbackServer(Reply.json(answer)) as server:
        model = make(server, client, stream=False)
        chunks = [c async for c in model.astream("hi")]
        batch = await model.abatch(["a", "b"])
    assert len(chunks) == 1
    # not streamed: the one item is the whole AIMessage (as langchain-core yields it then)
    message = chat_message(chunks[0])
    assert message.content == "Whole."
    assert message.response_metadata["finish_reason"] == "MAX_TOKENS"
    assert message.usage_metadata == {"input_tokens": 4, "output_tokens": 2, "total_tokens": 6}
    assert [chat_message(m).content for m in batch] == ["Whole.", "Whole."]
    assert server.requests[0].path == "/models/gemini-2.5-flash:generateContent"


async def test_http_error_shows_googles_message(client: httpx.AsyncClient) -> None:
    body = {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
        }
    }
    async with LoopbackServer(Reply.json(body, status=400)) as server:
        with pytest.raises(HTTPStatusError) as info:
            await collect(make(server, client))
    assert "API key not valid" in str(info.value) and info.value.status == 400


async def test_canary_key_never_appears_in_errors_or_reprs(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", CANARY)
    echo = {
        "error": {
            "code": 403,
            "message": f"key {CANARY} is suspended",
            "status": "PERMISSION_DENIED",
        }
    }
    async with LoopbackServer(Reply.json(echo, status=403)) as server:
        model = make(server, client)
        with pytest.raises(AuthError) as info:
            await collect(model)
        server.set_replies(Reply.sse(sse({"error": {"code": 500, "message": f"oops {CANARY}"}})))
        with pytest.raises(UpstreamError) as info2:
            await collect(model)
    for exc in (info.value, info2.value):
        for text in (str(exc), repr(exc), json.dumps(exc.to_dict())):
            assert CANARY not in text
    for text in (repr(model), repr(model.spec), str(vars(model))):
        assert CANARY not in text


async def test_model_listing_strips_prefix_filters_and_pages(client: httpx.AsyncClient) -> None:
    pages = [
        {
            "models": [
                {
                    "name": "models/gemini-2.5-flash",
                    "supportedGenerationMethods": ["generateContent", "countTokens"],
                },
                {
                    "name": "models/text-embedding-004",
                    "supportedGenerationMethods": ["embedContent"],
                },
            ],
            "nextPageToken": "p2",
        },
        {
            "models": [
                {"name": "models/gemini-2.5-pro", "supportedGenerationMethods": ["generateContent"]}
            ]
        },
    ]

    def route(request: Any) -> Reply:
        return Reply.json(pages[1] if "pageToken=p2" in request.path else pages[0])

    async with LoopbackServer() as server:
        server.routes["/models"] = route
        models = await make(server, client).list_models()
    assert models == ["gemini-2.5-flash", "gemini-2.5-pro"]
    assert [r.path for r in server.requests] == [
        "/models?pageSize=1000",
        "/models?pageSize=1000&pageToken=p2",
    ]


async def test_closing_the_stream_closes_the_connection(client: httpx.AsyncClient) -> None:
    body = sse(*[event({"text": f"w{i} "}) for i in range(50)], event({"text": ""}, finish="STOP"))
    async with LoopbackServer(Reply.sse(body, stall_after=len(body) // 3)) as server:
        stream = make(server, client).astream("hi")
        assert isinstance(stream, AsyncGenerator)  # what aclosing needs: astream is one
        async with aclosing(stream):
            async for _ in stream:
                break
        await asyncio.wait_for(server.requests[0].disconnected.wait(), 5)
    assert server.requests[0].bytes_sent < len(body)


def test_thought_parts_are_reasoning_and_a_calls_thought_signature_is_kept() -> None:
    """Thinking models: ``thought: true`` text is reasoning, and a ``functionCall`` part's
    ``thoughtSignature`` (which must go back with the call) rides on its tool-call part as
    ``thought_signatures`` metadata keyed by the call's index."""
    from llmstream_tui.core.parts import REASONING, TEXT, TOOL_CALL
    from llmstream_tui.providers.gemini import GeminiStreamParser
    from llmstream_tui.providers.http_errors import PlainErrors

    parser = GeminiStreamParser(PlainErrors())
    response = {
        "responseId": "r1",
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "Let me think.", "thought": True},
                        {"text": "Calling two tools."},
                        {"functionCall": {"name": "a", "args": {"x": 1}}, "thoughtSignature": "s1"},
                        {"functionCall": {"name": "b", "args": {}, "id": "fc_2"}},
                    ],
                }
            }
        ],
    }
    parts = parser.parse(response)
    assert [p.channel for p in parts] == [REASONING, TEXT, TOOL_CALL, TOOL_CALL]
    assert parts[0].text == "Let me think."
    assert [p.tool_call for p in parts[2:]] == [
        {"name": "a", "args": '{"x": 1}', "id": None, "index": 0},
        {"name": "b", "args": "{}", "id": "fc_2", "index": 1},
    ]
    assert parts[2].metadata == {"thought_signatures": {"0": "s1"}}
    assert parts[3].metadata is None
    with pytest.raises(StreamTruncated):
        parser.finish()  # no finishReason yet


async def test_summed_chunks_keep_every_calls_thought_signature(
    client: httpx.AsyncClient,
) -> None:
    def call(name: str, signature: str) -> dict[str, Any]:
        return {"functionCall": {"name": name, "args": {}}, "thoughtSignature": signature}

    events = [
        {"candidates": [{"content": {"role": "model", "parts": [call("a", "s1")]}}]},
        {
            "candidates": [
                {"content": {"role": "model", "parts": [call("b", "s2")]}, "finishReason": "STOP"}
            ]
        },
    ]
    body = "".join(f"data: {json.dumps(e)}\r\n\r\n" for e in events)
    async with LoopbackServer(Reply.sse(body)) as server:
        chunks = [c async for c in make(server, client).astream("hi")]
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    total = sum_chunks(c for c in chunks if isinstance(c, AIMessageChunk))
    assert total is not None
    assert total.response_metadata["thought_signatures"] == {"0": "s1", "1": "s2"}
    assert [c["name"] for c in total.tool_call_chunks] == ["a", "b"]


async def test_a_text_parts_thought_signature_is_kept_and_sent_back_on_the_answers_text(
    client: httpx.AsyncClient,
) -> None:
    """A thinking model signs the last part of an answer without calls; the next turn sends
    the signature back on that answer's text part (as Google's SDK does with the part)."""
    events = [
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}}]},
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [{"text": "lo", "thoughtSignature": "sig-t"}],
                    },
                    "finishReason": "STOP",
                }
            ]
        },
    ]
    body = "".join(f"data: {json.dumps(e)}\r\n\r\n" for e in events)
    async with LoopbackServer(Reply.sse(body)) as server:
        llm = make(server, client)
        chunks = [c async for c in llm.astream("hi")]
        total = sum_chunks(c for c in chunks if isinstance(c, AIMessageChunk))
        assert total is not None and total.content == "Hello"
        assert total.response_metadata["thought_signatures"] == {"text": "sig-t"}
        answer = total.to_message()
        [c async for c in llm.astream([HumanMessage("hi"), answer, HumanMessage("again")])]
    contents = server.requests[1].json()["contents"]
    assert contents[1] == {
        "role": "model",
        "parts": [{"text": "Hello", "thoughtSignature": "sig-t"}],
    }
    assert contents[2] == {"role": "user", "parts": [{"text": "again"}]}
