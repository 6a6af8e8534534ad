"""Give oterm one saved chat on the bench's model, and no splash screen (bench/peers.py).

Run inside oterm's own venv with ``OTERM_DATA_DIR`` set: oterm then opens on that chat with
its prompt focused, so the bench types the prompt as a user would.
"""

import asyncio
import json
import os
from pathlib import Path

# oterm lives in its own venv (bench/peers.py installs it), never in the project's
from oterm.store.store import Store  # type: ignore[import-not-found]
from oterm.types import ChatModel  # type: ignore[import-not-found]


async def main() -> None:
    store = await Store.get_store()
    await store.save_chat(ChatModel(name="bench", model="bench:latest"))


data = Path(os.environ["OTERM_DATA_DIR"])
data.mkdir(parents=True, exist_ok=True)
(data / "config.json").write_text(json.dumps({"splash-screen": False}), encoding="utf-8")
asyncio.run(main())
