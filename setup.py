"""Build step for spikeforge's one fixed extension module (everything else is in pyproject.toml).

The runtime's Cython owners of its C++ containers (``spikeforge/runtime/containers.pyx``:
dynamic arrays and spike queues) are the same for every model, so they are compiled once, when
the package is installed, instead of into each user's cache on first use (about 2 s of every cold
start otherwise). The extension records a hash of the sources it was built from; at run time
spikeforge uses it only if that hash matches the sources beside it, and otherwise (an editable
checkout whose headers changed since, an install without a compiler) compiles the same sources
through its cache, as it does generated code.
"""

import sys
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

sys.path.insert(0, str(Path(__file__).resolve().parent / "spikeforge" / "runtime"))
from sources import (  # noqa: E402  (a file of the package, no import of it)
    containers_sources_hash,
    runtime_declarations,
)

RUNTIME = Path("spikeforge") / "runtime"

extension = Extension(
    "spikeforge.runtime._containers",
    [str(RUNTIME / "containers.pyx")],
    include_dirs=[str(RUNTIME)],
    language="c++",
    extra_compile_args=["-std=c++17", "-O2"] if sys.platform != "win32" else ["/std:c++17"],
    define_macros=[("SPIKEFORGE_SOURCES_HASH", f'"{containers_sources_hash()}"')],
    # a changed header or .pxd rebuilds the extension (and so records the new hash), also when
    # the generated .cpp did not change
    depends=[
        str(path.relative_to(Path(__file__).resolve().parent))
        for path in runtime_declarations(Path(__file__).resolve().parent / RUNTIME)
    ],
)

setup(
    ext_modules=cythonize(
        [extension],
        compiler_directives={"language_level": 3},
        include_path=[str(RUNTIME)],  # cpp_containers.pxd, as for generated modules
        quiet=True,
    )
)
