"""``llmstream-tui serve``: the app in a web browser, with textual-serve (the ``serve`` extra).

Each browser tab gets its own app process, the same command a terminal runs
(``python -m llmstream_tui app`` with this ``--config`` and ``-p``), so config, providers and
keys are the same. textual-serve starts it on pipes with Textual's web driver named in
``TEXTUAL_DRIVER``, which is what lets the app start without a terminal
(``cli.terminal_problem``).

The page can spend the configured API keys, so it is served on this machine only
(127.0.0.1) unless ``--public`` is given for another address, and then with a warning.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shlex
import socket
import sys
from typing import Final

from ..config import Settings
from ..errors import ConfigError

__all__ = ["DEFAULT_HOST", "is_loopback_host", "serve_command"]

DEFAULT_HOST: Final = "127.0.0.1"


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is this machine only: ``localhost`` or a loopback address."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def app_command(args: argparse.Namespace) -> str:
    """The shell command each page runs: this Python, the app, this config and providers."""
    argv = [sys.executable, "-m", "llmstream_tui", "app"]
    if args.config:
        argv += ["--config", os.path.abspath(args.config)]
    for ref in args.providers or []:
        argv += ["-p", ref]
    return shlex.join(argv)


def configured_keys(settings: Settings) -> list[str]:
    """The API key variables set here that the configured providers read (names only)."""
    from ..providers.http import HTTPModel
    from ..providers.registry import backend_class, validate_table

    names: set[str] = set()
    for name in settings.provider_names():
        table = settings.provider_table(name)
        if table is None:
            continue
        try:
            spec = validate_table(table, where=f"provider {name!r}")
            cls = backend_class(spec.kind)
        except ConfigError:  # a broken table: the app will say so
            continue
        envs: tuple[str | None, ...] = (spec.api_key_env,)
        if not spec.api_key_env and issubclass(cls, HTTPModel):
            envs = tuple(cls.api_key_envs)
        names.update(env for env in envs if env and os.environ.get(env))
    return sorted(names)


def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until interrupted. A host other than this machine needs ``--public``."""
    host: str = args.host
    if not is_loopback_host(host) and not args.public:
        raise ConfigError(
            f"--host {host}: not this machine only; anyone who can reach it could use the "
            "configured API keys (add --public to serve it anyway)"
        )
    try:
        from textual_serve.server import Server
    except ImportError:
        raise ConfigError("serve needs textual-serve: pip install 'llmstream-tui[serve]'") from None
    if args.public and not is_loopback_host(host):
        keys = configured_keys(settings)
        spent = f" ({', '.join(keys)})" if keys else ""
        print(
            f"llmstream-tui: warning: serving on {host}:{args.port} to anyone who can reach "
            f"it: they can use the configured API keys{spent}",
            file=sys.stderr,
        )
    _check_port_free(host, args.port)
    Server(app_command(args), host=host, port=args.port, title="llmstream-tui").serve()
    return 0


def _check_port_free(host: str, port: int) -> None:
    """One line (exit 2) for a port in use or an address not ours, before the server's
    own start, whose error is a traceback."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(f"--host {host}: {exc.strerror}") from None
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(addr)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
