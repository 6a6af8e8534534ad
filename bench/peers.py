"""Peers in the same bench: what users would run instead, on the same loopback stream as ours.

Every peer lives in its own virtual environment under ``CACHE`` (created with
``python -m venv``, the peer ``pip install``-ed into it, kept for the next run), never in
the project's. A peer that cannot be installed, or that fails or does not show the whole
stream, is a row of its own saying ``skipped: <why>`` (pip's last error line, the exit
status, the timeout): never a silent gap in the table.

One loopback server (a forked process, ``serve``) answers every request with the same
pre-built bytes: ``N`` content chunks of an OpenAI chat SSE stream, one HTTP chunk per event
(as the API sends them), or the same chunks as Ollama ``/api/chat`` NDJSON; the last chunk
carries ``MARKER``, so every run checks that the whole stream arrived.

- CLI peers, 20,000 and 200,000 chunks, stdout to a file: ``llmstream-tui stream`` with
  history (the default) and with ``--no-history``; ``llm`` (its OpenAI-compatible model
  config, ``extra-openai-models.yaml``; logging on, as by default, and ``-n``); the official
  SDK's streaming loop (``peer_scripts/openai_sdk.py``); langchain-openai's
  ``ChatOpenAI.stream`` (``peer_scripts/langchain_openai_stream.py``). Wall time and the CPU
  time of the process (``getrusage`` of the waited-for children), medians of ``REPEATS``
  alternating runs; ratios are peer / ours with history on (> 1: the peer takes longer).
- TUI peers, in a private tmux server at 160x48, 2,000 chunks: our app (delimiters, tints
  and the events log on, as it opens), oterm (Ollama API; a chat seeded by
  ``peer_scripts/oterm_seed.py``), elia (OpenAI-compatible, its ``config.toml``). Wall time
  from the key that sends the prompt (typed once the app shows its prompt box) until
  ``MARKER`` is on the screen (``capture-pane`` polled every 50 ms), or "did not finish"
  after ``TUI_TIMEOUT``; an app that does not finish is not run again.

Run: ``python -m bench.peers`` (``--smoke``: small sizes, no installs: only what runs with
the project's own interpreter). The machine is shared: figures are taken under load.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import multiprocessing
import os
import resource
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from . import wire
from .common import Row, format_table, write_json

CACHE: Final = (
    Path(os.environ.get("LLMSTREAM_BENCH_CACHE", Path.home() / ".cache" / "llmstream-tui-bench"))
    / "peers"
)
"""Where the peers' venvs live (``LLMSTREAM_BENCH_CACHE`` moves it): kept between runs."""
SCRIPTS: Final = Path(__file__).resolve().parent / "peer_scripts"
CLI_CHUNKS: Final = (20_000, 200_000)
SMOKE_CLI_CHUNKS: Final = (300,)
TUI_CHUNKS: Final = 2_000
REPEATS: Final = 3
TUI_TIMEOUT: Final = 120.0
CLI_TIMEOUT: Final = 300.0
INSTALL_TIMEOUT: Final = 1200.0
MARKER: Final = "ENDOFBENCHSTREAM"
"""The last chunk's text: a run that did not show it did not get the whole stream."""
KEY: Final = "sk-bench-not-a-key"
OURS: Final = "ours stream (history on)"
OURS_NO_HISTORY: Final = "ours stream --no-history"
OURS_APP: Final = "ours app"


# -- the stream ---------------------------------------------------------------------------


def _with_marker(events: list[bytes], marker: bytes, tail: int) -> list[bytes]:
    return [*events[: len(events) - tail], marker, *events[len(events) - tail :]]


def openai_body(chunks: int) -> bytes:
    """An HTTP response: ``chunks`` OpenAI chat chunks (the last one is ``MARKER``)."""
    events = wire.openai_events(chunks - 1)
    marker = wire.openai_events(1)[1].replace(b'"The"', f'" {MARKER}"'.encode())
    return wire.http_response("text/event-stream", _with_marker(events, marker, 3), "event")


