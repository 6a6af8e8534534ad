"""``history``, ``export`` and ``replay``: the commands over saved sessions and recordings."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import json
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..core.inert import escape_controls
from .parsers import build_parsers
from .providers import aligned
from .stream import stream_command

if TYPE_CHECKING:
    from ..sessions.history import History
    from ..sessions.records import SessionSummary


def history_command(args: argparse.Namespace, settings: Settings) -> int:
    from ..sessions.history import History

    if getattr(args, "repair", False):
        from ..sessions.db import default_path
        from ..sessions.repair import repair

        print(repair(default_path()).line())
        return 0
    with History() as history:
        if args.count:
            print(sum(1 for _ in _matching(history, args.search, args.provider)))
            return 0
        rows = list(itertools.islice(_matching(history, args.search, args.provider), args.limit))
    if args.json:
        for row in rows:
            print(json.dumps(_row_dict(row), ensure_ascii=False))
        return 0
    table = [["ID", "UPDATED", "STATUS", "PROVIDERS", "TITLE"]]
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(row.updated))
        title = escape_controls(row.title)
        if row.kind == "compare":  # a comparison run, not a conversation
            title = "[compare] " + title.removeprefix("compare: ")
        title = title if len(title) <= 60 else title[:59] + "…"
        names = escape_controls(", ".join(row.providers))
        table.append([str(row.id), when, row.status, names, title])
    if rows:
        for line in aligned(table):
            print(line)
    return 0


def _matching(
    history: History, search: str | None, provider: str | None
) -> Iterator[SessionSummary]:
    """Sessions newest first, matching ``search`` and with ``provider`` among their
    providers, read a page at a time (keyset paging: each page costs the same)."""
    before = None
    while True:
        page = history.list_sessions(limit=500, before=before, search=search)
        for row in page:
            if provider is None or provider in row.providers:
                yield row
        if len(page) < 500:
            return
        before = page[-1].page_key


def _row_dict(row: SessionSummary) -> dict[str, Any]:
    """A ``history --json`` line: the row's fields, times as ISO 8601 (UTC) and seconds."""
    out: dict[str, Any] = {
        f.name: getattr(row, f.name) for f in dataclasses.fields(row) if f.name != "uid"
    }
    out["uid"] = row.uid
    for key in ("created", "updated"):
        out[f"{key}_iso"] = datetime.fromtimestamp(getattr(row, key), UTC).isoformat()
    return out


def export_command(args: argparse.Namespace, settings: Settings) -> int:
    from ..sessions.export import export_jsonl, export_markdown
    from ..sessions.history import History

    with History() as history:
        if args.format == "md":
            sys.stdout.write(export_markdown(history, args.id))
        else:
            export_jsonl(history, args.id, sys.stdout)
    sys.stdout.flush()
    return 0


def replay_command(args: argparse.Namespace, settings: Settings) -> int:
    """Open the app on the recording: one pane per recorded provider, its prompt sent;
    without a terminal (``replay FILE | less``), or without the app, play it here."""
    from ..providers.replay import replay_tables
    from . import terminal_problem

    prompt, tables = replay_tables(args.file, speed=args.speed)
    # a replay is not a new session (in the app as in the terminal)
    settings = settings.model_copy(
        update={"providers": {**settings.providers, **tables}, "history": False}
    )
    problem = terminal_problem()
    if problem is None:
        try:
            from ..ui.app import run_app
        except ImportError as exc:  # the app is optional here: replay in the terminal instead
            problem = f"the app is not available ({exc})"
    if problem is not None:
        print(f"llmstream-tui: note: {problem}; replaying here", file=sys.stderr)
        # the stream command's own parser: every option it has (now or later) gets its
        # default, and every channel is shown, marked, as the app would show it
        argv = ["stream", "--no-history", "--show", "all"]
        for name in tables:
            argv += ["-p", name]
        headless = build_parsers()[1].parse_args([*argv, "--", prompt or ""])
        headless.prompt = prompt
        return asyncio.run(stream_command(headless, settings))
    code: int = run_app(settings, providers=list(tables), prompt=prompt)
    return code


SESSION_COMMANDS = {"history": history_command, "export": export_command, "replay": replay_command}
