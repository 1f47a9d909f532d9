"""Deployment helpers the ``multinode`` CLI (written in C) runs for Python projects.

``python3 -m multinode.deploy inspect DIR``
    Imports ``DIR/main.py`` (``DIR`` first on ``sys.path``, ``DIR`` as the
    working directory, ``DIR/.env`` applied and validated, as the task
    runtime does), finds its one ``Multinode`` and prints one JSON object::

        {"functions": [{"function_name", "resource_spec": {...},
                        "execution_spec": {...}}, ...],
         "package_path": "<folder holding the multinode package>",
         "python": "<this interpreter>"}

    Nothing else reaches standard output: the project's own prints go to
    standard error.  An error (a malformed ``.env``, an exception while
    importing) exits 1 with the file and a traceback summary on stderr.

``python3 -m multinode.deploy snapshot DIR ROOT``
    Copies ``DIR`` into ``ROOT/<sha256>``, a read-only, content-addressed
    snapshot (the same content always gives the same path), and prints its
    absolute path.  Left out: ``__pycache__``, ``.git``, ``.multinode``,
    ``multinode-dist-*`` and ``*.pyc``.  Regular files keep their executable
    bit; symbolic links are kept when they point inside ``DIR`` and refused
    when they point outside it (or nowhere).

``python3 -m multinode.deploy build-context SNAPSHOT BASE_IMAGE OUT_TAR``
    Writes a Docker build context: the snapshot under ``app/`` and a
    ``Dockerfile`` that starts ``FROM BASE_IMAGE`` (whose entrypoint is
    ``multinode-worker``, left unchanged), copies the project to ``/app``,
    sets ``PYTHONUNBUFFERED=1`` and ``PYTHONPATH=/app`` and, when
    ``requirements.txt`` lists anything, runs ``python3 -m pip install -r``
    on it.  That step needs pip in the base image and a package index
    reachable while the image builds.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import sys
import tarfile
import tempfile
import traceback
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

import multinode
from multinode._envfile import apply_env, read_env_file
from multinode._loader import load_app
from multinode.errors import ConfigurationError

USAGE = """usage:
  python3 -m multinode.deploy inspect DIR
  python3 -m multinode.deploy snapshot DIR ROOT
  python3 -m multinode.deploy build-context SNAPSHOT BASE_IMAGE OUT_TAR"""

SKIPPED_NAMES = frozenset({"__pycache__", ".git", ".multinode"})
"""Files and folders a snapshot leaves out (with ``multinode-dist-*`` and ``*.pyc``)."""

_CHUNK = 1 << 20


class DeployError(Exception):
    """A deployment step failed; the message says why (printed as ``error: ...``)."""


# -- inspect ----------------------------------------------------------------


def package_path() -> str:
    """The folder that holds the ``multinode`` package (for ``PYTHONPATH``)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(multinode.__file__)))


def inspect_project(directory: str) -> dict[str, object]:
    """Import ``directory/main.py`` and describe its functions (see ``inspect``).

    Changes the working directory, ``sys.path`` and ``os.environ`` of this
    process, as the task runtime does.

    :raises DeployError: a malformed ``.env``, an import error, no or several
        ``Multinode`` objects
    """
    app_dir = os.path.abspath(directory)
    main_path = os.path.join(directory, "main.py")
    if not os.path.isdir(app_dir):
        raise DeployError(f"{directory}: not a folder")
    try:
        pairs = read_env_file(os.path.join(directory, ".env"))
    except ConfigurationError as e:
        raise DeployError(str(e)) from e
    os.chdir(app_dir)
    apply_env(pairs or [])
    try:
        _, mn = load_app(app_dir)
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        raise DeployError(_import_failure(main_path, e)) from e
    functions = [
        {
            "function_name": f.spec.function_name,
            "resource_spec": f.spec.resource_spec,
            "execution_spec": f.spec.execution_spec,
        }
        for f in mn._functions.values()
    ]
    return {"functions": functions, "package_path": package_path(), "python": sys.executable}


def _import_failure(main_path: str, exc: BaseException) -> str:
    """A message for an exception raised while importing the project: the
    traceback without the frames of the import machinery and of this package."""
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith("<frozen ")
        and not frame.filename.startswith(os.path.dirname(os.path.abspath(multinode.__file__)))
    ]
    lines = [f"cannot import {main_path}:\n"]
    if frames:
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_list(frames))
    lines.extend(traceback.format_exception_only(type(exc), exc))
    return "".join(lines).rstrip("\n")


def _inspect_command(directory: str) -> int:
    sys.stdout.flush()
    out_fd = os.dup(1)
    os.dup2(2, 1)  # the project's prints go to stderr while it imports
    try:
        description = inspect_project(directory)
    except DeployError as e:
        _error(str(e))
        return 1
    finally:
        sys.stdout.flush()
    with os.fdopen(out_fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(description) + "\n")
    return 0