def ollama_body(chunks: int) -> bytes:
    """An HTTP response: ``chunks`` Ollama ``/api/chat`` lines (the last one is ``MARKER``)."""
    events = wire.ollama_events(chunks - 1)
    marker = wire.ollama_events(1)[0].replace(b'"The"', f'" {MARKER}"'.encode())
    return wire.http_response("application/x-ndjson", _with_marker(events, marker, 1), "event")


def _json_response(body: str) -> bytes:
    data = body.encode()
    return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
        len(data),
        data,
    )


def routes(chunks: int) -> dict[str, bytes]:
    """What the loopback server answers, by the end of the request's path."""
    model = '{"name":"bench:latest","model":"bench:latest","modified_at":"2025-01-01T00:00:00Z",'
    model += '"size":1,"digest":"0","details":{"family":"llama","parameter_size":"1B"}}'
    return {
        "/chat/completions": openai_body(chunks),
        "/models": _json_response('{"object":"list","data":[{"id":"bench","object":"model"}]}'),
        "/api/chat": ollama_body(chunks),
        "/api/tags": _json_response('{"models":[' + model + "]}"),
        "/api/show": _json_response(
            '{"modelfile":"","parameters":"","template":"{{ .Prompt }}",'
            '"details":{"family":"llama"},"model_info":{},"capabilities":["completion"]}'
        ),
        "/api/version": _json_response('{"version":"0.6.0"}'),
        "/api/ps": _json_response('{"models":[]}'),
    }


def _serve(sock: socket.socket, answers: dict[str, bytes]) -> None:
    """The server process: keep-alive HTTP/1.1, each request answered by its path."""
    missing = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"

    def handle(conn: socket.socket) -> None:
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                path = lines[0].split(b" ")[1].split(b"?")[0].decode().rstrip("/")
                length = 0
                for line in lines[1:]:
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                while len(buf) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                buf = buf[length:]
                answer = next((a for end, a in answers.items() if path.endswith(end)), missing)
                try:
                    conn.sendall(answer)
                except OSError:
                    return

    while True:
        conn, _ = sock.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


