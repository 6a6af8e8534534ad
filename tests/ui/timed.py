"""``timed``: a test-only provider kind whose chunks arrive at *stated* times.

Snapshot tests need metrics that are the same on every run, so this backend does not sleep:
it sets the run's timeline clock to the time each chunk is meant to arrive (a virtual clock)
and yields at once. ``hold = true`` keeps the stream open after the last chunk (time frozen),
for "mid-stream" pictures; cancelling closes it like any other stream. Registered by the
``timed_kind`` fixture.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Literal

from pydantic import Field

from llmstream_tui.core.parts import StreamPart
from llmstream_tui.core.runnable import LanguageModel, ModelRequest, RunContext
from llmstream_tui.errors import AuthError
from llmstream_tui.providers.spec import ProviderSpec

MS = 1_000_000
#: names of the runs whose stream was closed (finished, failed or cancelled), in order
CLOSED: list[str] = []


class VirtualClock:
    """A nanosecond clock that only moves when told to."""

    def __init__(self, now: int = 0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


class TimedSpec(ProviderSpec):
    kind: Literal["timed"] = "timed"
    chunks: list[str] = Field(default_factory=lambda: ["Spark", "ling", " water"])
    ttft_ms: float = 100.0
    #: gap before each chunk after the first (cycled)
    gaps_ms: list[float] = Field(default_factory=lambda: [20.0])
    hold: bool = False
    fail_at: int | None = None
    fail_auth: bool = False
    output_tokens: int | None = None
    #: raise a plain RuntimeError (a bug, not a provider error) after the chunks
    crash: bool = False
    #: what ``list_models`` answers (the HTTP kinds ask their server)
    models: list[str] = Field(default_factory=list)
    total_ms_after: float = 5.0


class TimedModel(LanguageModel):
    ls_provider = "timed"
    Spec = TimedSpec

    def __init__(self, spec: TimedSpec, *, name: str) -> None:
        super().__init__(name=name, model=spec.model or "timed", flavor="chat")
        self.spec = spec

    @classmethod
    def from_spec(cls, name: str, spec: TimedSpec, client: Any = None) -> TimedModel:
        return cls(spec, name=name)

    async def list_models(self) -> list[str]:
        return list(self.spec.models)

    async def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        spec = self.spec
        timeline = ctx.timeline
        clock = VirtualClock(0)
        if timeline is not None:
            timeline.clock = clock
            timeline.start_ns = 0
        now = spec.ttft_ms * MS
        clock.now = int(now)
        ctx.first_byte()
        try:
            async for part in self._parts_at(clock, now):
                yield part
        finally:
            CLOSED.append(self.name)

    async def _parts_at(self, clock: VirtualClock, now: float) -> AsyncIterator[StreamPart]:
        spec = self.spec
        for i, text in enumerate(spec.chunks):
            if spec.fail_at is not None and i >= spec.fail_at:
                break
            if i:
                now += spec.gaps_ms[(i - 1) % len(spec.gaps_ms)] * MS
                clock.now = int(now)
            last = i == len(spec.chunks) - 1
            usage = None
            if last and spec.output_tokens is not None:
                usage = {
                    "input_tokens": 3,
                    "output_tokens": spec.output_tokens,
                    "total_tokens": 3 + spec.output_tokens,
                }
            yield StreamPart(
                text,
                usage=usage,  # type: ignore[arg-type]
                finish_reason="stop" if last and not spec.hold else None,
            )
        if spec.fail_at is not None:
            if spec.fail_auth:
                raise AuthError("401 Unauthorized", status=401, hint="set OPENAI_API_KEY")
            from llmstream_tui.errors import StreamInterrupted

            raise StreamInterrupted(
                "connection dropped after 3 chunks", hint="the server closed the stream"
            )
        if spec.crash:
            raise RuntimeError("boom\nsecond line")
        if spec.hold:
            await asyncio.Event().wait()
        clock.now = int(now + spec.total_ms_after * MS)
