"""``Network`` and ``run()``: one generated module per network structure, run in native code."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from spikeforge import pipeline, units
from spikeforge.model import base, state
from spikeforge.codegen.render import MAX_THREADS
from spikeforge.model.base import SpikeforgeObject, objects_in_scope
from spikeforge.model.clock import defaultclock, steps_until
from spikeforge.model.namespace import caller_namespace
from spikeforge.model.preferences import prefs
from spikeforge.runtime.driver import run_deferred
from spikeforge.units import Quantity, second

#: With ``report='auto'`` (the default), progress is reported once a run has taken this long.
AUTO_REPORT_AFTER = 10.0

#: Set by :mod:`spikeforge.devices`: called by ``Network.run`` with the run's arguments; when
#: it returns True, the run was recorded for later and is not made now.
run_interceptor = None


class Network:
    """A set of objects simulated together (Brian2's ``Network``).

    ``Network(G, S, mon)`` or ``net.add(...)``; ``net.run(duration)`` simulates.  Objects run in
    the schedule order of their ``when`` slot (``start``, ``groups``, ``thresholds``,
    ``synapses``, ``resets``, ``end``), then their ``order``, then their name.
    """

    def __init__(self, *objects, name: str = "network"):
        self.name = name
        self.objects: list[SpikeforgeObject] = []
        self.t_ = 0.0
        self.dt_ = defaultclock.dt_
        #: The last run: its roles, generated source and module (:class:`pipeline.NetworkRun`).
        self.last_run: pipeline.NetworkRun | None = None
        self.last_run_statistics: dict = {}
        self.add(*objects)

    def __getstate__(self) -> dict:
        # pickled without its last run (the compiled module stays in this process); the next
        # run in the process that unpickles it finds the module in the cache
        state = dict(self.__dict__)
        state["last_run"] = None
        return state

    def add(self, *objects) -> None:
        """Add objects (or lists/tuples/dicts of objects) to the network."""
        for obj in objects:
            if isinstance(obj, (list, tuple, set)):
                self.add(*obj)
            elif isinstance(obj, dict):
                self.add(*obj.values())
            elif isinstance(obj, SpikeforgeObject):
                if obj not in self.objects:
                    self.objects.append(obj)
            else:
                raise TypeError(f"cannot add {obj!r} to a network: it is not a spikeforge object")

    def __getitem__(self, name: str) -> SpikeforgeObject:
        """The object called ``name`` (``net['neurons']``)."""
        for obj in self._all_objects(include_inactive=True):
            if obj.name == name:
                return obj
        raise KeyError(f"{self.name!r} has no object named {name!r}")

    def remove(self, *objects) -> None:
        """Remove objects from the network."""
        for obj in objects:
            self.objects.remove(obj)

    @property
    def t(self) -> Quantity:
        """The current simulation time."""
        return Quantity(self.t_, dim=second.dim)

    @property
    def generated_source_path(self) -> Path | None:
        """The generated ``.pyx`` of the last run's module, in its cache entry."""
        return None if self.last_run is None else self.last_run.source_path

    @property
    def generated_code_dir(self) -> Path | None:
        """The cache entry of the module the last run used (``.pyx``, ``.cpp`` and ``.so``)."""
        return None if self.generated_source_path is None else self.generated_source_path.parent

    def _refresh_objects(self) -> None:
        """Bring :attr:`objects` up to date before a run or a snapshot (the implicit network
        collects its objects here)."""

    def _all_objects(self, include_inactive: bool = False) -> list[SpikeforgeObject]:
        self._refresh_objects()
        collected = []
        for obj in self.objects:
            for item in [obj, *obj.contained_objects]:
                if item not in collected and (item.active or include_inactive):
                    collected.append(item)
        by_name: dict[str, SpikeforgeObject] = {}
        for obj in collected:
            other = by_name.setdefault(obj.name, obj)
            if other is not obj:
                raise ValueError(
                    f"{self.name!r} holds two objects named {obj.name!r} ({type(other).__name__} "
                    f"and {type(obj).__name__}): names must be unique within a network, since "
                    "snapshots and messages refer to objects by name"
                )
        return collected

    def state_objects(self) -> list[SpikeforgeObject]:
        """The objects whose state a snapshot holds: all of them and those they contain,
        active or not."""
        return self._all_objects(include_inactive=True)

    @property
    def schedule(self) -> list[str]:
        """The slots of a time step in order (Brian2's ``Network.schedule``).  spikeforge runs
        Brian2's default schedule; setting it to that (or to None) is accepted, and any other
        order is refused rather than ignored."""
        return list(pipeline.SCHEDULE)

    @schedule.setter
    def schedule(self, value) -> None:
        if value is None or list(value) == list(pipeline.SCHEDULE):
            return
        raise NotImplementedError(
            f"{type(self).__name__} {self.name!r}: spikeforge runs Brian2's default schedule "
            f"({', '.join(pipeline.SCHEDULE)}), not {list(value)}; to run an object earlier or "
            "later within a step, give it when= (such as 'before_synapses') and order="
        )

    def scheduling_summary(self) -> str:
        """The objects in the order they run within a time step."""
        lines = []
        for obj in sorted(self._all_objects(), key=pipeline.schedule_key):
            lines.append(
                f"{obj.name} ({type(obj).__name__}), when={obj.when}, order={obj.order}, "
                f"dt={obj.clock.dt_ * 1e3:g} ms"
            )
        return "\n".join(lines)

    def run(
        self,
        duration,
        report="auto",
        report_period=10 * second,
        namespace: dict | None = None,
        level: int = 0,
        profile: bool | None = None,
        threads: int | None = None,
        fast_math: bool | None = None,
    ) -> None:
        """Simulate for ``duration``.

        ``report`` is ``None`` (silent), ``'text'``/``'stdout'``, ``'stderr'``, a function
        ``report(elapsed, fraction_completed, start, duration)``, or ``'auto'`` (the default), which
        reports to stderr only once a run has taken more than 10 s.  External names in model
        strings come from ``namespace`` or, by default, from the caller's frame.  ``profile`` is
        accepted for Brian2's scripts: every run keeps its timings (:func:`profiling_summary`).

        ``threads`` shares the loops over neurons and synapses among that many threads (OpenMP);
        by default Brian2's ``prefs.devices.cpp_standalone.openmp_threads`` (0, the default,
        means one thread).  Results are bitwise the same for any number of threads
        (docs/threads.md).

        ``fast_math=True`` compiles the network so that its loops call vector versions of
        ``exp``, ``log``... (glibc's libmvec, on Linux x86-64), which are faster where a model
        calls them for every neuron (COBAHH's channels) and change results in their last bits
        (docs/equations.md, "Fast-math mode").  By default it is on when Brian2's
        ``prefs.codegen.cpp.extra_compile_args_gcc`` holds ``'-ffast-math'``.
        """
        if run_interceptor is not None and run_interceptor(
            self, duration, report, report_period, namespace, level
        ):
            return  # recorded by a device (Brian2's standalone mode with build_on_run=False)
        started = time.perf_counter()
        prefs.check_honoured()
        threads = thread_count(threads)
        fast_math = fast_math_mode(fast_math)
        duration_ = _checked_duration(duration)
        if namespace is None:
            namespace = caller_namespace(level)
        objects = self._all_objects()
        dt = pipeline.base_time_step([obj.clock for obj in objects] or [defaultclock])
        self.dt_ = dt
        start_step = steps_until(self.t_, dt)
        end_step = steps_until(self.t_ + duration_, dt)
        reporter = _Reporter(report, float(np.asarray(report_period)), self.t_, duration_)
        self.last_run = pipeline.run_network(
            objects,
            namespace,
            dt,
            start_step,
            end_step,
            lambda elapsed, steps: reporter.update(elapsed, steps * dt),
            threads,
            fast_math,
        )
        if self.last_run.interrupted:
            # the state is that of a step boundary: time goes there, and the next run goes on
            # from it exactly as an uninterrupted run would have
            self.t_ = max(self.t_, (start_step + self.last_run.steps_done) * dt)
            for obj in objects:
                obj._time = self.t_
                obj.clock.t_ = self.t_
            raise KeyboardInterrupt(
                f"{self.name!r}: run interrupted at t = {self.t} ({self.last_run.steps_done} of "
                f"{end_step - start_step} steps); time, state and monitors are consistent, and "
                "another run() continues from there"
            )
        if self.last_run.fault is not None:
            # the loop ended after the step of the fault: time goes there, as for Ctrl-C
            self.t_ = max(self.t_, (start_step + self.last_run.steps_done) * dt)
            for obj in objects:
                obj._time = self.t_
                obj.clock.t_ = self.t_
            message, error = self.last_run.fault
            raise error(
                f"{message}; the run stopped at t = {self.t}, after "
                f"{self.last_run.steps_done} of {end_step - start_step} steps"
            )
        if self.last_run.stopped:  # stop() from a network operation: time is where it stopped
            self.t_ = max(self.t_, (start_step + self.last_run.steps_done) * dt)
        else:
            # time advances by the duration even when no step starts within it (Brian2: ten
            # runs of 0.04 ms at dt = 0.1 ms end at 0.4 ms, after 4 steps)
            self.t_ += duration_
        for obj in objects:
            obj._time = self.t_  # string assignments after the run see this time
            obj.clock.t_ = self.t_
        timings = self.last_run.timings
        reporter.finish(timings["loop"])
        self.last_run_statistics = {**timings, "total": time.perf_counter() - started}

    @property
    def profiling_info(self) -> list[tuple[str, Quantity]]:
        """Brian2's per-object timings, as spikeforge has them: the phases of the last run
        (``preparation``, ``build``, ``loop``), longest first, each a time.  All objects run
        in one compiled loop, so there is no time per object; the sum is the run's time, as
        in Brian2."""
        if not self.last_run_statistics:
            raise ValueError(f"{type(self).__name__} {self.name!r} has not run yet")
        phases = [
            (name, Quantity(seconds, dim=second.dim))
            for name, seconds in self.last_run_statistics.items()
            if name != "total"
        ]
        return sorted(phases, key=lambda phase: -float(phase[1]))

    def reset(self) -> None:
        """Set time back to 0 and forget the objects (used by ``start_scope``)."""
        self.t_ = 0.0
        self.objects = []

    def store(self, name: str = "default", filename=None) -> None:
        """Take a snapshot of the network's state (time, variables, synapses, monitors' records,
        pending spikes, random state) under ``name``, in memory or in the file ``filename``
        (several names per file).  See :mod:`spikeforge.model.state`."""
        state.store_network(self, name, filename)

    def restore(self, name: str = "default", filename=None, restore_random_state=False) -> None:
        """Go back to the snapshot ``name`` (from memory, or from ``filename``); with
        ``restore_random_state=True`` random numbers also continue as after the snapshot."""
        state.restore_network(self, name, filename, restore_random_state)

    def get_states(
        self, units=True, format="dict", subexpr=False, read_only_variables=True, level=0
    ) -> dict:
        """``{object name: object.get_states(...)}`` for the objects of the network."""
        return state.network_get_states(
            self, units, format, subexpr, read_only_variables, level=level + 1
        )


def _checked_duration(duration) -> float:
    """The duration of a run in seconds; an error unless it is a time that is not negative."""
    if units.get_dimensions(duration) != second.dim:
        raise units.DimensionMismatchError(
            f"run() needs a duration in time units, got {duration!r}",
            units.get_dimensions(duration),
        )
    duration_ = float(np.asarray(duration))
    if not duration_ >= 0 or not np.isfinite(duration_):
        raise ValueError(f"run() needs a finite, non-negative duration, got {duration!r}")
    return duration_


def fraction_done(completed: float, duration: float) -> float:
    """The completed fraction of a run (1 for an empty run)."""
    return completed / duration if duration else 1.0


class _Reporter:
    def __init__(self, report, period: float, start: float, duration: float):
        self.report = report
        self.period = period
        self.start = start
        self.duration = duration
        self.last = 0.0
        self.started_reporting = False

    def _write(self, text: str) -> None:
        stream = sys.stdout if self.report in ("text", "stdout") else sys.stderr
        print(text, file=stream, flush=True)

    def update(self, elapsed: float, completed: float) -> None:
        if self.report is None:
            return
        if self.report == "auto" and elapsed < AUTO_REPORT_AFTER:
            return
        if elapsed - self.last < self.period and self.started_reporting:
            return
        if not self.started_reporting and self.report != "auto" and elapsed < self.period:
            return
        self.started_reporting = True
        self.last = elapsed
        if callable(self.report):
            self.report(
                elapsed * second,
                fraction_done(completed, self.duration),
                self.start * second,
                self.duration * second,
            )
            return
        fraction = completed / self.duration if self.duration else 1.0
        remaining = elapsed / fraction - elapsed if fraction > 0 else float("nan")
        self._write(
            f"{completed:.4g} s of {self.duration:.4g} s simulated ({fraction:.0%}) in "
            f"{elapsed:.1f} s, about {remaining:.0f} s left"
        )

    def finish(self, elapsed: float) -> None:
        if self.report in ("text", "stdout", "stderr") or (
            self.report == "auto" and self.started_reporting
        ):
            self._write(f"{self.duration:.4g} s simulated in {elapsed:.2f} s")
        elif callable(self.report):
            self.report(elapsed * second, 1.0, self.start * second, self.duration * second)


class MagicNetwork(Network):
    """The implicit network of ``run()``: every object made since the last ``start_scope()``
    that still exists, with one rule of Brian2's for scripts that make new objects between
    runs without ``start_scope()``.

    When a ``run()`` finds new objects together with objects that ran before, the old ones that
    the calling code no longer refers to (by a name, or in a list, tuple, set or dict bound to a
    name) and that no object of the run depends on leave the implicit network for good.  When
    only new objects are left, time starts again at 0, as in Brian2 (a loop that builds and runs
    a new network at each iteration).  Old objects the code still refers to run on, and time
    continues (Brian2 raises an error for such a mix).
    """

    def _refresh_objects(self) -> None:
        self.objects = [obj for obj in objects_in_scope() if not obj._left_magic_network]

    def run(
        self,
        duration,
        report="auto",
        report_period=10 * second,
        namespace=None,
        level=0,
        profile=None,
        threads=None,
        fast_math=None,
    ):
        self._leave_old_objects(_objects_referred_to(sys._getframe(level + 1)))
        try:
            super().run(
                duration,
                report,
                report_period,
                namespace,
                level=level + 1,
                threads=threads,
                fast_math=fast_math,
            )
        finally:  # an interrupted run was a run too
            for obj in self.objects:
                obj._ran_in_magic_network = True

    def restore(self, name: str = "default", filename=None, restore_random_state=False) -> None:
        super().restore(name, filename, restore_random_state)
        for obj in self.objects:  # restored objects continue the stored simulation's time
            obj._ran_in_magic_network = True

    def _leave_old_objects(self, referred: set[int]) -> None:
        self._refresh_objects()
        old = [obj for obj in self.objects if obj._ran_in_magic_network]
        new = [obj for obj in self.objects if not obj._ran_in_magic_network]
        if not new:
            return
        if old:
            needed = _with_dependencies(
                [obj for obj in self.objects if id(obj) in referred or obj in new]
            )
            for obj in old:
                if not any(obj is kept for kept in needed):
                    obj._left_magic_network = True
            self._refresh_objects()
        if not any(obj._ran_in_magic_network for obj in self.objects):
            self.t_ = 0.0  # a new simulation


def _objects_referred_to(frame) -> set[int]:
    """The ids of the spikeforge objects a frame's names refer to, directly or as items of a
    list, tuple, set or dict."""
    found: set[int] = set()
    for value in [*frame.f_globals.values(), *frame.f_locals.values()]:
        items = value.values() if isinstance(value, dict) else [value]
        if isinstance(value, (list, tuple, set, frozenset)):
            items = value
        for item in items:
            if isinstance(item, SpikeforgeObject):
                found.add(id(item))
    return found


def _with_dependencies(objects: list[SpikeforgeObject]) -> list[SpikeforgeObject]:
    """``objects`` and, recursively, the objects they depend on or contain."""
    collected: list[SpikeforgeObject] = []
    pending = list(objects)
    while pending:
        obj = pending.pop()
        if any(obj is known for known in collected):
            continue
        collected.append(obj)
        pending += [*obj._dependencies(), *obj.contained_objects]
    return collected


#: The network ``run()`` uses; ``magic_network.generated_source_path`` shows its code.
magic_network = MagicNetwork(name="magic_network")


def run(
    duration,
    report="auto",
    report_period=10 * second,
    namespace=None,
    level=0,
    profile=None,
    threads=None,
    fast_math=None,
) -> None:
    """Simulate all objects made since the last ``start_scope()`` for ``duration`` (the
    arguments are those of :meth:`Network.run`)."""
    magic_network.run(
        duration,
        report,
        report_period,
        namespace,
        level=level + 1,
        threads=threads,
        fast_math=fast_math,
    )


def fast_math_mode(fast_math=None) -> bool:
    """Whether a run compiles in fast-math mode: ``fast_math`` if given, else whether Brian2's
    ``prefs.codegen.cpp.extra_compile_args_gcc`` asks for ``-ffast-math`` (Brian2's default
    list does; spikeforge's does not).  spikeforge never passes ``-ffast-math`` itself, which
    would also let the compiler reorder arithmetic and drop checks for NaN: its mode only
    vectorises the mathematical functions (docs/equations.md)."""
    if fast_math is None:
        flags = prefs.codegen.cpp.extra_compile_args_gcc or []
        return "-ffast-math" in flags
    if not isinstance(fast_math, (bool, np.bool_)):
        raise TypeError(f"fast_math must be True, False or None, not {fast_math!r}")
    return bool(fast_math)


def thread_count(threads=None) -> int:
    """The number of threads a run uses: ``threads`` if given, else Brian2's preference
    ``prefs.devices.cpp_standalone.openmp_threads`` (0 or 1: one thread)."""
    origin = "threads"
    if threads is None:
        threads = prefs.devices.cpp_standalone.openmp_threads
        origin = "prefs.devices.cpp_standalone.openmp_threads"
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
        raise TypeError(f"{origin} must be a whole number of threads, not {threads!r}")
    if threads < 0 or threads > MAX_THREADS:
        raise ValueError(f"{origin} must be between 1 and {MAX_THREADS}, not {threads}")
    return max(int(threads), 1)


def stop() -> None:
    """Stop the running simulation at the end of the current time step (call it from a
    ``network_operation``); the network's time is then the end of that step."""
    pipeline.request_stop()


class Summary(str):
    """A summary's text, shown as the text itself at a prompt or in a notebook (as Brian2's
    summary objects are), and usable as a string."""

    def __repr__(self) -> str:
        return str(self)


def profiling_summary(net: Network | None = None, show: int | None = None) -> Summary:
    """The timings of the last run of ``net`` (by default the implicit network): preparing the
    roles, waiting for the module, and the loop, then the total; ``show`` keeps that many of
    the longest phases (Brian2's argument).  spikeforge runs every object in one compiled
    loop, so it has no time per object as Brian2's profiling does."""
    statistics = dict((net or magic_network).last_run_statistics)
    total = statistics.pop("total", None)
    phases = list(statistics.items())
    if show is not None:
        phases = sorted(phases, key=lambda phase: -phase[1])[: max(int(show), 0)]
    if total is not None:
        phases.append(("total", total))
    return Summary("\n".join(f"{name}: {seconds:.4f} s" for name, seconds in phases))


def collect() -> list[SpikeforgeObject]:
    """The objects ``run()`` would simulate now (those made since ``start_scope()`` that still
    exist, see :class:`MagicNetwork`)."""
    return magic_network.state_objects()


def scheduling_summary(net: Network | None = None) -> str:
    """The objects of ``net`` (by default the implicit network) in the order they run within a
    time step."""
    return Summary((net or magic_network).scheduling_summary())


def start_scope() -> None:
    """Forget the objects made so far: the next ``run()`` only simulates objects made after this.

    Also resets the time of the implicit network to 0.
    """
    run_deferred()  # their random draws belong to the stream before this point
    base.new_scope()
    magic_network.reset()
    defaultclock.t_ = 0.0


def store(name: str = "default", filename=None) -> None:
    """Store the state of the implicit network: every object made since ``start_scope()``."""
    magic_network.store(name, filename)


def restore(name: str = "default", filename=None, restore_random_state=False) -> None:
    """Restore the implicit network (see :func:`store`)."""
    magic_network.restore(name, filename, restore_random_state)
