"""``SessionRecorder``: watches the runs of one session and saves them, off the hot path.

The CLI and the app call it as things happen::

    recorder = SessionRecorder.open(record="run.jsonl", history=True)
    turn = recorder.begin_turn("Write me a song")
    run = recorder.start_run(llm, timeline=timeline)   # one per provider
    async for ev in llm.astream_events(prompt, {"timeline": timeline}):
        run.observe(ev)                                # chunk lines, then the end line
    ...  # on failure: run.error(exc, partial_text)
    recorder.close()

Per chunk of plain answer text it costs a timestamp and two list appends (the run's open
batch, written with one statement); a chunk with more on it (a channel, metadata, usage) is
a small dict and a list append under a lock. A caller that batches text itself (the app)
hands it over with ``run.texts``; ``run_recorder.py`` holds that side.
A writer thread takes what accumulated every ``FLUSH_INTERVAL_S`` and hands it, as
recording lines (``core/recording.py`` documents them), to each sink: the recording file
(one write + flush) and
the history database (one transaction). So a process killed with SIGKILL loses at most the
chunks of the last interval plus the time one batch takes to write, and whatever reached a
sink is complete lines / committed rows.

A sink that fails (disk full, a locked or foreign database) is dropped with a one-line
message in ``problems``; the run and the other sink go on.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, Self, runtime_checkable

from ..core.recording import RecordingWriter
from ..core.recording_lines import describe_provider
from ..errors import LLMStreamError, RecordingError
from .run_recorder import LineQueue, RunRecorder, chunk_lines

if TYPE_CHECKING:
    from ..config import Settings
    from ..core.metrics import StreamTimeline
    from ..core.runnable import LanguageModel
    from ..providers.spec import ProviderSpec
    from .writer import HistoryWriter

#: How often the writer thread flushes, in seconds. A SIGKILL loses at most about this much.
FLUSH_INTERVAL_S: Final = 0.05

Sink = Callable[[list[dict[str, Any]]], None]

_OPEN: weakref.WeakSet[SessionRecorder] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:  # pragma: no cover  # runs at interpreter exit
    for recorder in list(_OPEN):
        recorder.close()


class SessionRecorder:
    """Records one session (a conversation: turns, each answered by one or more providers)
    into a recording file, the history database, or both."""

    def __init__(
        self,
        *,
        recording: RecordingWriter | None = None,
        history: HistoryWriter | None = None,
        events: bool = False,
        flush_interval: float = FLUSH_INTERVAL_S,
        first_turn: int = 0,
    ) -> None:
        self.recording = recording
        self.history = history
        self.events = events
        self.flush_interval = flush_interval
        #: One-line messages about sinks that failed and were dropped.
        self.problems: list[str] = []
        self._sinks: dict[str, Sink] = {}
        if recording is not None:
            self._sinks["recording"] = _one_line_per_chunk(recording.write)
        if history is not None:
            self._sinks["history"] = history.apply
        self._queue = LineQueue(self.flush)
        self._put = self._queue.put
        self._flush_lock = threading.Lock()
        self._described: dict[str, Mapping[str, Any]] = {}
        self._turn = first_turn - 1
        self._in_turn: set[str] = set()
        self._closed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="llmstream-recorder", daemon=True)
        self._thread.start()
        _OPEN.add(self)

    @classmethod
    def open(
        cls,
        *,
        record: str | Path | None = None,
        overwrite: bool = False,
        history: bool = True,
        history_path: str | Path | None = None,
        session: str | None = None,
        events: bool = False,
    ) -> SessionRecorder:
        """A recorder for the CLI or the app. ``record``: a new recording file (an existing
        one raises ``RecordingError`` unless ``overwrite``). ``history``: also save to the
        history database; if that cannot be opened the problem is kept in ``problems`` and
        the session runs without it. ``session`` continues a saved session (its uid)."""
        writer = RecordingWriter(record, overwrite=overwrite) if record is not None else None
        store: HistoryWriter | None = None
        problems: list[str] = []
        first_turn = 0
        if history or session is not None:
            from .history import History  # sqlite3 is imported when history is wanted
            from .writer import HistoryWriter

            try:
                if session is not None:
                    with History(history_path) as h:
                        first_turn = len(h.load(session).prompts)
                store = HistoryWriter(history_path, session)
            except RecordingError as exc:
                if session is not None:
                    if writer is not None:
                        writer.close()
                    raise
                problems.append(f"history not saved: {exc}")
        recorder = cls(recording=writer, history=store, events=events, first_turn=first_turn)
        recorder.problems.extend(problems)
        return recorder

    @property
    def session_uid(self) -> str | None:
        """The history's id of this session (None when not saving to history)."""
        return self.history.uid if self.history is not None else None

    @property
    def turn(self) -> int:
        """The current turn (-1 before the first prompt)."""
        return self._turn

    # -- what callers report ---------------------------------------------------------------

    def begin_turn(self, prompt: str) -> int:
        """A new prompt; returns its turn number. Runs started after it belong to it."""
        self._turn += 1
        self._in_turn.clear()
        self._put({"type": "prompt", "turn": self._turn, "text": prompt})
        return self._turn

    def start_run(
        self,
        provider: LanguageModel | str,
        *,
        description: Mapping[str, Any] | None = None,
        timeline: StreamTimeline | None = None,
        settings: Settings | None = None,
    ) -> RunRecorder:
        """Start recording one provider's answer to the current turn.

        ``provider`` is a ``LanguageModel`` (its name and settings are described from it) or
        a name (then ``description``, a recording ``provider`` line, may describe it). Pass
        the run's ``timeline`` so chunk times count from the same instant as its metrics.
        Two runs with the same name in one turn get ``#2``, ``#3``... suffixes (``-p swift
        -p swift``); to retry a pane, begin a new turn with the same prompt.
        """
        if self._turn < 0:
            self.begin_turn("")
        if isinstance(provider, str):
            name = provider
        else:
            name = provider.name
            if description is None:
                description = describe_model(provider, settings)
        base, n = name, 1
        while name in self._in_turn:
            n += 1
            name = f"{base}#{n}"
        self._in_turn.add(name)
        line: dict[str, Any] = dict(description) if description is not None else {}
        line.update(type="provider", provider=name)
        if self._described.get(name) != line:  # new, or its settings changed mid-session
            self._described[name] = line
            self._put(line)
        self._put({"type": "run", "provider": name, "turn": self._turn})
        return RunRecorder(
            self._put, name, self._turn, timeline, events=self.events, queue=self._queue
        )

    def start_recording(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Start writing a recording mid-session (the app's record key): the providers known
        so far, then everything from the next prompt on, so the file is a complete
        recording of the turns it holds. The turn in progress is not included (its runs'
        start is gone); the history has it (``export``)."""
        if self.recording is not None:
            raise RecordingError(f"already recording to {self.recording.path}")
        writer = RecordingWriter(path, overwrite=overwrite)
        writer.write(list(self._described.values()))
        started = False

        def from_next_prompt(batch: list[dict[str, Any]]) -> None:
            nonlocal started
            if not started:
                for i, line in enumerate(batch):
                    if line["type"] == "prompt":
                        started = True
                        writer.write(batch[i:])
                        return
                    if line["type"] == "provider":
                        writer.write([line])
                return
            writer.write(batch)

        with self._flush_lock:
            self._drain()  # what happened before goes to the other sinks only
            self.recording = writer
            self._sinks["recording"] = _one_line_per_chunk(from_next_prompt)

    def stop_recording(self) -> Path | None:
        """End the recording file (the record key again): everything reported so far is
        written, the file closed; the history goes on. Returns its path (None: not
        recording)."""
        with self._flush_lock:
            writer = self.recording
            if writer is None:
                return None
            self._drain()
            self._sinks.pop("recording", None)
            self.recording = None
        writer.close()
        return Path(writer.path)

    # -- writing ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self.flush()

    def flush(self) -> None:
        """Hand everything reported so far to the sinks now (any thread)."""
        with self._flush_lock:
            self._drain()

    def _drain(self) -> None:
        batch = self._queue.take()
        if batch:
            for name, sink in list(self._sinks.items()):
                try:
                    sink(batch)
                except Exception as exc:  # noqa: BLE001  # a failing sink must not stop a run
                    del self._sinks[name]
                    message = (
                        str(exc)
                        if isinstance(exc, LLMStreamError)
                        else (f"{type(exc).__name__}: {exc}")
                    )
                    self.problems.append(f"{name} no longer saved: {message}")

    def close(self) -> None:
        """Flush, stop the writer thread, close the sinks. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        self.flush()
        if self.recording is not None:
            self.recording.close()
        if self.history is not None:
            self.history.close()
        _OPEN.discard(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _one_line_per_chunk(write: Sink) -> Sink:
    """A sink for recording lines only: ``chunks`` batches are spelled out as ``chunk``
    lines before ``write`` sees them (the history takes batches as they are)."""

    def sink(batch: list[dict[str, Any]]) -> None:
        if any(line["type"] == "chunks" for line in batch):
            spelled: list[dict[str, Any]] = []
            for line in batch:
                if line["type"] == "chunks":
                    spelled += chunk_lines(line)
                else:
                    spelled.append(line)
            batch = spelled
        write(batch)

    return sink


@runtime_checkable
class ConfiguredModel(Protocol):
    """A backend that keeps the ``ProviderSpec`` it was built from (every built-in kind
    does, as ``self.spec``): its provider line is described from that, not looked up again."""

    @property
    def spec(self) -> ProviderSpec:
        """The validated settings the backend was built from."""
        ...


def describe_model(llm: LanguageModel, settings: Settings | None = None) -> dict[str, Any]:
    """The recording ``provider`` line for a built backend (from its ``spec``), never a key.

    A backend without one (a ``LanguageModel`` built by hand) is described from its
    reference resolved again against ``settings``; failing that, from what it says of
    itself (provider family, model, flavor, parameters)."""
    if isinstance(llm, ConfiguredModel):
        spec = llm.spec
    else:
        from ..providers.registry import resolve, validate_table

        try:
            spec = validate_table(resolve(llm.name, settings)[1])
        except LLMStreamError:
            return {
                "kind": llm.ls_provider,
                "model": llm.model,
                "flavor": llm.flavor,
                "params": dict(llm.params),
            }
    return describe_provider(llm.name, spec, flavor=llm.flavor)


__all__ = [
    "FLUSH_INTERVAL_S",
    "ConfiguredModel",
    "RunRecorder",
    "SessionRecorder",
    "describe_model",
]
