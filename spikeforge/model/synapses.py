"""``Synapses``: connections between groups, with spikes delivered through a C++ spike queue.

Storage: every synaptic variable (and the synapse indices ``i``, ``j``) lives in a C++
``std::vector`` owned by a runtime ``DynamicArray1D``; ``connect()`` appends to them from generated
code.  Each pathway (``on_pre``, ``on_post``) owns a runtime ``SpikeQueue``; at every step its
``push`` role hands the source's spikes to the queue and its ``synapses`` role runs the pathway's
statements for the synapses whose spikes arrive, both reaching the queue through its capsule.
"""

from __future__ import annotations

import ast
import os
import re
import warnings

import numpy as np
import sympy

from spikeforge import units
from spikeforge.codegen.equations import (
    DIFFERENTIAL,
    SUBEXPRESSION,
    EquationError,
    Equations,
)
from spikeforge.codegen.expressions import (
    ExpressionError,
    Statement,
    identifiers,
    is_boolean,
    parse_expression,
    parse_statements,
    random_calls,
    symbol,
)
from spikeforge.codegen.render import Role, code_draws_random_numbers
from spikeforge.codegen.stateupdaters import DT, IntegrationError, check_method_options, integrate
from spikeforge.codegen.translate import C_TYPES, Resolved, translate
from spikeforge.pipeline import BuildContext, run_once, schedule_position
from spikeforge.model.base import SpikeforgeObject, choose_clock
from spikeforge.model.clock import defaultclock, steps_until
from spikeforge.model.groups import NOISE_DIMENSION, Group, is_noise
from spikeforge.model.state import Entry, owner, state_problem
from spikeforge.model.subgroups import Subgroup
from spikeforge.model.namespace import caller_namespace, user_namespace
from spikeforge.model.variables import (
    SECOND,
    StorageTypes,
    DeferredArray,
    GroupScope,
    Variable,
    check_assigned_units,
    check_dimension,
    compartment_indices,
    has_compartment_indices,
    make_variable,
    linked_subexpressions,
)
from spikeforge.runtime import containers
from spikeforge.runtime.driver import run_deferred
from spikeforge.runtime.queues import QueueParts, block_of, convert_entries
from spikeforge.units import DIMENSIONLESS, Quantity, get_dimensions

#: An element write in generated code, ``_ptr_v[_post_idx] = v``: the index local it writes at.
_WRITTEN_AT = re.compile(r"\[(\w+)\]\s*=(?!=)")


def _spiking(group, role: str, owner: str = "Synapses") -> None:
    neurons = group
    while hasattr(neurons, "source") and not hasattr(neurons, "threshold"):
        neurons = neurons.source  # a subgroup spikes when its group does
    if hasattr(neurons, "threshold") and neurons.threshold is None:
        raise ValueError(
            f"{owner}: the {role} {group.name!r} never spikes: it has no threshold (give "
            f"NeuronGroup {neurons.name!r} threshold=..., or drop the "
            f"{'on_pre' if role == 'source' else 'on_post'} code that would run on its spikes)"
        )
    if getattr(group, "_spikes", None) is None:
        raise TypeError(f"{owner}: the {role} {group!r} is not a group that emits spikes")


def _emitting(group, event: str, role: str, owner: str) -> None:
    """Raise unless ``group`` emits ``event`` (spikes, or a custom event of a NeuronGroup)."""
    if event == "spike":
        _spiking(group, role, owner)
        return
    events = getattr(group, "events", None) or {}
    if event not in events:
        known = ", ".join(repr(name) for name in events) or "none"
        raise ValueError(
            f"{owner}: the {role} {group.name!r} has no event {event!r} (its events: {known})"
        )


#: The name a generator's loop variable (``k`` of ``j='i + k for k in range(3)'``) has in the
#: parsed expressions; generated code holds its value in ``_k``.
LOOP_VARIABLE = "_generator_k"


def _placed(group) -> tuple:
    """``(underlying group, offset)``: where a group or subgroup's elements are."""
    return (group.source, group.start) if isinstance(group, Subgroup) else (group, 0)


def _equation_kind(group, name: str) -> str | None:
    """What defines ``name`` in the equations of ``group`` (or of the group it is part of):
    ``'a differential equation's variable'``, ``'a subexpression'``, or None."""
    root, _ = _placed(group)
    equations = getattr(root, "equations", None)
    if not isinstance(equations, Equations):
        return None
    if name in equations.diff_eq_names:
        return "the variable of a differential equation"
    if name in equations.subexpr_names:
        return "a subexpression"
    return None


def _path_to(equation, wanted: set[str], subexpressions: dict, seen: set) -> list[str] | None:
    """The names through which ``equation`` uses one of ``wanted``, directly or through
    ``subexpressions`` (name -> equation), ending with that name; None if it uses none."""
    for name in sorted(identifiers(equation.expression)):
        if name in wanted:
            return [name]
        if name in subexpressions and name not in seen:
            seen.add(name)
            found = _path_to(subexpressions[name], wanted, subexpressions, seen)
            if found is not None:
                return [name] + found
    return None


def _renamed_argument(owner: str, old: str, old_value, new: str, new_value):
    """The value of argument ``new``, given under its old name ``old`` (Brian2 accepts both,
    and warns that the old one is deprecated)."""
    if old_value is None:
        return new_value
    if new_value is not None:
        raise TypeError(f"{owner}: give {new}= only ({old}= is its old name)")
    warnings.warn(
        f"{owner}: {old}= is the deprecated name of {new}= (as in Brian2); use {new}=",
        FutureWarning,
        stacklevel=4,
    )
    return old_value


def _neuron_selection(item, group) -> np.ndarray:
    """The indices in ``group`` (a Synapses' source or target) that ``item`` of ``S.w[i, j]``
    selects: a number, a slice, an array, or a subgroup of the same neurons.  As in Brian2, an
    index that no neuron has selects nothing rather than raising."""
    if isinstance(item, Group):  # a group or subgroup: by position in the underlying group
        root, start = _placed(item)
        own_root, own_start = _placed(group)
        if root is not own_root:
            raise IndexError(
                f"{item.name!r} is not part of {group.name!r}, so it can't select its synapses"
            )
        return np.arange(start, start + item.N) - own_start
    if isinstance(item, slice):
        return np.arange(group.N)[item]
    return np.atleast_1d(np.asarray(item))


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


class SynapseScope(GroupScope):
    """Names in synaptic code: synaptic variables (at ``_idx``), ``x_pre`` (the presynaptic
    neuron's ``x``), ``x_post`` or a bare postsynaptic name (the postsynaptic neuron's)."""

    def __init__(self, synapses, context, namespace, pre_index="_pre_idx", post_index="_post_idx"):
        super().__init__(synapses, context, namespace)
        self.pre_index = pre_index
        self.post_index = post_index

    def _neuron_variable(self, name: str):
        synapses = self.group
        if name.endswith("_pre") and name[:-4] in synapses.source.variables:
            return synapses.source, synapses.source.variables[name[:-4]], self.pre_index
        if name.endswith("_post") and name[:-5] in synapses.target.variables:
            return synapses.target, synapses.target.variables[name[:-5]], self.post_index
        if name not in synapses.variables and name in synapses.target.variables:
            return synapses.target, synapses.target.variables[name], self.post_index
        return None

    def resolve(self, name: str) -> Resolved:
        if name in self.internal:
            return self.internal[name]
        synapses = self.group
        if name in ("N_pre", "N_post"):
            group = synapses.source if name == "N_pre" else synapses.target
            static = self.context.scalar(synapses, name, lambda: group.N, "int64_t")
            return Resolved("scalar", static=static, local_type="int64_t")
        found = self._neuron_variable(name)
        if found is not None:
            group, variable, index = found
            if not (variable.has_storage or variable.linked):
                raise ExpressionError(
                    f"{name!r} is a subexpression of {group.name!r}; use it in the group's "
                    "equations, not in synaptic code"
                )
            if variable.name == "i":
                return Resolved("index", literal=index)
            return self.element(group, variable, variable.name, "0" if variable.shared else index)
        return super().resolve(name)

    def dimension(self, name: str):
        if name in ("N_pre", "N_post"):
            return DIMENSIONLESS
        found = self._neuron_variable(name)
        if found is not None:
            return found[1].dimension
        return super().dimension(name)


class ConnectScope(SynapseScope):
    """Names in ``connect()`` conditions: ``i``, ``j`` and ``x_pre``/``x_post``."""

    def __init__(self, synapses, context, namespace):
        super().__init__(synapses, context, namespace, pre_index="_i", post_index="_j")

    def resolve(self, name: str) -> Resolved:
        if name == "i":
            return Resolved("index", literal="_i")
        if name == "j":
            return Resolved("index", literal="_j")
        if name in self.group.variables and name not in ("N_incoming", "N_outgoing"):
            raise ExpressionError(
                f"connect() conditions cannot use the synaptic variable {name!r}: "
                "the synapses do not exist yet"
            )
        return super().resolve(name)

    def dimension(self, name: str):
        if name in ("i", "j"):
            return DIMENSIONLESS
        return super().dimension(name)


def _count(values: np.ndarray, n: int, chunk: int = 1 << 20) -> np.ndarray:
    """How often each of 0..n-1 occurs in ``values`` (np.bincount makes an int64 copy of its
    input: counted in chunks, the temporary stays small)."""
    counts = np.zeros(n, dtype=np.int64)
    for start in range(0, len(values), chunk):
        counts += np.bincount(values[start : start + chunk], minlength=n)
    return counts


class SynapseCounter:
    """For each synapse of ``synapses``, the number of synapses sharing its ``index`` (``i`` or
    ``j``) among the ``group.N`` neurons (``N_outgoing``/``N_incoming``, computed when read)."""

    def __init__(self, synapses, index: str, group):
        self.synapses, self.index, self.group = synapses, index, group

    def __call__(self) -> np.ndarray:
        storage = self.synapses.variables[self.index].dynamic
        if isinstance(storage, PresynapticIndices) and not storage.allocated:
            counts = storage.counts()
            return np.repeat(counts, counts)  # synapses are grouped when i is compact
        values = storage.view()
        return _count(values, self.group.N)[values]


