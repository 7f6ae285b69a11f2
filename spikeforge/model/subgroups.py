"""Subgroups: ``G[a:b]``, a contiguous part of a group (Brian2's ``Subgroup``).

A subgroup owns no state: its variables are views of its parent's arrays from ``start`` to
``stop``, so reads and writes (``G[:10].v = ...``, string assignments, monitors, synapses and
PoissonInput targets) reach the parent's elements, with indices relative to the subgroup
(``i`` counts from 0, ``N`` is the subgroup's size).  Generated code receives the address of the
view, an argument like any array: another slice of the same structure compiles nothing.

As a source of events (synapses, spike and event monitors), a subgroup has a buffer of its
own: in each step a role copies the parent's events within ``start``..``stop`` into it, shifted
to subgroup indices, right after the parent's threshold (or event condition).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from spikeforge.codegen.render import Role
from spikeforge.codegen.translate import TranslatedRole
from spikeforge.pipeline import BuildContext
from spikeforge.model.base import SpikeforgeObject
from spikeforge.model.groups import Group
from spikeforge.model.state import state_problem
from spikeforge.model.variables import Variable
from spikeforge.units import DIMENSIONLESS


def subgroup_bounds(group: Group, item) -> tuple[int, int]:
    """``(start, stop)`` of ``group[item]`` (a slice with step 1, or one index), relative to
    ``group``; an error naming the group otherwise."""
    owner = f"{type(group).__name__} {group.name!r}"
    if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
        index = int(item) + (group.N if item < 0 else 0)
        if not 0 <= index < group.N:
            raise IndexError(f"{owner}: index {item} is outside 0..{group.N - 1}")
        return index, index + 1
    if not isinstance(item, slice):
        raise TypeError(f"{owner}: a subgroup is a contiguous slice such as G[10:20], not {item!r}")
    start, stop, step = item.indices(group.N)
    if step != 1:
        raise IndexError(f"{owner}: a subgroup needs a slice with step 1, got {item!r}")
    if stop <= start:
        raise IndexError(f"{owner}: the slice {item!r} selects no element of {group.N}")
    return start, stop


class Subgroup(Group):
    """Elements ``start`` to ``stop - 1`` of a group (made by ``group[start:stop]``)."""

    code_kind = "sub"

    def __init__(self, source: Group, start: int, stop: int, name: str | None = None):
        parent = source.source if isinstance(source, Subgroup) else source
        offset = source.start if isinstance(source, Subgroup) else 0
        self.source = parent
        self.start = offset + start
        self.stop = offset + stop
        # scheduled (for its event roles) after its parent, which runs in the 'groups' slot
        SpikeforgeObject.__init__(self, name or f"{parent.name}_subgroup*", "thresholds")
        self.clock = parent.clock
        self.N = self.stop - self.start
        self.namespace = parent.namespace
        self._time = parent._time
        self._run_namespace = {}
        self._creation_namespace = {}
        self.variables: dict[str, Variable] = {}
        for name_, variable in parent.variables.items():
            self.variables[name_] = self._view(variable)
        self.variables["i"] = Variable(
            "i", DIMENSIONLESS, np.arange(self.N, dtype=np.int32), "integer", read_only=True
        )
        # event buffers, filled from the parent's: indices, their count at [N]
        self._buffers = {event: np.zeros(self.N + 1, dtype=np.int32) for event in parent.events}
        self._spikes = self._buffers.get("spike")
        self._frozen = True

    def _view(self, variable: Variable) -> Variable:
        if variable.storage is None or variable.shared:
            view = dataclasses.replace(variable)
        else:
            view = dataclasses.replace(variable, storage=variable.storage[self.start : self.stop])
        if hasattr(variable, "expression_text"):
            view.expression_text = variable.expression_text
        return view

    def __repr__(self) -> str:
        return f"<Subgroup {self.name!r} of {self.source.name!r}: {self.start} to {self.stop}>"

    # what a group of the parent's kind answers -------------------------------------------------
    @property
    def state_owner(self) -> Group:
        return self.source

    @property
    def events(self) -> dict:
        return self.source.events

    @property
    def _threshold_expr(self):
        return getattr(self.source, "_threshold_expr", None)

    @property
    def _spike_generator(self) -> bool:
        return getattr(self.source, "_spike_generator", False)

    def _event_slot(self, event: str) -> tuple[str, int]:
        return self.source._event_slot(event)

    def _event_buffer(self, event: str) -> tuple[str, np.ndarray]:
        if event not in self._buffers:
            raise ValueError(f"{self.source.name!r} has no event {event!r}")
        position = list(self._buffers).index(event)
        return ("spikes" if event == "spike" else f"_ev{position}"), self._buffers[event]

    def _substitute(self, expr):
        return self.source._substitute(expr)

    def writes_only_when_not_refractory(self, name: str) -> bool:
        return self.source.writes_only_when_not_refractory(name)

    def _dependencies(self) -> list[SpikeforgeObject]:
        return [self.source]

    @property
    def spikes(self) -> np.ndarray:
        """Indices (in the subgroup) of its elements that spiked in the last time step."""
        return self._spikes[: self._spikes[self.N]].copy()

    # state: the parent's, apart from the event buffers -----------------------------------------
    def _stored_variables(self) -> dict[str, Variable]:
        return {}

    def _full_state(self) -> dict:
        full = super()._full_state()
        full["events"] = {event: buffer.copy() for event, buffer in self._buffers.items()}
        return full

    def _check_full_state(self, full: dict) -> None:
        super()._check_full_state(full)
        stored = full.get("events", {})
        if set(stored) != set(self._buffers) or any(
            np.shape(stored[event]) != buffer.shape for event, buffer in self._buffers.items()
        ):
            raise state_problem(self, "its events do not match the subgroup's")

    def _restore_from_full_state(self, full: dict) -> None:
        super()._restore_from_full_state(full)
        for event, buffer in self._buffers.items():
            buffer[...] = full["events"][event]

    # roles: copy the parent's events into the subgroup's buffers -------------------------------
    def roles(self, context: BuildContext) -> list[Role]:
        prefix = context.prefix(self)
        roles = []
        for k, event in enumerate(self._buffers):
            parent_name, parent_buffer = self.source._event_buffer(event)
            name, buffer = self._event_buffer(event)
            when, order = self.source._event_slot(event)
            roles.append(
                Role(
                    f"{prefix}_events{k}",
                    "subgroup_events.pyx.j2",
                    f"the {event} events of a subgroup",
                    TranslatedRole([], [], [], [], [], []),
                    when,
                    order,
                    {
                        "parent_events": context.array(self.source, parent_name, parent_buffer),
                        "parent_size": context.scalar(
                            self.source, "N", lambda: self.source.N, "int64_t"
                        ),
                        "events": context.array(self, name, buffer),
                        "size": context.scalar(self, "N", lambda: self.N, "int64_t"),
                        "start": context.scalar(self, "start", lambda: self.start, "int64_t"),
                        "stop": context.scalar(self, "stop", lambda: self.stop, "int64_t"),
                    },
                )
            )
        return roles
