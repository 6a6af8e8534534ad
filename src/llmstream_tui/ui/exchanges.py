"""Edit and resend: the exchanges a pane shows, and the palette that picks one to edit.

Web chat UIs let a user edit an earlier prompt and resend it: the conversation forks from
there, and the answers after it are gone from the view (not from the history: the fork is
saved as a new session, the original stays as it was). Each pane keeps where each of its
exchanges starts on screen, how much of its conversation came before it, and the saved turn
it was sent in, so that a fork cuts all three at the same place. (The palette entries
and the resend itself are in ``edit_resend.py``.)
"""

from __future__ import annotations

from dataclasses import dataclass

#: A place in a pane's text (``ChunkText.mark``).
Mark = tuple[int, int, int]

PREVIEW = 60


@dataclass
class Exchange:
    """One prompt and its answer as a pane shows them."""

    prompt: str
    #: where its echo starts in the pane's text (moved when the text is redrawn)
    mark: Mark
    #: how many messages of the pane's conversation came before it
    kept_before: int
    #: the saved turn it was sent in (None: not saved)
    turn: int | None


@dataclass(frozen=True)
class EditTarget:
    """An earlier prompt being edited: its number (1 = the first of the selected pane),
    the turn it was sent in, and the panes the resend goes to (names)."""

    number: int
    prompt: str
    turn: int | None
    panes: tuple[str, ...]


def preview(prompt: str) -> str:
    line = " ".join(prompt.split())
    return line if len(line) <= PREVIEW else line[: PREVIEW - 1] + "…"
