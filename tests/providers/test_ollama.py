"""The ``ollama-chat`` and ``ollama-generate`` kinds: conformance with the official
``ollama`` client on recorded streams, and our own cases."""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing
from pathlib import Path
from typing import Any

import httpx
import ollama
import pytest

from llmstream_tui.core.accumulate import sum_chunks
from llmstream_tui.core.messages import AIMessage
from llmstream_tui.core.metrics import StreamTimeline
from llmstream_tui.core.runnable import RunnableConfig
from llmstream_tui.errors import (
    HTTPStatusError,
    StreamProtocolError,
    StreamTruncated,
    UpstreamError,
)
from llmstream_tui.providers.ollama import (
    DEFAULT_BASE_URL,
    OllamaChatModel,
    OllamaGenerateModel,
    resolve_base_url,
)
from llmstream_tui.providers.registry import build_llm
from tests.support.loopback import LoopbackServer, Reply
from tests.support.paths import WIRE as FIXTURE_WIRE

WIRE = FIXTURE_WIRE / "ollama"
FILES = sorted(WIRE.glob("*.ndjson"))
PATTERNS = ["whole", "bytes", "random"]


@pytest.fixture(autouse=True)
def _no_ambient_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_HOST", raising=False)


def make(
    server: LoopbackServer | None,
    client: httpx.AsyncClient | None,
    kind: str = "ollama-chat",
    **table: Any,
) -> Any:
    spec: dict[str, Any] = {"kind": kind, "model": "llama3.2", **table}
    if server is not None:
        spec.setdefault("base_url", server.url)
    return build_llm(spec, name="local", client=client)


def lines(*objects: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objects)


def chat(text: str, **more: Any) -> dict[str, Any]:
    return {
        "model": "llama3.2",
        "message": {"role": "assistant", "content": text},
        "done": False,
        **more,
    }


def gen(text: str, **more: Any) -> dict[str, Any]:
    return {"model": "llama3.2", "response": text, "done": False, **more}


DONE = {
    "model": "llama3.2",
    "response": "",
    "done": True,
    "done_reason": "stop",
    "total_duration": 900,
    "load_duration": 100,
    "prompt_eval_count": 12,
    "prompt_eval_duration": 200,
    "eval_count": 34,
    "eval_duration": 500,
}


# -- conformance -----------------------------------------------------------------------------


async def sdk_run(server: LoopbackServer, chat_kind: bool) -> tuple[str, Any, Exception | None]:
    """(text, last part, error) as the official client yields them."""
    sdk = ollama.AsyncClient(host=server.url)
    text: list[str] = []
    last: Any = None
    error: Exception | None = None
    try:
        try:
            # two loops: the two streams' parts are different types (ChatResponse, GenerateResponse)
            if chat_kind:
                chat = await sdk.chat(
                    model="llama3.2", messages=[{"role": "user", "content": "hi"}], stream=True
                )
                async for chat_part in chat:
                    content = chat_part.message.content
                    assert content is not None  # the client's type allows None; a stream sends ""
                    text.append(content)
                    last = chat_part
            else:
                generated = await sdk.generate(model="gemma4", prompt="hi", stream=True)
                async for generate_part in generated:
                    response = generate_part.response
                    assert response is not None  # the client's type allows None; a stream sends ""
                    text.append(response)
                    last = generate_part
        except ollama.ResponseError as exc:
            error = exc
    finally:
        # its pooled connection is closed here, not left to the garbage collector
        await sdk.close()
    return "".join(text), last, error


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
async def test_recorded_stream_matches_the_official_client(
    path: Path, pattern: str, client: httpx.AsyncClient
) -> None:
    chat_kind = path.stem.startswith("chat")
    reply = Reply.ndjson(path.read_bytes(), pattern=pattern, seed=len(path.name), max_piece=30)
    async with LoopbackServer(reply) as server:
        expected_text, last, expected_error = await sdk_run(server, chat_kind)
        model = make(server, client, "ollama-chat" if chat_kind else "ollama-generate")
        if expected_error is not None:
            with pytest.raises(UpstreamError) as info:
                _ = [c async for c in model.astream("hi")]
            assert info.value.partial_text == expected_text
            assert expected_error.error in str(info.value)  # type: ignore[attr-defined]
            return
        if chat_kind:
            total = sum_chunks([c async for c in model.astream("hi")])
            assert total is not None
            text, finish, usage = (
                total.content,
                total.response_metadata.get("finish_reason"),
                total.usage_metadata,
            )
        else:
            events = [e async for e in model.astream_events("hi", version="v2")]
            text = "".join(e["data"]["chunk"] for e in events if e["event"] == "on_llm_stream")
            info_ = events[-1]["data"]["output"]["generations"][0][0]["generation_info"]
            finish, usage = info_.get("finish_reason"), None
            chunks = [c async for c in model.astream("hi")]
            assert "".join(chunks) == text
    assert text == expected_text
    assert finish == last.done_reason
    if last.prompt_eval_count is None and last.eval_count is None:
        assert usage is None
    else:
        assert usage == {
            "input_tokens": last.prompt_eval_count,
            "output_tokens": last.eval_count,
            "total_tokens": last.prompt_eval_count + last.eval_count,
        }


