"""The streaming core: runnables, events, message chunks, metrics. Never imports textual."""
