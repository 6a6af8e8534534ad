"""``PaneGrid``: the panes, side by side or in a grid, and which one is selected.

The grid builds a :class:`StreamPane` for each session it is given (with the look the app
chose: delimiter, tints, whitespace, Markdown, scrollback), keeps the panes in order, gives
each a unique id and record name, sizes its grid to their number, and does to every pane at
once what the app asks (send, cancel, new conversation, stop). One pane is selected (the
accent border) whenever there is any: the target of the per-pane keys (retry, cancel,
Markdown).
"""

from __future__ import annotations

import contextlib
from contextlib import suppress
from typing import TYPE_CHECKING, Literal

from textual import on
from textual.containers import Container

from ..format import ChunkScope
from ..session import RUNNING, PaneSession
from .stream_pane import StreamPane

if TYPE_CHECKING:
    from ...sessions.recorder import SessionRecorder


def grid_columns(panes: int, width: int) -> int:
    """Columns for ``panes`` panes: side by side up to three, then a grid (wider terminals
    get more columns)."""
    if panes <= 3:
        return max(1, panes)
    if panes == 4:
        return 2
    return 4 if width >= 200 and panes >= 7 else 3


class PaneGrid(Container):
    """The panes' container (laid out as a grid by ``#panes`` in ``app.tcss``)."""

    def __init__(
        self,
        *,
        delimiter: str,
        tints: bool,
        whitespace: bool,
        markdown: bool,
        max_rows: int,
        chunk_scope: ChunkScope = "answer",
        id: str | None = None,  # Textual's name
    ) -> None:
        super().__init__(id=id)
        self.chunk_scope: ChunkScope = chunk_scope
        self.delimiter = delimiter
        self.tints = tints
        self.whitespace = whitespace
        self.markdown = markdown
        self.max_rows = max_rows
        self.selected: StreamPane | None = None
        self._panes: list[StreamPane] = []
        self._serial = 0
        #: rows of panes in the grid (``fit_grid``)
        self.grid_rows = 1

    @property
    def panes(self) -> list[StreamPane]:
        """The panes, left to right (a copy: adding or removing one leaves it as it was)."""
        return list(self._panes)

    @property
    def running(self) -> bool:
        """Whether any pane's run is waiting or streaming."""
        return any(p.session.state in RUNNING for p in self._panes)

    def unique_record_name(self, name: str) -> str:
        """``name``, or ``name#2``, ``name#3``...: the first not used by another pane, so the
        runs of two panes of one provider are never saved under one name."""
        taken = {p.session.record_name for p in self._panes}
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name}#{n}"
        return candidate

    # -- adding, removing, selecting ------------------------------------------------------------

    async def add(self, session: PaneSession, record_name: str | None = None) -> StreamPane:
        """A new last pane for ``session``, saved under ``record_name`` (default: a unique
        form of the session's name); it is selected when no other pane is."""
        session.record_name = record_name or self.unique_record_name(session.name)
        self._serial += 1
        pane = StreamPane(
            session,
            delimiter=self.delimiter,
            tints=self.tints,
            whitespace=self.whitespace,
            markdown=self.markdown,
            max_rows=self.max_rows,
            chunk_scope=self.chunk_scope,
            id=f"pane-{self._serial}",
        )
        self._panes.append(pane)
        await self.mount(pane)
        if self.selected is None:
            self.select(pane)
        self.fit_grid()
        return pane

    async def discard(self, pane: StreamPane) -> None:
        """Stop ``pane``'s run, remove it and close its provider; the first pane left is
        selected if ``pane`` was."""
        await pane.stop_run()
        if self.selected is pane:
            self.selected = None
        if pane in self._panes:
            self._panes.remove(pane)
        await pane.remove()
        llm = pane.session.llm
        if llm is not None:
            await llm.aclose()
        if self.selected is None and self._panes:
            self.select(self._panes[0])
        self.fit_grid()

    def select(self, pane: StreamPane) -> None:
        if self.selected is not None and self.selected is not pane:
            self.selected.remove_class("-selected")
        self.selected = pane
        pane.add_class("-selected")

    def select_next(self) -> None:
        """Select the pane after the selected one (the first after the last)."""
        panes = self._panes
        if not panes:
            return
        i = panes.index(self.selected) if self.selected in panes else -1
        self.select(panes[(i + 1) % len(panes)])

    @on(StreamPane.Selected)
    def _on_pane_selected(self, message: StreamPane.Selected) -> None:
        self.select(message.pane)

    def fit_grid(self, width: int | None = None) -> None:
        """Size the grid for the panes it holds, by the width of the whole screen (``width``:
        the new one, during a resize, when the app's own size is not updated yet)."""
        n = len(self._panes)
        cols = grid_columns(n, width if width is not None else self.app.size.width)
        rows = self.grid_rows = max(1, -(-n // cols))
        last = n - (rows - 1) * cols  # panes in the last row
        # a short last row is spread over the whole width (five panes: three, then two
        # of half the width, no empty cell): the grid has cols * last cells a row, a pane
        # spans ``last`` of them, one in the last row ``cols``
        spread = last if 0 < last < cols else 1
        self.styles.grid_size_columns = cols * spread
        self.styles.grid_size_rows = rows
        for i, pane in enumerate(self._panes):
            pane.styles.column_span = cols if spread > 1 and i >= (rows - 1) * cols else spread

    # -- every pane at once ---------------------------------------------------------------------

    async def start_runs(
        self, prompt: str, *, version: Literal["v1", "v2"], recorder: SessionRecorder
    ) -> None:
        """Send ``prompt`` to every pane, each after its own conversation."""
        for pane in self.panes:
            await pane.start_run(prompt, version=version, recorder=recorder)

    def cancel_runs(self) -> list[str]:
        """Cancel every running pane; returns the names of those cancelled."""
        return [p.session.name for p in self.panes if p.cancel()]

    async def new_conversations(self) -> None:
        """Every pane forgets its conversation (its run stopped first, so what it left is
        saved before the conversation ends)."""
        for pane in self.panes:
            await pane.stop_run()
            pane.new_conversation()

    async def wait_for_runs(self) -> None:
        """Until no pane's worker is running (whatever way each ends)."""
        for pane in self.panes:
            worker = pane.worker
            if worker is not None:
                with suppress(Exception):
                    await worker.wait()

    async def stop_runs(self) -> None:
        """Stop every run (quitting: a run cut short is saved as cancelled); never raises."""
        for pane in self.panes:
            with suppress(Exception):
                await pane.stop_run()

    async def close_providers(self) -> None:
        """Close every pane's provider (quitting); never raises."""
        for pane in self.panes:
            llm = pane.session.llm
            if llm is not None:
                with contextlib.suppress(Exception):  # closing on exit must not fail the exit
                    await llm.aclose()

    def toggle_whitespace(self) -> bool:
        """Whitespace shown or plain in every pane, what is shown redrawn; returns the new
        mode."""
        self.whitespace = not self.whitespace
        for pane in self.panes:
            pane.set_whitespace(self.whitespace)
        return self.whitespace

    def toggle_chunk_scope(self) -> ChunkScope:
        """Chunk counts and gap sparklines of every pane: answer only, or all channels;
        returns the new scope."""
        self.chunk_scope = "all" if self.chunk_scope == "answer" else "answer"
        for pane in self.panes:
            pane.set_chunk_scope(self.chunk_scope)
        return self.chunk_scope

    def toggle_tints(self) -> None:
        """Alternating chunk tints on or off in every pane (redrawn at once)."""
        self.tints = not self.tints
        for pane in self.panes:
            pane.body.set_tints(self.tints)
            pane.reasoning.set_tints(self.tints)
