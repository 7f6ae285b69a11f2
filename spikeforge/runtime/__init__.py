"""The native side of spikeforge: C++ headers, the owners of C++ containers, the run driver.

The runtime knows nothing about equations.  Its Cython owners (``containers.pyx``) are compiled
when the package is installed (``setup.py``: the extension ``spikeforge.runtime._containers``).
When that extension is missing or was built from other sources (an editable checkout whose
headers changed since), they are compiled through the same cache as generated modules, in the
background from import on (see :func:`prebuild_in_background`).
"""

from __future__ import annotations

import os
import threading
from functools import cache
from pathlib import Path
from types import ModuleType

from spikeforge.codegen import cache as module_cache
from spikeforge.runtime import sources

RUNTIME_DIR = Path(__file__).resolve().parent

#: The background build of the owners: its thread, then its module.
_background: dict = {}


def _load_containers() -> ModuleType:
    # glue code, not in the simulation loop: compiled for speed of compilation
    return module_cache.load_module(
        (RUNTIME_DIR / "containers.pyx").read_text(), "runtime_containers", optimize=False
    )


def installed_containers() -> ModuleType | None:
    """The extension built at installation, if it exists and matches the sources beside it
    (generated code includes the same headers: a mismatch could mean two layouts of a queue)."""
    try:  # optional: built at installation, missing from a checkout that was not built
        from spikeforge.runtime import _containers  # type: ignore[attr-defined]
    except ImportError:
        return None
    if getattr(_containers, "SOURCES_HASH", "") != sources.containers_sources_hash():
        return None
    return _containers


@cache
def containers() -> ModuleType:
    """The compiled ``containers`` module (``DynamicArray1D`` ...): the installed extension, or
    else the same sources compiled once per cache."""
    installed = installed_containers()
    if installed is not None:
        return installed
    thread = _background.get("thread")
    if thread is not None:
        thread.join()
        if "module" in _background:
            return _background["module"]
    return _load_containers()


def prebuild_in_background() -> None:
    """Compile the runtime containers in a background thread if the cache lacks them.

    A new cache (a fresh machine, a new Python) otherwise pays this compilation when the first
    monitor or synapse is made; started at import, it overlaps with building the model and
    with compiling its first generated module (on another core).  ``SPIKEFORGE_PREBUILD=0``
    turns this off.
    """
    if os.environ.get("SPIKEFORGE_PREBUILD", "1") == "0" or "thread" in _background:
        return
    if installed_containers() is not None:
        return
    source = (RUNTIME_DIR / "containers.pyx").read_text()
    if module_cache.entry_directory(source, "runtime_containers", optimize=False).exists():
        return

    def build() -> None:
        try:
            _background["module"] = _load_containers()
        except Exception:  # reported again, in the main thread, by containers()
            pass

    _background["thread"] = threading.Thread(target=build, name="spikeforge-prebuild")
    _background["thread"].start()
