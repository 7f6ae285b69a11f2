"""State variables of groups, name resolution for their code, and ``group.var`` access."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from spikeforge import units
from spikeforge.codegen.expressions import ExpressionError, UserFunction, dimension_of, symbol
from spikeforge.codegen.printer import _float
from spikeforge.codegen.translate import INTEGER_DIVISION_DECLARATIONS, Resolved, Scope
from spikeforge.pipeline import IntegerDivisionByZero
from spikeforge.model.namespace import DEFAULT_NAMESPACE
from spikeforge.model.preferences import prefs
from spikeforge.runtime import containers
from spikeforge.runtime.driver import run_deferred
from spikeforge.units import DIMENSIONLESS, Dimension, Quantity, get_dimensions, get_unit

SECOND = units.second.dim
NOISE_OUTSIDE_EQUATIONS = (
    "the noise term {name!r} is only defined in differential equations; a subexpression that "
    "uses it can only be used by them (not by a threshold, reset, monitor or other code)"
)
DTYPES = {"float": np.float64, "integer": np.int32, "boolean": np.bool_}


@dataclass
class Variable:
    """One named quantity of a group: its unit, its storage and whether users may write it.

    ``expression`` is set for subexpressions (which have no storage).  ``dynamic`` is a runtime
    ``DynamicArray1D`` for variables whose size changes (synapses); ``array`` is then a view of it.
    """

    name: str
    dimension: Dimension
    storage: np.ndarray | None
    var_type: str = "float"
    constant: bool = False
    read_only: bool = False
    shared: bool = False
    expression: sympy.Expr | None = None
    dynamic: object = None
    #: For a ``(linked)`` parameter: True, and the :class:`Link` once ``linked_var`` set it.
    linked: bool = False
    link: Link | None = None

    @property
    def array(self) -> np.ndarray | None:
        """The values (a view of the C++ vector for dynamic variables)."""
        if self.dynamic is not None:
            return self.dynamic.view()
        return self.storage

    @property
    def dtype(self):
        if self.dynamic is not None:
            return np.dtype(self.dynamic.dtype)
        return None if self.storage is None else self.storage.dtype

    @property
    def has_storage(self) -> bool:
        return self.storage is not None or self.dynamic is not None


@dataclass
class Link:
    """Where a linked variable's values live: ``variable`` of ``group``, at ``index``.

    ``index`` is None (element ``i`` reads element ``i``), ``"single"`` (all read element 0),
    an int32 array (element ``i`` reads ``index[i]``, a module argument) or the name of an
    integer variable of the linking group (whose values are the indices)."""

    group: object
    variable: Variable
    index: object = None


class LinkedVariable:
    """What :func:`linked_var` returns: assign it to a ``(linked)`` parameter."""

    def __init__(self, group, name: str, index=None):
        self.group = group
        self.name = name
        self.index = index

    def __repr__(self) -> str:
        return f"linked_var({self.group.name!r}, {self.name!r})"


def has_compartment_indices(item) -> bool:
    """Whether ``item`` names compartments of a morphology (``morpho.axon[10*um]``)."""
    return hasattr(item, "_indices") and not hasattr(item, "variables")


def compartment_indices(item, group) -> np.ndarray | int:
    """The compartments ``item`` names (absolute indices in the morphology), relative to
    ``group`` (a spatial neuron or a part of it)."""
    return item._indices() - getattr(group, "start", 0)


def linked_var(group_or_variable, name: str | None = None, index=None) -> LinkedVariable:
    """A link to another group's variable, for a parameter flagged ``(linked)``:
    ``G.x = linked_var(H.y)`` or ``linked_var(H, 'y')``.

    Element ``i`` of ``G.x`` then reads and writes element ``i`` of ``H.y`` (same sizes),
    element 0 (``H`` of size 1, or a shared variable), or ``index[i]`` when ``index`` is given:
    an integer array of ``G``'s size, or the name of an integer variable of ``G`` whose values
    are the indices.  Nothing is copied: generated code uses ``H``'s array."""
    if isinstance(group_or_variable, VariableView):
        if name is not None:
            raise ValueError(
                f"linked_var({group_or_variable.group.name}.{group_or_variable.variable.name}, "
                f"{name!r}): give a variable (H.y) or a group and a name (H, 'y'), not both"
            )
        return LinkedVariable(group_or_variable.group, group_or_variable.variable.name, index)
    if name is None or not hasattr(group_or_variable, "variables"):
        raise ValueError(
            "linked_var needs a variable (linked_var(H.y)) or a group and the name of one of "
            f"its variables (linked_var(H, 'y')), got {group_or_variable!r}"
        )
    return LinkedVariable(group_or_variable, name, index)


