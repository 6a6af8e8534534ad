"""The command line: parse arguments, load settings, hand off. No logic of its own beyond
formatting what the core yields.

    llmstream-tui [--config PATH] [-p REF]... [PROMPT]       open the app (a PROMPT needs -p)
    llmstream-tui app [-p REF]... [PROMPT]                    the same, explicitly
    llmstream-tui stream [-p REF]... [--format text|jsonl] [--events v1|v2] PROMPT
    llmstream-tui stream ... [-s SYSTEM] [-o KEY VALUE]... [--no-stream] [-c | --session ID]
    llmstream-tui stream ... [--record FILE [--overwrite]] [--no-history] PROMPT
    llmstream-tui models [-p REF]
    llmstream-tui providers [--check]
    llmstream-tui history [--search TEXT] [--provider NAME] [--limit N] [--json | --count]
    llmstream-tui export ID --format md|jsonl
    llmstream-tui replay FILE [--speed X]
    llmstream-tui render RECORDING -o out.svg|out.png [--size 160x48] [--at done|SECONDS]
    llmstream-tui serve [-p REF]... [--host 127.0.0.1] [--port 8000] [--public]
    llmstream-tui compare (PROMPTS | --builtin) [-p REF]... [--repeat K] [--concurrency N]
        [--rate R] [--sweep 1,4,16] [--format table|json] [--out DIR]      (cli/compare.py)
    llmstream-tui completion bash|zsh|fish

A first word that is not a command is an error (with "did you mean" when it is close to
one), and the app refuses to start when stdin or stdout is not a terminal (unless a Textual
driver is chosen explicitly with ``TEXTUAL_DRIVER``): neither ever leaves a full-screen app
writing escape codes into a pipe.

Exit codes: 0 success, 1 a provider failed, 2 bad usage or configuration, 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeGuard, cast

from ..config import Settings, load_settings, unknown_env_vars
from ..errors import ConfigError, LLMStreamError, RecordingError
from ..providers.registry import ProviderTables, backend_class, resolve, validate_table
from ..providers.spec import ProviderSpec
from .parsers import build_parsers, command_names
from .providers import providers_command
from .sessions import SESSION_COMMANDS
from .stream import run_tables, stream_command, unused_imports_blocked

if TYPE_CHECKING:
    from ..providers.http import HTTPModel

__all__ = ["main"]


def _fail(message: str, code: int = 2) -> int:
    print(f"llmstream-tui: error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    app_parser, cmd_parser = build_parsers()
    if "_ARGCOMPLETE" in os.environ:  # a shell asking for completions (`completion`)
        _complete(cmd_parser)
    commands = command_names(cmd_parser)
    first = _first_word(args_list)
    is_command = first in commands
    if is_command and args_list[0] != first:
        # Options given before the command belong to it: parse them after it.
        args_list.remove(str(first))
        args_list.insert(0, str(first))
    if first is not None and not is_command and not _names_provider(args_list, first):
        return _fail(_unknown_command(first, commands))
    args = (cmd_parser if is_command else app_parser).parse_args(args_list)
    if is_command and args.command == "completion":
        return _print_completion(args.shell)  # needs no settings: a broken config completes too
    try:
        if is_command and args.command == "config":  # before loading: init, path need none
            from .config_cmd import config_command

            return config_command(args)
        with unused_imports_blocked():  # it imports the configured providers' modules
            settings = load_settings(args.config)
        for problem in unknown_env_vars():
            print(f"llmstream-tui: warning: {problem}", file=sys.stderr)
        if not is_command or args.command == "app":
            return _open_app(settings, args)
        if args.command == "models":
            from .models import models_command

            return asyncio.run(models_command(args, settings))
        if args.command == "stream":
            from ..providers.langchain import targets_loaded_once

            with targets_loaded_once():
                targets = run_tables(args, settings)
                return asyncio.run(stream_command(args, settings, targets))
        if args.command in COMMANDS:
            return COMMANDS[args.command](args, settings)
        return asyncio.run(providers_command(args, settings))
    except (ConfigError, RecordingError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except LLMStreamError as exc:
        return _fail(str(exc), 1)


def _render(args: argparse.Namespace, settings: Settings) -> int:
    from .render import render_command  # the app and its replay kind: only when asked

    return render_command(args, settings)


def _compare(args: argparse.Namespace, settings: Settings) -> int:
    from .compare import compare_command

    return compare_command(args, settings)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from .serve import serve_command  # textual-serve: only when asked

    return serve_command(args, settings)


#: The commands that take (args, settings) and return the exit code.
COMMANDS = {**SESSION_COMMANDS, "render": _render, "compare": _compare, "serve": _serve}


def _unknown_command(word: str, commands: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, commands, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"commands: {', '.join(commands)}"
    return (
        f"unknown command {word!r} ({hint}); to open the app with a prompt: "
        "llmstream-tui app PROMPT"
    )


def terminal_problem() -> str | None:
    """Why the full-screen app cannot start here, or None. Textual's own driver needs a
    terminal on both ends; a driver chosen explicitly (``TEXTUAL_DRIVER``, as browser mode
    does) runs over pipes, so it is let through."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return None
    for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout)):
        try:
            tty = stream is not None and stream.isatty()
        except ValueError:  # a closed stream
            tty = False
        if not tty:
            return f"the app needs a terminal, and {name} is not one"
    return None