# -- decoding --------------------------------------------------------------------------------


async def test_done_metrics_go_to_usage_and_metadata(client: httpx.AsyncClient) -> None:
    body = lines(gen("Hi"), gen(" there"), DONE)
    async with LoopbackServer(Reply.ndjson(body)) as server:
        timeline = StreamTimeline()
        config: RunnableConfig = {"timeline": timeline}
        events = [
            e
            async for e in make(server, client, "ollama-generate").astream_events(
                "hi", config, version="v2"
            )
        ]
    info = events[-1]["data"]["output"]["generations"][0][0]["generation_info"]
    assert info["finish_reason"] == "stop"
    assert info["eval_count"] == 34 and info["eval_duration"] == 500
    assert info["prompt_eval_duration"] == 200 and info["total_duration"] == 900
    assert timeline.snapshot().tokens == 34


async def test_chat_usage_is_summed_once(client: httpx.AsyncClient) -> None:
    done = {**DONE, "message": {"role": "assistant", "content": ""}}
    del done["response"]
    async with LoopbackServer(Reply.ndjson(lines(chat("a"), chat("b"), done))) as server:
        message = await make(server, client).ainvoke("hi")
    assert message.content == "ab"
    assert message.usage_metadata == {"input_tokens": 12, "output_tokens": 34, "total_tokens": 46}
    assert message.response_metadata["finish_reason"] == "stop"


async def test_error_line_is_upstream_error_whatever_the_status(client: httpx.AsyncClient) -> None:
    body = lines(gen("par"), gen("tial"), {"error": "model runner has unexpectedly stopped"})
    async with LoopbackServer(Reply.ndjson(body)) as server:
        with pytest.raises(UpstreamError) as info:
            _ = [c async for c in make(server, client, "ollama-generate").astream("hi")]
    assert info.value.partial_text == "partial"
    assert "model runner has unexpectedly stopped" in str(info.value)


async def test_error_body_on_a_404_is_shown(client: httpx.AsyncClient) -> None:
    reply = Reply.json({"error": "model 'nope' not found"}, status=404)
    async with LoopbackServer(reply) as server:
        with pytest.raises(HTTPStatusError) as info:
            await make(server, client, model="nope").ainvoke("hi")
    assert info.value.status == 404 and "model 'nope' not found" in str(info.value)


