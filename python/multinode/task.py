"""The task runtime: ``python3 -m multinode.task APP_DIR`` (or ``multinode-task APP_DIR``).

It is the command ``multinode-worker`` runs for a function written in
Python; ``multinode-worker`` owns ``/start`` and ``/finish``, forwards
signals and applies limits.  The runtime:

1. keeps a private copy of standard output for the result and points file
   descriptor 1 (so ``print()``, and any child process) at standard error;
2. reads the input, ``jsonpickle.encode([args, kwargs])``, from standard input
   (empty input: no arguments);
3. enters ``APP_DIR``, applies ``APP_DIR/.env`` (never overriding ``MULTINODE_*``
   variables already set), imports ``APP_DIR/main.py`` as ``main`` and finds
   its one ``Multinode`` and the function ``$MULTINODE_FUNCTION_NAME``;
4. calls the function.  A plain return value is written, jsonpickle-encoded,
   as the result.  A generator's every yield is sent at once as progress
   (``PUT …/update``) and the last one is the result (none if it yields
   nothing; its ``return`` value is ignored);
5. on an exception: prints the traceback, writes one JSON line
   ``{"error_message": "<Class>: <message>"}`` to ``$MULTINODE_REPORT_FD``
   (when set) and exits 1;
6. on SIGTERM (cancellation or timeout): raises, once, in the running code,
   ``InvocationTimedOutError`` if ``time.time() > $MULTINODE_TIMEOUT_AT``
   else ``InvocationCancelledError``.  Code that catches it may clean up,
   yield more progress and return: exit 0.  If it escapes, the runtime
   prints the traceback and dies of SIGTERM itself.

Outputs of 250000 characters or more raise ``FunctionOutputSizeLimitExceeded``.
"""

from __future__ import annotations

import inspect
import json
import os
import signal
import sys
import time
import traceback
from types import FrameType
from typing import Any, Generator, NoReturn, Optional, Sequence, Union

from multinode._envfile import load_env_file
from multinode._loader import load_app
from multinode._serialization import decode, encode
from multinode.api_client.api import MultinodeApi, get_api
from multinode.api_client.error_types import FunctionDoesNotExist
from multinode.errors import (
    FunctionOutputSizeLimitExceeded,
    InvalidInputError,
    InvalidUseError,
    InvocationCancelledError,
    InvocationTimedOutError,
)
from multinode.shared.parameter_bounds import ERROR_MESSAGE_LENGTH_LIMIT, OUTPUT_LENGTH_LIMIT
from multinode.shared.worker_environment_variables import (
    EXECUTION_ID_ENV,
    FUNCTION_NAME_ENV,
    INVOCATION_ID_ENV,
    PROJECT_NAME_ENV,
    REPORT_FD_ENV,
    TIMEOUT_AT_ENV,
    VERSION_ID_ENV,
)

USAGE = "usage: python3 -m multinode.task APP_DIR   (input on stdin, result on stdout)"

TerminationError = Union[InvocationCancelledError, InvocationTimedOutError]


def error_message(exc: BaseException) -> str:
    """``"<ExceptionClass>: <str(e)>"``, cut to fewer than 16384 characters
    with a marker saying how much was cut."""
    try:
        text = str(exc)
    except Exception:  # a broken __str__ must not hide the failure
        text = "<exception str() failed>"
    message = f"{type(exc).__name__}: {text}"
    message = message.encode("utf-8", "replace").decode("utf-8")
    limit = ERROR_MESSAGE_LENGTH_LIMIT - 1
    if len(message) <= limit:
        return message
    marker = f" … [truncated: {len(message)} characters in all]"
    return message[: limit - len(marker)] + marker


def encode_output(value: Any) -> str:
    """``jsonpickle.encode(value)``, checked against the output size limit.

    :raises FunctionOutputSizeLimitExceeded: 250000 characters or more
    """
    encoded = encode(value)
    if len(encoded) >= OUTPUT_LENGTH_LIMIT:
        raise FunctionOutputSizeLimitExceeded(
            f"Function output exceeds size limit: {len(encoded)} characters encoded "
            f"(must be fewer than {OUTPUT_LENGTH_LIMIT})"
        )
    return encoded