# -- snapshot ---------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """One item of a snapshot, in walk order."""

    relpath: str
    kind: str  # "d" folder, "f" file, "l" symbolic link
    source: str
    executable: bool = False
    link_target: str = ""


def _skipped(name: str, is_dir: bool) -> bool:
    if name in SKIPPED_NAMES or name.startswith("multinode-dist-"):
        return True
    return not is_dir and name.endswith(".pyc")


def _walk(root: str, exclude: Optional[str]) -> Iterator[_Entry]:
    """The entries of ``root`` in a fixed order (sorted names, depth first).

    :raises DeployError: a symbolic link that points outside ``root`` or nowhere
    """
    real_root = os.path.realpath(root)

    def visit(folder: str, rel: str) -> Iterator[_Entry]:
        try:
            names = sorted(os.listdir(folder))
        except OSError as e:
            raise DeployError(f"{folder}: cannot list: {e.strerror}") from e
        for name in names:
            path = os.path.join(folder, name)
            relpath = f"{rel}/{name}" if rel else name
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                if _skipped(name, os.path.isdir(path)):
                    continue
                yield _link_entry(root, real_root, path, relpath)
            elif stat.S_ISDIR(st.st_mode):
                if _skipped(name, True) or (
                    exclude is not None and os.path.realpath(path) == exclude
                ):
                    continue
                yield _Entry(relpath, "d", path)
                yield from visit(path, relpath)
            elif stat.S_ISREG(st.st_mode):
                if _skipped(name, False):
                    continue
                yield _Entry(relpath, "f", path, executable=bool(st.st_mode & 0o111))
            else:
                print(f"multinode.deploy: skipping {path}: not a regular file", file=sys.stderr)

    yield from visit(root, "")


def _link_entry(root: str, real_root: str, path: str, relpath: str) -> _Entry:
    target = os.readlink(path)
    resolved = os.path.realpath(path)
    inside = resolved == real_root or resolved.startswith(real_root + os.sep)
    if not inside:
        raise DeployError(
            f"{os.path.join(root, relpath)}: symbolic link to {target!r} points outside "
            f"{root}; copy the file into the project instead"
        )
    if not os.path.exists(resolved):
        raise DeployError(f"{os.path.join(root, relpath)}: symbolic link to {target!r} is broken")
    inner = os.path.relpath(resolved, real_root).split(os.sep)
    if any(_skipped(part, True) for part in inner if part != "."):
        raise DeployError(
            f"{os.path.join(root, relpath)}: symbolic link to {target!r} points into a "
            "folder that snapshots leave out"
        )
    # Relative to the link's own folder, so that it stays inside the copy.
    link_dir = os.path.dirname(os.path.join(real_root, relpath))
    return _Entry(relpath, "l", path, link_target=os.path.relpath(resolved, link_dir))


def _record_header(entry: _Entry, size: int) -> bytes:
    name = os.fsencode(entry.relpath)
    if entry.kind == "f":
        mode = b"1" if entry.executable else b"0"
        return b"f %d:%s %s %d\n" % (len(name), name, mode, size)
    if entry.kind == "l":
        target = os.fsencode(entry.link_target)
        return b"l %d:%s %d:%s\n" % (len(name), name, len(target), target)
    return b"d %d:%s\n" % (len(name), name)


def _hash_file(path: str, digest: "hashlib._Hash") -> None:
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)


def _snapshot_pass(directory: str, exclude: Optional[str], into: Optional[str]) -> str:
    """Hash ``directory`` (and copy it into ``into`` while hashing): the hex digest.

    The digest covers, per entry in walk order, its relative path, its kind,
    for files the executable bit, size and content, for links the target.
    """
    digest = hashlib.sha256(b"multinode-snapshot-v1\n")
    for entry in _walk(directory, exclude):
        if entry.kind == "f":
            size = os.stat(entry.source).st_size
            if into is None:
                digest.update(_record_header(entry, size))
                _hash_file(entry.source, digest)
                continue
            dest = os.path.join(into, entry.relpath)
            shutil.copyfile(entry.source, dest)
            digest.update(_record_header(entry, os.stat(dest).st_size))
            _hash_file(dest, digest)
            os.chmod(dest, 0o555 if entry.executable else 0o444)
        elif entry.kind == "l":
            digest.update(_record_header(entry, 0))
            if into is not None:
                os.symlink(entry.link_target, os.path.join(into, entry.relpath))
        else:
            digest.update(_record_header(entry, 0))
            if into is not None:
                os.mkdir(os.path.join(into, entry.relpath), 0o755)
    return digest.hexdigest()


def _make_read_only(top: str) -> None:
    for folder, _, _ in sorted(os.walk(top), key=lambda w: w[0], reverse=True):
        os.chmod(folder, 0o555)


