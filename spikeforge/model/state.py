"""Snapshots of a network (``store``/``restore``) and state variables as dicts (``get_states``).

A **snapshot** is everything a run changes, so that a run after ``restore()`` continues exactly
as the run after the ``store()`` did (with ``restore_random_state=True`` for stochastic models):

- the network's time and the ``dt`` of the clocks of its objects (by clock name);
- the state of every object (keyed by its name): the arrays of a group's variables (for synapses
  also their number, so that restoring shrinks or grows them back, and ``i``/``j``), the event
  buffers of the last step, the recordings and counts of monitors, the spikes and cursor of a
  ``SpikeGeneratorGroup``, and the pending spikes of each synaptic pathway (the synapse indices
  in each slot of its spike queue, relative to the current step, so they keep their remaining
  delay);
- the random state of generated code (and of NumPy), always stored, restored only on request.

A snapshot is a tree of dicts whose leaves are NumPy arrays (numbers are 0-d arrays), never
arbitrary Python objects.  Snapshot files are ``.npz`` archives (written with ``np.savez``, read
with ``allow_pickle=False``): one archive holds several named snapshots, as arrays ``a0``,
``a1``... plus a JSON index.  Reading a snapshot file therefore never runs code from the file,
unlike the pickles Brian2 writes; a crafted file can still make ``restore`` fail or put
arbitrary numbers into the network, so restore files you trust.

Equations, thresholds, connectivity rules... are not part of a snapshot: ``restore`` needs the
same objects, with the same names, as ``store`` had.

``get_states``/``set_states`` read and write the user-visible variables of an object as a dict
(or a pandas ``DataFrame`` when pandas is installed), with or without units.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from typing import Callable

import numpy as np

from spikeforge.runtime.driver import run_deferred
from spikeforge.units import DIMENSIONLESS, Dimension, Quantity, second

#: Keys of a snapshot that are not object names (object names start with a letter).
TIME_KEY, DT_KEY, CLOCKS_KEY, RANDOM_KEY = "0_t", "0_dt", "0_clocks", "0_random_state"
FILE_FORMAT = "spikeforge-snapshots"
FILE_VERSION = 1
FORMATS = ("dict", "pandas")


# =============================================================================================
# the state of one object
# =============================================================================================
def _runtime():
    from spikeforge.runtime import containers

    return containers()


def _owner(obj) -> str:
    return f"{type(obj).__name__} {obj.name!r}"


def _stored_variables(obj) -> dict:
    variables = getattr(obj, "variables", None)
    if not isinstance(variables, dict):
        return {}
    return {name: var for name, var in variables.items() if var.has_storage}


def _monitor_records(obj) -> dict:
    """The recording containers and count arrays of a monitor, by attribute name."""
    runtime = _runtime()
    kinds = (runtime.DynamicArray1D, runtime.DynamicArray2D, np.ndarray)
    records = {}
    for attribute in ("_i", "_t", "_rate", "_count"):
        value = obj.__dict__.get(attribute)
        if isinstance(value, kinds):
            records[attribute] = value
    if isinstance(obj.__dict__.get("_records"), dict):
        for name, record in obj.__dict__["_records"].items():
            records[f"_records/{name}"] = record
    return records


def _event_buffers(obj) -> dict:
    """The buffers of a group's custom events (indices of the elements with the event in the
    last step), by event name."""
    events = obj.__dict__.get("_custom_events")
    if not isinstance(events, dict):
        return {}
    return {name: event.buffer for name, event in events.items()}


def _generator_fields(obj):
    from spikeforge.model.inputs import SpikeGeneratorGroup

    if not isinstance(obj, SpikeGeneratorGroup):
        return None
    return ("_neuron_index", "_spike_time", "_steps", "_step_indices")


def full_state(obj) -> dict:
    """A copy of everything a run changes in ``obj`` (see the module's documentation)."""
    state: dict = {}
    variables = _stored_variables(obj)
    if variables:
        state["variables"] = {
            name: np.array(var.array, copy=True) for name, var in variables.items()
        }
    spikes = obj.__dict__.get("_spikes")
    if isinstance(spikes, np.ndarray):
        state["spikes"] = spikes.copy()
    events = _event_buffers(obj)
    if events:
        state["events"] = {name: buffer.copy() for name, buffer in events.items()}
    pathways = getattr(obj, "pathways", None) or []
    if pathways:
        state["queues"] = {}
        for pathway in pathways:
            counts, synapses = pathway.queue.pending_spikes()
            state["queues"][pathway.name] = {"counts": counts, "synapses": synapses}
    records = _monitor_records(obj)
    if records:
        state["records"] = {
            name: record.copy() if isinstance(record, np.ndarray) else record.to_numpy()
            for name, record in records.items()
        }
    fields = _generator_fields(obj)
    if fields is not None:
        generator = {field: np.array(getattr(obj, field), copy=True) for field in fields}
        generator["cursor"] = obj._cursor.copy()
        generator["period"] = np.array(obj._period, dtype=np.float64)
        generator["period_steps"] = np.array(obj._period_steps, dtype=np.int64)
        binned = obj._binned_dt
        generator["binned_dt"] = np.array(np.nan if binned is None else binned, dtype=np.float64)
        generator["spikes_changed"] = np.array(obj._spikes_changed, dtype=bool)
        state["generator"] = generator
    return state


def check_full_state(obj, state: dict) -> None:
    """Raise ``ValueError`` if ``state`` (from :func:`full_state`) does not fit ``obj``; changes
    nothing, so that a failed restore leaves the network as it was."""
    owner = _owner(obj)

    def problem(text):
        return ValueError(f"the stored state does not fit {owner}: {text}")

    if not isinstance(state, dict):
        raise problem("it is not a state")
    variables = _stored_variables(obj)
    stored = state.get("variables", {})
    if set(stored) != set(variables):
        raise problem(f"it has the variables {sorted(stored)}, the object has {sorted(variables)}")
    for name, var in variables.items():
        values = np.asarray(stored[name])
        if var.dynamic is None and values.shape != var.array.shape:
            raise problem(f"{name} has shape {values.shape}, not {var.array.shape}")
        if var.dynamic is not None and values.ndim != 1:
            raise problem(f"{name} is not one-dimensional")
    if "i" in variables and variables["i"].dynamic is not None:
        sizes = {
            np.asarray(stored[name]).shape[0]
            for name, var in variables.items()
            if var.dynamic is not None
        }
        if len(sizes) > 1:
            raise problem("its synaptic variables have different lengths")
    spikes = obj.__dict__.get("_spikes")
    if isinstance(spikes, np.ndarray) and np.shape(state.get("spikes")) != spikes.shape:
        raise problem("its spikes of the last step do not match the group's size")
    events = _event_buffers(obj)
    stored_events = state.get("events", {})
    if set(stored_events) != set(events) or any(
        np.shape(stored_events[name]) != buffer.shape for name, buffer in events.items()
    ):
        raise problem("its events do not match the group's")
    pathways = getattr(obj, "pathways", None) or []
    queues = state.get("queues", {})
    if set(queues) != {pathway.name for pathway in pathways}:
        raise problem(f"it has the pathways {sorted(queues)}")
    n_synapses = len(np.asarray(stored["i"])) if "i" in stored and pathways else 0
    for name, queue in queues.items():
        synapses = np.asarray(queue["synapses"])
        if synapses.size and (synapses.min() < 0 or synapses.max() >= n_synapses):
            raise problem(f"the spike queue of pathway {name!r} holds unknown synapses")
    records = _monitor_records(obj)
    stored_records = state.get("records", {})
    if set(stored_records) != set(records):
        raise problem(f"it has the records {sorted(stored_records)}")
    for name, record in records.items():
        values = np.asarray(stored_records[name])
        if isinstance(record, np.ndarray):
            if values.shape != record.shape:
                raise problem(f"{name} has shape {values.shape}, not {record.shape}")
        elif isinstance(record, _runtime().DynamicArray2D):
            if values.ndim != 2 or values.shape[1] != record.shape[1]:
                raise problem(f"{name} does not have {record.shape[1]} columns")
        elif values.ndim != 1:
            raise problem(f"{name} is not one-dimensional")
    if (_generator_fields(obj) is None) != ("generator" not in state):
        raise problem("it is not the state of a SpikeGeneratorGroup")


def restore_full_state(obj, state: dict) -> None:
    """Put a state from :func:`full_state` back into ``obj`` (arrays are copied in place, so
    generated code that holds them keeps working)."""
    check_full_state(obj, state)
    for name, var in _stored_variables(obj).items():
        values = np.asarray(state["variables"][name])
        if var.dynamic is not None:
            var.dynamic.resize(len(values))
            if len(values):
                var.dynamic.view()[:] = values
        else:
            var.storage[...] = values
    if "spikes" in state:
        obj._spikes[...] = state["spikes"]
    for name, buffer in _event_buffers(obj).items():
        buffer[...] = state["events"][name]
    for pathway in getattr(obj, "pathways", None) or []:
        queue = state["queues"][pathway.name]
        pathway.queue.set_pending_spikes(queue["counts"], queue["synapses"])
    for name, record in _monitor_records(obj).items():
        values = np.asarray(state["records"][name])
        if isinstance(record, np.ndarray):
            record[...] = values
        elif isinstance(record, _runtime().DynamicArray2D):
            record.resize_rows(0)
            record.append_rows(values)
        else:
            record.resize(len(values))
            if len(values):
                record.view()[:] = values
    generator = state.get("generator")
    if generator is not None:
        for field in _generator_fields(obj):
            setattr(obj, field, np.ascontiguousarray(generator[field]).copy())
        obj._cursor[...] = generator["cursor"]
        obj._period = float(generator["period"])
        obj._period_steps = int(generator["period_steps"])
        binned = float(generator["binned_dt"])
        obj._binned_dt = None if np.isnan(binned) else binned
        obj._spikes_changed = bool(generator["spikes_changed"])


# =============================================================================================
# snapshots of a network
# =============================================================================================
def _state_objects(network) -> list:
    """The objects of ``network`` and the objects they contain, active or not."""
    from spikeforge.model.base import objects_in_scope
    from spikeforge.model.network import MagicNetwork

    if isinstance(network, MagicNetwork):
        network.objects = objects_in_scope()
    collected = []
    for obj in network.objects:
        for item in [obj, *obj.contained_objects]:
            if item not in collected:
                collected.append(item)
    return collected


def _random_state() -> dict:
    from spikeforge.runtime.driver import random_state

    kind, key, position, has_gauss, cached = np.random.get_state()
    return {
        "generated_code": random_state.copy(),
        "numpy": {
            "kind": np.array(kind),
            "key": np.array(key, copy=True),
            "position": np.array(position, dtype=np.int64),
            "has_gauss": np.array(has_gauss, dtype=np.int64),
            "cached_gaussian": np.array(cached, dtype=np.float64),
        },
    }


def _set_random_state(state: dict) -> None:
    from spikeforge.runtime.driver import random_state

    random_state[:] = state["generated_code"]
    numpy_state = state["numpy"]
    np.random.set_state(
        (
            str(numpy_state["kind"]),
            np.asarray(numpy_state["key"]),
            int(numpy_state["position"]),
            int(numpy_state["has_gauss"]),
            float(numpy_state["cached_gaussian"]),
        )
    )


def _clocks(objects) -> list:
    clocks = []
    for obj in objects:
        clock = getattr(obj, "clock", None)
        if clock is not None and not any(clock is known for known in clocks):
            clocks.append(clock)
    return clocks


def snapshot(network) -> dict:
    """The state of ``network`` and its objects now (a new tree of copies)."""
    run_deferred()
    objects = _state_objects(network)
    state = {obj.name: obj._full_state() for obj in objects}
    state[TIME_KEY] = np.array(network.t_, dtype=np.float64)
    state[DT_KEY] = np.array(network.dt_, dtype=np.float64)
    state[CLOCKS_KEY] = {
        clock.name: np.array(clock.dt_, dtype=np.float64) for clock in _clocks(objects)
    }
    state[RANDOM_KEY] = _random_state()
    return state


def apply_snapshot(network, state: dict, restore_random_state: bool = False) -> None:
    """Restore ``network`` to ``state`` (from :func:`snapshot`); checks everything first."""
    run_deferred()  # calls made before restore() change the state it replaces
    objects = _state_objects(network)
    names = {obj.name for obj in objects}
    stored = {key for key in state if not key[0].isdigit()}
    if names - stored:
        raise KeyError(
            f"the snapshot has no state for {', '.join(sorted(names - stored))}: restore needs "
            "the objects that were stored, with the same names"
        )
    if stored - names:
        raise KeyError(
            f"the snapshot has states of objects that are not in the network: "
            f"{', '.join(sorted(stored - names))} (restore needs the same objects, with the same "
            "names, as store had)"
        )
    for obj in objects:
        check_full_state(obj, state[obj.name])
    for obj in objects:
        obj._restore_from_full_state(state[obj.name])
    t = float(state[TIME_KEY])
    network.t_ = t
    network.dt_ = float(state[DT_KEY])
    for clock in _clocks(objects):  # Brian2 restores the clocks' dt too
        if clock.name in state[CLOCKS_KEY]:
            clock.dt_ = float(state[CLOCKS_KEY][clock.name])
    for obj in objects:
        obj._time = t
    if restore_random_state:
        _set_random_state(state[RANDOM_KEY])


def _memory(network) -> dict:
    return network.__dict__.setdefault("_stored_snapshots", {})


def _check_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"a snapshot name must be a string, got {name!r}")
    return name


