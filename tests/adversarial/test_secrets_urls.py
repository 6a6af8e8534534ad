"""Secrets that are not the API key (issue 15, items 11-13): credentials inside ``base_url``
(userinfo, ``?key=``) and configured header values must appear in no output line, no error,
no recording, no history row and no export, while the request itself still carries them; and
redaction must not mangle a server's message when the "key" is a local placeholder (``x``).

End to end through the CLI's ``main`` (in a thread: it runs its own event loop) against a
loopback server that echoes the credentials back in its error bodies and events."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from llmstream_tui import build_llm
from llmstream_tui.cli import main
from llmstream_tui.core.recording_lines import error_line
from llmstream_tui.core.redaction import Redactor, mask_urls
from llmstream_tui.errors import ProviderError
from llmstream_tui.providers.http import HTTPModel
from tests.support.loopback import LoopbackServer, RecordedRequest, Reply
from tests.support.wire_encoders import FORMATS, PLAIN_FRAME

PASSWORD = "S3CRETPASS"
QUERY_KEY = "S3CRETKEY"
HEADER_SECRET = "hdr-0f9e8d7c6b5a4938"
#: What httpx sends for ``user:S3CRETPASS@``: the password, base64-encoded.
BASIC = base64.b64encode(f"user:{PASSWORD}".encode()).decode()
SECRETS = (PASSWORD, QUERY_KEY, HEADER_SECRET, BASIC)

OK_BODY = FORMATS["openai-chat"](["Hello", " there"], PLAIN_FRAME)


def route(request: RecordedRequest) -> Reply:
    """``/ok/...`` streams; the others fail, echoing what they were sent."""
    where = request.route.split("/")[1]
    auth = request.headers.get("authorization", "")
    header = request.headers.get("x-api-key", "")
    if where == "ok":
        return Reply.sse(OK_BODY)
    if where == "echo":
        message = f"no access for {auth} at {request.path}"
        return Reply.json({"error": {"message": message, "type": "auth"}}, status=401)
    if where == "hdr500":
        return Reply.json({"error": {"message": f"upstream rejected key {header}"}}, status=500)
    if where == "hdrsse":
        first = {"choices": [{"index": 0, "delta": {"content": "Hel"}}]}
        error = {"error": {"message": f"quota exceeded for {header}", "type": "quota"}}
        body = f"data: {json.dumps(first)}\n\ndata: {json.dumps(error)}\n\n"
        return Reply.sse(body)
    return Reply(status=404)


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


#: ``await cli(args)``: (exit code, stdout, stderr) of ``llmstream-tui ARGS``.
Cli = Callable[[list[str]], Awaitable[tuple[int, str, str]]]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``main(args)`` run in a thread (it runs its own event loop, while the loopback server
    runs in the test's), with a private data dir, no API key and nothing on stdin:
    (exit code, stdout, stderr)."""
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("LLMSTREAM_CONFIG_FILE", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)

    async def run(args: list[str]) -> tuple[int, str, str]:
        code = await asyncio.to_thread(main, args)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def leaks(root: Path) -> list[str]:
    """Every file under ``root`` holding one of the secrets (database, WAL, recordings)."""
    return [
        f"{path.name}: {secret}"
        for path in root.rglob("*")
        if path.is_file()
        for secret in SECRETS
        if secret.encode() in path.read_bytes()
    ]


def said(outputs: list[tuple[int, str, str]]) -> list[str]:
    return [s for _, out, err in outputs for s in SECRETS if s in out or s in err]


