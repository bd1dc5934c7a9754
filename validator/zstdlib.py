"""python-zstandard, as its C backend alone.

``import zstandard`` runs the package's ``__init__``: it asks
``platform.python_implementation()`` which backend to load and imports ``typing`` for
one annotation, 23 M instructions on top of a check's own imports, more than all of
kimage's modules together (bench/). On CPython the package re-exports its C extension,
``zstandard.backend_c``, whole (``from .backend_c import *``): the same classes,
functions and constants. ``load()`` loads that extension by itself, through the
import system's own path finder and the extension's loader, and registers it under its
name, so that a later ``import zstandard`` in the same process takes it from there.

The package itself is imported instead where it decides something kimage should not:
a Python other than CPython, an import policy chosen by the user
(``PYTHON_ZSTANDARD_IMPORT_POLICY``: the CFFI or Rust backend), a package without the C
extension, or one that is not a directory of files (a zip).
"""

from __future__ import annotations

import os
import sys

BACKEND = "zstandard.backend_c"
#: zstandard's own environment variable that chooses its backend.
POLICY = "PYTHON_ZSTANDARD_IMPORT_POLICY"


def load():
    """The module with python-zstandard's API: its C backend, or the package (the one
    already imported, or blocked, in this process)."""
    if "zstandard" in sys.modules or sys.implementation.name != "cpython" or POLICY in os.environ:
        import zstandard

        return zstandard
    module = sys.modules.get(BACKEND) or _backend()
    if module is None:
        import zstandard as module
    return module


def _backend():
    """The C extension loaded by itself, or None when the package's own import should
    decide (no such extension file here, or one that does not load)."""
    from importlib.machinery import ExtensionFileLoader, PathFinder

    package = PathFinder.find_spec("zstandard")
    if package is None or not package.submodule_search_locations:
        return None
    spec = PathFinder.find_spec(BACKEND, package.submodule_search_locations)
    if spec is None or not isinstance(spec.loader, ExtensionFileLoader):
        return None
    try:
        module = spec.loader.create_module(spec)
        module.__spec__, module.__loader__ = spec, spec.loader
        spec.loader.exec_module(module)
    except ImportError:  # built for another Python, say: the package's import decides
        return None
    sys.modules[BACKEND] = module
    return module