def store_network(network, name: str = "default", filename=None) -> None:
    """``Network.store``: keep a snapshot in memory under ``name``, or in the file ``filename``
    (which may hold several named snapshots; one of the same name is replaced)."""
    _check_name(name)
    state = snapshot(network)
    if filename is None:
        _memory(network)[name] = state
        return
    snapshots = read_snapshot_file(filename) if os.path.exists(filename) else {}
    snapshots[name] = state
    write_snapshot_file(filename, snapshots)


def restore_network(
    network, name: str = "default", filename=None, restore_random_state=False
) -> None:
    """``Network.restore``: go back to the snapshot ``name`` (from memory, or from ``filename``)."""
    _check_name(name)
    if filename is None:
        snapshots = _memory(network)
        where = f"in memory for {network.name!r}"
    else:
        snapshots = read_snapshot_file(filename)
        where = f"in {os.fspath(filename)!r}"
    if name not in snapshots:
        known = ", ".join(repr(k) for k in sorted(snapshots)) or "none"
        raise KeyError(f"no snapshot named {name!r} {where} (stored snapshots: {known})")
    apply_snapshot(network, snapshots[name], restore_random_state)


def store(name: str = "default", filename=None) -> None:
    """Store the state of the implicit network: every object made since ``start_scope()``."""
    from spikeforge.model.network import magic_network

    magic_network.store(name, filename)


