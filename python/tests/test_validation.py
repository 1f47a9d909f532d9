"""``@mn.function(...)``: the bounds of docs/compatibility.md §1.2 and the formats of §6.2."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from multinode import Multinode
from multinode.core.function import Function
from multinode.errors import ParameterValidationError

INVALID: list[tuple[dict[str, Any], str]] = [
    ({"cpu": 0}, "cpu must be positive"),
    ({"cpu": -1}, "cpu must be positive"),
    ({"cpu": 16.01}, "cpu must not exceed 16"),
    ({"cpu": "1"}, "cpu must be a number"),
    ({"cpu": True}, "cpu must be a number"),
    ({"cpu": float("nan")}, "cpu must be a finite number"),
    ({"cpu": float("inf")}, "cpu must be a finite number"),
    ({"memory": 512}, "memory must be a string"),
    ({"memory": "512 MB"}, "memory is incorrectly formatted"),
    ({"memory": "512"}, "memory is incorrectly formatted"),
    ({"memory": "GiB"}, "memory is incorrectly formatted"),
    ({"memory": "lots GiB"}, "memory is incorrectly formatted"),
    ({"memory": "nan GiB"}, "memory is incorrectly formatted"),
    ({"memory": "inf GiB"}, "memory is incorrectly formatted"),
    ({"memory": "0 MiB"}, "memory must be positive"),
    ({"memory": "-1 GiB"}, "memory must be positive"),
    ({"memory": "64.5 GiB"}, "memory must not exceed 64 GiB"),
    ({"memory": "65537 MiB"}, "memory must not exceed 64 GiB"),
    ({"max_retries": -1}, "max_retries must be non-negative"),
    ({"max_retries": 51}, "max_retries must not exceed 50"),
    ({"max_retries": 1.5}, "max_retries must be an integer"),
    ({"max_retries": "1"}, "max_retries must be a number"),
    ({"max_retries": False}, "max_retries must be a number"),
    ({"max_concurrency": 0}, "max_concurrency must be positive"),
    ({"max_concurrency": 101}, "max_concurrency must not exceed 100"),
    ({"max_concurrency": 2.0}, "max_concurrency must be an integer"),
    ({"timeout": 60}, "timeout must be a timedelta object"),
    ({"timeout": timedelta(0)}, "timeout must be positive"),
    ({"timeout": timedelta(seconds=-5)}, "timeout must be positive"),
    ({"timeout": timedelta(days=1, microseconds=1)}, "timeout must not exceed 86400 seconds"),
    ({"timeout": timedelta(days=2)}, "timeout must not exceed 86400 seconds"),
]


@pytest.mark.parametrize("kwargs,message", INVALID, ids=[repr(k) for k, _ in INVALID])
def test_invalid_arguments(kwargs: dict[str, Any], message: str) -> None:
    mn = Multinode()
    with pytest.raises(ParameterValidationError, match=message.replace(".", r"\.")):
        mn.function(**kwargs)


VALID: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({}, {"virtual_cpus": 0.1, "memory_gbs": 0.25, "max_concurrency": 10,
          "max_retries": 0, "timeout_seconds": 3600}),
    ({"cpu": 16, "memory": "64 GiB", "max_concurrency": 100, "max_retries": 50,
      "timeout": timedelta(days=1)},
     {"virtual_cpus": 16.0, "memory_gbs": 64.0, "max_concurrency": 100,
      "max_retries": 50, "timeout_seconds": 86400}),
    ({"cpu": 0.25, "memory": "512 MiB", "max_concurrency": 1, "timeout": timedelta(seconds=1)},
     {"virtual_cpus": 0.25, "memory_gbs": 0.5, "max_concurrency": 1, "timeout_seconds": 1}),
    ({"memory": "1048576 KiB"}, {"memory_gbs": 1.0}),
    ({"memory": " 1.5GiB "}, {"memory_gbs": 1.5}),
    ({"memory": "65536 MiB"}, {"memory_gbs": 64.0}),
    ({"timeout": timedelta(seconds=1.2)}, {"timeout_seconds": 2}),
    ({"timeout": timedelta(microseconds=1)}, {"timeout_seconds": 1}),
    ({"timeout": timedelta(hours=23, minutes=59, seconds=59, microseconds=1)},
     {"timeout_seconds": 86400}),
]


@pytest.mark.parametrize("kwargs,expected", VALID, ids=[repr(k) for k, _ in VALID])
def test_valid_arguments(kwargs: dict[str, Any], expected: dict[str, Any]) -> None:
    mn = Multinode()

    @mn.function(**kwargs)
    def work(x: int) -> int:
        return x

    assert isinstance(work, Function)
    spec = work.spec
    for key, value in expected.items():
        assert getattr(spec, key) == value, key
    assert spec.function_name == "work"
    assert mn._functions == {"work": work}
    assert isinstance(spec.resource_spec["virtual_cpus"], float)


def test_function_name_length_uses_the_servers_rule() -> None:
    mn = Multinode()
    ok = mn.function()

    def f() -> None:
        pass

    f.__name__ = "f" * 1023
    assert ok(f).function_name == "f" * 1023
    f.__name__ = "f" * 1024
    with pytest.raises(ParameterValidationError, match="shorter than 1024"):
        ok(f)


def test_registration_order_and_spec_document() -> None:
    mn = Multinode()

    @mn.function(cpu=2, memory="4 GiB", max_retries=3, timeout=timedelta(minutes=5))
    def b() -> None:
        pass

    @mn.function()
    def a() -> None:
        pass

    assert list(mn._functions) == ["b", "a"]
    assert b.spec.to_json() == {
        "function_name": "b",
        "resource_spec": {"virtual_cpus": 2.0, "memory_gbs": 4.0, "max_concurrency": 10},
        "execution_spec": {"max_retries": 3, "timeout_seconds": 300},
    }
