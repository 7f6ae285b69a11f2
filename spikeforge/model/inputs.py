"""Inputs without dynamics: ``PoissonGroup``, ``SpikeGeneratorGroup`` and ``PoissonInput``.

The two groups fill a spike buffer (``_spikes``: the indices of the neurons that spike in the
current step, their count at index ``N``) in the ``thresholds`` slot, like the threshold of a
:class:`NeuronGroup`, so monitors and synapses read them the same way.  ``PoissonInput`` has no
neurons: it adds the events of many Poisson inputs straight to a variable of its target.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

from spikeforge import units
from spikeforge.codegen.equations import Equations
from spikeforge.codegen.expressions import ExpressionError, parse_expression, symbol
from spikeforge.codegen.render import Role
from spikeforge.codegen.translate import Resolved, translate
from spikeforge.pipeline import BuildContext, schedule_position
from spikeforge.model.base import SpikeforgeObject, _unique_name, choose_clock
from spikeforge.model.clock import steps_until, timesteps
from spikeforge.model.groups import Group, NeuronGroup
from spikeforge.model.state import Entry, number, state_problem
from spikeforge.model.variables import SECOND, GroupScope, Variable, check_dimension
from spikeforge.units import DIMENSIONLESS, Quantity, get_dimensions, hertz, second

__all__ = ["PoissonGroup", "SpikeGeneratorGroup", "PoissonInput"]


class PoissonGroup(NeuronGroup):
    """Independent Poisson spike trains (Brian2's ``PoissonGroup``).

    In each time step, each neuron spikes with probability ``rates*dt``.

    Parameters
    ----------
    N
        Number of neurons.
    rates
        The firing rate: a quantity in Hz (one for all neurons, or an array of ``N``), or a string
        expression of a rate, evaluated at every time step.  The expression may use ``i``, ``t``
        and external constants (for instance ``'(i + 1)*5*Hz + 10*Hz*t/second'``).
    dt, clock
        The group's own time step, or clock (default: ``defaultclock``); it draws its spikes
        once per step of that clock.
    when, order
        The place in the schedule (the ``thresholds`` slot by default).
    namespace
        External names for the ``rates`` string; by default they come from the frame that calls
        ``run()``.
    name
        A unique name (``'poissongroup*'`` gives ``poissongroup``, ``poissongroup_1``, ...).

    ``G.rates`` reads the rates (and, for a quantity, ``G.rates = ...`` changes them).  The group
    is a spike source for monitors and synapses, as a ``NeuronGroup`` with a threshold.
    """

    code_kind = "poisson"

    def __init__(
        self,
        N,
        rates,
        dt=None,
        clock=None,
        when="thresholds",
        order=0,
        namespace=None,
        name="poissongroup*",
    ):
        name = _unique_name(name)
        owner = f"PoissonGroup {name!r}"
        schedule_position(when)
        self._rates_text = rates if isinstance(rates, str) else None
        if isinstance(rates, str):
            try:
                parse_expression(rates)
            except ExpressionError as error:
                raise error.with_context(f"{owner}, rates") from None
            model = Equations(f"rates = {rates} : Hz")
        else:
            if get_dimensions(rates) != hertz.dim:
                raise units.DimensionMismatchError(
                    f"{owner}: rates must be a rate (in Hz) or a string expression, got {rates!r}",
                    get_dimensions(rates),
                )
            shape = np.shape(rates)
            if shape not in ((), (N,)):
                raise ValueError(
                    f"{owner}: rates must be a single rate or one rate per neuron "
                    f"({N} values), got an array of shape {shape}"
                )
            values = np.asarray(rates, dtype=np.float64)
            if not np.all(np.isfinite(values) & (values >= 0)):
                raise ValueError(f"{owner}: rates must be finite and not negative, got {rates!r}")
            model = Equations("rates : Hz")
        super().__init__(
            N,
            model,
            threshold="rand() < rates*dt",
            dt=dt,
            clock=clock,
            namespace=namespace,
            order=order,
            name=name,
        )
        self.when = when
        self._rates = rates
        if self._rates_text is None:
            self.rates = rates

    def roles(self, context: BuildContext) -> list[Role]:
        if self._rates_text is not None:
            namespace = self.namespace if self.namespace is not None else context.namespace
            scope = GroupScope(self, context, namespace)
            expr = self._substitute(parse_expression(self._rates_text))
            try:
                check_dimension(expr, scope, hertz.dim, self._rates_text, "rates")
            except ExpressionError as error:
                raise error.with_context(f"PoissonGroup {self.name!r}, rates") from None
        return super().roles(context)

    def _event_slot(self, event: str) -> tuple[str, int]:
        return (self.when, self.order) if event == "spike" else super()._event_slot(event)

    def __repr__(self) -> str:
        return f"PoissonGroup({self.N}, rates={self._rates!r})"


class SpikeGeneratorGroup(Group):
    """Neurons that spike at given times (Brian2's ``SpikeGeneratorGroup``).

    Parameters
    ----------
    N
        Number of neurons.
    indices, times
        The spikes: neuron ``indices[k]`` spikes at ``times[k]``.  A spike is emitted in the time
        step that contains its time, ``int((time + 1e-3*dt)/dt)`` (so times that are multiples of
        ``dt`` up to rounding errors are not moved to the preceding step).  A neuron may spike at
        most once per time step.
    dt, clock
        The group's own time step, or clock (default: ``defaultclock``): the spike times are
        binned into its steps.
    period
        If not zero, the pattern repeats with this period, which must be a multiple of ``dt``
        and later than every spike time.
    when, order
        The place in the schedule (the ``thresholds`` slot by default).
    sorted
        Accepted for compatibility: the order of the spikes is checked (which is cheap) and
        sorted when needed either way.
    name
        A unique name (``'spikegeneratorgroup*'`` gives ``spikegeneratorgroup``, ...).

    :meth:`set_spikes` replaces the spikes, for instance between two runs.  Spikes dated before
    the start of a run (without a period) are ignored, with a warning.
    """

    code_kind = "spikegen"
    #: Tells monitors and synapses that this group spikes although it has no threshold.
    _spike_generator = True

    def __init__(
        self,
        N,
        indices,
        times,
        dt=None,
        clock=None,
        period=0 * second,
        when="thresholds",
        order=0,
        sorted=False,  # Brian2's name, although it shadows the builtin
        name="spikegeneratorgroup*",
    ):
        super().__init__(N, name, when, order)
        self.clock = choose_clock(dt, clock, f"SpikeGeneratorGroup {self.name!r}")
        self.variables["i"] = Variable(
            "i", DIMENSIONLESS, np.arange(self.N, dtype=np.int32), "integer", read_only=True
        )
        self._spikes = np.zeros(self.N + 1, dtype=np.int32)
        # Position in the spike arrays of the next spike to emit; kept between runs.
        self._cursor = np.zeros(1, dtype=np.int64)
        self._steps = np.zeros(0, dtype=np.int64)
        self._step_indices = np.zeros(0, dtype=np.int32)
        self._period_steps = 0
        self._binned_dt: float | None = None
        self.set_spikes(indices, times, period, sorted)
        self._frozen = True

    # the spikes --------------------------------------------------------------------------------
    def set_spikes(self, indices, times, period=0 * second, sorted=False) -> None:
        """Replace the spikes this group emits (same arguments as the constructor)."""
        indices, times, period = self._checked(indices, times, period)
        # Brian2 checks the period against the spike times with the current dt already here.
        self._period_in_steps(period, times, self.clock.dt_)
        order = np.lexsort((indices, times))
        self._neuron_index = np.ascontiguousarray(indices[order])
        self._spike_time = np.ascontiguousarray(times[order])
        self._period = period
        self._spikes_changed = True
        self._binned_dt = None

    def _checked(self, indices, times, period) -> tuple[np.ndarray, np.ndarray, float]:
        owner = f"SpikeGeneratorGroup {self.name!r}"
        raw_indices = np.asarray(indices)
        if raw_indices.ndim != 1:
            raise ValueError(f"{owner}: indices must be a one-dimensional array of integers")
        if raw_indices.size and raw_indices.dtype.kind not in "iu":
            whole = raw_indices.dtype.kind == "f" and np.all(
                np.isfinite(raw_indices) & (raw_indices == np.round(raw_indices))
            )
            if not whole:
                raise TypeError(
                    f"{owner}: indices must be integers, got values of type {raw_indices.dtype}"
                )
        if len(raw_indices) and get_dimensions(indices) != DIMENSIONLESS:
            raise units.DimensionMismatchError(
                f"{owner}: indices must be plain integers, not quantities",
                get_dimensions(indices),
            )
        if np.size(times):
            try:
                dimension = get_dimensions(times)
            except units.DimensionMismatchError:
                dimension = None
            if dimension != SECOND:
                raise units.DimensionMismatchError(
                    f"{owner}: times must have units of time (e.g. [1, 2]*ms), got {times!r}",
                    *([dimension] if dimension is not None else []),
                )
            times = Quantity(times)
        times_array = np.asarray(times, dtype=float)
        if times_array.ndim != 1:
            raise ValueError(f"{owner}: times must be a one-dimensional array of times")
        if len(raw_indices) != len(times_array):
            raise ValueError(
                f"{owner}: indices and times must have the same length, "
                f"got {len(raw_indices)} indices and {len(times_array)} times"
            )
        if len(times_array) and not np.all(np.isfinite(times_array)):
            raise ValueError(f"{owner}: spike times must be finite")
        if len(times_array) and times_array.min() < 0:
            raise ValueError(
                f"{owner}: spike times cannot be negative, got {_time(times_array.min())}"
            )
        if len(raw_indices) and (raw_indices.min() < 0 or raw_indices.max() >= self.N):
            bad = raw_indices[(raw_indices < 0) | (raw_indices >= self.N)][0]
            raise ValueError(
                f"{owner}: neuron indices must lie in 0..{self.N - 1} (N = {self.N}), "
                f"got {int(bad)}"
            )
        if get_dimensions(period) != SECOND or np.ndim(period) != 0:
            raise units.DimensionMismatchError(
                f"{owner}: period must be a time (0*second for no period), got {period!r}",
                get_dimensions(period),
            )
        period_ = float(np.asarray(period))
        if not period_ >= 0:
            raise ValueError(f"{owner}: the period cannot be negative, got {period!r}")
        if np.isinf(period_):
            period_ = 0.0  # an infinite period never repeats
        return raw_indices.astype(np.int32), times_array, period_

    def _period_in_steps(self, period: float, times: np.ndarray, dt: float) -> int:
        """The period in time steps (0 for none); raise if it does not suit ``dt`` or ``times``."""
        owner = f"SpikeGeneratorGroup {self.name!r}"
        if period == 0:
            return 0
        if period < dt:
            raise ValueError(
                f"{owner}: the period ({_time(period)}) is shorter than dt ({_time(dt)})"
            )
        ratio = period / dt
        period_steps = int(round(ratio))
        if abs(ratio - period_steps) > 1e-9 * period_steps:
            raise ValueError(
                f"{owner}: the period ({_time(period)}) must be a whole number of time steps "
                f"(dt = {_time(dt)})"
            )
        if len(times):
            last = times.max()
            if timesteps(np.array([last]), dt)[0] >= period_steps:
                raise ValueError(
                    f"{owner}: every spike time must be earlier than the period "
                    f"({_time(period)}), but the last one is {_time(last)} (with dt = {_time(dt)})"
                )
        return period_steps

    def _bin(self, dt: float) -> None:
        """Convert the spike times to time steps of ``dt`` and order the spikes by step, then
        index."""
        owner = f"SpikeGeneratorGroup {self.name!r}"
        period_steps = self._period_in_steps(self._period, self._spike_time, dt)
        steps = timesteps(self._spike_time, dt)
        indices, times = self._neuron_index, self._spike_time
        order = np.lexsort((indices, steps))
        steps, indices, times = steps[order], indices[order], times[order]
        repeated = np.flatnonzero((np.diff(steps) == 0) & (np.diff(indices) == 0))
        if len(repeated):
            k = repeated[0]
            clash = times[(steps == steps[k]) & (indices == indices[k])]
            raise ValueError(
                f"{owner}: neuron {int(indices[k])} spikes more than once in one time step "
                f"(at {', '.join(_time(t) for t in clash)}, with dt = {_time(dt)}); "
                "use a smaller dt or remove the extra spikes"
            )
        self._steps = np.ascontiguousarray(steps, dtype=np.int64)
        self._step_indices = np.ascontiguousarray(indices, dtype=np.int32)
        self._period_steps = period_steps
        self._binned_dt = dt
        self._cursor[0] = 0  # generated code moves it forward to the current step

    def before_run(self, context: BuildContext) -> None:
        dt = self.clock.dt_  # the spikes are binned in steps of the group's own clock
        if self._spikes_changed or self._binned_dt != dt:
            self._bin(dt)
        if self._spikes_changed and self._period_steps == 0:
            current = steps_until(self._time, dt)
            missed = int(np.count_nonzero(self._steps < current))
            if missed:
                warnings.warn(
                    f"SpikeGeneratorGroup {self.name!r}: {missed} spike(s) are dated before the "
                    f"start of this run (t = {_time(self._time)}) and will be ignored",
                    stacklevel=_user_stacklevel(),
                )
        self._spikes_changed = False

    def roles(self, context: BuildContext) -> list[Role]:
        prefix = context.prefix(self)
        scope = GroupScope(self, context, None)
        extra = {
            "size": scope.size_static(),
            "spikes": context.array(self, "spikes", self._spikes),
            "spike_indices": context.array(
                self, "spike_indices", lambda: self._step_indices, np.int32
            ),
            "spike_steps": context.array(self, "spike_steps", lambda: self._steps, np.int64),
            "spike_total": context.scalar(self, "spike_total", lambda: len(self._steps), "int64_t"),
            "period_steps": context.scalar(
                self, "period_steps", lambda: int(self._period_steps), "int64_t"
            ),
            "cursor": context.array(self, "cursor", self._cursor),
        }
        return [
            Role(
                f"{prefix}_generator",
                "spikegenerator.pyx.j2",
                "spike generator",
                translate([], scope),
                self.when,
                self.order,
                extra,
            )
        ]

    # state: the spikes to emit and how far through them the group is ---------------------------
    _GENERATOR_ARRAYS = ("_neuron_index", "_spike_time", "_steps", "_step_indices")

    def _full_state(self) -> dict:
        full = super()._full_state()
        generator = {
            name: np.array(getattr(self, name), copy=True) for name in self._GENERATOR_ARRAYS
        }
        generator["cursor"] = self._cursor.copy()
        generator["period"] = np.array(self._period, dtype=np.float64)
        generator["period_steps"] = np.array(self._period_steps, dtype=np.int64)
        binned = self._binned_dt
        generator["binned_dt"] = np.array(np.nan if binned is None else binned, dtype=np.float64)
        generator["spikes_changed"] = np.array(self._spikes_changed, dtype=bool)
        full["generator"] = generator
        return full

    def _check_full_state(self, full: dict) -> None:
        super()._check_full_state(full)
        generator = full.get("generator")
        if not isinstance(generator, dict):
            raise state_problem(self, "it is not the state of a SpikeGeneratorGroup")
        missing = {*self._GENERATOR_ARRAYS, "cursor", "period", "period_steps"} - set(generator)
        if missing:
            raise state_problem(self, f"it lacks {', '.join(sorted(missing))}")
        # The spikes as given (index, time) and as binned into steps for the last run's dt
        # (step, index): each pair has one length.  The binned pair is stale, and may be of
        # any length, when the spikes changed after it was made (or before any run).
        given = {len(np.asarray(generator[name])) for name in ("_neuron_index", "_spike_time")}
        binned = {len(np.asarray(generator[name])) for name in ("_steps", "_step_indices")}
        stale = bool(generator.get("spikes_changed", False))
        if len(given) > 1 or len(binned) > 1 or (not stale and given != binned):
            raise state_problem(self, "its spike arrays have different lengths")
        indices = np.asarray(generator["_step_indices"])
        if indices.size and (indices.min() < 0 or indices.max() >= self.N):
            raise state_problem(self, f"it holds neuron indices outside 0..{self.N - 1}")

    def _restore_from_full_state(self, full: dict) -> None:
        super()._restore_from_full_state(full)
        generator = full["generator"]
        for name in self._GENERATOR_ARRAYS:
            setattr(self, name, np.ascontiguousarray(generator[name]).copy())
        self._cursor[...] = generator["cursor"]
        self._period = float(generator["period"])
        self._period_steps = int(generator["period_steps"])
        binned = float(generator["binned_dt"])
        self._binned_dt = None if np.isnan(binned) else binned
        self._spikes_changed = bool(generator["spikes_changed"])

    def _state_entries(self) -> dict[str, Entry]:
        entries = super()._state_entries()
        entries["neuron_index"] = Entry(DIMENSIONLESS, lambda level: self.neuron_index)
        entries["spike_time"] = Entry(SECOND, lambda level: self._spike_time.copy())
        entries["period"] = Entry(SECOND, lambda level: number(self._period, np.float64))
        return entries

    # reading -------------------------------------------------------------------------------------
    @property
    def period(self) -> Quantity:
        """The period of the spike pattern (0 s: no repetition)."""
        return Quantity(self._period, dim=SECOND)

    @property
    def neuron_index(self) -> np.ndarray:
        """The neuron of each spike, ordered by time, then index."""
        return self._neuron_index.copy()

    @property
    def spike_time(self) -> Quantity:
        """The time of each spike, ordered by time, then index."""
        return Quantity(self._spike_time.copy(), dim=SECOND)

    @property
    def spikes(self) -> np.ndarray:
        """Indices of the neurons that spiked in the last time step."""
        return self._spikes[: self._spikes[self.N]].copy()

    @property
    def events(self) -> dict:
        """The events this group emits: only ``'spike'`` (it has no condition)."""
        return {"spike": None}

    def _event_buffer(self, event: str) -> tuple[str, np.ndarray]:
        """The name and array of the buffer of ``event`` (see ``NeuronGroup._event_buffer``)."""
        if event != "spike":
            raise ValueError(f"SpikeGeneratorGroup {self.name!r} has no event {event!r}")
        return "spikes", self._spikes

    def _event_slot(self, event: str) -> tuple[str, int]:
        """Where in the schedule ``event`` is emitted."""
        return self.when, self.order

    def __repr__(self) -> str:
        n = len(self._neuron_index)
        return (
            f"SpikeGeneratorGroup({self.N}, indices=<length {n} array>, times=<length {n} array>)"
        )


def _user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the first caller outside spikeforge."""
    package = str(Path(__file__).resolve().parent.parent)
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _time(value: float) -> str:
    return str(Quantity(float(value), dim=SECOND))


class PoissonInput(SpikeforgeObject):
    """Many independent Poisson inputs added to a variable of a group (Brian2's
    ``PoissonInput``).

    At every time step, each element of ``target`` receives the events of ``N`` independent
    Poisson spike trains of rate ``rate``: their number, drawn from the binomial distribution
    Binomial(``N``, ``rate*dt``), times ``weight`` is added to ``target_var``.  Neither the inputs
    nor their spikes are stored, so this is much cheaper than a ``PoissonGroup`` with synapses.
    Every target element receives its own, independent inputs.  The number is exact: the sampler
    (``runtime/random_numbers.h``) inverts the distribution function when ``N*p`` is small and
    uses Hormann's BTRD rejection method otherwise (Brian2 uses a normal approximation there).

    Parameters
    ----------
    target
        The group that receives the input (its clock is used).
    target_var
        The name of the variable of ``target`` to add to (it is not protected by refractoriness).
    N
        The number of inputs per target element: an integer of at least 1.
    rate
        The rate of each input, a quantity in Hz; ``rate*dt`` must not exceed 1.
    weight
        What each event adds: a quantity with the units of ``target_var``, or a string expression
        evaluated for each target element in the target's context (its variables, ``i``, ``t``,
        external constants).
    when, order
        The place in the schedule (the ``synapses`` slot by default).
    name
        A unique name (``'poissoninput*'`` gives ``poissoninput``, ``poissoninput_1``, ...).

    ``N``, ``rate`` and a quantity ``weight`` are arguments of the generated module, so changing
    them (here, or between runs through the properties of the same name) compiles nothing.
    """

    code_kind = "pinput"

    def __init__(
        self, target, target_var, N, rate, weight, when="synapses", order=0, name="poissoninput*"
    ):
        super().__init__(name, when, order)
        owner = f"PoissonInput {self.name!r}"
        if not isinstance(target, Group):
            raise TypeError(f"{owner}: the target must be a group, not {type(target).__name__}")
        if not isinstance(target_var, str) or target_var not in target.variables:
            raise KeyError(f"{owner}: {target_var!r} is not a variable of {target.name!r}")
        variable = target.variables[target_var]
        if not variable.has_storage or variable.read_only or variable.constant:
            raise ValueError(
                f"{owner}: {target_var!r} of {target.name!r} cannot receive input (it is a "
                "subexpression, read-only or constant)"
            )
        if variable.shared:
            raise ValueError(
                f"{owner}: {target_var!r} is a shared variable; PoissonInput needs one value "
                "per element of the target"
            )
        if variable.var_type == "boolean":
            raise TypeError(f"{owner}: {target_var!r} is boolean and cannot receive input")
        self.target = target
        self._target_var = target_var
        self.clock = getattr(target, "clock", self.clock)
        self.N = N
        self.rate = rate
        self.weight = weight

    # the parameters ---------------------------------------------------------------------------
    def _dependencies(self) -> list[SpikeforgeObject]:
        return [self.target]

    @property
    def target_var(self) -> str:
        """The name of the variable that receives the input."""
        return self._target_var

    @property
    def N(self) -> int:
        """The number of inputs per target element."""
        return self._N

    @N.setter
    def N(self, value) -> None:
        owner = f"PoissonInput {self.name!r}"
        if get_dimensions(value) != DIMENSIONLESS:
            raise units.DimensionMismatchError(
                f"{owner}: N must be a plain number, got {value!r}", get_dimensions(value)
            )
        number = np.asarray(value)
        if (
            number.ndim != 0
            or number.dtype.kind not in "iuf"
            or not np.isfinite(number)
            or number != np.round(number)
            or number < 1
        ):
            raise ValueError(f"{owner}: N must be an integer of at least 1, got {value!r}")
        self._N = int(number)

    @property
    def rate(self) -> Quantity:
        """The rate of each input."""
        return Quantity(self._rate, dim=hertz.dim)

    @rate.setter
    def rate(self, value) -> None:
        owner = f"PoissonInput {self.name!r}"
        if isinstance(value, str):
            raise TypeError(
                f"{owner}: rate must be a quantity in Hz (string expressions are not supported), "
                f"got {value!r}"
            )
        if get_dimensions(value) != hertz.dim:
            raise units.DimensionMismatchError(
                f"{owner}: rate must be a rate (in Hz), got {value!r}", get_dimensions(value)
            )
        rate = np.asarray(value, dtype=float)
        if rate.ndim != 0:
            raise ValueError(f"{owner}: rate must be a single rate, got an array")
        if not (np.isfinite(rate) and rate >= 0):
            raise ValueError(f"{owner}: the rate cannot be negative or infinite, got {value!r}")
        self._rate = float(rate)

    @property
    def weight(self):
        """What each event adds to the target variable (a quantity or a string)."""
        return self._weight

    @weight.setter
    def weight(self, value) -> None:
        owner = f"PoissonInput {self.name!r}"
        if isinstance(value, str):
            try:
                self._weight_expr = parse_expression(value)
            except ExpressionError as error:
                raise error.with_context(f"{owner}, weight") from None
            self._weight = value
            return
        expected = self.target.variables[self._target_var].dimension
        if get_dimensions(value) != expected:
            raise units.DimensionMismatchError(
                f"{owner}: the weight must have the units of the target variable "
                f"{self._target_var!r}, got {value!r}",
                get_dimensions(value),
                expected,
            )
        if np.ndim(value) != 0:
            raise ValueError(f"{owner}: the weight must be a single value or a string expression")
        self._weight_expr = None
        self._weight = value

    # running ----------------------------------------------------------------------------------
    def before_run(self, context: BuildContext) -> None:
        probability = self._rate * self.clock.dt_
        if probability > 1 + 1e-9:  # (the sampler takes any p >= 1 as 1)
            raise ValueError(
                f"PoissonInput {self.name!r}: rate*dt must not exceed 1 (it is the probability "
                f"of an event in one step), got {self.rate!r}*{self.clock.dt!r} = {probability:g}"
            )

    def roles(self, context: BuildContext) -> list[Role]:
        owner = f"PoissonInput {self.name!r}"
        target = self.target
        namespace = target.namespace if target.namespace is not None else context.namespace
        scope = target._scope(context, namespace)
        variable = target.variables[self._target_var]
        # the number of events of this element, drawn in the template
        scope.internal["_input_events"] = Resolved("index", literal="_events")
        if self._weight_expr is not None:
            weight = target._substitute(self._weight_expr)
            try:
                check_dimension(weight, scope, variable.dimension, self._weight, "the weight")
            except ExpressionError as error:
                raise error.with_context(f"{owner}, weight") from None
        else:
            static = context.scalar(self, "weight", lambda: float(np.asarray(self._weight)))
            scope.internal["_input_weight"] = Resolved("scalar", static=static)
            weight = symbol("_input_weight")
        target_symbol = symbol(self._target_var)
        value = target_symbol + symbol("_input_events") * weight
        # Brian2: no input reaches a refractory neuron's (unless refractory) variables
        statement = (self._target_var, target.guard_external_write(self._target_var, value))
        try:
            code = translate([statement], scope)
        except ExpressionError as error:
            raise error.with_context(owner) from None
        extra = {
            "size": scope.size_static(),
            "n_inputs": context.scalar(self, "N", lambda: self._N, "int64_t"),
            "rate": context.scalar(self, "rate", lambda: self._rate),
        }
        return [
            Role(
                f"{context.prefix(self)}_input",
                "poissoninput.pyx.j2",
                f"Poisson input to {self._target_var}",
                code,
                self.when,
                self.order,
                extra,
                index_lines=target._index_lines(context, code),
            )
        ]

    def __repr__(self) -> str:
        return (
            f"PoissonInput({self.target.name!r}, {self._target_var!r}, N={self._N}, "
            f"rate={self.rate!r}, weight={self._weight!r})"
        )
