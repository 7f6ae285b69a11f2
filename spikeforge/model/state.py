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
import zipfile
from dataclasses import dataclass
from typing import Callable

import numpy as np

from spikeforge.runtime.driver import random_state, run_deferred
from spikeforge.units import Dimension, Quantity

#: Keys of a snapshot that are not object names (object names start with a letter).
TIME_KEY, DT_KEY, CLOCKS_KEY, RANDOM_KEY = "0_t", "0_dt", "0_clocks", "0_random_state"
FILE_FORMAT = "spikeforge-snapshots"
FILE_VERSION = 1
FORMATS = ("dict", "pandas")


# =============================================================================================
# helpers for the objects' own state methods
# =============================================================================================
def state_problem(obj, text: str) -> ValueError:
    """The error of a stored state that does not fit ``obj``."""
    return ValueError(f"the stored state does not fit {owner(obj)}: {text}")


def copy_record(record) -> np.ndarray:
    """A NumPy copy of a recording container (a runtime dynamic array or a NumPy array)."""
    return record.copy() if isinstance(record, np.ndarray) else record.to_numpy()


def check_record(obj, name: str, record, values) -> None:
    """Raise if ``values`` cannot be put into the recording container ``record``."""
    values = np.asarray(values)
    if isinstance(record, np.ndarray):
        if values.shape != record.shape:
            raise state_problem(obj, f"{name} has shape {values.shape}, not {record.shape}")
    elif hasattr(record, "append_rows"):  # two-dimensional
        if values.ndim != 2 or values.shape[1] != record.shape[1]:
            raise state_problem(obj, f"{name} does not have {record.shape[1]} columns")
    elif values.ndim != 1:
        raise state_problem(obj, f"{name} is not one-dimensional")


def restore_record(record, values) -> None:
    """Put ``values`` (checked by :func:`check_record`) into ``record``, in place."""
    values = np.asarray(values)
    if isinstance(record, np.ndarray):
        record[...] = values
    elif hasattr(record, "append_rows"):
        record.resize_rows(0)
        record.append_rows(values)
    else:
        record.resize(len(values))
        if len(values):
            record.view()[:] = values


# =============================================================================================
# snapshots of a network
# =============================================================================================
def _random_state() -> dict:
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
    objects = network.state_objects()
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
    objects = network.state_objects()
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
    _check_times(state)
    for obj in objects:  # everything is checked before anything changes
        obj._check_full_state(state[obj.name])
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
        if getattr(obj, "clock", None) is not None:
            obj.clock.t_ = t
    if restore_random_state:
        _set_random_state(state[RANDOM_KEY])


def _check_times(state: dict) -> None:
    """Raise ``ValueError`` unless the snapshot's time is finite and not negative, and its time
    steps finite and positive."""
    try:
        t = float(state[TIME_KEY])
        steps = {"dt": float(state[DT_KEY])}
        steps.update({name: float(dt) for name, dt in dict(state[CLOCKS_KEY]).items()})
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"the snapshot has no valid time or time step ({error})") from None
    if not (np.isfinite(t) and t >= 0):
        raise ValueError(f"the snapshot's time must be finite and not negative, got {t}")
    for name, dt in steps.items():
        if not (np.isfinite(dt) and dt > 0):
            raise ValueError(f"the snapshot's time step {name} must be positive, got {dt}")


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
    except (
        ValueError,
        KeyError,
        OSError,
        IndexError,
        TypeError,
        AttributeError,
        EOFError,
        zipfile.BadZipFile,
    ) as error:
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


def number(value, dtype=np.int64) -> np.ndarray:
    """A number as a 0-d array (``get_states`` returns arrays)."""
    return np.array(value, dtype=dtype)


def owner(obj) -> str:
    """How errors name an object: ``NeuronGroup 'neurons'``."""
    return f"{type(obj).__name__} {obj.name!r}"


def _check_format(format: str, units: bool):
    if format not in FORMATS:
        raise NotImplementedError(
            f"the format {format!r} is not supported (use {' or '.join(map(repr, FORMATS))})"
        )
    if format == "pandas":
        try:
            import pandas  # optional, and slow to import: only when asked for
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
    entries = obj._state_entries()
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
            raise KeyError(f"{owner(obj)} has no state variable {unknown[0]!r}")
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
    entries = obj._state_entries()
    for name in values:
        if name not in entries:
            raise KeyError(f"{owner(obj)} has no state variable {name!r}")
        if entries[name].read_only:
            raise TypeError(f"{owner(obj)}: the variable {name!r} is read-only")
    for name, value in values.items():
        entries[name].write(value, units, level + 1)


def network_get_states(
    network, units=True, format="dict", subexpr=False, read_only_variables=True, level=0
) -> dict:
    """``Network.get_states``: ``{object name: its get_states()}`` for the network's objects."""
    states = {}
    for obj in network.state_objects():
        if hasattr(obj, "get_states"):
            states[obj.name] = obj.get_states(
                None, units, format, subexpr, read_only_variables, level=level + 1
            )
    return states
