"""Configuration precedence: environment, then ~/.multinode/config.json, then defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from multinode.config import DEFAULT_API_URL, Config, config_file_path, load_config
from multinode.errors import ConfigurationError, MissingEnvironmentVariableError


def write_config(home: Path, doc: object) -> None:
    (home / ".multinode").mkdir(exist_ok=True)
    (home / ".multinode" / "config.json").write_text(json.dumps(doc))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def test_the_file_is_under_home(home: Path) -> None:
    assert config_file_path() == home / ".multinode" / "config.json"


def test_environment_wins(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(home, {"api_url": "http://file:1", "api_key": "file-key"})
    monkeypatch.setenv("MULTINODE_API_URL", "http://env:2")
    monkeypatch.setenv("MULTINODE_API_KEY", "env-key")
    assert load_config() == Config("http://env:2", "env-key")


def test_file_only(home: Path) -> None:
    write_config(home, {"api_url": "http://file:1", "api_key": "file-key"})
    assert load_config() == Config("http://file:1", "file-key")


def test_each_field_falls_back_on_its_own(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(home, {"api_url": "http://file:1", "api_key": "file-key"})
    monkeypatch.setenv("MULTINODE_API_KEY", "env-key")
    assert load_config() == Config("http://file:1", "env-key")
    monkeypatch.delenv("MULTINODE_API_KEY")
    monkeypatch.setenv("MULTINODE_API_URL", "http://env:2")
    assert load_config() == Config("http://env:2", "file-key")


def test_empty_environment_values_count_as_unset(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(home, {"api_key": "file-key"})
    monkeypatch.setenv("MULTINODE_API_KEY", "")
    monkeypatch.setenv("MULTINODE_API_URL", "")
    assert load_config() == Config(DEFAULT_API_URL, "file-key")


def test_default_url(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MULTINODE_API_KEY", "k")
    assert load_config() == Config("http://127.0.0.1:5000", "k")


def test_no_key_anywhere(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MULTINODE_API_URL", "http://env:2")
    with pytest.raises(MissingEnvironmentVariableError) as info:
        load_config()
    message = str(info.value)
    assert "MULTINODE_API_KEY" in message and "multinode login" in message
    write_config(home, {"api_url": "http://file:1"})
    with pytest.raises(MissingEnvironmentVariableError):
        load_config()


@pytest.mark.parametrize("text,message", [
    ("{not json", "not valid JSON"),
    ("[1]", "must hold a JSON object"),
    ('{"api_key": 5}', "api_key: must be a string"),
])
def test_malformed_file(home: Path, text: str, message: str) -> None:
    (home / ".multinode").mkdir()
    (home / ".multinode" / "config.json").write_text(text)
    with pytest.raises(ConfigurationError, match=message):
        load_config()


def test_the_key_is_not_in_repr() -> None:
    assert "secret" not in repr(Config("http://h", "secret"))
