"""Parameter sweeps: one model run over many parameter sets, on this machine or a Dask cluster.

``sweep(simulate, grid={'tau': [5, 10, 20]*ms, 'w': [0.1, 0.2]})`` calls ``simulate(tau=...,
w=...)`` once per parameter set, in worker processes, and returns what each call returned, in
order.  ``simulate`` builds and runs a model the usual way and returns what the sweep should keep
(numbers, arrays, the monitors themselves: anything that pickles).

Why it is cheap: a model's constants and initial values are arguments of its compiled module,
so every run of the sweep uses the modules the first run compiled.  The first run is made alone
before the others start, so that they find its modules in the cache (shared by the workers of
one machine, and by the machines of a cluster with a shared file system) instead of compiling
them side by side.

Workers are Dask's (``distributed``): a ``LocalCluster`` of ``workers`` processes with one
thread each by default, or any cluster through ``client=`` (e.g. on SLURM with dask-jobqueue).
``workers=0`` runs everything in this process, without Dask.  Each run starts with
``start_scope()``, the caller's ``defaultclock.dt`` and, with ``seed=``, ``seed(seed + k)`` for
run ``k``, so a run's result does not depend on which worker made it or what it made before.

A run that raises does not stop the others: its :class:`SweepRun` holds the error and its
parameters, and a :class:`SweepWarning` lists the failures at the end.  With ``save_to=``, each
run is written to that folder as it finishes (``run-000012.pickle``) and a sweep started again
with the same folder makes only the runs that are not there yet (:func:`load_sweep` reads them).
"""

from __future__ import annotations

import itertools
import os
import pickle
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spikeforge.codegen import cache
from spikeforge.model.base import new_scope
from spikeforge.model.clock import defaultclock
from spikeforge.runtime.driver import seed as seed_generator


class SweepWarning(UserWarning):
    """Some runs of a sweep failed (their errors are in the results)."""


@dataclass
class SweepRun:
    """One run of a sweep: its number, parameters, and what ``simulate`` returned (``value``) or
    the error it raised (``error``: the exception's type and message, ``traceback``: its text)."""

    index: int
    parameters: dict
    value: object = None
    error: str | None = None
    traceback: str | None = None
    seconds: float = 0.0
    #: Names of the modules this run compiled (empty when all came from the cache).
    compiled: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


class SweepResults(list):
    """The :class:`SweepRun` of every run, in the order of the parameter sets."""

    @property
    def values(self) -> list:
        """What each run returned (None for a failed run)."""
        return [run.value for run in self]

    @property
    def failed(self) -> list[SweepRun]:
        return [run for run in self if not run.ok]

    @property
    def modules_compiled(self) -> int:
        """Modules compiled by all runs together (those of the first run, if the cache was cold)."""
        return sum(len(run.compiled) for run in self)


def parameter_grid(grid: Mapping[str, Iterable]) -> list[dict]:
    """Every combination of the values in ``grid`` (a dict of name to values), the last name
    varying fastest: ``{'a': [1, 2], 'b': [3, 4]}`` gives a=1,b=3; a=1,b=4; a=2,b=3; a=2,b=4."""
    if not isinstance(grid, Mapping) or not grid:
        raise TypeError("grid= must be a dict of parameter names to lists of values")
    names = list(grid)
    columns = []
    for name in names:
        values = grid[name]
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise TypeError(f"grid[{name!r}] must be a list of values, not {values!r}")
        columns.append(list(values))
    return [dict(zip(names, combination)) for combination in itertools.product(*columns)]


def _run_one(function: Callable, index: int, parameters: dict, dt: float, seed) -> SweepRun:
    """One run, in whichever process: a fresh scope, the sweep's dt and seed, errors caught."""
    new_scope()
    defaultclock.dt_ = dt
    if seed is not None:
        seed_generator(seed + index)
        np.random.seed((seed + index) % 2**32)
    compiled_before = len(cache.statistics.compiled)
    started = time.perf_counter()
    run = SweepRun(index, dict(parameters))
    try:
        run.value = function(**parameters)
    except Exception as error:
        run.error = f"{type(error).__name__}: {error}"
        run.traceback = traceback.format_exc()
    run.seconds = time.perf_counter() - started
    run.compiled = cache.statistics.compiled[compiled_before:]
    new_scope()  # what the run made is not simulated by the next one's run()
    return run


def _file_of(folder: Path, index: int) -> Path:
    return folder / f"run-{index:06d}.pickle"


def _save(folder: Path, run: SweepRun) -> None:
    temporary = folder / f".run-{run.index:06d}.{os.getpid()}.tmp"
    try:
        data = pickle.dumps(run)
    except Exception as error:  # a value that does not pickle: the run is kept as failed
        run.value, run.error = None, f"the result could not be saved: {error}"
        data = pickle.dumps(run)
    temporary.write_bytes(data)
    os.replace(temporary, _file_of(folder, run.index))


def load_sweep(folder) -> SweepResults:
    """The runs saved in ``folder`` by ``sweep(..., save_to=folder)``, in order."""
    runs = []
    for path in sorted(Path(folder).glob("run-*.pickle")):
        runs.append(pickle.loads(path.read_bytes()))
    return SweepResults(sorted(runs, key=lambda run: run.index))


