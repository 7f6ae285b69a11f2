"""The pipeline (the "device" layer of the design): roles in, a compiled module out, and the
calls that run it.  (It is not called ``device`` because Brian2's ``device``, the object of
``device.build()``, is a public name of spikeforge: see :mod:`spikeforge.devices`.)

Model objects describe; this layer turns their descriptions into a running module.  The path
of a network run reads as a pipeline (:func:`run_network`), and each intermediate product is
kept on the :class:`NetworkRun` it returns, for inspection and tests:

1. ``collect_roles``: every object's roles for this run, their module arguments registered in
   one :class:`BuildContext`;
2. ``schedule``: roles in schedule order, slower clocks attached, network operations split out;
3. ``render_module``: the Cython source of one module (Jinja2 templates);
4. ``cache.start_module``: translation and compilation start in the background (or a cache hit);
5. the queued one-off calls and the objects' ``before_run`` happen meanwhile;
6. ``build.result()``: the module is imported;
7. ``run_steps``: the native loop, in chunks, returning to Python only for network operations
   and progress reports.

One-off modules (string assignments, ``connect()``) take the same path through
:func:`run_once`.

The pipeline knows roles, module arguments and clocks, and objects only through the small
protocol :class:`Simulated`; it never imports a model class (the layers are
``units`` -> ``codegen`` -> ``runtime`` -> ``pipeline`` -> ``model``).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Protocol

import numpy as np

from spikeforge.codegen import cache
from spikeforge.codegen.render import Role, render_module
from spikeforge.codegen.translate import C_TYPES, Argument, ModuleArguments
from spikeforge.runtime.registry import CAPSULE_TYPES
from spikeforge.runtime.driver import (
    call_run_roles,
    call_run_steps,
    defer,
    next_random_epoch,
    run_deferred,
)

#: The slots of a time step, in order (Brian2's default schedule).
SCHEDULE = ("start", "groups", "thresholds", "synapses", "resets", "end")


def schedule_position(when: str) -> float:
    """A sort key for ``when``: a slot of :data:`SCHEDULE`, or ``before_``/``after_`` one."""
    for prefix, offset in (("before_", -0.5), ("after_", 0.5)):
        if when.startswith(prefix) and when[len(prefix) :] in SCHEDULE:
            return SCHEDULE.index(when[len(prefix) :]) + offset
    if when in SCHEDULE:
        return float(SCHEDULE.index(when))
    raise ValueError(
        f"unknown schedule slot {when!r}; use one of {', '.join(SCHEDULE)} "
        "(optionally with before_ or after_)"
    )


class Clocked(Protocol):
    """What the pipeline needs of a clock: a name and a time step in seconds."""

    name: str
    dt_: float
    t_: float


class Simulated(Protocol):
    """What the pipeline needs of an object it runs (groups, monitors, operations...)."""

    name: str
    code_kind: str
    when: str
    order: int
    clock: Clocked

    def roles(self, context: BuildContext) -> list[Role]: ...

    def before_run(self, context: BuildContext) -> None: ...

    def after_run(self) -> None: ...


class ModelFault(ArithmeticError):
    """The generated code met a value it cannot use (a NaN, infinite or out-of-range value
    assigned to an integer variable; an integer division or modulo by zero, which is an
    :class:`IntegerDivisionByZero`).  The
    message names the object and the statement; a network run stops after that time step, with
    time, state and monitors consistent.  (A fault of memory, when a recording or a spike
    queue cannot grow, is a ``MemoryError``, raised the same way.)"""


class IntegerDivisionByZero(ModelFault, ZeroDivisionError):
    """Model code divided an integer by an integer that was 0 at run time (``k // n``,
    ``k % n``); the message names the object and the statement."""


@dataclass
class BuildContext:
    """Everything one generated module is built from: its arguments and the run's namespace.

    ``prefixes`` gives each object its name in generated code (``ng0``, ``spikemon0``...):
    positional, not the user's name, so that the same network structure always gives the same
    source and the cache hits.  ``n_steps`` is the number of steps of the run it builds (0 for
    one-off modules), for objects that size their records before a run.
    """

    namespace: dict | None
    dt: float
    arguments: ModuleArguments = field(default_factory=ModuleArguments)
    prefixes: dict[int, str] = field(default_factory=dict)
    #: Module-level Cython blocks (user functions, ...), each added once.
    support_code: list[str] = field(default_factory=list)
    #: ``(id(group), variable name)`` of every variable the code reads or writes.
    touched: set = field(default_factory=set)
    #: The module's name for each clock slower than the loop's, by ``id(clock)``: positional
    #: (``_clock_0``, ...), not the clock's name, which comes from a per-process counter.
    clock_keys: dict[int, str] = field(default_factory=dict)
    #: The message and exception class of each fault the module may meet, and what the
    #: message then adds (see :meth:`fault_site`); a fault's code is its position + 1.
    fault_messages: list[tuple[str, type[Exception], Callable[[], str] | None]] = field(
        default_factory=list
    )
    #: What objects of the module claim for themselves, by key (the elements of a variable
    #: that a summed variable writes: ``("summed", id(group), name)`` -> ``[(start, stop,
    #: owner)]``), so that two objects that would overwrite each other's results are refused.
    claims: dict = field(default_factory=dict)
    n_steps: int = 0
    #: Threads for the element loops of a network module (1: a serial module).
    threads: int = 1

    def add_support_code(self, code: str) -> None:
        """Add a module-level block (ignored if the same block is already there)."""
        if code not in self.support_code:
            self.support_code.append(code)

    def fault_site(
        self,
        message: str,
        error: type[Exception] = ModelFault,
        detail: Callable[[], str] | None = None,
    ) -> int:
        """Register a fault the generated code may meet (its message names the object and
        the problem; ``error`` is the exception it becomes; ``detail()``, if given, says what
        the message adds in parentheses when the fault happens, such as how much a recording
        holds); returns the code the module reports it with."""
        for code, (known, known_error, _) in enumerate(self.fault_messages, 1):
            if (known, known_error) == (message, error):
                return code
        self.fault_messages.append((message, error, detail))
        return len(self.fault_messages)

    def fault(self, code: int) -> tuple[str, type[Exception]]:
        """The message and exception class of the fault the module reported with ``code``
        (asked right after the module returned: a detail describes that moment)."""
        if 1 <= code <= len(self.fault_messages):
            message, error, detail = self.fault_messages[code - 1]
            return (message if detail is None else f"{message} ({detail()})"), error
        return (
            f"internal error: the generated module reported an unknown fault {code}",
            RuntimeError,
        )

    def prefix(self, obj) -> str:
        """The positional name of ``obj`` (anything with a ``code_kind``) in generated code."""
        key = id(obj)
        if key not in self.prefixes:
            count = sum(1 for p in self.prefixes.values() if p.startswith(obj.code_kind))
            self.prefixes[key] = f"{obj.code_kind}{count}"
        return self.prefixes[key]

    def array(self, obj, name: str, array, dtype=None) -> str:
        """Register an array of ``obj`` as a module argument; returns its static name.

        ``array`` is a NumPy array, or a function returning the current one (for arrays that
        are reallocated between runs; ``dtype`` must then be given).
        """
        static = f"_{self.prefix(obj)}_{name}"
        if callable(array):
            fetch, ctype = array, C_TYPES[np.dtype(dtype)][0]
        else:
            fetch, ctype = (lambda: array), C_TYPES[array.dtype][0]
        return self.arguments.add(Argument("array", static, ctype, fetch))

    def scalar(self, obj, name: str, fetch, ctype: str = "double") -> str:
        """Register a number, read by ``fetch()`` at each call, as a module argument."""
        static = f"_{self.prefix(obj)}_{name}"
        return self.arguments.add(Argument("scalar", static, ctype, fetch))

    def capsule(self, obj, name: str, owner) -> str:
        """Register a C++ object (a runtime ``DynamicArray1D`` or ``SpikeQueue``) reached through
        its capsule."""
        static = f"_{self.prefix(obj)}_{name}"
        kind = getattr(owner, "dtype", "queue")
        ctype, capsule_name = CAPSULE_TYPES[kind]
        return self.arguments.add(Argument("capsule", static, ctype, owner.capsule, capsule_name))


# one-off modules -------------------------------------------------------------------------------
def run_once(
    name: str,
    roles: list[Role],
    context: BuildContext,
    step: int,
    deferred: bool = False,
    before: Callable[[], None] | None = None,
    after: Callable[[], None] | None = None,
    touches: Iterable | None = None,
    undo: Callable[[], None] | None = None,
) -> None:
    """Run ``roles`` once, as time step ``step`` (string assignments, ``connect()``).

    ``before()`` and ``after()`` run just before and after the module's call; when the call
    meets a fault, ``undo()`` runs instead of ``after()``, and the fault's error is raised.  With
    ``deferred``, the call waits in the runtime's queue while its module compiles in the
    background, and happens when anything could observe it
    (:func:`spikeforge.runtime.driver.run_deferred`), so that the one-off modules of a script
    compile in parallel.  ``touches`` gives the state keys the call reads or writes, if they
    are all known (then only reads and writes of those wait for it).  Only calls that cannot
    fail once compiled should be deferred: an error then still belongs to the statement that
    caused it.
    """
    for position, role in enumerate(roles):
        role.stream = position  # so that seed(n) gives the same numbers to any assignment
    source = render_module("one-off code", roles, context.arguments, context.support_code)
    build = cache.start_module(source, name, optimize=False)

    def call() -> None:
        module = build.result()
        if before is not None:
            before()
        next_random_epoch()
        _, fault = call_run_steps(module, context.arguments.collect(), step, step + 1, context.dt)
        if fault:
            if undo is not None:
                undo()
            message, error = context.fault(fault)
            raise error(message)
        if after is not None:
            after()

    if deferred and not context.fault_messages:  # code that may fault runs now: see above
        defer(call, touches=None if touches is None else frozenset(touches))
    else:
        run_deferred()  # earlier calls first: this one may read what they write
        call()


# network runs ----------------------------------------------------------------------------------
def base_time_step(clocks: Iterable[Clocked]) -> float:
    """The time step of the loop: the smallest clock dt; every clock must be a multiple of it."""
    distinct = list({id(clock): clock for clock in clocks}.values())
    base = min(clock.dt_ for clock in distinct)
    for clock in distinct:
        ratio = clock.dt_ / base
        if abs(ratio - round(ratio)) > 1e-9 * ratio:
            raise NotImplementedError(
                f"the time step of {clock.name} ({clock.dt_} s) is not a multiple of the smallest "
                f"time step in the network ({base} s); spikeforge needs every clock's dt to be a "
                "whole multiple of the smallest one"
            )
    return base


def schedule_key(obj: Simulated) -> tuple:
    """Objects run in the order of their ``when`` slot, then ``order``, then name."""
    return (schedule_position(obj.when), obj.order, obj.name)


def collect_roles(objects: list[Simulated], context: BuildContext) -> list[Role]:
    """The roles of ``objects`` in schedule order, each with its clock."""
    roles = []
    for obj in sorted(objects, key=schedule_key):
        for role in obj.roles(context):
            role.clock = role.clock or obj.clock
            roles.append(role)
    roles.sort(key=lambda role: (schedule_position(role.when), role.order))
    return roles


def attach_clock(role: Role, base_dt: float, context: BuildContext) -> None:
    """Make a role on a slower clock run only on that clock's ticks (arguments, not literals)."""
    clock = role.clock
    if clock.dt_ == base_dt:
        return
    key = context.clock_keys.setdefault(id(clock), f"_clock_{len(context.clock_keys)}")
    role.every = context.arguments.add(
        Argument("scalar", f"{key}_every", "int64_t", lambda: int(round(clock.dt_ / base_dt)))
    )
    role.clock_dt = context.arguments.add(
        Argument("scalar", f"{key}_dt", "double", lambda: clock.dt_)
    )
    if role.operation is not None:
        role.operation_every = int(round(clock.dt_ / base_dt))


