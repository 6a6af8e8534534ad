"""``openai-chat`` and ``openai-completions``: the recorded streams give what the official
``openai`` SDK gives (text, refusal, stop reason, usage, tool calls) in every read pattern;
the pure parsers on hand-made chunks; requests, ``stream = false`` and the CLI."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from llmstream_tui.cli import main
from llmstream_tui.core.accumulate import sum_chunks
from llmstream_tui.core.messages import AIMessageChunk, HumanMessage, SystemMessage
from llmstream_tui.core.parts import META, REASONING, REFUSAL, TEXT, TOOL_CALL, StreamPart
from llmstream_tui.core.runnable import RunContext, StreamOutput
from llmstream_tui.errors import StreamProtocolError, StreamTruncated, UpstreamError
from llmstream_tui.providers.openai import (
    OpenAIChatModel,
    OpenAIChatParser,
    OpenAICompletionsModel,
    OpenAICompletionsParser,
)
from llmstream_tui.providers.registry import build_llm
from llmstream_tui.wire.sse import SSEEvent, iter_sse
from tests.support.loopback import LoopbackServer, Reply
from tests.support.narrowing import chat_message, llm_generation, stream_chunks, stream_texts
from tests.support.paths import WIRE as FIXTURE_WIRE

WIRE = FIXTURE_WIRE
CHAT_FILES = sorted((WIRE / "openai-chat").glob("*.sse"))
COMPLETIONS_FILES = sorted((WIRE / "openai-completions").glob("*.sse"))
PATTERNS = ["whole", "bytes", "random"]


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def chat(server: LoopbackServer, client: httpx.AsyncClient, **table: Any) -> OpenAIChatModel:
    spec = {"kind": "openai-chat", "model": "gpt-4o", "base_url": server.url + "/v1", **table}
    model = build_llm(spec, name="gpt", client=client)
    assert isinstance(model, OpenAIChatModel)
    return model


def completions(
    server: LoopbackServer, client: httpx.AsyncClient, **table: Any
) -> OpenAICompletionsModel:
    spec = {
        "kind": "openai-completions",
        "model": "gpt-3.5-turbo-instruct",
        "base_url": server.url + "/v1",
        **table,
    }
    model = build_llm(spec, name="instruct", client=client)
    assert isinstance(model, OpenAICompletionsModel)
    return model


async def collect(model: OpenAIChatModel, prompt: Any = "hi", **kw: Any) -> AIMessageChunk:
    chunks = await stream_chunks(model, prompt, **kw)
    assert chunks[-1].chunk_position == "last"
    total = sum_chunks(chunks)
    assert total is not None
    return total


# -- what the official SDK makes of the same bytes -------------------------------------------


async def sdk_chat(server: LoopbackServer) -> dict[str, Any]:
    """Choice 0 of the SDK's chunks, accumulated: text, refusal, stop, usage, tool calls."""
    sdk = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="test", max_retries=0)
    text, refusal, finish, usage, ids = [], [], None, None, set()
    tools: dict[int, dict[str, Any]] = {}
    try:
        stream = await sdk.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        async for chunk in stream:
            ids.add(chunk.id)
            if chunk.usage is not None:
                usage = chunk.usage
            for choice in chunk.choices:
                if choice.index != 0:
                    continue
                delta = choice.delta
                text.append(delta.content or "")
                refusal.append(delta.refusal or "")
                finish = choice.finish_reason or finish
                for call in delta.tool_calls or []:
                    slot = tools.setdefault(call.index, {"id": None, "name": None, "args": ""})
                    slot["id"] = slot["id"] or call.id
                    if call.function is not None:
                        slot["name"] = slot["name"] or call.function.name
                        slot["args"] += call.function.arguments or ""
    finally:
        await sdk.close()
    assert usage is not None and len(ids) == 1
    return {
        "text": "".join(text),
        "refusal": "".join(refusal),
        "finish": finish,
        "usage": usage,
        "tools": [tools[i] for i in sorted(tools)],
        "id": ids.pop(),
    }


