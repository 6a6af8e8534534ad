"""``llmstream-tui render RECORDING -o out.svg``: a picture of a recorded session.

The recording is replayed into the real app (``make_app``, the CLI's own factory) running
headless, and the screen is written as Textual draws it: SVG, or PNG through cairosvg (the
``render`` extra). Nothing waits for the recorded times: each pane runs on its own virtual
clock set to every line's recorded time ``t`` as the line is delivered, so the metrics, the
sparklines and the events log show the original timing while the replay takes as long as
drawing does. ``at`` (seconds) stops every pane at that moment of the original timing:
what arrived by then is shown, the stream held open (mid-stream), the clock frozen there.

The same recording, size, theme and config give the same SVG, byte for byte: the cursor
does not blink, run ids come from a counter, the app's data dir (prompt recall, remembered
theme) is a temporary one (the user's themes are still found), and the terminal ids Textual
writes are fixed. ``render_svg`` is the library entry point (the pytest plugin's fixture
uses it); ``render_command`` is the command.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, ClassVar, Final, Literal

from ..config import Settings
from ..core.backend import ModelRequest, RunContext
from ..core.parts import META, StreamPart
from ..core.recording import RecordingReader
from ..core.recording_lines import line_part
from ..errors import ConfigError, StreamTruncated
from ..locations import DATA_DIR_ENV, data_dir
from ..providers.registry import KINDS, register_kind
from ..providers.replay import ReplayModel, ReplaySpec, _recorded_error, replay_tables
from .parsers import RENDER_SIZE

__all__ = ["StillReplayModel", "render_command", "render_svg"]

#: The provider kind the render registers while it runs (and removes after).
KIND: Final = "replay-still"
NS: Final = 1_000_000_000
#: run ids from a counter, times this odd 128-bit number: they differ in the first digits
_SPREAD: Final = 0x9E3779B97F4A7C15F39CC0605CEDC835
#: Textual writes ``terminal-<hash>-`` ids into its SVG; a fixed one keeps output stable.
_TERMINAL_ID = re.compile(r"\bterminal-\d+-")


class VirtualClock:
    """A nanosecond clock that moves only when the replay says so."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


class StillReplaySpec(ReplaySpec):
    """A replay on recorded time: ``at`` (seconds) is where it stops, None the end."""

    kind: Literal["replay-still"] = "replay-still"  # type: ignore[assignment]  # own kind
    at: float | None = None


class StillReplayModel(ReplayModel):
    """``ReplayModel`` without waiting: the run's timeline reads a virtual clock set to
    each line's recorded ``t`` before the line is delivered. ``delivered`` is set once
    the run has given all it will (ended, failed, or reached ``at`` and holds)."""

    Spec: ClassVar[type[StillReplaySpec]] = StillReplaySpec

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.delivered = asyncio.Event()
        # the header shows the recorded ``kind:model``, as the app did when it was recorded
        self.spec = self.spec.model_copy(update={"kind": self.recorded.get("kind") or "replay"})

    async def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        at = getattr(self.spec, "at", None)
        clock = VirtualClock()
        timeline = ctx.timeline
        if timeline is not None:
            timeline.clock = clock
            timeline.start_ns = 0
        first = True
        meta_seen = False
        reader = RecordingReader(self.path)
        try:
            with closing(reader.run_lines(self.source, self.spec.turn)) as lines:
                for obj in lines:
                    if obj["type"] == "event":
                        continue
                    t = float(obj.get("t") or 0.0)
                    if at is not None and t > at:
                        clock.now = int(at * NS)
                        self.delivered.set()
                        await asyncio.Event().wait()  # mid-stream: held until cancelled
                    clock.now = max(clock.now, int(t * NS))
                    kind = obj["type"]
                    if kind == "chunk":
                        if first:
                            ctx.first_byte()
                            first = False
                        meta_seen = meta_seen or "metadata" in obj or "usage" in obj
                        yield line_part(obj)
                    elif kind == "end":
                        finish, usage = obj.get("finish_reason"), obj.get("usage")
                        if not meta_seen and (finish is not None or usage):
                            yield StreamPart("", META, finish_reason=finish, usage=usage or None)
                        return
                    else:
                        raise _recorded_error(obj.get("error"))
            raise StreamTruncated(
                "the recording ends before this run did",
                provider=self.name,
                hint="it was recorded from an interrupted session",
            )
        finally:
            self.delivered.set()


