"""``AppHost``: the app as the modules beside ``app.py`` see it.

``commands.py`` and ``session_keys.py`` act on the app (add a pane, reopen a session), and
``app.py`` imports them to bind their keys; so they type the app as this base rather than
import ``app.py`` (the import graph stays acyclic). It is Textual's ``App`` plus the few
things of ours they use; ``LLMStreamApp`` is its one implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App

from ..config import Settings
from .exchanges import EditTarget
from .persistence import CurrentRecorder
from .session import PaneSession
from .widgets.stream_pane import StreamPane


class AppHost(App[int]):
    """What ``LLMStreamApp`` offers its parts (each method is implemented there)."""

    settings: Settings
    #: times every run (nanoseconds)
    clock: Callable[[], int]
    #: the recorder of the conversation on screen
    saving: CurrentRecorder

    @property
    def panes(self) -> list[StreamPane]:
        """The panes, left to right."""
        raise NotImplementedError

    async def mount_session(
        self, session: PaneSession, record_name: str | None = None
    ) -> StreamPane:
        """A new pane for ``session``, its runs saved under ``record_name``."""
        raise NotImplementedError

    async def add_pane(
        self, ref: str, table: dict[str, Any] | None = None, name: str | None = None
    ) -> StreamPane | None:
        """A new pane for ``ref``, or None (reported) when it cannot be built."""
        raise NotImplementedError

    async def remove_pane(self, pane: StreamPane) -> None:
        """Stop ``pane``'s run and remove it."""
        raise NotImplementedError

    def begin_edit(self, target: EditTarget) -> None:
        """Put an earlier prompt in the prompt box to edit and resend."""
        raise NotImplementedError

    def hide_summary(self) -> None:
        """Hide the compare summary (something new starts)."""
        raise NotImplementedError

    def show_recording(self) -> None:
        """Show whether the conversation is being recorded to a file (the record key)."""
        raise NotImplementedError