def _open_app(settings: Settings, args: argparse.Namespace) -> int:
    problem = terminal_problem()
    if problem is not None:
        return _fail(f"{problem} (for pipes: llmstream-tui stream PROMPT)")
    from ..ui.app import run_app

    code: int = run_app(settings, providers=args.providers, prompt=args.prompt)
    return code


def _complete(cmd_parser: argparse.ArgumentParser) -> None:
    """Answer the shell's completion request and exit (argcomplete's protocol)."""
    try:
        import argcomplete
    except ImportError:
        raise SystemExit(1) from None
    argcomplete.autocomplete(cmd_parser)


def _print_completion(shell: str) -> int:
    try:
        from argcomplete.shell_integration import shellcode
    except ImportError:
        return _fail("completion needs argcomplete: pip install argcomplete")
    sys.stdout.write(shellcode(["llmstream-tui"], shell=shell))
    sys.stdout.flush()
    return 0


def check_targets(
    refs: Sequence[str | Mapping[str, Any]],
    settings: ProviderTables,
    *,
    names: Sequence[str] | None = None,
) -> None:
    """Every provider of a run is checked before anything runs, so what is bad usage or
    configuration is a ``ConfigError`` (one line, exit 2) rather than a failed run (exit 1):
    a reference that names no provider, a table its kind rejects (a replay file that does
    not exist), a missing API key (``set OPENAI_API_KEY (provider 'NAME')``, before any
    request), and a ``langchain`` target that is missing, not a runnable or whose factory
    raises. Called inside ``targets_loaded_once``, so the run uses what was loaded (a
    factory is called once)."""
    for i, ref in enumerate(refs):
        if isinstance(ref, str):
            display, table = resolve_ref(ref, settings)
        else:
            display, table = (names[i] if names else str(ref.get("kind"))), dict(ref)
        spec = validate_table(table, where=f"provider {display!r}")
        missing = missing_key(spec)
        if missing is not None:
            raise ConfigError(f"set {missing} (provider {display!r})")
        if spec.kind == "langchain":
            from ..providers.langchain import LangChainSpec, load_target  # no LangChain import

            load_target(cast(LangChainSpec, spec).target)
        elif not _is_http(spec.kind):
            # an offline kind checks what it reads when built (a replay's file): build it once
            backend_class(spec.kind).from_spec(display, spec)


def resolve_ref(ref: str, settings: ProviderTables) -> tuple[str, dict[str, Any]]:
    """``registry.resolve``, its unknown-provider error with the closest configured name
    (``-m gpt4`` → did you mean 'gpt4o'?) when there is one."""
    try:
        return resolve(ref, settings)
    except ConfigError as exc:
        names: list[str] = getattr(settings, "provider_names", list)()
        close = difflib.get_close_matches(ref, names, n=1) if ":" not in ref else []
        if not close:
            raise
        raise ConfigError(f"{exc}; did you mean {close[0]!r}?") from None


def missing_key(spec: ProviderSpec) -> str | None:
    """The variable to set when ``spec`` needs an API key and none is set, else None.

    A key is needed by a kind that names key variables (OpenAI, Anthropic, Gemini) when it
    talks to its public API (no ``base_url``, or the default one), and by any table that
    names ``api_key_env`` itself, unless its server is on this machine (a local server
    needs none, and Ollama's kinds name no key at all)."""
    cls = backend_class(spec.kind)
    if not _is_http_class(cls):
        return None
    envs = (spec.api_key_env,) if spec.api_key_env else cls.api_key_envs
    if not envs or any(os.environ.get(env) for env in envs):
        return None
    base = (spec.base_url or cls.default_base_url).rstrip("/")
    if spec.api_key_env is None and base != cls.default_base_url.rstrip("/"):
        return None  # a server of the user's own: it may need no key
    if _is_loopback(base):
        return None
    return envs[0]


def _is_http(kind: str) -> bool:
    return _is_http_class(backend_class(kind))


def _is_http_class(cls: type) -> TypeGuard[type[HTTPModel]]:
    """Whether ``cls`` is an ``HTTPModel``, without importing httpx for a kind that is not
    (no class can subclass it before ``providers.http`` is imported): a scripted stream's
    start-up is spared httpx (and the rich and click that httpx imports)."""
    http = sys.modules.get("llmstream_tui.providers.http")
    return http is not None and issubclass(cls, http.HTTPModel)


def _is_loopback(url: str) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _names_provider(args: list[str], first: str) -> bool:
    """Whether a ``-p`` (or ``-m``) comes before the first word: then that word is the
    app's prompt (``llmstream-tui -p swift "a prompt"``), not a command."""
    head = args[: args.index(first)]
    return any(
        arg in ("-p", "--provider", "-m", "--model")
        or arg.startswith(("--provider=", "--model=", "-p", "-m"))
        for arg in head
    )


def _first_word(args: list[str]) -> str | None:
    """The first argument that is neither an option nor an option's value, so that
    ``--config stream.toml stream`` still finds the command."""
    takes_value = {"--config", "-p", "--provider", "-m", "--model"}
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in takes_value:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None