@contextmanager
def _still_world() -> Iterator[None]:
    """What makes a render repeatable, for its duration only: the ``replay-still`` kind,
    run ids from a counter, and a fresh data dir (its ``themes`` the user's own)."""
    user_themes = data_dir() / "themes"
    saved_env = os.environ.get(DATA_DIR_ENV)
    saved_uuid4 = uuid.uuid4
    numbers = itertools.count(1)
    had_kind = KIND in KINDS
    with tempfile.TemporaryDirectory(prefix="llmstream-render-") as tmp:
        if user_themes.is_dir():
            os.symlink(user_themes, Path(tmp) / "themes")
        os.environ[DATA_DIR_ENV] = tmp
        # ids derived from a counter, spread as uuid4's are (the events log shows a prefix)
        uuid.uuid4 = lambda: uuid.UUID(int=(next(numbers) * _SPREAD) % (1 << 128))
        if not had_kind:
            register_kind(KIND, StillReplayModel)
        try:
            yield
        finally:
            uuid.uuid4 = saved_uuid4
            if saved_env is None:
                os.environ.pop(DATA_DIR_ENV, None)
            else:
                os.environ[DATA_DIR_ENV] = saved_env
            if not had_kind:
                del KINDS[KIND]


async def render_svg(
    recording: str | Path,
    *,
    settings: Settings | None = None,
    size: tuple[int, int] = RENDER_SIZE,
    at: float | None = None,
    theme: str | None = None,
    turn: int = 0,
) -> str:
    """The app's screen, as SVG, after replaying ``recording`` (turn ``turn``): finished
    (``at`` None) or ``at`` seconds into its original timing. ``settings`` default to the
    built-in ones (no user config): the same inputs give the same picture. Raises
    RecordingError for an unreadable recording, ConfigError for an unknown theme."""
    from ..ui.app import make_app

    prompt, tables = replay_tables(str(recording), speed=0, turn=turn)
    base = settings if settings is not None else Settings()
    still = {name: {**table, "kind": KIND, "at": at} for name, table in tables.items()}
    update: dict[str, Any] = {
        "providers": {**base.providers, **still},
        "history": False,
        "ui": base.ui.model_copy(update={"cursor_blink": False}),
    }
    if theme is not None:
        update["theme"] = theme
    with _still_world():
        app = make_app(base.model_copy(update=update), providers=list(still), prompt=prompt)
        if theme is not None and theme not in app.available_themes:
            names = ", ".join(sorted(app.available_themes))
            raise ConfigError(f"--theme: no theme {theme!r} (themes: {names})")
        async with app.run_test(headless=True, size=size) as pilot:
            await pilot.pause()
            for pane in app.panes:
                llm = pane.session.llm
                if isinstance(llm, StillReplayModel):
                    await llm.delivered.wait()
            if at is None:
                await app.settle()
            else:
                await app.draw_now()
            await pilot.pause()
            svg = app.export_screenshot(title="llmstream-tui")
    return _TERMINAL_ID.sub("terminal-llmstream-", svg)


def render_command(args: argparse.Namespace, settings: Settings) -> int:
    """Write the picture to ``args.output`` (``.svg``, or ``.png`` with cairosvg)."""
    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise ConfigError(f"-o {args.output}: write .svg or .png")
    png = None
    if suffix == ".png":
        try:
            import cairosvg  # type: ignore[import-untyped]  # ships no type information
        except ImportError:
            raise ConfigError(
                "PNG needs cairosvg: pip install 'llmstream-tui[render]' (or write .svg)"
            ) from None
        png = cairosvg
    svg = asyncio.run(
        render_svg(args.recording, settings=settings, size=args.size, at=args.at, theme=args.theme)
    )
    try:
        if png is not None:
            out.write_bytes(png.svg2png(bytestring=svg.encode("utf-8")))
        else:
            out.write_text(svg, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"-o {args.output}: {exc.strerror or exc}") from None
    print(out)  # the file written, for scripts: xdg-open "$(llmstream-tui render ...)"
    return 0
