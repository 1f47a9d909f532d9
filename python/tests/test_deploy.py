"""``python3 -m multinode.deploy``: inspect, snapshot, build-context."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import PYTHON_DIR
from multinode.deploy import DeployError, build_context, dockerfile, snapshot


def deploy(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTINODE_")}
    env["PYTHONPATH"] = PYTHON_DIR
    return subprocess.run([sys.executable, "-m", "multinode.deploy", *argv],
                          capture_output=True, text=True, env=env, cwd="/", timeout=30)


PROJECT_MAIN = '''
from datetime import timedelta
from multinode import Multinode
from helpers.util import double
import os

print("hello from import")
assert os.environ["FROM_DOTENV"] == "yes"
mn = Multinode()
alias = mn


@mn.function(cpu=2, memory="512 MiB", max_retries=3, timeout=timedelta(minutes=2),
             max_concurrency=7)
def heavy(x):
    return double(x)


@mn.function()
def light():
    yield 1
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    d = tmp_path / "project"
    (d / "helpers").mkdir(parents=True)
    (d / "main.py").write_text(PROJECT_MAIN)
    (d / "helpers" / "__init__.py").write_text("")
    (d / "helpers" / "util.py").write_text("def double(x):\n    return 2 * x\n")
    (d / ".env").write_text("# settings\nexport FROM_DOTENV='yes'\n")
    return d


def test_inspect_prints_only_the_json(project: Path) -> None:
    run = deploy("inspect", str(project))
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("\n") == 1
    doc = json.loads(run.stdout)
    assert doc == {
        "functions": [
            {"function_name": "heavy",
             "resource_spec": {"virtual_cpus": 2.0, "memory_gbs": 0.5, "max_concurrency": 7},
             "execution_spec": {"max_retries": 3, "timeout_seconds": 120}},
            {"function_name": "light",
             "resource_spec": {"virtual_cpus": 0.1, "memory_gbs": 0.25, "max_concurrency": 10},
             "execution_spec": {"max_retries": 0, "timeout_seconds": 3600}},
        ],
        "package_path": PYTHON_DIR,
        "python": sys.executable,
    }
    assert "hello from import" in run.stderr


def test_inspect_import_error(project: Path) -> None:
    (project / "helpers" / "util.py").write_text("def double(x):\n    return undefined_name\n"
                                                 "raise RuntimeError('broken helper')\n")
    run = deploy("inspect", str(project))
    assert run.returncode == 1
    assert run.stdout == ""
    assert f"cannot import {project}/main.py" in run.stderr
    assert "helpers/util.py" in run.stderr and "RuntimeError: broken helper" in run.stderr
    assert "importlib" not in run.stderr  # the machinery's frames are left out


def test_inspect_syntax_error(project: Path) -> None:
    (project / "main.py").write_text("def broken(:\n")
    run = deploy("inspect", str(project))
    assert run.returncode == 1 and run.stdout == ""
    assert "SyntaxError" in run.stderr and "main.py" in run.stderr


def test_inspect_malformed_env(project: Path) -> None:
    (project / ".env").write_text("FROM_DOTENV=yes\nthis is not a pair\n")
    run = deploy("inspect", str(project))
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.strip() == (
        f"error: {project}/.env:2: expected KEY=VALUE, got 'this is not a pair'")
    (project / ".env").write_text('1BAD=x\n')
    assert "invalid variable name '1BAD'" in deploy("inspect", str(project)).stderr
    (project / ".env").write_text('Q="unterminated\n')
    assert ".env:1: Q: unterminated quote" in deploy("inspect", str(project)).stderr


@pytest.mark.parametrize("main,message", [
    ("x = 1\n", "Could not find a Multinode object"),
    ("from multinode import Multinode\na = Multinode()\nb = Multinode()\n",
     "Found more than one Multinode object"),
    ("import sys\nsys.exit(3)\n", "SystemExit: 3"),
])
def test_inspect_needs_exactly_one_multinode(tmp_path: Path, main: str, message: str) -> None:
    (tmp_path / "main.py").write_text(main)
    run = deploy("inspect", str(tmp_path))
    assert run.returncode == 1 and run.stdout == ""
    assert message in run.stderr


def test_inspect_without_main(tmp_path: Path) -> None:
    run = deploy("inspect", str(tmp_path))
    assert run.returncode == 1 and "main.py: no such file" in run.stderr


def modes(top: Path) -> dict[str, int]:
    return {str(p.relative_to(top)): stat.S_IMODE(p.lstat().st_mode)
            for p in sorted(top.rglob("*")) if not p.is_symlink()}


def test_snapshot_is_content_addressed_and_read_only(project: Path, tmp_path: Path) -> None:
    root = tmp_path / "snapshots"
    (project / "run.sh").write_text("#!/bin/sh\n")
    (project / "run.sh").chmod(0o755)
    for skipped in ("__pycache__", ".git", ".multinode", "multinode-dist-1700000000"):
        (project / skipped).mkdir()
        (project / skipped / "junk").write_text("junk")
    (project / "helpers" / "util.cpython-311.pyc").write_bytes(b"\0")

    first = snapshot(str(project), str(root))
    assert os.path.dirname(first) == str(root)
    assert len(os.path.basename(first)) == 64
    snap = Path(first)
    assert sorted(str(p.relative_to(snap)) for p in snap.rglob("*")) == [
        ".env", "helpers", "helpers/__init__.py", "helpers/util.py", "main.py", "run.sh"]
    assert modes(snap) == {
        ".env": 0o444, "helpers": 0o555, "helpers/__init__.py": 0o444,
        "helpers/util.py": 0o444, "main.py": 0o444, "run.sh": 0o555}
    assert stat.S_IMODE(snap.stat().st_mode) == 0o555
    assert (snap / "main.py").read_text() == PROJECT_MAIN

    # Same content (even with new times and new skipped files): same path.
    os.utime(project / "main.py", (1, 1))
    (project / "__pycache__" / "more").write_text("x")
    assert snapshot(str(project), str(root)) == first
    assert [p.name for p in root.iterdir()] == [os.path.basename(first)]

    # Any change gives a new path; the old snapshot stays as it was.
    (project / "main.py").write_text(PROJECT_MAIN + "\n# edit\n")
    second = snapshot(str(project), str(root))
    assert second != first
    assert (Path(first) / "main.py").read_text() == PROJECT_MAIN
    (project / "main.py").write_text(PROJECT_MAIN)
    assert snapshot(str(project), str(root)) == first
    (project / "run.sh").chmod(0o644)
    assert snapshot(str(project), str(root)) not in (first, second)
    (project / "run.sh").chmod(0o755)
    (project / "empty").mkdir()
    assert snapshot(str(project), str(root)) not in (first, second)


def test_snapshot_root_inside_the_project(project: Path) -> None:
    inside = project / "snaps"
    first = snapshot(str(project), str(inside))
    assert snapshot(str(project), str(inside)) == first
    assert not (Path(first) / "snaps").exists()


def test_snapshot_symlinks(project: Path, tmp_path: Path) -> None:
    root = tmp_path / "snapshots"
    (project / "link.py").symlink_to("helpers/util.py")
    (project / "helpers" / "up").symlink_to(project / "main.py")  # absolute, inside
    snap = Path(snapshot(str(project), str(root)))
    assert os.readlink(snap / "link.py") == "helpers/util.py"
    assert os.readlink(snap / "helpers" / "up") == "../main.py"
    assert (snap / "helpers" / "up").read_text() == PROJECT_MAIN

    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    (project / "escape").symlink_to(outside)
    with pytest.raises(DeployError, match="points outside"):
        snapshot(str(project), str(root))
    run = deploy("snapshot", str(project), str(root))
    assert run.returncode == 1 and "escape" in run.stderr and "points outside" in run.stderr
    (project / "escape").unlink()
    (project / "escape").symlink_to("../../../etc/passwd")
    with pytest.raises(DeployError, match="points outside"):
        snapshot(str(project), str(root))
    (project / "escape").unlink()
    (project / "dangling").symlink_to("missing.py")
    with pytest.raises(DeployError, match="broken"):
        snapshot(str(project), str(root))
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp")]


def test_snapshot_command_prints_the_path(project: Path, tmp_path: Path) -> None:
    root = tmp_path / "snapshots"
    run = deploy("snapshot", str(project), str(root))
    assert run.returncode == 0, run.stderr
    path = run.stdout.strip()
    assert path == snapshot(str(project), str(root))
    assert os.path.isabs(path)


def test_build_context(project: Path, tmp_path: Path) -> None:
    snap = snapshot(str(project), str(tmp_path / "snapshots"))
    out = tmp_path / "context.tar"
    assert build_context(snap, "multinode-worker:local", str(out)) == str(out)
    with tarfile.open(out) as tar:
        names = tar.getnames()
        text = tar.extractfile("Dockerfile").read().decode()  # type: ignore[union-attr]
        main = tar.extractfile("app/main.py").read().decode()  # type: ignore[union-attr]
        assert tar.getmember("app/helpers").isdir()
        assert tar.getmember("app/main.py").mtime == 0
    assert main == PROJECT_MAIN
    assert sorted(names) == ["Dockerfile", "app", "app/.env", "app/helpers",
                             "app/helpers/__init__.py", "app/helpers/util.py", "app/main.py"]
    lines = text.splitlines()
    assert "FROM multinode-worker:local" in lines
    assert "COPY app /app" in lines
    assert "ENV PYTHONUNBUFFERED=1 PYTHONPATH=/app" in lines
    assert "PYTHONBUFFERED" not in text
    assert not any(line.startswith(("RUN", "ENTRYPOINT", "CMD")) for line in lines)


@pytest.mark.parametrize("requirements,install", [
    (None, False), ("", False), ("# nothing yet\n\n", False), ("numpy==1.26.0\n", True)])
def test_build_context_requirements(
    tmp_path: Path, requirements: "str | None", install: bool
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "main.py").write_text("")
    if requirements is not None:
        (src / "requirements.txt").write_text(requirements)
    snap = snapshot(str(src), str(tmp_path / "snapshots"))
    run = deploy("build-context", snap, "base:1", str(tmp_path / "ctx.tar"))
    assert run.returncode == 0, run.stderr
    with tarfile.open(tmp_path / "ctx.tar") as tar:
        text = tar.extractfile("Dockerfile").read().decode()  # type: ignore[union-attr]
    run_line = "RUN python3 -m pip install --no-cache-dir -r /app/requirements.txt"
    assert (run_line in text) == install
    assert text == dockerfile("base:1", install)


def test_build_context_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(DeployError):
        build_context(str(tmp_path / "missing"), "base", str(tmp_path / "x.tar"))
    with pytest.raises(DeployError, match="invalid base image"):
        build_context(str(tmp_path), "base\nRUN evil", str(tmp_path / "x.tar"))


def test_usage() -> None:
    assert deploy().returncode == 2
    assert deploy("snapshot", "only-one").returncode == 2
    assert deploy("--help").returncode == 0
