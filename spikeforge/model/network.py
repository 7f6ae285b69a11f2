"""``Network`` and ``run()``: one generated module per network structure, run in native code."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from spikeforge import units
from spikeforge.codegen import cache
from spikeforge.codegen.render import Role, render_module
from spikeforge.model.base import (
    BuildContext,
    SpikeforgeObject,
    objects_in_scope,
    schedule_position,
)
from spikeforge.model.clock import defaultclock
from spikeforge.model.namespace import caller_namespace
from spikeforge.codegen.translate import Argument
from spikeforge.runtime.driver import call_run_roles, call_run_steps, run_deferred
from spikeforge.runtime.driver import defer as defer_call
from spikeforge.units import Quantity, second

#: With ``report='auto'`` (the default), progress is reported once a run has taken this long.
AUTO_REPORT_AFTER = 10.0


def base_time_step(objects) -> float:
    """The time step of the loop: the smallest clock dt; every clock must be a multiple of it."""
    clocks = {id(obj.clock): obj.clock for obj in objects} or {id(defaultclock): defaultclock}
    base = min(clock.dt_ for clock in clocks.values())
    for clock in clocks.values():
        ratio = clock.dt_ / base
        if abs(ratio - round(ratio)) > 1e-9 * ratio:
            raise NotImplementedError(
                f"the time step of {clock.name} ({clock.dt_} s) is not a multiple of the smallest "
                f"time step in the network ({base} s); spikeforge needs every clock's dt to be a "
                "whole multiple of the smallest one"
            )
    return base


def attach_clock(role: Role, base_dt: float, context: BuildContext) -> None:
    """Make a role on a slower clock run only on that clock's ticks (arguments, not literals)."""
    clock = role.clock
    if clock.dt_ == base_dt:
        return
    key = f"_clock_{clock.name}"
    role.every = context.arguments.add(
        Argument("scalar", f"{key}_every", "int64_t", lambda: int(round(clock.dt_ / base_dt)))
    )
    role.clock_dt = context.arguments.add(
        Argument("scalar", f"{key}_dt", "double", lambda: clock.dt_)
    )
    if role.operation is not None:
        role.operation_every = int(round(clock.dt_ / base_dt))


def next_operation_step(operations, step: int, dt: float) -> int:
    """The first step from ``step`` on at which a network operation is due."""
    best = 1 << 62
    for _, role in operations:
        every = role.operation_every
        best = min(best, step + (-step) % every)
    return best


def steps_until(time_: float, dt: float) -> int:
    """The number of whole steps before ``time_``: rounded when within 1e-4 dt, else rounded up
    (Brian2's rule, so that a run of 0.25 ms at dt = 0.1 ms takes 3 steps)."""
    steps = time_ / dt
    nearest = round(steps)
    return int(nearest) if abs(steps - nearest) < 1e-4 else int(np.ceil(steps))


