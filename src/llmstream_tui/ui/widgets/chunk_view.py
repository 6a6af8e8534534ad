"""``ChunkView``: the stream body. Draws a :class:`ChunkText` one row at a time.

Built on ``ScrollView`` with ``render_line`` (as Textual's ``Log`` is) rather than on a
``Static`` holding a ``Text``: a frame draws only the rows on screen, and a row is turned into
segments once and cached, so a pane receiving a million chunks costs the same per frame as
one receiving ten. Text reaches the screen as plain segments; no markup parser ever sees it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.selection import Selection
from textual.strip import Strip

from ..chunk_text import ChunkText, Mark
from ..line_runs import DELIM, GLYPH_A, GLYPH_B, KIND_NAMES, TEXT_A, TEXT_B, cell_width
from ..text_search import TextSearch, split_at_spans
from ..textual_internals import (
    follows_bottom,
    grow_virtual_size,
    plain_box_lines,
    scroll_y_quietly,
    sync_scrollbar,
)
from ._row_selection import DrawsWithoutOffsets, selection_text
from ._styles import blended_style


class ChunkView(DrawsWithoutOffsets, can_focus=True):
    """Chunks with visible boundaries: delimiter glyphs and alternating tints."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"chunk-view--{name}" for name in KIND_NAMES} | {
        "chunk-view--match",
        "chunk-view--match-current",
    }

    DEFAULT_CSS = """
    ChunkView {
        background: $surface;
        color: $text;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
    }
    ChunkView > .chunk-view--text-a { background: $chunk-tint-a; }
    ChunkView > .chunk-view--text-b { background: $chunk-tint-b; }
    ChunkView > .chunk-view--delimiter { color: $delimiter; }
    ChunkView > .chunk-view--glyph-a { background: $chunk-tint-a; color: $text-muted; }
    ChunkView > .chunk-view--glyph-b { background: $chunk-tint-b; color: $text-muted; }
    ChunkView > .chunk-view--prompt { color: $text-primary; text-style: bold; }
    ChunkView > .chunk-view--note { color: $text-muted; text-style: italic; }
    ChunkView > .chunk-view--refusal-label { color: $text-warning; text-style: bold reverse; }
    ChunkView > .chunk-view--refusal { color: $text-warning; text-style: italic; }
    ChunkView > .chunk-view--match { background: $warning-muted; color: $text; }
    ChunkView > .chunk-view--match-current {
        background: $warning; color: auto 90%; text-style: bold;
    }
    """

    def __init__(
        self,
        *,
        delimiter: str = "|",
        tints: bool = True,
        whitespace: bool = False,
        max_rows: int = 20_000,
        id: str | None = None,  # Textual's name
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        #: what is shown: the chunks as wrapped, styled rows
        self.chunk_text = ChunkText(
            80, delimiter=delimiter, whitespace=whitespace, max_rows=max_rows
        )
        self.tints = tints
        self._cache: dict[int, Strip] = {}
        self._styles: list[Style] | None = None
        self._base: Style | None = None
        self._blank: Strip | None = None
        #: changes are not repainted until released (``hold``), and some came meanwhile
        self._held = False
        self._held_changes = False
        #: the search shown (None: no search bar open); see :meth:`search`
        self.text_search: TextSearch | None = None
        self._match_styles: tuple[Style, Style] | None = None

    # -- content ------------------------------------------------------------------------------

    def append_chunks(self, texts: Sequence[str]) -> None:
        """Append a frame's worth of chunks (coalesced by the caller)."""
        self.chunk_text.add_chunks(texts)
        self._changed()

    def begin_answer(self) -> None:
        self.chunk_text.begin_answer()
        self._changed()

    def add_text(self, text: str, kind: int) -> None:
        self.chunk_text.add_text(text, kind)
        self._changed()

    def newline(self) -> None:
        self.chunk_text.newline()
        self._changed()

    def truncate(self, mark: tuple[int, int, int]) -> None:
        self.chunk_text.truncate(mark)
        self._cache.clear()
        self.anchor()
        self._changed()

    def clear(self) -> None:
        self.chunk_text.clear()
        self._cache.clear()
        self.anchor()
        self._changed()

    def set_whitespace(self, on: bool, marks: Sequence[Mark] = ()) -> list[Mark]:
        """Whitespace shown or plain, in what is shown and in what comes; ``marks`` come
        back as the same places in the redrawn text (``ChunkText.set_whitespace``)."""
        if on == self.chunk_text.whitespace:
            return list(marks)
        following = self.is_vertical_scroll_end
        moved = self.chunk_text.set_whitespace(on, marks)
        self._cache.clear()
        query = self.text_search.query if self.text_search is not None else ""
        self.text_search = None
        self._changed()
        if query:
            self.search(query)
        if following:
            self.anchor()
        return moved

    def set_tints(self, on: bool) -> None:
        self.tints = on
        self._styles = None
        self._base = None
        self._blank = None
        self._cache.clear()
        self.refresh()

    @property
    def plain_rows(self) -> list[str]:
        return self.chunk_text.plain_rows()

    # -- search -------------------------------------------------------------------------------

    def search(self, query: str) -> tuple[int, int]:
        """Highlight the matches of ``query`` (literal, case-insensitive) in the text, and
        scroll to the current one. Returns (current index, matches); (-1, 0) when none."""
        if self.text_search is None:
            self.text_search = TextSearch(self.chunk_text)
        found = self.text_search.run(query)
        self._cache.clear()
        self._show_current()
        self.refresh()
        return self.text_search.current, found

    def search_step(self, delta: int) -> tuple[int, int]:
        """The next (``delta`` 1) or previous (-1) match, wrapping around. Text that arrived
        since the search ran is searched first (at this key press, never per chunk)."""
        found = self.text_search
        if found is None:
            return -1, 0
        if found.stale:
            found.run(found.query)
        current = found.step(delta)
        self._cache.clear()
        self._show_current()
        self.refresh()
        return current, len(found.starts)

    def clear_search(self) -> None:
        """Remove every highlight (the search bar closed)."""
        self.text_search = None
        self._cache.clear()
        self.refresh()

    def _show_current(self) -> None:
        """Scroll so the current match's row is on screen (the view stops following the
        bottom, as it does when the user scrolls up)."""
        found = self.text_search
        if found is None or found.current < 0:
            return
        row = found.row_of(found.current)
        if row is None:
            return
        top = int(self.scroll_offset.y)
        height = self.scrollable_content_region.height or 1
        if not top <= row < top + height:
            self.release_anchor()
            self.scroll_to(y=max(0, row - height // 2), animate=False)

    # -- Textual hooks ------------------------------------------------------------------------

    def on_mount(self) -> None:
        # Anchored: Textual keeps the view at the bottom as rows are added, until the user
        # scrolls up (and again once they scroll back down).
        self.anchor()

    def _changed(self) -> None:
        model = self.chunk_text
        changed = model.take_changed_from()
        cache = self._cache
        if cache:
            if changed == 0:
                cache.clear()
            else:
                base = model.dropped_rows
                for key in [k for k in cache if k >= base + changed]:
                    del cache[key]
        size = Size(model.width, model.row_count)
        if self._grows_in_place(size):
            self._grow(size)
        else:
            self.virtual_size = size
        if self._held:
            self._held_changes = True
        else:
            self.refresh()

    def hold(self, held: bool) -> None:
        """While held, what is added reaches the rows, the scroll range and the followed
        bottom, but the view is not repainted: the app paints a streaming pane only every
        few frames (a firehose makes each paint a new screen) and takes its chunks in
        every frame. Released, the view repaints if anything changed meanwhile."""
        self._held = held
        if not held and self._held_changes:
            self._held_changes = False
            sync_scrollbar(self)
            self.refresh()
            self.vertical_scrollbar.refresh()

    def _grows_in_place(self, size: Size) -> bool:
        """Whether new rows change nothing but the scroll range: same width, and the
        vertical scrollbar already showing and still needed. Then no layout is needed."""
        old = self.virtual_size
        return (
            size.width == old.width
            and size.height >= old.height
            and self.show_vertical_scrollbar
            and not self.show_horizontal_scrollbar
            and self.is_mounted
        )

    def _grow(self, size: Size) -> None:
        """``virtual_size = size`` without the screen-wide layout Textual runs for it (the
        layout is the same, and at streaming rates it would run every frame): the scrollbar
        takes the new range, and an anchored view follows the bottom as the layout would
        have made it."""
        held = self._held
        grow_virtual_size(self, size, scrollbar=not held)
        if follows_bottom(self):
            scroll_y_quietly(self, self.max_scroll_y, scrollbar=not held)
        if not held:
            self.vertical_scrollbar.refresh()

    def on_resize(self) -> None:
        self._fit_width()

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        """The scrollbar took (or gave back) a column without the view changing size: no
        resize comes, so the rows are wrapped again here, once the layout has the new
        content width (else the last column streams under the scrollbar)."""
        self.call_after_refresh(self._fit_width)

    def _fit_width(self) -> None:
        """Wrap at the content region's width (the view's, less a scrollbar)."""
        width = self.scrollable_content_region.width or self.size.width
        if width > 0 and width != self.chunk_text.width:
            self.chunk_text.set_width(width)
            self._cache.clear()
            self._changed()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._base = None
        self._blank = None
        self._match_styles = None
        self._cache.clear()

    def _kind_styles(self) -> list[Style]:
        styles = self._styles
        if styles is None:
            styles = [blended_style(self, f"chunk-view--{name}") for name in KIND_NAMES]
            if not self.tints:
                styles[TEXT_A] = styles[TEXT_B] = Style()
                styles[GLYPH_A] = styles[GLYPH_B] = blended_style(self, "chunk-view--note")
            self._styles = styles
        return styles

    def render_lines(self, crop: Region) -> list[Strip]:
        """The rows Textual draws: without a selection shown, each is the row's cached strip
        itself (``plain_box_lines``), so its filtered copy and escape codes, kept on the
        strip, are reused every frame the row stays on screen, scrolled or not."""
        if self.text_selection is None:
            lines = plain_box_lines(self, crop, self._row_strip)
            if lines is not None:
                return lines
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Row ``y`` of the viewport. Asked directly (the mouse lookup) or with a selection
        shown, it carries the offsets."""
        strip = self._row_strip(y)
        index = self.scroll_offset.y + y
        if index >= self.chunk_text.row_count:
            return strip  # below the text: nothing to select
        return self.selectable(strip, index)

    def _row_strip(self, y: int) -> Strip:
        """Row ``y`` of the viewport as drawn. A row is built once (segments styled per run,
        padded to the width) and cached; a frame then costs one dict lookup per visible
        row."""
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self._base
        if base is None:
            base = self._base = self.rich_style
        model = self.chunk_text
        index = scroll_y + y
        if index >= model.row_count:
            blank = self._blank
            if blank is None or blank.cell_length != width:
                blank = self._blank = Strip.blank(width, base)
            return blank
        key = model.dropped_rows + index
        strip = self._cache.get(key)
        if strip is None or strip.cell_length != width:
            styles = self._kind_styles()
            runs = model.row_runs(index)
            spans = self.text_search.row_spans(index) if self.text_search else []
            if spans:
                segments = self._matched_segments(runs, spans, model.rows[index][1], base)
            else:
                segments = [Segment(text, base + styles[kind]) for text, kind in runs]
            cells = sum(cell_width(s.text) for s in segments)
            strip = Strip(segments, cells).crop_extend(0, width, base)
            if len(self._cache) > 2048:
                self._cache.clear()
            self._cache[key] = strip
        if scroll_x:
            strip = strip.crop_extend(scroll_x, scroll_x + width, base)
        return strip

    # -- mouse selection (``_row_selection.py``) -----------------------------------------------

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text, delimiters left out (Textual's copy reads it)."""
        return selection_text(self.chunk_text, selection), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def _matched_segments(
        self,
        runs: list[tuple[str, int]],
        spans: list[tuple[int, int, bool]],
        start: int,
        base: Style,
    ) -> list[Segment]:
        """A row's runs cut at the match spans (display offsets in the line; the row starts
        at ``start``): text inside a match takes the match style, delimiters keep theirs so
        a match across chunks still shows where the chunks meet."""
        styles = self._kind_styles()
        match_styles = self._match_styles
        if match_styles is None:
            match_styles = self._match_styles = (
                blended_style(self, "chunk-view--match"),
                blended_style(self, "chunk-view--match-current"),
            )
        segments: list[Segment] = []
        pos = start
        for text, kind in runs:
            style = base + styles[kind]
            if kind == DELIM:
                segments.append(Segment(text, style))
            else:
                segments.extend(
                    Segment(piece, style if current is None else style + match_styles[current])
                    for piece, current in split_at_spans(text, pos, spans)
                )
            pos += len(text)
        return segments