@contextlib.contextmanager
def serve(chunks: int) -> Iterator[str]:
    """A loopback server for ``chunks`` chunks in a forked process: ``http://127.0.0.1:PORT``."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    process = multiprocessing.get_context("fork").Process(
        target=_serve, args=(sock, routes(chunks)), daemon=True
    )
    process.start()
    sock.close()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.join(5)


# -- peers and their venvs ----------------------------------------------------------------


@dataclass(frozen=True)
class Skipped:
    """Why a peer has no figure (shown in its row, never dropped)."""

    reason: str


@dataclass(frozen=True)
class Peer:
    """One command to time: ``argv(python, url, home)`` runs it, with ``env(url, home)``.

    ``requirement`` is what ``pip install`` puts into the peer's own venv; empty for ours
    (and for the tests' fakes), which run with the project's interpreter.
    """

    name: str
    requirement: tuple[str, ...]
    argv: Callable[[Path, str, Path], list[str]]
    env: Callable[[str, Path], dict[str, str]] = field(default=lambda url, home: {})
    venv: str = ""


Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def last_error_line(text: str) -> str:
    """pip's last ``ERROR:`` line (its reason), else the last line it printed."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["(no output)"])[-1][:300]


def install(peer: Peer, cache: Path = CACHE, run: Runner = subprocess.run) -> Path | Skipped:
    """The python of ``peer``'s venv, created and installed once (a stamp file records the
    requirement); a failure is a ``Skipped`` with pip's last error line."""
    if not peer.requirement:
        return Path(sys.executable)
    venv = cache / (peer.venv or peer.name)
    python = venv / "bin" / "python"
    stamp = venv / ".peer-installed"
    wanted = " ".join(peer.requirement)
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == wanted:
        return python
    steps = [
        ("python -m venv", [sys.executable, "-m", "venv", "--clear", str(venv)]),
        (f"pip install {wanted}", [str(python), "-m", "pip", "install", "-q", *peer.requirement]),
    ]
    print(f"   installing {peer.name} into {venv} (cached for the next run)", file=sys.stderr)
    for what, cmd in steps:
        try:
            done = run(cmd, capture_output=True, text=True, check=False, timeout=INSTALL_TIMEOUT)
        except subprocess.TimeoutExpired:
            return Skipped(f"{what} did not finish in {INSTALL_TIMEOUT:.0f} s")
        except OSError as exc:
            return Skipped(f"{what}: {exc}")
        if done.returncode != 0:
            why = last_error_line(f"{done.stdout or ''}\n{done.stderr or ''}")
            return Skipped(f"{what} failed (exit {done.returncode}): {why}")
    stamp.write_text(wanted + "\n", encoding="utf-8")
    return python


def _bin(python: Path, command: str) -> str:
    return str(python.parent / command)


def _llm_env(url: str, home: Path) -> dict[str, str]:
    """llm's OpenAI-compatible model pointing at the loopback server (its user dir)."""
    user = home / "llm"
    user.mkdir(exist_ok=True)
    (user / "extra-openai-models.yaml").write_text(
        f'- model_id: bench\n  model_name: bench\n  api_base: "{url}/v1"\n',
        encoding="utf-8",
    )
    return {"LLM_USER_PATH": str(user), "OPENAI_API_KEY": KEY}


def _ours(*extra: str) -> Callable[[Path, str, Path], list[str]]:
    def argv(python: Path, url: str, home: Path) -> list[str]:
        ref = f"openai-chat:bench@{url}/v1"
        head = [str(python), "-m", "llmstream_tui", "stream", "-p", ref, "--delimiter", ""]
        return [*head, *extra, "hi"]

    return argv


def _script(name: str) -> Callable[[Path, str, Path], list[str]]:
    return lambda python, url, home: [str(python), str(SCRIPTS / name), f"{url}/v1"]


def _llm(*extra: str) -> Callable[[Path, str, Path], list[str]]:
    return lambda python, url, home: [_bin(python, "llm"), "-m", "bench", *extra, "hi"]


def _key_env(url: str, home: Path) -> dict[str, str]:
    return {"OPENAI_API_KEY": KEY}


CLI_PEERS: Final = (
    Peer(OURS, (), _ours(), _key_env),
    Peer(OURS_NO_HISTORY, (), _ours("--no-history"), _key_env),
    Peer("llm (logs on)", ("llm",), _llm(), _llm_env, venv="llm"),
    Peer("llm -n (no log)", ("llm",), _llm("-n"), _llm_env, venv="llm"),
    Peer("openai SDK script", ("openai",), _script("openai_sdk.py"), venv="openai-sdk"),
    Peer(
        "langchain-openai stream",
        ("langchain-openai",),
        _script("langchain_openai_stream.py"),
        _key_env,
        venv="langchain-openai",
    ),
)


# -- measuring ----------------------------------------------------------------------------


def _clean_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    """No user config, key or history: a private HOME, data dir and tmp."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LLMSTREAM_DATA_DIR": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "LANG": "C.UTF-8",
        "NO_PROXY": "127.0.0.1",
    }
    return {**env, **extra}


def run_cli(argv: list[str], env: dict[str, str], out: Path) -> tuple[float, float] | Skipped:
    """One run, stdout to ``out``: (wall s, CPU s), or why it does not count."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with out.open("w", encoding="utf-8") as sink:
        try:
            done = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                timeout=CLI_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Skipped(f"did not finish in {CLI_TIMEOUT:.0f} s")
        except OSError as exc:
            return Skipped(f"cannot run: {exc}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        return Skipped(f"exit {done.returncode}: {last_error_line(done.stderr)}")
    with out.open("rb") as f:
        f.seek(max(0, out.stat().st_size - 200))
        if MARKER.encode() not in f.read():
            return Skipped("the output lacks the stream's last chunk")
    return wall, cpu


def measure_cli(
    peers: tuple[Peer, ...],
    chunks: int,
    repeats: int,
    installed: dict[str, Path | Skipped],
    baseline: str = OURS,
) -> list[Row]:
    """Wall and CPU rows for every peer at ``chunks``, runs alternating, medians, ratios to
    ``baseline``; a peer that cannot run is a ``skipped`` row with its reason."""
    walls: dict[str, list[float]] = {p.name: [] for p in peers}
    cpus: dict[str, list[float]] = {p.name: [] for p in peers}
    why: dict[str, str] = {
        p.name: state.reason for p in peers if isinstance(state := installed[p.name], Skipped)
    }
    with serve(chunks) as url, tempfile.TemporaryDirectory(prefix="llmstream-peers-") as tmp:
        for _ in range(repeats):
            for peer in peers:
                if peer.name in why:
                    continue
                python = installed[peer.name]
                assert isinstance(python, Path)
                home = Path(tmp) / peer.name.replace(" ", "_").replace("/", "_")
                home.mkdir(exist_ok=True)
                env = _clean_env(home, peer.env(url, home))
                got = run_cli(peer.argv(python, url, home), env, home / "out.txt")
                if isinstance(got, Skipped):
                    why[peer.name] = got.reason
                    continue
                walls[peer.name].append(got[0])
                cpus[peer.name].append(got[1])
    section = f"peers/{chunks:,}"
    rows: list[Row] = []
    for unit, samples in (("CPU s", cpus), ("wall s", walls)):
        base = statistics.median(samples[baseline]) if baseline not in why else math.nan
        for peer in peers:
            if peer.name in why:
                rows.append(
                    Row(section, peer.name, math.nan, unit, note=f"skipped: {why[peer.name]}")
                )
                continue
            value = statistics.median(samples[peer.name])
            ratio = value / base if base and not math.isnan(base) else None
            rows.append(
                Row(section, peer.name, value, unit, ratio, baseline, samples=samples[peer.name])
            )
    return rows


@dataclass(frozen=True)
class TUIPeer:
    """An app to watch in tmux: ``argv(python, url, home)`` with ``env(url, home)``; when
    ``ready`` is set, the prompt is typed once ``ready`` is on the screen (else the prompt
    is on the command line)."""

    name: str
    requirement: tuple[str, ...]
    argv: Callable[[Path, str, Path], list[str]]
    env: Callable[[str, Path], dict[str, str]] = field(default=lambda url, home: {})
    ready: str | None = None
    keys: tuple[str, ...] = ("hi", "Enter")
    venv: str = ""
    setup: Callable[[Path, str, Path], list[str]] | None = None
    """A command run first in the peer's venv (with the same env), e.g. to seed a chat."""


_TMUX_SERVERS = itertools.count()


class Tmux:
    """A private tmux server (its own socket, no user config), killed on exit."""

    def __init__(self, env: dict[str, str]) -> None:
        socket_name = f"llmstream-bench-{os.getpid()}-{next(_TMUX_SERVERS)}"
        self.base = ["tmux", "-L", socket_name, "-f", "/dev/null"]
        self.env = env

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.base, *args], capture_output=True, text=True, env=self.env, check=False
        )

    def screen(self) -> str | None:
        """The visible screen, or None once the session has gone."""
        done = self("capture-pane", "-p", "-J", "-t", "bench")
        return done.stdout if done.returncode == 0 else None

    def wait_for(self, text: str, deadline: float, poll: float = 0.05) -> float | str:
        """When ``text`` showed (perf_counter), or the last screen seen by ``deadline``."""
        screen = ""
        while time.perf_counter() < deadline:
            got = self.screen()
            if got is None:
                return screen
            if text in got:
                return time.perf_counter()
            screen = got
            time.sleep(poll)  # polling the pane is how a terminal's content is observed
        return screen

    def __enter__(self) -> Tmux:
        return self

    def __exit__(self, *_: object) -> None:
        self("kill-server")


