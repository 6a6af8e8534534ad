"""What the copy, export and pane-scroll keys do: the clipboard and files, never the screen.

Copying goes through ``App.copy_to_clipboard`` (OSC 52: the terminal sets its clipboard, so it
works over SSH and in tmux with ``set-clipboard on``). Three things can be copied: the selected
pane's last answer exactly as it streamed (``PaneSession.answer_text``), a fenced code block of
that answer (the one there is, or one picked from the palette when there are several), and
the text selected with the mouse (any widget that supports selection, the panes' chunk view
among them) or in the prompt. Each copy is announced with what it was and how many characters,
never with the text: the text is the model's and may be long or hostile.

Exports are the saved session, written by the same functions as ``llmstream-tui sessions
export`` (``sessions/export.py``), so the file from the app and the one from the command line
are the same document. They therefore need the history: with ``history = false`` there is no
saved session, and the export says so in one line rather than building a second, different
Markdown from the panes (which would silently lose the metrics and side channels the history
keeps). The recorder is flushed first, so the export holds every chunk shown so far.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from markdown_it import MarkdownIt
from textual.command import SimpleCommand
from textual.widget import Widget
from textual.widgets import Markdown, TextArea

from .. import locations
from ..core.inert import escape_controls
from ..sessions.export import export_jsonl, export_markdown
from ..sessions.history import History
from .commands import palette_text
from .session import error_summary

if TYPE_CHECKING:
    from .host import AppHost
    from .widgets.stream_pane import StreamPane

#: Where the export key writes, under the data dir.
EXPORTS_DIR = "exports"
#: Characters of a code block's first line shown in the palette's pick list.
PREVIEW_CHARS = 48

ExportFormat = Literal["markdown", "jsonl"]
ScrollMove = Literal["page_up", "page_down", "top", "bottom"]

_SUFFIX: dict[ExportFormat, str] = {"markdown": ".md", "jsonl": ".jsonl"}


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block of an answer: its info string's language and its text."""

    lang: str
    text: str

    @property
    def preview(self) -> str:
        """Its first non-empty line, shortened and inert, to tell blocks apart in a list."""
        first = next((line for line in self.text.splitlines() if line.strip()), "")
        first = escape_controls(first.strip())
        return first if len(first) <= PREVIEW_CHARS else first[: PREVIEW_CHARS - 1] + "…"


def code_blocks(markdown: str) -> list[CodeBlock]:
    """The fenced code blocks of ``markdown``, in order, as CommonMark reads them (the parser
    Textual's Markdown view uses): a fence inside a longer fence, an unclosed fence running to
    the end, and ``~~~`` fences come out as that view shows them."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [
        CodeBlock(t.info.strip().split(" ")[0] if t.info else "", t.content)
        for t in tokens
        if t.type == "fence"
    ]


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _chars(text: str) -> str:
    return _count(len(text), "char")


def _name(pane: StreamPane) -> str:
    return escape_controls(pane.session.name)


def copy_answer(app: AppHost, pane: StreamPane | None) -> bool:
    """Copy ``pane``'s last answer as it streamed; returns whether anything was copied."""
    if pane is None:
        app.notify("no pane to copy from", markup=False)
        return False
    text = pane.session.answer_text()
    if not text:
        app.notify(f"{_name(pane)}: no answer to copy yet", markup=False)
        return False
    app.copy_to_clipboard(text)
    app.notify(f"copied {_name(pane)}'s answer ({_chars(text)})", markup=False)
    return True


def copy_code(app: AppHost, pane: StreamPane, block: CodeBlock, number: int) -> None:
    """Copy one code block (``number`` counts from 1 in the answer) and say which."""
    app.copy_to_clipboard(block.text)
    lang = f" ({escape_controls(block.lang)})" if block.lang else ""
    app.notify(
        f"copied code block {number}{lang} of {_name(pane)}'s answer ({_chars(block.text)})",
        markup=False,
    )


def code_block_commands(
    app: AppHost, pane: StreamPane, blocks: list[CodeBlock]
) -> list[SimpleCommand]:
    """One palette entry per block, the last first (the one usually wanted)."""
    entries = []
    for number in range(len(blocks), 0, -1):
        block = blocks[number - 1]
        lang = f" ({block.lang})" if block.lang else ""
        entries.append(
            SimpleCommand(
                palette_text(f"Copy code block {number}{lang}: {block.preview}"),
                partial(copy_code, app, pane, block, number),
                palette_text(
                    f"{_count(len(block.text.splitlines()), 'line')}, {_chars(block.text)}"
                ),
            )
        )
    return entries


