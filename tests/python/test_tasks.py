"""Python tasks on a real daemon (local provider, real workers): subtasks
with .map, generator progress, failures after every attempt, SIGTERM in
user code, and immutable versions. Each task that must be seen mid-run waits
for a gate file the test creates."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import ROOT, Daemon, wait_until, write_project

sys.path.insert(0, str(ROOT / "python"))

from multinode import get_deployed_function  # noqa: E402
from multinode.core.invocation import InvocationStatus  # noqa: E402
from multinode.errors import InvocationFailedError  # noqa: E402

TASKS = '''
import pathlib, time
from multinode import Multinode
from multinode.errors import InvocationCancelledError

mn = Multinode()
GATES = pathlib.Path("{gates}")

def wait_gate(name):
    while not (GATES / name).exists():
        time.sleep(0.02)

@mn.function(max_retries=1)
def fails(n):
    raise ValueError(f"boom {{n}}")

@mn.function()
def progress(name):
    yield "step 1"
    wait_gate(name)
    yield "step 2"

@mn.function()
def cleans_up(name):
    try:
        (GATES / (name + ".started")).touch()
        wait_gate(name)
        return "not cancelled"
    except InvocationCancelledError:
        yield "cleaned up"
'''


@pytest.fixture(scope="module")
def client_env(daemon: Daemon) -> Iterator[Daemon]:
    saved = {k: os.environ.get(k) for k in ("MULTINODE_API_URL", "MULTINODE_API_KEY", "HOME")}
    os.environ.update({"MULTINODE_API_URL": daemon.url, "MULTINODE_API_KEY": daemon.key,
                       "HOME": daemon.env["HOME"]})
    daemon.env.update({"MULTINODE_API_URL": daemon.url, "MULTINODE_API_KEY": daemon.key})
    try:
        yield daemon
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def tasks(client_env: Daemon) -> Path:
    gates = client_env.work / "gates"
    gates.mkdir(exist_ok=True)
    gates.chmod(0o1777)  # the tasks run as nobody (the local provider's default as root)
    folder = write_project(client_env.work / "tasks", TASKS.format(gates=gates))
    client_env.cli("deploy", str(folder), "--project-name", "semantics")
    return gates


def test_subtasks_with_map_fan_out_and_sum(client_env: Daemon) -> None:
    client_env.cli("deploy", str(ROOT / "examples" / "python" / "distributed"),
                   "--project-name", "distributed")
    fn = get_deployed_function(project_name="distributed", function_name="sum_of_squares")
    n = 12
    inv = fn.start(n=n)
    assert fn.await_result(inv, timeout=240) == sum(i * i for i in range(n))
    # every child ran on the same version with the parent recorded
    children = client_env.api(
        "GET", f"/projects/distributed/versions/{fn.version_id}/functions/square/invocations"
               f"?parent_function_name=sum_of_squares&parent_invocation_id={inv}&max_results=49")
    assert len(children["invocations"]) == n
    assert all(c["parent_invocation"]["invocation_id"] == inv for c in children["invocations"])


def test_generator_progress_is_a_partial_result(client_env: Daemon, tasks: Path) -> None:
    fn = get_deployed_function(project_name="semantics", function_name="progress")
    inv = fn.start("p1")
    partial = wait_until("the first progress", lambda: (lambda i: i if i.result else None)(
        fn.get(inv)))
    assert partial.status == InvocationStatus.RUNNING
    assert partial.result == "step 1"
    (tasks / "p1").touch()
    assert fn.await_result(inv, timeout=60) == "step 2"


def test_exception_message_after_every_attempt(client_env: Daemon, tasks: Path) -> None:
    fn = get_deployed_function(project_name="semantics", function_name="fails")
    inv = fn.start(7)
    with pytest.raises(InvocationFailedError) as e:
        fn.await_result(inv, timeout=60)
    assert "ValueError: boom 7" in str(e.value)
    got = wait_until("TERMINATED", lambda: (lambda i: i if i.terminated else None)(fn.get(inv)))
    assert got.status == InvocationStatus.FAILED
    assert got.error == "ValueError: boom 7"
    assert got.num_failed_attempts == 2  # max_retries=1: two attempts


def test_sigterm_reaches_user_code_as_cancelled_error(client_env: Daemon, tasks: Path) -> None:
    fn = get_deployed_function(project_name="semantics", function_name="cleans_up")
    inv = fn.start("c1")
    wait_until("the task to start", lambda: (tasks / "c1.started").exists())
    fn.cancel(inv)
    got = wait_until("TERMINATED", lambda: (lambda i: i if i.terminated else None)(fn.get(inv)))
    assert got.status == InvocationStatus.CANCELLED
    assert got.result == "cleaned up"  # the except clause ran and yielded
    raw: Any = client_env.invocation("semantics", "cleans_up", inv)
    assert raw["executions"][-1]["outcome"] == "ABORTED"


def test_a_version_is_unchanged_after_its_folder_is_edited(client_env: Daemon) -> None:
    src = 'from multinode import Multinode\nmn = Multinode()\n' \
          '@mn.function()\ndef which():\n    return "{tag}"\n'
    folder = write_project(client_env.work / "edited", src.format(tag="first"))
    v1 = client_env.cli("deploy", str(folder), "--project-name", "edited").stdout.strip()
    (folder / "main.py").write_text(src.format(tag="second"))
    first = get_deployed_function(project_name="edited", function_name="which", version_id=v1)
    assert first.call_remote() == "first"  # the edit did not reach version 1
    v2 = client_env.cli("upgrade", str(folder), "--project-name", "edited").stdout.strip()
    assert v2 != v1
    latest = get_deployed_function(project_name="edited", function_name="which")
    assert latest.call_remote() == "second"
    assert first.call_remote() == "first"
