"""``simulated``: an offline model, so the app is alive with no network and no key.

A word-level Markov chain over a corpus shipped in the package answers the prompt,
deterministically for a prompt and seed, paced by a latency profile (``swift``, ``steady``,
or your own numbers) so two simulated panes side by side visibly differ.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any, Literal

from pydantic import Field

from ..core.backend import ModelRequest, RunContext
from ..core.parts import StreamPart
from ..core.runnable import LanguageModel
from ..core.simulated import PROFILES, LatencyProfile, simulate
from .spec import ProviderSpec


class SimulatedSpec(ProviderSpec):
    """``model`` names the profile (``swift`` or ``steady``); the numbers override it."""

    kind: Literal["simulated"] = "simulated"
    model: str = "swift"
    seed: int = 0
    max_words: int = Field(default=120, ge=1, le=100_000)
    ttft_ms: float | None = Field(default=None, ge=0)
    chunks_per_s: float | None = Field(default=None, gt=0)
    jitter: float | None = Field(default=None, ge=0, le=1)
    flavor: Literal["llm", "chat"] = "chat"


class SimulatedModel(LanguageModel):
    ls_provider = "simulated"
    Spec = SimulatedSpec

    def __init__(self, spec: SimulatedSpec, *, name: str) -> None:
        super().__init__(
            name=name,
            model=spec.model,
            flavor=spec.flavor,
            streaming=spec.stream,
            tags=spec.tags,
            params=spec.params.model_dump(),
        )
        base = PROFILES.get(spec.model)
        if base is None:
            from ..errors import ConfigError

            raise ConfigError(
                f"provider {name!r}: simulated model {spec.model!r} is not one of "
                f"{', '.join(sorted(PROFILES))}"
            )
        changes: dict[str, Any] = {}
        if spec.ttft_ms is not None:
            changes["ttft_ms"] = spec.ttft_ms
        if spec.chunks_per_s is not None:
            changes["chunks_per_s"] = spec.chunks_per_s
        if spec.jitter is not None:
            changes["jitter"] = spec.jitter
        self.profile: LatencyProfile = dataclasses.replace(base, **changes)
        self.spec = spec

    @classmethod
    def from_spec(cls, name: str, spec: SimulatedSpec, client: Any = None) -> SimulatedModel:
        return cls(spec, name=name)

    async def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        prompt = request.prompt or (request.messages[-1].content if request.messages else "")
        seed = self.spec.seed if self.params.get("seed") is None else int(self.params["seed"])
        max_words = self.params.get("max_tokens") or self.spec.max_words
        plan = simulate(prompt, seed=seed, profile=self.profile, max_words=max_words)
        first = True
        last = len(plan) - 1
        for i, (delay, text) in enumerate(plan):
            if delay > 0:
                await asyncio.sleep(delay)
            if first:
                ctx.first_byte()
                first = False
            yield StreamPart(text, finish_reason="stop" if i == last else None)