class MultisynapticIndex:
    """For each synapse of ``synapses``, how many synapses between the same pair of neurons
    were made before it (Brian2's ``multisynaptic_index``: 0, 1, 2... per pair, in the order
    of the synapse indices)."""

    def __init__(self, synapses):
        self.synapses = synapses

    def __call__(self) -> np.ndarray:
        pre = self.synapses.variables["i"].array.astype(np.int64)
        post = self.synapses.variables["j"].array.astype(np.int64)
        pair = pre * self.synapses.target.N + post
        order = np.argsort(pair, kind="stable")  # each pair's synapses in index order
        ranked = pair[order]
        first = np.ones(ranked.size, dtype=bool)
        first[1:] = ranked[1:] != ranked[:-1]
        position = np.arange(ranked.size)
        start = np.maximum.accumulate(np.where(first, position, 0))
        index = np.empty(ranked.size, dtype=np.int32)
        index[order] = position - start
        return index


class PresynapticIndices:
    """The presynaptic index ``i`` of every synapse, stored as per-source ranges when it can be.

    It stands in for a runtime ``DynamicArray1D`` (same methods).  ``connect()`` appends to the
    array; afterwards, when the indices do not decrease (connect() creates synapses source by
    source), :meth:`compact` keeps only where each source's synapses start, ``offsets``
    (``N_pre + 1`` numbers instead of one per synapse), and the queue of the ``pre`` pathway is
    prepared from those ranges.  Anything that needs the elements (generated code that reads a
    presynaptic index, a user's read, another ``connect()``) gets them back through
    :meth:`view` or :meth:`capsule`, which rebuild the array.
    """

    dtype = "int32"

    def __init__(self, n_sources: int):
        self.n_sources = n_sources
        self.stored = containers().DynamicArray1D("int32")
        self.offsets = None  #: int32 array of n_sources + 1 entries while compact

    @property
    def allocated(self) -> bool:
        return self.stored is not None

    def __len__(self) -> int:
        return len(self.stored) if self.stored is not None else int(self.offsets[-1])

    def counts(self) -> np.ndarray:
        """The number of synapses of each source."""
        if self.stored is None:
            return np.diff(self.offsets)
        return _count(self.stored.view(), self.n_sources)

    def compact(self, chunk: int = 1 << 20) -> None:
        """Keep only per-source ranges, if the indices do not decrease."""
        if self.stored is None:
            return
        values = self.stored.view()
        for start in range(0, max(len(values) - 1, 0), chunk):  # in chunks: small temporaries
            stop = min(start + chunk, len(values) - 1)
            if np.any(values[start + 1 : stop + 1] < values[start:stop]):
                return
        # sorted: where each source starts (bincount would make an int64 copy of the values)
        sources = np.arange(self.n_sources + 1, dtype=np.int32)
        offsets = np.searchsorted(values, sources, side="left").astype(np.int32)
        self.set_offsets(offsets)

    def set_offsets(self, offsets: np.ndarray) -> None:
        """Hold the indices as per-source ranges: source k's synapses are
        ``offsets[k]:offsets[k + 1]`` (``n_sources + 1`` numbers)."""
        self.offsets, self.stored = np.asarray(offsets, dtype=np.int32), None

    def _allocate(self):
        if self.stored is None:
            stored = containers().DynamicArray1D("int32")
            stored.resize(int(self.offsets[-1]))
            values, offsets = stored.view(), self.offsets
            step = 4096  # sources at a time: no temporary of the full size
            for first in range(0, self.n_sources, step):
                last = min(first + step, self.n_sources)
                values[offsets[first] : offsets[last]] = np.repeat(
                    np.arange(first, last, dtype=np.int32), np.diff(offsets[first : last + 1])
                )
            self.stored, self.offsets = stored, None
        return self.stored

    def view(self) -> np.ndarray:
        return self._allocate().view()

    def to_numpy(self) -> np.ndarray:
        return self._allocate().to_numpy()

    def capsule(self):
        return self._allocate().capsule()

    def resize(self, size: int) -> None:
        self._allocate().resize(size)

    def clear(self) -> None:
        self.resize(0)

    def append_array(self, values) -> None:
        self._allocate().append_array(values)


class PathwayView:
    """A pathway as a script sees it (``S.pre``, ``S.post``, or ``S.up`` for
    ``on_pre={'up': ...}``): its ``delay`` (a time, read and set), ``code``, ``event`` and
    ``name``.  The ``pre`` pathway's delay is the synapses' ``delay`` variable, one per synapse;
    any other pathway has one delay for all its synapses (in Brian2 it may have one per synapse
    too, when the constructor gives it none)."""

    def __init__(self, pathway: "SynapticPathway"):
        object.__setattr__(self, "_pathway", pathway)

    @property
    def delay(self):
        pathway = self._pathway
        if pathway.per_synapse:
            return pathway.synapses.delay
        return Quantity(pathway.delay or 0.0, dim=SECOND)

    @delay.setter
    def delay(self, value) -> None:
        pathway = self._pathway
        if pathway.per_synapse:
            pathway.synapses.delay = value
            return
        owner = f"Synapses {pathway.synapses.name!r}, pathway {pathway.name!r}"
        if isinstance(value, str) or np.ndim(value) != 0:
            raise NotImplementedError(
                f"{owner}: spikeforge gives this pathway one delay for all its synapses; only "
                "the 'pre' pathway (S.delay) has a delay per synapse. Give a single time."
            )
        if get_dimensions(value) != SECOND:
            raise units.DimensionMismatchError(
                f"{owner}: the delay must be a time, got {value!r}", get_dimensions(value)
            )
        if not float(np.asarray(value)) >= 0:
            raise ValueError(f"{owner}: the delay cannot be negative, got {value!r}")
        run_deferred()  # a connect() still queued reads the delay as it was
        pathway.delay = float(np.asarray(value))

    def __getattr__(self, name: str):
        if name in ("code", "event", "name", "prepost", "source"):
            return getattr(self._pathway, name)
        raise AttributeError(f"a pathway of Synapses has no attribute {name!r}")

    def __setattr__(self, name: str, value) -> None:
        if name != "delay":
            raise AttributeError(f"a pathway's {name!r} cannot be set (only its delay)")
        super().__setattr__(name, value)  # the delay's setter

    def __repr__(self) -> str:
        pathway = self._pathway
        return f"<pathway {pathway.name!r} of Synapses {pathway.synapses.name!r}>"


