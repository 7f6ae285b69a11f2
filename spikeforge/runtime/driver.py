"""Calls into compiled network modules, with the random number state they share."""

from __future__ import annotations

import numpy as np

#: The state of the random number generator of generated code (xoshiro256**): four 64-bit
#: words, shared by every module of this process so that runs continue one stream.
random_state = np.zeros(4, dtype=np.uint64)


def seed(value: int | None = None) -> None:
    """Seed the random numbers of generated code (``None``: from the operating system)."""
    words = np.random.SeedSequence(value).generate_state(4, dtype=np.uint64)
    random_state[:] = words


seed()


def call_run_steps(module, collected: tuple, start: int, end: int, dt: float) -> None:
    """Run ``module.run_steps`` for the steps ``start`` to ``end`` (exclusive)."""
    arrays, scalars, capsules = collected
    module.run_steps(arrays, scalars, capsules, random_state.ctypes.data, start, end, dt)


def call_run_roles(module, collected: tuple, step: int, dt: float, first: int, last: int) -> None:
    """Run the roles ``first`` to ``last - 1`` of time step ``step`` (split steps)."""
    arrays, scalars, capsules = collected
    module.run_roles(arrays, scalars, capsules, random_state.ctypes.data, step, dt, first, last)
