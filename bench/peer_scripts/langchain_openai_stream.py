"""langchain-openai's ``ChatOpenAI.stream``, printing the text (bench/peers.py).

Run inside the peer's own venv: ``python langchain_openai_stream.py BASE_URL``, with a
dummy ``OPENAI_API_KEY``.
"""

import sys

from langchain_openai import ChatOpenAI

llm = ChatOpenAI(model="bench", base_url=sys.argv[1])  # the key: OPENAI_API_KEY
for chunk in llm.stream("hi"):
    if chunk.content:
        sys.stdout.write(str(chunk.content))
sys.stdout.write("\n")
