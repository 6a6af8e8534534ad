"""core/syncbridge.py (and the HTTP kinds' client lifecycle in providers/http.py): what the
sync methods open on the shared loop is closed on it, so no pooled connection is left for
the garbage collector to find (``ResourceWarning: unclosed <socket>``).

Every server here is keep-alive (chunked replies), so a finished stream leaves its
connection in the client's pool: the case that leaked.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from llmstream_tui.core import syncbridge
from llmstream_tui.providers.registry import build_llm
from tests.support.loopback import LoopbackServer, Reply
from tests.support.narrowing import chat_message
from tests.support.paths import REPO, WIRE

RECORDING = WIRE / "openai-chat" / "content-short.sse"
ANSWER = '{"city":"San Francisco","temperature":61,"units":"f"}'


@contextmanager
def resource_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Every ResourceWarning raised inside, collected (also those from ``__del__``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield caught
        gc.collect()
    caught[:] = [w for w in caught if issubclass(w.category, ResourceWarning)]


def read_to_the_end(url: str) -> Callable[[], str]:
    def run() -> str:
        llm = build_llm(f"openai-chat:gpt-4o@{url}/v1", flavor="chat")
        return "".join(str(c.content) for c in llm.stream("hi"))

    return run


async def test_a_sync_stream_read_to_the_end_leaves_no_unclosed_socket() -> None:
    async with LoopbackServer(Reply.sse_file(RECORDING)) as server:
        with resource_warnings() as caught:
            # the backend is dropped, unclosed, with its connection back in the pool
            assert await asyncio.to_thread(read_to_the_end(server.url)) == ANSWER
            gc.collect()
            await asyncio.to_thread(syncbridge.wait_closed)
    assert server.connections == 1
    assert [str(w.message) for w in caught] == []


async def test_close_and_with_release_the_sync_client_at_once() -> None:
    async with LoopbackServer(Reply.sse_file(RECORDING)) as server:
        ref = f"openai-chat:gpt-4o@{server.url}/v1"

        def with_block() -> list[str]:
            answers = []
            with build_llm(ref, flavor="chat") as llm:
                answers.append(chat_message(llm.invoke("hi")).content)
                answers.append("".join(str(c.content) for c in llm.stream("hi")))
            llm.close()  # closing twice is harmless
            return answers

        with resource_warnings() as caught:
            assert await asyncio.to_thread(with_block) == [ANSWER, ANSWER]
    assert server.connections == 1  # both calls used the one pooled connection
    assert caught == []


async def test_a_backend_used_from_two_loops_closes_both_clients() -> None:
    async with LoopbackServer(Reply.sse_file(RECORDING)) as server:
        with resource_warnings() as caught:
            async with build_llm(f"openai-chat:gpt-4o@{server.url}/v1", flavor="chat") as llm:
                assert chat_message(await llm.ainvoke("hi")).content == ANSWER  # this loop
                message = await asyncio.to_thread(llm.invoke, "hi")  # the shared loop
                assert chat_message(message).content == ANSWER
                assert chat_message(await llm.ainvoke("hi")).content == ANSWER  # back here
            await asyncio.to_thread(syncbridge.wait_closed)
    assert server.connections == 3
    assert caught == []


async def test_interpreter_exit_closes_what_the_sync_methods_opened() -> None:
    script = textwrap.dedent(
        """
        import sys
        from llmstream_tui.providers.registry import build_llm

        LLM = build_llm(f"openai-chat:gpt-4o@{sys.argv[1]}/v1")  # a global, never closed
        print("".join(str(c.content) for c in LLM.stream("hi")))
        """
    )
    async with LoopbackServer(Reply.sse_file(RECORDING)) as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-X",
            "dev",
            "-W",
            "always::ResourceWarning",
            "-c",
            script,
            server.url,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=REPO,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert out.decode().strip() == ANSWER
    assert "unclosed" not in err.decode()
    assert "Event loop is closed" not in err.decode()


def test_close_soon_on_a_closed_loop_reports_it_cannot() -> None:
    loop = asyncio.new_event_loop()
    loop.close()

    class Resource:
        closed = False

        async def aclose(self) -> None:
            self.closed = True

    resource = Resource()
    syncbridge.close_at_exit(resource)
    assert syncbridge.close_soon(loop, resource) is False
    assert resource not in syncbridge._at_exit  # taken back: nothing left to do at exit
    assert syncbridge.close_soon(syncbridge.background_loop(), resource) is True
    syncbridge.wait_closed()
    assert resource.closed