def run_roles_once(
    name: str,
    roles: list[Role],
    context: BuildContext,
    time_: float,
    defer: bool = False,
    before=None,
    after=None,
    touches=None,
) -> None:
    """Run ``roles`` once, at time ``time_`` (string assignments, ``connect()``).

    ``before()`` and ``after()`` run just before and after the module's call.  With ``defer``,
    the call waits in the runtime's queue while its module compiles in the background, and
    happens when anything could observe it (:func:`spikeforge.runtime.driver.run_deferred`), so
    that the one-off modules of a script compile in parallel.  ``touches`` gives the state keys
    (``state_key(group, name)``) the call reads or writes, if they are all known (then only
    reads and writes of those wait for it).  Only calls that cannot fail once compiled are
    deferred: an error then still belongs to the statement that caused it.
    """
    source = render_module("one-off code", roles, context.arguments, context.support_code)
    build = cache.start_module(source, name, optimize=False)
    step = steps_until(time_, context.dt)

    def call() -> None:
        module = build.result()
        if before is not None:
            before()
        call_run_steps(module, context.arguments.collect(), step, step + 1, context.dt)
        if after is not None:
            after()

    if defer:
        defer_call(call, touches=None if touches is None else frozenset(touches))
    else:
        run_deferred()  # earlier calls first: this one may read what they write
        call()


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
        self.generated_source_path: Path | None = None
        self.last_run_statistics: dict = {}
        self.add(*objects)

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

    def remove(self, *objects) -> None:
        """Remove objects from the network."""
        for obj in objects:
            self.objects.remove(obj)

    @property
    def t(self) -> Quantity:
        """The current simulation time."""
        return Quantity(self.t_, dim=second.dim)

    @property
    def generated_code_dir(self) -> Path | None:
        """The cache entry of the module the last run used (``.pyx``, ``.cpp`` and ``.so``)."""
        return None if self.generated_source_path is None else self.generated_source_path.parent

    def _current_step(self, dt: float) -> int:
        return steps_until(self.t_, dt)

    def _all_objects(self) -> list[SpikeforgeObject]:
        collected = []
        for obj in self.objects:
            for item in [obj, *obj.contained_objects]:
                if item not in collected and item.active:
                    collected.append(item)
        return collected

    def scheduling_summary(self) -> str:
        """The objects in the order they run within a time step."""
        lines = []
        for obj in sorted(self._all_objects(), key=self._schedule_key):
            lines.append(
                f"{obj.name} ({type(obj).__name__}), when={obj.when}, order={obj.order}, "
                f"dt={obj.clock.dt_ * 1e3:g} ms"
            )
        return "\n".join(lines)

    @staticmethod
    def _schedule_key(obj):
        return (schedule_position(obj.when), obj.order, obj.name)

    def run(
        self,
        duration,
        report="auto",
        report_period=10 * second,
        namespace: dict | None = None,
        level: int = 0,
    ) -> None:
        """Simulate for ``duration``.

        ``report`` is ``None`` (silent), ``'text'``/``'stdout'``, ``'stderr'``, a function
        ``report(elapsed, fraction_completed, start, duration)``, or ``'auto'`` (the default), which
        reports to stderr only once a run has taken more than 10 s.  External names in model
        strings come from ``namespace`` or, by default, from the caller's frame.
        """
        started = time.perf_counter()
        if units.get_dimensions(duration) != second.dim:
            raise units.DimensionMismatchError(
                f"run() needs a duration in time units, got {duration!r}",
                units.get_dimensions(duration),
            )
        duration_ = float(np.asarray(duration))
        if duration_ < 0:
            raise ValueError(f"run() needs a non-negative duration, got {duration!r}")
        if namespace is None:
            namespace = caller_namespace(level)
        objects = self._all_objects()
        dt = base_time_step(objects)
        self.dt_ = dt
        start_step = self._current_step(dt)
        end_step = steps_until(self.t_ + duration_, dt)
        n_steps = end_step - start_step
        context = BuildContext(namespace=namespace, dt=dt)
        roles: list[Role] = []
        operations: list[tuple[Role, SpikeforgeObject]] = []
        for obj in sorted(objects, key=self._schedule_key):
            for role in obj.roles(context):
                role.clock = role.clock or obj.clock
                roles.append(role)
        roles.sort(key=lambda role: (schedule_position(role.when), role.order))
        for role in roles:
            attach_clock(role, dt, context)
        operations = [(k, role) for k, role in enumerate(roles) if role.operation is not None]
        roles = [role for role in roles if role.operation is None]
        # an operation runs before the module role that follows it in the schedule
        operations = [(k - n, role) for n, (k, role) in enumerate(operations)]
        kinds = sorted({type(obj).__name__ for obj in objects})
        built = time.perf_counter()
        # The roles' code depends on the model, not on the values of its state (those are
        # module arguments), so the module compiles while deferred string assignments and
        # connect() calls are made and the objects prepare for the run.
        source = render_module(
            "network of " + ", ".join(kinds), roles, context.arguments, context.support_code
        )
        build = cache.start_module(source, "network")
        run_deferred()
        for obj in objects:
            obj.before_run(context)
        module = build.result()
        self.generated_source_path = Path(module.__file__).with_suffix("").with_suffix(".pyx")
        compiled = time.perf_counter()
        collected = context.arguments.collect()
        for obj in objects:
            obj.prepare_records(n_steps) if hasattr(obj, "prepare_records") else None
        reporter = _Reporter(report, float(np.asarray(report_period)), self.t_, duration_)
        step, end = start_step, start_step + n_steps
        chunk = 64
        loop_started = time.perf_counter()
        while step < end:
            stop = min(end, step + chunk, next_operation_step(operations, step, dt))
            if stop == step:  # network operations run in this step, between roles
                collected = self._run_split_step(module, context, operations, roles, step, dt)
                step += 1
                continue
            chunk_started = time.perf_counter()
            call_run_steps(module, collected, step, stop, dt)
            elapsed = time.perf_counter() - chunk_started
            step = stop
            # aim at chunks of about a second so progress reports stay timely
            if elapsed < 0.25:
                chunk = min(chunk * 4, 1 << 30)
            elif elapsed > 2.0:
                chunk = max(1, chunk // 2)
            reporter.update(time.perf_counter() - loop_started, (step - start_step) * dt)
        self.t_ = self.t_ + duration_ if n_steps else self.t_
        for obj in objects:
            obj._time = self.t_  # string assignments after the run see this time
            obj.after_run() if hasattr(obj, "after_run") else None
        reporter.finish(time.perf_counter() - loop_started)
        finished = time.perf_counter()
        self.last_run_statistics = {
            "preparation": built - started,
            "build": compiled - built,
            "loop": finished - loop_started,
            "total": finished - started,
        }

    @staticmethod
    def _run_split_step(module, context, operations, roles, step: int, dt: float):
        """One step in pieces: module roles, then each due network operation in its place."""
        done = 0
        collected = context.arguments.collect()
        for position, role in operations:
            if step % role.operation_every:
                continue
            call_run_roles(module, collected, step, dt, done, position)
            done = position
            role.operation(step * dt)
            run_deferred()  # string assignments the operation made
            collected = context.arguments.collect()  # the operation may have changed arrays
        call_run_roles(module, collected, step, dt, done, len(roles))
        return collected

    def reset(self) -> None:
        """Set time back to 0 and forget the objects (used by ``start_scope``)."""
        self.t_ = 0.0
        self.objects = []

    def store(self, name: str = "default", filename=None) -> None:
        """Take a snapshot of the network's state (time, variables, synapses, monitors' records,
        pending spikes, random state) under ``name``, in memory or in the file ``filename``
        (several names per file).  See :mod:`spikeforge.model.state`."""
        from spikeforge.model import state

        state.store_network(self, name, filename)

    def restore(self, name: str = "default", filename=None, restore_random_state=False) -> None:
        """Go back to the snapshot ``name`` (from memory, or from ``filename``); with
        ``restore_random_state=True`` random numbers also continue as after the snapshot."""
        from spikeforge.model import state

        state.restore_network(self, name, filename, restore_random_state)

    def get_states(
        self, units=True, format="dict", subexpr=False, read_only_variables=True, level=0
    ) -> dict:
        """``{object name: object.get_states(...)}`` for the objects of the network."""
        from spikeforge.model import state

        return state.network_get_states(
            self, units, format, subexpr, read_only_variables, level=level + 1
        )


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
    """The implicit network of ``run()``: every object made since the last ``start_scope()``."""

    def run(self, duration, report="auto", report_period=10 * second, namespace=None, level=0):
        self.objects = objects_in_scope()
        super().run(duration, report, report_period, namespace, level=level + 1)


#: The network ``run()`` uses; ``magic_network.generated_source_path`` shows its code.
magic_network = MagicNetwork(name="magic_network")


def run(duration, report="auto", report_period=10 * second, namespace=None, level=0) -> None:
    """Simulate all objects made since the last ``start_scope()`` for ``duration``."""
    magic_network.run(duration, report, report_period, namespace, level=level + 1)
