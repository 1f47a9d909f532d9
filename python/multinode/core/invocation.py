"""An invocation's status as the caller sees it, derived from its InvocationInfo.

The server knows only RUNNING and TERMINATED; the richer statuses are derived
on the client, by the rules of docs/compatibility.md §6.4, from the invocation's
executions (:func:`derive_invocation`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping, Optional, Sequence

from multinode._serialization import decode_output


class InvocationStatus(str, Enum):
    """The derived status of an invocation; ``str()`` of a member is its value."""

    SUCCEEDED = "SUCCEEDED"
    CANCELLED = "CANCELLED"
    CANCELLING = "CANCELLING"
    TIMED_OUT = "TIMED OUT"
    RUNNING = "RUNNING"
    PENDING = "PENDING"
    FAILED = "FAILED"

    def __str__(self) -> str:
        """The value, e.g. ``"TIMED OUT"``."""
        return str(self.value)

    def __repr__(self) -> str:
        """The value's repr, as the original package printed it."""
        return repr(self.value)

    @property
    def finished(self) -> bool:
        """SUCCEEDED, CANCELLED, TIMED OUT or FAILED: the status will not change."""
        return self in _FINISHED


_FINISHED = frozenset(
    {
        InvocationStatus.SUCCEEDED,
        InvocationStatus.CANCELLED,
        InvocationStatus.TIMED_OUT,
        InvocationStatus.FAILED,
    }
)


@dataclass
class Invocation:
    """What a caller knows about an invocation.

    ``result`` is the decoded output of the most recently updated execution
    (a generator's latest progress while RUNNING), ``error`` that execution's
    error message, ``terminated`` whether the server has ended the
    invocation, ``num_failed_attempts`` how many executions failed.
    """

    status: InvocationStatus
    result: Optional[Any]
    error: Optional[str]
    terminated: bool
    num_failed_attempts: int
    invocation_id: Optional[str] = None
    info: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @staticmethod
    def from_invocation_info(info: Mapping[str, Any]) -> Invocation:
        """The same as :func:`derive_invocation`."""
        return derive_invocation(info)

    def readable_status(self) -> str:
        """Text such as ``"(FAILED, 2 failed attempts)"`` or ``"(SUCCEEDED - terminating)"``."""
        clauses = [self.status.value]
        if self.status.finished and not self.terminated:
            clauses.append(" - terminating")
        n = self.num_failed_attempts
        if n > 0:
            plural = "s" if n != 1 else ""
            if self.status == InvocationStatus.FAILED:
                clauses.append(f", {n} failed attempt{plural}")
            elif self.status in (InvocationStatus.PENDING, InvocationStatus.RUNNING):
                clauses.append(f", {n} previous failed attempt{plural}")
        return "(" + "".join(clauses) + ")"


def derive_invocation(info: Mapping[str, Any]) -> Invocation:
    """Derive an :class:`Invocation` from an InvocationInfo document (docs/compatibility.md §6.4).

    A pure function of ``info``; the status is the first rule that matches:

    1. an execution SUCCEEDED → SUCCEEDED;
    2. an aborted execution got its signal after the deadline → TIMED OUT;
    3. another aborted execution → CANCELLED;
    4. failed executions == max_retries + 1 → FAILED;
    5. TERMINATED and last_update_time > creation_time + timeout → TIMED OUT;
       (or termination_reason "QUEUE_TIMEOUT": not started within
       queue_timeout_seconds);
    6. TERMINATED → CANCELLED;
    7. a cancellation was requested → CANCELLING;
    8. an execution is RUNNING, has started and has no outcome → RUNNING;
    9. otherwise PENDING.
    """
    executions: Sequence[Mapping[str, Any]] = info.get("executions") or []
    execution_spec: Mapping[str, Any] = info.get("execution_spec") or {}
    max_retries = int(execution_spec.get("max_retries", 0))
    timeout_seconds = int(execution_spec.get("timeout_seconds", 0))
    creation_time = int(info.get("creation_time", 0))
    start_at = info.get("start_at")  # additive: timeout_seconds counts from a delayed start
    if isinstance(start_at, (int, float)) and int(start_at) > creation_time:
        creation_time = int(start_at)
    deadline = creation_time + timeout_seconds
    terminated = info.get("invocation_status") == "TERMINATED"
    num_failed = sum(1 for e in executions if _is_failed(e))

    latest = _latest_execution(executions)
    result: Any = None
    error: Optional[str] = None
    if latest is not None:
        output = latest.get("output")
        result = None if output is None else decode_output(output)
        error = latest.get("error_message")

    return Invocation(
        status=_status(info, executions, num_failed, max_retries, deadline, terminated),
        result=result,
        error=error,
        terminated=terminated,
        num_failed_attempts=num_failed,
        invocation_id=info.get("invocation_id"),
        info=info,
    )


