"""Monitors: ``EventMonitor``, ``SpikeMonitor``, ``StateMonitor``, ``PopulationRateMonitor``.

Generated code records straight into C++ vectors (runtime ``DynamicArray1D`` owners reached
through their capsules); the attributes below copy the records out as NumPy arrays or quantities.
"""

from __future__ import annotations

import numpy as np

from spikeforge.codegen.expressions import ExpressionError, symbol
from spikeforge.codegen.render import Role
from spikeforge.codegen.translate import translate
from spikeforge.pipeline import BuildContext
from spikeforge.model import state
from spikeforge.model.base import SpikeforgeObject, choose_clock
from spikeforge.model.clock import timesteps
from spikeforge.model.groups import Group
from spikeforge.model.state import (
    Entry,
    check_record,
    copy_record,
    number,
    restore_record,
    state_problem,
)
from spikeforge.model.variables import (
    GroupScope,
    RecordedView,
    VariableView,
    compartment_indices,
    has_compartment_indices,
)
from spikeforge.runtime import containers
from spikeforge.units import (
    DIMENSIONLESS,
    DimensionMismatchError,
    Quantity,
    get_dimensions,
    hertz,
    second,
)


def _equal_lengths(records: list) -> None:
    """Cut recordings made side by side to their common length: a step whose recording ran out
    of memory (a fault that ends the run) may have appended to some of them only."""
    shortest = min(len(record) for record in records)
    for record in records:
        if len(record) > shortest:
            record.resize(shortest)


def _typed(values: np.ndarray, variable) -> np.ndarray:
    """Recorded values (stored as float64) in the variable's own type."""
    if variable.var_type == "boolean":
        return values.astype(bool)
    if variable.var_type == "integer":
        return values.astype(np.int32)
    if variable.dtype == np.float32:  # recorded exactly (a float32 is a float64 too)
        return values.astype(np.float32)
    return values


def _recorded_values(monitor, context: BuildContext):
    """The code that computes ``_value_k``, the k-th recorded variable, for one element."""
    source = monitor.source
    namespace = source.namespace if source.namespace is not None else context.namespace
    scope = source._scope(context, namespace)
    statements = [
        (f"_value_{k}", source._substitute(symbol(name)))
        for k, name in enumerate(monitor.record_variables)
    ]
    try:
        return translate(statements, scope)
    except ExpressionError as error:
        raise error.with_context(f"{type(monitor).__name__} {monitor.name!r}") from None


def _source_group(source, kind: str) -> Group:
    if not isinstance(source, Group):
        raise TypeError(f"{kind} records a group, not {type(source).__name__}")
    return source


def _spike_source(source, kind: str) -> Group:
    group = _source_group(source, kind)
    if getattr(group, "_threshold_expr", None) is None and not hasattr(group, "_spike_generator"):
        raise ValueError(f"{kind}: {group.name!r} has no threshold, so it never spikes")
    return group


def _event_source(source, event: str, kind: str) -> Group:
    """``source``, checked to be a group that emits ``event``."""
    if event == "spike":
        return _spike_source(source, kind)
    group = _source_group(source, kind)
    events = getattr(group, "events", None) or {}
    if event not in events:
        known = ", ".join(repr(name) for name in events) or "none"
        raise ValueError(
            f"{kind}: {group.name!r} does not define an event {event!r} (its events: {known})"
        )
    return group


def _time_in_seconds(value, what: str) -> float:
    """``value`` (a time) in seconds; a clear error for anything else."""
    if get_dimensions(value) != second.dim:
        raise DimensionMismatchError(
            f"{what} must be a time, such as 5*ms; got {value!r}", get_dimensions(value)
        )
    return float(np.asarray(value / second))


def _bin_steps(monitor, bin_size) -> int:
    """The number of the monitor's clock steps in one bin of ``bin_size`` (a whole multiple of
    its dt, else ValueError)."""
    size = _time_in_seconds(bin_size, f"{type(monitor).__name__}.binned_rate(): bin_size")
    steps = size / monitor.clock.dt_
    if steps < 1 - 1e-6 or abs(steps - round(steps)) > 1e-6:
        raise ValueError(
            f"{type(monitor).__name__} {monitor.name!r}: bin_size must be a whole multiple of "
            f"dt ({monitor.clock.dt}), got {bin_size!r}"
        )
    return int(round(steps))


