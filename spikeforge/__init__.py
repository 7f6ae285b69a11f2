"""spikeforge: spiking neural networks from equation strings, compiled to native code.

``from spikeforge import *`` gives what Brian2's star import gives, so that a Brian2 script runs
after swapping its import line: the modelling names (``NeuronGroup``, ``SpikeMonitor``, ``run``,
units, the unit-aware NumPy functions...; see :mod:`spikeforge.only`), ``np`` and ``numpy``
(NumPy with those functions), and pylab's names (matplotlib's ``plot``, ``figure``... and
NumPy's; NumPy's alone when matplotlib is not installed).  pylab is imported by the star
import, not by ``import spikeforge``, so that scripts that don't ask for it don't pay for it.
"""

import numpy as _numpy

from spikeforge import numpy_ as np  # noqa: F401  (exported by the star import: __getattr__)
from spikeforge import numpy_ as numpy  # noqa: F401  (exported by the star import: __getattr__)
from spikeforge import only as _only
from spikeforge.only import *  # noqa: F403  (the modelling names)

__version__ = "0.1.0"

from spikeforge.runtime import prebuild_in_background as _prebuild  # noqa: E402

_prebuild()

_pylab_names: dict | None = None
_LEFT_OUT = {"test"}


def _pylab() -> dict:
    """pylab's public names (matplotlib's and NumPy's), or NumPy's alone without matplotlib;
    imported on first use."""
    global _pylab_names
    if _pylab_names is None:
        try:
            import pylab  # heavy and optional: only for the star import

            names = vars(pylab)
        except ImportError:  # the names pylab gives, without matplotlib
            names = {}
            for module in (_numpy, _numpy.fft, _numpy.linalg, _numpy.random):
                names.update({k: getattr(module, k) for k in getattr(module, "__all__", [])})
        # numpy.test, NumPy's own test runner, would look like a test to pytest in scripts
        # and test files that star-import spikeforge
        _pylab_names = {
            k: v for k, v in names.items() if not k.startswith("_") and k not in _LEFT_OUT
        }
    return _pylab_names


def __getattr__(name: str):
    """``__all__`` (asked for by ``from spikeforge import *``) and pylab's names, loaded on
    first use; spikeforge's own names take precedence over pylab's."""
    if name == "__all__":
        # codegen: Brian2's star import binds its subpackage of that name, and old scripts set
        # codegen.target = 'numpy' (no effect there either); ours is bound the same way
        own = [*_only.__all__, "np", "numpy", "codegen"]
        names = own + sorted(set(_pylab()) - set(own))
        globals()["__all__"] = names
        return names
    if not name.startswith("_") and name in _pylab():
        return _pylab()[name]
    raise AttributeError(f"module 'spikeforge' has no attribute {name!r}")