async def test_stream_without_done_is_truncated(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(Reply.ndjson(lines(chat("Once"), chat(" upon")))) as server:
        with pytest.raises(StreamTruncated) as info:
            await make(server, client).ainvoke("hi")
    assert info.value.partial_text == "Once upon"
    assert '"done"' in str(info.value)


async def test_server_keeping_the_line_open_after_done_does_not_stall(
    client: httpx.AsyncClient,
) -> None:
    body = lines(gen("ok"), DONE)
    reply = Reply.ndjson(body + lines(gen("late")), stall_after=len(body))
    async with LoopbackServer(reply) as server:
        model = make(server, client, "ollama-generate", timeout=10)
        assert await asyncio.wait_for(model.ainvoke("hi"), 2) == "ok"


async def test_final_line_without_newline_still_counts(client: httpx.AsyncClient) -> None:
    body = lines(gen("x")) + json.dumps(DONE).encode()
    async with LoopbackServer(Reply.ndjson(body, pattern="bytes")) as server:
        out = await make(server, client, "ollama-generate").ainvoke("hi")
    assert out == "x"


async def test_malformed_line_is_a_protocol_error_keeping_the_text(
    client: httpx.AsyncClient,
) -> None:
    body = lines(gen("good")) + b'{"response": "bad\n' + lines(DONE)
    async with LoopbackServer(Reply.ndjson(body)) as server:
        with pytest.raises(StreamProtocolError) as info:
            await make(server, client, "ollama-generate").ainvoke("hi")
    assert info.value.partial_text == "good"
    assert "line 2" in str(info.value)


async def test_thinking_and_tool_calls_stay_out_of_the_answer(client: httpx.AsyncClient) -> None:
    done = {
        "model": "llama3.2",
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
    }
    body = lines(
        {"model": "m", "message": {"role": "assistant", "content": "", "thinking": "Hmm, "}},
        {"model": "m", "message": {"role": "assistant", "content": "", "thinking": "weather."}},
        chat("Let me check."),
        {
            "model": "m",
            "message": {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                    {"function": {"name": "get_time", "arguments": {"tz": "CET"}}},
                ],
            },
        },
        done,
    )
    async with LoopbackServer(Reply.ndjson(body)) as server:
        message = await make(server, client).ainvoke("hi")
    assert message.content == "Let me check."
    assert message.additional_kwargs["reasoning_content"] == "Hmm, weather."
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"tz": "CET"}),
    ]


# -- requests --------------------------------------------------------------------------------


def ok(chat_kind: bool = True) -> Reply:
    done = dict(DONE)
    if chat_kind:
        del done["response"]
        done["message"] = {"role": "assistant", "content": ""}
    return Reply.ndjson(lines(chat("ok") if chat_kind else gen("ok"), done))


async def test_chat_request_maps_options_and_system(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(ok()) as server:
        model = make(
            server,
            client,
            params={
                "temperature": 0.2,
                "max_tokens": 99,
                "top_p": 0.8,
                "stop": ["###"],
                "seed": 42,
                "system": "Be brief.",
            },
            options={"num_ctx": 8192},
            keep_alive="10m",
            think=False,
        )
        await model.ainvoke([("user", "hi"), ("assistant", "yo"), ("user", "again")])
    request = server.requests[0]
    assert request.method == "POST" and request.path == "/api/chat"
    assert "authorization" not in request.headers
    assert request.json() == {
        "model": "llama3.2",
        "stream": True,
        "keep_alive": "10m",
        "think": False,
        "options": {
            "num_ctx": 8192,
            "temperature": 0.2,
            "num_predict": 99,
            "top_p": 0.8,
            "seed": 42,
            "stop": ["###"],
        },
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "yo"},
            {"role": "user", "content": "again"},
        ],
    }


