"""The simulation clock (``defaultclock``)."""

from __future__ import annotations

import numpy as np

from spikeforge.units import DimensionMismatchError, Quantity, get_dimensions, second


class Clock:
    """A clock with a fixed time step ``dt``; all objects of a network share ``defaultclock``.

    Setting ``dt`` between runs is allowed; the network's time carries over.
    """

    def __init__(self, dt=0.1e-3 * second, name: str = "defaultclock"):
        self.name = name
        self.dt = dt
        #: The time of the step being run (during a run, as network operations see it), or
        #: the end of the last run, in seconds.
        self.t_ = 0.0

    @property
    def t(self) -> Quantity:
        """The current time: of the step being run, or the end of the last run (Brian2's
        ``Clock.t``)."""
        return Quantity(self.t_, dim=second.dim)

    @property
    def timestep(self) -> int:
        """The current time in steps of this clock."""
        return steps_until(self.t_, self.dt_)

    @property
    def dt(self) -> Quantity:
        """The time step (a quantity in seconds)."""
        return Quantity(self.dt_, dim=second.dim)

    @dt.setter
    def dt(self, value) -> None:
        if get_dimensions(value) != second.dim:
            raise DimensionMismatchError(
                f"{self.name}.dt must be a time, got {value!r}", get_dimensions(value)
            )
        value = float(value / second)
        if not value > 0:
            raise ValueError(f"{self.name}.dt must be positive, got {value} s")
        self.dt_ = value

    def __repr__(self) -> str:
        return f"Clock(dt={self.dt!r}, name={self.name!r})"


#: The clock every object uses unless told otherwise (``defaultclock.dt = 0.05*ms``).
defaultclock = Clock()


def steps_until(time_: float, dt: float) -> int:
    """The number of whole steps of ``dt`` before ``time_`` (seconds): rounded when within
    1e-4 dt, else rounded up (Brian2's rule, so that a run of 0.25 ms at dt = 0.1 ms takes 3
    steps)."""
    steps = time_ / dt
    nearest = round(steps)
    return int(nearest) if abs(steps - nearest) < 1e-4 else int(np.ceil(steps))


def timesteps(times: np.ndarray, dt: float) -> np.ndarray:
    """The time step of each of ``times`` (seconds): as generated code's ``timestep`` (and
    Brian2's)."""
    return ((times + 1e-3 * dt) / dt).astype(np.int64)
