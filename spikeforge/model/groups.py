"""``NeuronGroup``: neurons described by equations, with threshold, reset and refractoriness."""

from __future__ import annotations

import dataclasses

import numpy as np
import sympy

from spikeforge import units
from spikeforge.codegen.equations import (
    DIFFERENTIAL,
    PARAMETER,
    SUBEXPRESSION,
    SPATIAL_FLAGS,
    SYNAPTIC_FLAGS,
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
    timestep,
    user_function_names,
)
from spikeforge.codegen.render import Role
from spikeforge.codegen.stateupdaters import (
    IntegrationError,
    check_method_options,
    integrate,
    prefetch,
)
from spikeforge.codegen.translate import Resolved, translate
from spikeforge.pipeline import BuildContext, run_once, schedule_position
from spikeforge.model import state
from spikeforge.model.base import SpikeforgeObject, choose_clock
from spikeforge.model.clock import defaultclock, steps_until
from spikeforge.model.functions import locally_constant_functions
from spikeforge.model.namespace import caller_namespace, kept_namespace, user_namespace
from spikeforge.model.regularly import RunRegularly
from spikeforge.model.state import Entry, number, state_problem
from spikeforge.model.variables import (
    FLOAT_DTYPES,
    StorageTypes,
    SECOND,
    GroupScope,
    Variable,
    VariableView,
    check_assigned_units,
    checked_link,
    linked_subexpressions,
    check_dimension,
    make_variable,
    unitless_values,
)
from spikeforge.units import DIMENSIONLESS, Quantity, get_dimensions

#: ``lastspike`` before the first spike: far enough in the past for any refractory period.
NEVER = -1e4
#: The unit of a noise term ``xi``: 1/sqrt(second) (white noise has variance dt per step).
NOISE_DIMENSION = SECOND**-0.5


def is_noise(name: str) -> bool:
    """Whether ``name`` is a noise term (``xi``, ``xi_1``...)."""
    return name == "xi" or name.startswith("xi_")


def time_entries(obj, count, count_dtype=np.int64) -> dict[str, Entry]:
    """The ``get_states`` names every group and monitor has: ``N`` (``count()``), ``t``,
    ``dt`` and ``t_in_timesteps``."""
    clock = getattr(obj, "clock", None) or defaultclock

    def time():
        return float(getattr(obj, "_time", 0.0))

    return {
        "N": Entry(DIMENSIONLESS, lambda level: number(count(), count_dtype)),
        "t": Entry(SECOND, lambda level: number(time(), np.float64)),
        "dt": Entry(SECOND, lambda level: number(clock.dt_, np.float64)),
        "t_in_timesteps": Entry(
            DIMENSIONLESS, lambda level: number(steps_until(time(), clock.dt_))
        ),
    }


