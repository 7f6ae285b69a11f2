"""Model equations: parsing, validation and unit checking.

A model is a string of lines of three kinds (Brian2's syntax)::

    dv/dt = (I - v)/tau : volt (unless refractory)   # differential equation
    I_syn = g*(E - v) : amp                          # subexpression
    g : siemens (constant)                           # parameter

An equation may continue over several lines: it ends with the line that holds its unit (after a
colon) once all parentheses are closed.  ``#`` starts a comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy

import numpy as np

from spikeforge.codegen.expressions import (
    ExpressionError,
    check_identifier,
    dimension_of,
    is_boolean,
    parse_expression,
    symbol,
)
from spikeforge.units import (
    DIMENSIONLESS,
    Dimension,
    all_units,
    get_dimensions,
    parse_unit_string,
)

DIFFERENTIAL = "differential equation"
SUBEXPRESSION = "subexpression"
PARAMETER = "parameter"

#: Flags each kind of equation accepts (neuron groups and synapses; each object checks which of
#: them apply to it).
ALLOWED_FLAGS = {
    DIFFERENTIAL: {"unless refractory", "event-driven", "clock-driven", "point current"},
    SUBEXPRESSION: {"shared", "constant over dt", "summed", "point current"},
    PARAMETER: {"constant", "shared", "linked", "point current"},
}
#: Flags that only synapses accept.
SYNAPTIC_FLAGS = {"event-driven", "clock-driven", "summed"}
#: Flags that only spatial neurons accept (a current in amp added to the membrane current).
SPATIAL_FLAGS = {"point current"}

_DIFFERENTIAL_LINE = re.compile(r"^d([A-Za-z_][A-Za-z0-9_]*)\s*/\s*dt\s*=(.*)$", re.S)
_SUBEXPRESSION_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)(.*)$", re.S)
_PARAMETER_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*$")
_FLAGS = re.compile(r"\(\s*([A-Za-z][A-Za-z ,\-]*?)\s*\)\s*$")


class EquationError(ExpressionError):
    """An equation line is malformed, uses a reserved name, or has inconsistent units."""


@dataclass
class SingleEquation:
    """One line of a model: its kind, variable, expression, unit, type and flags."""

    kind: str
    name: str
    expression: sympy.Expr | None
    dimension: Dimension
    var_type: str  # "float", "integer" or "boolean"
    flags: frozenset[str] = frozenset()
    text: str = ""
    expression_text: str = ""

    def __str__(self) -> str:
        return self.text

    @property
    def varname(self) -> str:
        """The variable's name (Brian2's name for :attr:`name`)."""
        return self.name


@dataclass
class Equations:
    """The parsed equations of a model, in the order they were written.

    Accepts a model string (or another :class:`Equations`); ``Equations(a) + Equations(b)``
    joins two models.  Keyword arguments replace a name, as in Brian2: by another name
    (``x='n'`` renames ``x`` everywhere, also the variable of ``dx/dt``), or by a value
    (``tau=10*ms``), which the expressions then hold as a constant.
    """

    equations: dict[str, SingleEquation] = field(default_factory=dict)

    def __init__(self, model: str | Equations = "", **renames):
        if isinstance(model, Equations):
            self.equations = dict(model.equations)
            return
        if not isinstance(model, str):
            raise TypeError(f"equations must be given as a string, not {type(model).__name__}")
        self.equations = {}
        for text in _logical_lines(model):
            equation = _parse_line(text)
            if equation.name in self.equations:
                raise EquationError(f"the variable {equation.name!r} is defined twice", text)
            self.equations[equation.name] = equation
        if renames:
            self._replace(renames)

    def _replace(self, replacements: dict) -> None:
        """Replace names by names or values in the parsed equations (``Equations(..., x=...)``)."""
        symbols = {}
        for old, new in replacements.items():
            if isinstance(new, str):
                check_identifier(new)
                symbols[symbol(old)] = symbol(new)
            elif old in self.equations:
                raise EquationError(
                    f"{old!r} is a variable of these equations: it can be renamed "
                    f"(Equations(..., {old}='new_name')), not replaced by a value",
                    str(self.equations[old]),
                )
            else:
                symbols[symbol(old)] = _constant_expression(old, new)
        renamed = {}
        for equation in self.equations.values():
            name = replacements.get(equation.name, equation.name)
            expression = equation.expression
            if expression is not None:
                expression = expression.xreplace(symbols)
            text = _replace_in_text(equation.text, replacements, equation.kind)
            expression_text = _replace_in_text(equation.expression_text, replacements, None)
            if name in renamed:
                raise EquationError(f"the variable {name!r} is defined twice", text)
            renamed[name] = SingleEquation(
                equation.kind,
                name,
                expression,
                equation.dimension,
                equation.var_type,
                equation.flags,
                text,
                expression_text,
            )
        self.equations = renamed

    def __add__(self, other: Equations | str) -> Equations:
        other = other if isinstance(other, Equations) else Equations(other)
        joined = Equations(self)
        for name, equation in other.equations.items():
            if name in joined.equations:
                raise EquationError(f"the variable {name!r} is defined twice", equation.text)
            joined.equations[name] = equation
        return joined

    def __iter__(self):
        return iter(self.equations.values())

    def __contains__(self, name: str) -> bool:
        return name in self.equations

    def __getitem__(self, name: str) -> SingleEquation:
        return self.equations[name]

    def __str__(self) -> str:
        return "\n".join(equation.text for equation in self)

    def of_kind(self, kind: str) -> list[SingleEquation]:
        """The equations of one kind (``DIFFERENTIAL``, ``SUBEXPRESSION``, ``PARAMETER``)."""
        return [equation for equation in self if equation.kind == kind]

    @property
    def differential(self) -> list[SingleEquation]:
        return self.of_kind(DIFFERENTIAL)

    @property
    def subexpressions(self) -> list[SingleEquation]:
        return self.of_kind(SUBEXPRESSION)

    @property
    def parameters(self) -> list[SingleEquation]:
        return self.of_kind(PARAMETER)

    # Brian2's sets of names
    @property
    def names(self) -> set[str]:
        """Every variable the equations define."""
        return set(self.equations)

    @property
    def diff_eq_names(self) -> set[str]:
        """The variables of differential equations."""
        return {equation.name for equation in self.differential}

    @property
    def subexpr_names(self) -> set[str]:
        """The subexpressions' names."""
        return {equation.name for equation in self.subexpressions}

    @property
    def eq_names(self) -> set[str]:
        """The variables of differential equations and the subexpressions."""
        return self.diff_eq_names | self.subexpr_names

    @property
    def parameter_names(self) -> set[str]:
        """The parameters' names."""
        return {equation.name for equation in self.parameters}

    def substituted(self, expression: sympy.Expr) -> sympy.Expr:
        """``expression`` with every subexpression replaced by its definition, recursively."""
        substitutions = {
            sympy.Symbol(eq.name, real=True): eq.expression for eq in self.subexpressions
        }
        for _ in range(len(substitutions) + 1):
            replaced = expression.xreplace(substitutions)
            if replaced == expression:
                return expression
            expression = replaced
        raise EquationError("subexpressions refer to each other in a circle", str(expression))

    def check_units(self, dimensions: dict[str, Dimension], owner: str) -> None:
        """Check every equation's units, given the dimensions of all names it may use."""
        for equation in self:
            if equation.expression is None:
                continue
            try:
                found = dimension_of(equation.expression, dimensions, equation.text)
            except ExpressionError as error:
                raise EquationError(error.problem, equation.text, owner) from None
            if equation.var_type == "boolean":
                if not is_boolean(equation.expression):
                    raise EquationError(
                        "a boolean subexpression must be a condition", equation.text, owner
                    )
                continue
            expected = equation.dimension
            if equation.kind == DIFFERENTIAL:
                expected = equation.dimension / Dimension.get((0, 0, 1, 0, 0, 0, 0))
            if found != expected and not equation.expression.is_zero:
                raise EquationError(
                    f"inconsistent units: the right-hand side has units of {found}, "
                    f"but {_describe_left(equation)} needs {expected}",
                    equation.text,
                    owner,
                )


