"""``channeled``: a test-only kind streaming parts of every channel at stated times.

Each entry of ``parts`` is a table: ``channel`` (text, reasoning, tool_call, refusal, meta),
``text``, ``at_ms`` (when it arrives, on a virtual clock as in ``timed``), and for a tool
call ``tool_call`` (``{"name", "args", "id", "index"}``), for usage ``usage``. ``hold``
keeps the stream open after the parts (for mid-stream pictures); ``hold_after`` holds after
that many parts. Registered by the ``data_dir`` fixture (tests/ui/conftest.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Literal

from pydantic import BaseModel, Field

from llmstream_tui.core.parts import TEXT, StreamPart
from llmstream_tui.core.runnable import LanguageModel, ModelRequest, RunContext
from llmstream_tui.providers.spec import ProviderSpec
from tests.ui.timed import MS, VirtualClock


class PartSpec(BaseModel):
    channel: str = TEXT
    text: str = ""
    at_ms: float = 0.0
    tool_call: dict[str, Any] | None = None
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None


class ChanneledSpec(ProviderSpec):
    kind: Literal["channeled"] = "channeled"
    parts: list[PartSpec] = Field(default_factory=list)
    hold: bool = False
    hold_after: int | None = None
    end_ms: float | None = None


class ChanneledModel(LanguageModel):
    ls_provider = "channeled"
    Spec = ChanneledSpec

    def __init__(self, spec: ChanneledSpec, *, name: str) -> None:
        super().__init__(name=name, model=spec.model or "think-1", flavor="chat")
        self.spec = spec
        #: set once the stream has delivered the parts before ``hold_after`` (tests await it)
        self.held = asyncio.Event()
        #: set by a test to let a held stream go on
        self.go_on = asyncio.Event()

    @classmethod
    def from_spec(cls, name: str, spec: ChanneledSpec, client: Any = None) -> ChanneledModel:
        return cls(spec, name=name)

    async def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        spec = self.spec
        clock = VirtualClock(0)
        if ctx.timeline is not None:
            ctx.timeline.clock = clock
            ctx.timeline.start_ns = 0
        self.held.clear()
        ctx.first_byte()
        for i, part in enumerate(spec.parts):
            if spec.hold_after is not None and i == spec.hold_after:
                self.held.set()
                await self.go_on.wait()
            clock.now = int(part.at_ms * MS)
            yield StreamPart(
                part.text,
                part.channel,
                tool_call=dict(part.tool_call) if part.tool_call else None,
                usage=part.usage,  # type: ignore[arg-type]
                finish_reason=part.finish_reason,
            )
        self.held.set()
        if spec.hold:
            await asyncio.Event().wait()
        last = spec.parts[-1].at_ms if spec.parts else 0.0
        clock.now = int((spec.end_ms if spec.end_ms is not None else last + 5) * MS)