def expected_usage(usage: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "input_tokens": usage.prompt_tokens,
        "output_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    details = usage.completion_tokens_details
    if details is not None and details.reasoning_tokens is not None:
        out["output_token_details"] = {"reasoning": details.reasoning_tokens}
    return out


_SDK_CACHE: dict[Path, dict[str, Any]] = {}


async def sdk_chat_for(path: Path) -> dict[str, Any]:
    """The SDK's result for a file. Its result cannot depend on how reads are split (that is
    what is tested of ours), so it is computed once per file, from the whole bytes."""
    if path not in _SDK_CACHE:
        async with LoopbackServer(Reply.sse_file(path)) as server:
            _SDK_CACHE[path] = await sdk_chat(server)
    return _SDK_CACHE[path]


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("path", CHAT_FILES, ids=lambda p: p.stem)
async def test_recorded_chat_stream_matches_the_official_sdk(
    path: Path, pattern: str, client: httpx.AsyncClient
) -> None:
    expected = await sdk_chat_for(path)
    reply = Reply.sse_file(path, pattern=pattern, seed=len(path.name), max_piece=48)
    async with LoopbackServer(reply) as server:
        ours = await collect(chat(server, client))
        if pattern == "bytes":
            assert server.requests[0].bytes_sent == path.stat().st_size
    # a refusal is not content (as the SDK keeps it apart): it is in additional_kwargs only
    assert ours.content == expected["text"]
    assert ours.additional_kwargs.get("refusal", "") == expected["refusal"]
    assert ours.response_metadata["finish_reason"] == expected["finish"]
    assert ours.usage_metadata == expected_usage(expected["usage"])
    assert ours.id == expected["id"]
    calls = [{"id": c["id"], "name": c["name"], "args": c["args"]} for c in ours.tool_call_chunks]
    assert calls == expected["tools"]
    message = ours.to_message()
    assert [c["args"] for c in message.tool_calls] == [
        json.loads(t["args"]) for t in expected["tools"]
    ]


async def test_sdk_reads_one_byte_at_a_time_the_same(client: httpx.AsyncClient) -> None:
    """The cached SDK reference really is independent of the read pattern."""
    path = WIRE / "openai-chat" / "tool-calls-parallel.sse"
    async with LoopbackServer(Reply.sse_file(path, pattern="bytes")) as server:
        split = await sdk_chat(server)
    assert split == await sdk_chat_for(path)


def test_recordings_cover_refusals_tool_calls_and_length() -> None:
    names = {p.stem for p in CHAT_FILES}
    assert {"refusal", "tool-calls-parallel", "content-length-limit"} <= names


async def sdk_completion(server: LoopbackServer) -> dict[str, Any]:
    sdk = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="test", max_retries=0)
    text, finish, usage = [], None, None
    try:
        stream = await sdk.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="hi", stream=True
        )
        async for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage
            for choice in chunk.choices:
                text.append(choice.text)
                finish = choice.finish_reason or finish
    finally:
        await sdk.close()
    assert usage is not None
    return {
        "text": "".join(text),
        "finish": finish,
        "usage": {
            "input_tokens": usage.prompt_tokens,
            "output_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        },
    }


async def parts_of(model: Any, prompt: str = "hi") -> list[StreamPart]:
    request = model._request(prompt, None, {})
    return [p async for p in model._astream(request, RunContext(uuid.uuid4(), None))]


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("path", COMPLETIONS_FILES, ids=lambda p: p.stem)
async def test_recorded_completions_stream_matches_the_official_sdk(
    path: Path, pattern: str, client: httpx.AsyncClient
) -> None:
    async with LoopbackServer(Reply.sse_file(path, pattern=pattern, max_piece=30)) as server:
        expected = await sdk_completion(server)
        model = completions(server, client)
        pieces = await stream_texts(model)
        end = [e async for e in model.astream_events("hi")][-1]
        parts = await parts_of(model)
    assert all(isinstance(p, str) for p in pieces)
    assert "".join(pieces) == expected["text"]
    info = llm_generation(end["data"]["output"])["generation_info"]
    assert info["finish_reason"] == expected["finish"]
    usage = [p.usage for p in parts if p.usage is not None]
    assert usage == [expected["usage"]]


# -- the pure parsers ------------------------------------------------------------------------


def event(obj: Any) -> SSEEvent:
    """One unnamed event carrying ``obj`` as JSON, as the decoder hands it to a parser."""
    return SSEEvent(data=json.dumps(obj))


def cc(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> SSEEvent:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return event({"id": "c1", "model": "m", "choices": choices, **extra})


def test_role_chunk_is_one_empty_part() -> None:
    parts = OpenAIChatParser().feed(cc({"role": "assistant", "content": "", "refusal": None}))
    assert [(p.text, p.channel) for p in parts] == [("", META)]


def test_content_refusal_and_reasoning_go_to_their_channels() -> None:
    parser = OpenAIChatParser()
    assert [(p.text, p.channel) for p in parser.feed(cc({"content": "Hi"}))] == [("Hi", TEXT)]
    assert [(p.text, p.channel) for p in parser.feed(cc({"refusal": "No"}))] == [("No", REFUSAL)]
    for key in ("reasoning_content", "reasoning"):
        parts = parser.feed(cc({key: "think", "content": None}))
        assert [(p.text, p.channel) for p in parts] == [("think", REASONING)]


def test_tool_call_deltas_are_shaped_like_langchains_tool_call_chunks() -> None:
    parser = OpenAIChatParser()
    first = parser.feed(
        cc(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get", "arguments": ""},
                    }
                ]
            }
        )
    )
    more = parser.feed(cc({"tool_calls": [{"index": 1, "function": {"arguments": '{"a"'}}]}))
    assert [p.channel for p in first + more] == [TOOL_CALL, TOOL_CALL]
    assert first[0].tool_call == {"name": "get", "args": "", "id": "call_1", "index": 1}
    assert more[0].tool_call == {"name": None, "args": '{"a"', "id": None, "index": 1}


