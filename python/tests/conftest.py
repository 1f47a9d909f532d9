"""Shared fixtures: a recording HTTP server on 127.0.0.1 and a clean environment."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator, Optional

import pytest

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(PYTHON_DIR)
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)


@dataclass
class Request:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    client_port: int
    time: float


@dataclass
class Response:
    """What the server answers; ``drop`` closes the connection without answering,
    ``close_after`` closes it silently after answering (a stale keep-alive)."""

    status: int = 200
    body: Any = field(default_factory=dict)
    drop: bool = False
    close_after: bool = False
    delay: float = 0.0
    raw: Optional[bytes] = None


Responder = Callable[[Request], Response]


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # 8 threads connecting at once must not overflow the backlog
    daemon_threads = True


class RecordingServer:
    """A threaded HTTP/1.1 server that records every request and answers
    through a replaceable ``responder``."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.responder: Responder = lambda req: Response()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                parsed = urllib.parse.urlsplit(self.path)
                req = Request(
                    self.command,
                    parsed.path,
                    urllib.parse.parse_qs(parsed.query),
                    {k: v for k, v in self.headers.items()},
                    body,
                    self.client_address[1],
                    time.monotonic(),
                )
                with server.lock:
                    server.requests.append(req)
                resp = server.responder(req)
                if resp.delay:
                    time.sleep(resp.delay)
                if resp.drop:
                    self.close_connection = True
                    return
                data = resp.raw if resp.raw is not None else json.dumps(resp.body).encode()
                self.send_response(resp.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
                if resp.close_after:
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.httpd = _Server(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def matching(self, method: str, suffix: str = "") -> list[Request]:
        """The recorded requests with this method whose path ends with ``suffix``."""
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path.endswith(suffix)]

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    """A running :class:`RecordingServer`."""
    s = RecordingServer()
    try:
        yield s
    finally:
        s.close()


WORKER_ENV = (
    "MULTINODE_API_URL",
    "MULTINODE_API_KEY",
    "MULTINODE_API_TIMEOUT",
    "MULTINODE_PROJECT_NAME",
    "MULTINODE_VERSION_ID",
    "MULTINODE_FUNCTION_NAME",
    "MULTINODE_INVOCATION_ID",
    "MULTINODE_EXECUTION_ID",
    "MULTINODE_TIMEOUT_AT",
    "MULTINODE_REPORT_FD",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No Multinode variables, and a HOME without a config file."""
    for name in WORKER_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
