"""Abstract statements become the lines of one generated Cython function.

A *role* (state update, threshold, reset, a monitor...) is a list of assignments run for each
element of a group.  :func:`translate` resolves every name through a :class:`Scope`, moves work
that is the same for all elements out of the element loop (``exp(-dt/tau)`` is computed once per
step, not once per neuron), and prints the rest.  The role's template puts the pieces in place.

Calls of user functions (``Function``, ``TimedArray``) are resolved through the scope as well:
the name must stand for a function in the namespace, which registers what the module needs
(its support code, its data as module arguments) and says how a call is printed.  A call is moved
out of the loop only if all its arguments are the same for all elements and the function is pure
(``stateless``); ``ta(t)`` is looked up once per step, ``ta(t, i)`` and ``f(v)`` per element.
"""

from __future__ import annotations

from collections import Counter
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy

from spikeforge.codegen.expressions import (
    ExpressionError,
    UserFunctionError,
    int_,
    integer_floordiv,
    integer_mod,
    is_boolean,
    random_calls,
    source_text,
    user_function_names,
)
from spikeforge.codegen.printer import CythonPrinter, PrinterError, _float

#: C types of NumPy dtypes used for state and the Cython type of a local holding one element.
C_TYPES = {
    np.dtype(np.float64): ("double", "double"),
    # float32 state is widened to double when loaded and rounded when stored: code computes
    # in double precision whatever the storage (docs/equations.md, "Single precision")
    np.dtype(np.float32): ("float", "double"),
    np.dtype(np.int32): ("int32_t", "int32_t"),
    np.dtype(np.int64): ("int64_t", "int64_t"),
    np.dtype(np.bool_): ("char", "bint"),
    np.dtype(np.uint64): ("uint64_t", "uint64_t"),
}


@dataclass
class Argument:
    """One value a generated module receives from Python at each call.

    ``kind`` is ``array`` (a pointer to the data of a NumPy array), ``scalar`` (a number) or
    ``capsule`` (a pointer to a C++ object).  ``static`` is the module-level C variable that
    holds it; ``fetch`` returns the current array, number or capsule.
    """

    kind: str
    static: str
    ctype: str
    fetch: Callable[[], object]
    capsule_name: str = ""


@dataclass
class ModuleArguments:
    """All values a generated module receives, in a fixed order (the order is part of the code)."""

    arguments: dict[str, Argument] = field(default_factory=dict)

    def add(self, argument: Argument) -> str:
        existing = self.arguments.get(argument.static)
        if existing is None:
            self.arguments[argument.static] = argument
        return argument.static

    def of_kind(self, kind: str) -> list[Argument]:
        return [a for a in self.arguments.values() if a.kind == kind]

    def collect(self) -> tuple[tuple, tuple, tuple]:
        """The current (array addresses, scalars, capsules) to pass to the module."""
        arrays = []
        for argument in self.of_kind("array"):
            array: np.ndarray = argument.fetch()  # type: ignore[assignment]
            if not array.flags.c_contiguous:
                raise RuntimeError(f"internal error: {argument.static} is not contiguous")
            arrays.append(array.ctypes.data)
        scalars = tuple(argument.fetch() for argument in self.of_kind("scalar"))
        capsules = tuple(argument.fetch() for argument in self.of_kind("capsule"))
        return tuple(arrays), scalars, capsules


@dataclass
class Resolved:
    """What a name in a statement stands for in generated code.

    ``kind``: ``element`` (one element of an array per loop iteration, at ``index``),
    ``scalar`` (the same for all elements: a constant, a module argument, ``t``),
    ``literal`` (a fixed number printed into the code), ``index`` (the loop index, printed as
    ``literal``), ``function`` (a user function: ``call`` forms the Cython call from the printed
    arguments; ``pure`` says whether equal arguments always give equal results).
    """

    kind: str
    dtype: np.dtype | None = None
    static: str = ""  # the module variable behind an element or scalar
    index: str = "_idx"
    literal: str = ""
    local_type: str = "double"
    call: Callable[[list[str]], str] | None = None
    pure: bool = True