def restore(name: str = "default", filename=None, restore_random_state=False) -> None:
    """Restore the implicit network (see :func:`store`)."""
    from spikeforge.model.network import magic_network

    magic_network.restore(name, filename, restore_random_state)


# snapshot files -------------------------------------------------------------------------------
def _flatten(tree: dict, arrays: dict) -> dict:
    index = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            index[key] = _flatten(value, arrays)
        else:
            array_key = f"a{len(arrays)}"
            array = np.asarray(value)
            if array.dtype.hasobject:
                raise TypeError(f"cannot write {key!r} to a snapshot file: it holds objects")
            arrays[array_key] = array
            index[key] = array_key
    return index


def _unflatten(index: dict, archive) -> dict:
    return {
        key: _unflatten(value, archive) if isinstance(value, dict) else archive[value]
        for key, value in index.items()
    }


def write_snapshot_file(filename, snapshots: dict) -> None:
    """Write named snapshots to ``filename`` (an ``.npz`` archive), replacing the file
    atomically."""
    arrays: dict = {}
    index = {
        "format": FILE_FORMAT,
        "version": FILE_VERSION,
        "snapshots": _flatten(snapshots, arrays),
    }
    arrays["index"] = np.array(json.dumps(index))
    path = os.path.abspath(os.fspath(filename))
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".snapshot-")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def read_snapshot_file(filename) -> dict:
    """The named snapshots in ``filename`` (written by :func:`write_snapshot_file`)."""
    try:
        with np.load(filename, allow_pickle=False) as archive:
            index = json.loads(str(archive["index"]))
            if not isinstance(index, dict) or index.get("format") != FILE_FORMAT:
                raise ValueError("no spikeforge index")
            if index.get("version") != FILE_VERSION:
                raise ValueError(f"unknown version {index.get('version')!r}")
            return _unflatten(index["snapshots"], archive)
    except FileNotFoundError:
        raise
    except (ValueError, KeyError, OSError, IndexError, TypeError, AttributeError) as error:
        raise ValueError(
            f"{os.fspath(filename)!r} is not a spikeforge snapshot file ({error})"
        ) from None


