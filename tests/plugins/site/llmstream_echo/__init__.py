"""A third-party provider kind, ``echo``, as a plugin package would ship it: it streams the
prompt's words back. Its ``*.dist-info/entry_points.txt`` declares it in the group
``llmstream_tui.providers``; tests put this folder on ``PYTHONPATH``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any, Literal

from llmstream_tui import LanguageModel
from llmstream_tui.core.backend import ModelRequest, RunContext
from llmstream_tui.core.parts import StreamPart
from llmstream_tui.providers.spec import ProviderSpec


class EchoSpec(ProviderSpec):
    kind: Literal["echo"] = "echo"
    upper: bool = False


def words(text: str) -> list[str]:
    """The pure part: each word with the spaces before it."""
    return re.findall(r"\s*\S+", text)


class EchoModel(LanguageModel):
    ls_provider = "echo"
    Spec = EchoSpec

    def __init__(self, spec: EchoSpec, *, name: str) -> None:
        super().__init__(name=name, model=spec.model, streaming=spec.stream, tags=spec.tags)
        self.spec = spec

    @classmethod
    def from_spec(cls, name: str, spec: EchoSpec, client: Any = None) -> EchoModel:
        return cls(spec, name=name)

    async def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        ctx.first_byte()
        for word in words(request.messages[-1].content):
            yield StreamPart(word.upper() if self.spec.upper else word)