def _remove_tree(top: str) -> None:
    for folder, _, _ in os.walk(top):
        os.chmod(folder, 0o755)
    shutil.rmtree(top, ignore_errors=True)


def snapshot(directory: str, root: str) -> str:
    """Copy ``directory`` into ``root/<sha256>`` (read-only) and return that path.

    If a snapshot with the same content exists it is reused.  The copy is
    made in a temporary folder and renamed into place, so a snapshot path
    never shows a partial copy, also with concurrent runs.

    :raises DeployError: not a folder, or a symbolic link that escapes it
    """
    if not os.path.isdir(directory):
        raise DeployError(f"{directory}: not a folder")
    os.makedirs(root, exist_ok=True)
    root = os.path.abspath(root)
    exclude = os.path.realpath(root)
    digest = _snapshot_pass(directory, exclude, None)
    final = os.path.join(root, digest)
    if os.path.isdir(final):
        return final
    tmp = tempfile.mkdtemp(prefix=f".tmp-{digest[:16]}-", dir=root)
    try:
        # The copy is hashed again: if a file changed meanwhile, the name
        # follows what was actually copied.
        digest = _snapshot_pass(directory, exclude, tmp)
        final = os.path.join(root, digest)
        _make_read_only(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not os.path.isdir(final):
                raise
            _remove_tree(tmp)  # another run made the same snapshot first
    except BaseException:
        if os.path.exists(tmp):
            _remove_tree(tmp)
        raise
    return final


# -- build-context -----------------------------------------------------------


def _requirements_listed(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return False
    return any(line.strip() and not line.strip().startswith("#") for line in lines)


def dockerfile(base_image: str, install_requirements: bool) -> str:
    """The generated Dockerfile's text."""
    lines = [
        "# Generated by `python3 -m multinode.deploy build-context`.",
        f"FROM {base_image}",
        "COPY app /app",
        "ENV PYTHONUNBUFFERED=1 PYTHONPATH=/app",
    ]
    if install_requirements:
        # Needs pip in the base image and a reachable package index.
        lines.append("RUN python3 -m pip install --no-cache-dir -r /app/requirements.txt")
    return "\n".join(lines) + "\n"


def _tar_info(name: str, st: os.stat_result) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def build_context(snapshot_dir: str, base_image: str, out_tar: str) -> str:
    """Write the Docker build context tar (see ``build-context``); its absolute path.

    :raises DeployError: no such snapshot, or an unusable image name
    """
    if not os.path.isdir(snapshot_dir):
        raise DeployError(f"{snapshot_dir}: not a folder")
    if not base_image or any(c.isspace() for c in base_image):
        raise DeployError(f"invalid base image {base_image!r}")
    out_tar = os.path.abspath(out_tar)
    install = _requirements_listed(os.path.join(snapshot_dir, "requirements.txt"))
    text = dockerfile(base_image, install).encode()
    fd, tmp = tempfile.mkstemp(prefix=".tmp-context-", suffix=".tar",
                               dir=os.path.dirname(out_tar))
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w",
                                                      format=tarfile.PAX_FORMAT) as tar:
            info = tarfile.TarInfo("Dockerfile")
            info.size, info.mode, info.mtime = len(text), 0o644, 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(text))
            tar.addfile(_dir_info("app", snapshot_dir))
            for entry in _walk(snapshot_dir, None):
                name = f"app/{entry.relpath}"
                st = os.lstat(entry.source)
                if entry.kind == "d":
                    tar.addfile(_dir_info(name, entry.source))
                elif entry.kind == "l":
                    info = _tar_info(name, st)
                    info.type, info.linkname = tarfile.SYMTYPE, os.readlink(entry.source)
                    tar.addfile(info)
                else:
                    info = _tar_info(name, st)
                    info.size = st.st_size
                    with open(entry.source, "rb") as f:
                        tar.addfile(info, f)
        os.replace(tmp, out_tar)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return out_tar


def _dir_info(name: str, path: str) -> tarfile.TarInfo:
    info = _tar_info(name, os.stat(path))
    info.type = tarfile.DIRTYPE
    return info


# -- command line -------------------------------------------------------------


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line (see the module's documentation); returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    command, rest = (args[0], args[1:]) if args else ("", [])
    arity = {"inspect": 1, "snapshot": 2, "build-context": 3}
    if command in ("-h", "--help"):
        print(USAGE)
        return 0
    if command not in arity or len(rest) != arity[command]:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        if command == "inspect":
            return _inspect_command(rest[0])
        if command == "snapshot":
            print(snapshot(rest[0], rest[1]))
        else:
            print(build_context(rest[0], rest[1], rest[2]))
    except DeployError as e:
        _error(str(e))
        return 1
    except OSError as e:
        _error(f"{e.filename or ''}: {e.strerror or e}" if e.filename else str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
