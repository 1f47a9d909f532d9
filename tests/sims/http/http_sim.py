#!/usr/bin/env python3
"""A small HTTP/1.1 server (keep-alive) for the provider toolkit's client
(tests/unit/test_support_http.c). Prints "PORT <n>" once listening.

  GET  /status/<code>[?retry_after=<v>&error_type=<t>]  answers <code>, with
       Retry-After and x-amzn-ErrorType when asked, body {"code": <code>}
  GET  /bytes/<n>              n bytes of "x"
  GET  /slow/<ms>              answers after ms milliseconds
  POST /echo                   {"method", "body", "content_type"}
  GET  /_connections           how many connections were accepted so far
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

connections = 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        global connections
        with lock:
            connections += 1
        super().setup()

    def log_message(self, fmt, *args):
        pass

    def send(self, code, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urlparse(self.path)
        parts = u.path.strip("/").split("/")
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        if parts[0] == "status":
            headers = []
            if "retry_after" in q:
                headers.append(("Retry-After", q["retry_after"]))
            if "error_type" in q:
                headers.append(("x-amzn-ErrorType", q["error_type"]))
            return self.send(int(parts[1]), {"code": int(parts[1])}, headers)
        if parts[0] == "bytes":
            return self.send(200, b"x" * int(parts[1]))
        if parts[0] == "slow":
            time.sleep(int(parts[1]) / 1000)
            return self.send(200, {"slow": True})
        if parts[0] == "_connections":
            with lock:
                return self.send(200, {"connections": connections})
        return self.send(404, {"message": "no such path"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode()
        self.send(200, {"method": self.command, "body": body,
                        "content_type": self.headers.get("Content-Type")})

    do_PUT = do_POST
    do_PATCH = do_POST


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # a client that stops reading a streamed body closes its connection
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    print(f"PORT {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