class _Progress:
    """A progress bar over runs (tqdm) on standard error, or nothing."""

    def __init__(self, total: int, enabled: bool):
        self.bar = None
        if enabled and total:
            try:  # optional, as the bar is
                from tqdm.auto import tqdm
            except ImportError:  # the bar is optional; tqdm comes with spikeforge[sweeps]
                return
            self.bar = tqdm(total=total, unit="run", file=sys.stderr, dynamic_ncols=True)

    def update(self, run: SweepRun) -> None:
        if self.bar is not None:
            self.bar.update(1)
            if not run.ok:
                self.bar.write(f"run {run.index} {run.parameters} failed: {run.error}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def sweep(
    simulate: Callable,
    grid: Mapping[str, Iterable] | None = None,
    runs: Iterable[Mapping] | None = None,
    *,
    seed: int | None = None,
    workers: int | None = None,
    client=None,
    save_to=None,
    progress: bool = True,
) -> SweepResults:
    """Run ``simulate(**parameters)`` for every parameter set and return the runs in order.

    ``grid``: a dict of names to lists of values (every combination is run), or ``runs``: a
    list of dicts (each one run).  ``seed``: run ``k`` is seeded with ``seed + k`` (spikeforge's
    and NumPy's generators).  ``workers``: processes of the local Dask cluster (default: one per
    core; 0 runs everything in this process).  ``client``: a ``distributed.Client`` of any Dask
    cluster, used instead.  ``save_to``: a folder where each run is written as it finishes;
    runs already there are not made again.  ``progress``: a progress bar over the runs.
    """
    if (grid is None) == (runs is None):
        raise TypeError(
            "sweep() needs grid= (a dict of lists of values) or runs= (a list of dicts)"
        )
    parameter_sets = parameter_grid(grid) if grid is not None else [dict(r) for r in runs or ()]
    for k, parameters in enumerate(parameter_sets):
        bad = [name for name in parameters if not isinstance(name, str) or not name.isidentifier()]
        if bad:
            raise TypeError(f"run {k}: parameter names must be identifiers, not {bad[0]!r}")
    if not callable(simulate):
        raise TypeError(f"sweep() needs a function to call, not {simulate!r}")
    if workers is not None and (not isinstance(workers, int) or workers < 0):
        raise ValueError(f"workers= must be a number of processes (0: none), not {workers!r}")
    dt = defaultclock.dt_
    folder = Path(save_to) if save_to is not None else None
    done: dict[int, SweepRun] = {}
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        for run in load_sweep(folder):
            if run.index < len(parameter_sets) and run.ok:
                if _same(run.parameters, parameter_sets[run.index]):
                    done[run.index] = run
    todo = [k for k in range(len(parameter_sets)) if k not in done]
    bar = _Progress(len(todo), progress)
    finished: dict[int, SweepRun] = dict(done)

    def collect(run: SweepRun) -> None:
        if folder is not None:
            _save(folder, run)
        finished[run.index] = run
        bar.update(run)

    try:
        if todo and (workers == 0 and client is None):
            for k in todo:
                collect(_run_one(simulate, k, parameter_sets[k], dt, seed))
        elif todo:
            _run_on_dask(simulate, parameter_sets, todo, dt, seed, workers, client, collect)
    finally:
        bar.close()
    results = SweepResults(finished[k] for k in sorted(finished))
    failed = results.failed
    if failed:
        first = failed[0]
        warnings.warn(
            f"{len(failed)} of {len(results)} runs failed; the first, run {first.index} with "
            f"{first.parameters}: {first.error} (each failed run has .error and .traceback)",
            SweepWarning,
            stacklevel=2,
        )
    return results


def _same(a: Mapping, b: Mapping) -> bool:
    """Whether two parameter sets are equal (values may be arrays or quantities)."""
    if set(a) != set(b):
        return False
    try:
        return all(bool(np.all(np.asarray(a[name]) == np.asarray(b[name]))) for name in a)
    except Exception:
        return False


def _run_on_dask(simulate, parameter_sets, todo, dt, seed, workers, client, collect) -> None:
    try:  # optional: spikeforge[sweeps]
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ImportError(
            "sweep() runs on Dask's distributed scheduler: install it with "
            "`pip install spikeforge[sweeps]` (or pass workers=0 to run in this process)"
        ) from None
    own_cluster = client is None
    if own_cluster:
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
    try:

        def submit(k):
            return client.submit(_run_one, simulate, k, parameter_sets[k], dt, seed, pure=False)

        def outcome(future, k) -> SweepRun:
            try:
                return future.result()
            except Exception as error:  # the worker died (a crash, out of memory...)
                return SweepRun(
                    k, dict(parameter_sets[k]), error=f"{type(error).__name__}: {error}"
                )

        # the first run alone: it compiles the model's modules, which the others then load
        collect(outcome(submit(todo[0]), todo[0]))
        futures = {submit(k): k for k in todo[1:]}
        for future in as_completed(list(futures)):
            collect(outcome(future, futures[future]))
    finally:
        if own_cluster:
            client.close()
            cluster.close()