class SynapticPathway:
    """One direction of spike transmission (``on_pre`` or ``on_post``) with its queue."""

    def __init__(
        self, synapses, name: str, prepost: str, code: str, delay, per_synapse=False, event="spike"
    ):
        self.synapses = synapses
        self.name = name
        self.prepost = prepost
        self.event = event  # the event of the source that triggers the pathway
        self.source = synapses.source if prepost == "pre" else synapses.target
        self.order = -1 if prepost == "pre" else 1
        self.code = code
        self.delay = delay  # a scalar in seconds (the initial value if per synapse) or None
        self.per_synapse = per_synapse  # delays from the synapses' `delay` variable
        owner = f"Synapses {synapses.name!r}, on_{prepost}"
        try:
            self.statements = parse_statements(code)
        except ExpressionError as error:
            raise error.with_context(owner) from None
        self.queue = containers().SpikeQueue()
        #: In a threaded run, the queues per block of targets that replace ``queue``.
        self.parts = QueueParts()
        #: What the queue holds: synapse indices (None), or the neuron index of each synapse
        #: ("i" or "j") when the statements need nothing else; set when the roles are made.
        self.queued: str | None = None
        #: How a threaded run splits delivery: by the neuron each synapse writes ("i", "j"),
        #: by synapse ("synapses"), or not at all (None); set when the roles are made.
        self.partition: str | None = None
        self._restored: str | None = None  # what restored pending entries are, until a run
        #: The time step (seconds) the pending spikes' slots are counted in: that of the last
        #: run, or of a restored snapshot (None: no run yet).
        self.queue_dt: float | None = None

    @property
    def pending_entries(self) -> str:
        """What the queue's pending entries are: ``"synapses"`` (indices), or the index of
        the neurons they reach, ``"i"`` or ``"j"``."""
        if self.parts.active:
            return self.parts.kind
        if not self.queue.holds_values:
            return "synapses"
        return self.queued or self._restored or "synapses"

    def pending_spikes(self):
        """The pending spikes, ``(counts, entries)`` as ``SpikeQueue.pending_spikes()`` gives
        them, whichever queues hold them (entries: :attr:`pending_entries`)."""
        if self.parts.active:
            return self.parts.pending_spikes()
        return self.queue.pending_spikes()

    @property
    def n_pending(self) -> int:
        """The number of synaptic events waiting in the pathway's queues."""
        return self.parts.n_pending if self.parts.active else self.queue.n_pending

    def set_pending_spikes(self, counts, entries, kind: str) -> None:
        """Replace the pending spikes (``kind``: what the entries are, as
        :attr:`pending_entries`).  After a threaded run they go into its queues per block of
        targets, which stay where they are: a restore() from a network operation changes no
        queue the running module holds."""
        if not self.parts.active:
            self._set_single_queue(counts, entries, kind)
            return
        held = self.parts.kind
        indices = self._index_arrays(held, self.partition)
        entries = convert_entries(np.asarray(entries, dtype=np.int32), kind, held, indices)
        parts = self._part_of_entries(entries, held, indices, self.parts.n_parts)
        self.parts.set_pending_spikes(np.asarray(counts), entries, parts)

    def _set_single_queue(self, counts, entries, kind: str) -> None:
        if kind == "synapses" and self.queued and self.queue.holds_values:
            # the queue is prepared to hold neuron indices (and may be in a run, from a network
            # operation): give it those, not synapse indices it would take for neurons
            indices = self._index_arrays(self.queued)
            entries = convert_entries(
                np.asarray(entries, dtype=np.int32), kind, self.queued, indices
            )
            kind = self.queued
        self.parts.release()
        self.queue.set_pending_spikes(counts, entries, kind != "synapses")
        self._restored = None if kind == "synapses" else kind

    def _take_back_parts(self) -> None:
        # the parts' pending spikes go back to the single queue (a serial run after a threaded
        # one); the next prepare() of the queue converts them as it needs
        if self.parts.active:
            kind = self.parts.kind
            self._set_single_queue(*self.parts.pending_spikes(), kind)

    def _index_arrays(self, *names) -> dict:
        # the arrays "i" and "j" (of every synapse) among `names`; other names are ignored
        return {name: self._neuron_indices(name) for name in sorted(set(names) & {"i", "j"})}

    def _part_of_entries(
        self, entries: np.ndarray, kind: str, indices: dict, parts: int
    ) -> np.ndarray:
        # the part (block of targets) of each entry of `kind` ("synapses", "i" or "j")
        if kind == "synapses" and self.partition == "synapses":
            return block_of(entries, self.synapses.N, parts)
        name = self.partition if kind == "synapses" else kind
        group = self.synapses.source if name == "i" else self.synapses.target
        neurons = indices[name][entries] if kind == "synapses" else entries
        return block_of(neurons, group.N, parts)

    def prepare_queue(self, dt: float, parts: int = 1) -> None:
        """Give the queue the synapses of each source and their delays in steps; with
        ``parts`` > 1 (a threaded run, a pathway with a :attr:`partition`), give them to one
        queue per block of targets instead (:class:`QueueParts`)."""
        if self.queue_dt is not None and self.queue_dt != dt and self.n_pending:
            self._rebin_pending(self.queue_dt / dt)
        self.queue_dt = dt
        if parts > 1 and self.partition is not None:
            self._prepare_parts(dt, parts)
            return
        self._take_back_parts()
        synapses = self.synapses
        seconds, uniform = self._delays()
        # delays are rounded to the nearest step; the queue derives each source's synapse range
        # and copies no per-synapse array it can do without
        indices = synapses.variables["i"].dynamic
        values = synapses.variables[self.queued].array if self.queued else None
        if self.prepost == "pre" and not indices.allocated:
            self.queue.prepare_grouped(indices.offsets, seconds, uniform, dt, values)
            return
        sources = synapses.variables["i" if self.prepost == "pre" else "j"].array
        self.queue.prepare_from_sources(sources, self.source.N, seconds, uniform, dt, values)

    def _rebin_pending(self, factor: float) -> None:
        # dt changed between runs: a spike due in k old steps is due in k * old/new new steps,
        # rounded to the nearest (as Brian2 does); spikes that meet in one slot keep their order
        counts, entries = self.pending_spikes()
        slot_of_entry = np.repeat(np.arange(len(counts)), counts)
        new_slots = np.floor(slot_of_entry * factor + 0.5).astype(np.int64)
        order = np.argsort(new_slots, kind="stable")
        new_counts = np.bincount(
            new_slots, minlength=int(new_slots.max()) + 1 if len(new_slots) else 0
        )
        self.set_pending_spikes(new_counts, np.asarray(entries)[order], self.pending_entries)

    def _delays(self):
        # (delay of each synapse in seconds, or None; the delay of all when that is None)
        if self.per_synapse:
            delay = self.synapses.variables["delay"].dynamic
            if delay.allocated:
                return delay.view(), 0.0
            return None, delay.fill
        return None, self.delay or 0.0

    def _neuron_indices(self, name: str) -> np.ndarray:
        # "i" or "j" of every synapse (i may be stored as ranges only: PresynapticIndices)
        synapses = self.synapses
        indices = synapses.variables["i"].dynamic
        if name == "i" and not indices.allocated:
            counts = np.diff(np.asarray(indices.offsets))
            return np.repeat(np.arange(len(counts), dtype=np.int32), counts)
        return np.asarray(synapses.variables[name].array)

    def _prepare_parts(self, dt: float, parts: int) -> None:
        n_synapses = self.synapses.N
        kind = self.queued or "synapses"
        source_index = "i" if self.prepost == "pre" else "j"
        indices = self._index_arrays(kind, self.partition, source_index)
        if self.partition == "synapses":
            every = np.arange(n_synapses)
            part_of_synapse = self._part_of_entries(every, "synapses", indices, parts)
        else:  # each synapse by its neuron
            every = indices[self.partition]
            part_of_synapse = self._part_of_entries(every, self.partition, indices, parts)
        # the pending spikes, wherever they are, as entries of this run's kind, with their part
        if self.parts.active:
            counts, entries = self.parts.pending_spikes()
            held = self.parts.kind
        else:
            counts, entries = self.queue.pending_spikes()
            held = self.pending_entries
        entries = convert_entries(entries, held, kind, indices)
        part_of_entry = self._part_of_entries(entries, kind, indices, parts)
        seconds, uniform = self._delays()
        values = indices[kind] if kind != "synapses" else np.arange(n_synapses, dtype=np.int32)
        sources = indices[source_index]
        self.parts.prepare(
            parts,
            sources,
            self.source.N,
            seconds,
            uniform,
            dt,
            part_of_synapse,
            values,
            kind,
            (counts, entries, part_of_entry),
        )
        self.queue.clear()
        self._restored = None


class SynapseIndexing:
    """``Synapses.indices``: turns Brian2's ways of indexing synapses into synapse indices."""

    def __init__(self, synapses):
        self.synapses = synapses

    def __getitem__(self, item) -> np.ndarray:
        synapses = self.synapses
        if isinstance(item, str):
            return synapses._indices_for_condition(item, level=1)
        if isinstance(item, tuple):
            if len(item) == 3:
                if synapses.multisynaptic_index is None:
                    raise IndexError(
                        f"Synapses {synapses.name!r}: indices[i, j, k] needs the synapses to be "
                        "made with multisynaptic_index='k' (or another name)"
                    )
                found = synapses.synapse_indices(*item[:2])
                k = synapses.variables[synapses.multisynaptic_index].array[found]
                wanted = np.atleast_1d(np.arange(int(k.max()) + 1 if k.size else 0)[item[2]])
                return found[np.isin(k, wanted)]
            if len(item) != 2:
                raise IndexError("index synapses by [i, j]: presynaptic and postsynaptic indices")
            return synapses.synapse_indices(*item)
        return np.atleast_1d(np.arange(synapses.N)[item])

    def __call__(self, item=None) -> np.ndarray:
        return self[slice(None) if item is None else item]


class SummedUpdater:
    """The schedule of one summed variable of a :class:`Synapses` (Brian2's
    ``S.summed_updaters['v_post']``): ``when`` (default ``'groups'``) and ``order`` (default:
    one before the target group's)."""

    def __init__(self, name: str):
        self.name = name
        self._when = "groups"
        self.order: int | None = None

    @property
    def when(self) -> str:
        return self._when

    @when.setter
    def when(self, value: str) -> None:
        schedule_position(value)  # an error for an unknown slot
        self._when = value

    def __repr__(self) -> str:
        return f"<summed variable {self.name!r}: when={self.when!r}, order={self.order!r}>"


