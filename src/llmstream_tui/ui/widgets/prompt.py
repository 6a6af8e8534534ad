"""``PromptArea``: the multi-line prompt. Enter sends; ctrl+j (or shift+enter where the terminal
reports it) inserts a newline; up/down on the first/last line recall earlier prompts
(:class:`~llmstream_tui.ui.state.PromptRecall`)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import BindingType
from textual.message import Message
from textual.widgets import TextArea

from ..keys import bindings
from ..state import PromptRecall


class PromptArea(TextArea):
    BINDINGS: ClassVar[list[BindingType]] = bindings("prompt")  # type: ignore[assignment]  # a list of Binding is a list of BindingType

    class Submitted(Message):
        """The user asked to send ``text``."""

        def __init__(self, area: PromptArea, text: str) -> None:
            self.area = area
            self.text = text
            super().__init__()

    def __init__(
        self, recall: PromptRecall, *, cursor_blink: bool = True, id: str | None = None
    ) -> None:
        super().__init__(
            "",
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=True,
            highlight_cursor_line=False,
            placeholder="Ask every pane… (Enter sends, ctrl+j for a newline)",
        )
        self.recall = recall
        self.cursor_blink = cursor_blink
        #: position while recalling prompts: len(entries) means "the draft"
        self._pos: int | None = None
        self._draft = ""

    # ``send`` and ``newline`` are priority bindings (the TextArea would otherwise take
    # enter for itself), and priority bindings run when the key reaches the app, before
    # this widget has handled the keys queued ahead of it: "hi⏎" arriving in one read
    # (pasted without bracketed paste, typed by a fast script) would send an empty prompt.
    # So each action only queues its work behind those keys.

    def action_send(self) -> None:
        self.call_later(self._send_now)

    def action_newline(self) -> None:
        self.call_later(self._newline_now)

    def _send_now(self) -> None:
        text = self.text
        if not text.strip():
            return
        self.recall.add(text)
        self._pos = None
        self.post_message(self.Submitted(self, text))

    def _newline_now(self) -> None:
        """A newline in place of the selection, the cursor after it (as typing one would)."""
        if self.read_only:
            return
        start, end = self.selection
        self.replace("\n", start, end, maintain_selection_offset=False)

    # the actions keep the names of their binding ids (``history_prev``, ``history_next``),
    # which users' keymaps name

    def action_history_prev(self) -> None:
        row, _ = self.cursor_location
        entries = self.recall.entries
        if row > 0 or not entries:
            self.action_cursor_up()
            return
        if self._pos is None:
            self._pos = len(entries)
            self._draft = self.text
        if self._pos == 0:
            return
        self._pos -= 1
        self._show(entries[self._pos])

    def action_history_next(self) -> None:
        row, _ = self.cursor_location
        if self._pos is None or row < self.document.line_count - 1:
            self.action_cursor_down()
            return
        entries = self.recall.entries
        self._pos += 1
        if self._pos >= len(entries):
            self._pos = None
            self._show(self._draft)
        else:
            self._show(entries[self._pos])

    def _show(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)
