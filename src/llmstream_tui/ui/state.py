"""What the app remembers between runs, in the user data dir: prompts to recall, chosen theme.

Both are small files written whole-or-appended; a data dir that cannot be written (read-only
home, full disk) costs the user the memory, never the session, so every failure here is
swallowed and reported once by the caller through ``last_error``.
"""

from __future__ import annotations

import json
from pathlib import Path

#: Prompts kept; older ones are dropped when the file is rewritten.
RECALL_LIMIT = 500
#: The file under the data dir. Named before "history" came to mean the saved sessions;
#: kept so that prompts saved by earlier versions are still recalled.
RECALL_FILE = "prompt_history"


class PromptRecall:
    """Prompts sent, oldest first, for the prompt box to recall (up/down); stored one JSON
    string per line (prompts span lines). Not the saved sessions (``sessions.History``)."""

    def __init__(self, path: Path | None, limit: int = RECALL_LIMIT) -> None:
        self.path = path
        self.limit = limit
        self.entries: list[str] = []
        self.last_error: str | None = None
        #: the file holds lines that could not be read: it is only ever appended to, so
        #: what it holds stays for the user to look at (never rewritten without them)
        self._append_only = False
        #: the file does not end with a newline (a torn last line): the next append
        #: starts a line of its own
        self._needs_newline = False
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        """Every line that is a JSON string; a torn line (a crash mid-write) is skipped
        quietly, a line that is not UTF-8 (another program, a damaged disk) is skipped and
        counted in ``last_error``, once."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            self.last_error = f"{path}: {exc.strerror}"
            return
        self._needs_newline = bool(raw) and not raw.endswith(b"\n")
        unreadable = 0
        for data in raw.split(b"\n"):
            try:
                line = data.decode("utf-8")
            except UnicodeDecodeError:
                unreadable += 1
                continue
            try:
                value = json.loads(line) if line.strip() else None
            except ValueError:
                continue  # a torn last line from a crash: skip it, keep the rest
            if isinstance(value, str) and value:
                self.entries.append(value)
        self.entries = self.entries[-self.limit :]
        if unreadable:
            self._append_only = True
            lines = "1 line is" if unreadable == 1 else f"{unreadable} lines are"
            self.last_error = f"{path}: {lines} not UTF-8 and skipped; the file is kept as it is"

    def add(self, prompt: str) -> None:
        if not prompt.strip():
            return
        if self.entries and self.entries[-1] == prompt:
            return
        self.entries.append(prompt)
        rewrite = len(self.entries) > self.limit and not self._append_only
        self.entries = self.entries[-self.limit :]
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if rewrite:
                text = "".join(json.dumps(e) + "\n" for e in self.entries)
                self.path.write_text(text, encoding="utf-8")
            else:
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(("\n" if self._needs_newline else "") + json.dumps(prompt) + "\n")
            self._needs_newline = False
        except OSError as exc:
            self.last_error = f"{self.path}: {exc.strerror}"


class Choices:
    """Small remembered choices (the theme), one JSON object."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.values: dict[str, object] = {}
        self.last_error: str | None = None
        if path is None:
            return
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = {}
        if isinstance(loaded, dict):
            self.values = loaded

    def get(self, key: str) -> object:
        return self.values.get(key)

    def set(self, key: str, value: object) -> None:
        if self.values.get(key) == value:
            return
        self.values[key] = value
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.values, indent=1), encoding="utf-8")
        except OSError as exc:
            self.last_error = f"{self.path}: {exc.strerror}"
