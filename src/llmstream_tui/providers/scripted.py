"""``scripted``: a configured list of chunks with configured timing.

The workhorse of tests, benchmarks and demos: exactly the chunks you list, ``repeat`` times,
after ``ttft_ms``, ``delay_ms`` apart, failing after ``fail_at`` chunks if asked. With zero
delays it yields without sleeping, so it measures our own overhead and nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Literal

from pydantic import Field

from ..core.backend import ModelRequest, RunContext
from ..core.parts import META, StreamPart
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


class ScriptedSpec(ProviderSpec):
    kind: Literal["scripted"] = "scripted"
    chunks: list[str] = Field(default_factory=lambda: list(DEFAULT_CHUNKS))
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
                if n == total and spec.finish_reason is not None:
                    yield StreamPart(text, finish_reason=spec.finish_reason)
                else:
                    yield StreamPart(text)
        if fail_at is not None and n >= fail_at:
            raise ScriptedFailure(spec.fail_with, provider=self.name)
        if total == 0 and spec.finish_reason is not None:
            yield StreamPart("", META, finish_reason=spec.finish_reason)
