"""``scripted``: a configured list of chunks with configured timing.

The workhorse of tests, benchmarks and demos: exactly the chunks you list, ``repeat`` times,
after ``ttft_ms``, ``delay_ms`` apart, failing after ``fail_at`` chunks if asked. With zero
delays it yields without sleeping, so it measures our own overhead and nothing else.

A chunk is a string (answer text) or a table for the other channels, so every channel can be
shown and tested offline::

    chunks = [
      {channel = "reasoning", text = "The user wants "},
      {channel = "tool_call", name = "get_weather", id = "call_1", args = '{"city": '},
      {channel = "tool_call", args = '"Paris"}'},      # same index (0): more arguments
      {channel = "refusal", text = "I can't help with that."},
      "Sunny.",
    ]
    usage = {input_tokens = 9, output_tokens = 20, total_tokens = 29,
             output_token_details = {reasoning = 12}}

A tool-call table's ``index`` (default 0) says which call its pieces belong to: a parallel
call is another index. ``usage`` (optional) comes last, on a chunk of its own.

``scripted:channels`` (model ``channels``, no ``chunks`` given) is a ready-made demo of every
channel: reasoning, a tool call, the answer and usage with reasoning tokens
(``CHANNELS_DEMO``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from ..core.backend import ModelRequest, RunContext
from ..core.messages import UsageMetadata
from ..core.parts import META, REASONING, REFUSAL, TEXT, TOOL_CALL, StreamPart
from ..core.runnable import LanguageModel
from ..errors import ScriptedFailure
from .spec import ProviderSpec

#: The origin example's chunks (LangChain's "How to stream responses from an LLM").
DEFAULT_CHUNKS = [
    "Spark",
    "ling",
    " water",
    ",",
    " oh",
    " so clear",
    "\n",
    "Bubbles",
    " dancing",
    ",",
    " without",
    " fear",
    "\n",
    "Ref",
    "resh",
    "ing",
    " taste",
    ",",
    " a",
    " pure",
    " delight",
    "\n",
    "Spark",
    "ling",
    " water",
    ",",
    " my",
    " thirst",
    "'s",
    " delight",
    "!",
]


CHANNELS_DEMO_USAGE: dict[str, Any] = {
    "input_tokens": 12,
    "output_tokens": 30,
    "total_tokens": 42,
    "output_token_details": {"reasoning": 18},
}

_CHANNELS = {"text": TEXT, "reasoning": REASONING, "refusal": REFUSAL, "tool_call": TOOL_CALL}


class ScriptedChunk(BaseModel):
    """A chunk on a channel of its own (a plain string is answer text)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Literal["text", "reasoning", "refusal", "tool_call"] = "text"
    #: The delta (for a tool call, leave it empty: the arguments go in ``args``).
    text: str = ""
    #: Tool call: the function's name and the call's id (on its first piece), the piece of
    #: the JSON arguments this chunk carries, and which call it belongs to.
    name: str | None = None
    id: str | None = None
    args: str = ""
    index: int = Field(default=0, ge=0)

    def part(self, finish_reason: str | None) -> StreamPart:
        """A fresh part for this chunk (consumers may keep what they are given)."""
        if self.channel != "tool_call":
            return StreamPart(self.text, _CHANNELS[self.channel], finish_reason=finish_reason)
        call = {
            "name": self.name,
            "args": self.args,
            "id": self.id,
            "index": self.index,
            "type": "tool_call_chunk",
        }
        return StreamPart("", TOOL_CALL, tool_call=call, finish_reason=finish_reason)


#: ``scripted:channels``: a model that thinks, calls a tool, then answers.
CHANNELS_DEMO: list[str | ScriptedChunk] = [
    ScriptedChunk(channel="reasoning", text="The user"),
    ScriptedChunk(channel="reasoning", text=" asks about"),
    ScriptedChunk(channel="reasoning", text=" the weather."),
    ScriptedChunk(channel="tool_call", name="get_weather", id="call_1", args='{"city":'),
    ScriptedChunk(channel="tool_call", args=' "Paris"}'),
    "Sunny",
    " in",
    " Paris.",
]


def _default_chunks() -> list[str | ScriptedChunk]:
    return [*DEFAULT_CHUNKS]


class ScriptedSpec(ProviderSpec):
    kind: Literal["scripted"] = "scripted"
    chunks: list[str | ScriptedChunk] = Field(default_factory=_default_chunks)
    #: Usage reported at the end (a chunk of its own, as OpenAI sends it): LangChain's
    #: ``UsageMetadata`` keys, details included.
    usage: dict[str, int | dict[str, int]] | None = None
    repeat: int = Field(default=1, ge=1)
    ttft_ms: float = Field(default=0.0, ge=0)
    delay_ms: float = Field(default=0.0, ge=0)
    flavor: Literal["llm", "chat"] = "chat"
    fail_at: int | None = Field(default=None, ge=0)
    fail_with: str = "scripted failure"
    finish_reason: str | None = "stop"


class ScriptedModel(LanguageModel):
    ls_provider = "scripted"
    Spec = ScriptedSpec

    def __init__(self, spec: ScriptedSpec, *, name: str) -> None:
        super().__init__(
            name=name,
            model=spec.model or "scripted",
            flavor=spec.flavor,
            streaming=spec.stream,
            tags=spec.tags,
            params=spec.params.model_dump(),
        )
        if spec.model == "channels" and "chunks" not in spec.model_fields_set:
            update: dict[str, Any] = {"chunks": list(CHANNELS_DEMO)}
            if spec.usage is None:
                update["usage"] = CHANNELS_DEMO_USAGE
            spec = spec.model_copy(update=update)
        self.spec = spec

    @classmethod
    def from_spec(cls, name: str, spec: ScriptedSpec, client: Any = None) -> ScriptedModel:
        return cls(spec, name=name)

    async def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        spec = self.spec
        ttft, delay = spec.ttft_ms / 1000, spec.delay_ms / 1000
        fail_at = spec.fail_at
        if ttft:
            await asyncio.sleep(ttft)
        ctx.first_byte()
        n = 0
        total = len(spec.chunks) * spec.repeat
        for _ in range(spec.repeat):
            for text in spec.chunks:
                if fail_at is not None and n >= fail_at:
                    raise ScriptedFailure(spec.fail_with, provider=self.name)
                if delay and n:
                    await asyncio.sleep(delay)
                n += 1
                finish = spec.finish_reason if n == total else None
                if type(text) is not str:
                    yield cast(ScriptedChunk, text).part(finish)
                elif finish is not None:
                    yield StreamPart(text, finish_reason=finish)
                else:
                    yield StreamPart(text)
        if fail_at is not None and n >= fail_at:
            raise ScriptedFailure(spec.fail_with, provider=self.name)
        if total == 0 and spec.finish_reason is not None:
            yield StreamPart("", META, finish_reason=spec.finish_reason)
        if spec.usage is not None:
            yield StreamPart("", META, usage=cast(UsageMetadata, dict(spec.usage)))
