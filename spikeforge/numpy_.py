"""NumPy with Brian2's unit-aware functions in place of NumPy's own (Brian2's ``brian2.numpy_``).

``from spikeforge import *`` binds ``np`` and ``numpy`` to this module, as Brian2 does, so that
``np.arange(0*ms, 10*ms, dt)`` keeps its units.  Everything else is NumPy's: ``np.random``,
``np.float64``, ``np.pi``...  A script that imports NumPy itself (``import numpy as np``) gets
plain NumPy.
"""

from __future__ import annotations

import numpy as _numpy

from spikeforge.units.unitsafe import *  # noqa: F403  (the unit-aware replacements)


def __getattr__(name: str):
    """Every other name is NumPy's, looked up when used (a star import of NumPy would load all
    its submodules, numpy.testing and numpy.f2py among them: 60 ms)."""
    return getattr(_numpy, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(dir(_numpy)))
