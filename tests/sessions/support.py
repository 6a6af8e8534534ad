"""Recording runs the way the CLI and the app do: astream_events observed by a recorder."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from llmstream_tui.core.metrics import StreamTimeline
from llmstream_tui.core.recording import RecordingReader
from llmstream_tui.errors import ProviderError
from llmstream_tui.providers.registry import build_llm
from llmstream_tui.sessions.recorder import SessionRecorder


async def record_turn(
    recorder: SessionRecorder,
    prompt: str,
    providers: Sequence[str | Mapping[str, Any]],
    *,
    names: Sequence[str] | None = None,
    version: str = "v2",
) -> None:
    """Run every provider on ``prompt`` at once, each observed by ``recorder``."""
    recorder.begin_turn(prompt)

    async def one(i: int, spec: str | Mapping[str, Any]) -> None:
        name = names[i] if names else None
        llm = build_llm(spec, name=name)
        timeline = StreamTimeline()
        run = recorder.start_run(llm, timeline=timeline)
        received: list[str] = []
        try:
            async for ev in llm.astream_events(prompt, {"timeline": timeline}, version=version):  # type: ignore[arg-type]
                run.observe(ev)
        except ProviderError as exc:
            run.error(exc, exc.partial_text or "".join(received))
        finally:
            await llm.aclose()

    await asyncio.gather(*(one(i, p) for i, p in enumerate(providers)))


def record_file(
    path: Path,
    prompt: str,
    providers: Sequence[str | Mapping[str, Any]],
    *,
    names: Sequence[str] | None = None,
    history: bool = False,
) -> SessionRecorder:
    """Record one turn of ``providers`` into a new recording at ``path``."""
    recorder = SessionRecorder.open(record=path, history=history)
    try:
        asyncio.run(record_turn(recorder, prompt, providers, names=names))
    finally:
        recorder.close()
    return recorder


def chunk_lines(path: Path, provider: str | None = None) -> list[dict[str, Any]]:
    return [
        obj
        for obj in RecordingReader(path)
        if obj["type"] == "chunk" and (provider is None or obj["provider"] == provider)
    ]


def lines_of(path: Path, kind: str) -> list[dict[str, Any]]:
    return [obj for obj in RecordingReader(path) if obj["type"] == kind]