def test_finish_reason_rides_on_the_last_text_part_or_its_own() -> None:
    parser = OpenAIChatParser()
    [part] = parser.feed(cc({"content": "end"}, "stop"))
    assert (part.text, part.finish_reason) == ("end", "stop")
    assert part.metadata == {"model_name": "m"}
    [part] = parser.feed(cc({}, "length"))
    assert (part.channel, part.finish_reason) == (META, "length")


def test_final_usage_chunk_becomes_input_and_output_tokens() -> None:
    usage = {
        "prompt_tokens": 5,
        "completion_tokens": 7,
        "total_tokens": 12,
        "prompt_tokens_details": {"cached_tokens": 2},
    }
    [part] = OpenAIChatParser().feed(cc(None, usage=usage))
    assert part.usage == {
        "input_tokens": 5,
        "output_tokens": 7,
        "total_tokens": 12,
        "input_token_details": {"cache_read": 2},
    }


def test_cumulative_usage_on_every_chunk_is_turned_into_deltas() -> None:
    parser = OpenAIChatParser()
    totals = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    for n in (1, 2, 2, 5):
        usage = {"prompt_tokens": 3, "completion_tokens": n, "total_tokens": 3 + n}
        for part in parser.feed(cc({"content": "x"}, usage=usage)):
            for key, value in (part.usage or {}).items():
                totals[key] += value  # type: ignore[operator]
    assert totals == {"input_tokens": 3, "output_tokens": 5, "total_tokens": 8}


def test_only_choice_zero_is_the_answer() -> None:
    obj = {"id": "c", "choices": [{"index": 1, "delta": {"content": "other"}}]}
    assert [p.text for p in OpenAIChatParser().parse(obj)] == [""]


def test_done_error_and_bad_json() -> None:
    parser = OpenAIChatParser()
    assert parser.feed(SSEEvent(data="[DONE]")) == [] and parser.done
    with pytest.raises(UpstreamError, match="overloaded"):
        OpenAIChatParser().feed(SSEEvent(data='{"error": {"message": "overloaded"}}'))
    with pytest.raises(UpstreamError, match="boom"):
        OpenAIChatParser().feed(SSEEvent("error", '{"message": "boom"}'))
    with pytest.raises(StreamProtocolError, match="malformed JSON"):
        OpenAIChatParser().feed(SSEEvent(data='{"choices": ['))
    with pytest.raises(StreamProtocolError, match="unexpected event"):
        OpenAIChatParser().feed(SSEEvent(data="[1, 2]"))
    with pytest.raises(StreamTruncated):
        OpenAIChatParser().finish()


def _part_slots(parts: list[StreamPart]) -> list[dict[str, Any]]:
    return [{name: getattr(p, name) for name in StreamPart.__slots__} for p in parts]


@pytest.mark.parametrize("path", sorted((WIRE / "openai-chat").glob("*.sse")), ids=lambda p: p.name)
def test_feed_fast_path_equals_the_general_parse_on_every_recorded_chat_stream(
    path: Path,
) -> None:
    """``feed``'s inlined content-delta path (orjson itself, ``text_part``) gives exactly the
    parts ``parse`` gives the stdlib's decoding of the same event, slot by slot."""
    fast, general = OpenAIChatParser(), OpenAIChatParser()
    fed = 0
    for event in iter_sse([path.read_bytes()]):
        if event.data == "[DONE]":
            continue
        assert _part_slots(fast.feed(event)) == _part_slots(general.parse(json.loads(event.data)))
        fed += 1
    assert fed > 2


