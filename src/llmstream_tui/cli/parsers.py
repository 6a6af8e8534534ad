"""The argument parsers: one for the app (``llmstream-tui [-p REF]... [PROMPT]``), one for
the commands.

Which one a command line goes to (``cli.main``): a first word that is a command goes to
the command parser; no word at all, or a prompt after at least one ``-p``, opens the app;
any other first word is an error ("did you mean"), so a typo never opens the full-screen app.
``llmstream-tui app [PROMPT]`` opens the app explicitly.

Completion (``llmstream-tui completion bash|zsh|fish``) is argcomplete's, read off the
command parser at run time: the ``completer`` attributes set here name what a value can be.
"""

from __future__ import annotations

import argparse
from typing import Any, Final

from ..version import VERSION
from .arg_types import whole_number
from .compare import add_compare_command
from .config_cmd import add_config_command

#: What ``stream --show`` accepts (``all`` is every one).
SHOW_CHOICES: Final = ("reasoning", "tools", "refusal", "usage")
#: ``render --size``'s default (columns, lines): two panes, the summary and the events log.
RENDER_SIZE: Final = (160, 48)
#: The shells ``completion`` writes a script for.
SHELLS: Final = ("bash", "zsh", "fish")

APP_EPILOG: Final = (
    "A first word that is not a command is an error. To open the app with a prompt: "
    "`llmstream-tui app PROMPT`, or name a provider first: `llmstream-tui -p swift PROMPT`."
)


def provider_completer(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    """``-p <TAB>``: the configured provider names (the ``--config`` given, else the user
    file's), then every kind as ``KIND:`` for an ad hoc reference. Never raises: a broken
    config completes the built-in names and kinds."""
    from ..config import Settings, load_settings
    from ..providers.registry import kind_names

    try:
        names = load_settings(getattr(parsed_args, "config", None)).provider_names()
    except Exception:  # noqa: BLE001  # completion must not fail on a bad config
        names = Settings.model_construct().provider_names()
    return [c for c in [*names, *(f"{k}:" for k in kind_names())] if c.startswith(prefix)]


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="TOML config file")
    action = parser.add_argument(
        "-p",
        "--provider",
        "-m",
        "--model",
        action="append",
        dest="providers",
        metavar="REF",
        help="provider: a configured name or KIND:MODEL[@BASE_URL] (repeatable; -m/--model "
        "is the same, for `llm` users)",
    )
    action.completer = provider_completer  # type: ignore[attr-defined]  # read by argcomplete