class Scope:
    """Resolves the names of one role's statements; subclasses know a group's variables."""

    def resolve(self, name: str) -> Resolved:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class TranslatedRole:
    """The printed pieces of one role, ready for its template."""

    declarations: list[str]  # cdef lines at the top of the function
    scalar_lines: list[str]  # run once per call, before the element loop
    load_lines: list[str]  # at the start of each iteration
    vector_lines: list[str]  # the statements for each element
    store_lines: list[str]  # at the end of each iteration
    pointers: list[str]  # cdef lines aliasing module pointers as locals
    condition: str | None = None  # for threshold-like roles: the printed condition
    #: The index locals the element loads and stores use (see :class:`Locals`).
    indices: frozenset[str] = frozenset()


def _converted(printed: str, target: Resolved | None, expr, site: int = 0) -> str:
    """Convert a value for the target's type: truncation for integers, ``!= 0`` for booleans.

    With a fault ``site``, an integer conversion is checked: a value the variable cannot hold
    (NaN, infinite, out of range) becomes 0 and a fault that stops the loop (functions.h).
    """
    if target is None or target.kind != "element":
        return printed
    if target.dtype in (np.dtype(np.int32), np.dtype(np.int64)):
        ctype = C_TYPES[target.dtype][0]
        if site:
            info = np.iinfo(target.dtype)
            low, high = _float(float(info.min)), _float(float(info.max))
            checked = f"spikeforge_to_integer(<double>({printed}), {low}, {high}, {site})"
            return f"<{ctype}>({checked})"
        return f"<{ctype}>({printed})"
    if target.dtype == np.dtype(np.bool_) and not is_boolean(expr):
        return f"(({printed}) != 0)"
    return printed


def _hoist(
    statements: list[tuple[str, sympy.Expr]],
    scalar_names: set[str],
    impure_functions: frozenset[str] = frozenset(),
    prefix: str = "_lio_",
) -> tuple[list[tuple[str, sympy.Expr]], list[tuple[str, sympy.Expr]]]:
    """Split statements into per-call scalar work and per-element work.

    Subexpressions that use only scalar names (and draw no random numbers, and call no impure
    user function) are replaced by temporaries computed once before the element loop.  A call of
    a user function counts as scalar only through its arguments: ``f(v)`` stays in the loop.
    """
    scalar_names = set(scalar_names)
    hoisted: dict[sympy.Expr, sympy.Symbol] = {}
    scalar_statements: list[tuple[str, sympy.Expr]] = []

    def calls_impure(expr) -> bool:
        return bool(impure_functions) and bool(user_function_names(expr) & impure_functions)

    def is_scalar(expr) -> bool:
        return (
            {s.name for s in expr.free_symbols} <= scalar_names
            and not random_calls(expr)
            and not calls_impure(expr)
        )

    def hoist(expr):
        if expr.is_Atom:
            return expr
        if is_scalar(expr):
            if expr not in hoisted:
                name = f"{prefix}{len(hoisted)}"
                hoisted[expr] = sympy.Symbol(name, real=True)
                scalar_statements.append((name, expr))
                scalar_names.add(name)
            return hoisted[expr]
        if expr.is_Add or expr.is_Mul:
            scalar_part = [a for a in expr.args if is_scalar(a)]
            other = [hoist(a) for a in expr.args if not is_scalar(a)]
            if len(scalar_part) > 1 or (scalar_part and not scalar_part[0].is_Atom):
                combined = expr.func(*scalar_part)
                return expr.func(hoist(combined), *other)
            return expr.func(*scalar_part, *other)
        return expr.func(*[hoist(a) for a in expr.args])

    vector_statements = []
    assigned = Counter(target for target, _ in statements)
    for target, expr in statements:
        # a temporary assigned twice keeps its order with the statements between
        if target.startswith("_") and assigned[target] == 1 and is_scalar(expr):
            scalar_statements.append((target, expr))
            scalar_names.add(target)
        else:
            vector_statements.append((target, hoist(expr)))
    return scalar_statements, vector_statements


def translate(
    statements: list[tuple[str, sympy.Expr]],
    scope: Scope,
    condition: sympy.Expr | None = None,
    extra_reads: tuple[str, ...] = (),
    hoisted_prefix: str = "_lio_",
) -> TranslatedRole:
    """Print a role: ``statements`` run for each element (after ``condition`` held, if given).

    The passes, each a function of its own: resolve every name through the scope, check the
    targets, make divisions of integers integer divisions, hoist loop invariants (into locals
    named ``hoisted_prefix`` + a number: two pieces of code printed into one function need
    different prefixes), declare the locals and the loads and stores of elements, print.

    Raises :class:`ExpressionError` for a name the scope does not know.
    """
    resolution = resolve_names(statements, scope, condition, extra_reads)
    check_targets(resolution)
    statements, condition = integer_divisions(statements, condition, resolution)
    scalar_statements, vector_statements = hoist_invariants(statements, resolution, hoisted_prefix)
    declared = declare_locals(resolution, scalar_statements, vector_statements)
    return print_code(resolution, declared, scalar_statements, vector_statements, condition)


