"""The argument parsers: one for the app (``llmstream-tui [PROMPT]``), one for the commands."""

from __future__ import annotations

import argparse
from typing import Final

from ..version import VERSION
from .config_cmd import add_config_command

COMMANDS = ("stream", "providers", "history", "export", "replay", "config")
#: What ``stream --show`` accepts (``all`` is every one).
SHOW_CHOICES: Final = ("reasoning", "tools", "refusal", "usage")


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="TOML config file")
    parser.add_argument(
        "-p",
        "--provider",
        action="append",
        dest="providers",
        metavar="REF",
        help="provider: a configured name or KIND:MODEL[@BASE_URL] (repeatable)",
    )


def build_parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """(app parser, command parser)."""
    app = argparse.ArgumentParser(
        prog="llmstream-tui",
        description="Watch large language models stream. Commands: stream, providers, "
        "history, export, replay (see `llmstream-tui COMMAND --help`).",
    )
    add_common_options(app)
    app.add_argument("--version", action="version", version=f"llmstream-tui {VERSION}")
    app.add_argument("prompt", nargs="?", help="stream this prompt at once")

    cmd = argparse.ArgumentParser(prog="llmstream-tui")
    sub = cmd.add_subparsers(dest="command", required=True)
    stream = sub.add_parser("stream", help="stream a prompt headlessly")
    add_common_options(stream)
    stream.add_argument("--delimiter", help="printed between chunks (default: config, '|')")
    stream.add_argument("--format", choices=("text", "jsonl"), default="text")
    stream.add_argument(
        "--events",
        choices=("v1", "v2"),
        help="print astream_events as JSON lines, each with its run's depth in the run tree",
    )
    stream.add_argument(
        "--tree",
        action="store_true",
        help="after the run, print its run tree (every nested run with its duration); "
        "JSON with --format jsonl or --events",
    )
    stream.add_argument(
        "--show",
        type=show_list,
        default=frozenset(),
        metavar="CHANNELS",
        help="text mode: also print reasoning, tools, refusal, usage (a comma list, or all); "
        "dim on a terminal, [channel] line prefixes when piped",
    )
    stream.add_argument(
        "--raw", action="store_true", help="do not escape control sequences on a terminal"
    )
    stream.add_argument(
        "--record", metavar="FILE", help="also write a recording of every provider's stream to FILE"
    )
    stream.add_argument(
        "--overwrite", action="store_true", help="let --record replace an existing FILE"
    )
    stream.add_argument(
        "--no-history", action="store_true", help="do not save this run to the history database"
    )
    stream.add_argument("prompt", help="the prompt, or - to read it from stdin")
    providers = sub.add_parser("providers", help="list configured providers")
    add_common_options(providers)
    providers.add_argument("--check", action="store_true", help="check that each answers")
    history = sub.add_parser("history", help="list saved sessions, newest first")
    history.add_argument("--config", metavar="PATH", help="TOML config file")
    history.add_argument("--search", metavar="TEXT", help="only sessions containing TEXT")
    history.add_argument("--limit", type=int, default=50, metavar="N", help="default 50")
    export = sub.add_parser("export", help="print a saved session as Markdown or a recording")
    export.add_argument("--config", metavar="PATH", help="TOML config file")
    export.add_argument("id", help="the session's ID (from `llmstream-tui history`)")
    export.add_argument("--format", choices=("md", "jsonl"), default="md")
    replay = sub.add_parser("replay", help="play a recording in the app, with its timing")
    replay.add_argument("--config", metavar="PATH", help="TOML config file")
    replay.add_argument(
        "file", help="a recording (`stream --record FILE`, `export --format jsonl`)"
    )
    replay.add_argument(
        "--speed",
        type=speed,
        default=1.0,
        metavar="X",
        help="2 plays twice as fast, 0 as fast as possible (default 1)",
    )
    add_config_command(sub)
    return app, cmd


def speed(value: str) -> float:
    try:
        speed = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not speed >= 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return speed


def show_list(value: str) -> frozenset[str]:
    """``--show``'s argument: a comma list of ``SHOW_CHOICES``, or ``all``."""
    names = {v.strip() for v in value.split(",") if v.strip()}
    if "all" in names:
        return frozenset(SHOW_CHOICES)
    unknown = sorted(names - set(SHOW_CHOICES))
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"not a channel: {', '.join(unknown) or value!r} (choose from "
            f"{', '.join(SHOW_CHOICES)}, or all)"
        )
    return frozenset(names)
