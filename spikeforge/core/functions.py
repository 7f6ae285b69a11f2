"""Brian2's ``brian2.core.functions``: user functions and ``timestep``."""

import numpy as np

from spikeforge.model.clock import timesteps
from spikeforge.model.functions import Function, declare_types, implementation
from spikeforge.units import Quantity

__all__ = ["Function", "declare_types", "implementation", "timestep"]


def timestep(t, dt):
    """The integer time step of ``t`` for the step size ``dt`` (robust to the rounding of
    ``t``), as the function of the same name in model code; arrays give arrays."""
    values = timesteps(np.asarray(t, dtype=float), float(np.asarray(dt)))
    if isinstance(t, (Quantity, np.ndarray)) and np.ndim(t):
        return values
    return int(values)
