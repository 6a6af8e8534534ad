"""Garbage collection timed by the app's frames, so a collection never lands mid-keystroke.

A stream of a few hundred thousand chunks keeps a few hundred thousand objects alive (the
runnable sums the chunks for the end event), and CPython's automatic full collections then
pause the event loop for tens of milliseconds at random moments: exactly what makes a key
typed during the stream appear late. While the app runs, this pacer

* freezes the objects that exist once the screen is built (``gc.freeze``): Textual's DOM
  and our modules are never scanned again;
* turns automatic collection off and instead collects the young generations once per frame,
  between frames (cheap: only what the last frame allocated);
* runs a full collection only when no pane is streaming, or at most every
  ``FULL_EVERY_S`` seconds during a very long stream, so memory stays bounded.

Everything is undone when the app exits (``stop``), so code that embeds the app (tests, the
benchmark) gets its interpreter back as it was.
"""

from __future__ import annotations

import gc
import time
from typing import Final

#: Longest time between two full collections while streams run.
FULL_EVERY_S: Final = 10.0
#: Young objects (generation 0 count) below which a frame skips its collection.
YOUNG_MIN: Final = 2_000


class GcPacer:
    def __init__(self) -> None:
        self.active = False
        self._was_enabled = True
        self._last_full = time.monotonic()

    def start(self) -> None:
        if self.active:
            return
        self.active = True
        self._was_enabled = gc.isenabled()
        gc.collect()
        gc.freeze()
        gc.disable()
        self._last_full = time.monotonic()

    def frame(self, streaming: bool) -> None:
        """Called once per frame, after drawing."""
        if not self.active:
            return
        now = time.monotonic()
        since = now - self._last_full
        young = gc.get_count()[0]
        idle_full = not streaming and since > 1.0 and young > YOUNG_MIN
        if idle_full or since > FULL_EVERY_S:
            gc.collect()
            self._last_full = now
        elif young > YOUNG_MIN:
            gc.collect(1)

    def stop(self) -> None:
        if not self.active:
            return
        self.active = False
        gc.unfreeze()
        if self._was_enabled:
            gc.enable()
