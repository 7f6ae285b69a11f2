"""User functions in model code: ``Function`` with a Cython implementation, and ``TimedArray``.

Both are found through the namespace, like an external constant: ``dv/dt = (f(v) - v)/tau`` calls
whatever ``f`` is where ``run()`` is called (or in the object's ``namespace``).  Their units are
checked when the network is built (``arg_units``/``return_unit``, or ``@check_units``), and the
generated module calls them from its native loop.

**User code in the generated module.**  A ``Function`` is called from generated Cython, so it needs
a Cython implementation, given by the user with ``@implementation('cython', code)``.  That code
is the user's own code and goes into the generated module as written: it is the one exception to
"user text reaches generated code only through the parser and the printer".  spikeforge neither
parses nor checks it, so only use code you trust, as you would run any Python module of yours.
It is placed at module level with three adaptations: its common indentation is removed; the
header of each of its functions (a one-line ``cdef``/``cpdef`` header) that is not ``nogil`` gets
``noexcept nogil``, because the loop runs without the GIL (so the code can use C types and
``libc`` functions, not Python objects); and, as in Brian2, calls of a dependency are renamed when
the dependency's Cython name differs from the name the code calls it by.  The module already has
``exp``, ``log``, ``sqrt``, ``sin``... ``fabs``, ``floor``, ``ceil``, ``pow``, ``INFINITY`` and
``NAN`` from ``libc.math``.

**TimedArray values are data, not code.**  A ``TimedArray``'s values reach the module as an array
argument (a pointer), and its sizes and time grid as scalar arguments.  The lookup function is
the same for every ``TimedArray``, so changing the values, their number or ``dt`` compiles
nothing.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Mapping

import numpy as np

from spikeforge import units
from spikeforge.codegen.expressions import (
    RESERVED_NAMES,
    SPECIAL_NAMES,
    ExpressionError,
    UserFunction,
    UserFunctionError,
)
from spikeforge.codegen.translate import Resolved
from spikeforge.model.clock import defaultclock
from spikeforge.units import DIMENSIONLESS, Dimension, Quantity, get_dimensions

__all__ = ["Function", "TimedArray", "implementation", "declare_types"]

SECOND = units.second.dim
ARG_TYPES = ("boolean", "integer", "float", "any")
RETURN_TYPES = ("boolean", "integer", "float", "highest")


# ---------------------------------------------------------------------------------------------
# Implementations
# ---------------------------------------------------------------------------------------------


class FunctionImplementation:
    """The code of a function for one target: ``code`` (a string for ``'cython'``), the name
    it defines (``name``; by default the name the model uses), and the functions it calls
    (``dependencies``: model name -> :class:`Function`)."""

    def __init__(self, name=None, code=None, namespace=None, dependencies=None, compiler_kwds=None):
        self.name = name
        self.code = code
        self.namespace = namespace
        self.dependencies = dict(dependencies or {})
        self.compiler_kwds = dict(compiler_kwds or {})


class FunctionImplementations(Mapping):
    """A function's implementations by target name (``'cython'``; spikeforge generates no other
    language, but implementations for other targets may be stored for Brian2 compatibility)."""

    def __init__(self):
        self._implementations: dict[str, FunctionImplementation] = {}

    def add_implementation(
        self,
        target,
        code,
        namespace=None,
        dependencies=None,
        availability_check=None,
        name=None,
        compiler_kwds=None,
    ):
        """Add (or replace) the implementation for ``target``."""
        if not isinstance(target, str):
            raise TypeError(
                f"the target of an implementation is a name such as 'cython', got {target!r}"
            )
        if target == "cython":
            if code is not None and not isinstance(code, str):
                raise TypeError("a Cython implementation is a string of Cython code")
            if code is None and name is None:
                raise TypeError(
                    "a Cython implementation without code must name the existing Cython "
                    "function to call (name=...)"
                )
            if name is not None and not _is_function_name(name):
                raise ValueError(
                    f"{name!r} cannot be the name of a Cython function in generated code (use a "
                    "plain identifier that does not start with an underscore and is not a "
                    "reserved word)"
                )
            if namespace:
                raise NotImplementedError(
                    "namespace= for Cython implementations is not supported by spikeforge; "
                    "write the values into the code or use a TimedArray"
                )
            if compiler_kwds:
                raise NotImplementedError(
                    "compiler options for Cython implementations (libraries, sources, ...) are "
                    f"not supported by spikeforge (got {', '.join(sorted(compiler_kwds))})"
                )
        if availability_check is not None:
            availability_check()
        self._implementations[target] = FunctionImplementation(
            name, code, namespace, dependencies, compiler_kwds
        )

    def __getitem__(self, target) -> FunctionImplementation:
        try:
            return self._implementations[target]
        except KeyError:
            available = ", ".join(self._implementations) or "none"
            raise KeyError(
                f"no implementation for the target {target!r} (available: {available})"
            ) from None

    def __iter__(self):
        return iter(self._implementations)

    def __len__(self) -> int:
        return len(self._implementations)


def _is_function_name(name) -> bool:
    return (
        isinstance(name, str)
        and name.isidentifier()
        and name.isascii()
        and not name.startswith("_")
        and name not in RESERVED_NAMES
        and name not in SPECIAL_NAMES
    )


# ---------------------------------------------------------------------------------------------
# Units of arguments and results
# ---------------------------------------------------------------------------------------------

_ANY = object()  # an argument whose units are not checked (unit None)


def _expected_dimension(unit, arg_names, dims):
    """The dimension an argument with the declared ``unit`` needs, given the other arguments'
    dimensions (a string names another argument); ``_ANY`` for no check."""
    if unit is None:
        return _ANY
    if unit is bool:
        return DIMENSIONLESS
    if isinstance(unit, str):
        return dims[arg_names.index(unit)]
    return get_dimensions(unit)


def _unit_declaration(unit, arg_names, what) -> None:
    """Reject declarations that cannot be a unit (when the Function is made, not when used)."""
    if unit is None or unit is bool:
        return
    if isinstance(unit, str):
        if unit not in arg_names:
            raise ValueError(f"{what} refers to {unit!r}, which is not an argument")
        return
    try:
        get_dimensions(unit)
    except TypeError:
        raise TypeError(
            f"{what} must be a unit, 1, bool, None or an argument name, got {unit!r}"
        ) from None


def _signature_names(pyfunc) -> list[str] | None:
    try:
        parameters = inspect.signature(pyfunc).parameters.values()
    except (TypeError, ValueError):
        return None
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


# ---------------------------------------------------------------------------------------------
# Function
# ---------------------------------------------------------------------------------------------


class Function(UserFunction):
    """A function that model code can call (Brian2's ``Function``).

    Parameters
    ----------
    pyfunc
        The Python version (used when called from Python).  If it is decorated with
        ``@check_units(x=..., result=...)``, the units come from there.
    sympy_func
        Accepted for compatibility; spikeforge treats user functions as opaque.
    arg_units
        The units of the arguments, in order (a unit, ``1``, ``bool``, ``None`` for any, or the
        name of another argument whose units must match), if ``pyfunc`` does not declare them.
    arg_names
        The names of the arguments (for messages, and needed if ``arg_units`` names arguments).
    return_unit
        The unit of the result, or a function of the arguments' dimensions giving it.
    arg_types, return_type
        ``'boolean'``, ``'integer'``, ``'float'``, ``'any'`` (``'highest'`` for the result).
    stateless
        Whether equal arguments always give equal results (the default).  Only calls of stateless
        functions whose arguments are the same for all elements are computed once per step instead
        of once per element.
    auto_vectorise
        Not supported by spikeforge (must be False).

    In generated code the function needs a Cython implementation (see :func:`implementation`);
    spikeforge's loop runs natively and cannot call ``pyfunc``.
    """

    def __init__(
        self,
        pyfunc,
        sympy_func=None,
        arg_units=None,
        arg_names=None,
        return_unit=None,
        arg_types=None,
        return_type=None,
        stateless=True,
        auto_vectorise=False,
    ):
        self.pyfunc = pyfunc
        self.sympy_func = sympy_func
        self.stateless = bool(stateless)
        self.auto_vectorise = bool(auto_vectorise)
        self.implementations = FunctionImplementations()
        label = getattr(pyfunc, "__name__", repr(pyfunc))
        declared_names = getattr(pyfunc, "_arg_names", None) or _signature_names(pyfunc)
        if arg_units is None:
            declared = getattr(pyfunc, "_arg_units", None)
            if declared is None:
                raise ValueError(
                    f"the Python function {label!r} does not say how it deals with units: "
                    "decorate it with @check_units(...) or give arg_units="
                )
            if isinstance(declared, Mapping):  # spikeforge's check_units: name -> unit
                names = list(declared_names or [])
                missing = [n for n in names if n not in declared]
                if missing:
                    raise ValueError(
                        f"the Python function {label!r} does not declare the units of all its "
                        f"arguments (missing: {', '.join(missing)})"
                    )
                arg_units = [declared[n] for n in names]
            else:
                arg_units = list(declared)
        arg_units = list(arg_units)
        if arg_names is None:
            arg_names = declared_names
            if arg_names is None or len(arg_names) != len(arg_units):
                arg_names = [f"arg{k}" for k in range(len(arg_units))]
        arg_names = list(arg_names)
        if len(arg_names) != len(arg_units):
            raise TypeError(
                f"arg_names and arg_units need the same length ({len(arg_names)} != "
                f"{len(arg_units)})"
            )
        if return_unit is None:
            if not hasattr(pyfunc, "_return_unit") or pyfunc._return_unit is None:
                raise ValueError(
                    f"the Python function {label!r} does not declare the unit of its result: "
                    "use @check_units(..., result=...) or give return_unit="
                )
            return_unit = pyfunc._return_unit
        for name, unit in zip(arg_names, arg_units):
            _unit_declaration(unit, arg_names, f"the unit of the argument {name!r} of {label}")
        if not callable(return_unit) or isinstance(return_unit, (Quantity, Dimension, type)):
            _unit_declaration(return_unit, arg_names, f"the unit of the result of {label}")
        if arg_types is None:
            arg_types = getattr(pyfunc, "_arg_types", None) or ["any"] * len(arg_units)
        if return_type is None:
            return_type = getattr(pyfunc, "_return_type", "float")
        for arg_type in arg_types:
            if arg_type not in ARG_TYPES:
                raise ValueError(f"argument type {arg_type!r} is not one of {ARG_TYPES}")
        if return_type not in RETURN_TYPES and not callable(return_type):
            raise ValueError(f"return type {return_type!r} is not one of {RETURN_TYPES}")
        self._arg_units = arg_units
        self._arg_names = arg_names
        self._return_unit = return_unit
        self._arg_types = list(arg_types)
        self._return_type = return_type

    def __call__(self, *args):
        return self.pyfunc(*args)

    def __repr__(self) -> str:
        return f"<Function {getattr(self.pyfunc, '__name__', self.pyfunc)!r}>"

    def is_locally_constant(self, dt) -> bool:
        """Whether, as a function of time, the result is constant over one step (never known)."""
        return False

    # units ------------------------------------------------------------------------------------
    def call_dimension(self, name: str, dims: list[Dimension], text: str | None) -> Dimension:
        if len(dims) != len(self._arg_units):
            raise ExpressionError(
                f"{name}() takes {len(self._arg_units)} argument(s) "
                f"({', '.join(self._arg_names)}), but {len(dims)} were given",
                text,
            )
        for arg_name, unit, dim in zip(self._arg_names, self._arg_units, dims):
            expected = _expected_dimension(unit, self._arg_names, dims)
            if expected is not _ANY and dim != expected:
                raise ExpressionError(
                    f"the argument {arg_name} of {name}() must have units of {expected}, but "
                    f"has units of {dim}",
                    text,
                )
        unit = self._return_unit
        if unit is bool:
            return DIMENSIONLESS
        if isinstance(unit, str):
            return dims[self._arg_names.index(unit)]
        if callable(unit) and not isinstance(unit, (Quantity, Dimension, type)):
            return get_dimensions(unit(*dims))
        return get_dimensions(unit)

    # generated code -----------------------------------------------------------------------------
    def resolve_call(self, name: str, context, owner=None) -> Resolved:
        """Add this function's Cython code to the module of ``context``; how calls are printed."""
        if self.auto_vectorise:
            raise UserFunctionError(
                f"the Function {name}() is auto_vectorise=True, which spikeforge does not support"
            )
        cname = _register_cython(name, self, context, ())
        count = len(self._arg_units)

        def call(args: list[str]) -> str:
            if len(args) != count:
                raise UserFunctionError(f"{name}() takes {count} argument(s), got {len(args)}")
            return f"{cname}({', '.join(args)})"

        return Resolved("function", literal=cname, call=call, pure=self.stateless)


def _cython_implementation(name: str, function: Function) -> FunctionImplementation:
    if "cython" not in function.implementations:
        raise UserFunctionError(
            f"the Function {name}() has no Cython implementation.  spikeforge runs the whole "
            "simulation loop in generated native code and has no Python fallback there, so it "
            f"cannot call the Python function; give it Cython code with "
            f"@implementation('cython', '''cdef double {name}(double x): ...''') "
            "(above @check_units), or add one with "
            f"{name}.implementations.add_implementation('cython', code)"
        )
    return function.implementations["cython"]


def _register_cython(name: str, function: Function, context, chain: tuple) -> str:
    """Add the Cython code of ``function`` (called ``name`` by its caller) and of the functions it
    depends on to the module; returns the name of the Cython function to call."""
    if any(f is function for f in chain):
        raise UserFunctionError(f"the Cython implementation of {name}() depends on itself")
    implementation_ = _cython_implementation(name, function)
    cname = implementation_.name or name
    if not _is_function_name(cname):
        raise UserFunctionError(
            f"{cname!r} cannot be the name of the Cython function for {name}() (give "
            "implementation(..., name=...) a plain identifier)"
        )
    code = implementation_.code
    if code is None:  # an existing function of the module (libc.math...)
        return cname
    if cname in _MODULE_NAMES or cname.startswith("spikeforge_"):
        raise UserFunctionError(
            f"the Cython function for {name}() cannot be called {cname!r}: the generated module "
            "already has that name (pass implementation(..., name=...) another name)"
        )
    code = textwrap.dedent(code).strip("\n")
    for dependency_name, dependency in implementation_.dependencies.items():
        if not isinstance(dependency, Function):
            raise UserFunctionError(
                f"the dependency {dependency_name!r} of {name}() is not a Function"
            )
        dependency_impl = _cython_implementation(dependency_name, dependency)
        default = getattr(dependency.pyfunc, "__name__", dependency_name)
        called = _register_cython(
            dependency_impl.name or default, dependency, context, (*chain, function)
        )
        if called != dependency_name:  # the code calls it by its model name
            code = re.sub(rf"\b{re.escape(dependency_name)}\b", called, code)
    if not _defines(code, cname):
        raise UserFunctionError(
            f"the Cython implementation of {name}() does not define a function named {cname!r} "
            "(name the function in the code as in the model, or pass name=...)"
        )
    block = f"# user code: the Cython implementation of {cname}()\n{_without_gil(code)}"
    for existing in context.support_code:
        if existing != block and _defines(existing, cname):
            raise UserFunctionError(
                f"two different Cython implementations define {cname!r} in one network; "
                "rename one (implementation(..., name=...))"
            )
    context.add_support_code(block)
    return cname


#: Names the generated module defines or imports itself.
_MODULE_NAMES = frozenset(
    """exp log sqrt sin cos tan asin acos atan sinh cosh tanh fabs floor ceil pow vector
    DynamicArray2D SpikeQueue PyCapsule_GetPointer run_steps run_roles""".split()
)


def _defines(code: str, cname: str) -> bool:
    return re.search(rf"^\s*cp?def\b[^\n(]*\b{re.escape(cname)}\s*\(", code, re.M) is not None


_HEADER = re.compile(
    r"^(?P<head>[ \t]*cp?def\s+(?!extern\b|class\b|struct\b|union\b|enum\b|packed\b)"
    r"[^\n#:=]*\([^\n#]*?\)(?P<tail>[^\n#:]*?))[ \t]*:(?P<rest>[^\n]*)$",
    re.M,
)


def _without_gil(code: str) -> str:
    """Declare the one-line ``cdef`` function headers of user code ``nogil`` (and ``noexcept``
    when they say nothing about exceptions): the generated loop calls them without the GIL."""

    def adapt(match):
        head, tail = match.group("head"), match.group("tail")
        if re.search(r"\bnogil\b", tail):
            return match.group(0)
        addition = " nogil" if re.search(r"\b(no)?except\b", tail) else " noexcept nogil"
        return f"{head}{addition}:{match.group('rest')}"

    return _HEADER.sub(adapt, code)


def implementation(
    target,
    code=None,
    namespace=None,
    dependencies=None,
    discard_units=None,
    name=None,
    **compiler_kwds,
):
    """Decorator giving a function an implementation for a code generation target (Brian2's).

    Use it above ``@check_units`` (it makes the :class:`Function`)::

        @implementation('cython', '''
            cdef double squash(double x):
                return x/(1 + fabs(x))
            ''')
        @check_units(x=1, result=1)
        def squash(x):
            return x/(1 + abs(x))

    spikeforge generates Cython only, so ``'cython'`` is the target it uses.  The code is the
    user's own and is compiled into the generated module as written (see this module's notes);
    ``name`` is the Cython function's name if it differs from the name used in the model.
    """

    def decorate(func):
        function = func if isinstance(func, Function) else Function(func)
        if discard_units:
            if target != "numpy" or code is not None:
                raise TypeError("discard_units only applies to 'numpy' without code")
            return function
        function.implementations.add_implementation(
            target,
            code,
            namespace=namespace,
            dependencies=dependencies,
            name=name,
            compiler_kwds=compiler_kwds,
        )
        return function

    return decorate


def declare_types(**types):
    """Decorator declaring argument and result types (``'boolean'``, ``'integer'``, ``'float'``,
    ``'any'``; ``'highest'`` for the result), as in Brian2."""

    def annotate(func):
        names = getattr(func, "_arg_names", None) or _signature_names(func) or []
        for key, value in types.items():
            if key != "result" and key not in names:
                raise ValueError(f"type given for the unknown argument {key!r}")
            allowed = RETURN_TYPES if key == "result" else ARG_TYPES
            if value not in allowed:
                raise ValueError(f"type {value!r} for {key!r} is not one of {allowed}")
        func._arg_types = [types.get(n, "any") for n in names]
        func._return_type = types.get("result", "float")
        return func

    return annotate


# ---------------------------------------------------------------------------------------------
# TimedArray
# ---------------------------------------------------------------------------------------------

_TIMEDARRAY_SUPPORT = {
    1: """\
# TimedArray lookup (Brian2's rule): the time step of t on a grid K times finer than the
# array's dt (epsilon = dt/K), rounded to the nearest step of the array, clipped to the ends.
cdef inline double _timedarray_1d(const double* values, int64_t rows, double epsilon,
                                  int64_t K, double t) noexcept nogil:
    cdef double position = (t / epsilon + 0.5) / K
    if not position >= 1.0:  # also NaN
        return values[0]
    if position >= rows:
        return values[rows - 1]
    return values[<int64_t>position]""",
    2: """\
# TimedArray lookup with an index (values[time step, i]); NaN for an index out of range.
cdef inline double _timedarray_2d(const double* values, int64_t rows, int64_t columns,
                                  double epsilon, int64_t K, double t, int64_t i) noexcept nogil:
    if i < 0 or i >= columns:
        return NAN
    cdef double position = (t / epsilon + 0.5) / K
    cdef int64_t step = 0
    if position >= rows:
        step = rows - 1
    elif position >= 1.0:
        step = <int64_t>position
    return values[step * columns + i]""",
}


def upsampling_factor(group_dt: float, dt: float) -> int:
    """Brian2's K: a power of two with ``dt/K`` at most an eighth of the group's time step, so
    that rounding finds the right value also at the intermediate times of multi-step methods."""
    return max(int(2 ** np.ceil(np.log2(8 / group_dt * dt))), 1)


def locally_constant_functions(names, lookup, dt: float) -> set[str]:
    """The names among ``names`` whose function (``lookup(name)``) is constant over a step of
    ``dt`` (a TimedArray whose dt is a multiple of it): Brian2's exact integration treats their
    calls as constant inputs over the step."""
    found = set()
    for name in names:
        function = lookup(name)
        if isinstance(function, Function) and function.is_locally_constant(dt):
            found.add(name)
    return found


def _epsilon(dt: float, K: int) -> float:
    # Brian2 writes dt into the code with 18 decimals and divides there; the same number here
    return float(f"{dt:.18f}") / K


class TimedArray(Function):
    """Values given at regular times, looked up by model code (Brian2's ``TimedArray``).

    ``TimedArray(values, dt)``: with 1-D ``values``, ``ta(t)`` is ``values[k]`` for ``t`` from
    ``k*dt`` to ``(k + 1)*dt`` (Brian2's rule: the switch comes ``dt/(2K)`` early, with K the
    power of two that makes ``dt/K`` at most an eighth of the simulation's step, so that rounding
    errors in ``t`` never pick the previous value); with 2-D values of shape (time, index),
    ``ta(t, i)`` is ``values[k, i]`` (NaN for an index out of range).  Before the start the first
    value applies, after the end the last one.  Values may have units, which the result then
    has; the first argument must be a time.
    """

    code_kind = "timedarray"

    def __init__(self, values, dt, name=None):
        dimension = get_dimensions(values)
        data = np.array(np.asarray(values), dtype=np.float64, order="C", copy=True)
        if data.ndim not in (1, 2):
            raise NotImplementedError("only 1-D and 2-D values are supported for a TimedArray")
        if data.size == 0:
            raise ValueError("a TimedArray needs at least one value")
        if get_dimensions(dt) != SECOND:
            raise units.DimensionMismatchError(
                f"the dt of a TimedArray must be a time, got {dt!r}", get_dimensions(dt)
            )
        self.dt = float(np.asarray(dt))
        if not self.dt > 0:
            raise ValueError(f"the dt of a TimedArray must be positive, got {dt!r}")
        self.name = name if name is not None else "timedarray"
        self.dim = dimension
        self._values = data
        arg_units = [units.second] if data.ndim == 1 else [units.second, 1]
        arg_names = ["t"] if data.ndim == 1 else ["t", "i"]
        super().__init__(
            self._python_lookup, arg_units=arg_units, arg_names=arg_names, return_unit=dimension
        )

    @property
    def values(self) -> np.ndarray:
        """The values (SI, float64); changing them in place changes what the next run sees."""
        return self._values

    def __repr__(self) -> str:
        return f"<TimedArray {self.name!r}: {self._values.shape} values, dt={self.dt} s>"

    def is_locally_constant(self, dt) -> bool:
        """Whether the result is constant over a step ``dt``: when this array's dt is a whole
        multiple of it."""
        dt = float(np.asarray(dt))
        if dt > self.dt:
            return False
        ratio = self.dt / dt
        return bool(np.floor(ratio) == ratio)

    def _python_lookup(self, t, i=None):
        """``ta(t)`` / ``ta(t, i)`` called from Python, on the grid of the current
        ``defaultclock.dt`` (as Brian2 does)."""
        if get_dimensions(t) != SECOND:
            raise units.DimensionMismatchError(
                f"a TimedArray is called with a time, got {t!r}", SECOND, get_dimensions(t)
            )
        K = upsampling_factor(defaultclock.dt_, self.dt)
        epsilon = self.dt / K
        rows = self._values.shape[0]
        step = np.clip(np.int_(np.round(np.asarray(t, dtype=float) / epsilon) / K), 0, rows - 1)
        if self._values.ndim == 1:
            if i is not None:
                raise TypeError("this TimedArray is 1-D: call it with t only")
            found = self._values[step]
        else:
            if i is None:
                raise TypeError("this TimedArray is 2-D: call it with t and i")
            found = self._values[step, np.asarray(i, dtype=int)]
        return Quantity(found, dim=self.dim)

    def resolve_call(self, name: str, context, owner=None) -> Resolved:
        """Pass the values and the grid as module arguments; calls go to the shared lookup.

        The grid (Brian2's K and epsilon) depends on the time step of ``owner``, the object whose
        code calls the array (the network's step if it has no clock of its own).
        """
        two_d = self._values.ndim == 2
        context.add_support_code(_TIMEDARRAY_SUPPORT[2 if two_d else 1])
        values = context.array(self, "values", lambda: self._values, np.float64)
        rows = context.scalar(self, "rows", lambda: self._values.shape[0], "int64_t")
        clock = getattr(owner, "clock", None)
        suffix = f"_{context.prefix(owner)}" if clock is not None else ""

        def group_dt() -> float:
            return clock.dt_ if clock is not None else context.dt

        K = context.scalar(
            self, f"K{suffix}", lambda: upsampling_factor(group_dt(), self.dt), "int64_t"
        )
        epsilon = context.scalar(
            self,
            f"epsilon{suffix}",
            lambda: _epsilon(self.dt, upsampling_factor(group_dt(), self.dt)),
        )
        if two_d:
            columns = context.scalar(self, "columns", lambda: self._values.shape[1], "int64_t")

            def call(args: list[str]) -> str:
                if len(args) != 2:
                    raise UserFunctionError(f"{name}() takes 2 arguments (t, i)")
                t, i = args
                return (
                    f"_timedarray_2d({values}, {rows}, {columns}, {epsilon}, {K}, {t}, "
                    f"<int64_t>({i}))"
                )

        else:

            def call(args: list[str]) -> str:
                if len(args) != 1:
                    raise UserFunctionError(f"{name}() takes 1 argument (t)")
                return f"_timedarray_1d({values}, {rows}, {epsilon}, {K}, {args[0]})"

        return Resolved("function", literal=values, call=call, pure=True)
