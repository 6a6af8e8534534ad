"""The chunk view as a widget: scrolling while rows arrive frame after frame.

Once its scrollbar shows, the view grows without a screen layout (``ChunkView._grow``);
these tests pin that it still behaves as a layout would have made it: the scrollbar's range
is the row count, an anchored view shows the last row, a view the user scrolled up stays put.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from textual.app import App, ComposeResult
from textual.geometry import Offset, Region, Size
from textual.pilot import Pilot
from textual.strip import Strip

from llmstream_tui.ui.themes import app_variable_defaults
from llmstream_tui.ui.widgets._row_selection import DrawsWithoutOffsets
from llmstream_tui.ui.widgets.chunk_view import ChunkView


class _OneView(App[None]):
    def get_theme_variable_defaults(self) -> dict[str, str]:
        return app_variable_defaults(dark=True)

    def compose(self) -> ComposeResult:
        yield ChunkView(tints=False, delimiter="")


@asynccontextmanager
async def _view(rows: int) -> AsyncIterator[tuple[ChunkView, Pilot[None]]]:
    """A 40x12 app with one view holding ``rows`` rows, drawn."""
    app = _OneView()
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(ChunkView)
        view.append_chunks([f"row {i}\n" for i in range(rows)])
        await pilot.pause()
        yield view, pilot


def _shown_rows(view: ChunkView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.scrollable_content_region.height)]


async def test_an_anchored_view_follows_every_frame_without_a_layout() -> None:
    async with _view(30) as (view, pilot):
        assert view.show_vertical_scrollbar
        grown = 0
        for frame in range(1, 6):
            first = 30 * frame
            size = view.virtual_size
            grown += view._grows_in_place(Size(size.width, size.height + 30))
            view.append_chunks([f"row {i}\n" for i in range(first, first + 30)])
            await pilot.pause()
            rows = view.chunk_text.row_count
            assert view.virtual_size.height == rows
            assert view.vertical_scrollbar.window_virtual_size == rows
            assert view.scroll_y == view.max_scroll_y == view.vertical_scrollbar.position
            shown = [r for r in _shown_rows(view) if r]
            assert shown[-1] == f"row {first + 29}"
        assert grown == 5  # every frame took the no-layout path


async def test_a_view_scrolled_up_keeps_its_place_and_the_range_grows() -> None:
    async with _view(60) as (view, pilot):
        view.focus()
        await pilot.press("home")
        await pilot.pause()
        assert view.scroll_y == 0
        before = _shown_rows(view)
        view.append_chunks([f"more {i}\n" for i in range(60)])
        await pilot.pause()
        assert view.scroll_y == 0
        assert _shown_rows(view) == before
        assert view.vertical_scrollbar.window_virtual_size == view.chunk_text.row_count
        await pilot.press("end")
        await pilot.pause()
        view.append_chunks(["last\n"])
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y
        assert [r for r in _shown_rows(view) if r][-1] == "last"


async def test_a_view_that_first_needs_a_scrollbar_gets_one() -> None:
    async with _view(1) as (view, pilot):
        assert not view.show_vertical_scrollbar
        view.append_chunks([f"row {i}\n" for i in range(40)])
        await pilot.pause()
        assert view.show_vertical_scrollbar
        assert view.scroll_y == view.max_scroll_y > 0


async def test_rows_rewrap_when_the_scrollbar_takes_a_column_while_streaming() -> None:
    """A 40-column view wraps at 40; once the scrollbar shows, the content is 39 wide and
    the rows must wrap at 39 at once, not when the view is next resized (the last column
    was hidden under the scrollbar: ``piece| take`` for ``piece| takes``)."""
    async with _view(0) as (view, pilot):
        assert not view.show_vertical_scrollbar and view.chunk_text.width == 40
        words = [f"w{i:02d} " for i in range(200)]  # 4 columns each: rows fill exactly
        for start in range(0, 200, 20):
            view.append_chunks(words[start : start + 20])
            await pilot.pause()
        await pilot.pause()
        assert view.show_vertical_scrollbar
        width = view.scrollable_content_region.width
        assert width == 39 and view.chunk_text.width == width
        text = "".join(row for row in view.plain_rows)
        assert text.replace(" ", "") == "".join(words).replace(" ", "")  # nothing lost
        assert all(
            len(row.rstrip()) <= width for row in view.plain_rows
        )  # a trailing space may hang


def _offsets(strip: Strip) -> list[object]:
    return [s.style.meta["offset"] for s in strip if s.style and "offset" in s.style.meta]


async def test_drawn_rows_carry_no_selection_offsets_but_the_offset_lookup_gets_them() -> None:
    # Offsets (a style with its own meta per segment) are read only by Textual's lookup of
    # the cell under the mouse, which asks render_line; drawing them made every segment of
    # every new row a new Style, built and turned into escape codes once each.
    async with _view(30) as (view, _pilot):
        width = view.scrollable_content_region.width
        drawn = view.render_lines(Region(0, 0, width, view.size.height))
        assert drawn and not any(_offsets(strip) for strip in drawn)
        top = int(view.scroll_y)
        asked = view.render_line(0)
        assert _offsets(asked)[0] == (0, top)
        # what the mouse finds: the cell of the content under it
        x, y = view.content_region.x + 2, view.content_region.y
        assert view.screen.get_widget_and_offset_at(x, y) == (view, Offset(2, top))


class _TintedView(App[None]):
    def get_theme_variable_defaults(self) -> dict[str, str]:
        return app_variable_defaults(dark=True)

    def compose(self) -> ComposeResult:
        yield ChunkView(tints=True, delimiter="|")


def _drawn(view: ChunkView) -> list[Strip]:
    return view.render_lines(Region(0, 0, view.size.width, view.size.height))


async def test_the_plain_box_path_draws_what_textual_draws() -> None:
    """Rows drawn from the view's own cache are, segment for segment, what Textual's
    styles cache draws (the inner background, the app's line filters), scrolled or not."""
    app = _TintedView()
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(ChunkView)
        view.append_chunks([f"chunk {i} " for i in range(300)])
        await pilot.pause()
        for _ in range(2):
            ours = _drawn(view)
            view._styles_cache.clear()
            textual = DrawsWithoutOffsets.render_lines(view, Region(0, 0, *view.size))
            assert [list(s) for s in ours] == [list(s) for s in textual]
            assert len({s.style for line in ours for s in line}) > 2  # tints, delimiters
            view.append_chunks([f"more {i} " for i in range(50)])
            await pilot.pause()


async def test_an_unchanged_row_is_drawn_from_the_same_strip_every_frame() -> None:
    """A row that stays on screen, however far the view scrolled, is the same Strip object
    each frame (its filtered copy and escape codes are kept on it); the row whose text
    changed is drawn anew."""
    app = _TintedView()
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(ChunkView)
        view.append_chunks([f"chunk {i} " for i in range(300)])
        await pilot.pause()
        for more in (["tail "], [f"row {i}\n" for i in range(3)]):
            top, before = view.scroll_offset.y, _drawn(view)
            last = view.chunk_text.row_count - 1 - top  # the row the next chunk extends
            view.append_chunks(more)
            await pilot.pause()
            shift, after = view.scroll_offset.y - top, _drawn(view)
            assert shift > 0  # the anchored view followed the new rows
            assert all(after[y - shift] is before[y] for y in range(shift, last))
            assert after[last - shift] is not before[last]
            assert more[0].strip() in "".join(line.text for line in after[last - shift :])


async def test_a_held_view_takes_rows_in_without_a_repaint() -> None:
    """Held (a streaming pane between two painted frames), the view takes the rows in and
    follows the bottom, but neither it nor its scrollbar is repainted (a repainted
    scrollbar repaints every line beside it); released, both catch up."""
    async with _view(30) as (view, pilot):
        bar = view.vertical_scrollbar
        repaints: list[str] = []
        for widget, name in ((view, "view"), (bar, "bar")):
            real = widget.refresh

            def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
                repaints.append(_name)
                return _real(*args, **kwargs)

            widget.refresh = counted  # type: ignore[method-assign]  # a spy
        view.hold(True)
        view.append_chunks([f"held {i}\n" for i in range(30)])
        assert repaints == []
        assert view.scroll_y == view.max_scroll_y  # the model followed the bottom
        assert bar.window_virtual_size < view.chunk_text.row_count  # the bar waits
        view.hold(False)
        assert "view" in repaints and "bar" in repaints
        assert bar.window_virtual_size == view.chunk_text.row_count
        assert bar.position == view.scroll_y
        await pilot.pause()
        assert [r for r in _shown_rows(view) if r][-1] == "held 29"
