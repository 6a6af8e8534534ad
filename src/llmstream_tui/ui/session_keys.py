"""What the record and history keys do: record to a file, browse saved sessions, reopen one.

The decisions (which recorder, which file, what each reopened pane gets back) are the plain
functions of :mod:`.persistence`; this module is their Textual side: the notifications, the
history screen, the panes replaced. Nothing here may stop the app: each failure is one
notification and the app goes on.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .. import locations
from ..core.inert import escape_controls
from ..errors import RecordingError
from ..sessions.history import History, SessionRecord
from .pane_params import ParamsError, with_saved
from .persistence import RECORDINGS_DIR, restore_pane, start_recording
from .screens.history import HistoryScreen
from .session import PaneSession, build_session, error_summary

if TYPE_CHECKING:
    from .host import AppHost


def record_conversation(app: AppHost) -> None:
    """The record key: start recording the conversation to
    ``<data dir>/recordings/<timestamp>.jsonl`` (from the next prompt on, see
    ``SessionRecorder.start_recording``), or, when recording, end the file."""
    recorder = app.saving.get()
    if recorder.recording is not None:
        try:
            path = recorder.stop_recording()
        except (OSError, RecordingError) as exc:
            message = exc.strerror if isinstance(exc, OSError) else str(exc)
            app.notify(
                f"recording: {escape_controls(str(message))}", severity="error", markup=False
            )
        else:
            app.notify(f"recording saved: {path}", markup=False)
        app.show_recording()
        return
    folder = locations.data_dir() / RECORDINGS_DIR
    try:
        path = start_recording(recorder, folder, time.strftime("%Y%m%d-%H%M%S"))
    except (OSError, RecordingError) as exc:
        message = exc.strerror if isinstance(exc, OSError) else str(exc)
        app.notify(
            f"cannot record: {escape_controls(str(message))}", severity="error", markup=False
        )
        return
    app.notify(f"recording to {path} (from the next prompt; F2 again ends it)", markup=False)
    app.show_recording()


def browse_history(app: AppHost) -> None:
    """Show the saved sessions; the one chosen is reopened (see :func:`reopen`). The history
    stays open while the screen shows and while the chosen session is read, then closes."""
    try:
        history = History()
    except Exception as exc:  # noqa: BLE001  # one line, the app goes on
        app.notify(f"history: {error_summary(exc)}", severity="error", markup=False)
        return

    def chosen(record: SessionRecord | None) -> None:
        if record is None:
            history.close()
            return

        async def reopen_then_close() -> None:
            try:
                await reopen(app, record, history)
            finally:
                history.close()

        app.run_worker(reopen_then_close(), group="reopen", exit_on_error=False)

    app.push_screen(HistoryScreen(history), chosen)


async def reapply_saved(app: AppHost, session: PaneSession, saved: dict[str, Any]) -> None:
    """A configured provider of a reopened session goes on with the model and parameters
    the session last used (F11 while it ran); if the config no longer allows them, one
    notice and the config's settings."""
    if session.llm is None or not saved:
        return
    try:
        llm = with_saved(session.llm, saved, app.settings)
    except ParamsError as exc:
        app.notify(
            f"{session.name}: the saved parameters are not used: {exc}",
            severity="warning",
            markup=False,
        )
        return
    if llm is not None:
        old = session.reconfigure(llm)
        if old is not None:
            await old.aclose()


async def reopen(app: AppHost, record: SessionRecord, history: History) -> None:
    """Replace the panes by ``record``'s, each with its own conversation (shown with its
    chunk boundaries) and ready to continue; later turns are saved into the same session.
    A provider configured under the saved name is built from the config, any other from the
    settings the session saved. Everything is read before the panes are replaced: a
    session that cannot be read (damaged pages) is one notice and the panes stay."""
    settings = app.settings
    configured = set(settings.provider_names())
    try:
        panes = [await restore_pane(record, p, history, configured) for p in record.providers]
    except RecordingError as exc:
        app.notify(f"history: {exc}", severity="error", markup=False)
        return
    for pane in app.panes:
        await app.remove_pane(pane)
    app.saving.close()
    app.hide_summary()
    if settings.history:
        try:
            app.saving.continue_session(record.uid)
        except Exception as exc:  # noqa: BLE001  # reopen anyway; a new session saves on
            app.notify(
                "the reopened session will not be continued in the history: " + error_summary(exc),
                severity="warning",
                markup=False,
            )
    for restored in panes:
        name = restored.name
        if restored.table is None:
            session = build_session(name, settings, clock=app.clock)
            await reapply_saved(app, session, restored.saved)
        else:
            session = build_session(
                name, settings, table=restored.table, name=name, clock=app.clock
            )
        session.restore(restored.conversation, restored.last_prompt, restored.recorded)
        pane = await app.mount_session(session, record_name=name)
        pane.restore(restored.shown)
    title = escape_controls(record.title) or "(untitled)"
    app.notify(f"reopened session {record.id}: {title}", markup=False)
