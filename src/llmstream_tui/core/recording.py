"""Recordings: a versioned JSON-lines file holding everything needed to replay a session.

Format ``llmstream-recording``, version 1
=========================================

UTF-8 text, one JSON object per line, ``\\n`` after every line. The first line is the header::

    {"format":"llmstream-recording","version":1,"created":"2025-01-31T12:00:00Z",
     "generator":"llmstream-tui X.Y.Z"}

(an export from the history adds ``session`` and ``title``).

Every other line has a ``type``. Lines are written in the order things happened:

``provider``  a pane's provider, before any of its runs::

    {"type":"provider","provider":"fast","kind":"openai-chat","model":"gpt-4o-mini",
     "base_url":"http://127.0.0.1:8000/v1","api_key_env":"OPENAI_API_KEY","flavor":"chat",
     "params":{"temperature":0.2},"options":{"timeout":60.0,...},"headers":["x-team"]}

    ``provider`` is the name every later line refers to (unique within the file).
    ``api_key_env`` is the *name* of the variable; no key, and no header value, is ever
    written (``headers`` lists header names only; options named like a secret, ``api_key``,
    ``*_token``..., are left out).

``prompt``    what the user sent; starts turn ``turn`` (0, 1, 2...)::

    {"type":"prompt","turn":0,"text":"Write me a song"}

``run``       a provider starts answering a turn; the instant ``t = 0`` of that run::

    {"type":"run","provider":"fast","turn":0}

``chunk``     one streamed piece of the provider's current run::

    {"type":"chunk","provider":"fast","index":0,"t":0.231507,"text":"Spark"}

    ``t`` is seconds since the run started (microsecond precision), ``index`` counts the
    run's chunk lines from 0. Optional: ``channel`` (``reasoning``, ``refusal``,
    ``tool_call``, or ``meta`` for a piece with no text that carries only a stop reason or
    usage; absent means answer text), ``tool_call`` (the tool-call delta), ``metadata`` (the
    piece's response metadata, e.g. ``{"finish_reason":"stop"}``) and ``usage`` (its usage
    delta). A chat model's closing empty chunk is not recorded (a replay makes its own).

``event``     optional (``stream --events``): one ``astream_events`` dict of the run::

    {"type":"event","provider":"fast","t":0.2315,"event":{"event":"on_chat_model_stream",...}}

``end``       the run finished; ``finish_reason`` and ``usage`` are the run's totals::

    {"type":"end","provider":"fast","t":1.92,"text":"Sparkling water...",
     "finish_reason":"stop","usage":{"input_tokens":9,...},"metrics":{"ttft_s":0.23,...}}

``error``     the run failed (or was cancelled: ``error.kind == "cancelled"``)::

    {"type":"error","provider":"fast","t":0.8,"text":"Spark","error":{"kind":"timeout",
     "message":"fast: no data for 60s","status":null,"detail":"no data for 60s","hint":null},
     "metrics":{...}}

A ``chunk``/``event``/``end``/``error`` line belongs to the latest ``run`` line of the same
provider, so runs of several providers interleave freely. A run with no ``end`` or ``error``
line was interrupted (the process died): it replays up to where it stopped.

Compatibility: readers ignore unknown line types and unknown keys (additions stay version
1); a change that old readers would misread bumps ``version``, and a reader refuses versions
it does not know.

Robustness guarantees (``RecordingReader``): reading streams line by line in constant memory;
a torn last line (the writer died mid-write) or a corrupt line in the middle is skipped and
reported in ``problems``, everything readable still loads; an empty, foreign or newer-version
file raises ``RecordingError`` with one line. Every read is bounded: the header must end
within ``MAX_HEADER_BYTES``, a longer line than ``MAX_LINE_BYTES`` is skipped (read past in
pieces, never held), and a file that is not a regular file (a symlink to ``/dev/zero``, a
pipe, a device: endless, or gone once read) is refused before any read. ``RecordingWriter``
never overwrites an existing file unless told to.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import stat
from collections.abc import Generator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Final, Self

from ..errors import RecordingError
from ..version import VERSION as PACKAGE_VERSION

FORMAT: Final = "llmstream-recording"
VERSION: Final = 1
#: Problems kept verbatim; more are only counted, so a damaged huge file stays cheap to read.
MAX_PROBLEMS: Final = 10
#: The header is a few hundred bytes; a first line not ended within this is no header.
MAX_HEADER_BYTES: Final = 1024 * 1024
#: The longest line read; longer ones are skipped. An ``end`` line holds a run's whole
#: text, so this is far above any answer, yet bounds what one line can cost.
MAX_LINE_BYTES: Final = 64 * 1024 * 1024
#: The piece size used to read past a line longer than the limit.
_SKIP_PIECE: Final = 1024 * 1024


def _size(n: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"


def _jsonable(value: Any) -> Any:
    """Messages and chunks inside event lines serialise as their ``to_dict()``."""
    to_dict = getattr(value, "to_dict", None)
    if to_dict is not None:
        return to_dict()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


# One encoder each, built once: ``json.dumps`` with options builds a new one per call.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_jsonable).encode
_encode_ascii = json.JSONEncoder(separators=(",", ":"), default=_jsonable).encode


def dump_line(obj: Mapping[str, Any]) -> str:
    """One recording line (no newline): compact JSON, non-ASCII kept as UTF-8.

    Text with lone surrogates (possible in untrusted model output) cannot be UTF-8, so such
    a line falls back to ``\\u`` escapes: still valid JSON, still the same string when read.
    """
    line = _encode(obj)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = _encode_ascii(obj)
    return line


def dump_lines(lines: Iterable[Mapping[str, Any]]) -> bytes:
    """Many lines as UTF-8 bytes, each ending in a newline (the fast path of ``dump_line``:
    one encode for the batch, per-line fallback only when a surrogate is in it)."""
    batch = list(lines)
    if not batch:
        return b""
    try:
        return ("\n".join(map(_encode, batch)) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return "".join(dump_line(obj) + "\n" for obj in batch).encode("utf-8")


def header(**extra: Any) -> dict[str, Any]:
    """The first line of a new recording."""
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "format": FORMAT,
        "version": VERSION,
        "created": now,
        "generator": f"llmstream-tui {PACKAGE_VERSION}",
        **extra,
    }


class RecordingWriter:
    """Appends recording lines to a new file; each ``write`` is one ``write`` + ``flush``.

    Flushing hands the bytes to the OS, so a process killed with SIGKILL right after keeps
    them (no fsync: a power cut may lose the last seconds, a crash does not). The file is
    created exclusively: an existing file is an error unless ``overwrite=True``.
    """

    def __init__(self, path: str | Path, *, overwrite: bool = False, **header_extra: Any) -> None:
        self.path = Path(path)
        try:
            self._file: IO[bytes] | None = self.path.open("wb" if overwrite else "xb")
        except FileExistsError:
            raise RecordingError(
                f"{self.path}: already exists (not overwritten; --overwrite replaces it)"
            ) from None
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot create: {exc.strerror}") from None
        self.write([header(**header_extra)])

    def write(self, lines: Iterable[Mapping[str, Any]]) -> None:
        """Append ``lines`` and flush them to the OS in one write."""
        if self._file is None:
            raise RecordingError(f"{self.path}: recording already closed")
        data = dump_lines(lines)
        if data:
            self._file.write(data)
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_recording(
    path: str | Path,
    lines: Iterable[Mapping[str, Any]],
    *,
    overwrite: bool = False,
    batch: int = 4096,
) -> None:
    """Write a whole recording (header added) from an iterable of lines, in batches."""
    with RecordingWriter(path, overwrite=overwrite) as writer:
        buf: list[Mapping[str, Any]] = []
        for obj in lines:
            buf.append(obj)
            if len(buf) >= batch:
                writer.write(buf)
                buf.clear()
        writer.write(buf)


def _check_header(path: Path, raw: bytes, complete: bool) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        if not complete and raw.lstrip().startswith(b'{"format":"' + FORMAT.encode()):
            raise RecordingError(f"{path}: the recording header is cut short (torn file)") from None
        raise RecordingError(f"{path}: not an llmstream recording (no header line)") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise RecordingError(f"{path}: not an llmstream recording (no header line)")
    version = obj.get("version")
    if version != VERSION:
        raise RecordingError(
            f"{path}: recording format version {version!r} is not supported "
            f"(this llmstream-tui reads version {VERSION})"
        )
    return obj


class RecordingReader:
    """Reads a recording line by line. Opening checks the header (``RecordingError`` for an
    empty, foreign or unknown-version file); iterating yields every readable line after it
    as a dict, in constant memory, however long the file.

    ``problems`` (at most ``MAX_PROBLEMS`` one-line messages) and ``problem_count`` describe
    what the last iteration skipped; ``torn`` is True when the last line was cut short.
    ``max_line_bytes`` bounds one line (see the module docstring).
    """

    def __init__(self, path: str | Path, *, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.path = Path(path)
        self.max_line_bytes = max_line_bytes
        self.problems: list[str] = []
        self.problem_count = 0
        self.torn = False
        with self._open() as fh:
            first = fh.readline(MAX_HEADER_BYTES)
        if not first.strip():
            raise RecordingError(f"{self.path}: empty file, not an llmstream recording")
        self.header = _check_header(self.path, first, first.endswith(b"\n"))

    def _open(self) -> IO[bytes]:
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            raise RecordingError(f"{self.path}: no such recording") from None
        except IsADirectoryError:
            raise RecordingError(f"{self.path}: is a directory, not a recording") from None
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot read: {exc.strerror}") from None
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            fh.close()
            raise RecordingError(
                f"{self.path}: not a regular file (a device or a pipe), not a recording"
            )
        return fh

    def _problem(self, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{self.path}: {message}")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.problems = []
        self.problem_count = 0
        self.torn = False
        loads = json.loads
        limit = self.max_line_bytes
        with self._open() as fh:
            readline = fh.readline
            readline(MAX_HEADER_BYTES)
            number = 1
            while raw := readline(limit + 1):
                number += 1
                if len(raw) > limit and raw[-1:] != b"\n":
                    while (more := readline(_SKIP_PIECE)) and more[-1:] != b"\n":
                        pass
                    self._problem(f"line {number} is longer than {_size(limit)}; skipped")
                    continue
                try:
                    obj = loads(raw)
                except (ValueError, RecursionError):  # RecursionError: nested past the stack
                    if not raw.endswith(b"\n"):
                        self.torn = True
                        self._problem(f"line {number} is cut short (torn write); ignored")
                    elif raw.strip():
                        self._problem(f"line {number} is not valid JSON; skipped")
                    continue
                if type(obj) is not dict or type(obj.get("type")) is not str:
                    self._problem(f"line {number} is not a recording line; skipped")
                    continue
                yield obj

    def problem_summary(self) -> str | None:
        """One line describing what was skipped, or None when nothing was."""
        if not self.problem_count:
            return None
        first = self.problems[0]
        more = self.problem_count - 1
        return first + (f" (and {more} more problem{'s' * (more > 1)})" if more else "")

    # -- views ---------------------------------------------------------------------------------

    def index(self) -> RecordingIndex:
        """One pass over the file: prompts, providers and how each run ended. Memory grows
        with the number of prompts and runs, never with the number of chunks."""
        idx = RecordingIndex(self.header)
        current: dict[str, int] = {}
        for obj in self:
            kind = obj["type"]
            if kind == "chunk":
                provider = obj.get("provider")
                if isinstance(provider, str):
                    key = (provider, current.get(provider, 0))
                    idx.chunks[key] = idx.chunks.get(key, 0) + 1
            elif kind == "prompt":
                idx.prompts.append(str(obj.get("text", "")))
            elif kind == "provider" and isinstance(obj.get("provider"), str):
                idx.providers.setdefault(obj["provider"], obj)
            elif kind == "run" and isinstance(obj.get("provider"), str):
                turn = obj.get("turn", 0)
                current[obj["provider"]] = turn if isinstance(turn, int) else 0
                idx.runs.setdefault((obj["provider"], current[obj["provider"]]), "interrupted")
            elif kind in ("end", "error") and isinstance(obj.get("provider"), str):
                key2 = (obj["provider"], current.get(obj["provider"], 0))
                idx.runs[key2] = "done" if kind == "end" else "error"
        return idx

    def run_lines(self, provider: str, turn: int = 0) -> Generator[dict[str, Any], None, None]:
        """The ``chunk``, ``event``, ``end`` and ``error`` lines of one run, in order; stops
        after its end or error line (the rest of the file is not read)."""
        current: int | None = None
        want = provider
        for obj in self:
            kind = obj["type"]
            if obj.get("provider") != want:
                continue
            if kind == "run":
                current = obj.get("turn", 0)
                continue
            if current != turn:
                continue
            if kind in ("chunk", "event"):
                yield obj
            elif kind in ("end", "error"):
                yield obj
                return


class RecordingIndex:
    """What a recording holds, without its chunks (see ``RecordingReader.index``)."""

    def __init__(self, header: dict[str, Any]) -> None:
        self.header = header
        self.prompts: list[str] = []
        #: name -> the ``provider`` line, in the order they appear.
        self.providers: dict[str, dict[str, Any]] = {}
        #: (provider, turn) -> "done" | "error" | "interrupted"
        self.runs: dict[tuple[str, int], str] = {}
        #: (provider, turn) -> number of chunks
        self.chunks: dict[tuple[str, int], int] = {}


__all__ = [
    "FORMAT",
    "VERSION",
    "RecordingIndex",
    "RecordingReader",
    "RecordingWriter",
    "dump_line",
    "dump_lines",
    "header",
    "write_recording",
]