def _smoothing_window(monitor, window, width) -> np.ndarray:
    """The normalised window of ``smooth_rate()`` (as Brian2 makes it): a Gaussian of standard
    deviation ``width`` cut at two of them, a flat window of ``width`` rounded to an odd number
    of steps, or the given array (an odd number of values)."""
    kind = type(monitor).__name__
    if isinstance(window, str):
        if width is None:
            raise TypeError(f"{kind}.smooth_rate(): window={window!r} needs a width, e.g. 2*ms")
        steps = _time_in_seconds(width, f"{kind}.smooth_rate(): width") / monitor.clock.dt_
        if window == "gaussian":
            half = int(np.round(2 * steps))
            offsets = np.arange(-half, half + 1)
            values = np.exp(-(offsets**2) / (2 * steps**2))
        elif window == "flat":
            values = np.ones(int(np.round(steps / 2)) * 2 + 1)
        else:
            raise NotImplementedError(
                f"{kind}.smooth_rate(): unknown window {window!r} (use 'gaussian', 'flat' or "
                "an array of weights)"
            )
    else:
        if width is not None:
            raise TypeError(f"{kind}.smooth_rate(): a width goes only with a named window")
        values = np.asarray(window, dtype=float)
        if values.ndim != 1 or len(values) % 2 != 1:
            raise TypeError(
                f"{kind}.smooth_rate(): the window must be a one-dimensional array with an odd "
                f"number of values (so that it does not shift the rate), got shape {values.shape}"
            )
    return values / values.sum()


class Monitor(SpikeforgeObject):
    """What monitors share: ``t`` and ``t_`` (times recorded into ``self._t``, one per recorded
    step or one per event), ``get_states``, and a state made of their recordings."""

    def _dependencies(self) -> list[SpikeforgeObject]:
        return [self.source]

    def _recordings(self) -> dict:
        """The containers of the recordings (runtime dynamic arrays or NumPy arrays), keyed by
        their names in a snapshot."""
        return {"_t": self._t}

    def _full_state(self) -> dict:
        full = super()._full_state()
        full["records"] = {name: copy_record(record) for name, record in self._recordings().items()}
        return full

    def _check_full_state(self, full: dict) -> None:
        super()._check_full_state(full)
        records, stored = self._recordings(), full.get("records", {})
        if not isinstance(stored, dict) or set(stored) != set(records):
            raise state_problem(self, f"it has the records {sorted(stored)}")
        for name, record in records.items():
            check_record(self, name, record, stored[name])

    def _restore_from_full_state(self, full: dict) -> None:
        super()._restore_from_full_state(full)
        for name, record in self._recordings().items():
            restore_record(record, full["records"][name])

    def _state_entries(self) -> dict[str, Entry]:
        entries = super()._state_entries()
        entries["t"] = Entry(second.dim, lambda level: self._t.to_numpy())
        entries["N"] = Entry(DIMENSIONLESS, lambda level: number(self.N, np.int32))
        return entries

    def get_states(
        self, vars=None, units=True, format="dict", subexpr=False, read_only_variables=True, level=0
    ):
        """The recordings as a dict (all read-only; see ``Group.get_states``)."""
        return state.get_states(
            self, vars, units, format, subexpr, read_only_variables, level=level + 1
        )

    @property
    def t(self) -> RecordedView:
        """The recorded times (of the steps, or of the spikes), as Brian2 gives them (see
        :class:`RecordedView`: ``mon.t/ms`` is a quantity, ``np.max(mon.t)`` seconds)."""
        return RecordedView(
            f"{type(self).__name__} {self.name!r}", "t", self._t.to_numpy(), second.dim
        )

    @property
    def t_(self) -> np.ndarray:
        """The recording times in seconds, as a plain array."""
        return self._t.to_numpy()

    @property
    def N(self) -> int:
        """How many records there are: recorded events (``EventMonitor``, ``SpikeMonitor``) or
        recorded time steps (``StateMonitor``, ``PopulationRateMonitor``), as in Brian2."""
        return len(self._t)

    def __len__(self) -> int:
        """``len(monitor)`` is :attr:`N` (Brian2's tutorials weigh a histogram by it)."""
        return self.N


