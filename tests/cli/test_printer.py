"""``cli/printer.py``'s output stream: what reaches ``out`` and how often it is flushed."""

from __future__ import annotations

import asyncio
import io

from llmstream_tui.cli.printer import Printer


class CountingOut(io.StringIO):
    """A stdout that counts flushes and says when one happened."""

    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0
        self.flushed = asyncio.Event()
        self.seen_at_flush = ""

    def flush(self) -> None:
        self.flushes += 1
        self.seen_at_flush = self.getvalue()
        self.flushed.set()


def test_chunks_are_flushed_once_per_frame_not_once_each() -> None:
    """200,000 chunks were 200,000 write + flush pairs: a syscall each on a pipe or a file.
    While a run streams, the text is flushed a frame after the first unflushed piece, so a
    reader still sees it at once, and whatever the rate, a frame costs one flush."""

    async def main() -> CountingOut:
        out = CountingOut()
        printer = Printer(out, "text", "|", False, False)
        for i in range(1_000):
            printer.text("p", f"c{i}")
        assert out.flushes == 0  # nothing flushed while the loop is busy
        await asyncio.wait_for(out.flushed.wait(), 5)
        assert out.seen_at_flush == "".join(f"c{i}|" for i in range(1_000))
        printer.end_run("p", None)
        return out

    out = asyncio.run(main())
    assert out.getvalue().endswith("c999|\n")
    assert out.flushes <= 3


def test_without_an_event_loop_every_piece_is_flushed_at_once() -> None:
    out = CountingOut()
    printer = Printer(out, "text", "|", False, False)
    printer.text("p", "a")
    assert out.flushes == 1 and out.seen_at_flush == "a|"


def test_streamed_json_records_wait_for_their_frame_and_an_end_line_does_not() -> None:
    async def main() -> CountingOut:
        out = CountingOut()
        printer = Printer(out, "jsonl", "|", False, False)
        for i in range(100):
            printer.record({"type": "chunk", "index": i})
        assert out.flushes == 0
        await asyncio.wait_for(out.flushed.wait(), 5)
        assert out.seen_at_flush.count("\n") == 100
        printer.line({"type": "end"})
        assert out.seen_at_flush.endswith('{"type": "end"}\n')
        return out

    assert asyncio.run(main()).flushes <= 3