def schedule(roles: list[Role], context: BuildContext) -> tuple[list[Role], list[tuple[int, Role]]]:
    """Attach slower clocks, and split out network operations: ``(module roles, operations)``,
    each operation with the position of the module role it runs before."""
    for role in roles:
        attach_clock(role, context.dt, context)
    positions = [(k, role) for k, role in enumerate(roles) if role.operation is not None]
    module_roles = [role for role in roles if role.operation is None]
    operations = [(k - n, role) for n, (k, role) in enumerate(positions)]
    return module_roles, operations


def next_operation_step(operations: list[tuple[int, Role]], step: int) -> int:
    """The first step from ``step`` on at which a network operation is due."""
    best = 1 << 62
    for _, role in operations:
        best = min(best, step + (-step) % role.operation_every)
    return best


@dataclass
class NetworkRun:
    """One network run and everything made on the way: the context (module arguments), the
    scheduled roles and operations, the rendered source, the module, and timings."""

    context: BuildContext
    roles: list[Role] = field(default_factory=list)
    operations: list[tuple[int, Role]] = field(default_factory=list)
    source: str = ""
    module: ModuleType | None = None
    #: Seconds spent preparing (roles, rendering), waiting for the module, and in the loop.
    timings: dict = field(default_factory=dict)
    #: Steps run; fewer than asked for when the loop was interrupted (Ctrl-C) or stopped.
    steps_done: int = 0
    interrupted: bool = False
    stopped: bool = False
    #: The message and exception class of a fault that stopped the loop after its step (see
    #: :class:`ModelFault`), or None.
    fault: tuple[str, type[Exception]] | None = None
    #: The clocks of the objects of the run (their time is set for network operations).
    clocks: list = field(default_factory=list)

    @property
    def source_path(self) -> Path | None:
        """The generated ``.pyx`` of the module, in its cache entry."""
        if self.module is None or self.module.__file__ is None:
            return None
        return Path(self.module.__file__).with_suffix("").with_suffix(".pyx")