class EventMonitor(Monitor):
    """Records the events of a group (Brian2's ``EventMonitor``).

    Parameters
    ----------
    source
        The group (a ``NeuronGroup``, ``PoissonGroup`` or ``SpikeGeneratorGroup``).
    event
        The name of the event: ``'spike'`` or one of the ``events`` of a ``NeuronGroup``.
    variables
        A name or a list of names of the source's variables to record at each event (after the
        event's condition was checked, before any reset).
    record
        Whether to record the index and time of each event (``i``, ``t``); ``count`` and the
        ``variables`` are recorded either way.
    when, order
        The place in the schedule; by default right after the event's condition is checked
        (its slot, at its order + 1).  ``order`` needs ``when``.
    name
        A unique name (``'eventmonitor*'`` gives ``eventmonitor``, ``eventmonitor_1``, ...).

    The recordings are ``i``, ``t`` and ``mon.<variable>`` (one value per event, in the order
    of the events), ``count`` (events per neuron), ``num_events``, and per neuron
    ``values(variable)``, ``all_values()`` and ``event_trains()``.
    """

    code_kind = "eventmon"

    def __init__(
        self,
        source,
        event,
        variables=None,
        record=True,
        when=None,
        order=None,
        name="eventmonitor*",
    ):
        kind = type(self).__name__
        self.source = _event_source(source, event, kind)
        if when is None:
            if order is not None:
                raise ValueError(f"{kind}: order= can only be given together with when=")
            when, order = self.source._event_slot(event)
            order += 1
        elif order is None:
            order = 0
        super().__init__(name, when, order)
        self.clock = self.source.clock
        self.event = event
        self.record = bool(record)  # False: count events (and record variables) only
        if variables is None:
            variables = []
        elif isinstance(variables, str):
            variables = [variables]
        names = []
        for variable in variables:
            if variable == "t" and "t" not in self.source.variables and self.record:
                continue  # the times are recorded anyway
            if variable not in self.source.variables:
                raise ValueError(
                    f"{kind} {self.name!r}: {variable!r} is not a variable of {self.source.name!r}"
                )
            if variable not in names:
                names.append(variable)
        self.record_variables = names
        self._i = containers().DynamicArray1D("int32")
        self._t = containers().DynamicArray1D("float64")
        self._count = np.zeros(self.source.N, dtype=np.int32)
        self._records = {name_: containers().DynamicArray1D("float64") for name_ in names}

    def roles(self, context: BuildContext) -> list[Role]:
        prefix = context.prefix(self)
        source = self.source
        code = _recorded_values(self, context)
        buffer_name, buffer = source._event_buffer(self.event)
        size = context.scalar(source, "N", lambda: source.N, "int64_t")
        extra = {
            "events": context.array(source, buffer_name, buffer),
            "size": size,
            "event_count": context.array(self, "count", self._count),
            "record_i": context.capsule(self, "i", self._i),
            "record_t": context.capsule(self, "t", self._t),
            "records": [
                context.capsule(self, f"record_{k}", self._records[name])
                for k, name in enumerate(self.record_variables)
            ],
            "start": 0,
            "stop": size,
            "record": self.record,
            "fault": context.fault_site(
                f"{type(self).__name__} {self.name!r}: out of memory while recording "
                f"{self.event} events",
                MemoryError,
                lambda: f"{self.num_events} recorded so far, which are kept",
            ),
        }
        return [
            Role(
                f"{prefix}_record",
                "eventmonitor.pyx.j2",
                f"{self.event} monitor",
                code,
                self.when,
                self.order,
                extra,
                index_lines=source._index_lines(context, code),
            )
        ]

    def after_run(self) -> None:
        super().after_run()
        recorded = [self._i, self._t] if self.record else []  # record=False: variables only
        if recorded or self._records:
            _equal_lengths(recorded + list(self._records.values()))

    # reading ----------------------------------------------------------------------------------
    @property
    def i(self) -> np.ndarray:
        """Indices of the neurons, one per recorded event."""
        return self._i.to_numpy()

    @property
    def it(self) -> tuple[np.ndarray, Quantity]:
        """``(i, t)``."""
        self._check_recorded()
        return self.i, self.t

    @property
    def it_(self) -> tuple[np.ndarray, np.ndarray]:
        """``(i, t_)``: the times in seconds as a plain array."""
        self._check_recorded()
        return self.i, self.t_

    @property
    def count(self) -> np.ndarray:
        """Number of events of each neuron."""
        return self._count.copy()

    def binned_rate(self, bin_size) -> tuple[Quantity, Quantity]:
        """``(bins, rates)``: each neuron's event rate in bins of ``bin_size`` (a multiple of
        dt) from time 0 to the end of the last run, whole bins only; ``rates`` has one row per
        neuron, ``bins`` are the bins' start times (Brian2's ``binned_rate``)."""
        steps = _bin_steps(self, bin_size)
        count = self.clock.timestep // steps
        rates = np.zeros((len(self.source), count))
        if self.record and len(self._t):
            bins = timesteps(self._t.to_numpy(), self.clock.dt_) // steps
            whole = bins < count
            np.add.at(rates, (self.i[whole], bins[whole]), 1.0)
            rates /= steps * self.clock.dt_
        times = np.arange(count) * steps * self.clock.dt_
        return Quantity(times, dim=second.dim), Quantity(rates, dim=hertz.dim)

    def smooth_rate(self, window="gaussian", width=None) -> Quantity:
        """Each neuron's event rate at every step of the run, smoothed with a window (one row
        per neuron; the windows of :meth:`PopulationRateMonitor.smooth_rate`)."""
        weights = _smoothing_window(self, window, width)
        _, rates = self.binned_rate(self.clock.dt)
        smoothed = np.array([np.convolve(row, weights, mode="same") for row in np.asarray(rates)])
        return Quantity(smoothed.reshape(np.shape(rates)), dim=hertz.dim)

    @property
    def num_events(self) -> int:
        """Total number of events (also counted with ``record=False``)."""
        return int(self._count.sum())

    @property
    def N(self) -> int:
        """How many events there were (counted with ``record=False`` too, as in Brian2)."""
        return self.num_events

    def _check_recorded(self) -> None:
        if not self.record:
            raise AttributeError(
                f"{type(self).__name__} {self.name!r} does not record indices and times "
                "(record=False)"
            )

    def _values(self, name: str) -> np.ndarray:
        """The recorded values of ``name`` (one per event) as a plain array."""
        if name == "t" and name not in self._records:
            return self._t.to_numpy()
        if name == "i" and name not in self._records:
            return self._i.to_numpy()
        return _typed(self._records[name].to_numpy(), self.source.variables[name])

    def _dimension(self, name: str):
        if name == "t" and name not in self._records:
            return second.dim
        return self.source.variables[name].dimension

    def _with_units(self, name: str, values, view: bool = False):
        """``values`` of ``name`` with their unit: a quantity, or with ``view`` the whole
        recording as Brian2 gives it (:class:`RecordedView`)."""
        dim = self._dimension(name)
        if dim is DIMENSIONLESS or dim.is_dimensionless:
            return values
        if view:
            return RecordedView(f"{type(self).__name__} {self.name!r}", name, values, dim)
        return Quantity(values, dim=dim)

    def __getattr__(self, name: str):
        if name.startswith("_") or "_records" not in self.__dict__:
            raise AttributeError(name)
        if name in ("it", "it_"):  # their property raised: say why
            self._check_recorded()
        records = self.__dict__["_records"]
        if name in records:
            return self._with_units(name, self._values(name), view=True)
        if name.endswith("_") and name[:-1] in records:
            return self._values(name[:-1])
        raise AttributeError(f"{type(self).__name__} {self.name!r} does not record {name!r}")

    def values(self, var: str) -> dict:
        """The values of ``var`` at the events of each neuron: ``{i: values}`` (in time order)
        for every neuron of the source."""
        self._check_recorded()
        if var not in self._records and var not in ("t", "i"):
            raise KeyError(f"{type(self).__name__} {self.name!r} does not record {var!r}")
        return self._per_neuron({var: self._values(var)})[var]

    def all_values(self) -> dict:
        """``{variable: {i: values}}`` for ``t`` and every recorded variable."""
        self._check_recorded()
        arrays = {"t": self._values("t")}
        arrays.update({name: self._values(name) for name in self.record_variables})
        return self._per_neuron(arrays)

    def event_trains(self) -> dict:
        """Event times per neuron index: ``{i: times}`` for every neuron of the source."""
        return self.values("t")

    def _per_neuron(self, arrays: dict) -> dict:
        indices = self.i
        order = np.argsort(indices, kind="stable")
        bounds = np.searchsorted(indices[order], np.arange(self.source.N + 1))
        split = {}
        for name, values in arrays.items():
            ordered = values[order]
            split[name] = {
                k: self._with_units(name, ordered[bounds[k] : bounds[k + 1]])
                for k in range(self.source.N)
            }
        return split

    def _recordings(self) -> dict:
        records = {**super()._recordings(), "_i": self._i, "_count": self._count}
        records.update({f"_records/{name}": record for name, record in self._records.items()})
        return records

    def _state_entries(self) -> dict[str, Entry]:
        entries = super()._state_entries()
        entries["i"] = Entry(DIMENSIONLESS, lambda level: self._i.to_numpy())
        entries["count"] = Entry(DIMENSIONLESS, lambda level: self._count.copy())
        for name in self.record_variables:
            entries[name] = Entry(
                self.source.variables[name].dimension, lambda level, name=name: self._values(name)
            )
        return entries

    def __repr__(self) -> str:
        return f"<{type(self).__name__}, recording event {self.event!r} from {self.source.name!r}>"