def command_names(cmd: argparse.ArgumentParser) -> list[str]:
    """Every command of the command parser (those other modules add too, like ``config``)."""
    for action in cmd._actions:  # argparse has no public way to reach its subparsers
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def build_parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """(app parser, command parser)."""
    app = argparse.ArgumentParser(
        prog="llmstream-tui",
        description="Watch large language models stream. Commands: app, stream, models, "
        "providers, history, export, replay, render, serve, compare, completion (see "
        "`llmstream-tui COMMAND --help`).",
        epilog=APP_EPILOG,
    )
    add_common_options(app)
    app.add_argument("--version", action="version", version=f"llmstream-tui {VERSION}")
    app.add_argument("prompt", nargs="?", help="stream this prompt at once (after -p REF)")

    cmd = argparse.ArgumentParser(prog="llmstream-tui", epilog=APP_EPILOG)
    sub = cmd.add_subparsers(dest="command", required=True, metavar="COMMAND")
    app_cmd = sub.add_parser("app", help="open the app (the default with no command)")
    add_common_options(app_cmd)
    app_cmd.add_argument("prompt", nargs="?", help="stream this prompt at once")
    stream = sub.add_parser("stream", help="stream a prompt headlessly")
    add_common_options(stream)
    stream.add_argument("--delimiter", help="printed between chunks (default: config, '|')")
    stream.add_argument(
        "--format",
        choices=("text", "jsonl"),
        default="text",
        help="text: the answer with a delimiter between chunks (default); jsonl: JSON lines, "
        "a chunk record per chunk and an end (or error, or cancelled) record per provider",
    )
    stream.add_argument("-s", "--system", metavar="TEXT", help="the system prompt for this run")
    stream.add_argument(
        "-o",
        "--option",
        nargs=2,
        action="append",
        dest="options",
        default=[],
        metavar=("KEY", "VALUE"),
        help="a generation parameter for this run: temperature, max_tokens, top_p, stop, seed "
        "(repeatable)",
    )
    stream.add_argument("--no-stream", action="store_true", help="ask for the whole answer at once")
    stream.add_argument(
        "-c",
        "--continue",
        action="store_true",
        dest="continue_",
        help="continue the latest saved conversation (its turns are sent, this one saved to it)",
    )
    stream.add_argument(
        "--session", metavar="ID", help="continue the saved conversation ID (from `history`)"
    )
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
    stream.add_argument(
        "prompt",
        nargs="?",
        help="the prompt, or - to read it from stdin; piped stdin is sent after the prompt",
    )
    models = sub.add_parser("models", help="list the models a provider's server offers")
    add_common_options(models)
    providers = sub.add_parser("providers", help="list configured providers")
    add_common_options(providers)
    providers.add_argument(
        "--check",
        action="store_true",
        help="check that each answers, accepts its key and serves its model (exit 1 if not)",
    )
    history = sub.add_parser("history", help="list saved sessions, newest first")
    history.add_argument("--config", metavar="PATH", help="TOML config file")
    history.add_argument("--search", metavar="TEXT", help="only sessions containing TEXT")
    history.add_argument(
        "--limit", type=whole_number(0), default=50, metavar="N", help="at most N (default 50)"
    )
    history.add_argument("--provider", metavar="NAME", help="only sessions in which NAME ran")
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    history.add_argument(
        "--count", action="store_true", help="print how many sessions match, nothing else"
    )
    history.add_argument(
        "--repair",
        action="store_true",
        help="salvage a damaged history database (a backup of it is kept beside it)",
    )
    export = sub.add_parser("export", help="print a saved session as Markdown or a recording")
    export.add_argument("--config", metavar="PATH", help="TOML config file")
    export.add_argument("id", help="the session's ID (from `llmstream-tui history`)")
    export.add_argument(
        "--format",
        choices=("md", "jsonl"),
        default="md",
        help="md: Markdown to read (default); jsonl: a recording, for `replay`",
    )
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
    add_render_commands(sub)
    completion = sub.add_parser(
        "completion",
        help="print a shell completion script",
        description="Print a completion script for SHELL (argcomplete's). bash: "
        '`eval "$(llmstream-tui completion bash)"` in ~/.bashrc; zsh: the same in ~/.zshrc '
        "(after compinit); fish: `llmstream-tui completion fish | source` in config.fish.",
    )
    completion.add_argument("shell", choices=SHELLS)
    add_config_command(sub)
    add_compare_command(sub, add_common_options)
    return app, cmd


def add_render_commands(sub: Any) -> None:
    """``render`` (a recording as a picture) and ``serve`` (the app in a web browser)."""
    render = sub.add_parser("render", help="draw a recording as the app shows it (SVG or PNG)")
    render.add_argument("--config", metavar="PATH", help="TOML config file")
    render.add_argument("recording", help="a recording (`stream --record FILE`)")
    render.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="out.svg, or out.png (cairosvg)"
    )
    render.add_argument(
        "--size", type=parse_size, default=RENDER_SIZE, metavar="COLSxLINES", help="default 160x48"
    )
    render.add_argument(
        "--at",
        type=parse_at,
        default=None,
        metavar="done|SECONDS",
        help="the finished comparison (done, the default) or the screen SECONDS into the "
        "recorded timing",
    )
    render.add_argument("--theme", metavar="NAME", help="the theme to draw with")
    serve = sub.add_parser("serve", help="serve the app in a web browser (textual-serve)")
    add_common_options(serve)
    serve.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=port, default=8000, help="default 8000")
    serve.add_argument(
        "--public",
        action="store_true",
        help="allow a --host other than this machine (anyone reaching it can use your keys)",
    )


def port(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port: {value!r}") from None
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"not a port: {number} (1-65535)")
    return number


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


def parse_size(value: str) -> tuple[int, int]:
    """``--size``: ``COLSxLINES`` (``160x48``)."""
    cols, sep, lines = value.lower().partition("x")
    try:
        size = (int(cols), int(lines)) if sep else None
    except ValueError:
        size = None
    if size is None or not (20 <= size[0] <= 1000 and 5 <= size[1] <= 500):
        raise argparse.ArgumentTypeError(
            f"not a size: {value!r} (COLSxLINES, e.g. 160x48; 20-1000 x 5-500)"
        )
    return size


def parse_at(value: str) -> float | None:
    """``--at``: ``done`` (None: the finished comparison) or seconds into the recording."""
    if value == "done":
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not 'done' or seconds: {value!r}") from None
    if not seconds >= 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"--at must be 0 or more seconds, not {value!r}")
    return seconds
