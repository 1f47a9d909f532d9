"""The task runtime, run as ``python3 -m multinode.task APP`` in a real subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pytest

from conftest import PYTHON_DIR, RecordingServer, Request, Response
from multinode._serialization import decode, encode
from multinode.task import error_message

APP_MAIN = '''
import json
import os
import pathlib
import time
import urllib.request

from multinode import Multinode
from multinode.errors import InvocationCancelledError, InvocationTimedOutError

print("importing main")
mn = Multinode()


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y


@mn.function()
def add(a, b=0):
    print("this goes to the log")
    os.system("echo child process output")
    return a + b


@mn.function()
def make_point(x, y):
    return Point(x, y)


@mn.function()
def count(n):
    for i in range(n):
        print(f"step {i}")
        yield i
    return "ignored"


@mn.function()
def probe():
    yield "first"
    with urllib.request.urlopen(os.environ["PROBE_URL"]) as r:
        yield json.load(r)["updates"]


@mn.function()
def nothing():
    return
    yield


@mn.function()
def boom():
    raise ValueError("boom")


@mn.function()
def long_error():
    raise RuntimeError("x" * 20000)


@mn.function()
def too_big():
    return "x" * 250000


def _ready():
    pathlib.Path(os.environ["READY_FILE"]).touch()


@mn.function()
def wait_forever():
    _ready()
    while True:
        time.sleep(0.02)


@mn.function()
def cleanup():
    yield "started"
    try:
        _ready()
        while True:
            time.sleep(0.02)
    except (InvocationCancelledError, InvocationTimedOutError) as e:
        yield f"cleaned up after {type(e).__name__}"


@mn.function()
def cleanup_at_yield():
    try:
        yield "started"
        while True:
            time.sleep(0.02)
    except InvocationCancelledError:
        yield "cleaned up at the yield"


@mn.function()
def fail_in_cleanup():
    try:
        _ready()
        while True:
            time.sleep(0.02)
    except InvocationCancelledError:
        raise KeyError("during clean-up")


@mn.function()
def env_values():
    names = ("FOO", "BAZ", "QUOTED", "MULTINODE_FUNCTION_NAME", "MULTINODE_REPORT_FD")
    values = {k: os.environ.get(k) for k in names}
    values["cwd"] = os.getcwd()
    return values


@mn.function()
def spawn_child(x):
    return child.start(x)


@mn.function()
def child(x):
    return x
'''


@dataclass
class Run:
    """A finished task process."""

    returncode: int
    stdout: str
    stderr: str
    report: str


class Task:
    """A running ``python3 -m multinode.task`` process with a report pipe."""

    def __init__(self, app: Path, function: str, input_text: str,
                 env: Optional[dict[str, str]] = None, report: bool = True) -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("MULTINODE_")}
        full_env.update({
            "PYTHONPATH": PYTHON_DIR,
            "MULTINODE_PROJECT_NAME": "proj", "MULTINODE_VERSION_ID": "ver-1",
            "MULTINODE_FUNCTION_NAME": function, "MULTINODE_INVOCATION_ID": "inv-1",
            "MULTINODE_EXECUTION_ID": "exe-1", "MULTINODE_API_KEY": "exe-key",
            "MULTINODE_API_URL": "http://127.0.0.1:9",
        })
        full_env.update(env or {})
        self.report_r: Optional[int] = None
        pass_fds: tuple[int, ...] = ()
        if report:
            self.report_r, w = os.pipe()
            full_env["MULTINODE_REPORT_FD"] = str(w)
            pass_fds = (w,)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "multinode.task", str(app)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=full_env, pass_fds=pass_fds, cwd="/",
        )
        if report:
            os.close(w)
        assert self.proc.stdin is not None
        self.proc.stdin.write(input_text.encode())
        self.proc.stdin.close()
        self.proc.stdin = None

    def finish(self, timeout: float = 20) -> Run:
        out, err = self.proc.communicate(timeout=timeout)
        report = ""
        if self.report_r is not None:
            with os.fdopen(self.report_r, "rb") as f:
                report = f.read().decode()
        return Run(self.proc.returncode, out.decode(), err.decode(), report)


def args(*a: object, **kw: object) -> str:
    return encode([a, kw])


@pytest.fixture
def app(tmp_path: Path) -> Path:
    d = tmp_path / "app"
    d.mkdir()
    (d / "main.py").write_text(APP_MAIN)
    return d


def wait_for(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


UPDATE_PATH = re.compile(
    r"/projects/proj/versions/ver-1/functions/\w+/invocations/inv-1/executions/exe-1/update")


def updates(server: RecordingServer) -> list[object]:
    """The decoded progress values the runtime sent, in order."""
    reqs = server.matching("PUT", "/update")
    for r in reqs:
        assert UPDATE_PATH.fullmatch(r.path), r.path
    return [decode(r.body["latest_output"]) for r in reqs]


def test_plain_result_on_stdout_prints_on_stderr(app: Path) -> None:
    run = Task(app, "add", args(2, b=3)).finish()
    assert run.returncode == 0, run.stderr
    assert run.stdout == "5"
    assert "importing main" in run.stderr
    assert "this goes to the log" in run.stderr
    assert "child process output" in run.stderr
    assert run.report == ""


def test_objects_of_main_travel_as_main_classes(app: Path) -> None:
    run = Task(app, "make_point", args(1, 2)).finish()
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"py/object": "main.Point", "x": 1, "y": 2}


def test_generator_sends_each_yield_and_ends_with_the_last(
    app: Path, server: RecordingServer
) -> None:
    run = Task(app, "count", args(3), env={"MULTINODE_API_URL": server.url}).finish()
    assert run.returncode == 0, run.stderr
    assert updates(server) == [0, 1, 2]
    assert run.stdout == "2"
    assert all(r.headers["Authorization"] == "Bearer exe-key" for r in server.requests)


def test_progress_is_sent_before_the_generator_resumes(
    app: Path, server: RecordingServer
) -> None:
    def responder(req: Request) -> Response:
        if req.path == "/probe":
            return Response(200, {"updates": len(server.matching("PUT", "/update"))})
        return Response(200, {})

    server.responder = responder
    env = {"MULTINODE_API_URL": server.url, "PROBE_URL": server.url + "/probe"}
    run = Task(app, "probe", "", env=env).finish()
    assert run.returncode == 0, run.stderr
    assert updates(server) == ["first", 1]


def test_generator_without_yield_has_no_result(app: Path) -> None:
    run = Task(app, "nothing", args()).finish()
    assert (run.returncode, run.stdout) == (0, "")


def test_exception_is_reported_and_exits_1(app: Path) -> None:
    run = Task(app, "boom", args()).finish()
    assert run.returncode == 1
    assert run.stdout == ""
    assert json.loads(run.report) == {"error_message": "ValueError: boom"}
    assert run.report.count("\n") == 1
    assert "Traceback" in run.stderr and "ValueError: boom" in run.stderr


def test_exception_without_report_fd(app: Path) -> None:
    run = Task(app, "boom", args(), report=False).finish()
    assert run.returncode == 1
    assert "ValueError: boom" in run.stderr


def test_long_error_messages_are_truncated(app: Path) -> None:
    run = Task(app, "long_error", args()).finish()
    assert run.returncode == 1
    message = json.loads(run.report)["error_message"]
    assert message.startswith("RuntimeError: xxx")
    assert len(message) < 16384
    assert "truncated" in message


def test_error_message_function() -> None:
    assert error_message(ValueError("boom")) == "ValueError: boom"
    assert len(error_message(ValueError("é" * 30000))) == 16383


def test_output_size_limit(app: Path) -> None:
    run = Task(app, "too_big", args()).finish()
    assert run.returncode == 1
    assert json.loads(run.report)["error_message"].startswith(
        "FunctionOutputSizeLimitExceeded: Function output exceeds size limit")


def test_sigterm_uncaught_dies_of_sigterm(app: Path, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    task = Task(app, "wait_forever", args(), env={"READY_FILE": str(ready)})
    wait_for(ready.exists, "the function to start")
    task.proc.send_signal(signal.SIGTERM)
    run = task.finish()
    assert run.returncode == -signal.SIGTERM
    assert "InvocationCancelledError" in run.stderr
    assert run.stdout == "" and run.report == ""


@pytest.mark.parametrize("timeout_at,expected", [
    (lambda: time.time() + 3600, "InvocationCancelledError"),
    (lambda: time.time() - 1, "InvocationTimedOutError"),
])
def test_sigterm_caught_cleans_up_and_exits_0(
    app: Path, tmp_path: Path, server: RecordingServer, timeout_at: Callable[[], float],
    expected: str,
) -> None:
    ready = tmp_path / "ready"
    env = {"READY_FILE": str(ready), "MULTINODE_API_URL": server.url,
           "MULTINODE_TIMEOUT_AT": f"{timeout_at():.3f}"}
    task = Task(app, "cleanup", args(), env=env)
    wait_for(ready.exists, "the function to start")
    task.proc.send_signal(signal.SIGTERM)
    run = task.finish()
    assert run.returncode == 0, run.stderr
    assert updates(server) == ["started", f"cleaned up after {expected}"]
    assert decode(run.stdout) == f"cleaned up after {expected}"


def test_sigterm_during_a_progress_update_reaches_the_generator(
    app: Path, server: RecordingServer
) -> None:
    # The signal arrives while the runtime (not user code) waits for /update:
    # it is thrown into the generator at its yield.
    def responder(req: Request) -> Response:
        first = len(server.matching("PUT", "/update")) == 1
        return Response(200, {}, delay=1.0 if first else 0.0)

    server.responder = responder
    task = Task(app, "cleanup_at_yield", args(), env={"MULTINODE_API_URL": server.url})
    wait_for(lambda: server.matching("PUT", "/update"), "the first update")
    task.proc.send_signal(signal.SIGTERM)
    run = task.finish()
    assert run.returncode == 0, run.stderr
    assert updates(server) == ["started", "cleaned up at the yield"]
    assert decode(run.stdout) == "cleaned up at the yield"


def test_other_exception_during_cleanup_is_a_failure(app: Path, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    task = Task(app, "fail_in_cleanup", args(), env={"READY_FILE": str(ready)})
    wait_for(ready.exists, "the function to start")
    task.proc.send_signal(signal.SIGTERM)
    run = task.finish()
    assert run.returncode == 1
    assert json.loads(run.report) == {"error_message": "KeyError: 'during clean-up'"}


def test_env_file_is_loaded_without_overriding_multinode_variables(app: Path) -> None:
    (app / ".env").write_text(textwrap.dedent("""\
        # comment

        FOO=bar
        export BAZ = qux
        QUOTED="a # b"
        MULTINODE_FUNCTION_NAME=boom
    """))
    run = Task(app, "env_values", args()).finish()
    assert run.returncode == 0, run.stderr
    assert decode(run.stdout) == {
        "FOO": "bar", "BAZ": "qux", "QUOTED": "a # b",
        "MULTINODE_FUNCTION_NAME": "env_values", "MULTINODE_REPORT_FD": None,
        "cwd": str(app),
    }


def test_malformed_env_file_fails(app: Path) -> None:
    (app / ".env").write_text("FOO=bar\nnot a pair\n")
    run = Task(app, "add", args(1)).finish()
    assert run.returncode == 1
    assert json.loads(run.report)["error_message"] == (
        f"ConfigurationError: {app}/.env:2: expected KEY=VALUE, got 'not a pair'")


def test_missing_function(app: Path) -> None:
    run = Task(app, "nope", args()).finish()
    assert run.returncode == 1
    assert json.loads(run.report)["error_message"] == (
        'FunctionDoesNotExist: Function "nope" does not exist on version "ver-1" '
        'of project "proj".')


def test_invalid_input(app: Path) -> None:
    run = Task(app, "add", "42").finish()
    assert run.returncode == 1
    assert json.loads(run.report)["error_message"].startswith(
        "InvalidInputError: the input must be jsonpickle.encode([args, kwargs])")


def test_import_errors_fail(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "main.py").write_text("import helper\n")
    (broken / "helper.py").write_text("x = 1 / 0\n")
    run = Task(broken, "f", args()).finish()
    assert run.returncode == 1
    assert json.loads(run.report) == {"error_message": "ZeroDivisionError: division by zero"}
    assert "helper.py" in run.stderr

    two = tmp_path / "two"
    two.mkdir()
    (two / "main.py").write_text("from multinode import Multinode\na = Multinode()\nb = Multinode()\n")
    run = Task(two, "f", args()).finish()
    assert json.loads(run.report)["error_message"].startswith(
        "ImportError: Found more than one Multinode object")


def test_subtask_names_the_running_invocation_as_parent(
    app: Path, server: RecordingServer
) -> None:
    server.responder = lambda req: Response(200, {"invocation_id": "inv-child"})
    run = Task(app, "spawn_child", args(7), env={"MULTINODE_API_URL": server.url}).finish()
    assert run.returncode == 0, run.stderr
    assert decode(run.stdout) == "inv-child"
    (req,) = server.matching("POST")
    assert req.path == "/projects/proj/versions/ver-1/functions/child/invocations"
    assert req.body == {
        "parent_invocation": {"function_name": "spawn_child", "invocation_id": "inv-1"},
        "input": args(7),
    }


def test_usage() -> None:
    run = subprocess.run([sys.executable, "-m", "multinode.task"], capture_output=True,
                         env={**os.environ, "PYTHONPATH": PYTHON_DIR})
    assert run.returncode == 2 and b"usage" in run.stderr
