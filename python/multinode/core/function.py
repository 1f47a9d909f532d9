"""A Multinode function: its spec, and the calls that invoke it remotely."""

from __future__ import annotations

import inspect
import os
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Iterable, Iterator, Optional, Union

from multinode._serialization import encode
from multinode.api_client.api import MultinodeApi, get_api
from multinode.api_client.models import ParentInvocationDefinition
from multinode.core.invocation import Invocation, InvocationStatus, derive_invocation
from multinode.errors import (
    AwaitResultTimeoutError,
    FunctionInputSizeLimitExceeded,
    InvalidUseError,
    InvocationCancelledError,
    InvocationFailedError,
    InvocationTimedOutError,
)
from multinode.shared.parameter_bounds import INPUT_LENGTH_LIMIT
from multinode.shared.worker_environment_variables import (
    FUNCTION_NAME_ENV,
    INVOCATION_ID_ENV,
    PROJECT_NAME_ENV,
    VERSION_ID_ENV,
)

POLL_INITIAL_SECONDS = 0.05
"""The first pause of :meth:`Function.await_result` between two GETs."""
POLL_GROWTH = 1.5
"""Each pause is this many times the previous one ..."""
POLL_MAX_SECONDS = 1.0
"""... up to this."""


@dataclass(frozen=True)
class FunctionSpec:
    """A function's name, resources and execution policy, as deployed."""

    function_name: str
    virtual_cpus: float
    memory_gbs: float
    max_concurrency: int
    max_retries: int
    timeout_seconds: int
    docker_image: Optional[str] = None
    # additive (docs/compatibility.md, "Task semantics"); None: not set
    max_concurrency_per_key: Optional[int] = None
    retry_delay_seconds: Optional[float] = None
    retry_backoff_factor: Optional[float] = None
    retry_max_delay_seconds: Optional[float] = None
    attempt_timeout_seconds: Optional[int] = None
    queue_timeout_seconds: Optional[int] = None
    heartbeat_timeout_seconds: Optional[int] = None

    @property
    def resource_spec(self) -> dict[str, Any]:
        """``{"virtual_cpus", "memory_gbs", "max_concurrency"}`` (+ ``max_concurrency_per_key``)."""
        spec: dict[str, Any] = {
            "virtual_cpus": float(self.virtual_cpus),
            "memory_gbs": float(self.memory_gbs),
            "max_concurrency": self.max_concurrency,
        }
        if self.max_concurrency_per_key is not None:
            spec["max_concurrency_per_key"] = self.max_concurrency_per_key
        return spec

    @property
    def execution_spec(self) -> dict[str, Any]:
        """``{"max_retries", "timeout_seconds"}`` and the additive fields that are set."""
        spec: dict[str, Any] = {
            "max_retries": self.max_retries,
            "timeout_seconds": self.timeout_seconds,
        }
        for name in ("retry_delay_seconds", "retry_backoff_factor", "retry_max_delay_seconds",
                     "attempt_timeout_seconds", "queue_timeout_seconds",
                     "heartbeat_timeout_seconds"):
            value = getattr(self, name)
            if value is not None:
                spec[name] = value
        return spec

    def to_json(self) -> dict[str, Any]:
        """The FunctionSpec document of a version definition (without an image override)."""
        return {
            "function_name": self.function_name,
            "resource_spec": self.resource_spec,
            "execution_spec": self.execution_spec,
        }


@dataclass(frozen=True)
class StartOptions:
    """How :meth:`Function.with_options` starts invocations (all optional).

    :param priority: -100 to 100 (default 0): higher first within the
        function's ``max_concurrency``, FIFO within a priority
    :param concurrency_key: at most ``max_concurrency_per_key`` attempts of one
        key run at once (up to 256 characters)
    :param idempotency_key: a second start with the same key returns the first
        invocation's id (up to 256 characters; a different input is refused)
    :param start_at: eligible only from this unix time (seconds) on
    :param delay: eligible only this long after the start (seconds or a
        timedelta); not together with ``start_at``
    """

    priority: Optional[int] = None
    concurrency_key: Optional[str] = None
    idempotency_key: Optional[str] = None
    start_at: Optional[float] = None
    delay: Union[float, timedelta, None] = None

    def to_json(self) -> dict[str, Any]:
        """The additive fields of an InvocationDefinition."""
        if self.start_at is not None and self.delay is not None:
            raise InvalidUseError("give start_at or delay, not both")
        body: dict[str, Any] = {}
        if self.priority is not None:
            if isinstance(self.priority, bool) or not isinstance(self.priority, int) or not (
                    -100 <= self.priority <= 100):
                raise InvalidUseError("priority must be an integer from -100 to 100")
            body["priority"] = self.priority
        for name in ("concurrency_key", "idempotency_key"):
            value = getattr(self, name)
            if value is not None:
                if not isinstance(value, str) or not 1 <= len(value) <= 256:
                    raise InvalidUseError(f"{name} must be a string of 1 to 256 characters")
                body[name] = value
        start_at = self.start_at
        if self.delay is not None:
            seconds = (self.delay.total_seconds() if isinstance(self.delay, timedelta)
                       else float(self.delay))
            start_at = time.time() + seconds
        if start_at is not None:
            body["start_at"] = float(start_at)
        return body