def test_what_orjson_refuses_the_stdlib_still_reads_on_the_fast_path() -> None:
    """A lone surrogate escape (a token that split an emoji) and NaN: orjson refuses them,
    the stdlib reads them, so the chunk is text, not a malformed event."""
    event = SSEEvent(data='{"id": "c", "choices": [{"index": 0, "delta": {"content": "\\ud83d"}}]}')
    assert [p.text for p in OpenAIChatParser().feed(event)] == ["\ud83d"]
    nan = SSEEvent(data='{"id": "c", "x": NaN, "choices": [{"delta": {"content": "a"}}]}')
    assert [p.text for p in OpenAIChatParser().feed(nan)] == ["a"]


def _plain(value: Any) -> Any:
    return value.to_dict() if hasattr(value, "to_dict") else value


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "not-streamed"])
@pytest.mark.parametrize(
    "path", CHAT_FILES + COMPLETIONS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}"
)
async def test_astream_to_streams_the_chunks_and_end_output_of_astream_events(
    path: Path, stream: bool, client: httpx.AsyncClient
) -> None:
    """What ``stream`` prints from when it records nothing: every chunk of the v2 stream
    events, in order, and the end event's output, equal field by field."""
    reply = Reply.sse_file(path) if stream else Reply.json(_whole_answer(path))
    run_id = uuid.UUID(int=7)  # the default chunk ids name the run: the same in both
    async with LoopbackServer(reply) as server:
        make = chat if path.parent.name == "openai-chat" else completions
        model = make(server, client, stream=stream)
        assert model.streams_like_its_events()
        events = [ev async for ev in model.astream_events("hi", {"run_id": run_id})]
        streamed = [_plain(e["data"]["chunk"]) for e in events if e["event"].endswith("_stream")]
        result = StreamOutput()
        got = [_plain(c) async for c in model.astream_to("hi", result, {"run_id": run_id})]
    assert got == streamed and (got or not stream)
    assert _plain(result.output) == _plain(events[-1]["data"]["output"])


def _whole_answer(path: Path) -> dict[str, Any]:
    """A non-streamed answer of the recording's kind (its text in one piece)."""
    if path.parent.name == "openai-chat":
        message = {"role": "assistant", "content": "Hello there"}
        choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": "stop"}
    else:
        choice = {"index": 0, "text": "Hello there", "finish_reason": "stop"}
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    return {"id": "x-1", "model": "m", "choices": [choice], "usage": usage}


def test_completions_parser_reads_text_finish_and_usage() -> None:
    parser = OpenAICompletionsParser()
    [part] = parser.feed(
        event({"id": "x", "choices": [{"text": "Hi", "index": 0, "finish_reason": None}]})
    )
    assert (part.text, part.channel) == ("Hi", TEXT)
    [part] = parser.feed(
        event({"id": "x", "model": "i", "choices": [{"text": "", "finish_reason": "length"}]})
    )
    assert (part.channel, part.finish_reason) == (META, "length")
    [part] = parser.feed(
        event(
            {
                "id": "x",
                "choices": [],
                "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
            }
        )
    )
    assert part.usage == {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}


# -- requests --------------------------------------------------------------------------------

DONE_BODY = (
    b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"ok"},'
    b'"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
)


