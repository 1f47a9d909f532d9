"""The shapes of the JSON documents the package reads and sends (docs/compatibility.md §1).

They are :class:`~typing.TypedDict` views of the server's JSON: nothing is
validated, and fields the package does not use may be absent or extra (the
daemon adds, for instance, ``*_us`` microsecond twins of every time field).
"""

from __future__ import annotations

from typing import Any, Optional, TypedDict


class ResourceSpec(TypedDict, total=False):
    """``{virtual_cpus, memory_gbs, max_concurrency}``."""

    virtual_cpus: float
    memory_gbs: float
    max_concurrency: int


class ExecutionSpec(TypedDict, total=False):
    """``{max_retries, timeout_seconds}``."""

    max_retries: int
    timeout_seconds: int


class ParentInvocationDefinition(TypedDict):
    """The parent named when creating an invocation."""

    function_name: str
    invocation_id: str


class ExecutionSummary(TypedDict, total=False):
    """One execution (attempt) inside an InvocationInfo."""

    execution_id: str
    worker_status: str
    worker_details: Optional[dict[str, Any]]
    termination_signal_time: Optional[int]
    outcome: Optional[str]
    output: Optional[str]
    error_message: Optional[str]
    creation_time: int
    last_update_time: int
    last_update_time_us: int
    execution_start_time: Optional[int]
    execution_finish_time: Optional[int]


class InvocationInfo(TypedDict, total=False):
    """An invocation, as ``GET …/invocations/{id}`` returns it."""

    project_name: str
    version_id: str
    function_name: str
    invocation_id: str
    parent_invocation: Optional[dict[str, Any]]
    resource_spec: ResourceSpec
    execution_spec: ExecutionSpec
    function_status: str
    prepared_function_details: Optional[dict[str, Any]]
    input: str
    cancellation_request_time: Optional[int]
    invocation_status: str
    creation_time: int
    last_update_time: int
    executions: list[ExecutionSummary]


class InvocationInfoForFunction(TypedDict, total=False):
    """One item of an invocations list."""

    invocation_id: str
    parent_invocation: Optional[ParentInvocationDefinition]
    cancellation_request_time: Optional[int]
    invocation_status: str
    creation_time: int
    last_update_time: int


class InvocationsListForFunction(TypedDict, total=False):
    """A page of ``GET …/invocations``."""

    project_name: str
    version_id: str
    function_name: str
    invocations: list[InvocationInfoForFunction]
    next_offset: Optional[str]


class FunctionInfoForVersion(TypedDict, total=False):
    """One function of a version."""

    function_name: str
    docker_image: str
    resource_spec: ResourceSpec
    execution_spec: ExecutionSpec
    function_status: str
    prepared_function_details: Optional[dict[str, Any]]


class VersionInfo(TypedDict, total=False):
    """A version, as ``GET /projects/{p}/versions/{v}`` returns it."""

    project_name: str
    version_id: str
    creation_time: int
    functions: list[FunctionInfoForVersion]


class ExecutionInfo(TypedDict, total=False):
    """An execution, as its worker sees it (``GET …/executions/{id}``)."""

    project_name: str
    version_id: str
    function_name: str
    invocation_id: str
    execution_id: str
    input: str
    cancellation_request_time: Optional[int]
    resource_spec: ResourceSpec
    execution_spec: ExecutionSpec
    function_status: str
    worker_status: str
    termination_signal_time: Optional[int]
    outcome: Optional[str]
    output: Optional[str]
    error_message: Optional[str]
    creation_time: int
    last_update_time: int
    execution_start_time: Optional[int]
    execution_finish_time: Optional[int]
    invocation_creation_time: int
