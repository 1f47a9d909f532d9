"""Reaching a deployed function from outside its project (an application)."""

from __future__ import annotations

from typing import Optional

from multinode.api_client.api import LATEST_VERSION, get_api
from multinode.api_client.error_types import FunctionDoesNotExist
from multinode.config import load_config
from multinode.core.function import Function, FunctionSpec
from multinode.core.invocation import Invocation, derive_invocation


def get_deployed_function(
    project_name: str, function_name: str, version_id: Optional[str] = None
) -> Function:
    """The function ``function_name`` of a deployed project, pinned to a version.

    :param version_id: a version id; ``None`` means the project's latest
        version at the time of this call.  The returned Function always uses
        the concrete id the server resolved, so later deployments do not
        change what it invokes.
    :raises FunctionDoesNotExist: the version has no such function
    :raises ProjectDoesNotExist: the server knows no such project
    :raises VersionDoesNotExist: the project has no such version (or none)
    """
    api = get_api(load_config())
    version = api.get_version(project_name, version_id or LATEST_VERSION)
    for info in version.get("functions") or []:
        if info.get("function_name") != function_name:
            continue
        resources = info.get("resource_spec") or {}
        execution = info.get("execution_spec") or {}
        spec = FunctionSpec(
            function_name=function_name,
            virtual_cpus=float(resources.get("virtual_cpus", 0.0)),
            memory_gbs=float(resources.get("memory_gbs", 0.0)),
            max_concurrency=int(resources.get("max_concurrency", 0)),
            max_retries=int(execution.get("max_retries", 0)),
            timeout_seconds=int(execution.get("timeout_seconds", 0)),
            docker_image=info.get("docker_image"),
        )
        return Function(
            spec,
            project_name=version.get("project_name", project_name),
            version_id=version["version_id"],
            api=api,
        )
    raise FunctionDoesNotExist(
        f'Function "{function_name}" does not exist on version '
        f'"{version.get("version_id", version_id or LATEST_VERSION)}" of project "{project_name}".'
    )


def get_invocation(invocation_id: str) -> Invocation:
    """An invocation's status, result and error from its id alone, as
    Celery's ``AsyncResult(id)`` (``GET /invocations/{id}``).

    :raises InvocationDoesNotExist: no invocation with this id that the key
        may see
    """
    return derive_invocation(get_api(load_config()).get_invocation_by_id(invocation_id))
