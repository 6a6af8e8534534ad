"""``python -m llmstream_tui``."""

from .cli import main

raise SystemExit(main())