@dataclass
class InvocationIdsList:
    """A page of :meth:`Function.list`: ids newest first, and where the next page starts."""

    invocation_ids: list[str]
    next_offset: Optional[str]


class Function:
    """A Multinode function.

    It comes from one of three places:

    1. ``@mn.function(...)`` in a project's ``main.py``: it has the Python
       callable but no project or version.  Inside a worker its invocation
       methods take the project and version of the running execution from
       the environment; anywhere else they raise :class:`InvalidUseError`.
    2. :func:`~multinode.get_deployed_function`: pinned to a project and a
       concrete version, without a callable.
    3. Built directly with ``project_name``/``version_id`` (tests, tools).

    Invocation methods are safe to call from many threads at once.
    """

    def __init__(
        self,
        spec: FunctionSpec,
        fn: Optional[Callable[..., Any]] = None,
        project_name: Optional[str] = None,
        version_id: Optional[str] = None,
        api: Optional[MultinodeApi] = None,
    ) -> None:
        """Wrap ``spec`` (and the callable ``fn``, if known)."""
        self.spec = spec
        self.fn = fn
        self.project_name = project_name
        self.version_id = version_id
        self._api = api
        self._api_lock = threading.Lock()
        self._options: Optional[StartOptions] = None

    @property
    def function_name(self) -> str:
        """The function's name (the Python ``__name__`` of the decorated callable)."""
        return self.spec.function_name

    @property
    def fn_spec(self) -> FunctionSpec:
        """The original package's name for :attr:`spec`."""
        return self.spec

    def __repr__(self) -> str:
        """``Function('name', project=..., version=...)``."""
        return (
            f"Function({self.function_name!r}, project={self.project_name!r}, "
            f"version={self.version_id!r})"
        )

    # -- remote calls -----------------------------------------------------

    def with_options(
        self,
        *,
        priority: Optional[int] = None,
        concurrency_key: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        start_at: Optional[float] = None,
        delay: Union[float, timedelta, None] = None,
    ) -> "Function":
        """This function, whose :meth:`start` (and ``call_remote``, ``map``,
        ``starmap``) send these options (:class:`StartOptions`).  The options
        never mix with the function's own arguments::

            fn.with_options(priority=10, concurrency_key=user_id).start(x, priority="p")

        An ``idempotency_key`` names one invocation: with ``map`` every item
        would get the same one.
        """
        options = StartOptions(priority, concurrency_key, idempotency_key, start_at, delay)
        options.to_json()  # check them now
        other = Function(self.spec, self.fn, self.project_name, self.version_id, self._api)
        other._options = options
        return other

    def start(self, *args: Any, **kwargs: Any) -> str:
        """Start an invocation with these arguments and return its id.

        The input sent is ``jsonpickle.encode([args, kwargs])``.  Inside a
        worker the running invocation becomes the new one's parent.

        :raises FunctionInputSizeLimitExceeded: the input has 250000 characters or more
        """
        api, project, version = self._target()
        serialized = encode([args, kwargs])
        if len(serialized) >= INPUT_LENGTH_LIMIT:
            raise FunctionInputSizeLimitExceeded(
                f"Function input exceeds size limit: {len(serialized)} characters "
                f"encoded (must be fewer than {INPUT_LENGTH_LIMIT})"
            )
        info = api.create_invocation(
            project, version, self.function_name, serialized, _parent_from_env(),
            self._options.to_json() if self._options else None,
        )
        return str(info["invocation_id"])

    def get(self, invocation_id: str) -> Invocation:
        """The invocation's current state (status, result so far, error)."""
        api, project, version = self._target()
        return derive_invocation(
            api.get_invocation(project, version, self.function_name, invocation_id)
        )

    def cancel(self, invocation_id: str) -> None:
        """Request the invocation's cancellation (its descendants' too)."""
        api, project, version = self._target()
        api.cancel_invocation(project, version, self.function_name, invocation_id)

    def list(self, offset: Optional[str] = None) -> InvocationIdsList:
        """A page (the server's default size, 50) of invocation ids, newest first.

        :param offset: the ``next_offset`` of the previous page
        """
        api, project, version = self._target()
        page = api.list_invocations(project, version, self.function_name, initial_offset=offset)
        return InvocationIdsList(
            invocation_ids=[str(i["invocation_id"]) for i in page.get("invocations") or []],
            next_offset=page.get("next_offset"),
        )

    def await_result(
        self, invocation_id: str, timeout: Union[float, timedelta, None] = None
    ) -> Any:
        """Wait until the invocation has finished and return its result.

        Each GET asks the server to hold it until the invocation finishes
        (``?wait_seconds``, up to 60 s): one request per minute of waiting.
        A server that answers at once (the original control plane) is polled
        with a pause that starts at 0.05 s and grows by half each time up to
        1 s.  Returns as soon as the status is SUCCEEDED.

        :param timeout: give up after this many seconds (or this timedelta)
        :raises InvocationFailedError: FAILED (the message is its error)
        :raises InvocationCancelledError: CANCELLED
        :raises InvocationTimedOutError: TIMED OUT
        :raises AwaitResultTimeoutError: ``timeout`` passed first
        """
        limit = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        deadline = None if limit is None else time.monotonic() + limit
        pause = POLL_INITIAL_SECONDS
        api, project, version = self._target()

        def held_get() -> tuple[Invocation, bool]:
            left = 60.0 if deadline is None else deadline - time.monotonic()
            wait = int(min(60.0, left))
            asked = time.monotonic()
            info = api.get_invocation(
                project, version, self.function_name, invocation_id, wait_seconds=wait or None
            )
            # held for a while: the server waited, no pause needed
            return derive_invocation(info), wait > 0 and time.monotonic() - asked >= wait / 2

        invocation, held = held_get()
        while not invocation.status.finished:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AwaitResultTimeoutError(
                        f"invocation {invocation_id} of {self.function_name} has not "
                        f"finished after {limit:g} s (status {invocation.status})"
                    )
                if not held:
                    time.sleep(min(pause, left))
            elif not held:
                time.sleep(pause)
            if not held:
                pause = min(pause * POLL_GROWTH, POLL_MAX_SECONDS)
            invocation, held = held_get()
        return _result_or_raise(invocation)

    def call_remote(self, *args: Any, **kwargs: Any) -> Any:
        """Start an invocation and wait for its result (:meth:`start` + :meth:`await_result`)."""
        return self.await_result(self.start(*args, **kwargs))

    def map(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """Start one invocation per item (each the single argument) and yield
        the results in input order.  Every invocation is started before this returns."""
        return self.starmap((item,) for item in iterable)

    def starmap(self, iterable: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        """Start one invocation per argument tuple and yield the results in
        input order.  Every invocation is started before this returns."""
        invocation_ids = [self.start(*args) for args in iterable]
        return (self.await_result(i) for i in invocation_ids)

    # -- local calls ------------------------------------------------------

    def call_local(self, *args: Any, **kwargs: Any) -> Any:
        """Run the function in this process.  A generator's result is its last
        yielded value (``None`` if it yields nothing), as for remote calls.

        :raises InvalidUseError: the function came from ``get_deployed_function``
        """
        if self.fn is None:
            raise InvalidUseError(
                "Functions obtained via `get_deployed_function(...)` cannot be called locally."
            )
        out = self.fn(*args, **kwargs)
        if inspect.isgenerator(out):
            last = None
            for last in out:
                pass
            return last
        return out

    # -- helpers ----------------------------------------------------------

    def _target(self) -> tuple[MultinodeApi, str, str]:
        project = self.project_name or os.environ.get(PROJECT_NAME_ENV) or None
        version = self.version_id or os.environ.get(VERSION_ID_ENV) or None
        if project is None or version is None:
            raise InvalidUseError(
                "You tried to call a Multinode function returned by the "
                "@mn.function decorator directly from non-Multinode code. "
                "You should use `get_deployed_function(...)` function instead."
            )
        with self._api_lock:
            if self._api is None:
                self._api = get_api()
            api = self._api
        return api, project, version


def _parent_from_env() -> Optional[ParentInvocationDefinition]:
    function_name = os.environ.get(FUNCTION_NAME_ENV)
    invocation_id = os.environ.get(INVOCATION_ID_ENV)
    if function_name and invocation_id:
        return {"function_name": function_name, "invocation_id": invocation_id}
    return None


def _result_or_raise(invocation: Invocation) -> Any:
    if invocation.status == InvocationStatus.FAILED:
        raise InvocationFailedError(invocation.error)
    if invocation.status == InvocationStatus.CANCELLED:
        raise InvocationCancelledError("Invocation was cancelled.")
    if invocation.status == InvocationStatus.TIMED_OUT:
        raise InvocationTimedOutError("Invocation timed out.")
    return invocation.result