async def test_generate_request_has_prompt_system_and_call_stop(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(ok(chat_kind=False)) as server:
        model = make(server, client, "ollama-generate", params={"system": "Poet."})
        assert await model.ainvoke("Write", stop=["\n"], format="json") == "ok"
    assert server.requests[0].path == "/api/generate"
    assert server.requests[0].json() == {
        "model": "llama3.2",
        "stream": True,
        "prompt": "Write",
        "system": "Poet.",
        "options": {"stop": ["\n"]},
        "format": "json",
    }


async def test_stream_false_posts_once_and_parses_the_object(client: httpx.AsyncClient) -> None:
    answer = {**DONE, "response": "Whole answer."}
    async with LoopbackServer(Reply.json(answer)) as server:
        model = make(server, client, "ollama-generate", stream=False)
        chunks = [c async for c in model.astream("hi")]
        results = await model.abatch(["a", "b"])
    assert chunks == ["Whole answer."]
    assert results == ["Whole answer."] * 2
    assert server.requests[0].json()["stream"] is False


async def test_api_key_env_is_sent_as_bearer_when_configured(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_OLLAMA_PROXY_KEY", "canary-ollama-5e1")
    reply = Reply.json({"error": "bad key canary-ollama-5e1"}, status=401)
    async with LoopbackServer(reply) as server:
        model = make(server, client, api_key_env="MY_OLLAMA_PROXY_KEY")
        with pytest.raises(HTTPStatusError) as info:
            await model.ainvoke("hi")
    assert server.requests[0].headers["authorization"] == "Bearer canary-ollama-5e1"
    assert "canary-ollama-5e1" not in str(info.value) + repr(model) + repr(model.spec)


# -- the server address ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ("", DEFAULT_BASE_URL),
        ("example.com", "http://example.com:11434"),
        ("example.com:8080", "http://example.com:8080"),
        (":9999", "http://127.0.0.1:9999"),
        ("https://ollama.example.com", "https://ollama.example.com:443"),
        ("http://10.0.0.5:11434/", "http://10.0.0.5:11434"),
        ("[::1]:7000", "http://[::1]:7000"),
        ("proxy.local:80/ollama", "http://proxy.local:80/ollama"),
    ],
)
def test_ollama_host_forms(env: str, url: str) -> None:
    assert resolve_base_url(None, {"OLLAMA_HOST": env}) == url


def test_base_url_beats_ollama_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "elsewhere:1")
    assert make(None, None, base_url="http://127.0.0.1:5/").base_url == "http://127.0.0.1:5"
    assert make(None, None).base_url == "http://elsewhere:1"


async def test_ollama_host_without_scheme_reaches_the_server(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with LoopbackServer(ok()) as server:
        monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{server.port}")
        model = make(None, client)
        assert isinstance(model, OllamaChatModel)
        message = await model.ainvoke("hi")
        assert isinstance(message, AIMessage)  # the type admits a text LLM's str too
        assert message.content == "ok"
    assert server.requests[0].path == "/api/chat"


# -- model listing ---------------------------------------------------------------------------


async def test_model_listing_reads_api_tags(client: httpx.AsyncClient) -> None:
    tags = {
        "models": [
            {
                "name": "llama3.2:latest",
                "model": "llama3.2:latest",
                "size": 2019393189,
                "details": {"family": "llama", "parameter_size": "3.2B"},
            },
            {"name": "gemma4:2b", "model": "gemma4:2b", "size": 1},
        ]
    }
    async with LoopbackServer() as server:
        server.routes["/api/tags"] = Reply.json(tags)
        model = make(server, client, "ollama-generate")
        assert isinstance(model, OllamaGenerateModel)
        assert await model.list_models() == ["gemma4:2b", "llama3.2:latest"]
        server.routes["/api/tags"] = Reply.json({"unexpected": []})
        with pytest.raises(StreamProtocolError):
            await model.list_models()
    assert server.requests[0].method == "GET"


async def test_closing_the_stream_closes_the_connection(client: httpx.AsyncClient) -> None:
    body = lines(*[gen(f"w{i} ") for i in range(50)], DONE)
    async with LoopbackServer(Reply.ndjson(body, stall_after=len(body) // 3)) as server:
        async with aclosing(make(server, client, "ollama-generate").astream("hi")) as stream:
            async for _ in stream:
                break
        await asyncio.wait_for(server.requests[0].disconnected.wait(), 5)
    assert server.requests[0].bytes_sent < len(body)
