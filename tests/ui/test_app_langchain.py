"""A pane over a whole LangChain or LangGraph application (the ``langchain`` kind): it streams
what the application outputs (its root run's chunks), a key switches it to one chat model
inside and back, the metrics are those of what it shows, and a bad target is one line."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from llmstream_tui.config import Settings
from llmstream_tui.core.messages import AIMessage, HumanMessage
from llmstream_tui.providers.langchain import compact_text
from llmstream_tui.ui.app import LLMStreamApp, make_app
from llmstream_tui.ui.session import PaneSession, build_session
from llmstream_tui.ui.widgets.stream_pane import StreamPane
from tests.providers import lc_apps
from tests.ui.conftest import make_settings

APPS = "tests.providers.lc_apps"
WRITER_WORDS = "|It| |is| |sunny| |in| |Paris| |today.|"


def apps(**tables: dict[str, Any]) -> Settings:
    providers = {name: {"kind": "langchain", **table} for name, table in tables.items()}
    return make_settings(providers=providers, default_providers=list(providers))


async def answered(app: LLMStreamApp, prompt: str = "Weather in Paris?") -> StreamPane:
    app.prompt_area.load_text(prompt)
    await app.send(prompt)
    await app.settle()
    return app.panes[0]


def title(pane: StreamPane) -> str:
    assert pane.border_title is not None
    return str(pane.border_title)


async def test_the_pane_streams_the_applications_output_with_its_metrics() -> None:
    app = make_app(apps(qa={"target": f"{APPS}:qa_chain()", "flavor": "llm"}))
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await answered(app)
        await pilot.pause()
        assert pane.session.state == "done"
        assert pane.body.plain_rows[-1] == "|Bubbles| |dancing,| |without| |fear|"
        assert pane.session.timeline is not None
        assert pane.session.timeline.snapshot().chunks == 7
        assert pane.session.conversation[-1] == AIMessage(lc_apps.ANSWER)
        # every nested run reached the events log: prompt, model, parser, the chain
        runs = {entry[3] for entry in app.events_log.entries}
        assert len(runs) == 4


async def test_the_key_switches_to_each_chat_model_inside_and_back() -> None:
    app = make_app(apps(agent={"target": f"{APPS}:graph()"}))
    async with app.run_test(size=(120, 30)) as pilot:
        pane = await answered(app)
        await pilot.pause()
        session = pane.session
        output = session.kept_text()
        assert output.startswith('{"agent":{"messages":[""]}}{"tools":{"messages"')
        assert session.conversation[-1] == AIMessage(output)
        root_timeline = session.timeline
        await pilot.press("f7")
        assert "▸ planner #1" in title(pane)  # answers whole: nothing streamed
        await pilot.press("f7")
        await pilot.pause()
        assert "▸ writer #1" in title(pane)
        assert pane.body.plain_rows[-1] == WRITER_WORDS
        assert session.timeline is not root_timeline
        assert session.timeline is not None
        assert session.timeline.snapshot().chunks == 11  # the writer's own metrics
        await pilot.press("f7")
        await pilot.pause()
        assert "▸" not in title(pane)
        assert session.timeline is root_timeline
        assert "".join(pane.body.plain_rows).endswith(
            compact_text({"agent": {"messages": [lc_apps.SUNNY]}}) + "|"
        )
        assert session.conversation[-1] == AIMessage(output)  # the view never changes it
        await pilot.press("f7", "f7")
        assert "▸ writer #1" in title(pane)
        await answered(app, "And tomorrow?")  # a new run shows the output again
        assert "▸" not in title(pane)
        assert len(session.conversation) == 4


async def test_our_own_backends_have_nothing_to_switch_to() -> None:
    app = make_app(make_settings(default_providers=["swift"]))
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await answered(app, "hi")
        rows = list(pane.body.plain_rows)
        await pilot.press("f7")
        await pilot.pause()
        assert pane.body.plain_rows == rows and "▸" not in title(pane)
        assert pane.session.sources is None


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("tests.providers.no_such_module:app", "no module named"),
        (f"{APPS}:no_such_app", "no attribute 'no_such_app'"),
        (f"{APPS}:not_a_runnable", "is int, not a runnable"),
        (f"{APPS}:broken()", "the factory failed: ValueError: cannot build"),
    ],
)
async def test_a_bad_target_is_one_line_in_its_pane(target: str, words: str) -> None:
    app = make_app(make_settings(), providers=[f"langchain:{target}"])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        pane = app.panes[0]
        assert pane.session.llm is None and pane.session.state == "error"
        error = pane.session.error or ""
        assert "\n" not in error and f"langchain target {target!r}" in error and words in error
        assert pane.error_label.display


async def run_held(session: PaneSession) -> asyncio.Task[None]:
    lc_apps.Gate.held, lc_apps.Gate.go_on = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(session.run("Weather in Paris?"))
    await lc_apps.Gate.held.wait()
    return task


async def test_switching_mid_run_shows_what_the_model_streamed_so_far_then_the_rest() -> None:
    session = build_session(f"langchain:{APPS}:gated()", make_settings())
    try:
        task = await run_held(session)
        assert session.state == "streaming"
        words = ["It", " ", "is", " ", "sunny", " ", "in", " ", "Paris", " ", "today."]
        before = session.take_pending()  # the application's output so far
        assert 0 < len(before) < len(words) and before == words[: len(before)]
        assert session.next_source() == "writer #1"
        # what the writer streamed so far, queued again whole (it may be one chunk ahead of
        # the application, which re-yields each one after it)
        shown = list(session.pending)
        assert len(before) <= len(shown) <= len(before) + 1 and shown == words[: len(shown)]
        assert lc_apps.Gate.go_on is not None
        lc_apps.Gate.go_on.set()
        await task
        assert "".join(session.pending) == lc_apps.SUNNY
        assert session.timeline is not None and session.timeline.snapshot().chunks == 11
        assert session.next_source() == "output"
        assert session.kept_text() == lc_apps.SUNNY
    finally:
        lc_apps.Gate.held = lc_apps.Gate.go_on = None


async def test_an_application_run_is_saved_with_its_output(tmp_path: Any) -> None:
    from llmstream_tui.sessions.recorder import SessionRecorder

    path = tmp_path / "run.jsonl"
    recorder = SessionRecorder.open(record=path, history=False)
    recorder.begin_turn("q")
    session = build_session(f"langchain:{APPS}:qa_chain()", make_settings())
    await session.run("q", recorder=recorder)
    recorder.close()
    text = path.read_text(encoding="utf-8")
    assert '"type": "end"' in text or '"type":"end"' in text
    assert text.count(lc_apps.ANSWER) == 1  # the root's answer once, not the model's too


#: each app of ``lc_apps``, the chat model the key shows first (None: there is none) and
#: the texts it may have streamed (the planner answers whole: nothing)
FIRST_MODEL: list[tuple[str, str | None, tuple[str, ...]]] = [
    ("qa_chain", "writer #1", (lc_apps.ANSWER,)),
    ("gen_app", None, ()),
    ("parallel_app", "writer #1", ("Yes.", lc_apps.ANSWER)),  # whichever branch starts first
    ("tool_loop", "planner #1", ("",)),
    ("graph", "planner #1", ("",)),
]


async def own_streams(model: Any, value: Any) -> tuple[list[str], dict[str, list[str]]]:
    """The application's own run: its root's chunk texts, and each run's by run id."""
    texts: dict[str, list[str]] = {}
    root = ""
    async for ev in model.runnable.astream_events(model.app_input(value)):
        root = root or ev["run_id"]
        if ev["event"].endswith("_stream"):
            text = model.output_text(ev["data"]["chunk"])
            if text:
                texts.setdefault(ev["run_id"], []).append(text)
    return texts.get(root, []), texts