def prepare_network(
    objects: list[Simulated],
    namespace: dict | None,
    dt: float,
    n_steps: int = 0,
    threads: int = 1,
    fast_math: bool = False,
) -> NetworkRun:
    """The roles, schedule and rendered source of the module of ``objects`` (nothing compiled
    or run yet); with ``threads`` > 1, a module that shares its element loops among threads;
    with ``fast_math``, one that calls vector versions of mathematical functions."""
    context = BuildContext(namespace=namespace, dt=dt, n_steps=n_steps, threads=threads)
    run = NetworkRun(context)
    run.roles, run.operations = schedule(collect_roles(objects, run.context), run.context)
    kinds = sorted({type(obj).__name__ for obj in objects})
    run.source = render_module(
        "network of " + ", ".join(kinds),
        run.roles,
        run.context.arguments,
        run.context.support_code,
        parallel=threads > 1,
        fast_math=fast_math,
    )
    return run


def run_network(
    objects: list[Simulated],
    namespace: dict | None,
    dt: float,
    start_step: int,
    end_step: int,
    progress: Callable[[float, int], None] | None = None,
    threads: int = 1,
    fast_math: bool = False,
) -> NetworkRun:
    """Build the module of ``objects`` and run it for the steps ``start_step`` to ``end_step``
    with ``threads`` threads (in fast-math mode with ``fast_math``).

    ``progress(elapsed_seconds, steps_done)`` is called between chunks of the loop.
    """
    started = time.perf_counter()
    run = prepare_network(objects, namespace, dt, end_step - start_step, threads, fast_math)
    run.clocks = list({id(obj.clock): obj.clock for obj in objects}.values())
    prepared = time.perf_counter()
    # The source depends on the model, not on the values of its state (those are module
    # arguments), so the module compiles while deferred string assignments and connect()
    # calls are made and the objects prepare for the run.
    build = cache.start_module(run.source, "network")
    run_deferred()
    for obj in objects:
        obj.before_run(run.context)
    run.module = build.result()
    compiled = time.perf_counter()
    next_random_epoch()  # the run's random numbers, whatever chunks the loop is made in
    run_steps(run, start_step, end_step, progress)
    for obj in objects:
        obj.after_run()
    finished = time.perf_counter()
    run.timings = {
        "preparation": prepared - started,
        "build": compiled - prepared,
        "loop": finished - compiled,
    }
    return run


