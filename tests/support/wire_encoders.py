"""Encode chunk texts in each provider's wire format, as the provider would send them.

Shared by the property tests and the fault matrix: ``FORMATS[kind](chunks, frame)`` gives the
response body for that kind, with framing options (``eol`` list, ``comments``,
``blank_lines``, ``ascii``) from ``frame``; ``CONTENT_TYPES[kind]`` its content type.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def dumps(obj: Any, ascii_only: bool) -> str:
    """JSON as a provider would send it; lone surrogates can only travel escaped."""
    try:
        text = json.dumps(obj, ensure_ascii=ascii_only)
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return json.dumps(obj, ensure_ascii=True)


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


def openai_chat(chunks: list[str], frame: dict[str, Any]) -> bytes:
    a = frame["ascii"]
    events: list[tuple[str | None, str]] = [
        (
            None,
            dumps(
                {
                    "id": "c1",
                    "object": "chat.completion.chunk",
                    "model": "m",
                    "choices": [
                        {
                            "index": 0,
                            "delta": {"role": "assistant", "content": ""},
                            "finish_reason": None,
                        }
                    ],
                },
                a,
            ),
        )
    ]
    for t in chunks:
        events.append(
            (
                None,
                dumps(
                    {
                        "id": "c1",
                        "object": "chat.completion.chunk",
                        "model": "m",
                        "choices": [{"index": 0, "delta": {"content": t}, "finish_reason": None}],
                    },
                    a,
                ),
            )
        )
    events.append(
        (
            None,
            dumps(
                {
                    "id": "c1",
                    "object": "chat.completion.chunk",
                    "model": "m",
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                },
                a,
            ),
        )
    )
    events.append(
        (
            None,
            dumps(
                {
                    "id": "c1",
                    "object": "chat.completion.chunk",
                    "model": "m",
                    "choices": [],
                    "usage": {
                        "prompt_tokens": 3,
                        "completion_tokens": len(chunks),
                        "total_tokens": 3 + len(chunks),
                    },
                },
                a,
            ),
        )
    )
    events.append((None, "[DONE]"))
    return sse(events, frame, [0])


def openai_completions(chunks: list[str], frame: dict[str, Any]) -> bytes:
    a = frame["ascii"]

    def completion(text: str, finish: str | None) -> tuple[str | None, str]:
        choice = {"text": text, "index": 0, "logprobs": None, "finish_reason": finish}
        return (
            None,
            dumps({"id": "x", "object": "text_completion", "model": "m", "choices": [choice]}, a),
        )

    events = [completion(t, None) for t in chunks]
    events.append(completion("", "stop"))
    events.append((None, "[DONE]"))
    return sse(events, frame, [0])


def openai_responses(chunks: list[str], frame: dict[str, Any]) -> bytes:
    a = frame["ascii"]
    resp = {"id": "r1", "object": "response", "status": "in_progress", "model": "m", "output": []}
    events: list[tuple[str | None, str]] = [
        (
            "response.created",
            dumps({"type": "response.created", "sequence_number": 0, "response": resp}, a),
        )
    ]
    for i, t in enumerate(chunks):
        events.append(
            (
                "response.output_text.delta",
                dumps(
                    {
                        "type": "response.output_text.delta",
                        "sequence_number": i + 1,
                        "item_id": "m1",
                        "output_index": 0,
                        "content_index": 0,
                        "delta": t,
                    },
                    a,
                ),
            )
        )
    done = {
        **resp,
        "status": "completed",
        "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
    }
    events.append(
        (
            "response.completed",
            dumps(
                {
                    "type": "response.completed",
                    "sequence_number": len(chunks) + 1,
                    "response": done,
                },
                a,
            ),
        )
    )
    return sse(events, frame, [0])


def anthropic(chunks: list[str], frame: dict[str, Any]) -> bytes:
    a = frame["ascii"]
    events: list[tuple[str | None, str]] = [
        (
            "message_start",
            dumps(
                {
                    "type": "message_start",
                    "message": {
                        "id": "msg_1",
                        "type": "message",
                        "role": "assistant",
                        "model": "m",
                        "content": [],
                        "stop_reason": None,
                        "usage": {"input_tokens": 5, "output_tokens": 1},
                    },
                },
                a,
            ),
        ),
        (
            "content_block_start",
            dumps(
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
                a,
            ),
        ),
        ("ping", dumps({"type": "ping"}, a)),
    ]
    for t in chunks:
        events.append(
            (
                "content_block_delta",
                dumps(
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": t},
                    },
                    a,
                ),
            )
        )
    events += [
        ("content_block_stop", dumps({"type": "content_block_stop", "index": 0}, a)),
        (
            "message_delta",
            dumps(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn"},
                    "usage": {"output_tokens": 7},
                },
                a,
            ),
        ),
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
        events.append(
            (
                None,
                dumps(
                    {
                        "candidates": [cand],
                        "usageMetadata": {
                            "promptTokenCount": 4,
                            "candidatesTokenCount": i + 1,
                            "totalTokenCount": 5 + i,
                        },
                    },
                    a,
                ),
            )
        )
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
    final: dict[str, Any] = {
        "model": "m",
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": 3,
        "eval_count": len(chunks),
    }
    if chat:
        final["message"] = {"role": "assistant", "content": ""}
    else:
        final["response"] = ""
    lines.append(dumps(final, a))
    eol = "\r\n" if "\r\n" in frame["eol"] else "\n"
    return eol.join(lines).encode("utf-8") + (eol.encode() if frame["blank_lines"] else b"")


SSE = "text/event-stream"


PLAIN_FRAME: dict[str, Any] = {
    "eol": ["\n"],
    "comments": False,
    "blank_lines": False,
    "ascii": False,
}

FORMATS: dict[str, Callable[[list[str], dict[str, Any]], bytes]] = {
    "openai-chat": openai_chat,
    "openai-completions": openai_completions,
    "openai-responses": openai_responses,
    "anthropic": anthropic,
    "gemini": gemini,
    "ollama-chat": lambda chunks, frame: ollama(chunks, frame, True),
    "ollama-generate": lambda chunks, frame: ollama(chunks, frame, False),
}

CONTENT_TYPES = {
    kind: ("application/x-ndjson" if kind.startswith("ollama") else SSE) for kind in FORMATS
}


#: A provider table per kind pointing at ``base`` (the server's URL).
def table(kind: str, base: str) -> dict[str, Any]:
    suffix = {
        "openai-chat": "/v1",
        "openai-completions": "/v1",
        "openai-responses": "/v1",
        "gemini": "/v1beta",
    }.get(kind, "")
    return {"kind": kind, "model": "m", "base_url": base + suffix}
