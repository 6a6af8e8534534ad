"""Keeping secrets out of what is shown or saved: the one place that decides what a secret
is and how it is hidden.

- :func:`mask_urls`: every URL in a text with its userinfo (``user:password@``) replaced by
  ``***@`` and the values of secret-looking query parameters (``key=``, ``api_key=``,
  ``token=``...) by ``***``. Used wherever a URL is shown or saved: errors, provider names of
  ad hoc references, the recording's ``provider`` line (so the history's ``settings`` and
  exports), the ``providers`` listing. The request itself still uses the real URL.
- :func:`url_secrets`: the secret values a URL carries (userinfo, its Basic-auth form, secret
  query values), for a :class:`Redactor`.
- :class:`Redactor`: replaces known secret values (the API key, every configured header
  value, a URL's credentials) in untrusted text, such as an error body that echoes them.

Pure string work, no I/O; cheap enough for error paths (never used per chunk).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import unquote, urlsplit

__all__ = ["REDACTED", "Redactor", "is_secret_name", "mask_urls", "url_secrets"]

#: What a redacted secret becomes.
REDACTED: Final = "[redacted]"
#: What a masked userinfo or query value becomes.
MASK: Final = "***"

_SECRET_WORDS: Final = frozenset(
    {
        "key",
        "apikey",
        "secret",
        "token",
        "password",
        "passwd",
        "pwd",
        "authorization",
        "auth",
        "credential",
        "credentials",
        "bearer",
        "cookie",
        "sig",
        "signature",
    }
)


def is_secret_name(name: str) -> bool:
    """``api_key``, ``x-api-key``, ``apiKey``, ``auth_token``, ``key``: yes; ``max_tokens``,
    ``keep_alive``, ``alt``, ``api_key_env`` (a variable's name): no."""
    k = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower().replace("-", "_")
    if k == "api_key_env":
        return False
    return any(word in _SECRET_WORDS for word in k.split("_"))


#: ``scheme://`` then an authority holding ``@``: the userinfo runs to its last ``@``.
_USERINFO: Final = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s@]*(?:@[^/?#\s@]*)*@")
#: ``?name=value`` / ``&name=value``; a value stops at what ends a URL inside prose.
_QUERY_PAIR: Final = re.compile(r"([?&;])([^=&;#\s?]+)=(\[redacted\]|[^&;#\s)\]\"'<>,]*)")


def _mask_pair(match: re.Match[str]) -> str:
    sep, name, value = match.groups()
    if not value or value == MASK or not is_secret_name(unquote(name)):
        return match.group(0)
    return f"{sep}{name}={MASK}"


def mask_urls(text: str) -> str:
    """``text`` with every URL's userinfo replaced by ``***@`` and secret-looking query values
    (:func:`is_secret_name`: ``key``, ``api_key``, ``access_token``...) by ``***``; anything
    else unchanged. Idempotent, and safe on text that holds no URL."""
    if "@" in text and "://" in text:
        text = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    if "=" in text:
        text = _QUERY_PAIR.sub(_mask_pair, text)
    return text


def url_secrets(url: str | None) -> list[str]:
    """The secret values inside ``url``: the userinfo's user and password (as written and
    decoded), the ``Basic`` credential httpx sends for them, and secret-looking query values.
    Empty for a URL without any (or that cannot be parsed)."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
        username, password = parts.username, parts.password
    except ValueError:
        return []
    found: list[str] = []
    if username is not None or password is not None:
        user, pw = unquote(username or ""), unquote(password or "")
        found += [username or "", password or "", user, pw]
        found.append(base64.b64encode(f"{user}:{pw}".encode()).decode())
    for match in _QUERY_PAIR.finditer("?" + parts.query):
        _, name, value = match.groups()
        if value and is_secret_name(unquote(name)):
            found += [value, unquote(value)]
    return found


#: Values that are not secrets, however they are used: what local servers accept as a key.
PLACEHOLDERS: Final = frozenset(
    {
        "empty",
        "none",
        "null",
        "nil",
        "dummy",
        "test",
        "fake",
        "local",
        "ollama",
        "lm-studio",
        "lmstudio",
        "vllm",
        "llamacpp",
        "not-needed",
        "notneeded",
        "no-key",
        "nokey",
        "changeme",
        "anything",
        "secret",
        "password",
        "token",
        "apikey",
        "api-key",
        "api_key",
        "sk-no-key-required",
        "placeholder",
        "unused",
        "user",
        "admin",
    }
)
#: Values at least this long are replaced wherever they occur, even inside a longer word.
LONG_SECRET: Final = 8
#: Values shorter than this are never replaced (``x``, ``ab``: not secrets).
SHORT_SECRET: Final = 4


class Redactor:
    """Replaces known secret values by ``[redacted]`` in untrusted text.

    The rule (so a local placeholder key such as ``x``, ``EMPTY`` or ``ollama`` does not turn
    ``does-not-exist`` into ``does-not-e[redacted]ist``):

    - a value of :data:`LONG_SECRET` (8) characters or more is replaced wherever it occurs,
      even inside a longer word: a real key is never shown, whole or embedded;
    - a value of 4 to 7 characters is replaced only as a whole word (not touching a letter or
      digit on either side): ``hunter2`` goes, ``hunter22`` stays;
    - a value shorter than 4 characters, or a common placeholder (:data:`PLACEHOLDERS`, any
      case), is not a secret and is left alone;
    - longer values are tried first, so a secret that contains another is replaced whole.

    The repr names how many values it holds, never the values.
    """

    __slots__ = ("_count", "_pattern")

    def __init__(self, values: Iterable[str | None]) -> None:
        kept = {
            v
            for v in values
            if v and len(v.strip()) >= SHORT_SECRET and v.strip().lower() not in PLACEHOLDERS
        }
        alternatives = []
        for value in sorted(kept, key=len, reverse=True):
            escaped = re.escape(value)
            if len(value) >= LONG_SECRET:
                alternatives.append(escaped)
            else:
                alternatives.append(rf"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])")
        self._count = len(kept)
        self._pattern = re.compile("|".join(alternatives)) if alternatives else None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __repr__(self) -> str:
        return f"Redactor({self._count} values)"
