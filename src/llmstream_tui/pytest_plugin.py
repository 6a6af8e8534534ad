"""A pytest plugin: snapshot-test how recorded streams look in the app.

Installed with the package and registered by its ``pytest11`` entry point, it gives every
test suite the ``stream_snapshot`` fixture and the ``--stream-snapshot-update`` option::

    def test_the_race_looks_right(stream_snapshot):
        assert stream_snapshot("tests/recordings/race.jsonl", size=(100, 30))

The recording is replayed into the app and drawn as ``llmstream-tui render`` draws it
(``cli.render.render_svg``: the recorded timing on a virtual clock, so the picture is the
same on every machine), then compared with the SVG stored beside the test module, in
``__stream_snapshots__/<module>/<test>.svg``. A missing or different snapshot fails the
assert, and the failure names the stored file and where the new picture was written (open
both in a browser); ``--stream-snapshot-update`` writes the new pictures instead (look at
each before committing it). A picture depends on the installed Textual: pin it.

Textual is imported only when the fixture is used, so the plugin costs other suites nothing.
The fixture is for synchronous tests (it runs the app in its own event loop).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pytest

if TYPE_CHECKING:
    from .config import Settings

__all__ = ["SnapshotResult", "StreamSnapshot", "stream_snapshot"]

UPDATE_OPTION: Final = "--stream-snapshot-update"
SNAPSHOT_DIR: Final = "__stream_snapshots__"
_UNSAFE = re.compile(r"[^\w.\[\]=,+-]+")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llmstream-tui")
    group.addoption(
        UPDATE_OPTION,
        action="store_true",
        default=False,
        help="write the stream_snapshot pictures instead of comparing with them",
    )


@dataclass(frozen=True)
class SnapshotResult:
    """True when the picture matches its snapshot; its repr (what a failed ``assert``
    prints) says which snapshot differs; ``details`` (in the failed test's report) gives
    the stored file and the new picture."""

    matches: bool
    snapshot: Path
    actual: Path | None
    problem: str = ""

    def __bool__(self) -> bool:
        return self.matches

    def __repr__(self) -> str:
        # short: pytest cuts a long repr; the paths are in the test's report section
        if self.matches:
            return f"<stream snapshot {self.snapshot.name} matches>"
        return f"<stream snapshot {self.problem}: {self.snapshot.name}; {UPDATE_OPTION} accepts>"

    def details(self) -> str:
        """The lines the failed test's report shows: both files, and what to do."""
        return (
            f"stored:      {self.snapshot}\nnew picture: {self.actual}\n"
            f"look at both (a browser opens SVG); pytest {UPDATE_OPTION} stores the new one"
        )


class StreamSnapshot:
    """The fixture's value: call it with a recording to compare (or, updating, store) its
    picture. One test may take several: give each a ``name``."""

    def __init__(self, node: pytest.Item, *, update: bool, out_dir: Path) -> None:
        self.node = node
        self.update = update
        self.out_dir = out_dir

    def path_for(self, name: str | None = None) -> Path:
        """Where the snapshot of this test (and ``name``) is stored."""
        module = Path(str(self.node.path))
        stem = _UNSAFE.sub("_", self.node.name + (f"-{name}" if name else ""))
        return module.parent / SNAPSHOT_DIR / module.stem / f"{stem}.svg"

    def __call__(
        self,
        recording: str | Path,
        *,
        name: str | None = None,
        size: tuple[int, int] = (120, 36),
        at: float | None = None,
        theme: str | None = None,
        settings: Settings | None = None,
        turn: int = 0,
    ) -> SnapshotResult:
        """Render ``recording`` (a path, relative to the test's directory or absolute) as
        ``llmstream-tui render --size --at --theme`` does, with ``settings`` (default: the
        built-in ones), and compare it with the stored snapshot."""
        from .cli.render import render_svg

        path = Path(recording)
        if not path.is_absolute():
            path = Path(str(self.node.path)).parent / path
        svg = asyncio.run(
            render_svg(path, settings=settings, size=size, at=at, theme=theme, turn=turn)
        )
        snapshot = self.path_for(name)
        if self.update:
            snapshot.parent.mkdir(parents=True, exist_ok=True)
            snapshot.write_text(svg, encoding="utf-8")
            return SnapshotResult(True, snapshot, None)
        if snapshot.is_file() and snapshot.read_text(encoding="utf-8") == svg:
            return SnapshotResult(True, snapshot, None)
        actual = self.out_dir / snapshot.name
        actual.write_text(svg, encoding="utf-8")
        problem = "differs" if snapshot.is_file() else "not stored yet"
        result = SnapshotResult(False, snapshot, actual, problem)
        self.node.add_report_section("call", "stream snapshot", result.details())
        return result


@pytest.fixture
def stream_snapshot(request: pytest.FixtureRequest, tmp_path: Path) -> StreamSnapshot:
    """Compare the app's picture of a recording with the snapshot stored for this test."""
    node = request.node
    assert isinstance(node, pytest.Item)
    return StreamSnapshot(
        node, update=bool(request.config.getoption(UPDATE_OPTION)), out_dir=tmp_path
    )
