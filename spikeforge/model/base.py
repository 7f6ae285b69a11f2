"""What every simulated object shares: a name, a place in the schedule, the build context."""

from __future__ import annotations

import itertools
import re
import weakref
from dataclasses import dataclass, field

import numpy as np

from spikeforge.codegen.expressions import ExpressionError
from spikeforge.codegen.render import Role
from spikeforge.codegen.translate import Argument, ModuleArguments

#: The slots of a time step, in order (Brian2's default schedule).
SCHEDULE = ("start", "groups", "thresholds", "synapses", "resets", "end")

_instances: list[weakref.ref] = []
_scope_counter = itertools.count()
_current_scope = next(_scope_counter)
_name_counters: dict[str, itertools.count] = {}


def schedule_position(when: str) -> float:
    """A sort key for ``when``: a slot of :data:`SCHEDULE`, or ``before_``/``after_`` one."""
    for prefix, offset in (("before_", -0.5), ("after_", 0.5)):
        if when.startswith(prefix) and when[len(prefix) :] in SCHEDULE:
            return SCHEDULE.index(when[len(prefix) :]) + offset
    if when in SCHEDULE:
        return float(SCHEDULE.index(when))
    raise ValueError(
        f"unknown schedule slot {when!r}; use one of {', '.join(SCHEDULE)} "
        "(optionally with before_ or after_)"
    )


def start_scope() -> None:
    """Forget the objects made so far: the next ``run()`` only simulates objects made after this.

    Also resets the time of the implicit network to 0.
    """
    global _current_scope
    from spikeforge.runtime.driver import run_deferred

    run_deferred()  # their random draws belong to the stream before this point
    _current_scope = next(_scope_counter)
    from spikeforge.model.network import magic_network

    magic_network.reset()


def objects_in_scope() -> list[SpikeforgeObject]:
    """Live objects created since the last :func:`start_scope`, in creation order."""
    alive = []
    for reference in _instances:
        obj = reference()
        if obj is not None and obj._scope_id == _current_scope:
            alive.append(obj)
    _instances[:] = [r for r in _instances if r() is not None]
    return alive