class SpikeMonitor(EventMonitor):
    """Records the spikes of a group (Brian2's ``SpikeMonitor``: an ``EventMonitor`` for the
    ``'spike'`` event): ``i`` (indices), ``t`` (times), ``count`` per neuron, and the values of
    ``variables`` at the spikes (``mon.<variable>``)."""

    code_kind = "spikemon"

    def __init__(
        self, source, variables=None, record=True, when=None, order=None, name="spikemonitor*"
    ):
        super().__init__(source, "spike", variables, record, when, order, name)

    @property
    def num_spikes(self) -> int:
        """Total number of spikes (also counted with ``record=False``)."""
        return self.num_events

    def spike_trains(self) -> dict[int, Quantity]:
        """Spike times per neuron index: ``{i: times}`` for every neuron of the source."""
        return self.event_trains()


class StateMonitor(Monitor):
    """Records variables of a group at every time step (at the start of the step).

    ``record`` is ``True`` (all neurons), ``False``, an index or a list of indices.  The
    recordings are ``mon.t`` and ``mon.<variable>`` (shape: recorded neurons x time steps);
    ``mon[i].<variable>`` is the trace of neuron ``i``.
    """

    code_kind = "statemon"

    def __init__(
        self,
        source,
        variables,
        record,
        dt=None,
        clock=None,
        when="start",
        order=0,
        name="statemonitor*",
    ):
        self.source = _source_group(source, "StateMonitor")
        super().__init__(name, when, order)
        if dt is None and clock is None:
            self.clock = self.source.clock  # Brian2: the source's clock by default
        else:
            self.clock = choose_clock(dt, clock, f"StateMonitor {self.name!r}")
        if variables is True:
            variables = [n for n, v in source.variables.items() if n != "i"]
        elif isinstance(variables, str):
            variables = [variables]
        self.record_variables = list(variables)
        self._variables = {}
        for name_ in self.record_variables:
            variable = source._recordable(name_)
            if variable is None:
                raise KeyError(f"StateMonitor: {source.name!r} has no variable {name_!r}")
            self._variables[name_] = variable
        if has_compartment_indices(record):
            record = compartment_indices(record, source)
        if record is True:
            indices = np.arange(source.N)
        elif record is False or record is None:
            indices = np.zeros(0, dtype=int)
        else:
            indices = np.atleast_1d(np.asarray(record))
            if indices.dtype == bool:
                indices = np.flatnonzero(indices)
        if indices.size and (indices.min() < 0 or indices.max() >= source.N):
            raise IndexError(f"StateMonitor: record indices must be in 0..{source.N - 1}")
        self.record = indices.astype(np.int32)
        self._indices = np.ascontiguousarray(self.record, dtype=np.int32)
        self._t = containers().DynamicArray1D("float64")
        self._records = {
            v: containers().DynamicArray2D(len(self._indices)) for v in self.record_variables
        }
        self._has_run = False

    def roles(self, context: BuildContext) -> list[Role]:
        prefix = context.prefix(self)
        source = self.source
        code = _recorded_values(self, context)
        extra = {
            "indices": context.array(self, "indices", self._indices),
            "count": context.scalar(self, "count", lambda: len(self._indices), "int64_t"),
            "record_t": context.capsule(self, "t", self._t),
            "records": [
                context.capsule(self, f"record_{k}", self._records[name])
                for k, name in enumerate(self.record_variables)
            ],
        }
        return [
            Role(
                f"{prefix}_record",
                "statemonitor.pyx.j2",
                f"state monitor of {len(self.record_variables)} variable(s)",
                code,
                self.when,
                self.order,
                extra,
                index_lines=source._index_lines(context, code),
            )
        ]

    def before_run(self, context: BuildContext) -> None:
        """Reserve room for the rows of the coming run, so recording never reallocates (the
        generated code appends to ``t`` and the rows without checking: a C++ exception cannot
        pass through it)."""
        self._has_run = True
        rows = len(self._t) + context.n_steps  # t and every record have a row per recorded step
        for name, record in self._records.items():
            try:
                record.reserve_rows(rows)
            except (MemoryError, RuntimeError):  # std::bad_alloc or std::length_error
                size = rows * len(self._indices) * 8
                raise MemoryError(
                    f"StateMonitor {self.name!r}: recording {name} of {len(self._indices)} "
                    f"element(s) for {rows} steps needs {size / 2**30:.3g} GiB, which could not "
                    "be allocated; record fewer elements (record=[...]), a longer dt= for the "
                    "monitor, or a shorter run"
                ) from None
        try:
            self._t.reserve(rows)
        except (MemoryError, RuntimeError):  # std::bad_alloc or std::length_error
            raise MemoryError(
                f"StateMonitor {self.name!r}: recording the times of {rows} steps needs "
                f"{rows * 8 / 2**30:.3g} GiB, which could not be allocated; use a longer dt= "
                "for the monitor, or a shorter run"
            ) from None

    def record_single_timestep(self) -> None:
        """Record the variables once more, now (Brian2's ``record_single_timestep``): after a
        run, this adds the values at its end, which a monitor at the start of each step has
        not seen, with the current time.  The monitor must have been run (``run(0*ms)`` will
        do), as in Brian2."""
        if not self._has_run:
            raise TypeError(
                f"StateMonitor {self.name!r}: record_single_timestep() needs the monitor to have "
                "been run first (run(0*ms) will do)"
            )
        rows = {}
        for name in self.record_variables:
            view = VariableView(self.source, self._variables[name])
            values = np.asarray(view.get_item(self._indices), dtype=np.float64)
            rows[name] = np.broadcast_to(values, (len(self._indices),))[None, :]
        for name, row in rows.items():
            self._records[name].append_rows(row)
        self._t.append_array(np.array([self.clock.t_]))

    def _values(self, name: str) -> np.ndarray:
        # neurons x time steps
        return _typed(self._records[name].to_numpy().T, self._variables[name])

    def __getattr__(self, name: str):
        if name.startswith("_") or "_records" not in self.__dict__:
            raise AttributeError(name)
        records = self.__dict__["_records"]
        if name in records:
            values = self._values(name)
            dim = self._variables[name].dimension
            return (
                values
                if dim is DIMENSIONLESS or dim.is_dimensionless
                else Quantity(values, dim=dim)
            )
        if name.endswith("_") and name[:-1] in records:
            return self._values(name[:-1])
        raise AttributeError(f"StateMonitor {self.name!r} does not record {name!r}")

    def __getitem__(self, neuron):
        """The recordings of one neuron: ``mon[5].v``, of several: ``mon[[5, 7]].v`` (one row
        each), or of a compartment of a spatial neuron: ``mon[morpho.axon[-1]].v``."""
        if has_compartment_indices(neuron):
            neuron = compartment_indices(neuron, self.source)
        wanted = np.asarray(neuron)
        if wanted.dtype.kind not in "iu" or wanted.ndim > 1:
            raise TypeError(
                f"StateMonitor {self.name!r}: index it with a neuron's index or a list of them, "
                f"not {neuron!r}"
            )
        positions = []
        for index in wanted.ravel():
            found = np.flatnonzero(self._indices == index)
            if not len(found):
                raise IndexError(f"StateMonitor {self.name!r} does not record neuron {index}")
            positions.append(int(found[0]))
        return _SingleNeuronRecord(self, positions[0] if wanted.ndim == 0 else positions)

    def _recordings(self) -> dict:
        records = super()._recordings()
        records.update({f"_records/{name}": record for name, record in self._records.items()})
        return records

    def _state_entries(self) -> dict[str, Entry]:
        entries = super()._state_entries()
        for name in self.record_variables:
            entries[name] = Entry(
                self._variables[name].dimension,
                lambda level, name=name: self._values(name).T.copy(),
            )
        return entries


