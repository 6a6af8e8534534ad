"""Edit and resend, the app's side: the palette that picks an earlier prompt, and the resend
that forks every chosen pane's conversation there (see ``exchanges.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import SimpleCommand

from ..errors import RecordingError
from ..sessions.fork import fork_session
from .commands import palette_text
from .exchanges import EditTarget, Exchange, preview
from .persistence import CurrentRecorder

if TYPE_CHECKING:
    from .host import AppHost
    from .widgets.stream_pane import StreamPane


def holding(panes: list[StreamPane], exchange: Exchange) -> list[StreamPane]:
    """The panes that show ``exchange``: those that were sent it in the same saved turn
    (or, unsaved, the same prompt at the same place in their list)."""
    out = []
    for pane in panes:
        for ex in pane.exchanges:
            same_turn = exchange.turn is not None and ex.turn == exchange.turn
            if same_turn or (exchange.turn is None and ex.prompt == exchange.prompt):
                out.append(pane)
                break
    return out


def edit_commands(app: AppHost, pane: StreamPane, panes: list[StreamPane]) -> list[SimpleCommand]:
    """Two palette entries per prompt of ``pane``, the last first: edit it for every pane
    that holds it, or for ``pane`` alone."""
    entries: list[SimpleCommand] = []
    for number in range(len(pane.exchanges), 0, -1):
        ex = pane.exchanges[number - 1]
        names = tuple(p.session.name for p in holding(panes, ex))
        text = preview(ex.prompt)
        for only in (False, True) if len(names) > 1 else (True,):
            chosen = (pane.session.name,) if only else names
            whom = f"{pane.session.name} only" if only and len(names) > 1 else ", ".join(chosen)
            target = EditTarget(number, ex.prompt, ex.turn, chosen)
            entries.append(
                SimpleCommand(
                    palette_text(f"Edit prompt {number} ({whom}): {text}"),
                    partial(app.begin_edit, target),
                    palette_text("the conversation forks from here; the original stays saved"),
                )
            )
    return entries


async def fork_saved(
    saving: CurrentRecorder, turn: int | None, notify: Callable[..., object]
) -> None:
    """Save what follows an edit as a fork of the saved session: the current recorder is
    closed (everything it holds is written), the turns before ``turn`` are copied into a
    new session, and saving goes on there. Nothing saved yet (or no history): the next
    prompt simply opens a new session."""
    recorder = saving.recorder
    if recorder is None:
        return
    uid = recorder.session_uid
    saving.close()
    if uid is None or turn is None:
        return
    try:
        forked = await asyncio.to_thread(fork_session, uid, turn)
        saving.continue_session(forked)
    except RecordingError as exc:
        notify(f"history: the edited conversation is saved as a new session ({exc})", markup=False)
