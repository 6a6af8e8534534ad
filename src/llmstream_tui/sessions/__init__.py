"""Sessions: the history database, recordings, and the recorder that feeds both.

Core code: never imports textual. ``recording.py`` documents the file format.
"""

from __future__ import annotations

from ..core.recording import RecordingReader, RecordingWriter
from .history import (
    History,
    HistoryWriter,
    ProviderRecord,
    RunRecord,
    SessionRecord,
    SessionSummary,
)
from .recorder import RunRecorder, SessionRecorder

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
