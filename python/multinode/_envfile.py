"""``.env`` files: ``KEY=VALUE`` lines a project folder may hold.

Blank lines and lines starting with ``#`` are skipped, a leading ``export ``
is allowed, the value is taken literally after stripping surrounding blanks
and one pair of matching quotes (``'...'`` or ``"..."``; no escapes, no
inline comments).  Anything else is an error naming the file and line.
"""

from __future__ import annotations

import os
import re
from typing import MutableMapping, Optional

from multinode.errors import ConfigurationError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PROTECTED_PREFIX = "MULTINODE_"


def parse_env_text(text: str, path: str) -> list[tuple[str, str]]:
    """The ``(key, value)`` pairs of a ``.env`` text, in order.

    :param path: the file's name, used in error messages (``path:LINE: ...``)
    :raises ConfigurationError: a malformed line
    """
    pairs: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export") and line[6:7].isspace():
            line = line[6:].lstrip()
        key, eq, value = line.partition("=")
        key = key.strip()
        if not eq:
            raise ConfigurationError(f"{path}:{number}: expected KEY=VALUE, got {raw.strip()!r}")
        if not _NAME.fullmatch(key):
            raise ConfigurationError(
                f"{path}:{number}: invalid variable name {key!r} "
                "(letters, digits and _, not starting with a digit)"
            )
        value = value.strip()
        if value[:1] in ("'", '"'):
            if len(value) < 2 or value[-1] != value[0]:
                raise ConfigurationError(f"{path}:{number}: {key}: unterminated quote")
            value = value[1:-1]
        if "\0" in value:
            raise ConfigurationError(f"{path}:{number}: {key}: the value contains a NUL character")
        pairs.append((key, value))
    return pairs


def read_env_file(path: str) -> Optional[list[tuple[str, str]]]:
    """The pairs of the ``.env`` file at ``path``, or ``None`` if there is none.

    :raises ConfigurationError: unreadable, not UTF-8, or a malformed line
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ConfigurationError(f"{path}: cannot read: {e.strerror}") from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigurationError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    return parse_env_text(text, path)


def apply_env(
    pairs: list[tuple[str, str]], environ: Optional[MutableMapping[str, str]] = None
) -> list[str]:
    """Set ``pairs`` in ``environ`` (default ``os.environ``): they override the
    environment's values, except for ``MULTINODE_*`` variables already set.
    Returns the names it set."""
    target = os.environ if environ is None else environ
    applied: list[str] = []
    for key, value in pairs:
        if key.startswith(_PROTECTED_PREFIX) and key in target:
            continue
        target[key] = value
        applied.append(key)
    return applied


def load_env_file(
    directory: str, environ: Optional[MutableMapping[str, str]] = None
) -> list[str]:
    """Apply ``directory/.env`` (if present) with :func:`apply_env`; the names it set.

    :raises ConfigurationError: a malformed file
    """
    return apply_env(read_env_file(os.path.join(directory, ".env")) or [], environ)
