"""What every simulated object shares: a name, a place in the schedule, a clock, a scope.

Objects made since the last ``start_scope()`` form the current *scope*, which the implicit
network of ``run()`` simulates (see :mod:`spikeforge.model.network`).
"""

from __future__ import annotations

import itertools
import re
import weakref


from spikeforge.codegen.expressions import ExpressionError
from spikeforge.codegen.render import Role
from spikeforge.pipeline import BuildContext, schedule_position
from spikeforge.model.clock import Clock, defaultclock
from spikeforge.model.state import Entry, state_problem

_instances: list[weakref.ref] = []
_scope_counter = itertools.count()
_current_scope = next(_scope_counter)


def new_scope() -> None:
    """Objects made from now on belong to a new scope (``start_scope()``)."""
    global _current_scope
    _current_scope = next(_scope_counter)


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
            self.clock = defaultclock
        self._scope_id = _current_scope
        _instances.append(weakref.ref(self))

    @property
    def contained_objects(self) -> list[SpikeforgeObject]:
        """Objects that run together with this one (none by default)."""
        return []

    #: Set when the implicit network has run this object, and when it has left it (an object
    #: run before that a script no longer refers to while it runs new ones: Brian2's rule).
    _ran_in_magic_network = False
    _left_magic_network = False

    def _dependencies(self) -> list[SpikeforgeObject]:
        """The objects this one needs in the same network (a monitor's source, the groups a
        synapse connects...)."""
        return []

    def roles(self, context: BuildContext) -> list[Role]:  # pragma: no cover - interface
        """The scheduled roles of this object for one network run."""
        raise NotImplementedError

    def before_run(self, context: BuildContext) -> None:
        """Checks and preparations just before a run (units, namespace, record sizes)."""

    def after_run(self) -> None:
        """Called after each run of the network."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # pickling (simulations sent to other processes, e.g. by multiprocessing) ----------------
    #: Attributes holding namespaces captured from the caller's frame: only their plain values
    #: are pickled (see namespace.picklable_namespace).
    _namespace_attributes = ("_creation_namespace", "_run_namespace")

    def __getstate__(self) -> dict:
        from spikeforge.model.namespace import picklable_namespace  # a cycle: it imports this

        state = dict(self.__dict__)
        for name in self._namespace_attributes:
            if isinstance(state.get(name), dict):
                state[name] = picklable_namespace(state[name])
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        _instances.append(weakref.ref(self))  # found by run() like an object made here

    # state: each class extends its parent's -------------------------------------------------
    def _full_state(self) -> dict:
        """A copy of everything a run changes in this object (for ``store()``): a tree of dicts
        whose leaves are NumPy arrays."""
        return {}

    def _check_full_state(self, state: dict) -> None:
        """Raise ``ValueError`` if ``state`` (from :meth:`_full_state`) does not fit this object.
        Changes nothing, so that a failed restore leaves the network as it was."""
        if not isinstance(state, dict):
            raise state_problem(self, "it is not a state")

    def _restore_from_full_state(self, state: dict) -> None:
        """Put back a state that :meth:`_check_full_state` accepted (arrays are copied in
        place, so that generated code holding them keeps working)."""

    def _state_entries(self) -> dict[str, Entry]:
        """The names ``get_states``/``set_states`` know for this object."""
        return {}


def choose_clock(dt, clock, owner: str):
    """The clock of an object given ``dt=`` (a new clock) or ``clock=`` (default: defaultclock)."""
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
    # the first of base, base_1, base_2... that no existing object has (Brian2's rule: the name
    # of an object that is gone can be taken again)
    base = name[:-1]
    taken = {obj.name for obj in (ref() for ref in _instances) if obj is not None}
    if base not in taken:
        return base
    return next(f"{base}_{k}" for k in itertools.count(1) if f"{base}_{k}" not in taken)


def with_context(error: ExpressionError, obj: SpikeforgeObject, what: str) -> ExpressionError:
    """Say in an error which object (and which of its parts) the problem is in."""
    return error.with_context(f"{type(obj).__name__} {obj.name!r}, {what}")