def copy_code_block(app: AppHost, pane: StreamPane | None) -> list[CodeBlock]:
    """The copy-code key: the answer's one code block is copied at once; with several, the
    palette lists them (last first) to pick one. Returns the blocks found."""
    if pane is None:
        app.notify("no pane to copy from", markup=False)
        return []
    blocks = code_blocks(pane.session.answer_text())
    if not blocks:
        app.notify(f"{_name(pane)}: no code block in the last answer", markup=False)
    elif len(blocks) == 1:
        copy_code(app, pane, blocks[0], 1)
    else:
        app.search_commands(
            code_block_commands(app, pane, blocks),
            placeholder=f"Copy which of {len(blocks)} code blocks of {_name(pane)}'s answer…",
        )
    return blocks


def selected_text(app: AppHost) -> str | None:
    """What the user selected: text selected with the mouse on the screen (the chunk view,
    the events log, any widget that allows selection), else the prompt's own selection."""
    text = app.screen.get_selected_text()
    if text:
        return text
    focused = app.focused
    if isinstance(focused, TextArea) and focused.selected_text:
        return focused.selected_text
    return None


def copy_selection(app: AppHost) -> bool:
    """Copy the selected text; returns whether anything was copied."""
    text = selected_text(app)
    if not text:
        app.notify("nothing selected: drag the mouse over a pane's text first", markup=False)
        return False
    app.copy_to_clipboard(text)
    app.notify(f"copied the selection ({_chars(text)})", markup=False)
    return True


# -- exports ----------------------------------------------------------------------------------


def export_path(folder: Path, session_id: int, fmt: ExportFormat, stamp: str) -> Path:
    """``<folder>/session-<id>-<stamp>.md`` (or ``.jsonl``), ``-2``, ``-3``... when taken."""
    stem = f"session-{session_id}-{stamp}"
    path = folder / (stem + _SUFFIX[fmt])
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}{_SUFFIX[fmt]}"
    return path


def write_export(history_path: Path, uid: str, fmt: ExportFormat, folder: Path) -> tuple[Path, str]:
    """Write session ``uid`` of the history at ``history_path`` to a new file in ``folder``;
    returns the file and, for Markdown, its text (for the clipboard; ``""`` for JSON lines).
    Runs in a thread: it opens its own connection. Raises what reading or writing raises."""
    folder.mkdir(parents=True, exist_ok=True)
    with History(history_path) as history:
        session_id = history.resolve(uid)
        path = export_path(folder, session_id, fmt, time.strftime("%Y%m%d-%H%M%S"))
        if fmt == "markdown":
            text = export_markdown(history, uid)
            path.write_text(text, encoding="utf-8")
            return path, text
        with path.open("x", encoding="utf-8") as out:
            export_jsonl(history, uid, out)
        return path, ""


async def export_conversation(app: AppHost, fmt: ExportFormat) -> Path | None:
    """Export the conversation on screen (its saved session) to ``<data dir>/exports/``; a
    Markdown export also goes to the clipboard. Returns the file, or None (said in one line)."""
    if not app.settings.history:
        app.notify(
            "export needs the history, and it is off (history = false); "
            "F2 records the conversation to a file instead",
            severity="warning",
            markup=False,
        )
        return None
    recorder = app.saving.recorder
    writer = recorder.history if recorder is not None else None
    uid = recorder.session_uid if recorder is not None else None
    if recorder is None or writer is None or uid is None:
        app.notify("nothing to export yet: send a prompt first", markup=False)
        return None
    recorder.flush()
    folder = locations.data_dir() / EXPORTS_DIR
    try:
        path, text = await asyncio.to_thread(write_export, writer.path, uid, fmt, folder)
    except Exception as exc:  # noqa: BLE001  # one line, the app goes on
        app.notify(f"export failed: {error_summary(exc)}", severity="error", markup=False)
        return None
    if text:
        app.copy_to_clipboard(text)
        app.notify(f"exported to {path} and copied ({_chars(text)})", markup=False)
    else:
        app.notify(f"exported the recording to {path}", markup=False)
    return path


# -- scrolling the selected pane --------------------------------------------------------------


def shown_view(pane: StreamPane) -> Widget:
    """The view of ``pane`` on screen: its Markdown view when that is on, else its chunks."""
    if pane.markdown_on:
        for md in pane.query(Markdown):
            if md.display:
                return md
    return pane.body


def scroll_pane(pane: StreamPane | None, move: ScrollMove) -> None:
    """Scroll what ``pane`` shows (its chunk view, or its Markdown view when that is on)
    without moving the focus from the prompt. Scrolling to the bottom lets the view follow
    new chunks again; scrolling up stops it following, as the mouse wheel does."""
    if pane is None:
        return
    view = shown_view(pane)
    if move == "page_up":
        view.scroll_page_up(animate=False)
    elif move == "page_down":
        view.scroll_page_down(animate=False)
    elif move == "top":
        view.scroll_home(animate=False)
    else:
        view.scroll_end(animate=False)


__all__ = [
    "CodeBlock",
    "code_blocks",
    "copy_answer",
    "copy_code_block",
    "copy_selection",
    "export_conversation",
    "scroll_pane",
    "shown_view",
    "write_export",
]
