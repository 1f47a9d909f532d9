"""Errors raised by the client on its own (and, re-exported, the API errors).

As in the original package, every class of
:mod:`multinode.api_client.error_types` can also be imported from here (for
instance ``from multinode.errors import FunctionDoesNotExist``).
"""

from __future__ import annotations

from multinode.api_client.error_types import (  # re-exported, as in the original
    MultinodeApiException as MultinodeApiException,
    ApiKeyIsInvalid as ApiKeyIsInvalid,
    OffsetIsInvalid as OffsetIsInvalid,
    ParentFunctionNameIsMissing as ParentFunctionNameIsMissing,
    ProjectNameIsTooLong as ProjectNameIsTooLong,
    ProjectIsBeingDeleted as ProjectIsBeingDeleted,
    ParentInvocationIdIsMissing as ParentInvocationIdIsMissing,
    ExecutionAlreadyExists as ExecutionAlreadyExists,
    ExecutionDoesNotExist as ExecutionDoesNotExist,
    ExecutionHasAlreadyStarted as ExecutionHasAlreadyStarted,
    ExecutionHasNotStarted as ExecutionHasNotStarted,
    ExecutionHasAlreadyFinished as ExecutionHasAlreadyFinished,
    ExecutionHasNotFinished as ExecutionHasNotFinished,
    ExecutionIsAlreadyTerminated as ExecutionIsAlreadyTerminated,
    InvocationAlreadyExists as InvocationAlreadyExists,
    InvocationDoesNotExist as InvocationDoesNotExist,
    InvocationIsAlreadyTerminated as InvocationIsAlreadyTerminated,
    ParentInvocationDoesNotExist as ParentInvocationDoesNotExist,
    FunctionAlreadyExists as FunctionAlreadyExists,
    FunctionDoesNotExist as FunctionDoesNotExist,
    VersionAlreadyExists as VersionAlreadyExists,
    VersionDoesNotExist as VersionDoesNotExist,
    ProjectAlreadyExists as ProjectAlreadyExists,
    ProjectDoesNotExist as ProjectDoesNotExist,
)


class InvalidUseError(Exception):
    """The package was used in a way it does not support.

    For instance: invoking a function made by ``@mn.function`` outside a
    worker (use ``get_deployed_function`` there), or ``call_local`` on a
    function obtained with ``get_deployed_function``.
    """


class MissingEnvironmentVariableError(Exception):
    """No API key was found in the environment or in the config file."""


class ConfigurationError(Exception):
    """The configuration (config file, ``MULTINODE_API_TIMEOUT``, ``.env``) is malformed."""


class ApiConnectionError(ConnectionError):
    """The control plane could not be reached (after the retries), or its
    connection broke while it answered."""


class ApiTimeoutError(TimeoutError):
    """An API call took longer than its timeout (``MULTINODE_API_TIMEOUT``, default 30 s)."""


class InvocationFailedError(Exception):
    """The awaited invocation FAILED; the message is its last error message."""


class InvocationTimedOutError(Exception):
    """The awaited invocation TIMED OUT; inside a task: the timeout has passed."""


class InvocationCancelledError(Exception):
    """The awaited invocation was CANCELLED; inside a task: a cancellation arrived."""


class AwaitResultTimeoutError(TimeoutError):
    """``await_result(..., timeout=...)`` gave up before the invocation finished.

    The invocation itself goes on; await it again or cancel it.
    """


class FunctionInputSizeLimitExceeded(Exception):
    """The encoded input has 250000 characters or more."""


class FunctionOutputSizeLimitExceeded(Exception):
    """The encoded output (a result or a progress value) has 250000 characters or more."""


class FunctionErrorMessageSizeLimitExceeded(Exception):
    """An error message has 16384 characters or more (kept for compatibility:
    the task runtime truncates long messages instead of raising this)."""


class ParameterValidationError(Exception):
    """An argument of ``@mn.function(...)`` is out of bounds or malformed."""


class InvalidInputError(ValueError):
    """A task's input is not the jsonpickle encoding of ``[args, kwargs]``."""


__all__ = [
    "InvalidUseError",
    "MissingEnvironmentVariableError",
    "ConfigurationError",
    "ApiConnectionError",
    "ApiTimeoutError",
    "InvocationFailedError",
    "InvocationTimedOutError",
    "InvocationCancelledError",
    "AwaitResultTimeoutError",
    "FunctionInputSizeLimitExceeded",
    "FunctionOutputSizeLimitExceeded",
    "FunctionErrorMessageSizeLimitExceeded",
    "ParameterValidationError",
    "InvalidInputError",
    "MultinodeApiException",
    "ApiKeyIsInvalid",
    "OffsetIsInvalid",
    "ParentFunctionNameIsMissing",
    "ProjectNameIsTooLong",
    "ProjectIsBeingDeleted",
    "ParentInvocationIdIsMissing",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "ExecutionHasAlreadyStarted",
    "ExecutionHasNotStarted",
    "ExecutionHasAlreadyFinished",
    "ExecutionHasNotFinished",
    "ExecutionIsAlreadyTerminated",
    "InvocationAlreadyExists",
    "InvocationDoesNotExist",
    "InvocationIsAlreadyTerminated",
    "ParentInvocationDoesNotExist",
    "FunctionAlreadyExists",
    "FunctionDoesNotExist",
    "VersionAlreadyExists",
    "VersionDoesNotExist",
    "ProjectAlreadyExists",
    "ProjectDoesNotExist",
]