@dataclass
class Resolution:
    """The result of :func:`resolve_names`: what each name of the code stands for."""

    targets: set[str]
    resolved: dict[str, Resolved]
    functions: dict[str, Resolved]
    #: Registers a fault the code may meet and returns its code (see ``_converted``); None for
    #: scopes that cannot report faults (the code is then unchecked).
    fault_site: Callable[[str], int] | None = None
    #: Registers a statement that divides integers by a divisor that may be 0 at run time and
    #: returns its fault code (see :func:`integer_divisions`); None: such divisions stay
    #: divisions of doubles, unchecked.
    integer_division_site: Callable[[str], int] | None = None


def resolve_names(
    statements: list[tuple[str, sympy.Expr]],
    scope: Scope,
    condition: sympy.Expr | None = None,
    extra_reads: tuple[str, ...] = (),
) -> Resolution:
    """Pass 1: resolve every name the code reads or writes (locals starting with ``_`` that the
    scope does not know are the code's own temporaries), and every user function it calls."""
    targets = {target for target, _ in statements}
    used: set[str] = set(extra_reads)
    for _, expr in statements:
        used |= {s.name for s in expr.free_symbols}
    if condition is not None:
        used |= {s.name for s in condition.free_symbols}
    internal = getattr(scope, "internal", {})
    temporaries = {name for name in targets | used if name.startswith("_") and name not in internal}
    resolved: dict[str, Resolved] = {}
    for name in sorted((used | targets) - temporaries):
        resolved[name] = scope.resolve(name)
        if resolved[name].kind == "function":
            raise ExpressionError(f"{name} is a function and needs to be called: {name}(...)")
    functions = _resolve_functions(statements, condition, scope)
    fault_site = getattr(scope, "fault_site", None)
    division_site = getattr(scope, "integer_division_site", None)
    return Resolution(targets - temporaries, resolved, functions, fault_site, division_site)


def check_targets(resolution: Resolution) -> None:
    """Pass 2: every target is something the code may store into."""
    for name in resolution.targets:
        target = resolution.resolved[name]
        if target.kind == "literal" or (target.kind == "scalar" and not target.static):
            raise ExpressionError(f"cannot assign to {name!r}: it is not a variable of the model")


#: What a module that divides integers declares (the functions are in functions.h); only such
#: modules do, so the source of the others is as before.
INTEGER_DIVISION_DECLARATIONS = (
    'cdef extern from "functions.h" nogil:\n'
    "    int64_t spikeforge_floordiv_int(int64_t, int64_t, int64_t) noexcept\n"
    "    int64_t spikeforge_mod_int(int64_t, int64_t, int64_t) noexcept"
)

_INTEGER_TYPES = (np.dtype(np.int32), np.dtype(np.int64))


def _integer_names(resolution: Resolution) -> set[str]:
    """The names that stand for integers: integer variables, indices, integer constants."""
    names = set()
    for name, r in resolution.resolved.items():
        if (
            (r.kind == "element" and r.dtype in _INTEGER_TYPES)
            or r.kind == "index"
            or (r.kind == "scalar" and r.local_type == "int64_t")
        ):
            names.add(name)
    return names


def _is_integer(expr, integer_names: set[str]) -> bool:
    """Whether ``expr`` is an integer by its operands' types (as in Python: ``k + 1``, ``2*k``,
    ``k**2`` are; ``k/2``, ``k*0.5`` and every function but ``int()`` are not)."""
    if expr.is_Integer:
        return True
    if expr.is_Symbol:
        return expr.name in integer_names
    if isinstance(expr, (integer_floordiv, integer_mod, int_)):
        return True
    if expr.is_Add or expr.is_Mul:
        return all(_is_integer(arg, integer_names) for arg in expr.args)
    if expr.is_Pow:
        base, exponent = expr.args
        return exponent.is_Integer and exponent >= 0 and _is_integer(base, integer_names)
    return False


