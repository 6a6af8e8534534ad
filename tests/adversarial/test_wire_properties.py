"""Property: any chunk texts, encoded in a provider's wire format with random framing and
split at random read boundaries, come out of our backend exactly, in order.

Texts cover any Unicode (CR, LF, U+2028, emoji, NUL, lone surrogates, which providers send
JSON-escaped), framing covers LF / CR / CRLF line ends, comments, pings, extra blank lines and
usage chunks, and reads split anywhere, including inside multi-byte characters. Each provider
runs its real adapter over ``httpx.MockTransport`` with a byte stream cut where hypothesis
says.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmstream_tui import build_llm

EXAMPLES = settings(max_examples=500, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

texts = st.lists(
    st.text(st.characters(codec=None, exclude_categories=()), min_size=1, max_size=12)
    | st.sampled_from(["\r", "\n", "\r\n", "\u2028", "\x00", "🧪", "\ud800", "a\udfffb", " "]),
    min_size=1, max_size=12,
)


def dumps(obj: Any, ascii_only: bool) -> str:
    """JSON as a provider would send it; lone surrogates can only travel escaped."""
    try:
        text = json.dumps(obj, ensure_ascii=ascii_only)
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return json.dumps(obj, ensure_ascii=True)


@st.composite
def framing(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "eol": draw(st.lists(st.sampled_from(["\n", "\r", "\r\n"]), min_size=1, max_size=4)),
        "comments": draw(st.booleans()),
        "blank_lines": draw(st.booleans()),
        "ascii": draw(st.booleans()),
        "cuts": draw(st.lists(st.integers(0, 10_000), max_size=30)),
    }


def sse(events: list[tuple[str | None, str]], frame: dict[str, Any], draw_i: list[int]) -> bytes:
    eols = frame["eol"]
    out: list[str] = []

    last = [""]

    def eol() -> str:
        # A CR followed by an LF would read as one CRLF break: mixing must not merge lines.
        draw_i[0] += 1
        chosen = eols[draw_i[0] % len(eols)]
        if last[0] == "\r" and chosen == "\n":
            chosen = "\r\n"
        last[0] = chosen
        return chosen

    for i, (name, data) in enumerate(events):
        if frame["comments"] and i % 2 == 0:
            out.append(": keep-alive" + eol())
        if name is not None:
            out.append(f"event: {name}" + eol())
        out.append(f"data: {data}" + eol())
        out.append(eol())
        if frame["blank_lines"] and i % 3 == 1:
            out.append(eol())
    return "".join(out).encode("utf-8")


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False) if b > a]


class Pieces(httpx.AsyncByteStream):
    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece


async def stream_texts(table: dict[str, Any], body: bytes, cuts: list[int], ctype: str) -> list[str]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": ctype},
                              stream=Pieces(split(body, cuts)))

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    llm = build_llm({**table, "api_key_env": "PROPERTY_TEST_KEY", "max_retries": 0},
                    name="p", client=client)
    out: list[str] = []
    try:
        async for chunk in llm.astream("hi"):
            text = chunk if isinstance(chunk, str) else chunk.content
            if text:
                out.append(text)
    finally:
        await client.aclose()
    return out


def openai_chat(chunks: list[str], frame: dict[str, Any]) -> bytes:
    a = frame["ascii"]
    events: list[tuple[str | None, str]] = [(None, dumps({
        "id": "c1", "object": "chat.completion.chunk", "model": "m",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                     "finish_reason": None}]}, a))]
    for t in chunks:
        events.append((None, dumps({"id": "c1", "object": "chat.completion.chunk", "model": "m",
                                    "choices": [{"index": 0, "delta": {"content": t},
                                                 "finish_reason": None}]}, a)))
    events.append((None, dumps({"id": "c1", "object": "chat.completion.chunk", "model": "m",
                                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                               a)))
    events.append((None, dumps({"id": "c1", "object": "chat.completion.chunk", "model": "m",
                                "choices": [], "usage": {"prompt_tokens": 3,
                                                         "completion_tokens": len(chunks),
                                                         "total_tokens": 3 + len(chunks)}}, a)))
    events.append((None, "[DONE]"))
    return sse(events, frame, [0])


def openai_completions(chunks: list[str], frame: dict[str, Any]) -> bytes:
    a = frame["ascii"]
    events: list[tuple[str | None, str]] = []
    for t in chunks:
        events.append((None, dumps({"id": "x", "object": "text_completion", "model": "m",
                                    "choices": [{"text": t, "index": 0, "logprobs": None,
                                                 "finish_reason": None}]}, a)))
    events.append((None, dumps({"id": "x", "object": "text_completion", "model": "m",
                                "choices": [{"text": "", "index": 0, "logprobs": None,
                                             "finish_reason": "stop"}]}, a)))
    events.append((None, "[DONE]"))
    return sse(events, frame, [0])


def openai_responses(chunks: list[str], frame: dict[str, Any]) -> bytes:
    a = frame["ascii"]
    resp = {"id": "r1", "object": "response", "status": "in_progress", "model": "m", "output": []}
    events: list[tuple[str | None, str]] = [
        ("response.created", dumps({"type": "response.created", "sequence_number": 0,
                                    "response": resp}, a))]
    for i, t in enumerate(chunks):
        events.append(("response.output_text.delta", dumps({
            "type": "response.output_text.delta", "sequence_number": i + 1, "item_id": "m1",
            "output_index": 0, "content_index": 0, "delta": t}, a)))
    done = {**resp, "status": "completed",
            "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}}
    events.append(("response.completed", dumps({"type": "response.completed",
                                                "sequence_number": len(chunks) + 1,
                                                "response": done}, a)))
    return sse(events, frame, [0])


def anthropic(chunks: list[str], frame: dict[str, Any]) -> bytes:
    a = frame["ascii"]
    events: list[tuple[str | None, str]] = [
        ("message_start", dumps({"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [],
            "stop_reason": None, "usage": {"input_tokens": 5, "output_tokens": 1}}}, a)),
        ("content_block_start", dumps({"type": "content_block_start", "index": 0,
                                       "content_block": {"type": "text", "text": ""}}, a)),
        ("ping", dumps({"type": "ping"}, a)),
    ]
    for t in chunks:
        events.append(("content_block_delta", dumps({
            "type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": t}}, a)))
    events += [
        ("content_block_stop", dumps({"type": "content_block_stop", "index": 0}, a)),
        ("message_delta", dumps({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                                 "usage": {"output_tokens": 7}}, a)),
        ("message_stop", dumps({"type": "message_stop"}, a)),
    ]
    return sse(events, frame, [0])


def gemini(chunks: list[str], frame: dict[str, Any]) -> bytes:
    a = frame["ascii"]
    events: list[tuple[str | None, str]] = []
    for i, t in enumerate(chunks):
        cand: dict[str, Any] = {"content": {"parts": [{"text": t}], "role": "model"}}
        if i == len(chunks) - 1:
            cand["finishReason"] = "STOP"
        events.append((None, dumps({"candidates": [cand], "usageMetadata": {
            "promptTokenCount": 4, "candidatesTokenCount": i + 1, "totalTokenCount": 5 + i}}, a)))
    return sse(events, frame, [0])


def ollama(chunks: list[str], frame: dict[str, Any], chat: bool) -> bytes:
    a = frame["ascii"]
    lines = []
    for t in chunks:
        obj: dict[str, Any] = {"model": "m", "created_at": "2026-01-01T00:00:00Z", "done": False}
        if chat:
            obj["message"] = {"role": "assistant", "content": t}
        else:
            obj["response"] = t
        lines.append(dumps(obj, a))
    final: dict[str, Any] = {"model": "m", "done": True, "done_reason": "stop",
                             "prompt_eval_count": 3, "eval_count": len(chunks)}
    if chat:
        final["message"] = {"role": "assistant", "content": ""}
    else:
        final["response"] = ""
    lines.append(dumps(final, a))
    eol = "\r\n" if "\r\n" in frame["eol"] else "\n"
    return eol.join(lines).encode("utf-8") + (eol.encode() if frame["blank_lines"] else b"")


SSE = "text/event-stream"


@EXAMPLES
@given(chunks=texts, frame=framing())
async def test_openai_chat_yields_exactly_the_chunks(chunks: list[str], frame: dict[str, Any]) -> None:
    got = await stream_texts({"kind": "openai-chat", "model": "m", "base_url": "http://t/v1"},
                             openai_chat(chunks, frame), frame["cuts"], SSE)
    assert got == chunks


@EXAMPLES
@given(chunks=texts, frame=framing())
async def test_openai_completions_yields_exactly_the_chunks(chunks: list[str],
                                                            frame: dict[str, Any]) -> None:
    got = await stream_texts({"kind": "openai-completions", "model": "m",
                              "base_url": "http://t/v1"},
                             openai_completions(chunks, frame), frame["cuts"], SSE)
    assert got == chunks


@EXAMPLES
@given(chunks=texts, frame=framing())
async def test_openai_responses_yields_exactly_the_chunks(chunks: list[str],
                                                          frame: dict[str, Any]) -> None:
    got = await stream_texts({"kind": "openai-responses", "model": "m", "base_url": "http://t/v1"},
                             openai_responses(chunks, frame), frame["cuts"], SSE)
    assert got == chunks


@EXAMPLES
@given(chunks=texts, frame=framing())
async def test_anthropic_yields_exactly_the_chunks(chunks: list[str], frame: dict[str, Any]) -> None:
    got = await stream_texts({"kind": "anthropic", "model": "m", "base_url": "http://t"},
                             anthropic(chunks, frame), frame["cuts"], SSE)
    assert got == chunks


@EXAMPLES
@given(chunks=texts, frame=framing())
async def test_gemini_yields_exactly_the_chunks(chunks: list[str], frame: dict[str, Any]) -> None:
    got = await stream_texts({"kind": "gemini", "model": "m", "base_url": "http://t/v1beta"},
                             gemini(chunks, frame), frame["cuts"], SSE)
    assert got == chunks


@EXAMPLES
@given(chunks=texts, frame=framing(), chat=st.booleans())
async def test_ollama_yields_exactly_the_chunks(chunks: list[str], frame: dict[str, Any],
                                                chat: bool) -> None:
    kind = "ollama-chat" if chat else "ollama-generate"
    got = await stream_texts({"kind": kind, "model": "m", "base_url": "http://t"},
                             ollama(chunks, frame, chat), frame["cuts"], "application/x-ndjson")
    assert got == chunks
