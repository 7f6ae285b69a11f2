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


def call_run_steps(module, collected: tuple, start: int, end: int, dt: float) -> tuple[int, int]:
    """Run ``module.run_steps`` for the steps ``start`` to ``end`` (exclusive); returns the
    step it stopped before and the code of the fault that stopped it early (0: none)."""
    arrays, scalars, capsules = collected
    return module.run_steps(arrays, scalars, capsules, random_state.ctypes.data, start, end, dt)


def call_run_roles(module, collected: tuple, step: int, dt: float, first: int, last: int) -> int:
    """Run the roles ``first`` to ``last - 1`` of time step ``step`` (split steps); returns the
    code of a fault (0: none)."""
    arrays, scalars, capsules = collected
    return module.run_roles(
        arrays, scalars, capsules, random_state.ctypes.data, step, dt, first, last
    )


#: Deferred calls, oldest first, each with the keys of the state it reads or writes (None: any).
_deferred: list[tuple[Callable[[], None], frozenset | None]] = []
_running_deferred = False


def defer(call: Callable[[], None], touches: frozenset | None = None) -> None:
    """Queue ``call`` (a one-off module call that can't fail once its module is compiled).

    ``touches`` holds keys (any hashable, such as ``(id(group), variable_name)``) of the state
    the call reads or writes; ``None`` means it may touch anything.  Calls draw random numbers
    in queue order, whatever they touch.
    """
    _deferred.append((call, touches))


def run_deferred(touching=None) -> None:
    """Make the deferred calls, oldest first: all of them, or with ``touching`` (a key as given
    to :func:`defer`) those up to the last one that touches it.

    If one raises, the later ones are dropped (as if the script had stopped at the statement
    that queued the failing one) and the error is raised here.  Calls made while the queue runs
    (reads inside a deferred call) don't recurse.
    """
    global _running_deferred
    if _running_deferred or not _deferred:
        return
    count = len(_deferred)
    if touching is not None:
        count = 0
        for position, (_, touches) in enumerate(_deferred):
            if touches is None or touching in touches:
                count = position + 1
    if count == 0:
        return
    _running_deferred = True
    try:
        for _ in range(count):
            call, _ = _deferred.pop(0)
            call()
    except BaseException:
        _deferred.clear()
        raise
    finally:
        _running_deferred = False


seed()
