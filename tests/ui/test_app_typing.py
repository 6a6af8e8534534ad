"""Typing while a stream renders: a key's repaint goes out at once, by itself, not with the
panes' next frame (``textual_internals.repaint_alone``)."""

from __future__ import annotations

from typing import Any

from textual import events
from textual._compositor import ChopsUpdate
from textual.geometry import Region

from llmstream_tui.ui.app import make_app
from tests.ui.conftest import make_settings, scripted


async def test_a_key_typed_while_streaming_is_drawn_before_the_waiting_panes() -> None:
    app = make_app(make_settings(providers={"a": scripted(["x"])}, default_providers=["a"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = app.panes[0]
        pane.session.state = "streaming"  # a run in progress
        drawn: list[tuple[Region, bool]] = []
        display = app._display

        def spy(screen: Any, update: Any) -> None:
            if isinstance(update, ChopsUpdate):
                dirty = pane.body in app.screen._dirty_widgets
                cells = [Region(x1, y, x2 - x1, 1) for y, x1, x2 in update.spans]
                drawn.append((Region.from_union(cells), dirty))
            display(screen, update)

        app._display = spy  # type: ignore[method-assign,assignment]  # a spy
        await pilot.press("k")
        await pilot.pause()
        assert drawn and app.prompt_area.region.contains_region(drawn[0][0])  # a real key
        drawn.clear()
        # the panes' frame, waiting for the screen's next update
        pane.body.append_chunks(["a frame of chunks, not drawn yet"])
        app.screen._dirty_widgets.add(pane.body)  # as the body's idle handler does
        app.prompt_area.insert("j")  # a key's edit
        app._prompt_handled(events.Key("j", "j"))  # the prompt has handled the key
        assert app.prompt_area.text == "kj"
        assert len(drawn) == 1
        region, panes_waiting = drawn[0]
        assert panes_waiting  # the key went first
        assert app.prompt_area.region.contains_region(region)  # and alone
        await pilot.pause()
        assert pane.body not in app.screen._dirty_widgets  # the panes' frame came next
        assert pane.body.region.contains_region(drawn[1][0])
        assert "a frame of chunks" in "".join(pane.body.plain_rows)