_BOX_DRAWING = {code: " " for code in range(0x2500, 0x2580)}


def _last_words(screen: str) -> str:
    """The screen's last three lines with words on them (box borders dropped): a reason."""
    lines = [" ".join(line.translate(_BOX_DRAWING).split()) for line in screen.splitlines()]
    lines = [line for line in lines if line]
    return " / ".join(lines[-3:])[:200] or "(blank screen)"


def run_tui(
    argv: list[str],
    env: dict[str, str],
    *,
    ready: str | None,
    keys: tuple[str, ...],
    timeout: float = TUI_TIMEOUT,
    size: tuple[int, int] = (160, 48),
) -> float | Skipped:
    """Seconds from the prompt sent to ``MARKER`` on screen, in tmux at ``size``."""
    # the command's own exit shows on the pane, which stays a while for capture-pane
    shell = f"{shlex.join(argv)}; echo exited with status $?; sleep {timeout:.0f}"
    with Tmux(env) as tmux:
        cols, rows = size
        started = time.perf_counter()
        opened = tmux("new-session", "-d", "-s", "bench", "-x", str(cols), "-y", str(rows), shell)
        if opened.returncode != 0:
            return Skipped(f"tmux: {last_error_line(opened.stderr)}")
        deadline = started + timeout
        if ready is not None:
            seen = tmux.wait_for(ready, deadline)
            if isinstance(seen, str):
                return Skipped(f"never showed {ready!r}: {_last_words(seen)}")
            tmux("send-keys", "-t", "bench", "-l", keys[0])
            started = time.perf_counter()
            for key in keys[1:]:
                tmux("send-keys", "-t", "bench", key)
        shown = tmux.wait_for(MARKER, started + timeout)
        if isinstance(shown, str):
            if time.perf_counter() >= started + timeout:
                return Skipped(f"did not finish in {timeout:.0f} s: {_last_words(shown)}")
            return Skipped(f"stopped before the last chunk: {_last_words(shown)}")
        return shown - started