async def test_base_url_credentials_are_masked_everywhere_but_still_sent(
    tmp_path: Path, cli: Cli
) -> None:
    async with LoopbackServer(route) as server:
        creds = f"http://user:{PASSWORD}@127.0.0.1:{server.port}"
        down = f"http://user:{PASSWORD}@127.0.0.1:{closed_port()}/v1?key={QUERY_KEY}"
        config = tmp_path / "config" / "config.toml"
        config.parent.mkdir()
        config.write_text(
            f'[providers.ok]\nkind = "openai-chat"\nmodel = "m"\n'
            f'base_url = "{creds}/ok/v1?key={QUERY_KEY}"\n'
            f'[providers.echo]\nkind = "openai-chat"\nmodel = "m"\n'
            f'base_url = "{creds}/echo/v1?key={QUERY_KEY}"\n'
            f'[providers.down]\nkind = "openai-chat"\nmodel = "m"\nbase_url = "{down}"\n'
            f"timeout = 5\n",
            encoding="utf-8",
        )
        adhoc = f"openai-chat:m@{creds}/echo/v1?api_key={QUERY_KEY}"
        adhoc_ok = f"openai-chat:m@{creds}/ok/v1?token={QUERY_KEY}"
        out = tmp_path / "out"
        out.mkdir()
        refs = ["-p", "ok", "-p", "echo", "-p", "down", "-p", adhoc, "-p", adhoc_ok]
        run = ["stream", "--config", str(config), "--record", "out/run.jsonl", *refs, "hi"]
        outputs = [await cli(run)]
        sent = {r.path.partition("?")[2]: r for r in server.requests}
    assert len(server.requests) == 4
    for query in (f"key={QUERY_KEY}", f"token={QUERY_KEY}", f"api_key={QUERY_KEY}"):
        assert sent[query].route.endswith("/v1/chat/completions")  # still sent, after the path
        assert sent[query].headers["authorization"] == f"Basic {BASIC}"  # from the userinfo
    code, stdout, stderr = outputs[0]
    assert code == 1 and stdout.count("Hello| there|") == 2
    assert "connection refused at http://***@127.0.0.1:" in stderr and "key=***" in stderr
    assert (
        "HTTP 401" in stderr
        and "no access for Basic [redacted] at /echo/v1/chat/completions?api_key=*** [auth]"
        in stderr
    )
    assert "[openai-chat:m@http://***@127.0.0.1:" in stdout  # the ad hoc name, masked
    history = await cli(["history"])
    session_id = history[1].splitlines()[-1].split()[0]  # under the header line
    outputs.append(history)
    export = await cli(["export", session_id, "--format", "md"])
    outputs.append(export)
    outputs.append(await cli(["export", session_id, "--format", "jsonl"]))
    listing = await cli(["providers", "--config", str(config)])
    outputs.append(listing)
    assert "http://***@127.0.0.1:" in listing[1] and "key=***" in listing[1]
    assert "http://***@127.0.0.1:" in export[1]  # the md export names the URL, masked
    assert said(outputs) == []
    assert leaks(tmp_path / "data") == [] and leaks(out) == []


async def test_configured_header_values_echoed_back_are_redacted(tmp_path: Path, cli: Cli) -> None:
    async with LoopbackServer(route) as server:
        config = tmp_path / "config.toml"
        config.write_text(
            "".join(
                f'[providers.{name}]\nkind = "openai-chat"\nmodel = "m"\n'
                f'base_url = "http://127.0.0.1:{server.port}/{name}/v1"\n'
                f'headers = {{ "x-api-key" = "{HEADER_SECRET}" }}\n'
                for name in ("hdr500", "hdrsse")
            ),
            encoding="utf-8",
        )
        (tmp_path / "out").mkdir()
        base = ["stream", "--config", str(config), "--record", "out/run.jsonl"]
        text = await cli([*base, "-p", "hdr500", "-p", "hdrsse", "hi"])
        jsonl = await cli(
            ["stream", "--config", str(config), "-p", "hdrsse", "--format", "jsonl", "hi"]
        )
        assert server.requests[0].headers["x-api-key"] == HEADER_SECRET
    code, stdout, stderr = text
    assert code == 1 and "Hel" in stdout
    assert "HTTP 500" in stderr and "upstream rejected key [redacted]" in stderr
    assert "quota exceeded for [redacted]" in stderr
    assert '"type": "error"' in jsonl[1] and "[redacted]" in jsonl[1]
    assert said([text, jsonl]) == []
    assert leaks(tmp_path / "data") == [] and leaks(tmp_path / "out") == []