def _fraction(expr) -> tuple[sympy.Expr, sympy.Expr]:
    """``expr`` as ``(numerator, denominator)`` from its own factors (sympy's
    ``as_numer_denom`` would also bring sums to a common denominator)."""
    numerator, denominator = [], []
    for factor in sympy.Mul.make_args(expr):
        if factor.is_Pow and factor.exp.is_Integer and factor.exp < 0:
            denominator.append(factor.base ** (-factor.exp))
        elif factor.is_Rational and not factor.is_Integer:
            numerator.append(sympy.Integer(factor.p))
            denominator.append(sympy.Integer(factor.q))
        else:
            numerator.append(factor)
    return sympy.Mul(*numerator), sympy.Mul(*denominator)


def integer_divisions(
    statements: list[tuple[str, sympy.Expr]],
    condition: sympy.Expr | None,
    resolution: Resolution,
) -> tuple[list[tuple[str, sympy.Expr]], sympy.Expr | None]:
    """Pass 3: ``a // b`` and ``a % b`` of integers, with a divisor that is not a number in the
    code, become :class:`integer_floordiv` and :class:`integer_mod`: computed in integers
    (``floor(a/b)`` in doubles is wrong once hoisting makes it ``floor(a * (1/b))``: 49 // 49
    gave 0), and a zero divisor is a fault naming the statement, not INT_MIN or NaN.  Divisions
    of floats keep IEEE semantics (``x // 0`` is infinite, ``x % 0`` NaN), as in Brian2.
    Statements without such divisions are returned as they are."""
    if resolution.integer_division_site is None:
        return statements, condition
    register = resolution.integer_division_site
    integer_names = _integer_names(resolution)

    def rewrite(expr, site: Callable[[], int]):
        if expr.is_Atom:
            return expr
        args = [rewrite(arg, site) for arg in expr.args]
        if isinstance(expr, sympy.floor):
            numerator, denominator = _fraction(args[0])
            if (
                denominator != 1
                and not denominator.is_Number
                and _is_integer(numerator, integer_names)
                and _is_integer(denominator, integer_names)
            ):
                return integer_floordiv(numerator, denominator, sympy.Integer(site()))
        elif isinstance(expr, sympy.Mod):
            dividend, divisor = args
            if (
                not divisor.is_Number
                and _is_integer(dividend, integer_names)
                and _is_integer(divisor, integer_names)
            ):
                return integer_mod(dividend, divisor, sympy.Integer(site()))
        if any(new is not old for new, old in zip(args, expr.args)):
            return expr.func(*args)
        return expr

    def checked(target: str, expr):
        if not expr.has(sympy.floor, sympy.Mod):
            return expr
        code: list[int] = []

        def site() -> int:  # registered only when the statement has such a division
            if not code:
                text = source_text(expr)
                code.append(register(text if target.startswith("_") else f"{target} = {text}"))
            return code[0]

        return rewrite(expr, site)

    rewritten = [(target, checked(target, expr)) for target, expr in statements]
    if condition is not None:
        condition = checked("_condition", condition)
    return rewritten, condition


def hoist_invariants(
    statements: list[tuple[str, sympy.Expr]], resolution: Resolution, prefix: str = "_lio_"
) -> tuple[list[tuple[str, sympy.Expr]], list[tuple[str, sympy.Expr]]]:
    """Pass 4: ``(per-call statements, per-element statements)``; what is the same for all
    elements moves out of the loop."""
    resolved = resolution.resolved
    scalar_names = {n for n, r in resolved.items() if r.kind in ("scalar", "literal")}
    impure = frozenset(name for name, r in resolution.functions.items() if not r.pure)
    return _hoist(statements, scalar_names, impure, prefix)


