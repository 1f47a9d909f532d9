"""Package-level contracts: exports, version, docstrings, the error catalogue, mypy."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import multinode
from conftest import PYTHON_DIR, REPO_DIR
from multinode.api_client.error_types import ERROR_TYPES, MultinodeApiException


def test_top_level_exports() -> None:
    assert multinode.__all__ == ["Multinode", "StartOptions", "get_deployed_function",
                                "get_invocation", "heartbeat", "__version__"]
    from multinode import Multinode, get_deployed_function  # noqa: F401
    from multinode.api_client.error_types import InvocationDoesNotExist  # noqa: F401
    from multinode.core.invocation import InvocationStatus  # noqa: F401
    from multinode.errors import (  # noqa: F401
        FunctionDoesNotExist,
        FunctionErrorMessageSizeLimitExceeded,
        FunctionInputSizeLimitExceeded,
        FunctionOutputSizeLimitExceeded,
        InvalidUseError,
        InvocationCancelledError,
        InvocationFailedError,
        InvocationTimedOutError,
        MissingEnvironmentVariableError,
        ParameterValidationError,
    )


def test_version_matches_pyproject() -> None:
    with open(os.path.join(PYTHON_DIR, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    assert project["version"] == multinode.__version__ == "1.1.0"
    assert project["dependencies"] == ["jsonpickle"]


def _modules() -> list[str]:
    names = ["multinode"]
    for info in pkgutil.walk_packages(multinode.__path__, "multinode."):
        names.append(info.name)
    return names


def test_every_public_name_has_a_docstring() -> None:
    missing = []
    for name in _modules():
        module = importlib.import_module(name)
        if not module.__doc__:
            missing.append(name)
        for attr, obj in vars(module).items():
            if attr.startswith("_") or getattr(obj, "__module__", None) != name:
                continue
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not obj.__doc__:
                missing.append(f"{name}.{attr}")
            if inspect.isclass(obj):
                for meth, value in vars(obj).items():
                    if meth.startswith("_") and meth != "__init__":
                        continue
                    if meth == "__init__" and dataclasses.is_dataclass(obj):
                        continue  # generated
                    func = value.fget if isinstance(value, property) else value
                    func = getattr(func, "__func__", func)
                    if inspect.isfunction(func) and not func.__doc__:
                        missing.append(f"{name}.{attr}.{meth}")
    assert missing == []


def test_error_catalogue_matches_the_daemon() -> None:
    header = Path(REPO_DIR, "include", "multinode", "common", "error.h")
    if not header.exists():
        pytest.skip("include/multinode/common/error.h is not here")
    text = re.sub(r"\\\n", " ", header.read_text())
    entries = {
        m.group(2): (int(m.group(1)), m.group(3))
        for m in re.finditer(r'X\(\s*\w+\s*,\s*(\d+)\s*,\s*"(\w+)"\s*,\s*"((?:[^"\\]|\\.)*)"\s*\)',
                             text)
    }
    assert entries, "no entries parsed from error.h"
    for cls in ERROR_TYPES:
        assert entries.get(cls.__name__) == (cls.STATUS, cls.DETAIL), cls.__name__
    assert len(ERROR_TYPES) == 23
    assert all(issubclass(cls, MultinodeApiException) for cls in ERROR_TYPES)


def test_errors_module_reexports_every_api_error() -> None:
    import multinode.errors as errors

    for cls in ERROR_TYPES:
        assert getattr(errors, cls.__name__) is cls
        assert cls.__name__ in errors.__all__


USER_CODE = """
from datetime import timedelta
from multinode import Multinode, get_deployed_function
from multinode.core.invocation import InvocationStatus
from multinode.errors import FunctionDoesNotExist, InvocationFailedError

mn = Multinode()

@mn.function(cpu=1, timeout=timedelta(minutes=1))
def f(x: int) -> int:
    return x

def use() -> None:
    status: InvocationStatus = f.get("inv").status
    fn = get_deployed_function("p", "f")
    ids: list[str] = fn.list().invocation_ids
    try:
        fn.await_result(fn.start(1), timeout=5)
    except (FunctionDoesNotExist, InvocationFailedError):
        pass
"""


def _mypy(*args: str, env: "dict[str, str] | None" = None) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--cache-dir", os.devnull, *args],
        capture_output=True, text=True, cwd=PYTHON_DIR, timeout=120, env=env,
    )


def test_mypy_strict(tmp_path: Path) -> None:
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.skip("mypy is not installed")
    run = _mypy(os.path.join(PYTHON_DIR, "multinode"))
    assert run.returncode == 0, run.stdout + run.stderr
    # The typed surface as a user's strictly checked code sees it.
    user = tmp_path / "user_code.py"
    user.write_text(USER_CODE)
    run = _mypy(str(user), env={**os.environ, "MYPYPATH": PYTHON_DIR})
    assert run.returncode == 0, run.stdout + run.stderr