async def test_a_placeholder_key_does_not_mangle_the_servers_message(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_KEY", "x")
    loopback.set_replies(
        Reply.json({"error": {"message": "model does-not-exist (max 0x10)"}}, status=404)
    )
    spec = {
        "kind": "openai-chat",
        "model": "m",
        "base_url": f"{loopback.url}/v1",
        "api_key_env": "LOCAL_KEY",
    }
    llm = build_llm(spec, name="local")
    try:
        with pytest.raises(ProviderError) as caught:
            await llm.ainvoke("hi")
    finally:
        await llm.aclose()
    assert "model does-not-exist (max 0x10)" in str(caught.value)
    assert "[redacted]" not in str(caught.value)
    assert loopback.requests[0].headers["authorization"] == "Bearer x"


def test_redaction_rule_long_values_everywhere_short_ones_as_whole_words() -> None:
    redact = Redactor(["x", "EMPTY", "ollama", "hunter2", "sk-live-0123456789", None, ""])
    assert redact("does-not-exist: EMPTY ollama x") == "does-not-exist: EMPTY ollama x"
    assert redact("pw hunter2, not hunter22") == "pw [redacted], not hunter22"
    assert redact("key=sk-live-0123456789abc") == "key=[redacted]abc"  # a long one, anywhere
    assert "hunter2" not in repr(redact) and "sk-live" not in repr(redact)


def test_mask_urls_hides_userinfo_and_secret_query_values_only() -> None:
    text = "at https://tok:p@ss@h.example:8443/v1?key=abc&alt=sse&access_token=t#f, fine"
    assert (
        mask_urls(text)
        == "at https://***@h.example:8443/v1?key=***&alt=sse&access_token=***#f, fine"
    )
    assert mask_urls("http://127.0.0.1:8000/v1?alt=sse") == "http://127.0.0.1:8000/v1?alt=sse"
    assert mask_urls(mask_urls(text)) == mask_urls(text)


def test_config_show_masks_base_url_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[providers.p]\nkind = "openai-chat"\nmodel = "m"\n'
        f'base_url = "http://user:{PASSWORD}@127.0.0.1:8000/v1?key={QUERY_KEY}"\n',
        encoding="utf-8",
    )
    assert main(["config", "show", "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    assert "http://***@127.0.0.1:8000/v1?key=***" in out
    assert said([(0, out, err)]) == []


def test_reprs_of_a_backend_and_its_spec_hide_header_values_and_url_credentials() -> None:
    table = {
        "kind": "openai-chat",
        "model": "m",
        "base_url": f"http://user:{PASSWORD}@127.0.0.1:8000/v1?key={QUERY_KEY}",
        "headers": {"x-api-key": HEADER_SECRET},
    }
    llm = build_llm(table, name="p")
    assert isinstance(llm, HTTPModel)
    texts = [repr(llm), str(llm), repr(vars(llm)), repr(llm.spec), str(llm.spec)]
    assert [s for t in texts for s in SECRETS if s in t] == []
    assert "http://***@127.0.0.1:8000/v1?key=***" in repr(llm.spec)
    assert llm.spec.base_url == table["base_url"]  # still what the request uses


def test_a_saved_error_line_never_holds_url_credentials() -> None:
    url = f"http://user:{PASSWORD}@h.example/v1?key={QUERY_KEY}"
    internal = ValueError(f"cannot parse {url}")
    provider = ProviderError(f"odd reply from {url}", provider="p", hint=f"see {url}")
    for exc in (internal, provider):
        line = error_line(exc, provider="p", t=0.0, text="", metrics=None)
        saved = json.dumps(line)
        assert "http://***@h.example/v1?key=***" in saved
        assert [s for s in SECRETS if s in saved] == []