class _SingleNeuronRecord:
    """``mon[i]``: the recorded variables of one element (``mon[[i, j]]``: of several, one row
    each); ``t`` is the monitor's own."""

    def __init__(self, monitor: StateMonitor, position: int | list[int]):
        self._monitor = monitor
        self._position = position

    def __getattr__(self, name):
        values = getattr(self._monitor, name)
        recorded = name.rstrip("_") in self._monitor.record_variables
        return values[self._position] if recorded and name not in ("t", "t_") else values


class PopulationRateMonitor(Monitor):
    """The population firing rate of a group at every time step: ``t`` and ``rate``."""

    code_kind = "ratemon"

    def __init__(self, source, when="end", order=0, name="ratemonitor*"):
        self.source = _spike_source(source, "PopulationRateMonitor")
        super().__init__(name, when, order)
        self.clock = self.source.clock
        self._t = containers().DynamicArray1D("float64")
        self._rate = containers().DynamicArray1D("float64")

    def after_run(self) -> None:
        super().after_run()
        _equal_lengths([self._t, self._rate])

    def roles(self, context: BuildContext) -> list[Role]:
        prefix = context.prefix(self)
        source = self.source
        scope = GroupScope(source, context, None)
        size = scope.size_static()
        extra = {
            "spikes": context.array(source, "spikes", source._spikes),
            "size": size,
            "start": 0,
            "stop": size,
            "record_t": context.capsule(self, "t", self._t),
            "record_rate": context.capsule(self, "rate", self._rate),
            "fault": context.fault_site(
                f"PopulationRateMonitor {self.name!r}: out of memory while recording",
                MemoryError,
                lambda: (
                    f"{min(len(self._t), len(self._rate))} time steps recorded so far, which "
                    "are kept"
                ),
            ),
        }
        return [
            Role(
                f"{prefix}_record",
                "ratemonitor.pyx.j2",
                "population rate monitor",
                translate([], scope),
                self.when,
                self.order,
                extra,
            )
        ]

    @property
    def rate(self) -> RecordedView:
        """The fraction of neurons that spiked in each step, divided by ``dt`` (see
        :class:`RecordedView`)."""
        return RecordedView(
            f"PopulationRateMonitor {self.name!r}", "rate", self._rate.to_numpy(), hertz.dim
        )

    @property
    def rate_(self) -> np.ndarray:
        """:attr:`rate` in Hz, as a plain array."""
        return self._rate.to_numpy()

    def binned_rate(self, bin_size) -> tuple[Quantity, Quantity]:
        """``(bins, rates)``: the rate averaged over bins of ``bin_size`` (a multiple of dt)
        from the first recorded step, whole bins only; ``bins`` are their start times."""
        steps = _bin_steps(self, bin_size)
        rate, times = self._rate.to_numpy(), self._t.to_numpy()
        count = len(rate) // steps
        rates = rate[: count * steps].reshape(count, steps).mean(axis=1)
        start = times[0] if len(times) else 0.0
        bins = start + np.arange(count) * steps * self.clock.dt_
        return Quantity(bins, dim=second.dim), Quantity(rates, dim=hertz.dim)

    def smooth_rate(self, window="gaussian", width=None) -> Quantity:
        """The rate at every recorded step, smoothed with a window (Brian2's
        ``smooth_rate``): ``'gaussian'`` (``width`` is its standard deviation; the window
        reaches two of them to each side), ``'flat'`` (``width`` rounded to an odd number of
        steps, so the rate is not shifted in time), or an array of weights (odd length)."""
        weights = _smoothing_window(self, window, width)
        return Quantity(np.convolve(self._rate.to_numpy(), weights, mode="same"), dim=hertz.dim)

    def _recordings(self) -> dict:
        return {**super()._recordings(), "_rate": self._rate}

    def _state_entries(self) -> dict[str, Entry]:
        entries = super()._state_entries()
        entries["rate"] = Entry(hertz.dim, lambda level: self._rate.to_numpy())
        return entries
