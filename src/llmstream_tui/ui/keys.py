"""Every key binding of the app, in one table: id, default keys, what it does.

The ids are what ``[keymap]`` in the config remaps (``retry = "f5"``); Textual's keymap
mechanism applies them, the footer shows the bindings marked ``show``, and the help screen
lists the whole table with the keys in effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class KeySpec:
    id: str
    keys: str
    action: str
    description: str
    show: bool = False
    priority: bool = False
    #: where the binding lives: "app" (anywhere), "prompt" (while typing) or "events" (the
    #: events log has focus)
    scope: str = "app"


KEYS: tuple[KeySpec, ...] = (
    KeySpec("send", "enter", "send", "Send the prompt to every pane", True, True, "prompt"),
    KeySpec(
        "newline",
        "ctrl+j,shift+enter",
        "newline",
        "Insert a newline in the prompt",
        False,
        True,
        "prompt",
    ),
    KeySpec(
        "history_prev",
        "up",
        "history_prev",
        "Previous prompt from history (from the first line)",
        scope="prompt",
    ),
    KeySpec(
        "history_next",
        "down",
        "history_next",
        "Next prompt from history (from the last line)",
        scope="prompt",
    ),
    KeySpec("cancel_all", "escape", "cancel_all", "Cancel every running pane", True),
    KeySpec("cancel_pane", "ctrl+g", "cancel_pane", "Cancel the selected pane"),
    KeySpec("retry", "ctrl+r", "retry", "Retry the selected pane's last prompt", True),
    KeySpec("new_conversation", "ctrl+n", "new_conversation", "Start a new conversation", True),
    KeySpec("next_pane", "ctrl+f", "next_pane", "Select the next pane"),
    KeySpec(
        "next_source",
        "f7",
        "next_source",
        "LangChain app pane: show its output, or the next chat model inside",
        priority=True,  # the prompt's TextArea binds F7 (select all); this one wins
    ),
    KeySpec("providers", "ctrl+o", "providers", "Add or remove panes", True),
    KeySpec("toggle_events", "ctrl+l", "toggle_events", "Show or hide the events log", True),
    KeySpec("events_filter", "f8", "events_filter", "Filter the events log"),
    KeySpec("fold_events", "f9", "fold_events", "Fold stream events into counts"),
    KeySpec(
        "toggle_reasoning",
        "f6",
        "toggle_reasoning",
        "Open or collapse the selected pane's reasoning (remembered for the pane)",
        priority=True,  # the prompt's TextArea binds F6 (select line); this one wins
    ),
    KeySpec(
        "event_prev", "up", "event_prev", "Select the previous event (events log)", scope="events"
    ),
    KeySpec(
        "event_next", "down", "event_next", "Select the next event (events log)", scope="events"
    ),
    KeySpec(
        "toggle_tree", "t", "toggle_tree", "Runs as a tree, or flat (events log)", scope="events"
    ),
    KeySpec(
        "expand_event",
        "enter",
        "expand_event",
        "Expand the selected event to its full data (events log; or click it twice)",
        scope="events",
    ),
    KeySpec(
        "search_events",
        "slash",
        "app.search(True)",
        "Search the events log's lines, or the tree's runs (events log)",
        scope="events",
    ),
    KeySpec(
        "search",
        "f12",
        "search(False)",
        "Search the selected pane's answer (the events log's lines when it has focus)",
    ),
    KeySpec(
        "search_next",
        "down",
        "search_next",
        "Next match, wrapping (search bar; or enter)",
        True,
        scope="search",
    ),
    KeySpec(
        "search_prev",
        "up,shift+enter",
        "search_prev",
        "Previous match, wrapping (search bar)",
        True,
        scope="search",
    ),
    KeySpec(
        "search_close",
        "escape",
        "search_close",
        "Close the search bar and its highlights",
        True,
        scope="search",
    ),
    KeySpec(
        "compare_cancel",
        "escape",
        "cancel",
        "Cancel the comparison, keeping what finished; once over, leave (compare screen)",
        True,
        True,
        scope="compare",
    ),
    KeySpec(
        "compare_interrupt",
        "ctrl+c",
        "cancel",
        "Cancel the comparison, as escape does (compare screen)",
        priority=True,
        scope="compare",
    ),
    KeySpec(
        "compare_leave",
        "q",
        "leave",
        "Leave the finished comparison (compare screen)",
        True,
        scope="compare",
    ),
    KeySpec(
        "compare_request_close",
        "escape,q",
        "close",
        "Back to the comparison (a request's view)",
        True,
        True,
        scope="compare-request",
    ),
    KeySpec("toggle_markdown", "ctrl+t", "toggle_markdown", "Markdown view of the selected pane"),
    KeySpec(
        "params",
        "f11",
        "params",
        "System prompt, parameters and model of the selected pane (or every pane)",
    ),
    KeySpec(
        "toggle_whitespace", "f4", "toggle_whitespace", "Show whitespace chunks and newlines (␣ ↵)"
    ),
    KeySpec("toggle_tints", "f5", "toggle_tints", "Alternate chunk tints on or off"),
    KeySpec(
        "chunk_scope",
        "f10",
        "toggle_chunk_scope",
        "Chunk counts and gap sparkline: answer only, or all channels",
    ),
    KeySpec("toggle_summary", "ctrl+s", "toggle_summary", "Show or hide the compare summary"),
    # Copy, export and scroll act on the selected pane while the prompt keeps the focus. A
    # terminal sends alt+letter as the letter with an alt flag, which the prompt's TextArea
    # would type: those bindings take priority. The scroll keys carry no character and no
    # TextArea binding (it binds pageup/pagedown/home/end and their shift+ forms for
    # selection), so they reach the app as they are.
    KeySpec(
        "copy_answer",
        "alt+a",
        "copy_answer",
        "Copy the selected pane's last answer",
        True,
        priority=True,
    ),
    KeySpec(
        "copy_code",
        "alt+c",
        "copy_code",
        "Copy a code block of the selected pane's last answer (pick one when several)",
        True,
        priority=True,
    ),
    KeySpec(
        "copy_selection",
        "alt+s",
        "copy_selection",
        "Copy the text selected with the mouse (ctrl+c too, without the count)",
        priority=True,
    ),
    KeySpec(
        "export",
        "alt+e",
        "export('markdown')",
        "Export the conversation as Markdown to the data dir's exports/ and the clipboard",
        priority=True,
    ),
    KeySpec(
        "edit_prompt",
        "alt+p",
        "edit_prompt",
        "Edit an earlier prompt and resend it: the conversation forks there (Esc: leave it)",
        priority=True,
    ),
    KeySpec(
        "scroll_up", "shift+pageup,ctrl+up", "scroll_pane('page_up')", "Scroll the selected pane up"
    ),
    KeySpec(
        "scroll_down",
        "shift+pagedown,ctrl+down",
        "scroll_pane('page_down')",
        "Scroll the selected pane down",
    ),
    KeySpec("scroll_top", "ctrl+home", "scroll_pane('top')", "Scroll the selected pane to its top"),
    KeySpec(
        "scroll_bottom",
        "ctrl+end",
        "scroll_pane('bottom')",
        "Scroll the selected pane to its end (it follows new chunks again)",
    ),
    KeySpec("history", "f3", "history", "Browse saved sessions; reopen one to continue it"),
    KeySpec(
        "record",
        "f2",
        "record",
        "Record the conversation from the next prompt to a file in the data dir; again: end it",
    ),
    KeySpec("help", "f1", "help", "List every key", True),
    KeySpec("command_palette", "ctrl+p", "command_palette", "Command palette", False, True),
    KeySpec("quit", "ctrl+q", "quit", "Quit", False, True),
)

KEY_IDS = frozenset(k.id for k in KEYS)

#: Short footer labels (the description is for the help screen).
_FOOTER = {
    "send": "Send",
    "cancel_all": "Cancel",
    "retry": "Retry",
    "new_conversation": "New",
    "providers": "Panes",
    "toggle_events": "Events",
    "toggle_markdown": "Markdown",
    "help": "Help",
    "copy_answer": "Copy",
    "copy_code": "Code",
    "command_palette": "Palette",
    "search_next": "Next",
    "search_prev": "Previous",
    "search_close": "Close",
    "compare_cancel": "Cancel / leave",
    "compare_leave": "Leave",
    "compare_request_close": "Back",
}


def bindings(scope: str) -> list[Binding]:
    return [
        Binding(
            k.keys,
            k.action,
            _FOOTER.get(k.id, k.description),
            show=k.show,
            priority=k.priority,
            id=k.id,
            tooltip=k.description,
        )
        for k in KEYS
        if k.scope == scope
    ]


def effective_keys(keymap: dict[str, str]) -> list[tuple[KeySpec, str]]:
    """Each binding with the keys in effect after ``keymap``."""
    return [(k, keymap.get(k.id, k.keys)) for k in KEYS]


def keymap_problems(keymap: Mapping[str, str]) -> list[str]:
    """What is wrong with a ``[keymap]`` table: a binding id that does not exist (the first
    one, with where to find the list), or nothing."""
    unknown = sorted(set(keymap) - KEY_IDS)
    if unknown:
        return [f"keymap: unknown binding id {unknown[0]!r} (see F1 for the list)"]
    return []
