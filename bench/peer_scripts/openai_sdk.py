"""The official SDK's streaming loop as its README shows it, printing the text (bench/peers.py).

Run inside the peer's own venv: ``python openai_sdk.py BASE_URL``; the key is a dummy.
"""

import sys

from openai import OpenAI

client = OpenAI(base_url=sys.argv[1], api_key="sk-bench")
stream = client.chat.completions.create(
    model="bench", messages=[{"role": "user", "content": "hi"}], stream=True
)
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        sys.stdout.write(chunk.choices[0].delta.content)
sys.stdout.write("\n")
