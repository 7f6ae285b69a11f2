"""Abstract statements become the lines of one generated Cython function.

A *role* (state update, threshold, reset, a monitor...) is a list of assignments run for each
element of a group.  :func:`translate` resolves every name through a :class:`Scope`, moves work
that is the same for all elements out of the element loop (``exp(-dt/tau)`` is computed once per
step, not once per neuron), and prints the rest.  The role's template puts the pieces in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy

from spikeforge.codegen.expressions import ExpressionError, is_boolean, random_calls
from spikeforge.codegen.printer import CythonPrinter, PrinterError

#: C types of NumPy dtypes used for state and the Cython type of a local holding one element.
C_TYPES = {
    np.dtype(np.float64): ("double", "double"),
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
            array = argument.fetch()
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
    ``literal`` (a fixed number printed into the code).
    """

    kind: str
    dtype: np.dtype | None = None
    static: str = ""  # the module variable behind an element or scalar
    index: str = "_idx"
    literal: str = ""
    local_type: str = "double"


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


def _converted(printed: str, target: Resolved | None, expr) -> str:
    """Convert a value for the target's type: truncation for integers, ``!= 0`` for booleans."""
    if target is None or target.kind != "element":
        return printed
    if target.dtype in (np.dtype(np.int32), np.dtype(np.int64)):
        return f"<{C_TYPES[target.dtype][0]}>({printed})"
    if target.dtype == np.dtype(np.bool_) and not is_boolean(expr):
        return f"(({printed}) != 0)"
    return printed


def _hoist(
    statements: list[tuple[str, sympy.Expr]], scalar_names: set[str]
) -> tuple[list[tuple[str, sympy.Expr]], list[tuple[str, sympy.Expr]]]:
    """Split statements into per-call scalar work and per-element work.

    Subexpressions that use only scalar names (and draw no random numbers) are replaced by
    temporaries computed once before the element loop.
    """
    scalar_names = set(scalar_names)
    hoisted: dict[sympy.Expr, sympy.Symbol] = {}
    scalar_statements: list[tuple[str, sympy.Expr]] = []

    def is_scalar(expr) -> bool:
        return {s.name for s in expr.free_symbols} <= scalar_names and not random_calls(expr)

    def hoist(expr):
        if expr.is_Atom:
            return expr
        if is_scalar(expr):
            if expr not in hoisted:
                name = f"_lio_{len(hoisted)}"
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
    for target, expr in statements:
        if target.startswith("_") and is_scalar(expr):
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
) -> TranslatedRole:
    """Print a role: ``statements`` run for each element (after ``condition`` held, if given).

    Raises :class:`ExpressionError` for a name the scope does not know.
    """
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
    for name in targets - temporaries:
        if resolved[name].kind == "literal" or (
            resolved[name].kind == "scalar" and not resolved[name].static
        ):
            raise ExpressionError(f"cannot assign to {name!r}: it is not a variable of the model")

    scalar_names = {n for n, r in resolved.items() if r.kind in ("scalar", "literal")}
    scalar_statements, vector_statements = _hoist(statements, scalar_names)

    names: dict[str, str] = {}
    declarations, pointers, load_lines, store_lines = [], [], [], []
    for name, r in resolved.items():
        if r.kind == "literal":
            names[name] = r.literal
        elif r.kind == "index":
            names[name] = r.literal
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
            if name in targets:
                store_lines.append(f"{pointer}[{r.index}] = {name}")
    for target, expr in scalar_statements + vector_statements:
        if target.startswith("_") and target not in names:
            names[target] = target
            local_type = "bint" if is_boolean(expr) else "double"
            declarations.append(f"cdef {local_type} {target}")
    printer = CythonPrinter(names)
    try:
        scalar_lines = [f"{t} = {printer(e)}" for t, e in scalar_statements]
        vector_lines = [
            f"{t} = {_converted(printer(e), resolved.get(t), e)}" for t, e in vector_statements
        ]
        printed_condition = printer(condition) if condition is not None else None
    except PrinterError as error:
        raise ExpressionError(str(error)) from None
    return TranslatedRole(
        declarations,
        scalar_lines,
        load_lines,
        vector_lines,
        store_lines,
        pointers,
        printed_condition,
    )