class Group(SpikeforgeObject):
    """A set of ``N`` elements with named variables, readable and writable as attributes."""

    _frozen = False

    def __init__(self, N: int, name: str, when: str = "groups", order: int = 0, namespace=None):
        whole = isinstance(N, (int, np.integer)) or (
            isinstance(N, (float, np.floating)) and float(N).is_integer()
        )
        if isinstance(N, str):
            raise TypeError(
                f"the first argument is the number of elements, got {N!r} (the model's equations "
                "come second: NeuronGroup(N, model))"
            )
        if isinstance(N, bool) or not isinstance(N, (int, float, np.integer, np.floating)):
            raise TypeError(f"the number of elements must be a whole number, got {N!r}")
        if not whole:  # 10000.0 is fine, as in Brian2
            raise ValueError(f"the number of elements must be a whole number, got {N!r}")
        if N < 1:
            raise ValueError(f"the number of elements must be at least 1, got {N!r}")
        super().__init__(name, when, order)
        self.N = int(N)
        self.namespace = namespace
        self.variables: dict[str, Variable] = {}
        self._time = 0.0  # the time of the network that last ran this group
        self._run_namespace: dict = {}  # the namespace of that run
        self._creation_namespace = user_namespace() if namespace is None else {}

    def __len__(self) -> int:
        return self.N

    @property
    def state_owner(self) -> Group:
        """The group whose arrays hold this group's values (itself; a subgroup's parent)."""
        return self

    def __getitem__(self, item) -> Group:
        """A subgroup: ``G[10:20]`` (contiguous, indices relative to it) or ``G[5]``."""
        # a real cycle: a subgroup is a group, and groups make subgroups
        from spikeforge.model.subgroups import Subgroup, subgroup_bounds

        return Subgroup(self, *subgroup_bounds(self, item))

    def __getattr__(self, name: str):
        if name.startswith("_") or "variables" not in self.__dict__:
            raise AttributeError(name)
        variables = self.__dict__["variables"]
        if name in variables:
            return VariableView(self, variables[name])
        if name.endswith("_") and name[:-1] in variables:
            return unitless_values(VariableView(self, variables[name[:-1]]))
        raise AttributeError(f"{type(self).__name__} {self.name!r} has no variable {name!r}")

    def __setattr__(self, name: str, value) -> None:
        variables = self.__dict__.get("variables")
        if variables is not None and name in variables:
            VariableView(self, variables[name]).set_item(slice(None), value, level=1)
        elif variables is not None and name.endswith("_") and name[:-1] in variables:
            VariableView(self, variables[name[:-1]]).set_item(
                slice(None), Quantity(value, dim=variables[name[:-1]].dimension), level=1
            )
        elif name in self._READ_ONLY and name in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__} {self.name!r}: {name} is read-only "
                f"({self._READ_ONLY[name]})"
            )
        elif self._frozen and not name.startswith("_") and name not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__} {self.name!r} has no variable {name!r} "
                f"(its variables: {', '.join(sorted(self.variables))})"
            )
        else:
            object.__setattr__(self, name, value)

    #: Attributes that are set once, when the group is made.
    _READ_ONLY = {
        "N": "the number of elements is fixed when the group is made",
        "name": "it identifies the object in snapshots and messages",
    }

    @property
    def contained_objects(self) -> list:
        """The group's ``run_regularly`` objects: they run wherever the group runs."""
        return list(self.__dict__.get("_regularly", ()))

    # subexpressions constant over a time step ------------------------------------------------
    def _hold_constant_over_dt(self, owner: str) -> None:
        """Make each subexpression flagged ``(constant over dt)`` a variable that is computed
        once per time step, first thing in the step (Brian2's ``before_start`` slot), and read
        as it is by the state update, threshold, reset, synapses and monitors of that step;
        refuse other subexpressions that draw random numbers (each use would draw anew).

        Call after ``self.equations`` is set and before the variables are made; then
        :meth:`_add_constant_over_dt_updater` once they are."""
        held = []
        equations = Equations(self.equations)  # a copy: the model given may be shared
        for equation in self.equations:
            if equation.kind != SUBEXPRESSION:
                continue
            if "constant over dt" in equation.flags and "summed" not in equation.flags:
                held.append(equation)
                equations.equations[equation.name] = dataclasses.replace(
                    equation,
                    kind=PARAMETER,
                    expression=None,
                    flags=equation.flags - {"constant over dt"},
                )
            elif random_calls(equation.expression):
                raise EquationError(
                    "this subexpression draws random numbers, so each use of it would draw "
                    "others; add the flag (constant over dt) to draw them once per time step",
                    equation.text,
                    owner,
                )
        # each after those it uses
        ordered: list = []
        while held:
            names = {equation.name for equation in held}
            ready = [
                eq
                for eq in held
                if not {s.name for s in eq.expression.free_symbols} & names - {eq.name}
            ]
            if not ready:
                raise EquationError(
                    "subexpressions constant over dt refer to each other in a circle",
                    held[0].text,
                    owner,
                )
            ordered += ready
            held = [eq for eq in held if eq not in ready]
        self.equations = equations
        self._held_over_dt = ordered

    def _add_constant_over_dt_updater(self) -> None:
        held = self.__dict__.get("_held_over_dt")
        if held:
            code = "\n".join(f"{eq.name} = {eq.expression_text}" for eq in held)
            self.run_regularly(
                code,
                when="before_start",
                order=self.order,
                name=f"{self.name}_subexpression_update*",
            )

    def run_regularly(
        self, code: str, dt=None, clock=None, when="start", order=0, name=None, codeobj_class=None
    ) -> RunRegularly:
        """Run the statements ``code`` for every element at each tick of a clock (``dt=`` or
        ``clock=``; by default the group's), in the slot ``when`` at ``order``.  Returns the
        :class:`RunRegularly` object, which runs with the group (``active = False`` stops
        it)."""
        if codeobj_class is not None:
            raise NotImplementedError(
                f"{type(self).__name__} {self.name!r}: run_regularly(codeobj_class=) is Brian2's "
                "choice of code generation target; spikeforge has one"
            )
        regularly = RunRegularly(self, code, dt, clock, when, order, name)
        self.__dict__.setdefault("_regularly", []).append(regularly)
        return regularly

    def before_run(self, context: BuildContext) -> None:
        """Remember the run's namespace for later reads of subexpressions."""
        if context.namespace is not None:
            self._run_namespace = kept_namespace(context.namespace)

    def writes_only_when_not_refractory(self, name: str) -> bool:
        """Whether writes to ``name`` from other objects are ignored while an element is
        refractory (never, for groups without refractoriness)."""
        return False

    def guard_external_write(
        self, name: str, value, written: str | None = None, flag: str = "not_refractory"
    ):
        """``value`` as written by another object (a synapse, PoissonInput) to ``name``: kept
        from refractory elements when :meth:`writes_only_when_not_refractory` says so (Brian2's
        conditional write).  ``written`` and ``flag`` are the names the writer's code uses for
        the variable and for ``not_refractory``."""
        if not self.writes_only_when_not_refractory(name):
            return value
        keep = sympy.Ne(symbol(flag), 0)
        return sympy.Piecewise((value, keep), (symbol(written or name), True))

    def _scope(self, context: BuildContext, namespace) -> GroupScope:
        """How names in this group's code resolve (synapses add pre/post variables)."""
        return GroupScope(self, context, namespace)

    def _index_lines(self, context: BuildContext, code=None, needed=()) -> list[str]:
        """Lines that set up per-element indices in generated loops (none for neurons).

        With the translated ``code`` of a role, only the indices that it or its template
        (``needed``) uses."""
        return []

    def _recordable(self, name: str) -> Variable | None:
        """The variable a monitor of this group records under ``name`` (None: none)."""
        return self.variables.get(name)

    # state ----------------------------------------------------------------------------------
    def _stored_variables(self) -> dict[str, Variable]:
        return {name: var for name, var in self.variables.items() if var.has_storage}

    def _full_state(self) -> dict:
        full = super()._full_state()
        variables = self._stored_variables()
        if variables:
            full["variables"] = {
                name: np.array(var.array, copy=True) for name, var in variables.items()
            }
        spikes = self.__dict__.get("_spikes")
        if isinstance(spikes, np.ndarray):
            full["spikes"] = spikes.copy()
        return full

    def _check_full_state(self, full: dict) -> None:
        super()._check_full_state(full)
        variables = self._stored_variables()
        stored = full.get("variables", {})
        if not isinstance(stored, dict) or set(stored) != set(variables):
            raise state_problem(
                self, f"it has the variables {sorted(stored)}, the object has {sorted(variables)}"
            )
        for name, var in variables.items():
            values = np.asarray(stored[name])
            if var.dynamic is None and values.shape != var.array.shape:
                raise state_problem(self, f"{name} has shape {values.shape}, not {var.array.shape}")
            if var.dynamic is not None and values.ndim != 1:
                raise state_problem(self, f"{name} is not one-dimensional")
        spikes = self.__dict__.get("_spikes")
        if isinstance(spikes, np.ndarray) and np.shape(full.get("spikes")) != spikes.shape:
            raise state_problem(self, "its spikes of the last step do not match the group's size")

    def _restore_from_full_state(self, full: dict) -> None:
        super()._restore_from_full_state(full)
        for name, var in self._stored_variables().items():
            values = np.asarray(full["variables"][name])
            if var.dynamic is not None:
                var.dynamic.resize(len(values))
                if len(values):
                    var.dynamic.view()[:] = values
            else:
                var.storage[...] = values
        if "spikes" in full:
            self._spikes[...] = full["spikes"]

    def _state_entries(self) -> dict[str, Entry]:
        entries = super()._state_entries()
        entries.update(time_entries(self, lambda: self.N, self._count_dtype))
        for name, variable in self.variables.items():
            entries[name] = self._variable_entry(variable)
        return entries

    #: The type ``get_states`` gives the number of elements.
    _count_dtype = np.int64

    def _variable_entry(self, variable: Variable) -> Entry:
        def read(level):
            if variable.has_storage:
                values = variable.array
            elif variable.linked:
                values = np.asarray(VariableView(self, variable).get_item(slice(None), level + 1))
            else:
                values = self._evaluate_subexpression(variable, level + 1)
            if variable.var_type == "boolean":
                values = np.asarray(values).astype(bool)
            else:
                values = np.array(values, copy=True)
            return values[0].copy() if variable.shared else values

        def write(value, units, level):
            if not isinstance(value, str) and not units:
                value = Quantity(np.asarray(value), dim=variable.dimension)
            VariableView(self, variable).set_item(slice(None), value, level=level + 1)

        writable = variable.has_storage and not variable.read_only
        return Entry(
            variable.dimension,
            read,
            write if writable else None,
            subexpression=not variable.has_storage,
            per_element=not variable.shared,
            variable=variable,
        )

    # code ---------------------------------------------------------------------------------------
    def _is_temporary(self, name: str) -> bool:
        """Whether ``name = ...`` in this group's code defines a temporary: a local value of
        the element, for later lines of the same code (a name that is not a variable)."""
        return name not in self.variables

    def _check_target(self, statement: Statement, where: str) -> None:
        """Raise unless the statement's target may be written by code (``where``: the part)."""
        variable = self.variables[statement.target]
        if (
            not (variable.has_storage or variable.linked)
            or variable.read_only
            or (variable.constant)
        ):
            raise ExpressionError(
                f"{statement.target!r} cannot be assigned to",
                statement.text,
                f"{type(self).__name__} {self.name!r}, {where} line {statement.line_number}",
            )

    def _check_code(self, statements: list[Statement], where: str) -> None:
        """Check the targets of ``statements`` (``where``: the part, as ``reset``): variables
        that may be written, or temporaries, which are defined with ``=`` before any update."""
        defined: set[str] = set()
        for statement in statements:
            target = statement.target
            if target in defined or self._is_temporary(target):
                if statement.operation != "=" and target not in defined:
                    raise ExpressionError(
                        f"{self._unknown_target(target)}; a new name is a temporary, which "
                        f"must be defined with '{target} = ...' before it is updated",
                        statement.text,
                        f"{type(self).__name__} {self.name!r}, {where} line "
                        f"{statement.line_number}",
                    )
                defined.add(target)
            else:
                self._check_target(statement, where)

    def _check_linked_target(self, target: str) -> None:
        """Code run for each element cannot write a linked variable that is one value for all
        of them (as for a shared variable, which element's write would count is undefined)."""
        variable = self.variables.get(target)
        if variable is None or not variable.linked or self.N == 1:
            return
        link = checked_link(self, variable)
        if isinstance(link.index, str) and link.index == "single" or link.variable.shared:
            raise ExpressionError(
                f"{target!r} is linked to one value for all {self.N} elements "
                f"({link.group.name}.{link.variable.name}); code run for each element cannot "
                "assign to it"
            )

    def _unknown_target(self, target: str) -> str:
        """The start of an error for an assignment to a name that is not a variable."""
        return f"{target!r} is not a variable of the model"

    def _checked_statements(self, statements: list[Statement], scope, where: str) -> list[tuple]:
        """``statements`` as ``(target, expression)`` pairs, subexpressions substituted and
        units checked against each target's; an error names ``where`` and the line.

        A temporary ``x`` (see :meth:`_is_temporary`) becomes the local ``_temp_x``; its units
        are those of its expression."""
        checked = []
        values: dict[sympy.Symbol, sympy.Expr] = {}  # temporary -> its value, for units
        renamed: dict[sympy.Symbol, sympy.Symbol] = {}
        for statement in statements:
            target = statement.target
            temporary = symbol(target) in values or self._is_temporary(target)
            expr = self._substitute(statement.as_assignment())
            try:
                expected = None if temporary else scope.dimension(target)
                check_dimension(expr.xreplace(values), scope, expected, statement.text, target)
                self._check_linked_target(target)
                self._check_integer_value(target, expr, temporary)
            except ExpressionError as error:
                raise error.with_context(
                    f"{type(self).__name__} {self.name!r}, {where} line {statement.line_number}"
                ) from None
            if temporary:
                values[symbol(target)] = expr.xreplace(values)
            expr = expr.xreplace(renamed)
            if temporary:
                renamed[symbol(target)] = symbol(f"_temp_{target}")
                target = f"_temp_{target}"
            checked.append((target, expr))
        return checked

    def _check_integer_value(self, target: str, expr, temporary: bool) -> None:
        """Refuse a number that a 32-bit integer variable cannot hold (it would wrap)."""
        variable = None if temporary else self.variables.get(target)
        if variable is None or variable.var_type != "integer" or not expr.is_number:
            return
        value = float(expr)
        if not (np.isfinite(value) and -(2**31) <= value <= 2**31 - 1):
            raise ExpressionError(
                f"{target} is a 32-bit integer variable and cannot hold {expr}", str(expr)
            )

    # code for string assignments ---------------------------------------------------------------
    def _substitute(self, expr):
        return expr

    def _set_with_code(self, variable: Variable, item, value, level: int) -> None:
        """``group.v = 'expression'`` or ``group.v['condition'] = value``: generated code."""
        owner = f"{type(self).__name__} {self.name!r}"
        if self.namespace is not None:
            namespace = self.namespace
        else:
            namespace = caller_namespace(level - 1)
            # reads from inside library code (np.mean(G.y)) may not see the user's frame: the
            # names of the last run fill the gaps
            for fallback in (self._run_namespace, self._creation_namespace):
                for fallback_name, fallback_value in fallback.items():
                    namespace.setdefault(fallback_name, fallback_value)
        if isinstance(value, str):
            text = value
            try:
                expr = parse_expression(value)
            except ExpressionError as error:
                raise error.with_context(f"{owner}, assignment to {variable.name}") from None
        else:
            text = repr(value)
            check_assigned_units(self, variable, value)
            number = np.asarray(value)
            if number.ndim != 0:
                raise ValueError(f"{owner}: with a string index the value must be a scalar")
            expr = sympy.Float(float(number), precision=53)
        expr = self._substitute(expr)
        if isinstance(item, str):
            try:
                condition = self._substitute(parse_expression(item))
            except ExpressionError as error:
                raise error.with_context(f"{owner}, index {item!r}") from None
            expr = sympy.Piecewise((expr, condition), (symbol(variable.name), True))
            indices = np.arange(self.N, dtype=np.int32)
        else:
            indices = np.ascontiguousarray(
                np.arange(self.N, dtype=np.int32)[item], dtype=np.int32
            ).reshape(-1)
        if variable.shared:
            indices = np.zeros(1, dtype=np.int32)
        context = BuildContext(namespace=namespace, dt=defaultclock.dt_)
        scope = self._scope(context, namespace)
        if variable.name not in self.variables:  # a scratch target: a selection or a readout
            static = context.array(self, variable.name.strip("_"), variable.array)
            scope.internal[variable.name] = Resolved("element", variable.array.dtype, static)
            scope.internal_dimensions[variable.name] = variable.dimension
        try:
            if isinstance(value, str):
                value_expr = expr.args[0][0] if isinstance(item, str) else expr
                check_dimension(value_expr, scope, variable.dimension, text, variable.name)
            if isinstance(item, str):
                check_dimension(condition, scope, None, item, "the index")
                if not is_boolean(condition):
                    raise ExpressionError("an index string must be a condition", item)
            if (
                variable.var_type == "boolean"
                and not is_boolean(expr)
                and not isinstance(expr, sympy.Piecewise)
            ):
                expr = sympy.Ne(expr, 0)
            code = translate([(variable.name, expr)], scope)
        except ExpressionError as error:
            raise error.with_context(f"{owner}, assignment to {variable.name}") from None
        prefix = context.prefix(self)
        indices_static = context.array(self, "set_indices", indices)
        count_static = context.scalar(self, "set_count", lambda: len(indices), "int64_t")
        role = Role(
            f"{prefix}_set_{variable.name}",
            "group_variable_set.pyx.j2",
            "assignment to a variable (for the selected elements)",
            code,
            extra={"indices": indices_static, "count": count_static},
            index_lines=self._index_lines(context, code),
        )
        # assignments to model variables run when something can see them (they cannot fail
        # once compiled); scratch targets (a selection, a readout) are read right after
        deferred = self.variables.get(variable.name) is variable
        run_once(
            f"set_{variable.name.strip('_')}",
            [role],
            context,
            steps_until(self._time, context.dt),
            deferred=deferred,
            touches=context.touched,
        )

    def _indices_for_condition(self, condition: str, level: int) -> np.ndarray:
        """Indices where a condition string holds (evaluated by generated code)."""
        flags = make_variable("_selected", DIMENSIONLESS, self.N, "boolean")
        self._set_with_code(flags, slice(None), condition, level=level + 2)
        return np.flatnonzero(flags.array)

    def _check_shared_subexpressions(self) -> None:
        """A (shared) subexpression has one value for the group: it may not read a variable
        with a value per element (Brian2 refuses it too)."""
        for equation in self.equations.subexpressions:
            if "shared" not in equation.flags:
                continue
            for name in sorted(identifiers(equation.expression)):
                variable = self.variables.get(name)
                if variable is not None and not variable.shared and not variable.linked:
                    raise EquationError(
                        f"the shared subexpression {equation.name!r} reads {name!r}, which has a "
                        f"value per element; drop (shared), or make {name!r} shared",
                        equation.text,
                        f"{type(self).__name__} {self.name!r}",
                    )

    def _evaluate_subexpression(self, variable: Variable, level: int = 0) -> np.ndarray:
        """Values of a subexpression for all elements (evaluated by generated code); ``level``:
        frames between the caller and the user code."""
        target = make_variable("_value", variable.dimension, self.N, variable.var_type)
        self._set_with_code(target, slice(None), variable.expression_text, level=level + 2)
        return target.array

    def get_states(
        self,
        vars=None,
        units=True,
        format="dict",
        subexpr=False,
        read_only_variables=True,
        level=0,
        subexpressions=None,
    ):
        """Copies of the values of ``vars`` (default: all public variables) as a dict (or a
        pandas ``DataFrame`` with ``format='pandas'``, ``units=False``); ``subexpressions`` is
        Brian2 2.x's name of ``subexpr``.  See :func:`spikeforge.model.state.get_states`."""
        subexpr = subexpr if subexpressions is None else subexpressions
        return state.get_states(
            self, vars, units, format, subexpr, read_only_variables, level=level + 1
        )

    def set_states(self, values, units=True, format="dict", level=0) -> None:
        """Assign several variables from a dict ``{name: values}`` (see :meth:`get_states`)."""
        state.set_states(self, values, units, format, level=level + 1)


