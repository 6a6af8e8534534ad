"""Sessions: the history database, recordings, and the recorder that feeds both.

Core code: never imports textual. ``core/recording.py`` documents the file format.

``db.py`` (the file, its schema, the one transaction helper, crash recovery),
``records.py`` (what reading returns), ``writer.py`` (``HistoryWriter``: saving, on the
streaming path), ``history.py`` (``History``: listing, search, load, delete, export),
``recorder.py`` / ``run_recorder.py`` (what the CLI and the app call as runs happen),
``export.py`` (Markdown and JSON lines).
"""

from __future__ import annotations

from ..core.recording import RecordingReader, RecordingWriter
from .history import History
from .recorder import RunRecorder, SessionRecorder
from .records import ProviderRecord, RunRecord, SessionRecord, SessionSummary
from .writer import HistoryWriter

__all__ = [
    "History",
    "HistoryWriter",
    "ProviderRecord",
    "RecordingReader",
    "RecordingWriter",
    "RunRecord",
    "RunRecorder",
    "SessionRecord",
    "SessionRecorder",
    "SessionSummary",
]