async def test_chat_request_carries_mapped_params_and_auth(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-1")
    params = {
        "temperature": 0.2,
        "max_tokens": 50,
        "top_p": 0.9,
        "stop": ["\n\n"],
        "seed": 7,
        "system": "Be brief.",
    }
    async with LoopbackServer(Reply.sse(DONE_BODY)) as server:
        model = chat(server, client, params=params, headers={"OpenAI-Organization": "org-1"})
        assert (await collect(model, "hi")).content == "ok"
        request = server.requests[0]
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == "Bearer sk-test-1"
    assert request.headers["openai-organization"] == "org-1"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "model": "gpt-4o",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        "temperature": 0.2,
        "max_completion_tokens": 50,
        "top_p": 0.9,
        "stop": ["\n\n"],
        "seed": 7,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


async def test_call_overrides_and_own_system_message_win(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(Reply.sse(DONE_BODY)) as server:
        model = chat(
            server, client, params={"temperature": 0.2, "system": "ignored"}, stream_usage=False
        )
        await collect(
            model, [SystemMessage("mine"), HumanMessage("q")], stop=["X"], temperature=1.0
        )
        body = server.requests[0].json()
    assert body["messages"] == [
        {"role": "system", "content": "mine"},
        {"role": "user", "content": "q"},
    ]
    assert body["temperature"] == 1.0 and body["stop"] == ["X"]
    assert "stream_options" not in body
    assert "authorization" not in server.requests[0].headers  # no key: a local server


async def test_completions_request_uses_prompt_and_max_tokens(client: httpx.AsyncClient) -> None:
    body = b'data: {"id":"c","choices":[{"text":"ok","finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
    async with LoopbackServer(Reply.sse(body)) as server:
        model = completions(server, client, params={"max_tokens": 16, "temperature": 0})
        assert await model.ainvoke("Say hi") == "ok"
        request = server.requests[0]
    assert request.path == "/v1/completions"
    assert request.json() == {
        "model": "gpt-3.5-turbo-instruct",
        "prompt": "Say hi",
        "max_tokens": 16,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


async def test_server_keeping_the_line_open_after_done_does_not_hang(
    client: httpx.AsyncClient,
) -> None:
    reply = Reply.sse(DONE_BODY + b": keep-alive\n\n", stall_after=len(DONE_BODY))
    async with LoopbackServer(reply) as server:
        model = chat(server, client, timeout=10)
        assert (await asyncio.wait_for(collect(model), 2)).content == "ok"


# -- stream = false --------------------------------------------------------------------------


async def test_chat_without_streaming_makes_one_json_request(client: httpx.AsyncClient) -> None:
    answer = {
        "id": "chatcmpl-9",
        "object": "chat.completion",
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": "Hello there",
                    "refusal": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                        }
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13},
    }
    async with LoopbackServer(Reply.json(answer)) as server:
        model = chat(server, client, stream=False)
        chunks = [c async for c in model.astream("hi")]
        message = chat_message(await model.ainvoke("hi"))
        body = server.requests[0].json()
    assert len(chunks) == 1  # the default single-chunk fallback
    assert body["stream"] is False and "stream_options" not in body
    assert message.content == "Hello there"
    assert message.id == "chatcmpl-9"
    assert message.response_metadata["finish_reason"] == "tool_calls"
    assert message.usage_metadata == {"input_tokens": 9, "output_tokens": 4, "total_tokens": 13}
    assert message.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
    ]


async def test_completions_without_streaming(client: httpx.AsyncClient) -> None:
    answer = {
        "id": "cmpl-1",
        "object": "text_completion",
        "choices": [{"text": "Hello", "index": 0, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    async with LoopbackServer(Reply.json(answer)) as server:
        model = completions(server, client, stream=False)
        assert await model.ainvoke("hi") == "Hello"
        assert server.requests[0].json()["stream"] is False


async def test_non_streaming_error_answer_is_upstream_error(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(Reply.json({"error": {"message": "model overloaded"}})) as server:
        with pytest.raises(UpstreamError, match="gpt: .*model overloaded"):
            await chat(server, client, stream=False).ainvoke("hi")


def test_sync_invoke_uses_its_own_client() -> None:
    async def serve_and_call() -> tuple[str, bool]:
        async with LoopbackServer(Reply.sse(DONE_BODY)) as server:
            model = build_llm(f"openai-chat:gpt-4o@{server.url}/v1")
            message = await asyncio.to_thread(model.invoke, "hi")  # the sync bridge's loop
            return chat_message(message).content, server.requests[0].json()["stream"]

    assert asyncio.run(serve_and_call()) == ("ok", True)


# -- the CLI ---------------------------------------------------------------------------------


async def test_cli_streams_from_an_openai_compatible_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("")
    path = WIRE / "openai-chat" / "content-short.sse"
    async with LoopbackServer(Reply.sse_file(path, pattern="random")) as server:
        expected = await sdk_chat_for(path)
        ref = f"openai-chat:gpt-4o-mini@{server.url}/v1"
        code = await asyncio.to_thread(
            main, ["stream", "--config", str(config), "-p", ref, "--format", "jsonl", "hi"]
        )
        assert server.requests[-1].json()["model"] == "gpt-4o-mini"
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    end = lines[-1]
    assert end["type"] == "end"
    assert end["text"] == expected["text"]
    assert end["finish_reason"] == expected["finish"]
    assert end["usage"]["output_tokens"] == expected["usage"].completion_tokens
    assert "".join(line["text"] for line in lines[:-1]) == expected["text"]


async def test_cli_reports_a_provider_error_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("")
    reply = Reply.json({"error": {"message": "Invalid model"}}, status=404)
    async with LoopbackServer(reply) as server:
        ref = f"openai-chat:nope@{server.url}/v1"
        code = await asyncio.to_thread(main, ["stream", "--config", str(config), "-p", ref, "hi"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert "HTTP 404 Not Found: Invalid model" in err and "Traceback" not in err