@dataclass
class Locals:
    """The result of :func:`declare_locals`."""

    names: dict[str, str]  # name in the code -> how it is printed
    declarations: list[str]
    pointers: list[str]
    load_lines: list[str]
    store_lines: list[str]
    #: The index locals the loads and stores use (``_idx``, ``_pre_idx``...): the template
    #: binds those, and only those, per element.
    indices: frozenset[str]


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def declare_locals(
    resolution: Resolution,
    scalar_statements: list[tuple[str, sympy.Expr]],
    vector_statements: list[tuple[str, sympy.Expr]],
) -> Locals:
    """Pass 5: a local per name, pointers to module arrays, the loads of elements at their
    index and the stores of the targets."""
    names: dict[str, str] = {}
    declarations, pointers, load_lines, store_lines = [], [], [], []
    indices: set[str] = set()
    for name, r in resolution.resolved.items():
        if r.kind in ("literal", "index"):
            names[name] = r.literal
            if r.kind == "index":
                indices.add(r.literal)
        elif r.kind == "scalar":
            names[name] = name
            if r.static:  # otherwise a parameter of every role function (t, dt)
                declarations.append(f"cdef {r.local_type} {name} = {r.static}")
        else:
            names[name] = name
            ctype, local_type = C_TYPES[r.dtype]
            pointer = f"_ptr_{name}"
            pointers.append(f"cdef {ctype}* {pointer} = {r.static}")
            declarations.append(f"cdef {local_type} {name}")
            load_lines.append(f"{name} = {pointer}[{r.index}]")
            # the index the scope gave (a local, or an index array at a local): its names
            indices |= set(_IDENTIFIER.findall(r.index))
            if name in resolution.targets:
                store_lines.append(f"{pointer}[{r.index}] = {name}")
    for target, expr in scalar_statements + vector_statements:
        if target.startswith("_") and target not in names:
            names[target] = target
            local_type = "bint" if is_boolean(expr) else "double"
            declarations.append(f"cdef {local_type} {target}")
    for name, r in resolution.functions.items():
        if r.literal in names:
            raise ExpressionError(
                f"the Cython function {r.literal!r} that implements {name}() has the name of a "
                "variable of this code; rename it (implementation(..., name=...))"
            )
    return Locals(names, declarations, pointers, load_lines, store_lines, frozenset(indices))


def _site(resolution: Resolution, target: str, expr) -> int:
    """The fault code of a store of ``expr`` into the integer variable ``target`` (0: none)."""
    resolved = resolution.resolved.get(target)
    if resolution.fault_site is None or resolved is None or resolved.kind != "element":
        return 0
    if resolved.dtype not in (np.dtype(np.int32), np.dtype(np.int64)):
        return 0
    return resolution.fault_site(
        f"the value assigned to the integer variable {target!r} ({target} = {source_text(expr)}) "
        "is NaN, infinite or out of its range (a division or modulo by zero, or an overflow); 0 "
        "was stored instead"
    )


def print_code(
    resolution: Resolution,
    declared: Locals,
    scalar_statements: list[tuple[str, sympy.Expr]],
    vector_statements: list[tuple[str, sympy.Expr]],
    condition: sympy.Expr | None = None,
) -> TranslatedRole:
    """Pass 6: the Cython lines, each value converted to its target's type."""
    calls = {n: r.call for n, r in resolution.functions.items() if r.call is not None}
    printer = CythonPrinter(declared.names, functions=calls)
    resolved = resolution.resolved
    try:
        scalar_lines = [f"{t} = {printer(e)}" for t, e in scalar_statements]
        vector_lines = [
            f"{t} = {_converted(printer(e), resolved.get(t), e, _site(resolution, t, e))}"
            for t, e in vector_statements
        ]
        printed_condition = printer(condition) if condition is not None else None
    except PrinterError as error:
        raise ExpressionError(str(error)) from None
    return TranslatedRole(
        declared.declarations,
        scalar_lines,
        declared.load_lines,
        vector_lines,
        declared.store_lines,
        declared.pointers,
        printed_condition,
        declared.indices,
    )


def _resolve_functions(statements, condition, scope: Scope) -> dict[str, Resolved]:
    """Resolve the user functions the code calls; "unknown function" for names that are none."""
    expressions = [expr for _, expr in statements]
    if condition is not None:
        expressions.append(condition)
    names: set[str] = set()
    for expr in expressions:
        names |= user_function_names(expr)
    functions = {}
    for name in sorted(names):
        try:
            found = scope.resolve(name)
        except UserFunctionError:
            raise  # the function exists but cannot be used (no Cython implementation...)
        except ExpressionError:
            found = None
        if found is None or found.kind != "function" or found.call is None:
            problem = (
                "the namespace has no Function or TimedArray of this name"
                if found is None
                else "the name is a variable or a value, not a function"
            )
            raise ExpressionError(f"unknown function {name}(): {problem}")
        functions[name] = found
    return functions
