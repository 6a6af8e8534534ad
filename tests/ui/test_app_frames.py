"""The frame timer while runs stream: every tick takes the chunks in, but after a costly
paint the panes rest in proportion before the next (``LLMStreamApp._paced_frame``), so
painting a firehose leaves the streams most of the time."""

from __future__ import annotations

import time

from llmstream_tui.ui import app as app_module
from llmstream_tui.ui.app import make_app
from tests.ui.conftest import make_settings, scripted


async def test_a_tick_within_the_rest_takes_chunks_in_and_the_next_paint_shows_them() -> None:
    app = make_app(make_settings(providers={"a": scripted(["x"])}, default_providers=["a"]))
    async with app.run_test() as pilot:
        await pilot.pause()
        pane = app.panes[0]
        body, session = pane.body, pane.session
        repaints: list[int] = []
        refresh = body.refresh

        def counted(*args: object, **kwargs: object) -> object:
            repaints.append(1)
            return refresh(*args, **kwargs)  # type: ignore[arg-type]

        body.refresh = counted  # type: ignore[method-assign,assignment]  # a spy
        session.state = "streaming"  # a run in progress, a frame's chunks waiting
        session.pending.append("arrived")
        session.arrivals.append(0)
        app._painted(time.perf_counter() - 0.04)  # a paint whose update took 40 ms
        rest = app._rest_until - time.perf_counter()
        assert 0.04 * app_module.PAINT_REST * 0.9 < rest <= app_module.PAINT_REST_MAX
        await app._paced_frame()
        assert session.pending == []  # taken in...
        assert "arrived" in "".join(body.plain_rows)
        assert repaints == []  # ...but not painted
        app._rest_until = time.perf_counter()  # the rest is over
        await app._paced_frame()
        assert repaints  # the next paint shows it
        app._painted(time.perf_counter() - 10)  # however slow a paint, the rest is bounded
        assert app._rest_until - time.perf_counter() <= app_module.PAINT_REST_MAX
        session.state = "done"
        repaints.clear()
        session.pending.append("after")
        session.arrivals.append(0)
        await app._paced_frame()  # nothing streams: every tick paints
        assert repaints and session.pending == []
