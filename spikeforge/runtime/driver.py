"""Calls into compiled network modules, with the random number state they share.

Calls of one-off modules (string assignments, ``connect()``) may be *deferred*: queued with
:func:`defer` while their module compiles in the background, and made, in the order they were
queued, by :func:`run_deferred` as soon as anything could observe their effect (a read or write
of state from Python, ``seed()``, ``run()``, ``store()``...).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: The key of the random numbers of generated code (Philox4x64, ``random_numbers.h``): the word
#: ``seed()`` derives from its seed, then the epoch, which counts the runs and one-off calls made
#: since.  Every draw is a function of this key and of (role, element, step, draw), so each run
#: and each one-off call has numbers of its own, and they do not depend on the number of threads
#: or on how a run is split into calls.  (Two more words are kept free for later use.)
random_state = np.zeros(4, dtype=np.uint64)
random_state[0] = np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0]


def seed(value: int | None = None) -> None:
    """Seed the random numbers of generated code and NumPy's global random numbers (``None``:
    from the operating system), as Brian2's ``seed()`` does in its runtime mode: a script's
    ``np.random.rand(N)`` after ``seed(1)`` gives the same values every time."""
    run_deferred()  # calls made before seed() draw the numbers of the seed they were made under
    random_state[:] = 0
    random_state[0] = np.random.SeedSequence(value).generate_state(1, dtype=np.uint64)[0]
    np.random.seed(None if value is None else int(value) % 2**32)


def next_random_epoch() -> None:
    """Move on to the numbers of the next run or one-off call (called once before each)."""
    random_state[1] += np.uint64(1)


def call_run_steps(
    module, collected: tuple, start: int, end: int, dt: float, threads: int = 1
) -> tuple[int, int]:
    """Run ``module.run_steps`` for the steps ``start`` to ``end`` (exclusive); returns the
    step it stopped before and the code of the fault that stopped it early (0: none)."""
    arrays, scalars, capsules = collected
    address = random_state.ctypes.data
    return module.run_steps(arrays, scalars, capsules, address, start, end, dt, threads)


def call_run_roles(
    module, collected: tuple, step: int, dt: float, first: int, last: int, threads: int = 1
) -> int:
    """Run the roles ``first`` to ``last - 1`` of time step ``step`` (split steps); returns the
    code of a fault (0: none)."""
    arrays, scalars, capsules = collected
    address = random_state.ctypes.data
    return module.run_roles(arrays, scalars, capsules, address, step, dt, first, last, threads)


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