class _EventAction:
    """Statements run for the neurons with an event (``NeuronGroup.run_on_event``)."""

    def __init__(self, statements: list[Statement], when: str, order: int | None):
        self.statements = statements
        self.when = when
        self.order = order  # None: the group's order


class _CustomEvent:
    """An event of ``NeuronGroup(events=...)``: its condition, schedule, buffer and action."""

    def __init__(self, condition: str, expression, buffer: np.ndarray):
        self.condition = condition
        self.expression = expression
        self.buffer = buffer  # indices of the neurons with the event in this step, count at N
        self.when = "after_thresholds"
        self.order: int | None = None  # None: the group's order
        self.action: _EventAction | None = None


class NeuronGroup(Group):
    """A group of neurons (Brian2's ``NeuronGroup``).

    Parameters
    ----------
    N
        Number of neurons.
    model
        Equations as a string or :class:`Equations`.
    method
        Integration method (``'exact'``, ``'euler'``, ``'rk2'``, ``'rk4'``,
        ``'exponential_euler'``); chosen automatically when not given.
    method_options
        Brian2's options of the method: ``{'simplify': ...}`` for ``'exact'``/``'linear'``
        (no effect: the solution is always simplified); other options are errors.
    threshold
        Condition for a spike, e.g. ``'v > -50*mV'``.
    reset
        Statements run for neurons that spiked, e.g. ``'v = -60*mV'``.
    refractory
        A time (``2*ms``), a string expression of a time (``'tau_ref'``), or a condition
        (``'v > -40*mV'``) during which the neuron is refractory.  Equations flagged
        ``(unless refractory)`` stop evolving, and no spike is emitted, while it holds.
    events
        Custom events besides ``'spike'``: ``{'name': 'condition'}``.  Each condition is checked
        at every step (in the ``after_thresholds`` slot; see :meth:`set_event_schedule`),
        without refractoriness; :meth:`run_on_event` runs statements for the neurons with the
        event and ``EventMonitor`` records it.  ``{'spike': condition}`` is another way to give
        the threshold.
    namespace
        External names for the model's strings; by default they come from the frame that calls
        ``run()``.
    dtype
        How float variables are stored: ``float64`` or ``float32`` for all of them, or a dict
        ``{name: dtype}`` for some (by default ``prefs.core.default_float_dtype``, float64).
        Code computes in double precision either way (docs/equations.md, "Single precision").
    name
        A unique name (``'neurongroup*'`` gives ``neurongroup``, ``neurongroup_1``, ...).
    """

    code_kind = "ng"
    #: The dtypes its float variables may have (``dtype=``, ``prefs.core.default_float_dtype``).
    _floats = FLOAT_DTYPES

    def __init__(
        self,
        N,
        model,
        method=None,
        threshold=None,
        reset=None,
        refractory=False,
        events=None,
        namespace=None,
        dtype=None,
        dt=None,
        clock=None,
        order=0,
        name="neurongroup*",
        method_options=None,
    ):
        super().__init__(N, name, "groups", order, namespace)
        self._dtypes = StorageTypes(dtype, f"{type(self).__name__} {self.name!r}", self._floats)
        self.clock = choose_clock(dt, clock, f"NeuronGroup {self.name!r}")
        try:
            self.equations = model if isinstance(model, Equations) else Equations(model)
        except ExpressionError as error:
            raise error.with_context(f"NeuronGroup {self.name!r}") from None
        for equation in self.equations:
            misplaced = equation.flags & SYNAPTIC_FLAGS
            if misplaced:
                raise EquationError(
                    f"the flag {sorted(misplaced)[0]!r} is only for synapses",
                    equation.text,
                    f"NeuronGroup {self.name!r}",
                )
            if equation.flags & SPATIAL_FLAGS:
                raise EquationError(
                    "the flag 'point current' is only for a SpatialNeuron's equations",
                    equation.text,
                    f"NeuronGroup {self.name!r}",
                )
        for equation in self.equations:
            names = equation.expression.free_symbols if equation.expression is not None else ()
            noises = {s.name for s in names if is_noise(s.name)}
            # Brian2: a subexpression may use a named noise term (xi_1...), not xi itself;
            # it then only works inside the differential equations that use the subexpression
            if (
                equation.kind != DIFFERENTIAL
                and noises
                and (equation.kind != SUBEXPRESSION or "xi" in noises)
            ):
                raise EquationError(
                    "noise (xi) can only appear in differential equations (a subexpression "
                    "may use a named noise term such as xi_1)",
                    equation.text,
                    f"NeuronGroup {self.name!r}",
                )
        self._hold_constant_over_dt(f"NeuronGroup {self.name!r}")
        self.method = method
        try:
            self.method_options = check_method_options(method, method_options)
        except IntegrationError as error:
            raise error.with_context(f"NeuronGroup {self.name!r}") from None
        self.method_used: str | None = None
        self.threshold = threshold
        self.reset = reset
        self.refractory = refractory
        self._set_up_events(events)
        self._build_variables()
        self._parse_threshold_and_reset()
        self._spikes = np.zeros(self.N + 1, dtype=np.int32)
        self._add_constant_over_dt_updater()
        self._frozen = True
        self._prefetch_integration()

    def _build_variables(self) -> None:
        for equation in self.equations:
            if equation.kind == SUBEXPRESSION:
                variable = Variable(
                    equation.name,
                    equation.dimension,
                    None,
                    equation.var_type,
                    read_only=True,
                    shared="shared" in equation.flags,
                    expression=equation.expression,
                )
                variable.expression_text = equation.expression_text
            elif "linked" in equation.flags:  # values in another group: see linked_var
                variable = Variable(
                    equation.name, equation.dimension, None, equation.var_type, linked=True
                )
            else:
                variable = make_variable(
                    equation.name,
                    equation.dimension,
                    self.N,
                    equation.var_type,
                    self._dtypes(equation.name, equation.var_type),
                    constant="constant" in equation.flags,
                    shared="shared" in equation.flags,
                )
            self.variables[equation.name] = variable
        self.variables["i"] = Variable(
            "i", DIMENSIONLESS, np.arange(self.N, dtype=np.int32), "integer", read_only=True
        )
        self._check_shared_subexpressions()
        self._dtypes.check_names(equation.name for equation in self.equations)
        if self.refractory is not False and self.refractory is not None:
            for name in ("lastspike", "not_refractory"):
                if name in self.equations:
                    raise EquationError(
                        f"{name!r} is defined by spikeforge for refractoriness", context=repr(self)
                    )
            self.variables["lastspike"] = make_variable("lastspike", SECOND, self.N)
            self.variables["lastspike"].array[:] = NEVER
            self.variables["not_refractory"] = make_variable(
                "not_refractory", DIMENSIONLESS, self.N, "boolean"
            )
            self.variables["not_refractory"].array[:] = True

    # state: the buffers of custom events (who had the event in the last step) -------------------
    def _full_state(self) -> dict:
        full = super()._full_state()
        if self._custom_events:
            full["events"] = {
                name: event.buffer.copy() for name, event in self._custom_events.items()
            }
        return full

    def _check_full_state(self, full: dict) -> None:
        super()._check_full_state(full)
        stored = full.get("events", {})
        events = self._custom_events
        if set(stored) != set(events) or any(
            np.shape(stored[name]) != event.buffer.shape for name, event in events.items()
        ):
            raise state_problem(self, "its events do not match the group's")

    def _restore_from_full_state(self, full: dict) -> None:
        super()._restore_from_full_state(full)
        for name, event in self._custom_events.items():
            event.buffer[...] = full["events"][name]

    @property
    def has_refractoriness(self) -> bool:
        return "not_refractory" in self.variables

    def _parse_threshold_and_reset(self) -> None:
        owner = f"NeuronGroup {self.name!r}"
        self._threshold_expr = None
        if self.threshold is not None:
            try:
                self._threshold_expr = parse_expression(self.threshold)
            except ExpressionError as error:
                raise error.with_context(f"{owner}, threshold") from None
            if not is_boolean(self._threshold_expr):
                raise ExpressionError(
                    "the threshold must be a condition (such as 'v > v_th'), not a value",
                    self.threshold,
                    f"{owner}, threshold",
                )
        self._reset_statements: list[Statement] = []
        if self.reset is not None:
            if self.threshold is None:
                raise ValueError(f"{owner}: a reset needs a threshold")
            try:
                self._reset_statements = parse_statements(self.reset)
            except ExpressionError as error:
                raise error.with_context(f"{owner}, reset") from None
            self._check_code(self._reset_statements, "reset")
        self._refractory_expr = None
        if isinstance(self.refractory, str):
            try:
                self._refractory_expr = parse_expression(self.refractory)
            except ExpressionError as error:
                raise error.with_context(f"{owner}, refractory") from None
        elif self.refractory is not False and self.refractory is not None:
            if get_dimensions(self.refractory) != SECOND:
                raise units.DimensionMismatchError(
                    f"{owner}: refractory must be a time, a string or False, "
                    f"got {self.refractory!r}",
                    get_dimensions(self.refractory),
                )
            period = float(np.asarray(self.refractory))
            if not (np.isfinite(period) and period >= 0):
                raise ValueError(
                    f"{owner}: the refractory period must be finite and not negative, "
                    f"got {self.refractory!r}"
                )

    # custom events --------------------------------------------------------------------------
    def _set_up_events(self, events) -> None:
        """Check ``events=``: ``'spike'`` becomes the threshold, the others custom events."""
        owner = f"NeuronGroup {self.name!r}"
        self._custom_events: dict[str, _CustomEvent] = {}
        self._spike_slot: tuple[str, int | None] | None = None  # from set_event_schedule
        self._spike_action: _EventAction | None = None  # run_on_event('spike') without reset=
        if events is None:
            return
        if not isinstance(events, dict):
            raise TypeError(f"{owner}: events must be a dict {{'name': 'condition'}}")
        for name, condition in events.items():
            if not isinstance(name, str):
                raise TypeError(f"{owner}: event names must be strings, got {name!r}")
            if not (name.isidentifier() and name.isascii()):
                raise TypeError(f"{owner}: {name!r} cannot be used as an event name")
            if not isinstance(condition, str):
                raise TypeError(
                    f"{owner}: the condition of the event {name!r} must be a string, "
                    f"got {condition!r}"
                )
            if name == "spike":
                if self.threshold is not None:
                    raise ValueError(f"{owner}: threshold= and events['spike'] both define spikes")
                self.threshold = condition
                continue
            where = f"{owner}, event {name!r}"
            try:
                expression = parse_expression(condition)
            except ExpressionError as error:
                raise error.with_context(where) from None
            if not is_boolean(expression):
                raise ExpressionError(
                    "an event needs a condition (such as 'v > v_th'), not a value",
                    condition,
                    where,
                )
            buffer = np.zeros(self.N + 1, dtype=np.int32)
            self._custom_events[name] = _CustomEvent(condition, expression, buffer)

    @property
    def events(self) -> dict[str, str]:
        """The events of the group, ``{'name': 'condition'}`` (``'spike'``: the threshold)."""
        events = {} if self.threshold is None else {"spike": self.threshold}
        events.update({name: event.condition for name, event in self._custom_events.items()})
        return events

    def _check_event(self, event: str) -> None:
        if event not in self.events:
            hint = " (the group has no threshold)" if event == "spike" else ""
            raise ValueError(f"NeuronGroup {self.name!r} has no event {event!r}{hint}")

    def run_on_event(self, event: str, code: str, when: str = "after_resets", order=None) -> None:
        """Run the statements ``code`` for each neuron that had ``event`` in the current step,
        in the slot ``when`` (by default ``after_resets``) at ``order`` (by default the group's).
        Each event takes one block of code (for ``'spike'``, ``reset=`` is that block)."""
        owner = f"NeuronGroup {self.name!r}"
        self._check_event(event)
        schedule_position(when)
        text = getattr(code, "code", code)
        if not isinstance(text, str):
            raise TypeError(f"{owner}: run_on_event needs statements as a string, got {code!r}")
        taken = (
            self.reset is not None or self._spike_action is not None
            if event == "spike"
            else self._custom_events[event].action is not None
        )
        if taken:
            raise ValueError(f"{owner}: code for the event {event!r} has already been given")
        where = f"run_on_event({event!r})"
        try:
            statements = parse_statements(text)
        except ExpressionError as error:
            raise error.with_context(f"{owner}, {where}") from None
        self._check_code(statements, where)
        action = _EventAction(statements, when, None if order is None else int(order))
        if event == "spike":
            self._spike_action = action
        else:
            self._custom_events[event].action = action

    def set_event_schedule(self, event: str, when: str = "after_thresholds", order=None) -> None:
        """Check the condition of ``event`` in the slot ``when`` at ``order`` (by default the
        group's order)."""
        self._check_event(event)
        schedule_position(when)
        slot = (when, None if order is None else int(order))
        if event == "spike":
            self._spike_slot = slot
        else:
            self._custom_events[event].when, self._custom_events[event].order = slot

    def _event_slot(self, event: str) -> tuple[str, int]:
        """Where in the schedule the condition of ``event`` is checked: ``(when, order)``."""
        if event == "spike":
            when, order = self._spike_slot or ("thresholds", None)
        else:
            when, order = self._custom_events[event].when, self._custom_events[event].order
        return when, self.order if order is None else order

    def _event_buffer(self, event: str) -> tuple[str, np.ndarray]:
        """The name (for module arguments) and array of the buffer of ``event``: the indices of
        the neurons with the event in the current step, their count at index ``N``."""
        if event == "spike":
            return "spikes", self._spikes
        self._check_event(event)
        # positional, so that the generated code does not depend on the names of the events
        return f"_ev{list(self._custom_events).index(event)}", self._custom_events[event].buffer

    def _event_names(self, event: str, prefix: str) -> tuple[str, str]:
        """The generated names of the condition and action roles of ``event`` (positional for
        custom events, so that the source does not depend on the names of the events)."""
        if event == "spike":
            return f"{prefix}_thresholder", f"{prefix}_spike_actions"
        k = list(self._custom_events).index(event)
        return f"{prefix}_event{k}_thresholder", f"{prefix}_event{k}_actions"

    def _event_action(self, event: str):
        """The statements run on ``event`` as ``(statements, when, order, where, is_reset)``,
        or None: for spikes the reset, or ``run_on_event('spike', ...)``."""
        if event == "spike" and self._reset_statements:
            return self._reset_statements, "resets", self.order, "reset", True
        action = self._spike_action if event == "spike" else self._custom_events[event].action
        if action is None:
            return None
        order = self.order if action.order is None else action.order
        return action.statements, action.when, order, f"run_on_event({event!r})", False

    def _event_roles(self, event: str, context: BuildContext, scope: GroupScope) -> list[Role]:
        """The roles of one event, spikes or custom: its condition, which fills the event's
        buffer, and the statements run for the neurons in it."""
        owner = f"NeuronGroup {self.name!r}"
        spike = event == "spike"
        prefix = context.prefix(self)
        condition_name, action_name = self._event_names(event, prefix)
        if spike:
            text, expression, what = self.threshold, self._threshold_expr, "threshold"
        else:
            custom = self._custom_events[event]
            text, expression, what = custom.condition, custom.expression, f"event {event!r}"
        condition = self._substitute(expression)
        refractory = spike and self.has_refractoriness  # custom events ignore refractoriness
        try:
            check_dimension(
                condition, scope, None, text, "the threshold" if spike else "the condition"
            )
            extra_reads = ()
            if refractory:
                condition = sympy.And(condition, sympy.Ne(symbol("not_refractory"), 0))
                extra_reads = ("lastspike", "not_refractory")
            code = translate([], scope, condition=condition, extra_reads=extra_reads)
        except ExpressionError as error:
            raise error.with_context(f"{owner}, {what}") from None
        buffer_name, buffer = self._event_buffer(event)
        buffer_static = context.array(self, buffer_name, buffer)
        roles = [
            Role(
                condition_name,
                "threshold.pyx.j2",
                "threshold" if spike else "condition of a custom event",
                code,
                *self._event_slot(event),
                {"size": scope.size_static(), "spikes": buffer_static, "refractory": refractory},
            )
        ]
        action = self._event_action(event)
        if action is not None:
            statements, when, order, where, is_reset = action
            checked = self._checked_statements(statements, scope, where)
            roles.append(
                Role(
                    f"{prefix}_resetter" if is_reset else action_name,
                    "reset.pyx.j2",
                    "reset" if is_reset else "statements run on an event",
                    self._translate(checked, scope, where),
                    when,
                    order,
                    {"size": scope.size_static(), "spikes": buffer_static},
                )
            )
        return roles

    def writes_only_when_not_refractory(self, name: str) -> bool:
        """Whether writes to ``name`` from other objects (synapses, PoissonInput) are ignored
        while a neuron is refractory: Brian2's rule for variables flagged
        ``(unless refractory)`` in a group with refractoriness."""
        equation = self.equations.equations.get(name)
        return (
            self.has_refractoriness
            and equation is not None
            and "unless refractory" in equation.flags
        )

    def _noise_names(self) -> set[str]:
        names = set()
        for equation in self.equations:
            if equation.kind in (DIFFERENTIAL, SUBEXPRESSION):
                names |= {s.name for s in equation.expression.free_symbols if is_noise(s.name)}
        return names

    def _unknown_target(self, target: str) -> str:
        return (
            f"assignment to {target!r}, which is not a variable of the model "
            f"(variables: {', '.join(sorted(n for n in self.variables if n != 'i'))})"
        )

    def _check_target(self, statement: Statement, where: str) -> None:
        owner = f"NeuronGroup {self.name!r}, {where} line {statement.line_number}"
        variable = self.variables[statement.target]
        if not (variable.has_storage or variable.linked) or variable.read_only:
            raise ExpressionError(
                f"{statement.target!r} cannot be assigned to (it is a subexpression or read-only)",
                statement.text,
                owner,
            )
        if variable.constant:
            raise ExpressionError(
                f"{statement.target!r} is a constant parameter and cannot change during a run",
                statement.text,
                owner,
            )

    def _substitute(self, expr):
        return linked_subexpressions(self, self.equations.substituted(expr))

    # the roles ------------------------------------------------------------------------------------
    def roles(self, context: BuildContext) -> list[Role]:
        owner = f"NeuronGroup {self.name!r}"
        namespace = self.namespace if self.namespace is not None else context.namespace
        scope = GroupScope(self, context, namespace)
        dims = scope.dimensions()
        for name in self._noise_names():
            dims[name] = NOISE_DIMENSION
        self.equations.check_units(dims, owner)
        prefix = context.prefix(self)
        roles = []
        update = self._state_update_statements(scope, owner)
        if update:
            code = self._translate(update, scope, "equations")
            roles.append(
                Role(
                    f"{prefix}_stateupdate",
                    "stateupdate.pyx.j2",
                    f"state update ({self.method_used})",
                    code,
                    "groups",
                    self.order,
                    {"size": scope.size_static()},
                )
            )
        for event in self.events:
            roles += self._event_roles(event, context, scope)
        return roles

    def _translate(self, statements, scope, what):
        try:
            return translate(statements, scope)
        except ExpressionError as error:
            raise error.with_context(f"NeuronGroup {self.name!r}, {what}") from None

    def _integration_inputs(self, function_lookup):
        """What the state updater integrates: the names, their derivatives, the flagged names
        that keep their value while refractory (others integrate through), and the functions
        whose calls are constant over a step.  ``function_lookup(name)`` gives the namespace
        value of a function name; None for no differential equations."""
        differential = self.equations.of_kind(DIFFERENTIAL)
        if not differential:
            return None
        names = [eq.name for eq in differential]
        derivatives = [self._substitute(eq.expression) for eq in differential]
        flagged = {eq.name for eq in differential if "unless refractory" in eq.flags}
        if not self.has_refractoriness:
            flagged = set()
        # A flagged variable that others depend on must stop inside the integration (Brian2
        # multiplies its derivative by not_refractory); otherwise it is cheaper, and the same,
        # to integrate freely and keep the old value while refractory.
        coupled = any(
            symbol(name) in f.free_symbols
            for name in flagged
            for other, f in zip(names, derivatives)
            if other != name
        )
        if coupled:
            derivatives = [
                f * symbol("not_refractory") if name in flagged else f
                for name, f in zip(names, derivatives)
            ]
            flagged = set()  # handled inside
        constant_calls = locally_constant_functions(
            set().union(*(user_function_names(f) for f in derivatives)),
            function_lookup,
            self.clock.dt_,
        )
        return names, derivatives, flagged, constant_calls

    def _prefetch_integration(self) -> None:
        """Start the symbolic integration in the background (see stateupdaters.prefetch): by
        the time run() needs it, it is usually done.  Only for equations that call no user
        function (those depend on the namespace at run time)."""
        if any(user_function_names(eq.expression) for eq in self.equations.of_kind(DIFFERENTIAL)):
            return
        try:
            inputs = self._integration_inputs(lambda name: None)
        except Exception:  # reported by run(), with its context
            return
        if inputs is not None:
            names, derivatives, _, constant_calls = inputs
            prefetch(names, derivatives, self.method, constant_calls)

    def _state_update_statements(self, scope: GroupScope, owner: str):
        statements = []
        if self.has_refractoriness:
            statements.append(("not_refractory", self._not_refractory_expression(scope, owner)))
        try:
            inputs = self._integration_inputs(lambda name: scope.namespace.get(name))
            if inputs is None:
                return statements
            names, derivatives, flagged, constant_calls = inputs
            self.method_used, updates = integrate(names, derivatives, self.method, constant_calls)
        except IntegrationError as error:
            raise error.with_context(f"{owner}, equations") from None
        if flagged:
            keep = sympy.Ne(symbol("not_refractory"), 0)
            updates = [
                (target, sympy.Piecewise((expr, keep), (symbol(target), True)))
                if target in flagged
                else (target, expr)
                for target, expr in updates
            ]
        return statements + updates

    def _not_refractory_expression(self, scope: GroupScope, owner: str):
        t, dt, lastspike = symbol("t"), symbol("dt"), symbol("lastspike")
        if self._refractory_expr is None:
            scope.internal["refractory_period"] = None
            period = symbol("refractory")
            static = scope.context.scalar(
                self, "refractory", lambda: float(np.asarray(self.refractory))
            )
            scope.internal["refractory"] = Resolved("scalar", static=static)
            scope.internal.pop("refractory_period")
            scope.internal_dimensions["refractory"] = SECOND
            return sympy.GreaterThan(timestep(t - lastspike, dt), timestep(period, dt))
        expr = self._substitute(self._refractory_expr)
        if is_boolean(expr):
            try:
                check_dimension(expr, scope, None, self.refractory, "refractory")
            except ExpressionError as error:
                raise error.with_context(f"{owner}, refractory") from None
            # refractory while the condition holds, from the spike on
            return sympy.Or(sympy.Ne(symbol("not_refractory"), 0), sympy.Not(expr))
        try:
            check_dimension(expr, scope, SECOND, self.refractory, "the refractory period")
        except ExpressionError as error:
            raise error.with_context(f"{owner}, refractory") from None
        return sympy.GreaterThan(timestep(t - lastspike, dt), timestep(expr, dt))

    @property
    def spikes(self) -> np.ndarray:
        """Indices of the neurons that spiked in the last time step."""
        return self._spikes[: self._spikes[self.N]].copy()