def link_variable(group, variable: Variable, linked: LinkedVariable) -> None:
    """Check ``linked`` and make it the link of ``variable`` (``G.x = linked_var(...)``)."""
    owner = f"{type(group).__name__} {group.name!r}"
    if not variable.linked:
        raise TypeError(
            f"{owner}: {variable.name!r} is not flagged (linked), so it cannot be linked "
            f"(declare it as '{variable.name} : <unit> (linked)')"
        )
    source = linked.group
    where = f"{owner}: linking {variable.name!r} to {source.name}.{linked.name}"
    if hasattr(source, "synapse_indices"):
        raise NotImplementedError(f"{where}: linking to a synaptic variable is not supported")
    target = source.variables.get(linked.name)
    if target is None:
        raise ValueError(f"{where}: {source.name!r} has no variable {linked.name!r}")
    if not target.has_storage and not target.linked:
        used = target.expression.free_symbols if target.expression is not None else set()
        if any(s.name == "N" or s.name.startswith(LINKED_PREFIX) for s in used) or any(
            source.variables.get(s.name) is not None and source.variables[s.name].linked
            for s in source._substitute(symbol(target.name)).free_symbols
        ):
            raise NotImplementedError(
                f"{where}: linking to a subexpression that uses N or a linked variable is not "
                "supported"
            )
    if target.dimension != variable.dimension:
        raise units.DimensionMismatchError(
            f"{where}: {variable.name} has units of {variable.dimension}, "
            f"{linked.name} has {target.dimension}",
            variable.dimension,
            target.dimension,
        )
    index = linked.index
    if hasattr(group, "synapse_indices") and not (
        source.N == 1 or target.shared or isinstance(index, str)
    ):
        raise NotImplementedError(
            f"{where}: a synaptic variable can only be linked to a single value (a group of "
            "size 1 or a shared variable) or through index='name of an integer synaptic "
            "variable' (the number of synapses changes)"
        )
    if index is None:
        if source.N == group.N and not target.shared:
            pass
        elif source.N == 1 or target.shared:
            index = "single"
        else:
            raise ValueError(
                f"{where}: the groups have sizes {group.N} and {source.N}; give index= "
                "(an array or the name of an integer variable) to say which element each reads"
            )
    elif isinstance(index, str):
        index_variable = group.variables.get(index)
        if (
            index_variable is None
            or index_variable.var_type != "integer"
            or (not index_variable.has_storage)
        ):
            raise TypeError(f"{where}: index {index!r} is not an integer variable of {owner}")
    else:
        values = np.asarray(index)
        if values.dtype.kind not in "iu":
            raise TypeError(f"{where}: the index must be an integer array, got {values.dtype}")
        if values.shape != (group.N,):
            raise TypeError(
                f"{where}: the index must be one-dimensional with {group.N} elements, "
                f"got shape {values.shape}"
            )
        if len(values) and (values.min() < 0 or values.max() >= source.N):
            raise ValueError(
                f"{where}: the index has values outside 0 to {source.N - 1} "
                f"({values.min()} to {values.max()})"
            )
        index = np.ascontiguousarray(values, dtype=np.int32)
    variable.link = Link(source, target, index)


#: Names in code for the variables of a linked subexpression: ``link__x__v`` is ``v`` of the
#: group that ``x`` links to, at ``x``'s index (users cannot write ``__`` in names).
LINKED_PREFIX = "link__"


def linked_subexpressions(group, expr):
    """``expr`` with each linked variable of ``group`` that links to a subexpression replaced by
    the subexpression, whose variables become ``link__x__v`` names (see :data:`LINKED_PREFIX`)."""
    replacements = {}
    for name, variable in group.variables.items():
        link = variable.link
        if (
            link is None
            or link.variable.has_storage
            or link.variable.linked
            or symbol(name) not in expr.free_symbols
        ):
            continue
        source_expr = link.group._substitute(symbol(link.variable.name))
        renames = {
            s: symbol(f"{LINKED_PREFIX}{name}__{s.name}")
            for s in source_expr.free_symbols
            if s.name in link.group.variables
        }
        replacements[symbol(name)] = source_expr.xreplace(renames)
    return expr.xreplace(replacements) if replacements else expr


def checked_link(group, variable: Variable) -> Link:
    """The link of a linked variable; an error if ``linked_var`` has not been assigned yet."""
    if variable.link is None:
        raise ExpressionError(
            f"the linked variable {variable.name!r} of {type(group).__name__} {group.name!r} "
            f"has not been linked (assign {group.name}.{variable.name} = linked_var(...))"
        )
    return variable.link


