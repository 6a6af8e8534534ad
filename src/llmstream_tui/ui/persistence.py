"""Saving the conversation and reopening a saved one: what the app decides, without Textual.

The app holds one :class:`CurrentRecorder`: the ``SessionRecorder`` of the conversation on
screen, opened at its first prompt (or when a saved session is reopened, to continue it) and
closed by a new conversation. Saving is never worth a crash: a history that cannot be opened
leaves a recorder that saves nothing, and every problem a recorder meets (a sink that failed)
is reported once, as one line, through the callback the app gives.

Reopening a saved session gives each of its providers a :class:`RestoredPane`: the
conversation its pane held when it was left (for the pane's session) and its exchanges as
they arrived, chunk by chunk (for the pane's screen). The rules are in
:func:`reopened_exchanges`; everything here is tested without an app
(``tests/ui/test_persistence.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.inert import escape_controls
from ..core.messages import BaseMessage
from ..sessions.history import History
from ..sessions.recorder import SessionRecorder
from ..sessions.records import ProviderRecord, RunRecord, SessionRecord
from ..sessions.side_channels import SideChannels
from .session import answer_message, error_summary, kept_in_conversation, turn_messages

#: Where the record key writes, under the data dir.
RECORDINGS_DIR = "recordings"
#: How a reopened run that did not finish is marked below its answer.
ENDED_NOTE = {
    "error": "(error)",
    "cancelled": "(cancelled)",
    "interrupted": "(interrupted)",
    "streaming": "(still streaming elsewhere)",
}


@dataclass
class ShownExchange:
    """One exchange as a reopened pane shows it."""

    prompt: str
    #: the answer's chunk texts, as they arrived
    chunks: list[str]
    #: how a run that did not finish ended, shown below its answer (None: it finished)
    note: str | None = None
    #: its reasoning, refusal and tool calls (None: it streamed nothing besides its answer)
    side: SideChannels | None = None
    #: how many messages of the conversation came before it (where an edit forks)
    kept_before: int = 0
    #: the saved turn it was sent in
    turn: int | None = None


# -- saving the conversation -----------------------------------------------------------------


def open_recorder(*, history: bool) -> SessionRecorder:
    """A recorder for a new conversation, saving into the history when ``history``. One
    that cannot open the history saves nothing and says so in its ``problems``."""
    try:
        return SessionRecorder.open(history=history)
    except Exception as exc:  # noqa: BLE001  # the app goes on without a history
        recorder = SessionRecorder()
        recorder.problems.append(f"history not saved: {error_summary(exc)}")
        return recorder


def start_recording(recorder: SessionRecorder, folder: Path, stamp: str) -> Path:
    """Start ``recorder`` writing a recording file ``<folder>/<stamp>.jsonl`` (``-2``,
    ``-3``... when taken) and return its path. Raises ``OSError`` (the folder cannot be
    made) or ``RecordingError`` (the file cannot be written, or already recording)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stamp}.jsonl"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{stamp}-{n}.jsonl"
    recorder.start_recording(path)
    return path


class CurrentRecorder:
    """The recorder of the conversation on screen, and the reporting of its problems.

    ``warn`` receives each new problem as one inert line, once per app however many
    conversations meet it (a full disk fails every conversation the same way).
    """

    def __init__(self, *, history: bool, warn: Callable[[str], None]) -> None:
        self.history = history
        self._warn = warn
        self._recorder: SessionRecorder | None = None
        #: problems of the current recorder already reported
        self._reported = 0
        self._shown: set[str] = set()

    @property
    def recorder(self) -> SessionRecorder | None:
        """What saves the current conversation (None before its first prompt)."""
        return self._recorder

    def get(self) -> SessionRecorder:
        """The current conversation's recorder, opened at its first use."""
        recorder = self._recorder
        if recorder is None:
            recorder = open_recorder(history=self.history)
            self.use(recorder)
        return recorder

    def continue_session(self, uid: str) -> None:
        """Save from now on into the saved session ``uid`` (a reopened one). Raises what
        opening the history raises; the caller decides what the user is told."""
        self.use(SessionRecorder.open(session=uid))

    def use(self, recorder: SessionRecorder) -> None:
        """Make ``recorder`` the current one (the previous one must be closed first)."""
        self._recorder = recorder
        self._reported = 0
        self.report_problems()

    def close(self) -> None:
        """Close the current recorder (the conversation ends); the next prompt opens a new one."""
        recorder = self._recorder
        if recorder is None:
            return
        self._recorder = None
        recorder.close()
        self._report(recorder)

    def report_problems(self) -> None:
        """Report the current recorder's new problems. Cheap when there are none: the app
        calls it every frame, since a sink can fail at any time."""
        recorder = self._recorder
        if recorder is not None and len(recorder.problems) > self._reported:
            self._report(recorder)

    def _report(self, recorder: SessionRecorder) -> None:
        problems = recorder.problems
        for problem in problems[self._reported :]:
            line = " ".join(escape_controls(problem).split())
            cause = _cause(line)
            if cause not in self._shown:
                self._shown.add(cause)
                self._warn(line)
        self._reported = len(problems)


