"""Exceptions rebuilt from the control plane's error answers (docs/compatibility.md §2.2).

The server answers an error with a status code and a JSON body
``{"detail": ...}``.  :func:`resolve_error` matches **both** the status and the
detail string against the catalogue below and returns an instance of the
matching class; any other answer (for instance 403 for a key without the
needed scope, 422 with a list of validation errors, 500) becomes a plain
:class:`MultinodeApiException` carrying that status and detail.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Optional


class MultinodeApiException(Exception):
    """An error answer from the control plane.

    ``status`` is the HTTP status code (``None`` when the error was raised by
    the client itself) and ``detail`` the body's ``detail`` value: a string,
    or for validation errors (422) the list the server sent.
    """

    STATUS: ClassVar[Optional[int]] = None
    """The status code of this error in the catalogue (subclasses)."""
    DETAIL: ClassVar[Optional[str]] = None
    """The exact detail string of this error in the catalogue (subclasses)."""

    status: Optional[int]
    detail: Any

    def __init__(self, detail: Any = None, status: Optional[int] = None) -> None:
        """Build the error; both arguments default to the class's catalogue entry."""
        if detail is None:
            detail = self.DETAIL
        if status is None:
            status = self.STATUS
        self.status = status
        self.detail = detail
        super().__init__(_text(detail, status, type(self) is MultinodeApiException))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (and jsonpickle) support: rebuild with the same detail and status."""
        return (type(self), (self.detail, self.status))


def _text(detail: Any, status: Optional[int], generic: bool) -> str:
    text = detail if isinstance(detail, str) else json.dumps(detail)
    if generic and status is not None:
        return f"HTTP {status}: {text}"
    return text


class ApiKeyIsInvalid(MultinodeApiException):
    """403: The API key is invalid."""

    STATUS = 403
    DETAIL = "The API key is invalid"


class OffsetIsInvalid(MultinodeApiException):
    """400: The next offset is in an invalid format."""

    STATUS = 400
    DETAIL = "The next offset is in an invalid format"


class ParentFunctionNameIsMissing(MultinodeApiException):
    """400: The parent function name is missing."""

    STATUS = 400
    DETAIL = "The parent function name is missing"


class ProjectNameIsTooLong(MultinodeApiException):
    """400: The project name is too long."""

    STATUS = 400
    DETAIL = "The project name is too long"


class ProjectIsBeingDeleted(MultinodeApiException):
    """400: The project is being deleted."""

    STATUS = 400
    DETAIL = "The project is being deleted"


class ParentInvocationIdIsMissing(MultinodeApiException):
    """400: The parent invocation ID is missing."""

    STATUS = 400
    DETAIL = "The parent invocation ID is missing"


class ExecutionAlreadyExists(MultinodeApiException):
    """409: An execution with this ID already exists for this invocation."""

    STATUS = 409
    DETAIL = "An execution with this ID already exists for this invocation"


class ExecutionDoesNotExist(MultinodeApiException):
    """404: An execution with this ID does not exist for this invocation."""

    STATUS = 404
    DETAIL = "An execution with this ID does not exist for this invocation"


class ExecutionHasAlreadyStarted(MultinodeApiException):
    """409: This execution has already started."""

    STATUS = 409
    DETAIL = "This execution has already started"


class ExecutionHasNotStarted(MultinodeApiException):
    """409: This execution has not yet started."""

    STATUS = 409
    DETAIL = "This execution has not yet started"


class ExecutionHasAlreadyFinished(MultinodeApiException):
    """409: This execution has already finished."""

    STATUS = 409
    DETAIL = "This execution has already finished"


class ExecutionHasNotFinished(MultinodeApiException):
    """409: This execution has not yet finished."""

    STATUS = 409
    DETAIL = "This execution has not yet finished"


class ExecutionIsAlreadyTerminated(MultinodeApiException):
    """409: This execution has already terminated."""

    STATUS = 409
    DETAIL = "This execution has already terminated"


class InvocationAlreadyExists(MultinodeApiException):
    """409: An invocation with this ID already exists for this function."""

    STATUS = 409
    DETAIL = "An invocation with this ID already exists for this function"


class InvocationDoesNotExist(MultinodeApiException):
    """404: An invocation with this ID does not exist for this function."""

    STATUS = 404
    DETAIL = "An invocation with this ID does not exist for this function"


class InvocationIsAlreadyTerminated(MultinodeApiException):
    """409: This invocation has already terminated."""

    STATUS = 409
    DETAIL = "This invocation has already terminated"


class ParentInvocationDoesNotExist(MultinodeApiException):
    """400: The ID of the parent invocation is invalid."""

    STATUS = 400
    DETAIL = "The ID of the parent invocation is invalid"


class FunctionAlreadyExists(MultinodeApiException):
    """409: A function with this name already exists for this project version."""

    STATUS = 409
    DETAIL = "A function with this name already exists for this project version"


class FunctionDoesNotExist(MultinodeApiException):
    """404: A function with this name does not exist for this project version."""

    STATUS = 404
    DETAIL = "A function with this name does not exist for this project version"


class VersionAlreadyExists(MultinodeApiException):
    """409: A version with this ID already exists for this project."""

    STATUS = 409
    DETAIL = "A version with this ID already exists for this project"


class VersionDoesNotExist(MultinodeApiException):
    """404: A version with this ID does not exist for this project."""

    STATUS = 404
    DETAIL = "A version with this ID does not exist for this project"


class ProjectAlreadyExists(MultinodeApiException):
    """409: A project with this name already exists."""

    STATUS = 409
    DETAIL = "A project with this name already exists."


class ProjectDoesNotExist(MultinodeApiException):
    """404: A project with this name does not exist."""

    STATUS = 404
    DETAIL = "A project with this name does not exist"


ERROR_TYPES: tuple[type[MultinodeApiException], ...] = (
    ApiKeyIsInvalid,
    OffsetIsInvalid,
    ParentFunctionNameIsMissing,
    ProjectNameIsTooLong,
    ProjectIsBeingDeleted,
    ParentInvocationIdIsMissing,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionHasAlreadyStarted,
    ExecutionHasNotStarted,
    ExecutionHasAlreadyFinished,
    ExecutionHasNotFinished,
    ExecutionIsAlreadyTerminated,
    InvocationAlreadyExists,
    InvocationDoesNotExist,
    InvocationIsAlreadyTerminated,
    ParentInvocationDoesNotExist,
    FunctionAlreadyExists,
    FunctionDoesNotExist,
    VersionAlreadyExists,
    VersionDoesNotExist,
    ProjectAlreadyExists,
    ProjectDoesNotExist,
)
"""Every catalogued error, in the order of the table of docs/compatibility.md §2.2."""

_BY_STATUS_AND_DETAIL: dict[tuple[int, str], type[MultinodeApiException]] = {
    (cls.STATUS, cls.DETAIL): cls
    for cls in ERROR_TYPES
    if cls.STATUS is not None and cls.DETAIL is not None
}


def resolve_error(status: int, detail: Any) -> MultinodeApiException:
    """The exception for an error answer: the catalogued class whose status and
    detail both match, else a :class:`MultinodeApiException` with that detail."""
    if isinstance(detail, str):
        cls = _BY_STATUS_AND_DETAIL.get((status, detail))
        if cls is not None:
            return cls(detail, status)
    return MultinodeApiException(detail, status)


__all__ = ["ERROR_TYPES", "MultinodeApiException", "resolve_error"] + [
    cls.__name__ for cls in ERROR_TYPES
]