# =============================================================================================
# get_states / set_states
# =============================================================================================
@dataclass
class Entry:
    """One name ``get_states`` knows: how to read it (plain values) and, unless read-only, write
    it.  ``level`` of ``read``/``write``: frames from their caller up to the user's code."""

    dimension: Dimension
    read: Callable
    write: Callable | None = None
    subexpression: bool = False
    per_element: bool = False  # one value per element of the group (synapses index them)
    variable: object = None

    @property
    def read_only(self) -> bool:
        return self.write is None


def _number(value, dtype=np.int64) -> np.ndarray:
    return np.array(value, dtype=dtype)


def _plain_values(variable, values) -> np.ndarray:
    if variable.var_type == "boolean":
        return np.asarray(values).astype(bool)
    return np.array(values, copy=True)


def _variable_entry(group, variable) -> Entry:
    from spikeforge.model.variables import VariableView

    def read(level):
        if variable.has_storage:
            values = variable.array
        else:
            values = group._evaluate_subexpression(variable, level + 1)
        values = _plain_values(variable, values)
        return values[0].copy() if variable.shared else values

    def write(value, units, level):
        if not isinstance(value, str) and not units:
            value = Quantity(np.asarray(value), dim=variable.dimension)
        VariableView(group, variable).set_item(slice(None), value, level=level + 1)

    writable = variable.has_storage and not variable.read_only
    return Entry(
        variable.dimension,
        read,
        write if writable else None,
        subexpression=not variable.has_storage,
        per_element=not variable.shared,
        variable=variable,
    )


