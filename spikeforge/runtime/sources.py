"""Which files the runtime's compiled owners are built from, and their hash.

Used by ``setup.py`` (imported by path, before the package exists) and at run time, so it
imports nothing from spikeforge.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

RUNTIME_DIR = Path(__file__).resolve().parent


def containers_sources_hash(directory: Path = RUNTIME_DIR) -> str:
    """A hash of ``containers.pyx``, every runtime header (the ones it includes among them) and
    the Cython declarations it cimports (``*.pxd``)."""
    digest = hashlib.sha256()
    for path in [directory / "containers.pyx", *runtime_declarations(directory)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def runtime_declarations(directory: Path = RUNTIME_DIR) -> list[Path]:
    """The C++ headers and Cython declarations of the runtime, which generated modules and the
    container owners are compiled with (a change to one changes what they compile to)."""
    return sorted([*directory.glob("*.h"), *directory.glob("*.pxd")])
