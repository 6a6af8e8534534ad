"""The app's widgets: panes, the chunk view, the events log, the prompt, the summary."""
