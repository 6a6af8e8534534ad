"""The command line: parse arguments, load settings, hand off. No logic of its own beyond
formatting what the core yields.

    llmstream-tui [--config PATH] [-p REF]... [PROMPT]       open the app
    llmstream-tui stream [-p REF]... [--format text|jsonl] [--events v1|v2] PROMPT
    llmstream-tui providers [--check]
    llmstream-tui stream ... [--record FILE [--overwrite]] [--no-history] PROMPT
    llmstream-tui history [--search TEXT] [--limit N]
    llmstream-tui export ID --format md|jsonl
    llmstream-tui replay FILE [--speed X]

Exit codes: 0 success, 1 a provider failed, 2 bad usage or configuration, 130 interrupted.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from typing import cast

from ..config import load_settings
from ..errors import ConfigError, LLMStreamError, RecordingError
from ..providers.registry import ProviderTables, resolve, validate_table
from .parsers import COMMANDS, build_parsers
from .providers import providers_command
from .sessions import SESSION_COMMANDS
from .stream import stream_command

__all__ = ["main"]


def _fail(message: str, code: int = 2) -> int:
    print(f"llmstream-tui: error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    app_parser, cmd_parser = build_parsers()
    first = _first_word(args_list)
    is_command = first in COMMANDS
    if is_command and args_list[0] != first:
        # Options given before the command belong to it: parse them after it.
        args_list.remove(str(first))
        args_list.insert(0, str(first))
    args = (cmd_parser if is_command else app_parser).parse_args(args_list)
    try:
        if is_command and args.command == "config":  # before loading: init, path need none
            from .config_cmd import config_command

            return config_command(args)
        settings = load_settings(args.config)
        if not is_command:
            from ..ui.app import run_app

            code: int = run_app(settings, providers=args.providers, prompt=args.prompt)
            return code
        if args.command == "stream":
            from ..providers.langchain import targets_loaded_once

            with targets_loaded_once():
                check_targets(args.providers or settings.default_providers[:1], settings)
                return asyncio.run(stream_command(args, settings))
        if args.command in SESSION_COMMANDS:
            return SESSION_COMMANDS[args.command](args, settings)
        return asyncio.run(providers_command(args, settings))
    except (ConfigError, RecordingError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as Unix tools do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except LLMStreamError as exc:
        return _fail(str(exc), 1)


def check_targets(refs: Sequence[str], settings: ProviderTables) -> None:
    """A ``langchain`` provider's target is loaded before ``stream`` runs anything, so a
    target that is missing, not a runnable or whose factory raises is a bad configuration
    (``ConfigError``: one line, exit 2) rather than a failed run. Called inside
    ``targets_loaded_once``, so the run uses what was loaded (a factory is called once).
    Other references fail as runs do (exit 1), as before."""
    for ref in refs:
        try:
            display, table = resolve(ref, settings)
        except ConfigError:
            continue  # not a provider at all: reported by its run, as before
        if table.get("kind") != "langchain":
            continue
        from ..providers.langchain import LangChainSpec, load_target  # imports no LangChain

        spec = validate_table(table, where=f"provider {display!r}")
        load_target(cast(LangChainSpec, spec).target)


def _first_word(args: list[str]) -> str | None:
    """The first argument that is neither an option nor an option's value, so that
    ``--config stream.toml stream`` still finds the command."""
    takes_value = {"--config", "-p", "--provider"}
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in takes_value:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None
