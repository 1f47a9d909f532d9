"""Function: input encoding, REST paths, parents, polling, map/starmap,
call_local and get_deployed_function, against the recording server."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any, Iterator, Optional

import pytest

from conftest import RecordingServer, Request, Response
from multinode import Multinode, get_deployed_function
from multinode._serialization import decode, encode
from multinode.api_client.api import MultinodeApi
from multinode.api_client.error_types import FunctionDoesNotExist, VersionDoesNotExist
from multinode.api_client.http import HttpClient
from multinode.core.function import Function, FunctionSpec, InvocationIdsList
from multinode.core.invocation import InvocationStatus
from multinode.errors import (
    AwaitResultTimeoutError,
    FunctionInputSizeLimitExceeded,
    InvalidUseError,
    InvocationCancelledError,
    InvocationFailedError,
    InvocationTimedOutError,
    ParameterValidationError,
)

SPEC = FunctionSpec("fn", 0.1, 0.25, 10, 0, 60)
BASE = "/projects/proj/versions/ver-1/functions/fn"


def make_function(server: RecordingServer, name: str = "fn", project: str = "proj") -> Function:
    spec = FunctionSpec(name, 0.1, 0.25, 10, 0, 60)
    api = MultinodeApi(HttpClient(server.url, "key"))
    return Function(spec, project_name=project, version_id="ver-1", api=api)


def invocation(inv_id: str, status: str = "RUNNING", executions: Optional[list[Any]] = None,
               **extra: Any) -> dict[str, Any]:
    doc = {
        "invocation_id": inv_id, "invocation_status": status, "creation_time": 1000,
        "last_update_time": 1001, "cancellation_request_time": None,
        "execution_spec": {"max_retries": 0, "timeout_seconds": 60},
        "executions": executions or [],
    }
    doc.update(extra)
    return doc


def execution(outcome: Optional[str], output: Any = None, error: Optional[str] = None,
              worker: str = "TERMINATED", start: Optional[int] = 1002,
              signal: Optional[int] = None) -> dict[str, Any]:
    return {
        "execution_id": "exe-1", "worker_status": worker, "outcome": outcome,
        "output": None if output is None else encode(output), "error_message": error,
        "termination_signal_time": signal, "creation_time": 1001, "last_update_time": 1003,
        "execution_start_time": start, "execution_finish_time": None,
    }


def test_start_sends_jsonpickle_args_and_kwargs(server: RecordingServer) -> None:
    server.responder = lambda req: Response(200, invocation("inv-1"))
    fn = make_function(server)
    assert fn.start(x=10000) == "inv-1"
    (req,) = server.requests
    assert (req.method, req.path) == ("POST", BASE + "/invocations")
    assert req.body == {"parent_invocation": None, "input": '[{"py/tuple": []}, {"x": 10000}]'}
    fn.start(1, "two", k=[3])
    assert decode(server.requests[1].body["input"]) == [(1, "two"), {"k": [3]}]


def test_path_segments_are_quoted(server: RecordingServer) -> None:
    server.responder = lambda req: Response(200, invocation("inv-1"))
    fn = make_function(server, name="f n", project="a/b?c")
    fn.get("inv/1")
    assert server.requests[0].path == (
        "/projects/a%2Fb%3Fc/versions/ver-1/functions/f%20n/invocations/inv%2F1"
    )


def test_input_size_uses_the_servers_rule(server: RecordingServer) -> None:
    server.responder = lambda req: Response(200, invocation("inv-1"))
    fn = make_function(server)
    overhead = len(encode([("",), {}]))
    fn.start("a" * (250000 - 1 - overhead))  # 249999 characters: accepted
    assert len(server.requests[0].body["input"]) == 249999
    with pytest.raises(FunctionInputSizeLimitExceeded, match="250000"):
        fn.start("a" * (250000 - overhead))  # exactly 250000: rejected before sending
    assert len(server.requests) == 1


def test_parent_invocation_from_the_worker_environment(
    server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.responder = lambda req: Response(200, invocation("inv-2"))
    monkeypatch.setenv("MULTINODE_FUNCTION_NAME", "parent_fn")
    monkeypatch.setenv("MULTINODE_INVOCATION_ID", "inv-parent")
    make_function(server).start()
    assert server.requests[0].body["parent_invocation"] == {
        "function_name": "parent_fn", "invocation_id": "inv-parent"
    }
    monkeypatch.delenv("MULTINODE_INVOCATION_ID")
    make_function(server).start()
    assert server.requests[1].body["parent_invocation"] is None


def test_decorated_function_outside_a_worker_is_invalid() -> None:
    mn = Multinode()

    @mn.function()
    def work() -> None:
        pass

    for call in (lambda: work.start(), lambda: work.get("i"), lambda: work.cancel("i"),
                 lambda: work.list(), lambda: work.call_remote(), lambda: list(work.map([1]))):
        with pytest.raises(InvalidUseError, match="get_deployed_function"):
            call()


def test_decorated_function_inside_a_worker(
    server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.responder = lambda req: Response(200, invocation("inv-child"))
    for name, value in {
        "MULTINODE_API_URL": server.url, "MULTINODE_API_KEY": "exe-key",
        "MULTINODE_PROJECT_NAME": "proj", "MULTINODE_VERSION_ID": "ver-9",
        "MULTINODE_FUNCTION_NAME": "outer", "MULTINODE_INVOCATION_ID": "inv-outer",
    }.items():
        monkeypatch.setenv(name, value)
    mn = Multinode()

    @mn.function()
    def inner(x: int) -> int:
        return x

    assert inner.start(5) == "inv-child"
    (req,) = server.requests
    assert req.path == "/projects/proj/versions/ver-9/functions/inner/invocations"
    assert req.headers["Authorization"] == "Bearer exe-key"
    assert req.body["parent_invocation"] == {"function_name": "outer", "invocation_id": "inv-outer"}


def test_get_cancel_list(server: RecordingServer) -> None:
    def responder(req: Request) -> Response:
        if req.path.endswith("/invocations") and req.method == "GET":
            return Response(200, {"invocations": [{"invocation_id": "inv-b"},
                                                  {"invocation_id": "inv-a"}],
                                  "next_offset": "1000,inv-0"})
        return Response(200, invocation("inv-a", executions=[
            execution(None, output="half", worker="RUNNING")]))

    server.responder = responder
    fn = make_function(server)
    inv = fn.get("inv-a")
    assert (inv.status, inv.result, inv.invocation_id) == (InvocationStatus.RUNNING, "half", "inv-a")
    fn.cancel("inv-a")
    assert (server.requests[-1].method, server.requests[-1].path) == (
        "PUT", BASE + "/invocations/inv-a/cancel")
    page = fn.list()
    assert page == InvocationIdsList(["inv-b", "inv-a"], "1000,inv-0")
    assert server.requests[-1].query == {}
    fn.list(offset="1000,inv-0")
    assert server.requests[-1].query == {"initial_offset": ["1000,inv-0"]}


class Scripted:
    """Answers GETs of one invocation with a script of documents (the last repeats)."""

    def __init__(self, *docs: dict[str, Any]) -> None:
        self.docs = list(docs)

    def __call__(self, req: Request) -> Response:
        doc = self.docs.pop(0) if len(self.docs) > 1 else self.docs[0]
        return Response(200, doc)


def test_await_result_polls_adaptively(server: RecordingServer) -> None:
    server.responder = Scripted(
        invocation("i"), invocation("i"),
        invocation("i", executions=[execution(None, worker="RUNNING")]),
        invocation("i", executions=[execution(None, worker="RUNNING")]),
        invocation("i", executions=[execution("SUCCEEDED", output={"v": 1})]),
    )
    assert make_function(server).await_result("i") == {"v": 1}
    times = [r.time for r in server.requests]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) == 4
    assert 0.04 <= gaps[0] < 0.5  # starts near 0.05 s, not at 1 s
    assert sum(gaps) < 1.5  # 0.05 + 0.075 + 0.1125 + 0.169 ≈ 0.41 s


@pytest.mark.parametrize("doc,exc,message", [
    (invocation("i", "TERMINATED", [execution("FAILED", error="ValueError: boom")]),
     InvocationFailedError, "ValueError: boom"),
    (invocation("i", "TERMINATED", [execution("ABORTED", signal=1010)]),
     InvocationCancelledError, "cancelled"),
    (invocation("i", "TERMINATED", [execution("ABORTED", signal=1061)]),
     InvocationTimedOutError, "timed out"),
    (invocation("i", "TERMINATED", last_update_time=1061), InvocationTimedOutError, "timed out"),
])
def test_await_result_raises_for_unsuccessful_ends(
    server: RecordingServer, doc: dict[str, Any], exc: type[Exception], message: str
) -> None:
    server.responder = Scripted(doc)
    with pytest.raises(exc, match=message):
        make_function(server).await_result("i")
    with pytest.raises(exc):
        make_function(server).call_remote()


def test_await_result_timeout(server: RecordingServer) -> None:
    server.responder = Scripted(invocation("i"))
    with pytest.raises(AwaitResultTimeoutError, match="has not finished") as info:
        make_function(server).await_result("i", timeout=0.2)
    assert isinstance(info.value, TimeoutError)


def test_succeeded_returns_before_termination(server: RecordingServer) -> None:
    server.responder = Scripted(invocation("i", "RUNNING", [
        execution("SUCCEEDED", output=[1, 2], worker="RUNNING")]))
    assert make_function(server).await_result("i") == [1, 2]


def test_starmap_starts_everything_first_then_yields_in_order(server: RecordingServer) -> None:
    lock = threading.Lock()
    inputs: dict[str, Any] = {}

    def responder(req: Request) -> Response:
        if req.method == "POST":
            with lock:
                inv_id = f"inv-{len(inputs)}"
                inputs[inv_id] = decode(req.body["input"])
            return Response(200, invocation(inv_id))
        inv_id = req.path.rsplit("/", 1)[1]
        args, _ = inputs[inv_id]
        return Response(200, invocation(inv_id, "TERMINATED", [
            execution("SUCCEEDED", output=sum(args))]))

    server.responder = responder
    fn = make_function(server)
    results = fn.starmap([(1, 2), (3, 4), (5, 6)])
    assert [r.method for r in server.requests] == ["POST"] * 3  # started before iterating
    assert list(results) == [3, 7, 11]
    assert list(fn.map([10, 20])) == [10, 20]
    methods = [r.method for r in server.requests[6:]]
    assert methods == ["POST", "POST", "GET", "GET"]


def test_call_local() -> None:
    mn = Multinode()

    @mn.function()
    def add(a: int, b: int = 1) -> int:
        return a + b

    @mn.function()
    def progress(n: int) -> Iterator[int]:
        yield from range(n)

    assert add.call_local(1, b=2) == 3
    assert progress.call_local(3) == 2
    assert progress.call_local(0) is None
    deployed = Function(SPEC, project_name="p", version_id="v")
    with pytest.raises(InvalidUseError, match="cannot be called locally"):
        deployed.call_local()


def test_get_deployed_function_pins_the_resolved_version(
    server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = {
        "project_name": "proj", "version_id": "ver-resolved", "creation_time": 1,
        "functions": [{
            "function_name": "fn", "docker_image": "img",
            "resource_spec": {"virtual_cpus": 1.0, "memory_gbs": 2.0, "max_concurrency": 5},
            "execution_spec": {"max_retries": 3, "timeout_seconds": 90},
            "function_status": "READY", "prepared_function_details": None,
        }],
    }

    def responder(req: Request) -> Response:
        if req.method == "GET" and "/functions/" not in req.path:
            return Response(200, version)
        return Response(200, invocation("inv-1"))

    server.responder = responder
    monkeypatch.setenv("MULTINODE_API_URL", server.url)
    monkeypatch.setenv("MULTINODE_API_KEY", "k")
    fn = get_deployed_function("proj", "fn")
    assert server.requests[0].path == "/projects/proj/versions/latest"
    assert (fn.project_name, fn.version_id) == ("proj", "ver-resolved")
    assert (fn.spec.max_retries, fn.spec.timeout_seconds, fn.spec.memory_gbs) == (3, 90, 2.0)
    fn.start()
    assert server.requests[-1].path == "/projects/proj/versions/ver-resolved/functions/fn/invocations"

    get_deployed_function("proj", "fn", version_id="ver-resolved")
    assert server.requests[-1].path == "/projects/proj/versions/ver-resolved"

    with pytest.raises(FunctionDoesNotExist, match='Function "other" does not exist') as info:
        get_deployed_function("proj", "other")
    assert info.value.status == 404

    server.responder = lambda req: Response(404, {"detail": VersionDoesNotExist.DETAIL})
    with pytest.raises(VersionDoesNotExist):
        get_deployed_function("proj", "fn")


def test_invocation_body_is_plain_json(server: RecordingServer) -> None:
    server.responder = lambda req: Response(200, invocation("inv-1"))
    make_function(server).start({"nested": (1, 2)})
    raw = server.requests[0].body
    assert set(raw) == {"parent_invocation", "input"}
    assert json.loads(raw["input"])[1] == {}


def test_with_options_never_mixes_with_the_functions_arguments(server: RecordingServer) -> None:
    server.responder = lambda req: Response(200, invocation("inv-1"))
    fn = make_function(server)
    keyed = fn.with_options(priority=10, concurrency_key="user-1", idempotency_key="once")
    keyed.start(3, priority="p", concurrency_key="k", _options="o")
    body = server.requests[0].body
    assert decode(body["input"]) == [(3,), {"priority": "p", "concurrency_key": "k",
                                            "_options": "o"}]
    assert (body["priority"], body["concurrency_key"], body["idempotency_key"]) == (
        10, "user-1", "once")
    fn.start(1)  # the original function is unchanged
    assert "priority" not in server.requests[1].body
    fn.with_options(start_at=1900000000.5).start()
    assert server.requests[2].body["start_at"] == 1900000000.5
    before = time.time()
    fn.with_options(delay=timedelta(seconds=30)).start()
    assert before + 30 <= server.requests[3].body["start_at"] <= time.time() + 30


@pytest.mark.parametrize("options", [
    {"priority": 101}, {"priority": True}, {"concurrency_key": ""},
    {"idempotency_key": "k" * 257}, {"start_at": 1, "delay": 1},
])
def test_with_options_refuses_bad_values(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidUseError):
        Function(SPEC, project_name="proj", version_id="ver-1").with_options(**options)


def test_heartbeat_inside_a_task(server: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import multinode

    server.responder = lambda req: Response(200, {})
    with pytest.raises(InvalidUseError, match="inside a task"):
        multinode.heartbeat()
    for name, value in [("MULTINODE_API_URL", server.url), ("MULTINODE_API_KEY", "key"),
                        ("MULTINODE_PROJECT_NAME", "proj"), ("MULTINODE_VERSION_ID", "ver-1"),
                        ("MULTINODE_FUNCTION_NAME", "fn"), ("MULTINODE_INVOCATION_ID", "inv-1"),
                        ("MULTINODE_EXECUTION_ID", "exe-1")]:
        monkeypatch.setenv(name, value)
    multinode.heartbeat()
    (req,) = server.requests
    assert (req.method, req.path) == ("PUT", BASE + "/invocations/inv-1/executions/exe-1/heartbeat")


def test_decorator_sends_the_task_semantics_fields() -> None:
    mn = Multinode()

    @mn.function(max_retries=3, max_concurrency_per_key=2, retry_delay=timedelta(seconds=1.5),
                 retry_backoff_factor=3, retry_max_delay=60, attempt_timeout=10,
                 queue_timeout=timedelta(minutes=5), heartbeat_timeout=30)
    def work() -> None:
        pass

    doc = work.spec.to_json()
    assert doc["resource_spec"]["max_concurrency_per_key"] == 2
    assert doc["execution_spec"] == {
        "max_retries": 3, "timeout_seconds": 3600, "retry_delay_seconds": 1.5,
        "retry_backoff_factor": 3.0, "retry_max_delay_seconds": 60.0,
        "attempt_timeout_seconds": 10, "queue_timeout_seconds": 300,
        "heartbeat_timeout_seconds": 30}

    @mn.function()
    def plain() -> None:
        pass

    assert plain.spec.to_json()["execution_spec"] == {"max_retries": 0, "timeout_seconds": 3600}
    for bad in [{"max_concurrency_per_key": 0}, {"retry_backoff_factor": 0.5},
                {"attempt_timeout": 0}, {"retry_delay": -1}, {"queue_timeout": "1"}]:
        with pytest.raises(ParameterValidationError):
            mn.function(**bad)  # type: ignore[arg-type]
