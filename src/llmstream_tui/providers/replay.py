"""``replay``: stream a recording again, with its original rhythm, through the Runnable API.

``replay:PATH`` as a reference, or a table ``{kind = "replay", model = "PATH", speed = 2}``.
The chunks of one provider's run (``provider``, default the first in the file; ``turn``,
default 0) come out with their recorded boundaries at their recorded times divided by
``speed`` (``0``: as fast as possible), then the recorded stop reason and usage; a recorded
failure is raised again as the same kind of ``ProviderError``, and a run the recording cut
short ends in ``StreamTruncated``. So recordings drive tests, snapshots and demos exactly as
a live provider would.

Times are scheduled from the run's start (not chunk to chunk), so sleep overshoot does not
accumulate: each chunk is due at ``start + t / speed``. The file is read line by line while
streaming: a 1,000,000-chunk recording replays in constant memory. At speed 0 the loop is
still given a turn every 1024 chunks, so an app stays responsive.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import closing
from typing import Any, ClassVar, Literal

from pydantic import Field

from ..core.backend import ModelRequest, RunContext
from ..core.parts import META, StreamPart
from ..core.recording import RecordingReader
from ..core.recording_lines import line_part
from ..core.runnable import LanguageModel
from ..errors import (
    ConfigError,
    ProviderError,
    RateLimitError,
    RecordingError,
    StreamInterrupted,
    StreamTruncated,
    UpstreamError,
)
from .spec import ProviderSpec


class ReplaySpec(ProviderSpec):
    """``model`` holds the recording's path."""

    #: ``replay:a@b.jsonl`` puts the path's tail in ``base_url``: not a URL
    base_url_is_url: ClassVar[bool] = False

    kind: Literal["replay"] = "replay"
    #: Playback speed: 2 is twice as fast, 0 as fast as possible.
    speed: float = Field(default=1.0, ge=0)
    #: Which provider's stream to play (its name in the recording); default the first.
    provider: str | None = None
    #: Which turn of the conversation to play.
    turn: int = Field(default=0, ge=0)
    #: Override the recorded flavour (``chat`` streams message chunks, ``llm`` strings).
    flavor: Literal["llm", "chat"] | None = None


def recorded_provider(reader: RecordingReader, wanted: str | None) -> dict[str, Any]:
    """The ``provider`` line for ``wanted`` (default: the first); ConfigError-free, raises
    RecordingError naming what the file holds when it is not there."""
    seen: list[str] = []
    for obj in reader:
        if obj["type"] != "provider" or not isinstance(obj.get("provider"), str):
            continue
        if wanted is None or obj["provider"] == wanted:
            return obj
        seen.append(obj["provider"])
    if wanted is None:
        raise RecordingError(f"{reader.path}: the recording holds no provider stream")
    have = ", ".join(seen) or "none"
    raise RecordingError(f"{reader.path}: no provider {wanted!r} in the recording (it has: {have})")


def _error_class(kind: str | None) -> type[ProviderError]:
    stack: list[type[ProviderError]] = [ProviderError]
    while stack:
        cls = stack.pop()
        if cls.kind == kind:
            return cls
        stack.extend(cls.__subclasses__())
    return UpstreamError


def _recorded_error(err: dict[str, Any] | None) -> ProviderError:
    err = err or {}
    kind = err.get("kind")
    detail = str(err.get("detail") or err.get("message") or "failed")
    hint = err.get("hint")
    if kind == "cancelled":
        return StreamInterrupted("cancelled by the user when recorded", hint=None)
    cls = _error_class(kind)
    if cls is RateLimitError:
        return RateLimitError(
            detail, retry_after=err.get("retry_after"), status=err.get("status"), hint=hint
        )
    return cls(detail, status=err.get("status"), hint=hint)


class ReplayModel(LanguageModel):
    ls_provider = "replay"
    Spec = ReplaySpec

    def __init__(self, spec: ReplaySpec, *, name: str, path: str, recorded: dict[str, Any]) -> None:
        super().__init__(
            name=name,
            model=str(recorded.get("model") or ""),
            flavor=spec.flavor or ("llm" if recorded.get("flavor") == "llm" else "chat"),
            streaming=spec.stream,
            tags=spec.tags,
            params={**(recorded.get("params") or {}), **spec.params.model_dump()},
        )
        self.spec = spec
        self.path = path
        #: The recording's description of the provider played (kind, model, params...).
        self.recorded = recorded
        self.source: str = recorded["provider"]

    @classmethod
    def from_spec(cls, name: str, spec: ReplaySpec, client: Any = None) -> ReplayModel:
        # ``replay:a@b.jsonl`` is split at "@" as KIND:MODEL@BASE_URL; a path keeps it.
        path = spec.model + (f"@{spec.base_url}" if spec.base_url else "")
        if not path:
            raise ConfigError(f"provider {name!r}: replay needs a recording (replay:PATH)")
        try:
            recorded = recorded_provider(RecordingReader(path), spec.provider)
        except RecordingError as exc:
            raise ConfigError(f"provider {name!r}: {exc}") from None
        return cls(spec, name=name, path=path, recorded=recorded)

    async def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        try:
            reader = RecordingReader(self.path)
        except RecordingError as exc:
            raise StreamInterrupted(str(exc), provider=self.name) from None
        speed = self.spec.speed
        clock = time.perf_counter
        start = clock()
        sleep = asyncio.sleep
        first = True
        meta_seen = False  # stop reason / usage already streamed on chunks
        n = 0
        with closing(reader.run_lines(self.source, self.spec.turn)) as lines:
            for obj in lines:
                kind = obj["type"]
                if kind == "event":
                    continue
                if speed:
                    delay = start + float(obj.get("t") or 0.0) / speed - clock()
                    if delay > 0:
                        await sleep(delay)
                elif not n & 1023:
                    await sleep(0)
                if kind == "chunk":
                    n += 1
                    if first:
                        ctx.first_byte()
                        first = False
                    if len(obj) == 5:  # type, provider, index, t, text: plain answer text
                        yield StreamPart(obj["text"])
                        continue
                    meta_seen = True if "metadata" in obj or "usage" in obj else meta_seen
                    yield line_part(obj)
                elif kind == "end":
                    finish, usage = obj.get("finish_reason"), obj.get("usage")
                    if not meta_seen and (finish is not None or usage):
                        if first:
                            ctx.first_byte()
                        yield StreamPart("", META, finish_reason=finish, usage=usage or None)
                    return
                else:
                    raise _recorded_error(obj.get("error"))
        raise StreamTruncated(
            "the recording ends before this run did",
            provider=self.name,
            hint="it was recorded from an interrupted session",
        )


def replay_tables(
    path: str, *, speed: float = 1.0, turn: int = 0
) -> tuple[str, dict[str, dict[str, Any]]]:
    """(the recorded prompt of ``turn``, a provider table per provider that answered it),
    tables named as in the recording: what ``llmstream-tui replay FILE`` opens the app with.
    RecordingError (one line) if the file cannot be read or holds no such turn."""
    reader = RecordingReader(path)
    index = reader.index()
    if turn >= len(index.prompts):
        raise RecordingError(
            f"{reader.path}: the recording has no turn {turn} ({len(index.prompts)} prompt(s))"
        )
    names = [name for name in index.providers if (name, turn) in index.runs]
    if not names:
        raise RecordingError(f"{reader.path}: no provider stream to replay in turn {turn}")
    tables = {
        name: {
            "kind": "replay",
            "model": str(reader.path),
            "speed": speed,
            "provider": name,
            "turn": turn,
        }
        for name in names
    }
    return index.prompts[turn], tables