def _clock_entries(obj, count: Callable, count_dtype=np.int64) -> dict:
    from spikeforge.model.clock import defaultclock
    from spikeforge.model.network import steps_until

    clock = getattr(obj, "clock", None) or defaultclock

    def time():
        return float(getattr(obj, "_time", 0.0))

    return {
        "N": Entry(DIMENSIONLESS, lambda level: _number(count(), count_dtype)),
        "t": Entry(second.dim, lambda level: _number(time(), np.float64)),
        "dt": Entry(second.dim, lambda level: _number(clock.dt_, np.float64)),
        "t_in_timesteps": Entry(
            DIMENSIONLESS, lambda level: _number(steps_until(time(), clock.dt_))
        ),
    }


def _group_entries(group) -> dict:
    from spikeforge.model.inputs import SpikeGeneratorGroup
    from spikeforge.model.synapses import Synapses

    synaptic = isinstance(group, Synapses)
    entries = _clock_entries(group, lambda: group.N, np.int32 if synaptic else np.int64)
    for name, variable in group.variables.items():
        entries[name] = _variable_entry(group, variable)
    if isinstance(group, SpikeGeneratorGroup):
        entries["neuron_index"] = Entry(DIMENSIONLESS, lambda level: group.neuron_index)
        entries["spike_time"] = Entry(second.dim, lambda level: group._spike_time.copy())
        entries["period"] = Entry(second.dim, lambda level: _number(group._period, np.float64))
    if synaptic:
        for suffix, neurons, index in (("_pre", group.source, "i"), ("_post", group.target, "j")):
            for name, entry in _group_entries(neurons).items():
                if name in ("neuron_index", "spike_time", "period"):
                    continue
                reference = _reference(group, entry, index)
                entries[name + suffix] = reference
                bare = suffix == "_post" and entry.variable is not None and name != "i"
                if bare and name not in entries:
                    entries[name] = reference
    return entries


def _reference(synapses, entry: Entry, index: str) -> Entry:
    """``x_pre``/``x_post``: the neurons' values at the synapses' ``i``/``j``."""
    if not entry.per_element:
        return Entry(
            entry.dimension, lambda level: entry.read(level + 1), None, entry.subexpression
        )

    def read(level):
        return entry.read(level + 1)[synapses.variables[index].array]

    def write(value, units, level):
        if isinstance(value, str):
            raise TypeError(
                f"{_owner(synapses)}: a presynaptic or postsynaptic variable can only be set "
                "to values here, not to a string expression"
            )
        variable = entry.variable
        if units:
            from spikeforge.model.variables import check_assigned_units

            check_assigned_units(synapses, variable, value)
        variable.array[synapses.variables[index].array] = np.asarray(value)

    writable = entry.write is not None
    return Entry(entry.dimension, read, write if writable else None, entry.subexpression, True)


