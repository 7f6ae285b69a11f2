"""Run one Brian2 script under Brian2 or spikeforge and save what its monitors recorded.

Used by ``brian2_examples.py`` (one fresh process per script and simulator)::

    python brian2_examples_bootstrap.py {brian2|spikeforge} SCRIPT OUTPUT_PREFIX [SEED_OFFSET]

For spikeforge, only the script's import statements change (``brian2`` becomes ``spikeforge``
in ``import``/``from ... import`` lines, found with ``ast``); nothing else of the script is
touched.  Figures are drawn with matplotlib's Agg backend and ``show()`` does nothing.  After
the script (or its exception), every live monitor is saved to ``OUTPUT_PREFIX.npz`` (arrays in
SI units) with a description in ``OUTPUT_PREFIX.json`` (status, error, wall time, monitors), and
so is every monitor that went away earlier (made in a function or a loop), as it went.  Each
monitor has its creation number among those of its kind (``serial``), by which the runner
matches monitors across simulators.

With a ``SEED_OFFSET`` other than 0, the script draws other random numbers than its own seeds
give, reproducibly (see :func:`reseed`): the runner repeats a random script over several offsets
to judge it against the spread of its results.
"""

from __future__ import annotations

import ast
import gc
import json
import os
import sys
import time
import traceback
import types

import numpy as np

MONITOR_KINDS = ("SpikeMonitor", "EventMonitor", "StateMonitor", "PopulationRateMonitor")
#: Groups whose final state is saved too (by their exact class: spikeforge's PoissonGroup is a
#: NeuronGroup, Brian2's is not), so that a script that records nothing is still compared.
GROUP_KINDS = ("NeuronGroup", "Synapses", "SpatialNeuron")
#: The format of the reports: 2 adds the groups' final states (older reports are run again).
FORMAT = 2


def rewrite_imports(source: str, simulator: str) -> str:
    """``source`` with the module ``brian2`` replaced by ``simulator`` in its import statements
    only (strings, comments and other code are left as they are)."""
    if simulator == "brian2":
        return source
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        if not any(m == "brian2" or m.startswith("brian2.") for m in modules):
            continue
        for number in range(node.lineno - 1, node.end_lineno):
            lines[number] = _replace_module_name(lines[number], simulator)
    return "".join(lines)


def _replace_module_name(line: str, simulator: str) -> str:
    code, hash_, comment = line.partition("#")
    words = []
    for token in code.split(" "):
        stripped = token.strip(",()\n")
        if stripped == "brian2" or stripped.startswith("brian2."):
            token = token.replace("brian2", simulator, 1)
        words.append(token)
    return " ".join(words) + hash_ + comment


def _plain(value) -> np.ndarray:
    return np.array(np.asarray(value), dtype=float)


def monitor_data(monitor, kind: str) -> dict[str, np.ndarray]:
    """The recordings of one monitor as plain float arrays (SI units)."""
    data: dict[str, np.ndarray] = {}
    if kind in ("SpikeMonitor", "EventMonitor"):
        data["i"] = _plain(monitor.i)
        data["t"] = _plain(monitor.t)
        data["count"] = _plain(monitor.count)
    elif kind == "StateMonitor":
        data["t"] = _plain(monitor.t)
        for name in monitor.record_variables:
            data[name] = _plain(getattr(monitor, name))
    else:
        data["t"] = _plain(monitor.t)
        data["rate"] = _plain(monitor.rate)
    return data


def group_data(group) -> dict[str, np.ndarray]:
    """The final values of a group's variables (those of its differential equations and its
    parameters, in SI units); a group of synapses has them ordered by (pre, post) index."""
    equations = group.equations
    names = sorted(equations.diff_eq_names | equations.parameter_names)
    data = {name: _plain(getattr(group, name)) for name in names}
    if type(group).__name__ == "Synapses" and data:
        order = np.lexsort((_plain(group.j), _plain(group.i)))
        data = {
            name: values[order] if values.shape == order.shape else values
            for name, values in data.items()
        }
    return data


def _kind(obj) -> str:
    if type(obj).__name__ in GROUP_KINDS:
        return type(obj).__name__
    names = [cls.__name__ for cls in type(obj).__mro__]
    return next(name for name in names if name in MONITOR_KINDS)


#: The creation number of each monitor made by the script (by ``id``), counted per kind: the
#: key monitors are matched by across simulators.
_serials: dict[int, int] = {}
_made: dict[str, int] = {}
#: ``(kind, name, serial, data)`` of monitors that were gone before the script ended (made in a
#: function or a loop), saved as they went.
_departed: list[tuple[str, str, int, dict]] = []


def _number(obj, kind: str) -> None:
    """Give ``obj`` the next creation number of its kind (once: the outermost constructor)."""
    if id(obj) not in _serials:
        _serials[id(obj)] = _made[kind] = _made.get(kind, -1) + 1