#: The loop returns to Python after chunks of steps that take about this long (seconds), so
#: that progress reports and Ctrl-C are felt promptly; chunks grow from one step.
CHUNK_SECONDS = (0.1, 0.5)


def run_steps(
    run: NetworkRun,
    start_step: int,
    end_step: int,
    progress: Callable[[float, int], None] | None = None,
) -> None:
    """The loop: native chunks of steps, split around the steps where operations are due.

    Ctrl-C (SIGINT) stops the loop between two chunks, so at a step boundary where time,
    state, monitors and queues agree: ``run.interrupted`` is then set and ``run.steps_done``
    says how far it got.
    """
    module, context, dt = run.module, run.context, run.context.dt
    collected = context.arguments.collect()
    step, chunk = start_step, 1
    loop_started = time.perf_counter()
    _stop_requests.clear()
    with _interruptible() as interrupted:
        while step < end_step and not interrupted and not _stop_requests:
            stop = min(end_step, step + chunk, next_operation_step(run.operations, step))
            if stop == step:  # network operations run in this step, between roles
                collected = run_split_step(run, step)
                step += 1
                run.steps_done = step - start_step
                if run.fault:
                    break
                continue
            chunk_started = time.perf_counter()
            reached, fault = call_run_steps(module, collected, step, stop, dt, context.threads)
            step = reached
            run.steps_done = step - start_step
            if fault:
                run.fault = context.fault(fault)
                break
            elapsed = time.perf_counter() - chunk_started
            if elapsed < CHUNK_SECONDS[0]:
                chunk = min(chunk * 4, 1 << 30)
            elif elapsed > CHUNK_SECONDS[1]:
                chunk = max(1, chunk // 2)
            if progress is not None:
                progress(time.perf_counter() - loop_started, step - start_step)
    run.interrupted = bool(interrupted)
    run.stopped = bool(_stop_requests)
    _stop_requests.clear()


#: Set by :func:`request_stop` (from a network operation): the loop ends after this step.
_stop_requests: list = []


def request_stop() -> None:
    """End the running loop after the current step (Brian2's ``stop()``)."""
    _stop_requests.append(1)


class _interruptible:
    """While the loop runs in the main thread, SIGINT only sets a flag (the list is truthy once
    it arrived), which the loop reads between chunks; the previous handler comes back after."""

    def __enter__(self) -> list:
        self.flag: list = []
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            try:
                self.previous = signal.signal(signal.SIGINT, lambda *_: self.flag.append(1))
            except ValueError:  # not the main interpreter
                self.previous = None
        return self.flag

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def run_split_step(run: NetworkRun, step: int) -> tuple:
    """One step in pieces: module roles, then each due network operation in its place."""
    module, context, dt = run.module, run.context, run.context.dt
    done = 0
    collected = context.arguments.collect()
    for position, role in run.operations:
        if step % role.operation_every:
            continue
        fault = call_run_roles(module, collected, step, dt, done, position, context.threads)
        if fault:
            run.fault = run.fault or context.fault(fault)
        done = position
        assert role.operation is not None  # only roles with an operation are listed here
        for clock in run.clocks:
            clock.t_ = step * dt  # operations read the time of the step (defaultclock.t)
        role.operation(step * dt)
        run_deferred()  # string assignments the operation made
        collected = context.arguments.collect()  # the operation may have changed arrays
    fault = call_run_roles(module, collected, step, dt, done, len(run.roles), context.threads)
    if fault:
        run.fault = run.fault or context.fault(fault)
    return collected