def link_indices(group, variable: Variable) -> np.ndarray:
    """For each element of ``group``, the index of the linked element in the link's group."""
    link = checked_link(group, variable)
    if link.index is None:
        return np.arange(group.N)
    if isinstance(link.index, np.ndarray):
        return link.index.astype(np.intp)
    if link.index == "single":
        return np.zeros(group.N, dtype=np.intp)
    return np.asarray(VariableView(group, group.variables[link.index])[:]).astype(np.intp)


class DeferredArray:
    """A synaptic array that allocates its elements only when something reads or writes them.

    It stands in for a runtime ``DynamicArray1D`` (same methods) and holds either one ``fill``
    value for all elements, or values that ``compute()`` derives from other arrays, until
    ``view()`` or ``capsule()`` is called: generated code that uses the variable, a user's read or
    an element-wise write.  Synapses use it for ``delay`` (one value unless set per synapse: the
    spike queue then stores no delay per synapse either) and for ``N_incoming``/``N_outgoing``
    (counted from ``i``/``j`` when read), which saves 12 bytes per synapse in networks that never
    look at them.
    """

    def __init__(self, dtype: str, fill=0, compute=None):
        self.dtype = dtype
        self.fill = fill  #: the value of every element while not allocated (and of new ones)
        self.compute = compute  #: None, or compute() -> the values (then fill is not used)
        self.stored = None  #: the DynamicArray1D once allocated
        self._size = 0

    @property
    def allocated(self) -> bool:
        return self.stored is not None

    def __len__(self) -> int:
        return self._size

    def resize(self, size: int) -> None:
        old, self._size = self._size, int(size)
        if self.stored is None:
            return
        if self.compute is not None:
            self.release()  # derived values are out of date
            return
        self.stored.resize(size)
        if size > old:
            self.stored.view()[old:] = self.fill

    def clear(self) -> None:
        self.resize(0)

    def release(self) -> None:
        """Forget the elements (they are computed again, or filled, when next needed)."""
        self.stored = None

    def set_uniform(self, value) -> None:
        """Give every element ``value`` and free the elements' storage."""
        self.fill = value
        self.stored = None

    def _allocate(self):
        if self.stored is None:
            stored = containers().DynamicArray1D(self.dtype)
            stored.resize(self._size)
            stored.view()[:] = self.compute() if self.compute is not None else self.fill
            self.stored = stored
        return self.stored

    def view(self) -> np.ndarray:
        return self._allocate().view()

    def to_numpy(self) -> np.ndarray:
        return self.view().copy()

    def capsule(self):
        return self._allocate().capsule()

    def append_array(self, values) -> None:
        self._allocate().append_array(values)
        self._size += len(values)


def state_key(group, name: str) -> tuple[int, str]:
    """The key of a group's variable among the state that deferred calls touch (a subgroup's
    variables are its parent's)."""
    return (id(getattr(group, "state_owner", group)), name)


def make_variable(name, dimension, size, var_type="float", dtype=None, **flags) -> Variable:
    """A variable with zero-initialised storage for ``size`` elements (1 if shared), of
    ``dtype`` (by default float64, int32 or bool after ``var_type``)."""
    length = 1 if flags.get("shared") else size
    dtype = DTYPES[var_type] if dtype is None else dtype
    return Variable(name, dimension, np.zeros(length, dtype=dtype), var_type, **flags)


#: The dtypes a float variable may be stored in.
FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def _as_dtype(value, what: str) -> np.dtype:
    try:
        return np.dtype(value)
    except TypeError:
        raise TypeError(f"{what}: {value!r} is not a NumPy dtype") from None