def _status(
    info: Mapping[str, Any],
    executions: Sequence[Mapping[str, Any]],
    num_failed: int,
    max_retries: int,
    deadline: int,
    terminated: bool,
) -> InvocationStatus:
    if any(_is_successful(e) for e in executions):
        return InvocationStatus.SUCCEEDED
    aborted = [e for e in executions if _is_aborted(e)]
    if any(_signalled_after(e, deadline) for e in aborted):
        return InvocationStatus.TIMED_OUT
    if aborted:
        return InvocationStatus.CANCELLED
    if num_failed == max_retries + 1:
        return InvocationStatus.FAILED
    if terminated and info.get("termination_reason") == "QUEUE_TIMEOUT":
        return InvocationStatus.TIMED_OUT
    if terminated and int(info.get("last_update_time", 0)) > deadline:
        return InvocationStatus.TIMED_OUT
    if terminated:
        return InvocationStatus.CANCELLED
    if info.get("cancellation_request_time") is not None:
        return InvocationStatus.CANCELLING
    if any(
        e.get("worker_status") == "RUNNING"
        and e.get("execution_start_time") is not None
        and e.get("outcome") is None
        for e in executions
    ):
        return InvocationStatus.RUNNING
    return InvocationStatus.PENDING


# The three classes of executions are mutually exclusive; together they cover
# every execution that has an outcome or has terminated.


def _is_successful(e: Mapping[str, Any]) -> bool:
    return e.get("outcome") == "SUCCEEDED"


def _terminated_without_outcome(e: Mapping[str, Any]) -> bool:
    return e.get("worker_status") == "TERMINATED" and e.get("outcome") is None


def _signalled_before_start(e: Mapping[str, Any]) -> bool:
    return e.get("termination_signal_time") is not None and e.get("execution_start_time") is None


def _is_aborted(e: Mapping[str, Any]) -> bool:
    """ABORTED, or signalled (cancellation, timeout) before its code started."""
    return e.get("outcome") == "ABORTED" or (
        _terminated_without_outcome(e) and _signalled_before_start(e)
    )


def _is_failed(e: Mapping[str, Any]) -> bool:
    """FAILED, or ended without an outcome (crash, hardware, killed after the grace period)."""
    return e.get("outcome") == "FAILED" or (
        _terminated_without_outcome(e) and not _signalled_before_start(e)
    )


def _signalled_after(e: Mapping[str, Any], deadline: int) -> bool:
    signal_time = e.get("termination_signal_time")
    return signal_time is not None and int(signal_time) > deadline


def _latest_execution(executions: Sequence[Mapping[str, Any]]) -> Optional[Mapping[str, Any]]:
    """The execution with the largest last_update_time; on a tie, the later one in the list.

    When every execution carries the daemon's microsecond twin
    ``last_update_time_us``, that finer time decides instead.
    """
    if not executions:
        return None
    use_us = all(isinstance(e.get("last_update_time_us"), int) for e in executions)
    field_name = "last_update_time_us" if use_us else "last_update_time"
    best = executions[0]
    best_key = _time_key(best, field_name)
    for e in executions[1:]:
        key = _time_key(e, field_name)
        if key >= best_key:
            best, best_key = e, key
    return best


def _time_key(e: Mapping[str, Any], field_name: str) -> int:
    value = e.get(field_name)
    return int(value) if value is not None else -(2**62)
