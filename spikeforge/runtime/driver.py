"""Calls into compiled network modules, with the random number state they share.

Calls of one-off modules (string assignments, ``connect()``) may be *deferred*: queued with
:func:`defer` while their module compiles in the background, and made, in the order they were
queued, by :func:`run_deferred` as soon as anything could observe their effect (a read or write
of state from Python, ``seed()``, ``run()``, ``store()``...).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: The state of the random number generator of generated code (xoshiro256**): four 64-bit
#: words, shared by every module of this process so that runs continue one stream.
random_state = np.zeros(4, dtype=np.uint64)


def seed(value: int | None = None) -> None:
    """Seed the random numbers of generated code (``None``: from the operating system)."""
    run_deferred()  # calls made before seed() draw from the stream they were made in
    words = np.random.SeedSequence(value).generate_state(4, dtype=np.uint64)
    random_state[:] = words


def call_run_steps(module, collected: tuple, start: int, end: int, dt: float) -> None:
    """Run ``module.run_steps`` for the steps ``start`` to ``end`` (exclusive)."""
    arrays, scalars, capsules = collected
    module.run_steps(arrays, scalars, capsules, random_state.ctypes.data, start, end, dt)


def call_run_roles(module, collected: tuple, step: int, dt: float, first: int, last: int) -> None:
    """Run the roles ``first`` to ``last - 1`` of time step ``step`` (split steps)."""
    arrays, scalars, capsules = collected
    module.run_roles(arrays, scalars, capsules, random_state.ctypes.data, step, dt, first, last)


_deferred: list[Callable[[], None]] = []
_running_deferred = False


def defer(call: Callable[[], None]) -> None:
    """Queue ``call`` (a one-off module call that can't fail once its module is compiled)."""
    _deferred.append(call)


def run_deferred() -> None:
    """Make the deferred calls, oldest first.  If one raises, the later ones are dropped (as if
    the script had stopped at the statement that queued the failing one) and the error is
    raised here.  Calls made while the queue runs (reads inside a deferred call) don't recurse."""
    global _running_deferred
    if _running_deferred or not _deferred:
        return
    _running_deferred = True
    try:
        while _deferred:
            _deferred.pop(0)()
    except BaseException:
        _deferred.clear()
        raise
    finally:
        _running_deferred = False


seed()
