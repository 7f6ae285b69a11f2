"""Where the external names of a model come from: an explicit namespace or the caller's frame.

As in Brian2, a name that is neither a variable of the object nor one of the fixed names
(``t``, ``dt``, ``i``, ``N``) is looked up in the ``namespace`` argument of the object (or of
``run()``) when one is given, else among the local and global names of the code that called
``run()`` (or that made a string assignment); units and ``pi``/``e``/``inf`` are always known.
"""

from __future__ import annotations

import math
import numbers
import pickle
import sys

import numpy as np

from spikeforge import units
from spikeforge.codegen.expressions import UserFunction
from spikeforge.model.base import SpikeforgeObject

#: Names every model knows, after the user's own.
DEFAULT_NAMESPACE: dict[str, object] = {
    **units.all_units,
    "pi": math.pi,
    "e": math.e,
    "inf": math.inf,
}


def caller_namespace(level: int = 0) -> dict[str, object]:
    """The locals and globals of the frame ``level`` levels above the caller of this function."""
    frame = sys._getframe(level + 2)
    namespace = dict(frame.f_globals)
    namespace.update(frame.f_locals)
    return namespace


def user_namespace() -> dict[str, object]:
    """Locals and globals of the nearest calling frame outside spikeforge (where a model object
    was created), without model objects; a fallback for reads that happen inside other
    libraries' code."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("spikeforge"):
        frame = frame.f_back
    if frame is None:
        return {}
    namespace = dict(frame.f_globals)
    namespace.update(frame.f_locals)
    return kept_namespace(namespace)


def kept_namespace(namespace: dict[str, object]) -> dict[str, object]:
    """A namespace to keep on an object for later lookups: without other model objects, which
    model strings never name and which would otherwise stay alive through it (a group made in
    a loop held the group of the iteration before, and so on: memory grew with every
    build-and-run cycle)."""
    return {
        name: value for name, value in namespace.items() if not isinstance(value, SpikeforgeObject)
    }


def picklable_namespace(namespace: dict[str, object]) -> dict[str, object]:
    """The entries of a kept namespace that go with an object sent to another process (pickled):
    numbers, strings, arrays and quantities, and user functions that pickle.  Modules, other
    objects of the caller and functions defined inside functions are left behind; the names a
    model uses were resolved when it was built, and a later run looks them up again in the
    caller's frame."""
    kept = {}
    for name, value in namespace.items():
        if isinstance(value, (numbers.Number, np.generic, str, bytes)) or (
            isinstance(value, np.ndarray) and value.dtype != object
        ):
            kept[name] = value
        elif isinstance(value, UserFunction):
            try:
                pickle.dumps(value)
            except Exception:  # e.g. a lambda inside: the function is looked up again
                continue
            kept[name] = value
    return kept