def watch_monitors(module) -> None:
    """Number the monitors of the simulator ``module`` as they are made, and save what each
    one recorded when it goes away before the script ends."""
    classes = [getattr(module, kind) for kind in MONITOR_KINDS if hasattr(module, kind)]
    originals = {cls: (cls.__init__, getattr(cls, "__del__", None)) for cls in classes}
    for cls in [getattr(module, kind) for kind in GROUP_KINDS if hasattr(module, kind)]:
        init, delete = cls.__init__, cls.__dict__.get("__del__")

        def __init__(self, *args, _init=init, **kwargs):  # numbered, not saved when gone
            if type(self).__name__ in GROUP_KINDS:
                _number(self, type(self).__name__)
            _init(self, *args, **kwargs)

        def __del__(self, _cls=cls, _delete=delete):
            if type(self) is _cls:  # a subclass's own hook (if any) forgets it
                _serials.pop(id(self), None)
            if _delete is not None:
                _delete(self)
            else:
                parent = getattr(super(_cls, self), "__del__", None)
                if parent is not None:
                    parent()

        cls.__init__ = __init__
        cls.__del__ = __del__
    for cls, (init, delete) in originals.items():

        def __init__(self, *args, _init=init, **kwargs):
            _number(self, _kind(self))
            _init(self, *args, **kwargs)

        def __del__(self, _delete=delete):
            serial = _serials.pop(id(self), None)
            if serial is not None:
                kind = _kind(self)
                try:
                    _departed.append((kind, self.name, serial, monitor_data(self, kind)))
                except Exception:  # never ran, or not readable any more: nothing to compare
                    pass
            if _delete is not None:
                _delete(self)

        cls.__init__ = __init__
        cls.__del__ = __del__


def collect_monitors(module) -> list[tuple[str, str, object]]:
    """``(kind, name, object)`` of every live monitor of the simulator, then of every live
    group of :data:`GROUP_KINDS` that the script made, each ordered by name."""
    classes = tuple(getattr(module, kind) for kind in MONITOR_KINDS if hasattr(module, kind))
    monitors, groups = [], []
    for obj in gc.get_objects():
        if issubclass(type(obj), classes):  # not weak proxies, which pass isinstance()
            monitors.append((_kind(obj), obj.name, obj))
        elif type(obj).__name__ in GROUP_KINDS and id(obj) in _serials:
            groups.append((_kind(obj), obj.name, obj))
    return sorted(monitors, key=lambda item: item[1]) + sorted(groups, key=lambda item: item[1])


def reseed(module, offset: int) -> None:
    """Make the simulator ``module``'s ``seed(n)`` and ``numpy.random.seed(n)`` seed with
    ``n`` moved by ``offset``, and seed both now with ``offset`` (scripts that never call seed()
    then draw reproducibly too).  ``seed()`` with no value still seeds from the system."""
    shift = 1_000_003 * offset

    def moved(value):
        return None if value is None else (int(value) + shift) % 2**32

    simulator_seed, numpy_seed = module.seed, np.random.seed
    module.seed = lambda value=None: simulator_seed(moved(value))
    np.random.seed = lambda value=None: numpy_seed(moved(value))
    simulator_seed(moved(0))
    numpy_seed(moved(0))


def main() -> int:
    simulator, script, prefix = sys.argv[1:4]
    offset = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    os.environ.setdefault("MPLBACKEND", "Agg")
    source = open(script, encoding="utf-8").read()
    report: dict = {
        "simulator": simulator,
        "script": script,
        "seed_offset": offset,
        "status": "ran",
        "format": FORMAT,
        "monitors": [],
    }
    started = time.perf_counter()
    # the script runs as the module __main__, so that what it defines can be pickled
    # (multiprocessing pools look functions up there)
    main_module = types.ModuleType("__main__")
    main_module.__file__ = script
    sys.modules["__main__"] = main_module
    namespace = main_module.__dict__
    # the working directory holds copies of the script's neighbours (imports rewritten alike),
    # standing for its own folder, which `python script.py` puts first on sys.path
    sys.path.insert(0, os.getcwd())
    try:
        code = compile(rewrite_imports(source, simulator), script, "exec")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        plt.show = lambda *args, **kwargs: None
        if offset:
            reseed(__import__(simulator), offset)
        watch_monitors(__import__(simulator))
        exec(code, namespace)
    except SystemExit as stop:  # sys.exit(): a failure only with a message or another code
        if stop.code not in (None, 0):
            report["status"] = "failed"
            report["error"] = f"SystemExit: {stop.code}"[:2000]
    except BaseException as error:  # the script's own error: reported, monitors still saved
        report["status"] = "failed"
        report["error"] = f"{type(error).__name__}: {error}"[:2000]
        last = traceback.extract_tb(error.__traceback__)[-1]
        report["where"] = f"{os.path.basename(last.filename)}:{last.lineno}"
    report["seconds"] = time.perf_counter() - started
    arrays = {}
    try:
        module = __import__(simulator)
        saved = []
        for kind, name, monitor in collect_monitors(module):
            serial = _serials.get(id(monitor))
            try:
                if kind in GROUP_KINDS:
                    saved.append((kind, f"{name} (final state)", serial, group_data(monitor)))
                    continue
                saved.append((kind, name, serial, monitor_data(monitor, kind)))
            except Exception as error:  # a monitor that cannot be read is reported as such
                saved.append((kind, name, serial, str(error)))
        for kind, name, serial, data in _departed:
            saved.append((kind, f"{name} (gone before the end, #{serial})", serial, data))
        for k, (kind, name, serial, data) in enumerate(saved):
            entry = {"kind": kind, "name": name, "serial": serial}
            if isinstance(data, str):
                report["monitors"].append(entry | {"error": data})
                continue
            report["monitors"].append(entry | {"keys": sorted(data)})
            for key, values in data.items():
                arrays[f"{k}/{key}"] = values
    except Exception as error:
        report["collect_error"] = f"{type(error).__name__}: {error}"
    np.savez_compressed(prefix + ".npz", **arrays)
    with open(prefix + ".json", "w") as file:
        json.dump(report, file, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
