"""A plugin whose module fails on import: its kind must give one line, not a traceback."""

raise RuntimeError("this plugin is broken on purpose")