def _ours_app(python: Path, url: str, home: Path) -> list[str]:
    ref = f"openai-chat:bench@{url}/v1"
    return [str(python), "-m", "llmstream_tui", "app", "-p", ref]


def _oterm_env(url: str, home: Path) -> dict[str, str]:
    """oterm's Ollama server is the loopback one; its data (chats, config) in ``home``."""
    return {
        "OLLAMA_URL": url,
        "OLLAMA_HOST": url.removeprefix("http://"),
        "OTERM_DATA_DIR": str(home / "oterm"),
    }


def _elia_env(url: str, home: Path) -> dict[str, str]:
    """elia's config: one OpenAI-compatible model at the loopback server, the default."""
    config = home / ".config" / "elia"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(
        'default_model = "bench"\n[[models]]\nname = "openai/bench"\nid = "bench"\n'
        f'display_name = "bench"\nprovider = "openai"\napi_base = "{url}/v1"\n'
        f'api_key = "{KEY}"\n',
        encoding="utf-8",
    )
    # litellm (elia's client) reads its model price list from the network unless told not to
    return {"OPENAI_API_KEY": KEY, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


TUI_PEERS: Final = (
    TUIPeer(OURS_APP, (), _ours_app, _key_env, ready="Ask every pane"),
    TUIPeer(
        "oterm",
        ("oterm",),
        lambda python, url, home: [_bin(python, "oterm")],
        _oterm_env,
        ready="model: bench:latest",
        setup=lambda python, url, home: [str(python), str(SCRIPTS / "oterm_seed.py")],
    ),
    TUIPeer(
        "elia",
        ("elia-chat",),
        lambda python, url, home: [_bin(python, "elia")],
        _elia_env,
        ready="Enter your message",
        keys=("hi", "C-j"),  # elia sends with ctrl+j
    ),
)


def measure_tui(
    peers: tuple[TUIPeer, ...],
    chunks: int,
    repeats: int,
    installed: dict[str, Path | Skipped],
    baseline: str = OURS_APP,
    timeout: float = TUI_TIMEOUT,
) -> list[Row]:
    """Seconds to the last chunk on screen for each app, medians, ratios to ``baseline``."""
    samples: dict[str, list[float]] = {p.name: [] for p in peers}
    why: dict[str, str] = {
        p.name: state.reason for p in peers if isinstance(state := installed[p.name], Skipped)
    }
    with serve(chunks) as url, tempfile.TemporaryDirectory(prefix="llmstream-peers-") as tmp:
        for repeat in range(repeats):
            for peer in peers:
                if peer.name in why:
                    continue
                python = installed[peer.name]
                assert isinstance(python, Path)
                home = Path(tmp) / f"{peer.name.replace(' ', '_')}-{repeat}"
                home.mkdir()
                env = {**_clean_env(home, peer.env(url, home)), "TERM": "xterm-256color"}
                if peer.setup is not None:
                    done = subprocess.run(
                        peer.setup(python, url, home),
                        env=env,
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                    if done.returncode != 0:
                        why[peer.name] = f"setup failed: {last_error_line(done.stderr)}"
                        continue
                got = run_tui(
                    peer.argv(python, url, home),
                    env,
                    ready=peer.ready,
                    keys=peer.keys,
                    timeout=timeout,
                )
                if isinstance(got, Skipped):
                    why[peer.name] = got.reason
                    continue
                samples[peer.name].append(got)
    section = f"peers/tmux {chunks:,}"
    base = statistics.median(samples[baseline]) if baseline not in why else math.nan
    rows: list[Row] = []
    for peer in peers:
        if peer.name in why:
            rows.append(Row(section, peer.name, math.nan, "s", note=f"skipped: {why[peer.name]}"))
            continue
        value = statistics.median(samples[peer.name])
        ratio = value / base if not math.isnan(base) and base else None
        note = "160x48, prompt sent to last chunk on screen"
        rows.append(Row(section, peer.name, value, "s", ratio, baseline, note, samples[peer.name]))
    return rows


def _install_all(peers: tuple[Peer | TUIPeer, ...], smoke: bool) -> dict[str, Path | Skipped]:
    installed: dict[str, Path | Skipped] = {}
    for peer in peers:
        if smoke and peer.requirement:
            installed[peer.name] = Skipped("--smoke installs no peer")
        else:
            installed[peer.name] = install(
                Peer(peer.name, peer.requirement, peer.argv, venv=peer.venv)
            )
    return installed


def run(smoke: bool = False) -> list[Row]:
    """The whole section: CLI peers at each size, then the apps in tmux (``--smoke``: only
    ours, at a few hundred chunks, no tmux)."""
    repeats = 1 if smoke else REPEATS
    installed = _install_all(CLI_PEERS, smoke)
    rows: list[Row] = []
    for chunks in SMOKE_CLI_CHUNKS if smoke else CLI_CHUNKS:
        rows += measure_cli(CLI_PEERS, chunks, repeats, installed)
    if smoke:
        return rows
    installed = _install_all(TUI_PEERS, smoke)
    if shutil.which("tmux") is None:
        installed = {name: Skipped("tmux is not installed") for name in installed}
    return rows + measure_tui(TUI_PEERS, TUI_CHUNKS, repeats, installed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.peers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", help="small sizes, no peer installed")
    args = parser.parse_args(argv)
    rows = run(args.smoke)
    print(format_table(rows))
    if not args.smoke:
        print(f"results: {write_json(rows, 'peers.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
