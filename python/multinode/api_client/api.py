"""Typed calls for the endpoints of docs/compatibility.md §2.4 that the package uses."""

from __future__ import annotations

import threading
import urllib.parse
from typing import Any, Mapping, Optional, cast

from multinode.api_client.http import HttpClient, timeout_from_env
from multinode.api_client.models import (
    ExecutionInfo,
    InvocationInfo,
    InvocationsListForFunction,
    ParentInvocationDefinition,
    VersionInfo,
)
from multinode.config import Config, load_config

LATEST_VERSION = "latest"
"""The version reference that names a project's newest version."""


def _q(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def _function_path(project_name: str, version_ref: str, function_name: str) -> str:
    return (
        f"/projects/{_q(project_name)}/versions/{_q(version_ref)}"
        f"/functions/{_q(function_name)}"
    )


class MultinodeApi:
    """The control plane's endpoints as methods; thread-safe like its :class:`HttpClient`."""

    def __init__(self, http: HttpClient) -> None:
        """Use ``http`` for every call."""
        self.http = http

    @classmethod
    def from_config(cls, config: Config, *, timeout: Optional[float] = None) -> MultinodeApi:
        """A client for ``config.api_url`` with ``config.api_key``."""
        return cls(HttpClient(config.api_url, config.api_key, timeout=timeout))

    def get_version(self, project_name: str, version_ref: str = LATEST_VERSION) -> VersionInfo:
        """``GET /projects/{p}/versions/{v}``; ``version_ref`` may be ``latest``."""
        path = f"/projects/{_q(project_name)}/versions/{_q(version_ref)}"
        return cast(VersionInfo, self.http.request("GET", path))

    def create_invocation(
        self,
        project_name: str,
        version_ref: str,
        function_name: str,
        input: str,
        parent_invocation: Optional[ParentInvocationDefinition] = None,
        options: Optional[Mapping[str, Any]] = None,
    ) -> InvocationInfo:
        """``POST {base}/invocations`` with ``{"parent_invocation", "input"}`` and the
        additive ``options`` (``priority``, ``start_at``, ``concurrency_key``,
        ``idempotency_key``; docs/compatibility.md, "Task semantics")."""
        body: dict[str, Any] = {
            "parent_invocation": dict(parent_invocation) if parent_invocation else None,
            "input": input,
        }
        body.update(options or {})
        path = _function_path(project_name, version_ref, function_name) + "/invocations"
        return cast(InvocationInfo, self.http.request("POST", path, body=body))

    def get_invocation(
        self,
        project_name: str,
        version_ref: str,
        function_name: str,
        invocation_id: str,
        wait_seconds: Optional[int] = None,
    ) -> InvocationInfo:
        """``GET {base}/invocations/{id}[?wait_seconds=N]``.

        :param wait_seconds: 1 to 60: the server answers once the invocation
            has finished, or after this many seconds (docs/events.md); the
            original control plane ignores it and answers at once
        """
        path = (
            _function_path(project_name, version_ref, function_name)
            + f"/invocations/{_q(invocation_id)}"
        )
        if not wait_seconds:
            return cast(InvocationInfo, self.http.request("GET", path))
        return cast(
            InvocationInfo,
            self.http.request(
                "GET",
                path,
                query={"wait_seconds": wait_seconds},
                timeout=max(self.http.timeout, wait_seconds + 15),
            ),
        )

    def get_invocation_by_id(self, invocation_id: str) -> InvocationInfo:
        """``GET /invocations/{id}`` (additive): the id alone; the answer names
        its project, version and function."""
        return cast(InvocationInfo, self.http.request("GET", f"/invocations/{_q(invocation_id)}"))

    def get_execution_by_id(self, execution_id: str) -> ExecutionInfo:
        """``GET /executions/{id}`` (additive): the id alone."""
        return cast(ExecutionInfo, self.http.request("GET", f"/executions/{_q(execution_id)}"))

    def cancel_invocation(
        self, project_name: str, version_ref: str, function_name: str, invocation_id: str
    ) -> InvocationInfo:
        """``PUT {base}/invocations/{id}/cancel``."""
        path = (
            _function_path(project_name, version_ref, function_name)
            + f"/invocations/{_q(invocation_id)}/cancel"
        )
        return cast(InvocationInfo, self.http.request("PUT", path))

    def list_invocations(
        self,
        project_name: str,
        version_ref: str,
        function_name: str,
        max_results: Optional[int] = None,
        initial_offset: Optional[str] = None,
    ) -> InvocationsListForFunction:
        """``GET {base}/invocations?max_results=&initial_offset=`` (newest first)."""
        path = _function_path(project_name, version_ref, function_name) + "/invocations"
        query = {"max_results": max_results, "initial_offset": initial_offset}
        return cast(InvocationsListForFunction, self.http.request("GET", path, query=query))

    def get_execution(
        self,
        project_name: str,
        version_ref: str,
        function_name: str,
        invocation_id: str,
        execution_id: str,
    ) -> ExecutionInfo:
        """``GET {base}/invocations/{iid}/executions/{eid}``."""
        path = (
            _function_path(project_name, version_ref, function_name)
            + f"/invocations/{_q(invocation_id)}/executions/{_q(execution_id)}"
        )
        return cast(ExecutionInfo, self.http.request("GET", path))

    def heartbeat_execution(
        self,
        project_name: str,
        version_ref: str,
        function_name: str,
        invocation_id: str,
        execution_id: str,
    ) -> ExecutionInfo:
        """``PUT {base}/invocations/{iid}/executions/{eid}/heartbeat`` (no body)."""
        path = (
            _function_path(project_name, version_ref, function_name)
            + f"/invocations/{_q(invocation_id)}/executions/{_q(execution_id)}/heartbeat"
        )
        return cast(ExecutionInfo, self.http.request("PUT", path))

    def update_execution(
        self,
        project_name: str,
        version_ref: str,
        function_name: str,
        invocation_id: str,
        execution_id: str,
        latest_output: str,
    ) -> ExecutionInfo:
        """``PUT {base}/invocations/{iid}/executions/{eid}/update`` with ``{"latest_output"}``."""
        path = (
            _function_path(project_name, version_ref, function_name)
            + f"/invocations/{_q(invocation_id)}/executions/{_q(execution_id)}/update"
        )
        body = {"latest_output": latest_output}
        return cast(ExecutionInfo, self.http.request("PUT", path, body=body))


_shared_lock = threading.Lock()
_shared: dict[tuple[str, str, float], MultinodeApi] = {}


def get_api(config: Optional[Config] = None) -> MultinodeApi:
    """The process-wide client for ``config`` (default: :func:`load_config`).

    Every :class:`~multinode.core.function.Function` of one configuration
    shares it, so they share one pool of keep-alive connections.
    """
    config = config or load_config()
    key = (config.api_url, config.api_key, timeout_from_env())
    with _shared_lock:
        api = _shared.get(key)
        if api is None:
            api = MultinodeApi(HttpClient(config.api_url, config.api_key, timeout=key[2]))
            _shared[key] = api
        return api