class StorageTypes:
    """The dtype of each of a group's variables: Brian2's ``dtype=`` argument.

    ``dtype`` is None (every float variable gets ``prefs.core.default_float_dtype``), one dtype
    (for every float variable) or a dict ``{name: dtype}`` (the others get the default).
    A float variable may be float64 or float32; integers are int32 and booleans bool, so a
    dict may name them only with those.  ``floats`` narrows the float dtypes the group takes
    (a SpatialNeuron's solver is float64 only): the preference then falls back to float64,
    and an explicit float32 is refused.
    """

    def __init__(self, dtype, owner: str, floats: tuple = FLOAT_DTYPES):
        self.owner = owner
        self.floats = floats
        default = _as_dtype(prefs.core.default_float_dtype, "prefs.core.default_float_dtype")
        if default not in FLOAT_DTYPES:
            raise TypeError(
                f"prefs.core.default_float_dtype = {default.name}: spikeforge stores float "
                "variables as float64 or float32"
            )
        self.default = default if default in floats else np.dtype(np.float64)
        self.per_name: dict[str, np.dtype] = {}
        if isinstance(dtype, dict):
            for name, value in dtype.items():
                self.per_name[name] = _as_dtype(value, f"{owner}, dtype of {name!r}")
        elif dtype is not None:
            self.default = self._float(_as_dtype(dtype, f"{owner}, dtype="), "dtype=")

    def _float(self, dtype: np.dtype, what: str) -> np.dtype:
        if dtype not in self.floats:
            allowed = " or ".join(d.name for d in self.floats)
            raise TypeError(f"{self.owner}: {what} {dtype.name} is not supported ({allowed})")
        return dtype

    def __call__(self, name: str, var_type: str) -> np.dtype:
        """The dtype of the variable ``name`` of type ``var_type``."""
        given = self.per_name.get(name)
        if var_type != "float":
            expected = np.dtype(DTYPES[var_type])
            if given is not None and given != expected:
                raise TypeError(
                    f"{self.owner}: the {var_type} variable {name!r} is stored as "
                    f"{expected.name}, it cannot be {given.name}"
                )
            return expected
        if given is None:
            return self.default
        return self._float(given, f"the dtype of {name!r},")

    def check_names(self, names) -> None:
        """Refuse a dict entry that names no variable of the group (most likely a typo)."""
        unknown = sorted(set(self.per_name) - set(names))
        if unknown:
            raise KeyError(f"{self.owner}: dtype= names {unknown[0]!r}, which is not a variable")