def _monitor_entries(monitor) -> dict:
    from spikeforge.model.monitors import EventMonitor, PopulationRateMonitor, StateMonitor
    from spikeforge.units import hertz

    entries = {}
    entries["t"] = Entry(second.dim, lambda level: monitor._t.to_numpy())
    if isinstance(monitor, EventMonitor):
        entries["i"] = Entry(DIMENSIONLESS, lambda level: monitor._i.to_numpy())
        entries["count"] = Entry(DIMENSIONLESS, lambda level: monitor._count.copy())
        entries["N"] = Entry(DIMENSIONLESS, lambda level: _number(len(monitor._i), np.int32))
        for name in monitor.record_variables:
            entries[name] = Entry(
                monitor.source.variables[name].dimension,
                lambda level, name=name: monitor._values(name),
            )
    elif isinstance(monitor, StateMonitor):
        entries["N"] = Entry(DIMENSIONLESS, lambda level: _number(len(monitor._t), np.int32))
        for name in monitor.record_variables:
            variable = monitor.source.variables[name]
            entries[name] = Entry(
                variable.dimension, lambda level, name=name: monitor._values(name).T.copy()
            )
    elif isinstance(monitor, PopulationRateMonitor):
        entries["rate"] = Entry(hertz.dim, lambda level: monitor._rate.to_numpy())
        entries["N"] = Entry(DIMENSIONLESS, lambda level: _number(len(monitor._t), np.int32))
    return entries


def state_entries(obj) -> dict:
    """The names ``get_states``/``set_states`` know for ``obj``, as :class:`Entry`."""
    from spikeforge.model.groups import Group

    if isinstance(obj, Group):
        return _group_entries(obj)
    return _monitor_entries(obj)


def _check_format(format: str, units: bool):
    if format not in FORMATS:
        raise NotImplementedError(
            f"the format {format!r} is not supported (use {' or '.join(map(repr, FORMATS))})"
        )
    if format == "pandas":
        try:
            import pandas
        except ImportError as error:
            raise ImportError("format='pandas' needs pandas, which is not installed") from error
        if units:
            raise NotImplementedError("pandas data frames cannot hold units: pass units=False")
        return pandas
    return None


def get_states(
    obj, vars=None, units=True, format="dict", subexpr=False, read_only_variables=True, level=0
):
    """``Group.get_states`` (and monitors'): copies of the values of ``vars`` (by default all
    variables whose names do not start with ``_``, subexpressions only with ``subexpr``,
    read-only ones unless ``read_only_variables`` is false)."""
    run_deferred()  # the values are read from the arrays themselves
    pandas = _check_format(format, units)
    entries = state_entries(obj)
    if vars is None:
        names = [
            name
            for name, entry in entries.items()
            if not name.startswith("_")
            and (subexpr or not entry.subexpression)
            and (read_only_variables or not entry.read_only)
        ]
    else:
        names = [vars] if isinstance(vars, str) else list(vars)
        unknown = [name for name in names if name not in entries]
        if unknown:
            raise KeyError(f"{_owner(obj)} has no state variable {unknown[0]!r}")
    data = {}
    for name in names:
        entry = entries[name]
        values = entry.read(level + 1)
        if units and not entry.dimension.is_dimensionless:
            values = Quantity(values, dim=entry.dimension)
        data[name] = values
    return pandas.DataFrame(data) if pandas is not None else data


def set_states(obj, values, units=True, format="dict", level=0) -> None:
    """``Group.set_states``: assign each name of ``values`` (a dict, or a pandas ``DataFrame``
    with ``format='pandas'``); values may be string expressions, as in ``G.v = '...'``."""
    run_deferred()  # some names write the arrays themselves (x_pre of synapses)
    pandas = _check_format(format, units)
    if pandas is not None:
        values = {column: np.squeeze(values[column].to_numpy()) for column in values.columns}
    entries = state_entries(obj)
    for name in values:
        if name not in entries:
            raise KeyError(f"{_owner(obj)} has no state variable {name!r}")
        if entries[name].read_only:
            raise TypeError(f"{_owner(obj)}: the variable {name!r} is read-only")
    for name, value in values.items():
        entries[name].write(value, units, level + 1)


def network_get_states(
    network, units=True, format="dict", subexpr=False, read_only_variables=True, level=0
) -> dict:
    """``Network.get_states``: ``{object name: its get_states()}`` for the network's objects."""
    states = {}
    for obj in _state_objects(network):
        if hasattr(obj, "get_states"):
            states[obj.name] = obj.get_states(
                None, units, format, subexpr, read_only_variables, level=level + 1
            )
    return states