def decode_input(data: bytes) -> tuple[Sequence[Any], dict[str, Any]]:
    """The ``(args, kwargs)`` of a task's input (empty input: no arguments).

    :raises InvalidInputError: not the jsonpickle encoding of ``[args, kwargs]``
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidInputError(f"the input is not UTF-8 text: {e}") from e
    if not text.strip():
        return (), {}
    try:
        value = decode(text)
    except Exception as e:
        raise InvalidInputError(f"the input is not jsonpickle [args, kwargs]: {e}") from e
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not isinstance(value[0], (list, tuple))
        or not isinstance(value[1], dict)
        or not all(isinstance(k, str) for k in value[1])
    ):
        raise InvalidInputError(
            "the input must be jsonpickle.encode([args, kwargs]) "
            f"(as Function.start sends), got {text[:200]!r}"
        )
    return value[0], value[1]


class TaskRuntime:
    """One run of one execution's Python function (see the module's documentation)."""

    def __init__(self, app_dir: str) -> None:
        """Prepare to run the function of ``app_dir``."""
        self.app_dir = os.path.abspath(app_dir)
        self._result_fd: Optional[int] = None
        self._report_fd: Optional[int] = None
        self._armed = False
        self._signalled = False
        self._signal_exc: Optional[TerminationError] = None
        self._timeout_at: Optional[float] = None
        self._api: Optional[MultinodeApi] = None

    # -- set-up -----------------------------------------------------------

    def _redirect_stdout(self) -> None:
        sys.stdout.flush()
        try:
            self._result_fd = os.dup(1)  # not inherited by child processes
        except OSError:
            print("multinode.task: standard output is closed; the result is lost",
                  file=sys.stderr)
            self._result_fd = None
        os.dup2(2, 1)
        for stream in (sys.stdout, sys.stderr):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(line_buffering=True)

    def _read_environment(self) -> None:
        raw_fd = os.environ.pop(REPORT_FD_ENV, "").strip()
        if raw_fd:
            try:
                fd = int(raw_fd)
                os.fstat(fd)
                os.set_inheritable(fd, False)
                self._report_fd = fd
            except (ValueError, OSError) as e:
                print(f"multinode.task: ignoring {REPORT_FD_ENV}={raw_fd!r}: {e}",
                      file=sys.stderr)
        raw_deadline = os.environ.get(TIMEOUT_AT_ENV, "").strip()
        if raw_deadline:
            try:
                self._timeout_at = float(raw_deadline)
            except ValueError:
                print(f"multinode.task: ignoring {TIMEOUT_AT_ENV}={raw_deadline!r}",
                      file=sys.stderr)

    def _on_sigterm(self, signum: int, frame: Optional[FrameType]) -> None:
        first = not self._signalled
        self._signalled = True
        if not first or not self._armed:
            return
        exc: TerminationError
        if self._timeout_at is not None and time.time() > self._timeout_at:
            exc = InvocationTimedOutError("The invocation's timeout has passed.")
        else:
            exc = InvocationCancelledError("The invocation was cancelled.")
        self._signal_exc = exc
        raise exc

    # -- the run ----------------------------------------------------------

    def run(self) -> int:
        """Run the function; the process's exit status (0 or 1), unless it dies of SIGTERM."""
        self._redirect_stdout()
        self._read_environment()
        signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            self._armed = True
            result = self._run_function()
            self._armed = False
        except (InvocationCancelledError, InvocationTimedOutError) as e:
            self._armed = False
            if self._signalled:
                self._die_of_sigterm()
            return self._fail(e)
        except BaseException as e:
            self._armed = False
            return self._fail(e)
        if result is not None:
            self._write_result(result)
        return 0

    def _run_function(self) -> Optional[str]:
        stdin = sys.stdin.buffer.read() if sys.stdin is not None else b""
        args, kwargs = decode_input(stdin)
        os.chdir(self.app_dir)
        load_env_file(self.app_dir)
        _, mn = load_app(self.app_dir)
        name = os.environ.get(FUNCTION_NAME_ENV)
        if not name:
            raise InvalidUseError(f"{FUNCTION_NAME_ENV} is not set: which function should run?")
        function = mn._functions.get(name)
        if function is None or function.fn is None:
            raise FunctionDoesNotExist(
                f'Function "{name}" does not exist on version '
                f'"{os.environ.get(VERSION_ID_ENV, "")}" of project '
                f'"{os.environ.get(PROJECT_NAME_ENV, "")}".'
            )
        out = function.fn(*args, **kwargs)
        if inspect.isgenerator(out):
            return self._drain(out)
        return encode_output(out)

    def _drain(self, gen: Generator[Any, Any, Any]) -> Optional[str]:
        """Send every yielded value as progress; the last one's encoding.

        A cancellation that arrives while the runtime (not the generator) is
        running, for instance during an update, is thrown into the generator
        at its ``yield``, so the user's clean-up code sees it all the same.
        """
        last: Optional[str] = None
        pending: Optional[BaseException] = None
        while True:
            try:
                value = next(gen) if pending is None else gen.throw(pending)
            except StopIteration:
                return last
            pending = None
            try:
                encoded = encode_output(value)
                self._update(encoded)
                last = encoded
            except (InvocationCancelledError, InvocationTimedOutError) as e:
                if e is not self._signal_exc:
                    raise
                pending = e

    def _update(self, latest_output: str) -> None:
        ids = {}
        for name in (PROJECT_NAME_ENV, VERSION_ID_ENV, FUNCTION_NAME_ENV,
                     INVOCATION_ID_ENV, EXECUTION_ID_ENV):
            value = os.environ.get(name)
            if not value:
                raise InvalidUseError(f"{name} is not set: cannot report progress")
            ids[name] = value
        if self._api is None:
            self._api = get_api()
        self._api.update_execution(
            ids[PROJECT_NAME_ENV], ids[VERSION_ID_ENV], ids[FUNCTION_NAME_ENV],
            ids[INVOCATION_ID_ENV], ids[EXECUTION_ID_ENV], latest_output,
        )

    # -- endings ----------------------------------------------------------

    def _write_result(self, result: str) -> None:
        if self._result_fd is None:
            return
        data = result.encode("utf-8", "surrogateescape")
        view = memoryview(data)
        while view:
            written = os.write(self._result_fd, view)
            view = view[written:]
        os.close(self._result_fd)
        self._result_fd = None

    def _fail(self, exc: BaseException) -> int:
        traceback.print_exception(exc, file=sys.stderr)
        message = error_message(exc)
        if self._report_fd is not None:
            line = json.dumps({"error_message": message}) + "\n"
            try:
                view = memoryview(line.encode("ascii"))
                while view:
                    view = view[os.write(self._report_fd, view):]
            except OSError as e:
                print(f"multinode.task: cannot write the failure report: {e}", file=sys.stderr)
        sys.stderr.flush()
        return 1

    def _die_of_sigterm(self) -> NoReturn:
        traceback.print_exc(file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the signal is delivered before this ends
        os._exit(128 + signal.SIGTERM)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line: ``multinode-task APP_DIR``; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        return 0 if args[:1] in (["-h"], ["--help"]) else 2
    return TaskRuntime(args[0]).run()


if __name__ == "__main__":
    sys.exit(main())