class SpikeforgeObject:
    """Base of groups and monitors: a unique name, ``when``/``order`` and ``active``.

    ``name`` may end in ``*`` (the default), which is replaced by a unique suffix.
    """

    #: The short name used for this kind of object in generated code.
    code_kind = "object"

    def __init__(self, name: str, when: str = "groups", order: int = 0):
        self.name = _unique_name(name)
        schedule_position(when)
        self.when = when
        self.order = int(order)
        self.active = True
        if not hasattr(self, "clock"):
            from spikeforge.model.clock import defaultclock

            self.clock = defaultclock
        self._scope_id = _current_scope
        _instances.append(weakref.ref(self))

    @property
    def contained_objects(self) -> list[SpikeforgeObject]:
        """Objects that run together with this one (none by default)."""
        return []

    def roles(self, context: BuildContext) -> list[Role]:  # pragma: no cover - interface
        """The scheduled roles of this object for one network run."""
        raise NotImplementedError

    def before_run(self, context: BuildContext) -> None:
        """Checks and preparations just before a run (units, namespace)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def _full_state(self) -> dict:
        """A copy of everything a run changes (for ``Network.store``)."""
        from spikeforge.model import state

        return state.full_state(self)

    def _restore_from_full_state(self, stored: dict) -> None:
        """Put back a state from :meth:`_full_state` (for ``Network.restore``)."""
        from spikeforge.model import state

        state.restore_full_state(self, stored)


def choose_clock(dt, clock, owner: str):
    """The clock of an object given ``dt=`` (a new clock) or ``clock=`` (default: defaultclock)."""
    from spikeforge.model.clock import Clock, defaultclock

    if dt is not None and clock is not None:
        raise ValueError(f"{owner}: give dt= or clock=, not both")
    if dt is not None:
        return Clock(dt, name=f"{owner.split()[-1].strip(chr(39))}_clock")
    if clock is not None:
        if not isinstance(clock, Clock):
            raise TypeError(f"{owner}: clock= must be a Clock, got {clock!r}")
        return clock
    return defaultclock


def _unique_name(name: str) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*\*?", name):
        raise ValueError(
            f"invalid object name {name!r}: use letters, digits and underscores, "
            "starting with a letter"
        )
    if not name.endswith("*"):
        return name
    base = name[:-1]
    counter = _name_counters.setdefault(base, itertools.count())
    number = next(counter)
    return base if number == 0 else f"{base}_{number}"


#: The Cython type and capsule name of each kind of runtime container.
CAPSULE_TYPES = {
    "float64": ("vector[double]", "spikeforge.vector<double>"),
    "int32": ("vector[int32_t]", "spikeforge.vector<int32_t>"),
    "queue": ("SpikeQueue", "spikeforge.SpikeQueue"),
    "2d": ("DynamicArray2D", "spikeforge.DynamicArray2D"),
}


@dataclass
class BuildContext:
    """Everything one generated module is built from: its arguments and the run's namespace.

    ``prefixes`` gives each object its name in generated code (``ng0``, ``spikemon0``...):
    positional, not the user's name, so that the same network structure always gives the same
    source and the cache hits.
    """

    namespace: dict | None
    dt: float
    arguments: ModuleArguments = field(default_factory=ModuleArguments)
    prefixes: dict[int, str] = field(default_factory=dict)
    #: Module-level Cython blocks (user functions, ...), each added once.
    support_code: list[str] = field(default_factory=list)
    #: ``(id(group), variable name)`` of every variable the code reads or writes.
    touched: set = field(default_factory=set)

    def add_support_code(self, code: str) -> None:
        """Add a module-level block (ignored if the same block is already there)."""
        if code not in self.support_code:
            self.support_code.append(code)

    def prefix(self, obj: SpikeforgeObject) -> str:
        key = id(obj)
        if key not in self.prefixes:
            count = sum(1 for p in self.prefixes.values() if p.startswith(obj.code_kind))
            self.prefixes[key] = f"{obj.code_kind}{count}"
        return self.prefixes[key]

    def array(self, obj: SpikeforgeObject, name: str, array, dtype=None) -> str:
        """Register an array of ``obj`` as a module argument; returns its static name.

        ``array`` is a NumPy array, or a function returning the current one (for arrays that
        are reallocated between runs; ``dtype`` must then be given).
        """
        from spikeforge.codegen.translate import C_TYPES

        static = f"_{self.prefix(obj)}_{name}"
        if callable(array):
            fetch, ctype = array, C_TYPES[np.dtype(dtype)][0]
        else:
            fetch, ctype = (lambda: array), C_TYPES[array.dtype][0]
        return self.arguments.add(Argument("array", static, ctype, fetch))

    def scalar(self, obj: SpikeforgeObject, name: str, fetch, ctype: str = "double") -> str:
        """Register a number, read by ``fetch()`` at each call, as a module argument."""
        static = f"_{self.prefix(obj)}_{name}"
        return self.arguments.add(Argument("scalar", static, ctype, fetch))

    def capsule(self, obj: SpikeforgeObject, name: str, owner) -> str:
        """Register a C++ object (a runtime ``DynamicArray1D`` or ``SpikeQueue``) reached through
        its capsule."""
        static = f"_{self.prefix(obj)}_{name}"
        kind = getattr(owner, "dtype", "queue")
        ctype, capsule_name = CAPSULE_TYPES[kind]
        return self.arguments.add(Argument("capsule", static, ctype, owner.capsule, capsule_name))


def with_context(error: ExpressionError, obj: SpikeforgeObject, what: str) -> ExpressionError:
    """Say in an error which object (and which of its parts) the problem is in."""
    return error.with_context(f"{type(obj).__name__} {obj.name!r}, {what}")
