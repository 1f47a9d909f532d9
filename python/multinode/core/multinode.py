"""``Multinode``: the registry of a project's functions and its decorator."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any, Callable, Optional, Union

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
        *,
        max_concurrency_per_key: Optional[int] = None,
        retry_delay: Union[float, timedelta, None] = None,
        retry_backoff_factor: Optional[float] = None,
        retry_max_delay: Union[float, timedelta, None] = None,
        attempt_timeout: Union[int, timedelta, None] = None,
        queue_timeout: Union[int, timedelta, None] = None,
        heartbeat_timeout: Union[int, timedelta, None] = None,
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
        :param max_concurrency_per_key: how many invocations of one
            ``concurrency_key`` (see ``Function.with_options``) may run at once
        :param retry_delay: wait before the first retry (seconds or a
            timedelta); the n-th waits a random time between half and all of
            ``min(retry_max_delay, retry_delay * retry_backoff_factor ** (n-1))``
        :param retry_backoff_factor: 1 to 100 (server default 2)
        :param retry_max_delay: the longest wait (server default 300 s)
        :param attempt_timeout: one attempt's run time; the attempt fails and
            is retried (``timeout`` ends the whole invocation)
        :param queue_timeout: an invocation not started this long after it
            became eligible ends TIMED OUT
        :param heartbeat_timeout: an attempt that sends no progress or
            ``multinode.heartbeat()`` for this long fails and is retried
        :raises ParameterValidationError: an argument is out of bounds or malformed
        """
        _validate_int("max_retries", max_retries, 0, MAX_RETRIES_LIMIT)
        _validate_cpu(cpu)
        _validate_int("max_concurrency", max_concurrency, 1, MAX_CONCURRENCY_LIMIT)
        memory_gbs = memory_str_to_gb(memory)
        timeout_seconds = timeout_to_seconds(timeout)
        if max_concurrency_per_key is not None:
            _validate_int("max_concurrency_per_key", max_concurrency_per_key, 1,
                          MAX_CONCURRENCY_LIMIT)
        if retry_backoff_factor is not None:
            _validate_number("retry_backoff_factor", retry_backoff_factor, 1, 100)
        additive = {
            "max_concurrency_per_key": max_concurrency_per_key,
            "retry_delay_seconds": _seconds("retry_delay", retry_delay, 0, whole=False),
            "retry_backoff_factor": None if retry_backoff_factor is None
            else float(retry_backoff_factor),
            "retry_max_delay_seconds": _seconds("retry_max_delay", retry_max_delay, 0,
                                                whole=False),
            "attempt_timeout_seconds": _seconds("attempt_timeout", attempt_timeout, 1),
            "queue_timeout_seconds": _seconds("queue_timeout", queue_timeout, 1),
            "heartbeat_timeout_seconds": _seconds("heartbeat_timeout", heartbeat_timeout, 1),
        }

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
                **additive,
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


def _validate_number(name: str, value: Any, minimum: float, limit: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterValidationError(f"{name} must be a number")
    if not math.isfinite(value) or not minimum <= value <= limit:
        raise ParameterValidationError(f"{name} must be from {minimum:g} to {limit:g}")


def _seconds(name: str, value: Any, minimum: float, whole: bool = True) -> Any:
    """None, or seconds (a number or a timedelta; whole ones rounded up) within bounds."""
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    _validate_number(name, seconds, minimum, TIMEOUT_SECONDS_LIMIT)
    return math.ceil(seconds) if whole else float(seconds)


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
