"""The shared HTTP layer (providers/http.py): every fault maps to its documented error, with
a one-line message naming the provider and the cause, the text kept, no hang, no key leaked,
and a concurrent healthy stream untouched. Driven through ``openai-chat`` over a loopback
server, so what is tested is what a user runs."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import httpx
import pytest

from llmstream_tui.core.accumulate import sum_chunks
from llmstream_tui.core.messages import AIMessageChunk
from llmstream_tui.errors import (
    AuthError,
    ConnectError,
    HTTPStatusError,
    ProviderError,
    RateLimitError,
    StreamInterrupted,
    StreamProtocolError,
    StreamTimeout,
    StreamTruncated,
    UpstreamError,
)
from llmstream_tui.providers.http import HTTPModel
from llmstream_tui.providers.openai import OpenAIChatModel
from llmstream_tui.providers.registry import build_llm
from llmstream_tui.wire.jsonload import json_loads
from tests.support.loopback import LoopbackServer, Reply

NAME = "gpt"
CANARY = "sk-canary-5d1e0c9a7b3f"


def chunk(content: str | None = None, finish: str | None = None, **extra: Any) -> bytes:
    delta: dict[str, Any] = {} if content is None else {"content": content}
    obj = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "gpt-test",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


USAGE = (
    b'data: {"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":3,'
    b'"completion_tokens":2,"total_tokens":5}}\n\n'
)
HEAD = chunk("Hello") + chunk(" world")
BODY = HEAD + chunk(None, "stop") + USAGE + b"data: [DONE]\n\n"


@pytest.fixture(autouse=True)
def _canary_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)


#: The stall timeout of the tests that are about stalls; every other test gets a timeout a
#: loaded machine cannot reach, so only a real fault can fail it.
STALL_S = 0.3


def make(base: str, client: httpx.AsyncClient | None = None, **table: Any) -> OpenAIChatModel:
    spec = {"kind": "openai-chat", "model": "gpt-test", "base_url": base, "timeout": 10.0, **table}
    model = build_llm(spec, name=NAME, client=client)
    assert isinstance(model, OpenAIChatModel)
    model.backoff_base = 0.01
    model.max_backoff = 0.5
    return model


async def text_of(model: HTTPModel, prompt: str = "hi") -> str:
    chunks: list[AIMessageChunk] = []
    async for chunk in model.astream(prompt):
        assert isinstance(chunk, AIMessageChunk)  # a chat model's (the type admits str too)
        chunks.append(chunk)
    total = sum_chunks(chunks)
    assert total is not None
    return total.content


def assert_clean(exc: ProviderError, *, cause: str, partial: str = "") -> None:
    """The documented shape: one line, provider first, the cause named, text kept, no key."""
    line = str(exc)
    assert "\n" not in line
    assert line.startswith(f"{NAME}: ")
    assert cause.lower() in line.lower()
    assert exc.partial_text == partial
    assert CANARY not in line and CANARY not in repr(exc)
    assert CANARY not in json.dumps(exc.to_dict())


async def failing(model: HTTPModel, error: type[ProviderError]) -> ProviderError:
    with pytest.raises(error) as info:
        await asyncio.wait_for(text_of(model), 5)
    return info.value


async def fault_beside_healthy(
    fault: Reply, error: type[ProviderError], timeout: float = 10.0
) -> ProviderError:
    """Run the faulty stream and a healthy one at once on one backend and client; the
    healthy one must finish intact."""
    healthy = Reply.sse(BODY, pattern="random", drip=0.002)
    async with (
        LoopbackServer(lambda r: healthy if r.headers.get("x-run") == "ok" else fault) as server,
        httpx.AsyncClient() as client,
    ):
        model = make(server.url, client, timeout=timeout)
        other = make(server.url, client, headers={"x-run": "ok"})
        bad, good = await asyncio.gather(failing(model, error), asyncio.wait_for(text_of(other), 5))
    assert good == "Hello world"
    return bad


# -- pure helpers ----------------------------------------------------------------------------


def test_json_loads_reads_what_the_stdlib_reads() -> None:
    for text in ['{"a": [1, 2.5, "x\\u00e9"]}', '"\\ud83d"', "NaN", '{"a": 1, "a": 2}']:
        value, expected = json_loads(text), json.loads(text)
        assert repr(value) == repr(expected)
    with pytest.raises(ValueError, match="Expecting"):
        json_loads('{"choices": [')


# -- status errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error", "shown"),
    [
        (
            400,
            {"error": {"message": "Unsupported parameter: 'seed'"}},
            HTTPStatusError,
            "HTTP 400 Bad Request: Unsupported parameter: 'seed'",
        ),
        (
            401,
            {"error": {"message": "Incorrect API key provided"}},
            AuthError,
            "HTTP 401 Unauthorized: Incorrect API key provided",
        ),
        (
            403,
            {"type": "error", "error": {"type": "permission_error", "message": "Not allowed"}},
            AuthError,
            "HTTP 403 Forbidden: Not allowed [permission_error]",
        ),
        (
            404,
            {"error": "model 'gpt-test' not found"},
            HTTPStatusError,
            "HTTP 404 Not Found: model 'gpt-test' not found",
        ),
        (
            422,
            {"error": {"code": 422, "message": "Invalid value", "status": "INVALID_ARGUMENT"}},
            HTTPStatusError,
            "HTTP 422 Unprocessable Entity: Invalid value [INVALID_ARGUMENT]",
        ),
        (
            500,
            {"error": {"message": "The server had an error"}},
            HTTPStatusError,
            "HTTP 500 Internal Server Error: The server had an error",
        ),
    ],
)
async def test_http_errors_show_the_providers_own_message(
    status: int,
    body: Any,
    error: type[ProviderError],
    shown: str,
    client: httpx.AsyncClient,
) -> None:
    async with LoopbackServer(Reply.json(body, status=status)) as server:
        exc = await failing(make(server.url, client), error)
        assert len(server.requests) == 1  # none of these is retried
    assert type(exc) is error
    assert exc.status == status
    assert_clean(exc, cause=shown)


async def test_401_hints_at_the_variable_never_the_key(client: httpx.AsyncClient) -> None:
    body = {"error": {"message": f"Incorrect API key provided: {CANARY}"}}  # a server echoing it
    async with LoopbackServer(Reply.json(body, status=401)) as server:
        exc = await failing(make(server.url, client), AuthError)
    assert exc.hint == "check the key in OPENAI_API_KEY"
    assert "[redacted]" in str(exc)
    assert_clean(exc, cause="401")


async def test_401_without_a_key_says_which_variable_to_set(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    async with LoopbackServer(Reply.json({"error": {"message": "no key"}}, status=401)) as server:
        exc = await failing(make(server.url, client, api_key_env="MY_GATEWAY_KEY"), AuthError)
        assert "authorization" not in server.requests[0].headers
    assert str(exc) == f"{NAME}: HTTP 401 Unauthorized: no key (set MY_GATEWAY_KEY)"


async def test_html_error_page_is_named_not_dumped(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(Reply.html(502)) as server:
        exc = await failing(make(server.url, client), HTTPStatusError)
    assert str(exc) == f"{NAME}: HTTP 502 Bad Gateway (HTML error page)"


async def test_error_body_is_inert_and_one_line(client: httpx.AsyncClient) -> None:
    body = {"error": {"message": "bad\nthing \x1b]52;c;evil\x07 " + "x" * 1000}}
    async with LoopbackServer(Reply.json(body, status=400)) as server:
        exc = await failing(make(server.url, client), HTTPStatusError)
    assert "\x1b" not in str(exc) and "\\x1b" in str(exc)
    assert len(str(exc)) < 400
    assert_clean(exc, cause="bad thing")


# -- retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503, 529])
async def test_rate_limit_is_retried_honouring_retry_after_then_succeeds(
    status: int, client: httpx.AsyncClient
) -> None:
    limited = Reply.json(
        {"error": {"message": "slow down"}}, status=status, headers=[("retry-after", "0.2")]
    )
    async with LoopbackServer(limited, Reply.sse(BODY)) as server:
        model = make(server.url, client)
        started = time.monotonic()
        assert await text_of(model) == "Hello world"
        elapsed = time.monotonic() - started
        assert len(server.requests) == 2
        assert server.requests[0].json() == server.requests[1].json()
    assert 0.2 <= elapsed < 1.5


async def test_rate_limit_gives_up_after_max_retries(client: httpx.AsyncClient) -> None:
    limited = Reply.json(
        {"error": {"message": "Rate limit reached"}}, status=429, headers=[("retry-after", "0.01")]
    )
    async with LoopbackServer(limited) as server:
        exc = await failing(make(server.url, client, max_retries=3), RateLimitError)
        assert len(server.requests) == 4
    assert isinstance(exc, RateLimitError)
    assert exc.retry_after == 0.01
    assert exc.status == 429
    assert_clean(exc, cause="HTTP 429 Too Many Requests: Rate limit reached (after 3 retries)")


async def test_retry_after_beyond_the_bound_fails_at_once_saying_when(
    client: httpx.AsyncClient,
) -> None:
    limited = Reply.json(
        {"error": {"message": "quota"}}, status=429, headers=[("retry-after", "3600")]
    )
    async with LoopbackServer(limited) as server:
        started = time.monotonic()
        exc = await failing(make(server.url, client), RateLimitError)
        assert time.monotonic() - started < 1
        assert len(server.requests) == 1
    assert isinstance(exc, RateLimitError) and exc.retry_after == 3600
    assert exc.hint == "retry in 3600 s"


async def test_backoff_without_retry_after_is_exponential_and_bounded(
    client: httpx.AsyncClient,
) -> None:
    overloaded = Reply.json(
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        status=529,
    )
    async with LoopbackServer(overloaded) as server:
        model = make(server.url, client, max_retries=4)
        model.backoff_base, model.max_backoff = 0.02, 0.05
        started = time.monotonic()
        exc = await failing(model, RateLimitError)
        elapsed = time.monotonic() - started
        assert len(server.requests) == 5
    # waits of ~0.02, 0.04, then capped at 0.05 twice (jitter takes off at most a quarter)
    assert 0.12 <= elapsed < 1.0
    assert_clean(exc, cause="HTTP 529 Overloaded: Overloaded [overloaded_error]")


async def test_no_retry_once_the_stream_has_started(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(Reply.sse(BODY, drop_after=len(HEAD) + 3)) as server:
        exc = await failing(make(server.url, client, max_retries=5), StreamInterrupted)
        assert len(server.requests) == 1
    assert exc.partial_text == "Hello world"


# -- connection faults -----------------------------------------------------------------------


async def test_connection_refused_is_a_connect_error(client: httpx.AsyncClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    exc = await failing(make(f"http://127.0.0.1:{port}/v1", client), ConnectError)
    assert_clean(exc, cause=f"connection refused at http://127.0.0.1:{port}/v1")
    assert exc.hint is not None and "running" in exc.hint


@pytest.mark.parametrize(
    ("raised", "cause"),
    [
        (httpx.ConnectError("[Errno -2] Name or service not known"), "unknown host"),
        (httpx.ConnectTimeout("timed out"), "connect timeout after 0.3 s"),
    ],
)
async def test_unknown_host_and_connect_timeout_are_connect_errors(
    raised: Exception, cause: str
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise raised

    async with httpx.AsyncClient(transport=httpx.MockTransport(fail)) as client:
        exc = await failing(
            make("https://api.example.invalid/v1", client, timeout=STALL_S), ConnectError
        )
    assert_clean(exc, cause=cause)


async def test_tls_failure_is_a_connect_error(client: httpx.AsyncClient) -> None:
    async def plain_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A plain-HTTP server answering a TLS hello, as when https:// names an http port.
        writer.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(plain_http, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        exc = await failing(make(f"https://127.0.0.1:{port}/v1", client), ConnectError)
    assert_clean(exc, cause="TLS failure")


async def test_close_before_headers_is_interrupted() -> None:
    exc = await fault_beside_healthy(Reply(close_before_headers=True), StreamInterrupted)
    assert type(exc) is StreamInterrupted
    assert_clean(exc, cause="server closed the connection before responding")


async def test_garbage_instead_of_http_is_a_protocol_error() -> None:
    exc = await fault_beside_healthy(Reply(raw=b"\x16\x03\x01garbage\r\n\r\n"), StreamProtocolError)
    assert_clean(exc, cause="invalid HTTP response")


async def test_garbage_chunk_framing_mid_stream_is_a_protocol_error(
    client: httpx.AsyncClient,
) -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked"
        b"\r\n\r\n%x\r\n%s\r\nzz\r\n" % (len(HEAD), HEAD)
    )
    async with LoopbackServer(Reply(raw=raw)) as server:
        exc = await failing(make(server.url, client), StreamProtocolError)
    assert_clean(exc, cause="invalid HTTP framing", partial="Hello world")


# -- stream faults ---------------------------------------------------------------------------


async def test_stall_between_chunks_is_a_timeout_keeping_the_text() -> None:
    started = time.monotonic()
    exc = await fault_beside_healthy(
        Reply.sse(BODY, stall_after=len(HEAD)), StreamTimeout, timeout=STALL_S
    )
    assert time.monotonic() - started < 2
    assert_clean(exc, cause="no data for 0.3 s (stalled)", partial="Hello world")


async def test_stall_before_any_byte_is_a_timeout(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(Reply.sse(BODY, stall_after=0)) as server:
        exc = await failing(make(server.url, client, timeout=STALL_S), StreamTimeout)
    assert_clean(exc, cause="stalled")


async def test_slow_drip_within_the_timeout_completes(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(Reply.sse(BODY, pattern="random", max_piece=50, drip=0.02)) as server:
        assert await text_of(make(server.url, client, timeout=STALL_S)) == "Hello world"


@pytest.mark.parametrize("pattern", ["whole", "bytes", "random"])
async def test_connection_dropped_mid_stream_is_interrupted_keeping_the_text(
    pattern: str,
) -> None:
    fault = Reply.sse(BODY, drop_after=len(HEAD) + 10, pattern=pattern)
    exc = await fault_beside_healthy(fault, StreamInterrupted)
    assert type(exc) is StreamInterrupted
    assert_clean(exc, cause="connection dropped mid-stream", partial="Hello world")


async def test_clean_end_without_done_is_truncated_keeping_the_text() -> None:
    fault = Reply.sse(HEAD + chunk(None, "stop"), framing="close")
    exc = await fault_beside_healthy(fault, StreamTruncated)
    assert_clean(exc, cause="stream ended without [DONE] (truncated)", partial="Hello world")


async def test_malformed_json_in_an_event_is_a_protocol_error() -> None:
    fault = Reply.sse(HEAD + b'data: {"choices": [\n\n' + BODY)
    exc = await fault_beside_healthy(fault, StreamProtocolError)
    assert_clean(exc, cause="malformed JSON in event", partial="Hello world")


async def test_garbage_bytes_in_the_event_stream_are_a_protocol_error() -> None:
    fault = Reply.sse(HEAD + b"data: \xff\xfe\x00garbage\x1b[2J\n\n" + BODY, pattern="random")
    exc = await fault_beside_healthy(fault, StreamProtocolError)
    assert "\x1b" not in str(exc)
    assert_clean(exc, cause="malformed JSON", partial="Hello world")


async def test_error_object_mid_stream_is_upstream_error() -> None:
    error = b'data: {"error": {"message": "The server had an error", "type": "server_error"}}\n\n'
    exc = await fault_beside_healthy(Reply.sse(HEAD + error), UpstreamError)
    assert_clean(
        exc,
        cause="provider error mid-stream: The server had an error [server_error]",
        partial="Hello world",
    )


async def test_html_page_with_status_200_is_a_protocol_error() -> None:
    exc = await fault_beside_healthy(Reply.html(200, "<html>login</html>"), StreamProtocolError)
    assert exc.status == 200
    assert_clean(exc, cause="expected a stream (text/event-stream) but got an HTML page")


async def test_gzip_encoded_stream_is_decoded(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(Reply.sse(BODY, gzip=True, pattern="random", max_piece=7)) as server:
        assert await text_of(make(server.url, client)) == "Hello world"


async def test_corrupt_gzip_is_a_protocol_error(client: httpx.AsyncClient) -> None:
    reply = Reply.sse(b"\x1f\x8b\x08\x00garbage" * 5, headers=[("content-encoding", "gzip")])
    async with LoopbackServer(reply) as server:
        exc = await failing(make(server.url, client), StreamProtocolError)
    assert_clean(exc, cause="cannot decode the response body")


# -- cancel, client lifecycle ----------------------------------------------------------------


async def test_closing_the_iterator_disconnects_at_once(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(Reply.sse(BODY * 50, stall_after=len(HEAD))) as server:
        model = make(server.url, client, timeout=30)
        stream = model.astream("hi")
        first = await anext(stream)
        assert isinstance(first, AIMessageChunk)
        assert first.content == "Hello"
        await stream.aclose()  # type: ignore[attr-defined]  # an async generator
        await asyncio.wait_for(server.requests[0].disconnected.wait(), 1)
        # the client (shared) still works afterwards
        server.set_replies(Reply.sse(BODY))
        assert await text_of(model) == "Hello world"


async def test_cancelling_the_task_disconnects_at_once(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(Reply.sse(BODY, stall_after=len(HEAD))) as server:
        model = make(server.url, client, timeout=30)
        first = asyncio.Event()

        async def consume() -> None:
            async for _ in model.astream("hi"):
                first.set()

        task = asyncio.ensure_future(consume())
        await asyncio.wait_for(first.wait(), 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(server.requests[0].disconnected.wait(), 1)


async def test_own_client_is_made_once_reused_and_closed_by_aclose() -> None:
    async with LoopbackServer(Reply.sse(BODY)) as server:
        model = make(server.url)
        assert await text_of(model) == "Hello world"
        own = model.client
        assert await text_of(model) == "Hello world"
        assert model.client is own
        assert server.connections == 1  # one pooled connection, not one per request
        await model.aclose()
        assert own.is_closed


async def test_injected_client_is_left_open(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(Reply.sse(BODY)) as server:
        model = make(server.url, client)
        assert await text_of(model) == "Hello world"
        await model.aclose()
        assert not client.is_closed
        assert model.client is client


async def test_first_byte_is_marked_when_headers_arrive(client: httpx.AsyncClient) -> None:
    from llmstream_tui.core.metrics import StreamTimeline

    async with LoopbackServer(Reply.sse(BODY)) as server:
        timeline = StreamTimeline()
        [c async for c in make(server.url, client).astream("hi", {"timeline": timeline})]
    snap = timeline.snapshot()
    assert snap.ttfb_s is not None and snap.ttft_s is not None
    assert 0 < snap.ttfb_s <= snap.ttft_s


# -- the key ---------------------------------------------------------------------------------


async def test_key_is_sent_as_bearer_and_never_shown(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(Reply.sse(BODY)) as server:
        model = make(server.url, client, headers={"x-extra": "1"})
        await text_of(model)
        headers = server.requests[0].headers
    assert headers["authorization"] == f"Bearer {CANARY}"
    assert headers["x-extra"] == "1"
    assert CANARY not in repr(model)
    assert CANARY not in repr(model.spec) and CANARY not in str(model.spec.model_dump())
    assert CANARY not in repr(vars(model))
    assert model.api_key_env == "OPENAI_API_KEY"


async def test_list_models_reads_the_openai_shape(
    client: httpx.AsyncClient, loopback: LoopbackServer
) -> None:
    loopback.routes["/v1/models"] = Reply.json(
        {"object": "list", "data": [{"id": "gpt-b"}, {"id": "gpt-a"}]}
    )
    assert await make(loopback.url + "/v1", client).list_models() == ["gpt-a", "gpt-b"]
    request = loopback.requests[0]
    assert (request.method, request.path) == ("GET", "/v1/models")
    assert request.headers["authorization"] == f"Bearer {CANARY}"


async def test_list_models_maps_errors_too(client: httpx.AsyncClient) -> None:
    async with LoopbackServer(Reply.json({"error": {"message": "nope"}}, status=401)) as server:
        with pytest.raises(AuthError) as info:
            await make(server.url, client).list_models()
    assert_clean(info.value, cause="nope")


async def test_non_json_answer_to_a_json_request_is_a_protocol_error(
    client: httpx.AsyncClient,
) -> None:
    async with LoopbackServer(Reply(body=b"not json", framing="length")) as server:
        with pytest.raises(StreamProtocolError) as info:
            await make(server.url, client).get_json("/models")
    assert_clean(info.value, cause="response is not JSON")
