"""The app under attack (issue 7): load, hostile model text, secrets.

- Load: 8 panes x 100,000 chunks from zero-latency providers. Nothing lost or reordered (on
  screen, in each pane's conversation, in the history), memory bounded, keys still answered.
- Hostile text: escape sequences, markup, controls, bidi and zero-width characters, a
  10,000-character word: pinned by a snapshot and by the rendered segments.
- Secrets: a provider answers 401 echoing the API key; the key reaches no screen, event,
  notification, history file or recording.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual import events
from textual.pilot import Pilot

from llmstream_tui.config import Settings, UISettings, load_settings
from llmstream_tui.providers.registry import KINDS
from llmstream_tui.sessions.history import History
from llmstream_tui.ui.app import LLMStreamApp, make_app
from llmstream_tui.ui.textual_internals import notification_messages
from tests.support.loopback import LoopbackServer, Reply
from tests.support.paths import WIRE

SAMPLES = Path(__file__).resolve().parents[1] / "sample-configs"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own data dir (history, recordings, prompt history), and the test-only
    ``timed`` kind (stated chunk times: metrics the same on every run)."""
    folder = tmp_path / "data"
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(folder))
    monkeypatch.setitem(KINDS, "timed", "tests.ui.timed:TimedModel")
    return folder


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def screen_text(app: LLMStreamApp) -> str:
    """Everything the screen shows, as the terminal would receive it (minus styles): the
    same rendering ``export_screenshot`` does, captured as text instead of an SVG."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    # the compositor's full update is what a screenshot (and the terminal) gets
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text(styles=False)


# -- load ----------------------------------------------------------------------------------

PANES = 8
CHUNKS = 100_000
#: Each pane's chunks: this many distinct texts, played CHUNKS // DISTINCT times (``repeat``).
#: A chunk moved by fewer places than this changes its pane's hash.
DISTINCT = 50_000
#: Resident memory the first 800,000 chunks may add: the panes keep at most ``max_rows``
#: rows each and the events log ``events_max_lines`` entries, so what grows with the stream
#: is the answer text (about 1 MB a pane, kept twice: the conversation and the events log's
#: end event). Measured: about 125 MB.
FIRST_TURN_RSS = 250_000_000
#: What a second turn of 800,000 more chunks may add: the bounded structures are full
#: already, so about the new answers' text. Measured: about 5 MB. A leak of one small
#: object per chunk (an int: 32 bytes) would add 25 MB on top.
SECOND_TURN_RSS = 60_000_000


def pane_chunks(pane: int) -> list[str]:
    """Distinct texts, some ending in a newline (so the layout's line breaks are in play)."""
    return [f"{pane}:{j}" + ("\n" if j % 97 == 0 else " ") for j in range(DISTINCT)]


def load_settings_8x() -> Settings:
    providers = {
        f"p{i}": {"kind": "scripted", "chunks": pane_chunks(i), "repeat": CHUNKS // DISTINCT}
        for i in range(PANES)
    }
    return Settings(
        providers=providers,
        default_providers=list(providers),
        ui=UISettings(cursor_blink=False, events_open="yes"),
    )


def rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.slow
async def test_eight_panes_of_100k_chunks_lose_nothing_stay_bounded_and_answer_keys() -> None:
    app = make_app(load_settings_8x())
    expected = [digest("".join(pane_chunks(i)) * (CHUNKS // DISTINCT)) for i in range(PANES)]
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        prompt = app.prompt_area
        screen = app.screen
        update_timer = screen._update_timer  # the screen's own frame: wrapped, as bench does
        assert update_timer is not None
        draw = update_timer._callback
        key: dict[str, Any] = {}
        shown = asyncio.Event()
        updates = 0

        def on_update() -> None:
            nonlocal updates
            dirty = prompt in screen._dirty_widgets or screen._layout_required
            draw()  # type: ignore[misc]  # Textual's callback type is wide
            updates += 1
            if "posted" in key and not shown.is_set() and dirty and prompt.text == "x":
                key["frames"] = updates - key["posted_at"]
                key["latency_s"] = time.perf_counter() - key["posted"]
                key["streaming"] = sum(p.session.running for p in app.panes)
                shown.set()

        update_timer._callback = on_update
        first = app.panes[0]
        flush = first.flush

        async def flush_then_type(paint: bool = True) -> bool:
            """The app's frame draws the first pane with this: once an eighth of all the
            chunks arrived, a key comes in as the terminal driver would post it."""
            ended = await flush(paint)
            arrived = sum(p.session.timeline.chunks for p in app.panes if p.session.timeline)
            if "posted" not in key and arrived >= PANES * CHUNKS // 8:
                key["posted"] = time.perf_counter()
                key["posted_at"] = updates
                app.post_message(events.Key("x", "x"))
            return ended

        first.flush = flush_then_type  # type: ignore[method-assign]
        start_rss = rss()
        started = time.perf_counter()
        await app.send("go")
        await app.settle()
        first_turn_s = time.perf_counter() - started
        first_rss = rss() - start_rss
        await asyncio.wait_for(shown.wait(), 5)
        # the key showed while every pane was still streaming, within two screen updates
        assert key["streaming"] == PANES
        assert key["frames"] <= 2, key
        assert prompt.text == "x"

        for i, pane in enumerate(app.panes):
            session = pane.session
            assert session.state == "done"
            assert session.timeline is not None and session.timeline.chunks == CHUNKS
            assert digest(session.conversation[-1].content) == expected[i]  # the conversation
            assert digest(session.answer_text()) == expected[i]  # the pane's answer store
        recorder = app.recorder
        assert recorder is not None
        recorder.flush()
        uid = recorder.session_uid
        with History() as history:
            record = history.load(uid or "")
            assert [r.provider for r in record.runs] == [f"p{i}" for i in range(PANES)]
            for i, run in enumerate(record.runs):
                assert run.chunks == CHUNKS and digest(run.text) == expected[i]
                saved = "".join(c["text"] for c in history.iter_chunks(run.id))
                assert digest(saved) == expected[i]

        second_start = rss()
        await app.send("again")
        await app.settle()
        second_rss = rss() - second_start
        for i, pane in enumerate(app.panes):
            assert digest(pane.session.conversation[-1].content) == expected[i]

    print(
        f"\nload: {PANES}x{CHUNKS:,} chunks in {first_turn_s:.2f}s "
        f"({PANES * CHUNKS / first_turn_s:,.0f} chunks/s); RSS +{first_rss / 1e6:.0f} MB, "
        f"second turn +{second_rss / 1e6:.0f} MB; key shown after {key['frames']} "
        f"screen update(s), {key['latency_s'] * 1000:.1f} ms"
    )
    assert first_rss < FIRST_TURN_RSS
    assert second_rss < SECOND_TURN_RSS


# -- hostile text --------------------------------------------------------------------------

#: What must never reach the terminal from model text: ESC, BEL, C1 controls, bidi
#: embeddings/overrides/isolates, zero-width and invisible characters, NUL, CR, VT, DEL.
FORBIDDEN = (
    [chr(c) for c in range(0x20) if chr(c) not in "\n"]
    + ["\x7f"]
    + [chr(c) for c in range(0x80, 0xA0)]
    + [chr(c) for c in range(0x200B, 0x2010)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2060, 0x206A)]
    + ["\ufeff"]
)


async def send_and_wait(pilot: Pilot[int], prompt: str) -> None:
    app = pilot.app
    assert isinstance(app, LLMStreamApp)
    app.prompt_area.load_text(prompt)
    await pilot.press("enter")
    await app.settle()
    await pilot.pause()


def test_hostile_text_snapshot(snap_compare, counted_run_ids: None) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await send_and_wait(pilot, "say something \x1b[31mnasty\x1b[0m")

    app = make_app(load_settings(SAMPLES / "hostile.toml"))
    assert snap_compare(app, terminal_size=(120, 34), run_before=run_before)


async def test_hostile_text_reaches_the_screen_inert() -> None:
    app = make_app(load_settings(SAMPLES / "hostile.toml"))
    async with app.run_test(size=(120, 34)) as pilot:
        await send_and_wait(pilot, "say something \x1b[31mnasty\x1b[0m")
        pane = app.panes[0]
        assert pane.session.state == "done"
        shown = screen_text(app)
        for char in FORBIDDEN:
            assert char not in shown, f"U+{ord(char):04X} reached the screen"
        # the whole answer, as drawn (rows joined: wrapping adds no characters here)
        drawn = "".join(pane.body.plain_rows)
        for literal in (
            "[bold red]x[/]",
            "|[/]|",
            "[link=https://evil]y[/link]",
            "$accent",
            "\\x1b[2J",
            "\\x1b]0;pwned\\x07",
            "\\x1b]52;c;cHduZWQ=\\x07",
            "\\x1b]8;;https://evil.example\\x1b\\click",
            "c0:\\x00\\x07\\x08\\x0d\\x0b\\x7f",
            "c1:\\x85\\x9b31m\\x9d",
            "bidi:\\u202eevil\\u202c\\u2066iso\\u2069",
            "zw:a\\u200bb\\u200dc\\u2060d\\ufeffe",
            "0123456789" * 1000,
        ):
            assert literal in drawn, literal
        # the events log and the header show the same text escaped too
        assert "\\x1b[2J" in shown and "m\\x1b]0;model-title\\x07" in shown
        assert "› say something \\x1b[31mnasty\\x1b[0m" in drawn  # the echoed prompt


# -- secrets -------------------------------------------------------------------------------

CANARY = "sk-canary-5b2e81f0c4d94a7e-do-not-leak"


def leaky_401(request: Any) -> Reply:  # request: RecordedRequest
    """401 whose JSON body (and a header) echo the key the client sent, as some servers do."""
    sent = request.headers.get("authorization", "")
    body = {
        "error": {
            "message": f"Incorrect API key provided: {sent}. Check {CANARY}.",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        }
    }
    return Reply.json(body, status=401, headers=[("x-echo", sent)])


async def test_a_key_echoed_by_a_failing_server_reaches_no_screen_log_or_file(
    monkeypatch: pytest.MonkeyPatch,
    data_dir: Path,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    good = Reply.sse_file(WIRE / "openai-chat" / "content-short.sse")
    async with LoopbackServer() as server:
        server.set_replies(lambda r: leaky_401(r) if r.path.startswith("/bad/") else good)
        settings = Settings(
            providers={
                "bad": {
                    "kind": "openai-chat",
                    "model": "gpt-x",
                    "base_url": f"{server.url}/bad/v1",
                    "max_retries": 0,
                },
                "good": {
                    "kind": "openai-chat",
                    "model": "gpt-y",
                    "base_url": f"{server.url}/good/v1",
                },
            },
            default_providers=["bad", "good"],
            ui=UISettings(cursor_blink=False, events_open="yes"),
        )
        app = make_app(settings)
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.press("f2")  # record this conversation too
            await send_and_wait(pilot, "hi")
            bad, ok = app.panes
            assert bad.session.state == "error" and ok.session.state == "done"
            assert ok.session.answer_text()
            # the key was really sent: the canary is in play
            assert all(r.headers["authorization"] == f"Bearer {CANARY}" for r in server.requests)
            await pilot.press("f8", "escape")  # a screen over the app and back
            await pilot.pause()
            texts = {
                "screen": screen_text(app) + app.export_screenshot(),
                "pane error": bad.session.error or "",
                "events log": "\n".join(app.events_log.shown_lines) + repr(app.events_log.entries),
                "notifications": "\n".join(notification_messages(app)),
                "conversation": repr(bad.session.conversation) + repr(ok.session.conversation),
            }
            assert "401" in texts["pane error"] and "[redacted]" in texts["pane error"]
            recorder = app.recorder
            assert recorder is not None
        # the app has closed its recorder: every file is complete
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "history.sqlite3" for p in files)
    assert any(p.suffix == ".jsonl" for p in files)  # the recording
    for name, text in texts.items():
        assert CANARY not in text, name
    for path in files:
        assert CANARY.encode() not in path.read_bytes(), path
