#!/usr/bin/python3
"""A simulator of the made-up "compute API" the template provider
(plugins/template) is written against. It stands for whatever a new
provider talks to (Nomad, Cloud Run, ...): named workers that run a command,
a status, a stop with a grace period, a delete, logs read by line offset, a
list by owner tag, and a long-polled event feed. Every worker is a real
local process: --entrypoint + the profile's command, with the profile's and
the worker's environment, its standard output and error as its log.

The API (JSON bodies; errors are {"message": ...}; with --token-file every
call needs "Authorization: Bearer <token>", else 401):

  PUT    /v1/profiles/NAME      {image, command, env, cpus, memory_mb}  200
         (400: no machine size fits, a bad image reference)
  POST   /v1/workers            {name, profile, env, secret_env, tags}  201
         (409: a worker of that name exists; 400: unknown profile;
          507: --max-workers are running)
  GET    /v1/workers/NAME       the worker: {name, status (pending, running,
                                exited), exit_code, reason, tags,
                                env_names, secret_env_names}  (404)
  GET    /v1/workers?owner=O[&names=A,B][&page=N]
                                {workers: [...], next_page: N or null}
                                (--page-size workers a page, 100)
  POST   /v1/workers/NAME/stop  {grace_seconds}  202: SIGTERM, SIGKILL later
  DELETE /v1/workers/NAME       204 (the log is kept)
  GET    /v1/workers/NAME/logs?offset=N&limit=M
                                {lines, next_offset}  (400: offset past the end)
  GET    /v1/events?owner=O&after=SEQ&wait_ms=MS
                                {events: [{seq, worker, status}], last_seq}:
                                answers as soon as an event after SEQ exists,
                                else after MS
  GET    /v1/registry           {repository, username, password, endpoint}

Control (no auth), for tests:
  POST /_sim/faults {"match": "POST /v1/workers", "status": 429,
                     "retry_after": "1", "count": 2}
        the next `count` calls whose "METHOD /path" starts with match answer
        status (with Retry-After when given)
  GET  /_sim/counters   {calls: {"METHOD /v1/...": n}, connections, faults_served,
                         workers_started}
  GET  /_sim/workers    every worker ever created (deleted ones flagged),
                        with the names of its environment, never secret values
  POST /_sim/kill {"execution_id": E}  SIGKILL the worker of execution E

Usage: compute_sim.py --port-file F --entrypoint PATH [--path-prepend DIR]
       [--token-file F] [--max-workers N] [--pending-ms MS] [--page-size N]"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
IMAGE_RE = re.compile(r"^[A-Za-z0-9._/:@-]{1,255}$")
MAX_CPUS, MAX_MEMORY_MB = 8, 16384


class ApiError(Exception):
    def __init__(self, status, message, headers=()):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


class Worker:
    def __init__(self, name, profile, env, secret_env, tags):
        self.name, self.profile, self.tags = name, profile, tags
        self.env, self.secret_env = env, secret_env
        self.status, self.exit_code, self.reason = "pending", None, ""
        self.proc, self.deleted, self.stopping = None, False, False
        self.log = []

    def view(self):
        return {"name": self.name, "profile": self.profile["name"], "status": self.status,
                "exit_code": self.exit_code, "reason": self.reason, "tags": self.tags,
                "env_names": sorted(self.env), "secret_env_names": sorted(self.secret_env)}

    def signal(self, sig):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass


class Sim:
    def __init__(self, args):
        self.args = args
        self.token = None
        if args.token_file:
            with open(args.token_file) as f:
                self.token = f.read().strip()
        self.lock = threading.Condition()
        self.profiles, self.workers, self.events = {}, {}, []
        self.calls, self.connections, self.faults_served, self.started = {}, 0, 0, 0
        self.faults = []
        self.base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                         "HOME": os.environ.get("HOME", "/root")}
        if args.path_prepend:
            self.base_env["PATH"] = args.path_prepend + ":" + self.base_env["PATH"]

    # -- events and processes ---------------------------------------------
    def set_status(self, w, status):  # with self.lock held
        w.status = status
        self.events.append({"seq": len(self.events) + 1, "worker": w.name, "status": status,
                            "owner": w.tags.get("owner")})
        self.lock.notify_all()

    def run(self, w):
        if self.args.pending_ms:
            time.sleep(self.args.pending_ms / 1000.0)
        env = dict(self.base_env)
        env.update(w.profile["env"])
        env.update(w.env)
        env.update(w.secret_env)
        with self.lock:
            if w.stopping or w.deleted:
                w.exit_code, w.reason = 143, "stopped before it started"
                self.set_status(w, "exited")
                return
            try:
                w.proc = subprocess.Popen(
                    [self.args.entrypoint] + list(w.profile["command"] or []), env=env,
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                    start_new_session=True, close_fds=True)
            except OSError as e:
                w.exit_code, w.reason = 127, "cannot start: %s" % e
                self.set_status(w, "exited")
                return
            self.started += 1
            self.set_status(w, "running")
        for raw in w.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.lock:
                w.log.append(line)
        rc = w.proc.wait()
        w.signal(signal.SIGKILL)  # the worker's other processes end with it
        with self.lock:
            w.exit_code = rc if rc >= 0 else 128 - rc
            if not w.reason:
                w.reason = "killed" if rc == -signal.SIGKILL else ""
            self.set_status(w, "exited")

    def stop(self, w, grace):
        with self.lock:
            if w.status == "exited" or w.stopping:
                return
            w.stopping, w.reason = True, "stopped"
        w.signal(signal.SIGTERM)

        def kill_later():
            deadline = time.time() + grace
            while time.time() < deadline and w.status != "exited":
                time.sleep(0.05)
            if w.status != "exited":
                w.signal(signal.SIGKILL)

        threading.Thread(target=kill_later, daemon=True).start()

    # -- the API ----------------------------------------------------------
    def live(self, name):
        w = self.workers.get(name)
        if w is None or w.deleted:
            raise ApiError(404, "no worker named %s" % name)
        return w

    def put_profile(self, name, b):
        if not NAME_RE.match(name):
            raise ApiError(400, "profile name %r: 1 to 40 of a-z 0-9 -" % name)
        if b.get("image") and not IMAGE_RE.match(b["image"]):
            raise ApiError(400, "image %r is not a valid reference" % b["image"])
        cpus, mem = float(b.get("cpus") or 1), int(b.get("memory_mb") or 512)
        if cpus > MAX_CPUS or mem > MAX_MEMORY_MB:
            raise ApiError(400, "no machine size fits %g cpus and %d MB (at most %d cpus, %d MB)"
                           % (cpus, mem, MAX_CPUS, MAX_MEMORY_MB))
        with self.lock:
            self.profiles[name] = {"name": name, "image": b.get("image"),
                                   "command": b.get("command"), "env": dict(b.get("env") or {}),
                                   "cpus": cpus, "memory_mb": mem}
        return 200, {"name": name}

    def create_worker(self, b):
        name = b.get("name") or ""
        if not NAME_RE.match(name):
            raise ApiError(400, "worker name %r: 1 to 40 of a-z 0-9 -" % name)
        with self.lock:
            if name in self.workers:
                raise ApiError(409, "a worker named %s exists" % name)
            profile = self.profiles.get(b.get("profile") or "")
            if profile is None:
                raise ApiError(400, "no profile named %r" % b.get("profile"))
            running = sum(1 for w in self.workers.values() if w.status != "exited")
            if self.args.max_workers and running >= self.args.max_workers:
                raise ApiError(507, "no capacity: %d workers are running" % running)
            w = Worker(name, profile, dict(b.get("env") or {}), dict(b.get("secret_env") or {}),
                       dict(b.get("tags") or {}))
            self.workers[name] = w
            self.set_status(w, "pending")
        threading.Thread(target=self.run, args=(w,), daemon=True).start()
        return 201, w.view()

    def list_workers(self, q):
        owner, names = q.get("owner"), q.get("names")
        names = set(names.split(",")) if names else None
        page, size = int(q.get("page") or 0), self.args.page_size
        with self.lock:
            found = [w.view() for w in self.workers.values() if not w.deleted and
                     (owner is None or w.tags.get("owner") == owner) and
                     (names is None or w.name in names)]
        found.sort(key=lambda v: v["name"])
        more = len(found) > (page + 1) * size
        return 200, {"workers": found[page * size:(page + 1) * size],
                     "next_page": page + 1 if more else None}

    def logs(self, name, q):
        with self.lock:
            w = self.workers.get(name)
            if w is None:
                raise ApiError(404, "no log of a worker named %s" % name)
            offset, limit = int(q.get("offset") or 0), int(q.get("limit") or 100)
            if offset < 0 or offset > len(w.log):
                raise ApiError(400, "offset %d is past the end of the log (%d lines)"
                               % (offset, len(w.log)))
            lines = w.log[offset:offset + max(limit, 0)]
        return 200, {"lines": lines, "next_offset": offset + len(lines)}

    def wait_events(self, q):
        owner, after = q.get("owner"), int(q.get("after") or 0)
        deadline = time.time() + min(int(q.get("wait_ms") or 0), 60000) / 1000.0
        with self.lock:
            while True:
                evs = [{k: e[k] for k in ("seq", "worker", "status")}
                       for e in self.events[max(after, 0):] if e["owner"] == owner]
                left = deadline - time.time()
                if evs or left <= 0:
                    return 200, {"events": evs, "last_seq": len(self.events)}
                self.lock.wait(left)

    def route(self, method, path, q, body):
        parts = path.strip("/").split("/")
        if parts[:1] != ["v1"]:
            raise ApiError(404, "no such path")
        p = parts[1:]
        if method == "PUT" and len(p) == 2 and p[0] == "profiles":
            return self.put_profile(p[1], body)
        if p == ["workers"] and method == "POST":
            return self.create_worker(body)
        if p == ["workers"] and method == "GET":
            return self.list_workers(q)
        if len(p) == 2 and p[0] == "workers" and method == "GET":
            with self.lock:
                return 200, self.live(p[1]).view()
        if len(p) == 3 and p[0] == "workers" and p[2] == "stop" and method == "POST":
            with self.lock:
                w = self.live(p[1])
            self.stop(w, float(body.get("grace_seconds") or 0))
            return 202, {"name": w.name}
        if len(p) == 2 and p[0] == "workers" and method == "DELETE":
            with self.lock:
                w = self.live(p[1])
                w.deleted = True
            w.signal(signal.SIGKILL)
            return 204, None
        if len(p) == 3 and p[0] == "workers" and p[2] == "logs" and method == "GET":
            return self.logs(p[1], q)
        if p == ["events"] and method == "GET":
            return self.wait_events(q)
        if p == ["registry"] and method == "GET":
            return 200, {"repository": "registry.compute.test/multinode", "username": "sim",
                         "password": "sim-registry-token", "endpoint": "https://registry.compute.test"}
        raise ApiError(404 if method in ("GET", "PUT", "POST", "DELETE") else 405,
                       "no route for %s %s" % (method, path))

    def fault(self, key):
        with self.lock:
            for f in self.faults:
                if f["count"] > 0 and key.startswith(f["match"]):
                    f["count"] -= 1
                    self.faults_served += 1
                    headers = [("Retry-After", f["retry_after"])] if f.get("retry_after") else []
                    return ApiError(f["status"], f.get("message") or "injected %d" % f["status"],
                                    headers)
        return None

    def control(self, method, path, body):
        if path == "/_sim/faults" and method == "POST":
            with self.lock:
                self.faults.append({"match": body["match"], "status": int(body["status"]),
                                    "retry_after": body.get("retry_after"),
                                    "message": body.get("message"),
                                    "count": int(body.get("count", 1))})
            return 200, {"ok": True}
        if path == "/_sim/counters":
            with self.lock:
                return 200, {"calls": dict(self.calls), "connections": self.connections,
                             "faults_served": self.faults_served, "workers_started": self.started}
        if path == "/_sim/workers":
            with self.lock:
                return 200, {"workers": [dict(w.view(), deleted=w.deleted, env=w.env,
                                              log_lines=len(w.log))
                                         for w in self.workers.values()]}
        if path == "/_sim/kill" and method == "POST":
            with self.lock:
                hit = [w for w in self.workers.values()
                       if w.tags.get("execution") == body.get("execution_id") and w.status == "running"]
            for w in hit:
                w.signal(signal.SIGKILL)
            return 200, {"killed": [w.name for w in hit]}
        raise ApiError(404, "no such control path")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sim = None

    def setup(self):
        with self.sim.lock:
            self.sim.connections += 1
        super().setup()

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body, headers=()):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        sim = self.sim
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError as e:
            return self.answer(400, {"message": "body is not a JSON object: %s" % e})
        try:
            if u.path.startswith("/_sim/"):
                return self.answer(*sim.control(self.command, u.path, body))
            key = "%s %s" % (self.command, u.path)
            with sim.lock:
                shape = re.sub(r"^(/v1/(?:workers|profiles))/[^/]+", r"\1/NAME", u.path)
                sim.calls["%s %s" % (self.command, shape)] = \
                    sim.calls.get("%s %s" % (self.command, shape), 0) + 1
            if sim.token is not None and \
                    self.headers.get("Authorization") != "Bearer " + sim.token:
                raise ApiError(401, "the bearer token is missing or wrong")
            f = sim.fault(key)
            if f:
                raise f
            return self.answer(*sim.route(self.command, u.path, q, body))
        except ApiError as e:
            return self.answer(e.status, {"message": e.message}, e.headers)
        except (KeyError, TypeError, ValueError) as e:
            return self.answer(400, {"message": "bad request: %s" % e})

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port-file", required=True)
    p.add_argument("--entrypoint", required=True)
    p.add_argument("--path-prepend")
    p.add_argument("--token-file")
    p.add_argument("--max-workers", type=int, default=0)
    p.add_argument("--pending-ms", type=int, default=0)
    p.add_argument("--page-size", type=int, default=100)
    args = p.parse_args()
    Handler.sim = Sim(args)
    server = Server(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)

    def bye(*_):
        with Handler.sim.lock:
            for w in Handler.sim.workers.values():
                w.signal(signal.SIGKILL)
        os._exit(0)

    signal.signal(signal.SIGTERM, bye)
    server.serve_forever()


if __name__ == "__main__":
    main()