def external_value(name: str, value):
    """Check that an external name holds a number; return its SI value as float (or int)."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, Quantity) and value.ndim == 0:
        return float(np.asarray(value))
    if isinstance(value, (np.ndarray, list, tuple)):
        raise ExpressionError(
            f"the external name {name!r} refers to an array; external values must be scalars "
            "(store per-neuron values in a parameter of the model instead)"
        )
    raise ExpressionError(
        f"the external name {name!r} refers to a {type(value).__name__}, not to a number"
    )


class GroupScope(Scope):
    """Resolves names for the code of one group in one module.

    Order of lookup: the group's variables, the fixed names (``i``, ``N``, ``t``, ``dt``), the
    namespace (explicit, else the caller's frame), units and constants.  External numbers become
    module arguments, so changing them does not change the code.
    """

    def __init__(self, group, context, namespace: dict | None, index: str = "_idx"):
        self.group = group
        self.context = context
        self.namespace = namespace if namespace is not None else {}
        self.index = index
        self.internal: dict[str, Resolved] = {}
        self.internal_dimensions: dict[str, Dimension] = {}
        self.externals: dict[str, float] = {}

    def owner(self) -> str:
        return f"{type(self.group).__name__} {self.group.name!r}"

    def fault_site(self, problem: str) -> int:
        """A fault the code of this group may meet at run time (see the pipeline's faults)."""
        return self.context.fault_site(f"{self.owner()}: {problem}")

    def integer_division_site(self, statement: str) -> int:
        """The fault of ``statement``, which divides integers, meeting a zero divisor (see
        ``translate.integer_divisions``); the module gets the functions it then calls."""
        self.context.add_support_code(INTEGER_DIVISION_DECLARATIONS)
        return self.context.fault_site(
            f"{self.owner()}: integer division by zero in {statement!r}", IntegerDivisionByZero
        )

    def lookup_external(self, name: str):
        if name in self.namespace:
            return self.namespace[name]
        if name in DEFAULT_NAMESPACE:
            return DEFAULT_NAMESPACE[name]
        raise ExpressionError(f"unknown identifier {name!r}")

    def resolve(self, name: str) -> Resolved:
        if name in self.internal:
            return self.internal[name]
        group, context = self.group, self.context
        variable = group.variables.get(name)
        if variable is not None and (variable.has_storage or variable.linked):
            return self.element(group, variable, name, "0" if variable.shared else self.index)
        if variable is not None:
            raise ExpressionError(f"internal error: subexpression {name!r} was not substituted")
        if name == "i":
            return Resolved("index", literal=self.index)
        if name == "N":
            return Resolved("scalar", static=self.size_static(), local_type="int64_t")
        if name in ("t", "dt"):
            return Resolved("scalar")
        if name == "t_in_timesteps":
            return Resolved("index", literal="_step")
        if name == "xi" or name.startswith("xi_"):
            raise ExpressionError(NOISE_OUTSIDE_EQUATIONS.format(name=name))
        if name.startswith(LINKED_PREFIX):
            linked, inner = self._linked_subexpression_variable(name)
            link = linked.link
            index = "0" if inner.shared else self._linked_index(group, linked, self.index)
            return self.element(link.group, inner, name, index)
        value = self.lookup_external(name)
        if isinstance(value, UserFunction):  # Function, TimedArray: support code and arguments
            return value.resolve_call(name, context, group)
        if (
            isinstance(value, Quantity)
            and name in units.all_units
            and value is units.all_units[name]
        ):
            return Resolved("literal", literal=_float(float(np.asarray(value))))
        if name in ("pi", "e", "inf") and value is DEFAULT_NAMESPACE[name]:
            return Resolved("literal", literal=_float(float(value)))
        number = external_value(name, value)
        self.externals[name] = number
        local_type = "int64_t" if isinstance(number, int) else "double"
        static = context.scalar(group, f"const_{name}", lambda: self._current(name), local_type)
        return Resolved("scalar", static=static, local_type=local_type)

    def element(self, group, variable: Variable, name: str, index: str) -> Resolved:
        """An element of ``variable`` of ``group`` at ``index``, as a module argument (for a
        linked variable: the linked group's array, at the link's index)."""
        if variable.linked:
            link = checked_link(group, variable)
            if not (link.variable.has_storage or link.variable.linked):
                raise ExpressionError(
                    f"{variable.name!r} is linked to the subexpression "
                    f"{link.group.name}.{link.variable.name} and cannot be assigned to"
                )
            index = "0" if link.variable.shared else self._linked_index(group, variable, index)
            return self.element(link.group, link.variable, name, index)
        self.context.touched.add(state_key(group, variable.name))
        static = self.context.array(group, variable.name, lambda: variable.array, variable.dtype)
        return Resolved("element", variable.dtype, static, index)

    def _linked_index(self, group, variable: Variable, index: str) -> str:
        """The index into the linked group of the element at ``index`` of ``group``."""
        link = checked_link(group, variable)
        if isinstance(link.index, str) and link.index == "single":
            return "0"
        if isinstance(link.index, str):  # the name of an integer variable of the group
            index_variable = group.variables[link.index]
            self.context.touched.add(state_key(group, index_variable.name))
            static = self.context.array(
                group, index_variable.name, lambda: index_variable.array, index_variable.dtype
            )
            return f"{static}[{index}]"
        if link.index is not None:
            static = self.context.array(
                group, f"{variable.name}_link", lambda: variable.link.index, np.int32
            )
            return f"{static}[{index}]"
        return index

    def _linked_subexpression_variable(self, name: str):
        """For ``link__x__v``: the linked variable ``x`` and the variable ``v`` of its link."""
        rest = name[len(LINKED_PREFIX) :]
        # the linked variable's own name may contain "__": the longest one that fits
        linked_name = max((n for n in self.group.variables if rest.startswith(n + "__")), key=len)
        inner = rest[len(linked_name) + 2 :]
        variable = self.group.variables[linked_name]
        return variable, checked_link(self.group, variable).group.variables[inner]

    def _current(self, name):
        return external_value(name, self.lookup_external(name))

    def size_static(self) -> str:
        group = self.group
        return self.context.scalar(group, "N", lambda: group.N, "int64_t")

    def dimension(self, name: str) -> Dimension:
        variable = self.group.variables.get(name)
        if variable is not None:
            return variable.dimension
        if name in ("i", "N", "t_in_timesteps"):
            return DIMENSIONLESS
        if name in ("t", "dt"):
            return SECOND
        if name in self.internal:
            return self.internal_dimensions.get(name, DIMENSIONLESS)
        if name == "xi" or name.startswith("xi_"):
            raise ExpressionError(NOISE_OUTSIDE_EQUATIONS.format(name=name))
        if name.startswith(LINKED_PREFIX):
            return self._linked_subexpression_variable(name)[1].dimension
        value = self.lookup_external(name)
        if isinstance(value, UserFunction):
            return value  # not a dimension: dimension_of() asks it about each call
        if callable(value) and not isinstance(value, (Quantity, np.ndarray)):
            raise ExpressionError(
                f"{name!r} is a Python function; model code runs in compiled code, so wrap it "
                "in Function(...) with a Cython implementation (see docs/vocabulary.md)"
            )
        try:
            return get_dimensions(value)
        except TypeError:
            raise ExpressionError(
                f"the external name {name!r} refers to a {type(value).__name__}, not to a number"
            ) from None

    def dimensions(self):
        """A mapping name -> dimension that looks names up on demand."""
        scope = self

        class Dimensions(dict):
            def __missing__(self, name):
                value = scope.dimension(name)
                self[name] = value
                return value

        return Dimensions()


def check_dimension(expr, scope: GroupScope, expected: Dimension | None, text: str, what: str):
    """Check ``expr`` (from the user's ``text``) has the ``expected`` dimension."""
    found = dimension_of(expr, scope.dimensions(), text)
    if expected is not None and found != expected and not expr.is_zero:
        raise ExpressionError(
            f"inconsistent units: {what} has units of {expected}, the expression has {found}",
            text,
        )
    return found


#: Operators that views (``G.v``, ``mon.t``) leave to their values.
_DELEGATED_OPERATORS = (
    "__add__",
    "__radd__",
    "__sub__",
    "__rsub__",
    "__mul__",
    "__rmul__",
    "__truediv__",
    "__rtruediv__",
    "__pow__",
    "__rpow__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__eq__",
    "__ne__",
    "__floordiv__",
    "__rfloordiv__",
    "__mod__",
    "__rmod__",
    "__neg__",
    "__pos__",
    "__abs__",
)


def _delegating_operators() -> dict:
    """Methods for :data:`_DELEGATED_OPERATORS` that apply the operator to
    ``self._values_for_arithmetic()`` (and to the other operand's values, if it is a view)."""

    def delegate(name):
        def operation(self, *other):
            other = tuple(
                o._values_for_arithmetic() if hasattr(o, "_values_for_arithmetic") else o
                for o in other
            )
            return getattr(self._values_for_arithmetic(), name)(*other)

        operation.__name__ = name
        return operation

    return {name: delegate(name) for name in _DELEGATED_OPERATORS}


class UnitlessValues(np.ndarray):
    """``group.v_``: a copy of the values in SI units, as a plain array.  Writing to it
    (``group.v_[:5] = values``) writes to the group too, as Brian2's unitless view does; arrays
    computed from it, and its slices, are plain copies."""

    _view: VariableView | None = None

    def __array_finalize__(self, obj) -> None:
        self._view = None  # only the array the group gave out writes through

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = tuple(np.asarray(x) if isinstance(x, UnitlessValues) else x for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(
                np.asarray(x) if isinstance(x, UnitlessValues) else x for x in kwargs["out"]
            )
        return getattr(ufunc, method)(*plain, **kwargs)

    def __getitem__(self, item):
        return np.asarray(self)[item]

    def __setitem__(self, item, value) -> None:
        view = self._view
        if isinstance(value, str):
            raise TypeError(
                "a string expression is assigned with units, through the variable itself "
                "(G.v = '...'), not through its unitless values (G.v_)"
            )
        if not isinstance(item, str):  # a condition string selects elements of the group
            np.asarray(self)[item] = value
        if view is not None:
            view.set_item(item, Quantity(value, dim=view.variable.dimension), level=1)

    def __repr__(self) -> str:
        return repr(np.asarray(self))

    def __str__(self) -> str:
        return str(np.asarray(self))

    def _in_place(self, operation, other):
        self[...] = operation(np.asarray(self), other)  # through __setitem__: to the group too
        return self

    def __iadd__(self, other):
        return self._in_place(np.add, other)

    def __isub__(self, other):
        return self._in_place(np.subtract, other)

    def __imul__(self, other):
        return self._in_place(np.multiply, other)

    def __itruediv__(self, other):
        return self._in_place(np.true_divide, other)

    def __reduce__(self):
        return np.asarray(self).__reduce__()


def unitless_values(view: VariableView) -> UnitlessValues:
    """``group.v_`` for the view ``group.v``."""
    values = np.asarray(view.get_item(slice(None), level=2)).view(UnitlessValues)
    values._view = view
    return values


class VariableView:
    """``group.v``: reads give quantities, writes accept quantities, arrays or string expressions.

    ``group.v[:]``, ``group.v[3]``, ``group.v[mask]`` read; ``group.v = -70*mV``,
    ``group.v[:10] = ...`` and ``group.v = 'v0 + rand()*mV'`` write.
    """

    def __init__(self, group, variable: Variable):
        self.group = group
        self.variable = variable

    # reading ----------------------------------------------------------------------------------
    def _wrap(self, values):
        if self.variable.dimension.is_dimensionless:
            return values
        return Quantity(values, dim=self.variable.dimension)

    def get_value(self):
        """A copy of all values (with units)."""
        return self.__getitem__(slice(None))

    def __getitem__(self, item):
        return self.get_item(item, level=1)

    def get_item(self, item, level: int = 0):
        """The values at ``item``; ``level`` counts the frames between the caller and the user
        code whose names string expressions may use."""
        run_deferred(state_key(self.group, self.variable.name))
        variable = self.variable
        if variable.linked:
            link = checked_link(self.group, variable)
            values = np.asarray(VariableView(link.group, link.variable).get_item(slice(None)))
            if isinstance(link.index, str) and link.index == "single" or link.variable.shared:
                return self._wrap(values.reshape(-1)[0].copy())  # one value, as for shared
            values = values[link_indices(self.group, variable)]
            return self._wrap(values[self._indices(item, level + 1)])
        if not variable.has_storage:
            values = self.group._evaluate_subexpression(variable, level + 1)
            if variable.shared:  # one value for the group, as for a shared parameter
                return self._wrap(values.reshape(-1)[0].copy())
            return self._wrap(values[self._indices(item, level + 1)])
        if variable.shared:
            return self._wrap(variable.array[0].copy())
        return self._wrap(variable.array[self._indices(item, level + 1)].copy())

    def _indices(self, item, level: int = 0):
        if isinstance(item, str):
            return self.group._indices_for_condition(item, level=level + 1)
        if has_compartment_indices(item):
            return compartment_indices(item, self.group)
        if isinstance(item, tuple) and hasattr(self.group, "synapse_indices"):
            if len(item) != 2:
                raise IndexError("index synapses by [i, j]: presynaptic and postsynaptic indices")
            return self.group.synapse_indices(*item)
        if getattr(item, "code_kind", None) == "sub" and item.source is self.group:
            return slice(item.start, item.stop)  # G.v[G[10:20]]: the subgroup's elements
        if not isinstance(item, (int, np.integer, slice, list, tuple, range, np.ndarray)):
            raise TypeError(
                f"{self.group.name}.{self.variable.name}: index with integers, a slice, a "
                f"boolean mask, a subgroup or a condition string, not {type(item).__name__}"
            )
        return item

    def __array__(self, dtype=None, copy=None):
        # with their unit (as Brian2's views): np.mean(G.v) is in volts, np.asarray(G.v) plain
        values = self.get_item(slice(None), level=1)
        return np.asarray(values).astype(dtype) if dtype is not None else values

    def __len__(self):
        return self.group.N

    @property
    def dim(self):
        """The variable's physical dimension (so that arithmetic with quantities keeps it)."""
        return self.variable.dimension

    @property
    def shape(self) -> tuple:
        """The shape of the values (``()`` for a shared variable)."""
        return np.shape(self.get_item(slice(None), level=1))

    @property
    def ndim(self) -> int:
        """The number of dimensions of the values."""
        return len(self.shape)

    @property
    def dtype(self) -> np.dtype:
        """The type the values are stored in."""
        return np.asarray(self.get_item(slice(None), level=1)).dtype

    @property
    def unit(self):
        """The variable's unit (Brian2's ``G.v.unit``): ``volt`` for a variable in volts."""
        return get_unit(self.variable.dimension)

    def __repr__(self):
        return f"<{self.group.name}.{self.variable.name}: {self.get_item(slice(None), level=1)!r}>"

    # arithmetic delegates to the values, so group.v/mV and mean(group.v) work
    def _values_for_arithmetic(self):
        return self.get_item(slice(None), level=2)

    locals().update(_delegating_operators())

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # NumPy's functions and an array's operators (array + G.v) see the values with their
        # units, so that units are checked as for G.v + array
        if any(isinstance(x, VariableView) for x in kwargs.get("out", ())):
            return NotImplemented
        values = tuple(
            x._values_for_arithmetic() if isinstance(x, VariableView) else x for x in inputs
        )
        return getattr(ufunc, method)(*values, **kwargs)

    def __hash__(self) -> int:
        # a variable of a group, usable as a key (Brian2's run_args={G.tau: ...})
        return hash((id(self.group), self.variable.name))

    # writing ----------------------------------------------------------------------------------
    def __setitem__(self, item, value):
        self.set_item(item, value, level=1)

    def set_item(self, item, value, level=0):
        """Assign ``value`` to the elements ``item`` (``slice(None)`` for all)."""
        group, variable = self.group, self.variable
        if has_compartment_indices(item) or getattr(item, "code_kind", None) == "sub":
            item = self._indices(item)
        if isinstance(value, LinkedVariable):
            if not (isinstance(item, slice) and item == slice(None)):
                raise TypeError(f"{group.name}.{variable.name}: link the whole variable")
            link_variable(group, variable, value)
            return
        if variable.linked and not isinstance(value, str) and not isinstance(item, str):
            link = checked_link(group, variable)
            check_assigned_units(group, variable, value)
            indices = link_indices(group, variable)[self._indices(item)]
            VariableView(link.group, link.variable).set_item(indices, value, level=level + 1)
            return
        if not isinstance(value, str) or isinstance(item, tuple):
            # string assignments to this variable first (another string one may wait its turn)
            run_deferred(state_key(group, variable.name))
        if variable.read_only or not (variable.has_storage or variable.linked):
            raise TypeError(
                f"{type(group).__name__} {group.name!r}: the variable {variable.name!r} "
                "cannot be assigned to"
            )
        check_assignable = getattr(group, "_check_assignable", None)
        if check_assignable is not None:
            check_assignable(variable)
        if isinstance(item, str) or isinstance(value, str):
            if isinstance(item, tuple):
                item = self._indices(item)
            group._set_with_code(variable, item, value, level=level + 2)
            return
        item = self._indices(item) if isinstance(item, tuple) else item
        check_assigned_units(group, variable, value)
        values = np.asarray(value)
        if variable.var_type == "integer":
            _check_integers(group, variable, values)
        if (
            isinstance(variable.dynamic, DeferredArray)
            and variable.dynamic.compute is None
            and values.ndim == 0
            and isinstance(item, slice)
            and item == slice(None)
        ):
            variable.dynamic.set_uniform(values.astype(variable.dtype).item())
            return
        if variable.shared:
            variable.array[0] = values
        else:
            variable.array[item] = values


def _check_integers(group, variable: Variable, values: np.ndarray) -> None:
    """Raise unless ``values`` fit the integer variable: no wrap-around of 2**40 to 0, no NaN
    turned into -2**31.  Fractions are cut off towards zero, as in Brian2."""
    owner = f"{type(group).__name__} {group.name!r}"
    if values.dtype.kind == "b" or values.size == 0:
        return
    if values.dtype.kind not in "iuf":
        raise TypeError(f"{owner}: {variable.name} is an integer variable, got {values.dtype}")
    info = np.iinfo(variable.dtype)
    as_float = values.astype(np.float64)
    if not np.all(np.isfinite(as_float)):
        raise ValueError(
            f"{owner}: {variable.name} is an integer variable; it cannot hold NaN or inf"
        )
    if as_float.min() < info.min or as_float.max() > info.max:
        raise ValueError(
            f"{owner}: {variable.name} is a {info.bits}-bit integer variable; values must be "
            f"between {info.min} and {info.max}, got {values.min()}..{values.max()}"
        )


def check_assigned_units(group, variable: Variable, value) -> None:
    """Raise DimensionMismatchError if ``value`` does not have the units of ``variable``
    (a plain number or NumPy array of zeros fits any units, as in Brian2)."""
    if (
        isinstance(value, (int, float, np.number, np.ndarray))
        and not isinstance(value, Quantity)
        and np.size(value)
        and not np.any(np.asarray(value) != 0)
    ):
        return
    if get_dimensions(value) != variable.dimension:
        raise units.DimensionMismatchError(
            f"{type(group).__name__} {group.name!r}: {variable.name} has units of "
            f"{variable.dimension}, the assigned value has {get_dimensions(value)}",
            variable.dimension,
            get_dimensions(value),
        )


class RecordedView:
    """What a monitor recorded with a unit (``mon.t``, ``rate_mon.rate``, a spike monitor's
    recorded ``v``), read as Brian2 gives it: as a view of a variable, not a quantity.

    Indexing, slicing and arithmetic give quantities (``mon.t[-1]``, ``mon.t/ms``), and so do
    NumPy functions that keep array subclasses (``np.diff(mon.t)``); reductions and
    ``np.asarray`` give plain values in SI units (``np.max(mon.t)`` is a number of seconds in
    both simulators, and scripts divide counts by it).  ``mon.t_`` is the plain array.
    """

    __array_priority__ = 200  # quantity arithmetic defers to the view's operators

    def __init__(self, owner: str, name: str, values: np.ndarray, dim):
        self._owner, self._name, self._values, self.dim = owner, name, values, dim

    def _quantity(self):
        return Quantity(self._values, dim=self.dim)

    def __getitem__(self, item):
        return Quantity(self._values[item], dim=self.dim)

    def __array__(self, dtype=None, copy=None):
        # a quantity, as Brian2's views give: functions that keep array subclasses
        # (np.diff, np.sort) keep the unit, reductions and np.asarray give plain values
        values = self._quantity()
        return values.astype(dtype) if dtype is not None else values

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self):
        return iter(self._quantity())

    @property
    def shape(self) -> tuple:
        return self._values.shape

    @property
    def ndim(self) -> int:
        return self._values.ndim

    @property
    def size(self) -> int:
        return self._values.size

    @property
    def dtype(self):
        return self._values.dtype

    def get_value(self):
        """All values, as a quantity."""
        return self._quantity()

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if hasattr(np.ndarray, name):
            raise AttributeError(
                f"{self._owner}.{self._name} is a view of the recording, as in Brian2, and has "
                f"no .{name}: use {self._name}[:].{name}(...) (a quantity) or "
                f"{self._name}_ (plain values)"
            )
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"<{self._owner}.{self._name}: {self._quantity()!r}>"

    def _values_for_arithmetic(self):
        return self._quantity()

    locals().update(_delegating_operators())
    __hash__ = None  # type: ignore[assignment]
