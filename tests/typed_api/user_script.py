"""A user's script, type-checked by tests/test_typing.py: each ``reveal_type`` line says, in
its ``# expect:`` comment, the type mypy must reveal (and the script, run, must produce)."""

from __future__ import annotations

import asyncio
from typing import reveal_type

from llmstream_tui import build_llm

chat = build_llm({"kind": "scripted", "chunks": ["a", "b"]}, flavor="chat")
text = build_llm({"kind": "scripted", "flavor": "llm", "chunks": ["a", "b"]}, flavor="llm")
either = build_llm("swift")

reveal_type(chat.invoke("hi"))  # expect: AIMessage
for chunk in chat.stream("hi"):
    reveal_type(chunk)  # expect: AIMessageChunk
reveal_type(chat.batch(["x", "y"]))  # expect: list[AIMessage]
reveal_type(chat.batch(["x"], return_exceptions=True))  # expect: list[AIMessage | Exception]
reveal_type(text.invoke("hi"))  # expect: str
for piece in text.stream("hi"):
    reveal_type(piece)  # expect: str
reveal_type(text.batch(["x", "y"]))  # expect: list[str]
reveal_type(either.invoke("hi"))  # expect: AIMessage | str


async def main() -> None:
    reveal_type(await chat.ainvoke("hi"))  # expect: AIMessage
    reveal_type(await text.abatch(["x"]))  # expect: list[str]
    async for chunk in chat.astream("hi"):
        reveal_type(chunk)  # expect: AIMessageChunk
    async for event in chat.astream_events("hi", version="v2"):
        reveal_type(event["run_id"])  # expect: str
        if event["event"] == "on_chat_model_stream":
            reveal_type(event["data"]["chunk"])  # expect: AIMessageChunk
    async for text_event in text.astream_events("hi", version="v2"):
        if text_event["event"] == "on_llm_stream":
            reveal_type(text_event["data"]["chunk"])  # expect: str
    await chat.aclose()


asyncio.run(main())