@pytest.mark.parametrize(("name", "first", "texts"), FIRST_MODEL, ids=[c[0] for c in FIRST_MODEL])
async def test_each_app_shows_its_output_then_its_first_model(
    name: str, first: str | None, texts: tuple[str, ...]
) -> None:
    session = build_session(f"langchain:{APPS}:{name}()", make_settings())
    await session.run("Is it sunny?")
    assert session.state == "done", session.error
    shown = session.take_pending()
    llm = session.llm
    assert llm is not None
    sent = [HumanMessage("Is it sunny?")] if llm.flavor == "chat" else "Is it sunny?"
    root, _ = await own_streams(llm, sent)
    assert sorted(shown) == sorted(root) and shown  # concurrent branches: any order
    assert session.kept_text() == "".join(shown)
    assert session.next_source() == first
    if first is not None:
        assert "".join(session.pending) in texts
        assert session.next_source() is not None  # on to the next run, or back


@pytest.mark.filterwarnings("ignore:astream_events version='v1' is deprecated")
async def test_v1_events_name_no_parents_but_the_root_is_the_first_run() -> None:
    session = build_session(f"langchain:{APPS}:qa_chain()", make_settings())
    await session.run("q", version="v1")
    assert "".join(session.take_pending()) == lc_apps.ANSWER  # once: not the model's too
    assert session.next_source() == "writer #1"
    assert "".join(session.pending) == lc_apps.ANSWER


async def test_an_application_failing_mid_stream_is_one_line_and_keeps_its_output() -> None:
    from langchain_core.runnables import RunnableLambda

    async def boom(_: Any) -> Any:
        yield "partial "
        raise RuntimeError("app\nexploded")

    llm = build_session(f"langchain:{APPS}:gen_app()", make_settings()).llm
    assert llm is not None
    llm.runnable = RunnableLambda(boom)  # type: ignore[attr-defined]  # a LangChainModel
    session = PaneSession("app", "app", llm)
    await session.run("x")
    assert session.state == "error"
    assert session.error == "upstream: RuntimeError: app exploded"
    assert session.conversation[-1] == AIMessage("partial ")