#: How a recorder's problem lines begin; the cause after them is what is reported once.
_SINK_PREFIXES = ("history not saved: ", "history no longer saved: ")


def _cause(line: str) -> str:
    """A problem line without its sink prefix: a damaged history first stops the open
    recorder ("no longer saved") then refuses the next ("not saved"), one cause told once."""
    for prefix in _SINK_PREFIXES:
        if line.startswith(prefix):
            return line[len(prefix) :]
    return line


# -- reopening a saved session -----------------------------------------------------------------


def reopened_exchanges(record: SessionRecord, provider: str) -> list[tuple[str, RunRecord]]:
    """``provider``'s exchanges in a saved session, as its pane held them when it was left:
    ``(prompt, run)`` in order.

    The history keeps every turn; a pane's conversation holds fewer. A turn ``provider`` did
    not answer (the pane was added later, or another pane was retried) was never in it. A
    retry is saved as a new turn with the same prompt answered by that pane alone; it
    *replaced* the exchange before it, so it does so here too. (In a one-pane session the
    same prompt sent twice in a row looks exactly like a retry and is read as one.)
    """
    out: list[tuple[str, RunRecord]] = []
    answered: dict[int, set[str]] = {}
    for saved in record.runs:
        answered.setdefault(saved.turn, set()).add(saved.provider)
    for turn, prompt in enumerate(record.prompts):
        run = record.run(provider, turn)
        if run is None:
            continue
        if out and answered[turn] == {provider} and out[-1][0] == prompt:
            out[-1] = (prompt, run)
        else:
            out.append((prompt, run))
    return out


def answer_chunks(history: History, run_id: int) -> list[str]:
    """A saved run's answer as it arrived: the texts of its answer chunks, in order (a
    refusal is not the answer: it comes back with the side channels)."""
    chunks = history.iter_chunks(run_id)
    return [c["text"] for c in chunks if c["text"] and c.get("channel") is None]


@dataclass
class RestoredPane:
    """What one provider of a reopened session comes back with."""

    #: the pane's name (the name its runs were saved under)
    name: str
    #: the provider table to build it from; None: build the provider configured under
    #: ``name`` (the config wins over the settings the session saved, but for ``saved``)
    table: dict[str, Any] | None
    #: the settings the session saved last (``ProviderRecord.table``): a configured
    #: provider takes its model and parameters from them (set with F11 while it ran)
    saved: dict[str, Any] = field(default_factory=dict)
    #: the conversation the pane held, ready to continue (``PaneSession.restore``)
    conversation: list[BaseMessage] = field(default_factory=list)
    #: the last prompt it was sent (what a retry sends again)
    last_prompt: str | None = None
    #: whether that last exchange is in ``conversation``
    recorded: bool = False
    #: every exchange as shown, chunk boundaries included (``StreamPane.restore``)
    shown: list[ShownExchange] = field(default_factory=list)


async def restore_pane(
    record: SessionRecord, provider: ProviderRecord, history: History, configured: Collection[str]
) -> RestoredPane:
    """``provider``'s pane of the saved session ``record``, its chunks read from ``history``.
    ``configured`` are the provider names of the config. Yields to the event loop after each
    exchange: a long session must not hold the keys up while it is read."""
    name = provider.name
    table = provider.table()
    restored = RestoredPane(name, None if name in configured else table, saved=table)
    exchanges = reopened_exchanges(record, name)
    for prompt, run in exchanges:
        saved = SideChannels(history, run.id)
        side = saved if saved.total is not None else None
        final = saved.total if run.status == "done" else None
        # the prompt after a tool call was sent as each call's result, as it is live
        kept_before = len(restored.conversation)
        turn = turn_messages(restored.conversation, prompt)
        restored.recorded = kept_in_conversation(run.status, run.text) or final is not None
        if restored.recorded:
            restored.conversation += [*turn, answer_message(run.text, final)]
        chunks = answer_chunks(history, run.id)
        note = ENDED_NOTE.get(run.status)
        restored.shown.append(
            ShownExchange(prompt, chunks, note, side, kept_before=kept_before, turn=run.turn)
        )
        await asyncio.sleep(0)
    restored.last_prompt = exchanges[-1][0] if exchanges else None
    return restored
