"""``history``, ``export`` and ``replay``: the commands over saved sessions and recordings."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from ..config import Settings
from ..core.inert import escape_controls
from .parsers import build_parsers
from .stream import stream_command


def history_command(args: argparse.Namespace, settings: Settings) -> int:
    from ..sessions.history import History

    with History() as history:
        rows = history.list_sessions(limit=max(args.limit, 0), search=args.search)
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(row.updated))
        names = escape_controls(", ".join(row.providers))
        title = escape_controls(row.title)
        title = title if len(title) <= 60 else title[:59] + "…"
        print(f"{row.id:>6}  {when}  {row.status:<11}  {names:<24}  {title}")
    return 0


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
    """Open the app on the recording: one pane per recorded provider, its prompt sent."""
    from ..providers.replay import replay_tables

    prompt, tables = replay_tables(args.file, speed=args.speed)
    # a replay is not a new session (in the app as in the terminal)
    settings = settings.model_copy(
        update={"providers": {**settings.providers, **tables}, "history": False}
    )
    try:
        from ..ui.app import run_app
    except ImportError as exc:  # the app is optional here: replay in the terminal instead
        print(
            f"llmstream-tui: note: the app is not available ({exc}); replaying here",
            file=sys.stderr,
        )
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
