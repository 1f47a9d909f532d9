"""``Multinode``: the registry of a project's functions and its decorator."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any, Callable

from multinode.core.function import Function, FunctionSpec
from multinode.errors import ParameterValidationError
from multinode.shared.parameter_bounds import (
    FUNCTION_NAME_LENGTH_LIMIT,
    MAX_CONCURRENCY_LIMIT,
    MAX_RETRIES_LIMIT,
    MEMORY_GBS_LIMIT,
    TIMEOUT_SECONDS_LIMIT,
    VIRTUAL_CPUS_LIMIT,
)

DEFAULT_TIMEOUT = timedelta(hours=1)
"""The timeout of a function that sets none."""

_MEMORY_UNITS = {"GiB": 1.0, "MiB": 1024.0, "KiB": 1024.0 * 1024.0}
_MEMORY_FORMAT = "Expected format: '100 MiB' or '2 GiB'"


class Multinode:
    """The functions of one project: ``main.py`` holds exactly one instance.

    >>> mn = Multinode()
    >>> @mn.function(cpu=1, memory="2 GiB")
    ... def work(x):
    ...     return x * 2
    """

    def __init__(self) -> None:
        """An empty registry."""
        self._functions: dict[str, Function] = {}

    @property
    def functions(self) -> dict[str, Function]:
        """The registered functions by name, in registration order (a copy)."""
        return dict(self._functions)

    def function(
        self,
        max_retries: int = 0,
        timeout: timedelta = DEFAULT_TIMEOUT,
        cpu: float = 0.1,
        memory: str = "256 MiB",
        max_concurrency: int = 10,
    ) -> Callable[[Callable[..., Any]], Function]:
        """Decorator that turns a Python function into a Multinode :class:`Function`.

        :param max_retries: how many times a failed attempt (an exception or a
            lost worker) is retried: 0 to 50
        :param timeout: a timedelta (rounded up to whole seconds, 1 s to 24 h)
            measured from the invocation's creation; when it passes,
            ``InvocationTimedOutError`` is raised inside the running code
        :param cpu: virtual CPUs, more than 0 and at most 16
        :param memory: ``"<number> GiB|MiB|KiB"``, more than 0 and at most 64 GiB
        :param max_concurrency: how many invocations may run at once (1 to 100);
            more wait in a queue
        :raises ParameterValidationError: an argument is out of bounds or malformed
        """
        _validate_int("max_retries", max_retries, 0, MAX_RETRIES_LIMIT)
        _validate_cpu(cpu)
        _validate_int("max_concurrency", max_concurrency, 1, MAX_CONCURRENCY_LIMIT)
        memory_gbs = memory_str_to_gb(memory)
        timeout_seconds = timeout_to_seconds(timeout)

        def decorator(fn: Callable[..., Any]) -> Function:
            name = getattr(fn, "__name__", None)
            if not isinstance(name, str) or not callable(fn):
                raise ParameterValidationError("@mn.function(...) must decorate a function")
            _validate_function_name(name)
            spec = FunctionSpec(
                function_name=name,
                virtual_cpus=float(cpu),
                memory_gbs=memory_gbs,
                max_concurrency=max_concurrency,
                max_retries=max_retries,
                timeout_seconds=timeout_seconds,
            )
            function = Function(spec, fn=fn)
            self._functions[name] = function
            return function

        return decorator


def memory_str_to_gb(memory: Any) -> float:
    """``"N GiB"``, ``"N MiB"`` or ``"N KiB"`` as gigabytes (GiB).

    :raises ParameterValidationError: malformed, not positive, or over 64 GiB
    """
    if not isinstance(memory, str):
        raise ParameterValidationError(
            "memory must be a string. Examples: '100 MiB' or '2 GiB'"
        )
    text = memory.strip()
    unit = text[-3:]
    if unit not in _MEMORY_UNITS:
        raise ParameterValidationError(f"memory is incorrectly formatted. {_MEMORY_FORMAT}")
    number = text[:-3].strip()
    if not re.fullmatch(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?", number):
        raise ParameterValidationError(f"memory is incorrectly formatted. {_MEMORY_FORMAT}")
    memory_gbs = float(number) / _MEMORY_UNITS[unit]
    if memory_gbs <= 0:
        raise ParameterValidationError("memory must be positive")
    if memory_gbs > MEMORY_GBS_LIMIT:
        raise ParameterValidationError(f"memory must not exceed {MEMORY_GBS_LIMIT} GiB")
    return memory_gbs


def timeout_to_seconds(timeout: Any) -> int:
    """A timedelta as whole seconds, rounded up.

    :raises ParameterValidationError: not a timedelta, not positive, or over 24 h
    """
    if not isinstance(timeout, timedelta):
        raise ParameterValidationError("timeout must be a timedelta object")
    seconds = math.ceil(timeout.total_seconds())
    if seconds <= 0:
        raise ParameterValidationError("timeout must be positive")
    if seconds > TIMEOUT_SECONDS_LIMIT:
        raise ParameterValidationError(
            f"timeout must not exceed {TIMEOUT_SECONDS_LIMIT} seconds"
        )
    return seconds


def _validate_cpu(cpu: Any) -> None:
    if isinstance(cpu, bool) or not isinstance(cpu, (int, float)):
        raise ParameterValidationError("cpu must be a number")
    if not math.isfinite(cpu):
        raise ParameterValidationError("cpu must be a finite number")
    if cpu <= 0:
        raise ParameterValidationError("cpu must be positive")
    if cpu > VIRTUAL_CPUS_LIMIT:
        raise ParameterValidationError(f"cpu must not exceed {VIRTUAL_CPUS_LIMIT}")


def _validate_int(name: str, value: Any, minimum: int, limit: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterValidationError(f"{name} must be a number")
    if not isinstance(value, int):
        raise ParameterValidationError(f"{name} must be an integer")
    if value < minimum:
        if minimum == 0:
            raise ParameterValidationError(f"{name} must be non-negative")
        raise ParameterValidationError(f"{name} must be positive")
    if value > limit:
        raise ParameterValidationError(f"{name} must not exceed {limit}")


def _validate_function_name(name: str) -> None:
    if len(name) >= FUNCTION_NAME_LENGTH_LIMIT:
        raise ParameterValidationError(
            f"function names must be shorter than {FUNCTION_NAME_LENGTH_LIMIT} characters"
        )
