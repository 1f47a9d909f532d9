"""A small thread-safe JSON-over-HTTP client built on :mod:`http.client`.

- A pool of keep-alive connections shared by every thread (a web server
  calling the control plane from many threads at once reuses them).
- A timeout on every call, covering connecting, sending, waiting and reading,
  retries included: 30 s, or ``MULTINODE_API_TIMEOUT`` seconds.
- ``Authorization: Bearer <key>``, JSON bodies in and out.
- Retries (a few, with a short backoff) only when no answer was received:
  the connection could not be made (refused, reset, unreachable), or a
  kept-alive connection turned out to be closed by the server before it
  answered.  A request sent on a fresh connection that broke before any
  answer is retried only for idempotent methods (GET, PUT, DELETE), never for
  POST.  An HTTP answer, whatever its status, is never retried, and neither
  is a timeout.
- ``http://`` and ``https://`` URLs (https with :func:`ssl.create_default_context`).

An error answer raises the exception :func:`~multinode.api_client.error_types.resolve_error`
rebuilds from its status and ``detail``.
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import threading
import time
import urllib.parse
from typing import Any, Mapping, Optional, Union

from multinode._version import __version__
from multinode.api_client.error_types import MultinodeApiException, resolve_error
from multinode.errors import ApiConnectionError, ApiTimeoutError, ConfigurationError
from multinode.shared.worker_environment_variables import API_TIMEOUT_ENV

DEFAULT_TIMEOUT_SECONDS = 30.0
"""The timeout of a call when ``MULTINODE_API_TIMEOUT`` is not set."""

_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_NO_BODY = object()

Connection = Union[http.client.HTTPConnection, http.client.HTTPSConnection]


def timeout_from_env() -> float:
    """``MULTINODE_API_TIMEOUT`` as seconds, or the default (30).

    :raises ConfigurationError: the variable is set but not a positive number.
    """
    raw = os.environ.get(API_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (0 < value < float("inf")):
        raise ConfigurationError(
            f"{API_TIMEOUT_ENV}={raw!r}: expected a positive number of seconds"
        )
    return value


class _Retryable(Exception):
    """An attempt failed before any answer arrived, in a way that allows a retry."""

    def __init__(self, cause: BaseException, stale: bool) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.stale = stale


class HttpClient:
    """JSON calls to one control plane, safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        api_key: Optional[str],
        *,
        timeout: Optional[float] = None,
        max_retries: int = 3,
        backoff_seconds: float = 0.05,
        max_idle_connections: int = 16,
        max_idle_seconds: float = 20.0,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        """Prepare the client; nothing connects until the first call.

        :param base_url: ``http[s]://host[:port][/prefix]``
        :param api_key: sent as ``Authorization: Bearer <key>`` (``None``: no header)
        :param timeout: seconds per call; default ``MULTINODE_API_TIMEOUT`` or 30
        :param max_retries: retries after a connection error (not after an answer)
        :param backoff_seconds: the first pause between retries; it doubles
        :param max_idle_connections: idle keep-alive connections kept for reuse
        :param max_idle_seconds: an idle connection older than this is closed
            instead of reused (the daemon closes idle ones after 60 s)
        :param ssl_context: for https; default :func:`ssl.create_default_context`
        """
        parsed = urllib.parse.urlsplit(base_url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigurationError(
                f"invalid API URL {base_url!r}: expected http://host[:port] or https://host[:port]"
            )
        try:
            port = parsed.port
        except ValueError as e:
            raise ConfigurationError(f"invalid API URL {base_url!r}: {e}") from e
        self.base_url = base_url
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname
        self._port = port or (443 if self._https else 80)
        self._prefix = parsed.path.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout if timeout is not None else timeout_from_env()
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self._max_idle = max_idle_connections
        self._max_idle_seconds = max_idle_seconds
        self._ssl_context = ssl_context
        self._lock = threading.Lock()
        self._idle: list[tuple[Connection, float]] = []
        self.connections_opened = 0
        """How many connections this client has opened (for tests and metrics)."""

    # -- pool -------------------------------------------------------------

    def _new_connection(self) -> Connection:
        if self._https:
            if self._ssl_context is None:
                self._ssl_context = ssl.create_default_context()
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self.timeout, context=self._ssl_context
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def _acquire(self, fresh: bool) -> tuple[Connection, bool]:
        """A connection and whether it was reused from the pool."""
        expired: list[Connection] = []
        found: Optional[Connection] = None
        now = time.monotonic()
        with self._lock:
            while not fresh and self._idle:
                conn, since = self._idle.pop()
                if now - since <= self._max_idle_seconds:
                    found = conn
                    break
                expired.append(conn)
        for conn in expired:
            conn.close()
        if found is not None:
            return found, True
        return self._new_connection(), False

    def _release(self, conn: Connection) -> None:
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append((conn, time.monotonic()))
                return
        conn.close()

    def close(self) -> None:
        """Close the idle connections (connections in use close when released)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.close()

    def __enter__(self) -> HttpClient:
        """Use the client as a context manager that closes it at the end."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the idle connections."""
        self.close()

    # -- calls ------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Mapping[str, Any]] = None,
        body: Any = _NO_BODY,
        timeout: Optional[float] = None,
    ) -> Any:
        """Send one request and return the decoded JSON answer (``None`` if empty).

        :param method: ``GET``, ``POST``, ``PUT``, ``DELETE``
        :param path: the path, already URL-quoted, starting with ``/``
        :param query: query parameters; ``None`` values are left out
        :param body: a JSON-serialisable body (omit for none)
        :param timeout: seconds for this call instead of the client's timeout
        :raises MultinodeApiException: (or a subclass) for an error answer
        :raises ApiConnectionError: no answer could be obtained
        :raises ApiTimeoutError: the call took longer than its timeout
        """
        method = method.upper()
        target = self._prefix + path
        if query:
            items = [(k, str(v)) for k, v in query.items() if v is not None]
            if items:
                target += "?" + urllib.parse.urlencode(items)
        headers = {
            "Accept": "application/json",
            "User-Agent": f"multinode-python/{__version__}",
        }
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key}"
        payload: Optional[bytes] = None
        if body is not _NO_BODY:
            payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        elif method in ("POST", "PUT", "PATCH"):
            payload = b""
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit

        fresh = False
        retries = 0
        while True:
            try:
                status, reason, data = self._attempt(method, target, payload, headers, deadline, fresh)
                break
            except _Retryable as r:
                if retries >= self.max_retries:
                    raise ApiConnectionError(
                        f"{method} {self.base_url}{path}: cannot reach the control plane: {r.cause}"
                    ) from r.cause
                retries += 1
                fresh = True
                if r.stale:
                    # The others idle as long are likely closed too (a restart).
                    self.close()
                    continue
                pause = self.backoff_seconds * (2 ** (retries - 1))
                if time.monotonic() + pause >= deadline:
                    raise ApiTimeoutError(
                        f"{method} {self.base_url}{path}: no answer within {limit:g} s "
                        f"(last error: {r.cause})"
                    ) from r.cause
                time.sleep(pause)
            except TimeoutError as e:
                raise ApiTimeoutError(
                    f"{method} {self.base_url}{path}: no answer within {limit:g} s"
                ) from e
        return _decode_answer(status, reason, data)

    def _attempt(
        self,
        method: str,
        target: str,
        payload: Optional[bytes],
        headers: Mapping[str, str],
        deadline: float,
        fresh: bool,
    ) -> tuple[int, str, bytes]:
        conn, reused = self._acquire(fresh)
        phase = "connect"
        try:
            if conn.sock is None:
                conn.timeout = _remaining(deadline)
                with self._lock:
                    self.connections_opened += 1
                conn.connect()
            phase = "send"
            _set_timeout(conn, deadline)
            conn.request(method, target, body=payload, headers=dict(headers))
            phase = "wait"
            _set_timeout(conn, deadline)
            response = conn.getresponse()
            phase = "read"
            _set_timeout(conn, deadline)
            data = response.read()
            will_close = response.will_close
        except BaseException as e:
            conn.close()
            if isinstance(e, TimeoutError):
                raise
            if isinstance(e, ssl.SSLError):
                raise ApiConnectionError(
                    f"{method} {self.base_url}{target}: TLS failed: {e}"
                ) from e
            if phase == "connect" and isinstance(e, OSError):
                raise _Retryable(e, stale=False) from e
            if phase in ("send", "wait") and _is_disconnect(e):
                if reused:
                    raise _Retryable(e, stale=True) from e
                if method in _IDEMPOTENT:
                    raise _Retryable(e, stale=False) from e
            if isinstance(e, (OSError, http.client.HTTPException)):
                raise ApiConnectionError(
                    f"{method} {self.base_url}{target}: the connection failed: {e!r}"
                ) from e
            raise
        if will_close:
            conn.close()
        else:
            self._release(conn)
        return response.status, response.reason, data


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the call's deadline has passed")
    return left


def _set_timeout(conn: Connection, deadline: float) -> None:
    if conn.sock is not None:
        conn.sock.settimeout(_remaining(deadline))


def _is_disconnect(e: BaseException) -> bool:
    """The peer closed or reset the connection before answering."""
    return isinstance(
        e,
        (
            http.client.RemoteDisconnected,
            ConnectionResetError,
            ConnectionAbortedError,
            BrokenPipeError,
        ),
    )


def _decode_answer(status: int, reason: str, data: bytes) -> Any:
    text = data.decode("utf-8", errors="replace")
    if 200 <= status < 300:
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise MultinodeApiException(
                f"the control plane's answer is not JSON: {text[:200]!r}", status
            ) from None
    detail: Any = None
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and "detail" in doc:
        detail = doc["detail"]
    else:
        detail = text.strip()[:1000] or reason or f"HTTP {status}"
    raise resolve_error(status, detail)
