"""The native side of spikeforge: C++ headers, the owners of C++ containers, the run driver.

The runtime knows nothing about equations.  Its Cython owners (``containers.pyx``) are compiled
through the same cache as generated modules, the first time they are needed.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import ModuleType

RUNTIME_DIR = Path(__file__).resolve().parent


@cache
def containers() -> ModuleType:
    """The compiled ``containers`` module (``DynamicArray1D`` ...), built once per cache."""
    from spikeforge.codegen.cache import load_module

    return load_module((RUNTIME_DIR / "containers.pyx").read_text(), "runtime_containers")
