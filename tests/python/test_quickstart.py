"""The original's documented workflow, verbatim, against a real daemon:

    multinode login
    multinode deploy tasks/ --project-name=my_project

with the example's tasks/main.py (only the task body filled in: it waits
for a gate file, so that each state can be seen without timing guesses) and
the FastAPI application of examples/python/app.py served by uvicorn. Through
the application's endpoints an invocation is seen PENDING (the quota of 10
is taken), RUNNING, then SUCCEEDED with its result; a cancelled one reads
CANCELLED. The raw REST view holds exactly what the original's client and
worker write (jsonpickle of [args, kwargs] and of the result).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import jsonpickle

from conftest import ROOT, Daemon, free_port, wait_until

TASKS = '''from multinode import Multinode
from datetime import timedelta
mn = Multinode()
@mn.function(cpu=4.0, memory="16 GiB", max_retries=1, max_concurrency=10, timeout=timedelta(hours=1))
def run_expensive_task(x):
    import pathlib, time
    gate = pathlib.Path("{gates}") / str(x)
    while not gate.exists():
        time.sleep(0.02)
    out = sum(i * i for i in range(x))
    return out
'''


def http(method: str, url: str) -> Any:
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def test_login_deploy_and_fastapi_app(daemon: Daemon) -> None:
    gates = daemon.work / "gates"
    gates.mkdir()
    gates.chmod(0o1777)  # the tasks run as nobody (the local provider's default as root)
    tasks = daemon.work / "tasks"
    tasks.mkdir()
    (tasks / "main.py").write_text(TASKS.format(gates=gates))

    out = daemon.cli("login", stdin=f"{daemon.url}\n{daemon.key}\n")
    assert "logged in" in out.stdout
    cfg = json.loads((Path(daemon.env["HOME"]) / ".multinode" / "config.json").read_text())
    assert cfg["api_url"].rstrip("/") == daemon.url and cfg["api_key"] == daemon.key

    out = daemon.cli("deploy", "tasks/", "--project-name=my_project")
    version_id = out.stdout.strip()
    assert version_id.startswith("ver-") and len(version_id) == 36, out.stdout
    fn = daemon.api("GET", "/projects/my_project/versions/latest")["functions"][0]
    assert fn["function_name"] == "run_expensive_task"
    assert fn["resource_spec"] == {"virtual_cpus": 4.0, "memory_gbs": 16.0,
                                   "max_concurrency": 10}
    assert fn["execution_spec"] == {"max_retries": 1, "timeout_seconds": 3600}

    shutil.copy(ROOT / "examples" / "python" / "app.py", daemon.work / "app.py")
    port = free_port()
    app = subprocess.Popen([sys.executable, "-m", "uvicorn", "app:app", "--port", str(port)],
                           cwd=daemon.work, env=daemon.env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    daemon.children.append(app)
    base = f"http://127.0.0.1:{port}"

    def app_up() -> bool:
        assert app.poll() is None, "uvicorn exited"
        with urllib.request.urlopen(base + "/docs", timeout=5) as r:
            return r.status == 200

    wait_until("the FastAPI application", app_up)

    # ten invocations take the function's whole quota (max_concurrency=10)
    fillers = [http("POST", f"{base}/tasks?x={x}")["invocation_id"] for x in range(1, 11)]
    wait_until("ten RUNNING invocations",
               lambda: all(http("GET", f"{base}/tasks/{i}")["status"] == "RUNNING"
                           for i in fillers))
    inv = http("POST", f"{base}/tasks?x=10000")["invocation_id"]
    seen = [http("GET", f"{base}/tasks/{inv}")]
    assert seen[0] == {"status": "PENDING", "result": None, "error": None}, seen

    # one filler is cancelled: it reads CANCELLED, and its slot goes to ours
    http("PUT", f"{base}/tasks/{fillers[1]}/cancel")
    cancelled = wait_until("the cancelled invocation to read CANCELLED",
                           lambda: http("GET", f"{base}/tasks/{fillers[1]}")["status"]
                           in ("CANCELLED",))
    assert cancelled
    wait_until("RUNNING", lambda: http("GET", f"{base}/tasks/{inv}")["status"] == "RUNNING")
    (gates / "10000").touch()
    done = wait_until("SUCCEEDED", lambda: (lambda j: j if j["status"] == "SUCCEEDED" else None)(
        http("GET", f"{base}/tasks/{inv}")))
    assert done == {"status": "SUCCEEDED", "result": sum(i * i for i in range(10000)),
                    "error": None}

    # the id alone is enough (GET /invocations/{id}): multinode.get_invocation
    probe = subprocess.run(
        [sys.executable, "-c", "import multinode, sys; i = multinode.get_invocation(sys.argv[1]);"
         " print(i.status.value, i.result, i.info['function_name'])", inv],
        cwd=daemon.work, env=daemon.env, capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["SUCCEEDED", str(sum(i * i for i in range(10000))),
                                    "run_expensive_task"], probe.stdout

    # the raw REST view: what the original's client and worker write
    raw = daemon.invocation("my_project", "run_expensive_task", inv)
    assert raw["input"] == '[{"py/tuple": []}, {"x": 10000}]'
    assert raw["input"] == jsonpickle.encode([(), {"x": 10000}])
    assert raw["executions"][-1]["output"] == jsonpickle.encode(sum(i * i for i in range(10000)))
    assert raw["invocation_status"] == "TERMINATED" or raw["executions"][-1]["outcome"]

    for x in range(1, 11):
        (gates / str(x)).touch()
    wait_until("every filler to end", lambda: all(
        http("GET", f"{base}/tasks/{i}")["status"] in ("SUCCEEDED", "CANCELLED")
        for i in fillers))
