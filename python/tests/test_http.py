"""The HTTP client: headers, error mapping, retries only on connection errors,
keep-alive reuse across threads, timeouts."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from conftest import RecordingServer, Request, Response
from multinode.api_client import error_types
from multinode.api_client.error_types import ERROR_TYPES, MultinodeApiException, resolve_error
from multinode.api_client.http import HttpClient
from multinode.errors import ApiConnectionError, ApiTimeoutError, ConfigurationError


def test_headers_and_json(server: RecordingServer) -> None:
    server.responder = lambda req: Response(200, {"echo": req.body})
    client = HttpClient(server.url + "/prefix/", "secret-key")
    got = client.request("POST", "/a/b", body={"x": "é"}, query={"q": "1 2", "none": None})
    assert got == {"echo": {"x": "é"}}
    (req,) = server.requests
    assert req.path == "/prefix/a/b"
    assert req.query == {"q": ["1 2"]}
    assert req.headers["Authorization"] == "Bearer secret-key"
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["Accept"] == "application/json"


def test_empty_answer_is_none_and_put_without_body(server: RecordingServer) -> None:
    server.responder = lambda req: Response(200, raw=b"")
    client = HttpClient(server.url, "k")
    assert client.request("PUT", "/x/cancel") is None
    assert server.requests[0].headers["Content-Length"] == "0"


@pytest.mark.parametrize("cls", ERROR_TYPES, ids=lambda c: c.__name__)
def test_each_catalogued_error_is_rebuilt(server: RecordingServer, cls: Any) -> None:
    server.responder = lambda req: Response(cls.STATUS, {"detail": cls.DETAIL})
    client = HttpClient(server.url, "k")
    with pytest.raises(cls) as info:
        client.request("GET", "/x")
    assert type(info.value) is cls
    assert info.value.status == cls.STATUS
    assert info.value.detail == cls.DETAIL
    assert str(info.value) == cls.DETAIL
    assert len(server.requests) == 1


def test_error_needs_both_status_and_detail() -> None:
    detail = error_types.InvocationDoesNotExist.DETAIL
    assert type(resolve_error(404, detail)) is error_types.InvocationDoesNotExist
    wrong_status = resolve_error(400, detail)
    assert type(wrong_status) is MultinodeApiException
    assert (wrong_status.status, wrong_status.detail) == (400, detail)
    other = resolve_error(403, "This key may not use project p")
    assert type(other) is MultinodeApiException and other.status == 403
    assert "This key may not use project p" in str(other)


def test_validation_errors_and_non_json_answers(server: RecordingServer) -> None:
    items = [{"loc": ["body", "input"], "msg": "field required", "type": "missing"}]
    server.responder = lambda req: Response(422, {"detail": items})
    client = HttpClient(server.url, "k")
    with pytest.raises(MultinodeApiException) as info:
        client.request("POST", "/x", body={})
    assert info.value.status == 422 and info.value.detail == items
    server.responder = lambda req: Response(422, {"detail": "bad max_results"})
    with pytest.raises(MultinodeApiException) as info:
        client.request("GET", "/x")
    assert info.value.detail == "bad max_results"
    server.responder = lambda req: Response(502, raw=b"Bad Gateway from a proxy")
    with pytest.raises(MultinodeApiException) as info:
        client.request("GET", "/x")
    assert info.value.status == 502 and info.value.detail == "Bad Gateway from a proxy"


def test_api_errors_pickle_with_their_fields() -> None:
    import pickle

    e = pickle.loads(pickle.dumps(error_types.FunctionDoesNotExist("custom text")))
    assert type(e) is error_types.FunctionDoesNotExist
    assert (e.status, e.detail, str(e)) == (404, "custom text", "custom text")


@pytest.mark.parametrize("status", [500, 503, 409])
def test_an_http_answer_is_never_retried(server: RecordingServer, status: int) -> None:
    server.responder = lambda req: Response(status, {"detail": "nope"})
    client = HttpClient(server.url, "k", backoff_seconds=0.001)
    with pytest.raises(MultinodeApiException):
        client.request("POST", "/x", body={})
    with pytest.raises(MultinodeApiException):
        client.request("GET", "/x")
    assert len(server.requests) == 2


def test_stale_keep_alive_connection_is_retried_even_for_post(server: RecordingServer) -> None:
    # The server answers, then silently closes the connection the client keeps.
    server.responder = lambda req: Response(200, {"n": len(server.requests)}, close_after=True)
    client = HttpClient(server.url, "k", backoff_seconds=0.001)
    assert client.request("GET", "/first") == {"n": 1}
    assert client.request("POST", "/create", body={"a": 1}) == {"n": 2}
    assert len(server.matching("POST", "/create")) == 1  # sent once, never duplicated
    assert client.connections_opened == 2


def test_dropped_request_on_a_fresh_connection(server: RecordingServer) -> None:
    # Closed before answering: a GET is retried, a POST is not (it may have been done).
    calls = {"n": 0}

    def responder(req: Request) -> Response:
        calls["n"] += 1
        return Response(drop=True) if calls["n"] == 1 else Response(200, {"ok": True})

    server.responder = responder
    client = HttpClient(server.url, "k", backoff_seconds=0.001)
    assert client.request("GET", "/x") == {"ok": True}
    assert len(server.requests) == 2

    server.responder = lambda req: Response(drop=True)
    with pytest.raises(ApiConnectionError):
        HttpClient(server.url, "k", backoff_seconds=0.001).request("POST", "/create", body={})
    assert len(server.matching("POST", "/create")) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_connection_refused_is_retried_then_reported() -> None:
    port = _free_port()
    client = HttpClient(f"http://127.0.0.1:{port}", "k", max_retries=2, backoff_seconds=0.01)
    started = time.monotonic()
    with pytest.raises(ApiConnectionError, match="cannot reach"):
        client.request("POST", "/x", body={})
    assert time.monotonic() - started < 2
    assert client.connections_opened == 3  # one attempt + two retries


def test_connection_refused_then_server_comes_up() -> None:
    port = _free_port()
    box: list[RecordingServer] = []

    def start_later() -> None:
        time.sleep(0.1)
        s = RecordingServer(port)
        s.responder = lambda req: Response(200, {"up": True})
        box.append(s)

    t = threading.Thread(target=start_later)
    t.start()
    client = HttpClient(f"http://127.0.0.1:{port}", "k", max_retries=8, backoff_seconds=0.02)
    try:
        assert client.request("GET", "/x") == {"up": True}
    finally:
        t.join()
        for s in box:
            s.close()
    assert client.connections_opened >= 2


def test_keep_alive_reuse_across_threads(server: RecordingServer) -> None:
    server.responder = lambda req: Response(200, {"path": req.path})
    client = HttpClient(server.url, "k")
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        try:
            barrier.wait()
            for j in range(20):
                assert client.request("GET", f"/t{i}/{j}") == {"path": f"/t{i}/{j}"}
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(server.requests) == 160
    ports = {r.client_port for r in server.requests}
    assert client.connections_opened <= 8
    assert len(ports) == client.connections_opened
    client.close()


def test_timeout_is_not_retried(server: RecordingServer) -> None:
    server.responder = lambda req: Response(200, {}, delay=1.0)
    client = HttpClient(server.url, "k", timeout=0.2)
    started = time.monotonic()
    with pytest.raises(ApiTimeoutError):
        client.request("GET", "/slow")
    assert time.monotonic() - started < 0.8
    assert len(server.requests) == 1
    with pytest.raises(TimeoutError):  # ApiTimeoutError is a TimeoutError
        client.request("GET", "/slow", timeout=0.1)


def test_timeout_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert HttpClient("http://127.0.0.1:1", "k").timeout == 30
    monkeypatch.setenv("MULTINODE_API_TIMEOUT", "2.5")
    assert HttpClient("http://127.0.0.1:1", "k").timeout == 2.5
    monkeypatch.setenv("MULTINODE_API_TIMEOUT", "soon")
    with pytest.raises(ConfigurationError, match="MULTINODE_API_TIMEOUT"):
        HttpClient("http://127.0.0.1:1", "k")


@pytest.mark.parametrize("url", ["ftp://host", "127.0.0.1:5000", "http://", "http://h:port"])
def test_invalid_urls(url: str) -> None:
    with pytest.raises(ConfigurationError):
        HttpClient(url, "k")


def test_https_uses_tls(server: RecordingServer) -> None:
    # A plain-HTTP server behind an https URL: the TLS handshake fails
    # clearly instead of sending the key in clear text.
    client = HttpClient(server.url.replace("http://", "https://"), "k", timeout=2)
    with pytest.raises(ApiConnectionError, match="TLS"):
        client.request("GET", "/x")
