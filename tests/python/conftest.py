"""A real multinoded for the Python end-to-end tests.

Each test module gets its own daemon (embedded Postgres, local provider, a
free port) from MN_BIN_DIR, a private HOME (where ``multinode login`` writes
its file and ``multinode deploy`` its snapshots) and an environment in which
``multinode`` (the C CLI) and the ``multinode`` Python package (from this
checkout) are found, with the Python interpreter that runs pytest.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("MN_BIN_DIR", ROOT / "build" / "bin"))
KEY = "python-e2e-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(what: str, check: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Polls check() every 20 ms until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (OSError, ValueError) as e:  # not up yet
            last = e
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


@dataclass
class Daemon:
    url: str
    work: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path
    key: str = KEY
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def api(self, method: str, path: str, body: Optional[dict[str, Any]] = None) -> Any:
        """One REST call with the admin key; the parsed JSON answer."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.key}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def cli(self, *args: str, stdin: str = "", cwd: Optional[Path] = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        """Runs the `multinode` CLI as a user would (PATH, HOME of the test)."""
        p = subprocess.run(["multinode", *args], input=stdin, capture_output=True, text=True,
                           env=self.env, cwd=cwd or self.work, timeout=300)
        if check and p.returncode != 0:
            raise AssertionError(f"multinode {' '.join(args)}: exit {p.returncode}\n"
                                 f"stdout: {p.stdout}\nstderr: {p.stderr}\n{self.tail()}")
        return p

    def tail(self, n: int = 60) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "daemon log:\n" + "\n".join(lines[-n:])

    def invocation(self, project: str, function: str, invocation_id: str,
                   version: str = "latest") -> Any:
        return self.api("GET", f"/projects/{project}/versions/{version}/functions/{function}"
                               f"/invocations/{invocation_id}")


def _stop(proc: subprocess.Popen[bytes], work: Path) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    pid_file = work / "data" / "postgres" / "data" / "postmaster.pid"
    try:
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
    except (OSError, ValueError, IndexError):
        pass


def start_daemon(extra_yaml: str = "", env_extra: Optional[dict[str, str]] = None) -> Daemon:
    # under /tmp and world-traversable: the embedded Postgres runs as `postgres`
    work = Path(tempfile.mkdtemp(prefix="mn-py."))
    work.chmod(0o755)
    home = work / "home"
    home.mkdir()
    port = free_port()
    config = work / "multinode.yaml"
    config.write_text(f"server:\n  listen: 127.0.0.1:{port}\n  api_key: {KEY}\n"
                      f"data_dir: {work}/data\nlog_level: debug\n{extra_yaml}")
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("MULTINODE_"):
            del env[k]
    env.update({
        "HOME": str(home),
        "PATH": f"{BIN_DIR}:{os.path.dirname(sys.executable)}:{env.get('PATH', '/usr/bin:/bin')}",
        "PYTHONPATH": str(ROOT / "python"),
        "MULTINODE_PYTHON": sys.executable,
    })
    env.update(env_extra or {})
    log = work / "daemon.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen([str(BIN_DIR / "multinoded"), "--config", str(config)],
                                stdout=out, stderr=subprocess.STDOUT, env=env)
    d = Daemon(url=f"http://127.0.0.1:{port}", work=work, env=env, proc=proc, log=log)

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"multinoded exited with {proc.returncode}\n{d.tail()}")
        with urllib.request.urlopen(d.url + "/", timeout=5) as r:
            return r.status == 200

    try:
        wait_until("the daemon to answer", up, timeout=90)
    except BaseException:
        _stop(proc, work)
        raise
    return d


def stop_daemon(d: Daemon) -> None:
    for c in d.children:
        if c.poll() is None:
            c.kill()
            c.wait()
    _stop(d.proc, d.work)
    subprocess.run(["pkill", "-9", "-f", str(d.work)], check=False)
    if not os.environ.get("MN_KEEP_WORK"):
        # snapshots are read-only by design: make them removable
        for dirpath, dirnames, _ in os.walk(d.work):
            for name in dirnames:
                try:
                    os.chmod(os.path.join(dirpath, name), 0o755)
                except OSError:
                    pass
        shutil.rmtree(d.work, ignore_errors=True)


@pytest.fixture(scope="module")
def daemon() -> Iterator[Daemon]:
    d = start_daemon()
    try:
        yield d
    finally:
        stop_daemon(d)


def write_project(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.py").write_text(source)
    return folder