def _constant_expression(name: str, value) -> sympy.Expr:
    """A value for ``Equations(..., name=value)``: its SI number times the SI base units of its
    dimension, which unit checks and the printer understand."""
    try:
        number = float(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        raise TypeError(
            f"Equations({name}=...) needs a name (a string) or a number or quantity, got {value!r}"
        ) from None
    if np.ndim(np.asarray(value, dtype=float)) != 0:
        raise TypeError(f"Equations({name}=...) needs a single value, not an array")
    expression = sympy.Float(number, precision=53)
    exponents = getattr(get_dimensions(value), "_dims", ())
    for unit, exponent in zip(_BASE_UNITS, exponents):
        if exponent:
            expression *= symbol(unit) ** sympy.nsimplify(exponent)
    return expression


#: The SI base units, in the order of a Dimension's exponents.
_BASE_UNITS = ("metre", "kilogram", "second", "amp", "kelvin", "mole", "candela")


def _replace_in_text(text: str, replacements: dict, kind: str | None) -> str:
    """The text of an equation with names replaced (for messages and ``str()``)."""
    for old, new in replacements.items():
        shown = new if isinstance(new, str) else f"({new!r})"
        text = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(old)}\b", shown, text)
        if kind == DIFFERENTIAL and isinstance(new, str):
            text = re.sub(rf"^d{re.escape(old)}(\s*/\s*dt)", rf"d{new}\1", text)
    return text