class Synapses(Group):
    """Synapses between a source and a target group (Brian2's ``Synapses``).

    Parameters
    ----------
    source, target
        Groups that emit spikes (``target`` defaults to ``source``).
    model
        Synaptic equations: parameters (``w : volt``), ``(summed)`` subexpressions that set a
        postsynaptic (``x_post``) or presynaptic variable, and differential equations flagged
        ``(clock-driven)`` or ``(event-driven)``.
    on_pre, on_post
        Statements run when a presynaptic (postsynaptic) spike arrives at a synapse; a dict gives
        several pre pathways by name.
    delay
        Transmission delay of the ``on_pre`` pathway: a time for all synapses, or ``None`` and
        per-synapse values set later with ``S.delay = ...``; a dict gives delays per pathway.
    on_event
        The event of the source (for ``on_pre``) or target (for ``on_post``) that triggers a
        pathway: ``'spike'`` (the default), a custom event of a ``NeuronGroup`` (``events=``),
        or a dict ``{pathway name: event}`` (pathways not named get ``'spike'``).
    dtype
        How float synaptic variables are stored, as for :class:`NeuronGroup`.
    method
        Integration method for clock-driven equations.
    method_options
        As for :class:`NeuronGroup`.
    """

    code_kind = "syn"

    def __init__(
        self,
        source,
        target=None,
        model="",
        on_pre=None,
        on_post=None,
        delay=None,
        on_event="spike",
        multisynaptic_index=None,
        namespace=None,
        dtype=None,
        method=None,
        method_options=None,
        dt=None,
        clock=None,
        order=0,
        name="synapses*",
        *,
        pre=None,
        post=None,
        connect=None,
    ):
        target = source if target is None else target
        SpikeforgeObject.__init__(self, name, "groups", order)
        owner = f"Synapses {self.name!r}"
        if connect is not None:
            raise TypeError(
                f"{owner}: connect= is no longer an argument of Synapses (nor in Brian2); call "
                "S.connect(...) after making the synapses"
            )
        on_pre = _renamed_argument(owner, "pre", pre, "on_pre", on_pre)
        on_post = _renamed_argument(owner, "post", post, "on_post", on_post)
        self._dtypes = StorageTypes(dtype, owner)
        self.clock = choose_clock(dt, clock, owner)
        if multisynaptic_index is not None and not (
            isinstance(multisynaptic_index, str) and multisynaptic_index.isidentifier()
        ):
            raise TypeError(
                f"{owner}: multisynaptic_index must be the name of a variable to create, "
                f"not {multisynaptic_index!r}"
            )
        self.multisynaptic_index = multisynaptic_index
        self.source = source
        self.target = target
        self.namespace = namespace
        self.method = method
        try:
            self.method_options = check_method_options(method, method_options)
        except IntegrationError as error:
            raise error.with_context(owner) from None
        self.method_used = None
        self._time = 0.0
        self._run_namespace = {}
        self._creation_namespace = user_namespace() if namespace is None else {}
        self.variables: dict[str, Variable] = {}
        try:
            self.equations = model if isinstance(model, Equations) else Equations(model)
        except ExpressionError as error:
            raise error.with_context(owner) from None
        self._check_flags(owner)
        self._hold_constant_over_dt(owner)
        self._add_variables()
        self.pathways: list[SynapticPathway] = []
        self._add_pathways(on_pre, on_post, delay, on_event, owner)
        self._add_constant_over_dt_updater()
        self._connect_called = False
        self._frozen = True

    # construction -------------------------------------------------------------------------------
    def _check_flags(self, owner: str) -> None:
        summed_targets: dict[tuple, str] = {}  # (id(group), variable): summed name
        for equation in self.equations:
            if "unless refractory" in equation.flags:
                raise EquationError(
                    "(unless refractory) is for neuron groups", equation.text, owner
                )
            if equation.kind == DIFFERENTIAL and not equation.flags & {
                "event-driven",
                "clock-driven",
            }:
                raise EquationError(
                    "a synaptic differential equation must be flagged (clock-driven) or "
                    "(event-driven)",
                    equation.text,
                    owner,
                )
            if "summed" in equation.flags:
                target_name, group = self._summed_target(equation.name)
                if group is None:
                    raise EquationError(
                        "a (summed) variable must be named after a variable of the target "
                        "(x_post) or of the source (x_pre)",
                        equation.text,
                        owner,
                    )
                target = group.variables.get(target_name)
                if target is None or not target.has_storage or target.read_only:
                    raise EquationError(
                        f"{group.name!r} has no parameter {target_name!r} to sum into",
                        equation.text,
                        owner,
                    )
                if target.dimension != equation.dimension:
                    raise EquationError(
                        f"the summed variable has units of {equation.dimension}, "
                        f"{target_name} has {target.dimension}",
                        equation.text,
                        owner,
                    )
                kind = _equation_kind(group, target_name)
                if kind is not None:
                    raise EquationError(
                        f"{target_name!r} of {group.name!r} is {kind}; a (summed) variable "
                        f"sums into a parameter (a line such as '{target_name} : <unit>')",
                        equation.text,
                        owner,
                    )
                key = (id(_placed(group)[0]), target_name)
                if key in summed_targets:
                    raise EquationError(
                        f"{summed_targets[key]!r} and {equation.name!r} both sum into "
                        f"{target_name!r} of {group.name!r}",
                        equation.text,
                        owner,
                    )
                summed_targets[key] = equation.name
        self.event_driven = [eq for eq in self.equations.differential if "event-driven" in eq.flags]
        self.clock_driven = [eq for eq in self.equations.differential if "clock-driven" in eq.flags]
        self.summed = [eq for eq in self.equations.subexpressions if "summed" in eq.flags]
        self._check_stale_reads(owner)
        self._summed_updaters = {eq.name: SummedUpdater(eq.name) for eq in self.summed}

    def _check_stale_reads(self, owner: str) -> None:
        # Values that would be read out of date: an event-driven variable is updated at events
        # from values that change between them (clock-driven variables), and a summed variable
        # at every step from values updated only at events (event-driven variables).
        subexpressions = {eq.name: eq for eq in self.equations.subexpressions}
        event_driven = {eq.name for eq in self.event_driven}
        clock_driven = {eq.name for eq in self.clock_driven}
        checks = [
            (
                self.event_driven,
                clock_driven,
                "event-driven",
                "clock-driven",
                "changes between events; make {name!r} (clock-driven) too",
            ),
            (
                self.summed,
                event_driven,
                "summed",
                "event-driven",
                "is only brought up to date at events; make {used!r} (clock-driven)",
            ),
        ]
        for equations, wanted, kind, used_kind, advice in checks:
            for equation in equations:
                found = _path_to(equation, wanted, subexpressions, set())
                if found is None:
                    continue
                path = " -> ".join(repr(name) for name in [equation.name] + found)
                raise EquationError(
                    f"the {kind} variable {equation.name!r} depends on the {used_kind} variable "
                    f"{found[-1]!r} ({path}), which "
                    + advice.format(name=equation.name, used=found[-1]),
                    equation.text,
                    owner,
                )

    def _summed_target(self, name: str):
        if name.endswith("_post"):
            return name[:-5], self.target
        if name.endswith("_pre"):
            return name[:-4], self.source
        return name, None

    def _dynamic(
        self, name, dimension, var_type="float", deferred=None, dtype=None, **flags
    ) -> Variable:
        """A per-synapse variable; ``deferred``: keyword arguments of a :class:`DeferredArray`
        (storage allocated only when needed) instead of a plain runtime array; ``dtype``: of a
        float variable (float64 unless given)."""
        if var_type in ("integer", "boolean"):
            dtype = "int32"
        else:
            dtype = "float64" if dtype is None else np.dtype(dtype).name
        if deferred is not None:
            storage = DeferredArray(dtype, **deferred)
        else:
            storage = containers().DynamicArray1D(dtype)
        variable = Variable(name, dimension, None, var_type, dynamic=storage, **flags)
        self.variables[name] = variable
        return variable

    def _add_variables(self) -> None:
        self.variables["i"] = Variable(
            "i",
            DIMENSIONLESS,
            None,
            "integer",
            dynamic=PresynapticIndices(self.source.N),
            read_only=True,
        )
        self._dynamic("j", DIMENSIONLESS, "integer", read_only=True)
        # counted from i and j when something reads them, not stored with every synapse
        for name, index, group in (
            ("N_incoming", "j", self.target),
            ("N_outgoing", "i", self.source),
        ):
            self._dynamic(
                name,
                DIMENSIONLESS,
                "integer",
                deferred={"compute": self._counter(index, group)},
                read_only=True,
            )
        if self.multisynaptic_index is not None:
            if self.multisynaptic_index in self.equations:
                raise ValueError(
                    f"Synapses {self.name!r}: multisynaptic_index={self.multisynaptic_index!r} "
                    "names a variable the model already defines"
                )
            # numbered when read, from i and j: 0, 1, ... over the synapses of each pair
            self._dynamic(
                self.multisynaptic_index,
                DIMENSIONLESS,
                "integer",
                deferred={"compute": MultisynapticIndex(self)},
                read_only=True,
            )
        for equation in self.equations:
            if equation.kind == SUBEXPRESSION:
                variable = Variable(
                    equation.name,
                    equation.dimension,
                    None,
                    equation.var_type,
                    read_only=True,
                    expression=equation.expression,
                )
                variable.expression_text = equation.expression_text
                self.variables[equation.name] = variable
            elif "shared" in equation.flags:  # one value for all synapses
                self.variables[equation.name] = make_variable(
                    equation.name,
                    equation.dimension,
                    1,
                    equation.var_type,
                    self._dtypes(equation.name, equation.var_type),
                    constant="constant" in equation.flags,
                    shared=True,
                )
            elif "linked" in equation.flags:  # values in another group: see linked_var
                self.variables[equation.name] = Variable(
                    equation.name, equation.dimension, None, equation.var_type, linked=True
                )
            else:
                self._dynamic(
                    equation.name,
                    equation.dimension,
                    equation.var_type,
                    dtype=self._dtypes(equation.name, equation.var_type),
                    constant="constant" in equation.flags,
                )
        self._dtypes.check_names(equation.name for equation in self.equations)
        if self.event_driven:
            self._dynamic("lastupdate", SECOND)

    def _counts_per_neuron(self, name: str) -> np.ndarray:
        """Brian2's ``S.N_incoming_post`` (synapses onto each postsynaptic neuron) and
        ``S.N_outgoing_pre`` (from each presynaptic neuron)."""
        run_deferred()  # connect() may still be queued
        index, group = ("j", self.target) if name == "N_incoming_post" else ("i", self.source)
        storage = self.variables[index].dynamic
        if isinstance(storage, PresynapticIndices) and not storage.allocated:
            return np.asarray(storage.counts(), dtype=np.int32)
        return _count(storage.view(), group.N).astype(np.int32)

    def _counter(self, index: str, group) -> SynapseCounter:
        """A function giving, for each synapse, the number of synapses sharing its ``index``."""
        return SynapseCounter(self, index, group)

    def _add_pathways(self, on_pre, on_post, delay, on_event, owner) -> None:
        delays = delay if isinstance(delay, dict) else {"pre": delay}
        pre_codes = on_pre if isinstance(on_pre, dict) else ({"pre": on_pre} if on_pre else {})
        post_codes = (
            on_post if isinstance(on_post, dict) else ({"post": on_post} if on_post else {})
        )
        names = {*pre_codes, *post_codes}
        if isinstance(on_event, dict):
            unknown = set(on_event) - names
            if unknown:
                raise ValueError(
                    f"{owner}: on_event names pathways that do not exist: {sorted(unknown)} "
                    f"(the pathways: {sorted(names)})"
                )
        elif not isinstance(on_event, str):
            raise TypeError(f"{owner}: on_event must be an event name or a dict, got {on_event!r}")
        for prepost, codes in (("pre", pre_codes), ("post", post_codes)):
            for name, code in codes.items():
                event = on_event.get(name, "spike") if isinstance(on_event, dict) else on_event
                group = self.source if prepost == "pre" else self.target
                _emitting(group, event, "source" if prepost == "pre" else "target", owner)
                value = delays.get(name)
                if isinstance(value, str):
                    hint = (
                        "; to give each synapse a delay of its own, assign it after connect(): "
                        f"S.delay = {value!r}"
                        if name == "pre"
                        else ""
                    )
                    raise TypeError(
                        f"{owner}: the delay of pathway {name!r} given here must be a time, not "
                        f"the expression {value!r}{hint}"
                    )
                if value is not None:
                    if get_dimensions(value) != SECOND or np.ndim(value) != 0:
                        raise units.DimensionMismatchError(
                            f"{owner}: the delay of pathway {name!r} must be a time, got {value!r}",
                            get_dimensions(value),
                        )
                    value = float(np.asarray(value))
                if name == "pre":
                    # per synapse and writable; a scalar delay is the value of new synapses.
                    # Stored per synapse only once set so (or read): until then the queue sees
                    # one delay for all
                    self._dynamic("delay", SECOND, deferred={"fill": value or 0.0})
                pathway = SynapticPathway(
                    self, name, prepost, code, value, per_synapse=name == "pre", event=event
                )
                self._check_code(pathway.statements, f"on_{prepost}")
                self.pathways.append(pathway)

    def _assigned_variable(self, target: str) -> Variable | None:
        """The variable an assignment to ``target`` writes: synaptic, ``x_pre``, ``x_post`` or
        a bare postsynaptic name; None for a temporary."""
        variable = self.variables.get(target)
        if variable is None:
            for suffix, group in (("_pre", self.source), ("_post", self.target)):
                if target.endswith(suffix) and target[: -len(suffix)] in group.variables:
                    variable = group.variables[target[: -len(suffix)]]
            if variable is None and target in self.target.variables:
                variable = self.target.variables[target]
        return variable

    def _is_temporary(self, name: str) -> bool:
        return self._assigned_variable(name) is None

    def _unknown_target(self, target: str) -> str:
        return (
            f"assignment to {target!r}, which is neither a synaptic variable nor a variable "
            "of the source (x_pre) or target (x_post)"
        )

    def _check_target(self, statement: Statement, where: str) -> None:
        variable = self._assigned_variable(statement.target)
        if not (variable.has_storage or variable.linked) or variable.read_only or variable.constant:
            raise ExpressionError(
                f"{statement.target!r} cannot be assigned to",
                statement.text,
                f"Synapses {self.name!r}, {where} line {statement.line_number}",
            )

    # size --------------------------------------------------------------------------------------
    @property
    def N(self) -> int:
        """The number of synapses."""
        run_deferred()  # a connect() may be waiting for its module
        return len(self.variables["i"].dynamic)

    def __len__(self) -> int:
        return self.N

    def _scope(self, context: BuildContext, namespace) -> GroupScope:
        return SynapseScope(self, context, namespace)

    def _index_lines(self, context: BuildContext, code=None, needed=()) -> list[str]:
        # An index the code does not use is no module argument: then `i` need not be stored
        # per synapse (see PresynapticIndices), and the loop loads nothing it drops.  Which
        # indices the code uses comes from translation (TranslatedRole.indices).
        lines = []
        for local, name in (("_pre_idx", "i"), ("_post_idx", "j")):
            if code is None or local in needed or local in code.indices:
                static = context.array(
                    self, name, lambda name=name: self.variables[name].array, np.int32
                )
                lines.append(f"{local} = {static}[_idx]")
        return lines

    def _substitute(self, expr):
        expr = linked_subexpressions(self, self.equations.substituted(expr))
        return self._neuron_subexpressions(expr)

    def _neuron_subexpressions(self, expr, depth: int = 0):
        """``x_post`` (or ``x_pre``, or a bare postsynaptic ``x``) where ``x`` is a subexpression
        of the neurons: its definition, with the neurons' names it uses read at the synapse's
        neuron (``v`` becomes ``v_post``), as in Brian2."""
        replacements = {}
        for s in expr.free_symbols:
            name = s.name
            if name in self.variables:
                continue
            for suffix, group in (("_pre", self.source), ("_post", self.target), ("", self.target)):
                if suffix and not name.endswith(suffix):
                    continue
                base = name[: -len(suffix)] if suffix else name
                variable = group.variables.get(base)
                if variable is None or variable.has_storage or variable.expression is None:
                    continue
                definition = group._substitute(symbol(base))
                renamed = {
                    t: symbol(t.name + (suffix or "_post"))
                    for t in definition.free_symbols
                    if t.name in group.variables
                }
                replacements[s] = definition.xreplace(renamed)
                break
        if not replacements:
            return expr
        if depth > 20:
            raise ExpressionError("neuron subexpressions refer to each other in a circle")
        return self._neuron_subexpressions(expr.xreplace(replacements), depth + 1)

    # connect -----------------------------------------------------------------------------------
    def connect(
        self,
        condition=None,
        i=None,
        j=None,
        p=1.0,
        n=1,
        skip_if_invalid=False,
        namespace=None,
        level=0,
    ) -> None:
        """Create synapses (Brian2's ``connect``).

        ``connect()`` or ``connect(True)``: all pairs; ``condition='i != j'``: the pairs where
        it holds; ``p``: probability per pair (number or expression); ``n``: synapses per pair;
        ``i=..., j=...``: explicit index arrays; ``j='k for k in range(i-3, i+4) if k != i'`` or
        ``j='k for k in sample(N_post, p=0.1)'`` or ``j='i'``: targets per source, with
        ``skip_if_invalid`` to drop targets outside the target group instead of failing.
        """
        owner = f"Synapses {self.name!r}, connect()"
        self._connect_called = True
        if _is_number(p) and p <= 0:
            return  # no pair is connected
        namespace = namespace if namespace is not None else self.namespace
        if namespace is None:
            namespace = caller_namespace(level)
        if has_compartment_indices(i):  # compartments of a SpatialNeuron: morpho.axon[-1]
            i = compartment_indices(i, self.source)
        if has_compartment_indices(j):
            j = compartment_indices(j, self.target)
        if isinstance(j, str):
            if i is not None:
                raise NotImplementedError(f"{owner}: i= together with a string j= is not supported")
            self._connect_generated(owner, namespace, condition, j, p, n, skip_if_invalid)
        elif isinstance(i, str):
            raise NotImplementedError(f"{owner}: generator syntax for i= is not supported yet")
        elif i is not None or j is not None:
            if i is None or j is None or condition is not None:
                raise TypeError(f"{owner}: give both i= and j= arrays (and no condition)")
            before = self.N
            self._connect_arrays(owner, i, j, p, n)
            self._after_connect(before)
        else:
            if condition is False:
                return
            self._connect_generated(owner, namespace, condition, None, p, n, skip_if_invalid)

    def _check_assignable(self, variable: Variable) -> None:
        """Refuse to set a per-synapse variable before ``connect()`` (as Brian2 does): there
        are no synapses yet, and the value would be lost without a word."""
        if not self._connect_called and variable.dynamic is not None:
            raise TypeError(
                f"Synapses {self.name!r}: {variable.name!r} is set before any connect() call, "
                "so there is no synapse to set it for; call connect() first"
            )

    def _connect_arrays(self, owner: str, i, j, p=1.0, n=1) -> None:
        """Synapses from ``i`` to ``j`` (arrays or numbers, broadcast against each other).  As
        in Brian2, ``p`` (a number or one per pair) keeps each pair with that probability,
        drawn with NumPy's random numbers (which ``seed()`` seeds), and ``n`` (a number or one
        per pair) makes that many synapses of each pair, one after another."""
        if isinstance(p, str) or isinstance(n, str):
            raise TypeError(
                f"{owner}: with i= and j= arrays, p= and n= must be numbers or arrays (one per "
                "pair), not expressions"
            )
        i_values, j_values = np.broadcast_arrays(np.asarray(i), np.asarray(j))
        i_values, j_values = i_values.ravel(), j_values.ravel()
        try:
            p_values = np.broadcast_to(np.asarray(p, dtype=float).ravel(), i_values.shape)
            n_values = np.broadcast_to(np.asarray(n).ravel(), i_values.shape)
        except ValueError:
            raise ValueError(
                f"{owner}: p= and n= must be numbers or arrays of one value per pair "
                f"({i_values.size} pairs)"
            ) from None
        if n_values.size and (n_values.dtype.kind not in "iu" or n_values.min() < 0):
            raise ValueError(f"{owner}: n= must be whole numbers of synapses (0 or more)")
        if p_values.size and not (np.all(p_values >= 0) and np.all(p_values <= 1)):
            raise ValueError(f"{owner}: p= must be probabilities between 0 and 1")
        if np.any(p_values < 1):
            kept = np.random.rand(i_values.size) < p_values
            i_values, j_values, n_values = i_values[kept], j_values[kept], n_values[kept]
        if np.any(n_values != 1):
            i_values, j_values = i_values.repeat(n_values), j_values.repeat(n_values)
        for values, group, what in ((i_values, self.source, "i"), (j_values, self.target, "j")):
            if values.size and (
                values.dtype.kind not in "iu" or values.min() < 0 or values.max() >= group.N
            ):
                raise IndexError(
                    f"{owner}: {what} must be integers from 0 to {group.N - 1} "
                    f"(the size of {group.name!r})"
                )
        self.variables["i"].dynamic.append_array(i_values.astype(np.int32))
        self.variables["j"].dynamic.append_array(j_values.astype(np.int32))

    def _connect_generated(self, owner, namespace, condition, j_text, p, n, skip_if_invalid):
        context = BuildContext(namespace=namespace, dt=defaultclock.dt_)
        scope = ConnectScope(self, context, namespace)
        accept_parts = []
        try:
            if condition is not None and condition is not True:
                if not isinstance(condition, str):
                    raise ExpressionError(f"condition must be a string, got {condition!r}")
                expr = parse_expression(condition)
                check_dimension(expr, scope, None, condition, "the condition")
                if not is_boolean(expr):
                    raise ExpressionError("the condition must be a condition", condition)
                accept_parts.append(expr)
            kind, range_statements, per_value = "all_pairs", [], []
            probability_static = ""
            if j_text is not None:
                kind, range_statements, extra_conditions, per_value = self._parse_targets(
                    j_text, scope
                )
                accept_parts += extra_conditions
            if kind == "all_pairs" and not accept_parts:
                self._check_room(owner, p, n)
            if kind == "all_pairs" and _is_number(p) and 0 < p < 1:
                # draw the gaps between accepted targets (geometric): the work grows with the
                # number of synapses, not with N_pre*N_post
                kind = "sampled"
                self._number_expression(p, "p", scope)
                probability_static = scope.internal["connect_p"].static
            else:
                accept_parts += self._probability_condition(p, scope)
            statements = [("_n", self._number_expression(n, "n", scope))]
            source_only = []
            if kind in ("generator", "expression"):
                # conditions on the source alone are checked before its targets are computed,
                # so that a source they exclude may have targets outside the group (Brian2)
                source_only = [c for c in accept_parts if not self._involves_target(c, scope)]
                accept_parts = [c for c in accept_parts if not any(c is s for s in source_only)]
                if source_only:
                    range_statements = [
                        *range_statements,
                        ("_source_accept", sympy.And(*source_only)),
                    ]
            accept = sympy.And(*accept_parts) if accept_parts else sympy.true
            statements.append(("_accept", accept))
            code = translate(statements, scope)
            # one function holds both: their loop invariants need different names
            range_code = translate(range_statements, scope, hoisted_prefix="_lio_range_")
            # a generator's target and 'if' conditions, for each value of its loop variable
            value_code = translate(per_value, scope, hoisted_prefix="_lio_value_")
            # one function: the other parts' declarations go to the top with the rest
            for part in (range_code, value_code):
                for attribute in ("pointers", "declarations"):
                    merged = getattr(code, attribute)
                    merged += [line for line in getattr(part, attribute) if line not in merged]
                    setattr(part, attribute, [])
            hoisted = range_code.scalar_lines + value_code.scalar_lines
            code.scalar_lines = hoisted + code.scalar_lines
            range_code.scalar_lines = value_code.scalar_lines = []
        except ExpressionError as error:
            raise error.with_context(owner) from None
        status = np.zeros(3, dtype=np.int64)
        # reserving room may run out of memory: a checked reserve (functions.h), declared for
        # the modules of connect() only
        context.add_support_code(
            'cdef extern from "functions.h" nogil:\n'
            "    bint spikeforge_reserve[T](vector[T]*, size_t) noexcept"
        )
        # set just before the call: where each source's synapses start, and whether the
        # presynaptic index of every new synapse is stored too (not into empty synapses: the
        # offsets then give all indices, and connect() never holds 4 more bytes per synapse)
        call: dict = {}
        role = Role(
            "syn_create",
            "synapses_create.pyx.j2",
            "creating synapses",
            code,
            extra={
                "kind": kind,
                "source_condition": bool(source_only),
                "probability": probability_static,
                "range_code": range_code,
                "value_code": value_code,
                "value_condition": any(name == "_value_accept" for name, _ in per_value),
                "sample_size": any(name == "_sample_size" for name, _ in range_statements),
                "skip_if_invalid": bool(skip_if_invalid),
                "n_pre": context.scalar(self, "N_pre", lambda: self.source.N, "int64_t"),
                "n_post": context.scalar(self, "N_post", lambda: self.target.N, "int64_t"),
                "new_i": context.capsule(self, "new_i", self.variables["i"].dynamic),
                "new_j": context.capsule(self, "new_j", self.variables["j"].dynamic),
                "status": context.array(self, "status", status),
                "offsets": context.array(self, "offsets", lambda: call["offsets"], np.int64),
                "record_i": context.scalar(
                    self, "record_i", lambda: int(call["record_i"]), "int64_t"
                ),
            },
        )

        def before() -> None:
            indices = self.variables["i"].dynamic
            call["before"] = len(indices)
            call["record_i"] = call["before"] > 0 or not isinstance(indices, PresynapticIndices)
            call["offsets"] = np.zeros(self.source.N + 1, dtype=np.int64)

        def undo() -> None:  # leave no half-made connections
            self.variables["i"].dynamic.resize(call["before"])
            self.variables["j"].dynamic.resize(call["before"])

        def after() -> None:
            before = call["before"]
            if status[0]:
                made = len(self.variables["j"].dynamic) - before
                undo()
                if status[0] == 2:
                    raise ValueError(f"{owner}: the step of range() must not be 0")
                if status[0] == 4:
                    raise IndexError(
                        f"{owner}: sample(..., size={status[2]}) for i={status[1]} asks for more "
                        "values than the range has, or fewer than 0; pass skip_if_invalid=True "
                        "to take all values (or none) instead"
                    )
                if status[0] == 3:
                    raise MemoryError(
                        f"{owner}: out of memory while creating synapses (after {made}); none "
                        "of this call's synapses were kept"
                    )
                raise IndexError(
                    f"{owner}: the target index j={status[2]} (for i={status[1]}) is outside "
                    f"0..{self.target.N - 1}; pass skip_if_invalid=True to leave such pairs out"
                )
            if not call["record_i"]:
                self.variables["i"].dynamic.set_offsets(call["offsets"])
            self._after_connect(before)

        # only targets given by j= can fail at run time (an index outside the target group):
        # those connect now, the others when the synapses are next looked at
        deferred = j_text is None
        step = steps_until(self._time, context.dt)
        run_once("connect", [role], context, step, deferred, before, after, undo=undo)

    #: Synapse indices are 32-bit integers.
    MAX_SYNAPSES = 2**31 - 1

    def _check_room(self, owner: str, p, n) -> None:
        """Refuse a connect() of all pairs (or a fraction p of them) whose expected number of
        synapses cannot be indexed, or (at about 4 bytes per index) exceeds this machine's
        memory, before generated code tries and the process aborts."""
        if not (_is_number(p) and _is_number(n)):
            return
        pairs = self.source.N * self.target.N * float(n) * min(float(p), 1.0)
        expected = pairs + 6 * np.sqrt(max(pairs, 0.0))
        if expected > self.MAX_SYNAPSES - self.N:
            raise ValueError(
                f"{owner}: this would make about {pairs:.3g} synapses, more than the "
                f"{self.MAX_SYNAPSES} a Synapses object can index"
            )
        try:
            memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # not known on this platform
            return
        if expected * 8 > memory:  # j, and i or the growth of the vectors
            raise MemoryError(
                f"{owner}: this would make about {pairs:.3g} synapses, needing about "
                f"{expected * 8 / 2**30:.3g} GiB for their indices alone; this machine has "
                f"{memory / 2**30:.3g} GiB"
            )

    @staticmethod
    def _involves_target(condition, scope) -> bool:
        """Whether a connect() condition depends on the target (``j``, postsynaptic variables)
        or draws random numbers (then it must be evaluated per pair)."""
        if random_calls(condition):
            return True
        for name in (s.name for s in condition.free_symbols):
            found = scope._neuron_variable(name)
            if name == "j" or (found is not None and found[2] == scope.post_index):
                return True
        return False

    def _number_expression(self, value, what: str, scope):
        if isinstance(value, str):
            expr = parse_expression(value)
            check_dimension(expr, scope, DIMENSIONLESS, value, what)
            return expr
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            name = f"connect_{what}"
            static = scope.context.scalar(self, name, lambda: float(value))
            scope.internal[name] = Resolved("scalar", static=static)
            return symbol(name)
        raise TypeError(f"{what} must be a number or a string expression, got {value!r}")

    def _probability_condition(self, p, scope) -> list:
        if isinstance(p, (int, float)) and not isinstance(p, bool) and p >= 1:
            return []
        probability = self._number_expression(p, "p", scope)
        return [sympy.StrictLessThan(parse_expression("rand()"), probability)]

    def _parse_targets(self, text: str, scope):
        """``j=`` strings: a generator expression over range()/sample(), one expression, or an
        expression with a condition (``'i if i < 10'``: Brian2's syntax for a target that
        exists only where the condition holds)."""
        conditional = re.fullmatch(r"(.+?)\s+if\s+(.+)", text.strip(), re.S)
        if conditional and " for " not in text and " else " not in text:
            target = parse_expression(conditional.group(1))
            condition = parse_expression(conditional.group(2))
            check_dimension(target, scope, DIMENSIONLESS, text, "j")
            check_dimension(condition, scope, None, text, "the condition")
            if not is_boolean(condition):
                raise ExpressionError("the part after 'if' must be a condition", text)
            return "expression", [("_target", target)], [condition], []
        try:
            tree = ast.parse(f"({text.strip()})", mode="eval").body
        except SyntaxError as error:
            raise ExpressionError(f"syntax error ({error.msg})", text) from None
        if not isinstance(tree, ast.GeneratorExp):
            target = parse_expression(text)
            check_dimension(target, scope, DIMENSIONLESS, text, "j")
            return "expression", [("_target", target)], [], []
        if len(tree.generators) != 1 or tree.generators[0].is_async:
            raise ExpressionError("use one 'for' in a generator expression", text)
        generator = tree.generators[0]
        if not isinstance(generator.target, ast.Name):
            raise ExpressionError("the loop variable must be a plain name", text)
        variable = generator.target.id
        call = generator.iter
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)) or (
            call.func.id not in ("range", "sample")
        ):
            raise ExpressionError("iterate over range(...) or sample(...)", text)
        # the loop variable is the loop's counter (_k) in generated code, whatever its name
        loop = {symbol(variable): symbol(LOOP_VARIABLE)}
        scope.internal[LOOP_VARIABLE] = Resolved("index", literal="_k")
        scope.internal_dimensions[LOOP_VARIABLE] = DIMENSIONLESS

        def parsed(node) -> sympy.Expr:
            return parse_expression(ast.unparse(node)).xreplace(loop)

        element = parsed(tree.elt)
        check_dimension(element, scope, DIMENSIONLESS, text, "the target index")
        arguments = [parsed(arg) for arg in call.args]
        keywords = {k.arg: parsed(k.value) for k in call.keywords}
        early, late = [], []  # conditions before the target is checked, and after
        sample_size = None
        if call.func.id == "range":
            if keywords or not 1 <= len(arguments) <= 3:
                raise ExpressionError("range() takes 1 to 3 positional arguments", text)
        else:
            if len(keywords) != 1 or set(keywords) - {"p", "size"} or not 1 <= len(arguments) <= 3:
                raise ExpressionError(
                    "sample() takes 1 to 3 positional arguments (as range()) and either p= (the "
                    "probability of each value) or size= (how many values, drawn without "
                    "replacement)",
                    text,
                )
            if "p" in keywords:
                check_dimension(keywords["p"], scope, DIMENSIONLESS, text, "p")
                early.append(sympy.StrictLessThan(parse_expression("rand()"), keywords["p"]))
            else:
                sample_size = keywords["size"]
                check_dimension(sample_size, scope, DIMENSIONLESS, text, "size")
        if len(arguments) == 1:
            arguments = [sympy.Integer(0), arguments[0]]
        if len(arguments) == 2:
            arguments.append(sympy.Integer(1))
        for argument in arguments:
            check_dimension(argument, scope, DIMENSIONLESS, text, "the range")
        for condition in generator.ifs:
            expr = parsed(condition)
            check_dimension(expr, scope, None, text, "the condition")
            if not is_boolean(expr):
                raise ExpressionError("the part after 'if' must be a condition", text)
            # As in Brian2, the 'if' is tested before the target index is: it may leave out
            # targets outside the group.  A condition on postsynaptic variables needs a valid
            # index, so it is tested after.
            if self._reads_post_variables(expr, scope):
                late.append(expr)
            else:
                early.append(expr.xreplace({symbol("j"): element}))
        statements = [
            ("_range_start", arguments[0]),
            ("_range_stop", arguments[1]),
            ("_range_step", arguments[2]),
        ]
        if sample_size is not None:
            statements.append(("_sample_size", sample_size))
        per_value = [("_target", element)]
        if early:
            per_value.append(("_value_accept", sympy.And(*early)))
        return "generator", statements, late, per_value

    @staticmethod
    def _reads_post_variables(condition, scope) -> bool:
        """Whether a condition reads postsynaptic variables (other than the index ``j``)."""
        for name in (s.name for s in condition.free_symbols):
            found = scope._neuron_variable(name)
            if found is not None and found[2] == scope.post_index:
                return True
        return False

    def _after_connect(self, before: int) -> None:
        size = self.N
        for name, variable in self.variables.items():
            if variable.dynamic is None or name in ("i", "j"):
                continue
            variable.dynamic.resize(size)
        self.variables["i"].dynamic.compact()
        delay = self.variables.get("delay")
        if delay is not None:
            # new synapses get the pathway's delay (0 without one), whatever was set since
            pre = next(pathway for pathway in self.pathways if pathway.name == "pre")
            value = pre.delay or 0.0
            if not delay.dynamic.allocated and (before == 0 or delay.dynamic.fill == value):
                delay.dynamic.fill = value
            else:
                delay.dynamic.view()[before:] = value

    def _dependencies(self) -> list[SpikeforgeObject]:
        return [self.source, self.target]

    def _recordable(self, name: str) -> Variable | None:
        """Synaptic variables, and the neurons' ``x_pre``, ``x_post`` or a bare postsynaptic
        name (as synaptic code reads them)."""
        variable = super()._recordable(name)
        if variable is not None:
            return variable
        for suffix, group in (("_pre", self.source), ("_post", self.target)):
            if name.endswith(suffix) and name[: -len(suffix)] in group.variables:
                return group.variables[name[: -len(suffix)]]
        return self.target.variables.get(name)

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name.startswith("_") or "variables" not in self.__dict__:
                raise
            if name in ("N_incoming_post", "N_outgoing_pre"):
                return self._counts_per_neuron(name)
            for pathway in self.__dict__.get("pathways", []):
                if pathway.name == name:  # S.pre, S.post, or a name of on_pre={...}
                    return PathwayView(pathway)
            entry = self._state_entries().get(name)  # x_pre, x_post: the neurons' values
            if entry is None or not entry.per_element:
                raise
            run_deferred()  # connect() may still be queued
            values = entry.read(1)
            return (
                values
                if entry.dimension.is_dimensionless
                else Quantity(values, dim=entry.dimension)
            )

    def __getitem__(self, item) -> np.ndarray:
        """Synapse indices, as ``S.indices[item]`` (``S[i, j]``, ``S['condition']``...); Brian2
        gives a subgroup of synapses, which spikeforge uses where indices are asked for (a
        StateMonitor's ``record=``)."""
        return self.indices[item]

    @property
    def indices(self) -> "SynapseIndexing":
        """Synapse indices: ``S.indices[i, j]`` (presynaptic and postsynaptic indices, each an
        integer, slice or array), ``S.indices['condition']`` or ``S.indices[k]`` (synapse
        indices themselves), as arrays."""
        return SynapseIndexing(self)

    def synapse_indices(self, i, j) -> np.ndarray:
        """Indices of the synapses from presynaptic ``i`` to postsynaptic ``j`` (arrays ok)."""
        run_deferred()
        pre, post = self.variables["i"].array, self.variables["j"].array
        wanted_i = _neuron_selection(i, self.source)
        wanted_j = _neuron_selection(j, self.target)
        return np.flatnonzero(np.isin(pre, wanted_i) & np.isin(post, wanted_j))

    # state: the synapses' number and the pending spikes of each pathway ------------------------
    _count_dtype = np.int32

    def _full_state(self) -> dict:
        full = super()._full_state()
        full["queues"] = {}
        for pathway in self.pathways:
            counts, entries = pathway.pending_spikes()
            full["queues"][pathway.name] = {
                "counts": counts,
                "synapses": entries,  # synapse indices, or neuron indices:
                "entries": pathway.pending_entries,  # "synapses", "i" or "j"
                "dt": np.nan if pathway.queue_dt is None else pathway.queue_dt,  # of the slots
            }
        return full

    def _check_full_state(self, full: dict) -> None:
        super()._check_full_state(full)
        stored = full["variables"]
        sizes = {
            np.asarray(stored[name]).shape[0]
            for name, var in self._stored_variables().items()
            if var.dynamic is not None
        }
        if len(sizes) > 1:
            raise state_problem(self, "its synaptic variables have different lengths")
        queues = full.get("queues", {})
        if set(queues) != {pathway.name for pathway in self.pathways}:
            raise state_problem(self, f"it has the pathways {sorted(queues)}")
        n_synapses = len(np.asarray(stored["i"]))
        for name, queue in queues.items():
            entries = np.asarray(queue["synapses"])
            kind = str(queue.get("entries", "synapses"))
            limits = {"synapses": n_synapses, "i": self.source.N, "j": self.target.N}
            queued = next(p.queued for p in self.pathways if p.name == name)
            if kind not in limits or (kind != "synapses" and queued not in (None, kind)):
                raise state_problem(
                    self, f"the spike queue of pathway {name!r} holds {kind!r} entries"
                )
            if entries.size and (entries.min() < 0 or entries.max() >= limits[kind]):
                what = "synapses" if kind == "synapses" else "neurons"
                raise state_problem(
                    self, f"the spike queue of pathway {name!r} holds unknown {what}"
                )
        for name, group in (("i", self.source), ("j", self.target)):
            indices = np.asarray(stored[name])
            if indices.size and (indices.min() < 0 or indices.max() >= group.N):
                raise state_problem(
                    self, f"its {name} holds indices outside 0..{group.N - 1} ({group.name!r})"
                )

    def _restore_from_full_state(self, full: dict) -> None:
        super()._restore_from_full_state(full)
        if self.N:
            self._connect_called = True  # restored synapses are made synapses
        for pathway in self.pathways:
            queue = full["queues"][pathway.name]
            kind = str(queue.get("entries", "synapses"))
            pathway.set_pending_spikes(queue["counts"], queue["synapses"], kind)
            queue_dt = float(queue.get("dt", np.nan))
            pathway.queue_dt = None if np.isnan(queue_dt) else queue_dt

    def _state_entries(self) -> dict[str, Entry]:
        entries = super()._state_entries()
        for suffix, neurons, index in (("_pre", self.source, "i"), ("_post", self.target, "j")):
            for name, entry in neurons._state_entries().items():
                if name in ("neuron_index", "spike_time", "period"):
                    continue
                reference = self._neuron_entry(entry, index)
                entries[name + suffix] = reference
                bare = suffix == "_post" and entry.variable is not None and name != "i"
                if bare and name not in entries:
                    entries[name] = reference
        return entries

    def _neuron_entry(self, entry: Entry, index: str) -> Entry:
        """``x_pre``/``x_post``: the neurons' values at the synapses' ``i``/``j``."""
        if not entry.per_element:
            return Entry(
                entry.dimension, lambda level: entry.read(level + 1), None, entry.subexpression
            )

        def read(level):
            return entry.read(level + 1)[self.variables[index].array]

        def write(value, units, level):
            if isinstance(value, str):
                raise TypeError(
                    f"{owner(self)}: a presynaptic or postsynaptic variable can only be set "
                    "to values here, not to a string expression"
                )
            variable = entry.variable
            if units:
                check_assigned_units(self, variable, value)
            variable.array[self.variables[index].array] = np.asarray(value)

        writable = entry.write is not None
        return Entry(entry.dimension, read, write if writable else None, entry.subexpression, True)

    # roles -------------------------------------------------------------------------------------
    def before_run(self, context: BuildContext) -> None:
        self._check_connected()
        super().before_run(context)
        for pathway in self.pathways:
            pathway.prepare_queue(context.dt, context.threads)

    def _check_connected(self) -> None:
        """A Synapses with pathways whose connect() was never called does nothing: most likely
        a forgotten call, which Brian2 refuses too."""
        if self.pathways and not self._connect_called:
            raise TypeError(
                f"Synapses {self.name!r} has on_pre/on_post code but connect() was never called, "
                "so it would do nothing; call connect() (connect(p=0) for no synapses), or "
                "leave it out of the run (S.active = False)"
            )

    def roles(self, context: BuildContext) -> list[Role]:
        owner = f"Synapses {self.name!r}"
        namespace = self.namespace if self.namespace is not None else context.namespace
        prefix = context.prefix(self)
        roles = []
        size = context.scalar(self, "N", lambda: self.N, "int64_t")
        if self.clock_driven:
            scope = self._scope(context, namespace)
            names = [eq.name for eq in self.clock_driven]
            derivatives = [self._substitute(eq.expression) for eq in self.clock_driven]
            self._check_units(scope, owner)
            try:
                self.method_used, updates = integrate(names, derivatives, self.method)
                code = translate(updates, scope)
            except ExpressionError as error:
                raise error.with_context(f"{owner}, equations") from None
            roles.append(
                Role(
                    f"{prefix}_stateupdate",
                    "stateupdate.pyx.j2",
                    f"synaptic state update ({self.method_used})",
                    code,
                    "groups",
                    self.order,
                    {"size": size},
                    index_lines=self._index_lines(context, code),
                )
            )
        for equation in self.summed:
            roles.append(self._summed_role(equation, context, namespace, prefix, size, owner))
        event_updates = self._event_driven_updates(owner)
        for pathway in self.pathways:
            scope = self._scope(context, namespace)
            where = f"{owner}, on_{pathway.prepost}"
            statements = list(event_updates)
            checked = self._checked_statements(pathway.statements, scope, f"on_{pathway.prepost}")
            statements += [(target, self._conditional(target, expr)) for target, expr in checked]
            if self.event_driven:
                statements.append(("lastupdate", symbol("t")))
            try:
                code = translate(statements, scope)
            except ExpressionError as error:
                raise error.with_context(where) from None
            queue = context.capsule(self, f"queue_{pathway.name}", pathway.queue)
            pathway.queued = self._queued_index(code)
            # the index local a queue of neuron indices gives directly ("" for synapse indices)
            queued = next(iter(code.indices)) if pathway.queued else ""
            index_lines = [] if queued else self._index_lines(context, code)
            source = pathway.source
            spikes = context.array(source, *source._event_buffer(pathway.event))
            source_size = context.scalar(source, "N", lambda source=source: source.N, "int64_t")
            partition = self._partition(code, queued)
            pathway.partition = {"_idx": "synapses", "_pre_idx": "i", "_post_idx": "j"}.get(
                partition
            )
            # a threaded run: one queue per block of targets (queues.py), reached through the
            # array of their addresses
            parts = {"queues": "", "parts": ""}
            if context.threads > 1 and pathway.partition is not None:
                parts = {
                    "queues": context.array(
                        self,
                        f"queues_{pathway.name}",
                        lambda pathway=pathway: pathway.parts.addresses,
                        np.int64,
                    ),
                    "parts": context.scalar(
                        self,
                        f"parts_{pathway.name}",
                        lambda pathway=pathway: max(pathway.parts.n_parts, 1),
                        "int64_t",
                    ),
                }
            roles.append(
                Role(
                    f"{prefix}_{pathway.name}_push",
                    "push_spikes.pyx.j2",
                    f"spikes into the {pathway.name} queue",
                    translate([], scope),
                    "synapses",
                    pathway.order,
                    {
                        "queue": queue,
                        **parts,
                        "spikes": spikes,
                        "size": source_size,
                        "fault": context.fault_site(
                            f"Synapses {self.name!r}: out of memory while queueing the spikes "
                            f"of the {pathway.name} pathway",
                            MemoryError,
                            lambda pathway=pathway: (
                                f"{pathway.n_pending} synaptic events were waiting for their delays"
                            ),
                        ),
                    },
                    clock=source.clock,
                )
            )
            roles.append(
                Role(
                    f"{prefix}_{pathway.name}",
                    "synapses.pyx.j2",
                    f"on_{pathway.prepost} statements for arriving spikes",
                    code,
                    "synapses",
                    pathway.order,
                    {
                        "queue": queue,
                        **parts,
                        "queued": queued,
                        "partition": partition,
                    },
                    index_lines=index_lines,
                    clock=source.clock,
                )
            )
        return roles

    @staticmethod
    def _queued_index(code) -> str | None:
        """``"j"`` (or ``"i"``) when a pathway's statements use no synaptic variable, draw no
        random number and read and write the variables of one neuron per synapse, the
        postsynaptic (or presynaptic) one: then its queue holds that neuron's index instead of
        the synapse's, and delivery reads no per-synapse array (``v += J`` with delays spread
        over many steps reaches its synapses in no order, and each read of ``j`` at one of them
        would miss the cache)."""
        if len(code.indices) != 1 or code_draws_random_numbers(code):
            return None
        return {"_post_idx": "j", "_pre_idx": "i"}.get(next(iter(code.indices)))

    @staticmethod
    def _partition(code, queued: str = "") -> str:
        """How a threaded run shares the delivery of arriving spikes among threads: by the
        index local of the elements its statements write (``_post_idx``, ``_pre_idx``, or
        ``_idx`` for synapses), so that no two threads write one element; "" when they write
        both presynaptic and postsynaptic variables (then one thread delivers).  ``queued`` is
        the neuron index a queue of neurons gives (then there is no synapse index to partition
        by)."""
        written = {
            match.group(1) for line in code.store_lines for match in _WRITTEN_AT.finditer(line)
        }
        neurons = written & {"_pre_idx", "_post_idx"}
        if len(neurons) > 1:
            return ""
        if not neurons and queued:  # writes nothing of the neurons: any partition will do
            neurons = {queued}
        if not neurons:  # only synaptic variables: any partition will do
            return "_idx"
        return neurons.pop()

    def _conditional(self, target: str, expr):
        """Brian2's conditional write: a neuron's ``(unless refractory)`` variable keeps its
        value while the neuron is refractory, whatever a synapse writes."""
        if target in self.variables:
            return expr
        for suffix, group in (("_pre", self.source), ("_post", self.target), ("", self.target)):
            name = target[: -len(suffix)] if suffix and target.endswith(suffix) else target
            if (suffix and not target.endswith(suffix)) or name not in group.variables:
                continue
            flag = f"not_refractory{suffix or '_post'}"
            return group.guard_external_write(name, expr, written=target, flag=flag)
        return expr

    def _check_units(self, scope, owner: str) -> None:
        dims = scope.dimensions()
        # noise (xi) in clock-driven equations, and named noise (xi_1) in their subexpressions
        for equation in self.clock_driven + list(self.equations.subexpressions):
            for name in equation.expression.free_symbols:
                if is_noise(name.name):
                    dims[name.name] = NOISE_DIMENSION
        self.equations.check_units(dims, owner)

    def _event_driven_updates(self, owner: str):
        if not self.event_driven:
            return []
        names = [eq.name for eq in self.event_driven]
        derivatives = [self._substitute(eq.expression) for eq in self.event_driven]
        try:
            _, updates = integrate(names, derivatives, "exact")
        except IntegrationError as error:
            raise error.with_context(
                f"{owner}: event-driven equations must be linear (use clock-driven otherwise)"
            ) from None
        elapsed = symbol("t") - symbol("lastupdate")
        return [(target, expr.xreplace({DT: elapsed})) for target, expr in updates]

    def _summed_role(self, equation, context, namespace, prefix, size, owner) -> Role:
        target_name, group = self._summed_target(equation.name)
        scope = self._scope(context, namespace)
        expr = self._substitute(equation.expression)
        try:
            check_dimension(expr, scope, equation.dimension, equation.text, equation.name)
            code = translate([("_summed_value", expr)], scope)
        except ExpressionError as error:
            raise error.with_context(f"{owner}, summed variable") from None
        variable = group.variables[target_name]
        root, start = _placed(group)
        claims = context.claims.setdefault(("summed", id(root), target_name), [])
        for other_start, other_stop, other in claims:
            first, last = max(start, other_start), min(start + group.N, other_stop) - 1
            if first <= last:
                where = f"element {first}" if first == last else f"elements {first} to {last}"
                raise NotImplementedError(
                    f"{owner} and {other} both have a summed variable that writes "
                    f"{target_name!r} of {root.name!r} ({where}): each would overwrite the "
                    "other's sum. Sum into two parameters and add them in the equations, or "
                    "give each Synapses its own part of the group (subgroups that do not overlap)"
                )
        claims.append((start, start + group.N, owner))
        target = context.array(group, target_name, lambda: variable.array, variable.dtype)
        target_size = context.scalar(group, "N", lambda: group.N, "int64_t")
        target_index = "_post_idx" if group is self.target else "_pre_idx"
        updater = self._summed_updaters[equation.name]
        return Role(
            f"{prefix}_summed_{equation.name}",
            "summed_variable.pyx.j2",
            "summed variable",
            code,
            updater.when,
            group.order - 1 if updater.order is None else updater.order,
            {
                "size": size,
                "target": target,
                # a float32 target sums in float32, rounded at each addition (as Brian2)
                "target_type": C_TYPES[np.dtype(variable.dtype)][0],
                "target_size": target_size,
                "target_index": target_index,
            },
            index_lines=self._index_lines(context, code, needed=(target_index,)),
        )

    @property
    def summed_updaters(self) -> dict[str, SummedUpdater]:
        """When each summed variable is computed, by its name (``'v_post'``): set ``when``
        and ``order`` to move it in the schedule (by default just before the target group's
        state update)."""
        return dict(self._summed_updaters)

    def __repr__(self) -> str:
        return (
            f"<Synapses {self.name!r}: {self.source.name} -> {self.target.name}, {self.N} synapses>"
        )
