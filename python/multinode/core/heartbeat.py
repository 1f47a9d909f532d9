"""``multinode.heartbeat()``: inside a running task, tell the control plane
the attempt is alive without storing progress (``heartbeat_timeout``)."""

from __future__ import annotations

import os

from multinode.api_client.api import get_api
from multinode.errors import InvalidUseError
from multinode.shared.worker_environment_variables import (
    EXECUTION_ID_ENV,
    FUNCTION_NAME_ENV,
    INVOCATION_ID_ENV,
    PROJECT_NAME_ENV,
    VERSION_ID_ENV,
)


def heartbeat() -> None:
    """``PUT …/executions/{id}/heartbeat`` for the running execution.

    A function with ``heartbeat_timeout`` calls it more often than that (a
    yielded progress value counts too); an attempt silent for longer fails
    and is retried.

    :raises InvalidUseError: not inside a Multinode task
    """
    ids = []
    for name in (PROJECT_NAME_ENV, VERSION_ID_ENV, FUNCTION_NAME_ENV, INVOCATION_ID_ENV,
                 EXECUTION_ID_ENV):
        value = os.environ.get(name)
        if not value:
            raise InvalidUseError(f"{name} is not set: heartbeat() runs inside a task only")
        ids.append(value)
    get_api().heartbeat_execution(*ids)
