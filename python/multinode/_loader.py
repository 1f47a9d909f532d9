"""Importing a project folder's ``main.py`` and finding its ``Multinode``."""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

from multinode.core.multinode import Multinode

MAIN_MODULE = "main"
"""The name a project's ``main.py`` is imported under (classes it defines
travel through jsonpickle as ``main.ClassName``)."""


def import_main(app_dir: str) -> ModuleType:
    """Import ``app_dir/main.py`` as the module ``main``, with ``app_dir``
    first on ``sys.path`` so that the project's own packages import.

    :raises ImportError: there is no ``main.py``
    :raises BaseException: whatever the user's code raises while importing
    """
    app_dir = os.path.abspath(app_dir)
    main_path = os.path.join(app_dir, "main.py")
    if not os.path.isfile(main_path):
        raise ImportError(f"{main_path}: no such file (a project folder must hold main.py)")
    if app_dir not in sys.path[:1]:
        sys.path.insert(0, app_dir)
    spec = importlib.util.spec_from_file_location(MAIN_MODULE, main_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"Could not import {main_path} as a python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[MAIN_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(MAIN_MODULE, None)
        raise
    return module


def find_multinode(module: ModuleType) -> Multinode:
    """The one ``Multinode`` instance among the module's globals.

    :raises ImportError: there is none, or there are several
    """
    found: dict[int, tuple[str, Multinode]] = {}
    for name, value in vars(module).items():
        if isinstance(value, Multinode) and id(value) not in found:
            found[id(value)] = (name, value)
    where = getattr(module, "__file__", None) or module.__name__
    if not found:
        raise ImportError(f"Could not find a Multinode object in {where}.")
    if len(found) > 1:
        names = ", ".join(sorted(name for name, _ in found.values()))
        raise ImportError(
            f"Found more than one Multinode object in {where} ({names}). Only one is allowed."
        )
    return next(iter(found.values()))[1]


def load_app(app_dir: str) -> tuple[ModuleType, Multinode]:
    """:func:`import_main` then :func:`find_multinode`."""
    module = import_main(app_dir)
    return module, find_multinode(module)
