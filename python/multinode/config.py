"""Where the client finds the control plane and its API key.

``MULTINODE_API_URL`` and ``MULTINODE_API_KEY`` win (an empty value counts as
unset); otherwise ``~/.multinode/config.json`` (``{"api_url": ..., "api_key":
...}``, written by ``multinode login``); the URL defaults to
``http://127.0.0.1:5000``.  The C client reads the same sources the same way.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from multinode.errors import ConfigurationError, MissingEnvironmentVariableError
from multinode.shared.worker_environment_variables import (
    CONTROL_PLANE_API_KEY_ENV,
    CONTROL_PLANE_API_URL_ENV,
)

DEFAULT_API_URL = "http://127.0.0.1:5000"
"""The URL used when neither the environment nor the config file names one."""


@dataclass(frozen=True)
class Config:
    """The control plane's URL and the API key to send it."""

    api_url: str
    api_key: str = field(repr=False)


def config_file_path() -> Path:
    """``~/.multinode/config.json`` (``$HOME`` is read at each call)."""
    return Path.home() / ".multinode" / "config.json"


def _env(name: str) -> Optional[str]:
    value = os.environ.get(name)
    return value if value else None


def load_config_file(path: Optional[Path] = None) -> dict[str, Optional[str]]:
    """The ``api_url`` and ``api_key`` of the config file (``None`` for what it
    lacks, both when the file does not exist).

    :raises ConfigurationError: the file is not a JSON object of strings.
    """
    path = path or config_file_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"api_url": None, "api_key": None}
    except OSError as e:
        raise ConfigurationError(f"{path}: cannot read: {e.strerror}") from e
    try:
        doc: Any = json.loads(text)
    except ValueError as e:
        raise ConfigurationError(f"{path}: not valid JSON: {e}") from e
    if not isinstance(doc, dict):
        raise ConfigurationError(f"{path}: must hold a JSON object")
    out: dict[str, Optional[str]] = {}
    for key in ("api_url", "api_key"):
        value = doc.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"{path}: {key}: must be a string")
        out[key] = value or None
    return out


def load_config() -> Config:
    """The configuration from the environment, then the config file.

    :raises MissingEnvironmentVariableError: no API key anywhere.
    :raises ConfigurationError: the config file is needed and malformed.
    """
    api_url = _env(CONTROL_PLANE_API_URL_ENV)
    api_key = _env(CONTROL_PLANE_API_KEY_ENV)
    if api_url is None or api_key is None:
        from_file = load_config_file()
        api_url = api_url or from_file["api_url"]
        api_key = api_key or from_file["api_key"]
    if api_key is None:
        raise MissingEnvironmentVariableError(
            f"No Multinode API key found: set the {CONTROL_PLANE_API_KEY_ENV} "
            f"environment variable (and {CONTROL_PLANE_API_URL_ENV}), or run "
            f"`multinode login` to save them in {config_file_path()}."
        )
    return Config(api_url=api_url or DEFAULT_API_URL, api_key=api_key)


def load_config_with_api_key_from_env_or_file() -> Config:
    """The original package's name for :func:`load_config`."""
    return load_config()