def _describe_left(equation: SingleEquation) -> str:
    if equation.kind == DIFFERENTIAL:
        return f"d{equation.name}/dt"
    return equation.name


def _logical_lines(model: str) -> list[str]:
    """Split a model into equations: comments removed, an equation ends with its unit."""
    lines, pending, depth = [], "", 0
    for raw in model.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip() and depth == 0:
            continue
        pending = f"{pending} {line.strip()}" if pending else line.strip()
        depth = pending.count("(") - pending.count(")")
        if depth <= 0 and ":" in pending:
            lines.append(pending)
            pending, depth = "", 0
    if pending:
        lines.append(pending)
    return lines


def _parse_line(text: str) -> SingleEquation:
    if ":" not in text:
        raise EquationError(
            "an equation needs a unit after a colon, as in 'dv/dt = -v/tau : volt'", text
        )
    left, unit_part = text.rsplit(":", 1)
    left, unit_part = left.strip(), unit_part.strip()
    flags: set[str] = set()
    match = _FLAGS.search(unit_part)
    if match and unit_part[: match.start()].strip():
        flags = {_normalise_flag(flag) for flag in match.group(1).split(",")}
        unit_part = unit_part[: match.start()].strip()
    var_type, dimension = _parse_unit(unit_part, text)

    if m := _DIFFERENTIAL_LINE.match(left):
        kind, name, expression_text = DIFFERENTIAL, m.group(1), m.group(2).strip()
    elif m := _SUBEXPRESSION_LINE.match(left):
        kind, name, expression_text = SUBEXPRESSION, m.group(1), m.group(2).strip()
    elif m := _PARAMETER_LINE.match(left):
        kind, name, expression_text = PARAMETER, m.group(1), ""
    else:
        raise EquationError(
            "not an equation: expected 'dx/dt = ... : unit', 'x = ... : unit' or 'x : unit'", text
        )
    try:
        check_identifier(name)
    except ExpressionError as error:
        raise EquationError(error.problem, text) from None
    unknown = flags - ALLOWED_FLAGS[kind]
    if unknown:
        allowed = ", ".join(sorted(ALLOWED_FLAGS[kind])) or "none"
        raise EquationError(
            f"the flag {sorted(unknown)[0]!r} is not allowed on a {kind} (allowed: {allowed})", text
        )
    if kind == DIFFERENTIAL and var_type != "float":
        raise EquationError("a differential equation must be for a floating point variable", text)
    expression = None
    if expression_text:
        try:
            expression = parse_expression(expression_text)
        except ExpressionError as error:
            raise EquationError(error.problem, text) from None
    return SingleEquation(
        kind, name, expression, dimension, var_type, frozenset(flags), text, expression_text
    )


def _normalise_flag(flag: str) -> str:
    flag = " ".join(flag.split())
    return "unless refractory" if flag == "unless-refractory" else flag


def _parse_unit(unit_part: str, text: str) -> tuple[str, Dimension]:
    if unit_part == "boolean":
        return "boolean", DIMENSIONLESS
    if unit_part == "integer":
        return "integer", DIMENSIONLESS
    if not unit_part:
        raise EquationError("the unit after the colon is missing", text)
    if unit_part == "bool":
        raise EquationError("use 'boolean', not 'bool', for a boolean variable", text)
    for name in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", unit_part):
        unit = all_units.get(name)
        if unit is not None and float(np.asarray(unit)) != 1.0:
            base = next(
                (
                    n
                    for n, u in all_units.items()
                    if u.dim == unit.dim and float(np.asarray(u)) == 1
                ),
                str(unit.dim),
            )
            raise EquationError(
                f"the unit of a variable must be a base unit: {name!r} is not; "
                f"use {base!r} instead (values are always stored in SI units)",
                text,
            )
    try:
        return "float", parse_unit_string(unit_part)
    except (ValueError, KeyError) as error:
        raise EquationError(f"invalid unit {unit_part!r} ({error})", text) from None
