"""Tool-call cards: one per call a run makes (parallel calls are several cards).

A card shows the tool's name, the call id, and the arguments as they stream in (the raw
deltas, joined once per frame); when the run ends they are pretty-printed, or flagged when
they are not valid JSON. Deltas are merged by ``index`` as LangChain merges
``tool_call_chunks`` (a delta without an index continues the last call, or starts one).
All model text is made inert before it is shown; nothing here parses markup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...core.inert import escape_controls


def pretty_arguments(args: str) -> tuple[str, bool]:
    """``args`` pretty-printed, and whether they are valid JSON (empty counts as none)."""
    if not args.strip():
        return "(no arguments)", True
    try:
        value = json.loads(args)
    except ValueError:
        return args, False
    return json.dumps(value, indent=2, ensure_ascii=False), True


class ToolCallCard(Static):
    """One tool call: header (name, id), then its arguments."""

    def __init__(self, index: Any) -> None:
        super().__init__("", classes="tool-card", markup=False)
        self.index = index
        self.name_ = ""
        self.call_id = ""
        self.parts: list[str] = []
        self.args = ""
        #: None while streaming; then whether the arguments are valid JSON
        self.valid: bool | None = None
        self.complete = True

    def feed(self, delta: dict[str, Any]) -> None:
        name = delta.get("name")
        if isinstance(name, str) and name:
            self.name_ += name if self.name_ != name else ""
        call_id = delta.get("id")
        if isinstance(call_id, str) and call_id and not self.call_id:
            self.call_id = call_id
        args = delta.get("args")
        if isinstance(args, str) and args:
            self.parts.append(args)

    def show(self) -> None:
        """Draw the arguments received so far (once per frame)."""
        if self.parts:
            self.args += "".join(self.parts)
            self.parts = []
        self.update(self._text())

    def finish(self, complete: bool) -> None:
        """The run ended: pretty-print the arguments, or flag them."""
        self.show()
        self.complete = complete
        self.valid = pretty_arguments(self.args)[1]
        self.update(self._text())

    def _text(self) -> Text:
        """``⚙ name · id``, then the arguments: raw with a trailing ``…`` while they stream,
        pretty-printed once complete, or raw under a flag when they are not valid JSON."""
        text = Text()
        text.append("⚙ ", style="bold")
        text.append(escape_controls(self.name_) or "?", style="bold")
        if self.call_id:
            text.append(" · " + escape_controls(self.call_id), style="dim")
        if self.valid is None:
            body, tail = self.args, "…"
        else:
            body, valid = pretty_arguments(self.args)
            tail = ""
            if not valid:
                text.append("\n")
                text.append("⚠ arguments are not valid JSON", style="bold reverse")
            if not self.complete:
                text.append("\n")
                text.append("(incomplete: the run did not finish)", style="italic")
        text.append("\n")
        text.append(escape_controls(body.replace("\t", "    ")))
        text.append(tail, style="dim")
        return text


class ToolCards(VerticalScroll, can_focus=False):
    """The cards of the pane's current run; hidden while there are none."""

    DEFAULT_CSS = """
    ToolCards { height: auto; display: none; }
    """

    def __init__(self) -> None:
        super().__init__(classes="pane-tools")
        self.cards: list[ToolCallCard] = []
        self._by_index: dict[Any, ToolCallCard] = {}

    async def feed(self, deltas: Iterable[dict[str, Any]]) -> None:
        """A frame's tool-call deltas: new cards mounted, changed ones redrawn."""
        changed: dict[int, ToolCallCard] = {}
        new: list[ToolCallCard] = []
        for delta in deltas:
            index = delta.get("index")
            card = self._by_index.get(index) if index is not None else None
            if card is None and index is None and self.cards:
                card = self.cards[-1]
            if card is None:
                card = ToolCallCard(index)
                self.cards.append(card)
                new.append(card)
                if index is not None:
                    self._by_index[index] = card
            card.feed(delta)
            changed[id(card)] = card
        for card in changed.values():
            card.show()
        if new:
            self.display = True
            await self.mount_all(new)
            self.scroll_end(animate=False)

    def finish(self, complete: bool) -> None:
        for card in self.cards:
            card.finish(complete)

    async def clear(self) -> None:
        self.cards = []
        self._by_index = {}
        self.display = False
        await self.remove_children()
