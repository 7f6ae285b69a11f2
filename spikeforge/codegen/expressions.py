"""Parse user expressions and statements into sympy, safely, and check their units.

User strings are parsed with Python's ``ast`` module and only a small grammar is accepted
(numbers, names, arithmetic, comparisons, ``and``/``or``/``not``, calls of functions by their plain
name), so no user text ever reaches generated code except through the printer.  Everything else is
rejected with an :class:`ExpressionError` naming the text and the problem.

A call of a name that is not one of the built-in :data:`FUNCTIONS` becomes an undefined sympy
function of that name (see :func:`user_function`).  Whether the name stands for a user function
(a :class:`UserFunction` such as ``Function`` or ``TimedArray``) is only known once the namespace
is: unit checking (:func:`dimension_of`) and translation raise "unknown function" otherwise.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import keyword
from collections.abc import Callable
from dataclasses import dataclass

import sympy
from sympy.core.function import AppliedUndef
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from spikeforge.units import DIMENSIONLESS, Dimension, DimensionMismatchError

# ---------------------------------------------------------------------------------------------
# Functions usable in expressions
# ---------------------------------------------------------------------------------------------


class clip(sympy.Function):
    """``clip(x, low, high)``: x limited to [low, high]."""

    nargs = 3


class exprel(sympy.Function):
    """``exprel(x) = (exp(x) - 1)/x``, continuous at 0 (used in Hodgkin-Huxley rate functions)."""

    nargs = 1


class int_(sympy.Function):
    """``int(x)``: truncation towards zero (``int(True) == 1``)."""

    nargs = 1


class integer_floordiv(sympy.Function):
    """``a // b`` for integer operands, computed in integers (translation makes it from
    ``floor(a/b)``; never parsed).  The third argument is the code of the fault a zero divisor
    records (0: none)."""

    nargs = 3


class integer_mod(sympy.Function):
    """``a % b`` for integer operands, as :class:`integer_floordiv`."""

    nargs = 3


class random_uniform(sympy.Function):
    """``rand()``: uniform in [0, 1), a new number at each use.

    The single argument is a counter that makes each call site distinct, so that sympy does not
    merge ``rand() + rand()`` into ``2*rand()``.
    """

    nargs = 1


class random_normal(sympy.Function):
    """``randn()``: standard normal, a new number at each use (see :class:`rand`)."""

    nargs = 1


# Short names; the classes are named so that sympy's numeric evaluation, which looks functions
# up by class name in mpmath, does not take them for mpmath.rand.
rand = random_uniform
randn = random_normal


class timestep(sympy.Function):
    """``timestep(t, dt)``: the integer time step of ``t`` (rounded as Brian2 does)."""

    nargs = 2


#: name -> (sympy constructor, dimension rule) where the rule maps argument dimensions to the
#: result's dimension or raises.
def _dimensionless_function(name):
    def rule(dims, text):
        for dim in dims:
            if not dim.is_dimensionless:
                raise ExpressionError(
                    f"the argument of {name}() must be dimensionless, but has units of {dim}", text
                )
        return DIMENSIONLESS

    return rule


def _same_as_first(name):
    def rule(dims, text):
        for dim in dims[1:]:
            if dim != dims[0]:
                raise ExpressionError(
                    f"the arguments of {name}() must have the same units, got {dims[0]} and {dim}",
                    text,
                )
        return dims[0]

    return rule


def _sqrt_rule(dims, text):
    return dims[0] ** 0.5


def _any_to_dimensionless(dims, text):
    return DIMENSIONLESS


def _timestep_rule(dims, text):
    if dims[0] != dims[1]:
        raise ExpressionError("the arguments of timestep() must have the same units", text)
    return DIMENSIONLESS


@dataclass(frozen=True)
class BuiltinFunction:
    """A function of model code: the one table row from which parsing, unit checks, printing
    and the generated module's declarations are derived.

    ``build`` makes the sympy expression of a call; ``form`` is the sympy function it is
    printed back from (None: it prints through other forms, as ``log10`` and ``sqrt`` do);
    ``dimensions`` maps the arguments' dimensions to the result's, or raises; ``c_name`` is the
    function generated code calls; ``declaration`` its Cython declaration, when spikeforge
    defines it in ``runtime/functions.h`` (C's math functions need none).
    """

    name: str
    build: Callable
    form: object
    dimensions: Callable
    c_name: str = ""
    declaration: str = ""


_D = _dimensionless_function
#: The built-in functions of model code.  Adding one: a row here, and its C++ definition in
#: ``runtime/functions.h`` when C's math library has none.
BUILTIN_FUNCTIONS = (
    BuiltinFunction("exp", sympy.exp, sympy.exp, _D("exp"), "exp"),
    BuiltinFunction("log", sympy.log, sympy.log, _D("log"), "log"),
    BuiltinFunction("log10", lambda x: sympy.log(x, 10), None, _D("log10")),
    BuiltinFunction(
        "sign",
        sympy.sign,
        sympy.sign,
        _any_to_dimensionless,
        "spikeforge_sign",
        "double spikeforge_sign(double) noexcept",
    ),
    BuiltinFunction(
        "clip",
        clip,
        clip,
        _same_as_first("clip"),
        "spikeforge_clip",
        "double spikeforge_clip(double, double, double) noexcept",
    ),
    BuiltinFunction(
        "exprel",
        exprel,
        exprel,
        _D("exprel"),
        "spikeforge_exprel",
        "double spikeforge_exprel(double) noexcept",
    ),
    BuiltinFunction(
        "timestep",
        timestep,
        timestep,
        _timestep_rule,
        "spikeforge_timestep",
        "int64_t spikeforge_timestep(double, double) noexcept",
    ),
    BuiltinFunction("sqrt", sympy.sqrt, None, _sqrt_rule),
    BuiltinFunction("sin", sympy.sin, sympy.sin, _D("sin"), "sin"),
    BuiltinFunction("cos", sympy.cos, sympy.cos, _D("cos"), "cos"),
    BuiltinFunction("tan", sympy.tan, sympy.tan, _D("tan"), "tan"),
    BuiltinFunction("arcsin", sympy.asin, sympy.asin, _D("arcsin"), "asin"),
    BuiltinFunction("arccos", sympy.acos, sympy.acos, _D("arccos"), "acos"),
    BuiltinFunction("arctan", sympy.atan, sympy.atan, _D("arctan"), "atan"),
    BuiltinFunction("sinh", sympy.sinh, sympy.sinh, _D("sinh"), "sinh"),
    BuiltinFunction("cosh", sympy.cosh, sympy.cosh, _D("cosh"), "cosh"),
    BuiltinFunction("tanh", sympy.tanh, sympy.tanh, _D("tanh"), "tanh"),
    BuiltinFunction("abs", sympy.Abs, sympy.Abs, _same_as_first("abs"), "fabs"),
    BuiltinFunction("floor", sympy.floor, sympy.floor, _same_as_first("floor"), "floor"),
    BuiltinFunction("ceil", sympy.ceiling, sympy.ceiling, _same_as_first("ceil"), "ceil"),
    # int() is printed as a cast by the printer
    BuiltinFunction("int", int_, int_, _any_to_dimensionless),
)
#: name -> (sympy constructor, dimension rule), derived from :data:`BUILTIN_FUNCTIONS`.
FUNCTIONS: dict[str, tuple] = {f.name: (f.build, f.dimensions) for f in BUILTIN_FUNCTIONS}
#: The Cython declarations of the functions spikeforge defines (for generated modules).
FUNCTION_DECLARATIONS = tuple(f.declaration for f in BUILTIN_FUNCTIONS if f.declaration)
#: Functions without arguments that draw random numbers.
RANDOM_FUNCTIONS = {"rand": rand, "randn": randn}


# ---------------------------------------------------------------------------------------------
# User functions: names resolved through the namespace
# ---------------------------------------------------------------------------------------------


class UserFunction:
    """Base of objects that model code calls by a name from the namespace.

    ``Function`` and ``TimedArray`` (``spikeforge.model.functions``) derive from it.  A scope
    gives such an object where a dimension lookup of its name is expected, and translation asks
    it for its generated form:

    - :meth:`call_dimension` checks the argument dimensions and returns the result's;
    - ``resolve_call(name, context, owner)`` registers what the generated module needs
      (support code, module arguments) for code of the object ``owner`` and returns a
      ``Resolved`` of kind ``function``.
    """

    def call_dimension(self, name: str, dims: list[Dimension], text: str | None) -> Dimension:
        raise NotImplementedError  # pragma: no cover - interface

    def resolve_call(self, name: str, context, owner=None):
        raise NotImplementedError  # pragma: no cover - interface


def user_function(name: str):
    """The sympy function that stands for a call of the user function ``name`` (real-valued)."""
    return sympy.Function(name, real=True)


def is_user_call(node) -> bool:
    """Whether ``node`` is a call of a user function (not a built-in one)."""
    return isinstance(node, AppliedUndef)


def user_function_names(expr) -> set[str]:
    """Names of the user functions ``expr`` calls."""
    return {node.func.__name__ for node in expr.atoms(AppliedUndef)}


#: Names of Python's built-ins that are not functions of model code: calling them is rejected
#: when parsing (``open('f')``, ``eval(...)``), so they never reach name resolution.
_PYTHON_BUILTINS = frozenset(dir(builtins)) - set(FUNCTIONS)

# ---------------------------------------------------------------------------------------------
# Names users may not take
# ---------------------------------------------------------------------------------------------

_C_AND_CYTHON_WORDS = """
auto break case char const continue default do double else enum extern float for goto if inline
int long register restrict return short signed sizeof static struct switch typedef union unsigned
void volatile while alignas alignof and and_eq asm bitand bitor bool catch class compl concept
constexpr const_cast decltype delete dynamic_cast explicit export false friend mutable namespace
new noexcept not not_eq nullptr operator or or_eq private protected public reinterpret_cast
requires static_assert static_cast template this thread_local throw true try typeid typename using
virtual wchar_t xor xor_eq cdef cpdef cimport ctypedef DEF IF ELIF ELSE include gil nogil readonly
object NULL bint Py_ssize_t size_t int32_t int64_t uint64_t uintptr_t range print len fabs fmod pow
isnan isinf log1p expm1 INFINITY NAN M_PI main exit abort malloc free memcpy memset cython numpy
np libc libcpp vector xi
"""
RESERVED_NAMES = frozenset(_C_AND_CYTHON_WORDS.split()) | frozenset(keyword.kwlist)
#: Names with a fixed meaning in every model.
SPECIAL_NAMES = frozenset(
    {"t", "dt", "i", "N", "t_in_timesteps", "True", "False", "inf", "pi", "e"}
)


class BrianObjectException(Exception):
    """Brian2's base of errors about one object of a model, kept so that scripts catching it
    catch spikeforge's: :class:`ExpressionError` (and with it the errors of equations,
    integration and user functions) derives from it.  spikeforge raises the error itself,
    naming the object, where Brian2 wraps the original error in this class."""


class ExpressionError(ValueError, BrianObjectException):
    """A user expression or statement is not valid.  ``str()`` names the text and the problem."""

    def __init__(self, problem: str, text: str | None = None, context: str | None = None):
        self.problem = problem
        self.text = text
        self.context = context
        super().__init__(problem)

    def __str__(self) -> str:
        parts = []
        if self.context:
            parts.append(self.context)
        if self.text is not None:
            parts.append(f"in {self.text.strip()!r}")
        parts.append(self.problem)
        return ": ".join(parts)

    def with_context(self, context: str) -> ExpressionError:
        """The same error, said from the point of view of ``context`` (object, line)."""
        merged = context if not self.context else f"{context}, {self.context}"
        return type(self)(self.problem, self.text, merged)


class UserFunctionError(ExpressionError):
    """A user function exists but cannot be used as asked (no Cython implementation, wrong
    number of arguments, ...)."""


#: Prefixes of names spikeforge makes up for model code (a variable of a linked
#: subexpression: link__x__v); user names may not start with them.
GENERATED_PREFIXES = ("link__",)


def check_identifier(name: str, what: str = "variable") -> None:
    """Raise :class:`ExpressionError` if ``name`` may not be used as a model variable name."""
    if not name.isidentifier() or not name.isascii():
        raise ExpressionError(f"{name!r} is not a valid {what} name")
    if name.startswith("_"):
        raise ExpressionError(
            f"{what} names may not start with an underscore ({name!r}): "
            "such names are reserved for generated code"
        )
    if name.startswith(GENERATED_PREFIXES):
        raise ExpressionError(f"{what} names may not start with {name.split('__')[0]}__ ({name!r})")
    if name in RESERVED_NAMES or name.startswith("xi_"):
        raise ExpressionError(f"{name!r} is a reserved word and cannot be a {what} name")
    if name in SPECIAL_NAMES or name in FUNCTIONS or name in RANDOM_FUNCTIONS:
        raise ExpressionError(f"{name!r} has a fixed meaning and cannot be a {what} name")


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------

_counter = itertools.count()


def symbol(name: str) -> sympy.Symbol:
    """The sympy symbol for a model name (all symbols are real)."""
    return sympy.Symbol(name, real=True)


def _number(value) -> sympy.Expr:
    if isinstance(value, bool):
        return sympy.true if value else sympy.false
    if isinstance(value, int):
        return sympy.Integer(value)
    return sympy.Float(value, precision=53)


class _Converter(ast.NodeVisitor):
    def __init__(self, text: str):
        self.text = text

    def fail(self, problem: str):
        raise ExpressionError(problem, self.text)

    def generic_visit(self, node):
        self.fail(f"{type(node).__name__} expressions are not allowed in model code")

    def visit_Expression(self, node):
        return self.visit(node.body)

    def visit_Constant(self, node):
        if isinstance(node.value, (bool, int, float)):
            return _number(node.value)
        self.fail(f"the constant {node.value!r} is not a number")

    def visit_Name(self, node):
        if node.id in ("True", "False"):
            return sympy.true if node.id == "True" else sympy.false
        if node.id.startswith("_"):
            self.fail(f"names starting with an underscore are not allowed ({node.id!r})")
        if node.id.startswith(GENERATED_PREFIXES):
            self.fail(f"names starting with link__ are reserved ({node.id!r})")
        if node.id in FUNCTIONS or node.id in RANDOM_FUNCTIONS:
            self.fail(f"{node.id} is a function and needs to be called: {node.id}(...)")
        return symbol(node.id)

    def visit_UnaryOp(self, node):
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Not):
            return sympy.Not(_as_boolean(operand))
        self.fail("the operator ~ is not allowed")

    def visit_BinOp(self, node):
        if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            return self._chain(node)
        left, right = self.visit(node.left), self.visit(node.right)
        op = node.op
        if isinstance(op, ast.Add):
            return left + right
        if isinstance(op, ast.Sub):
            return left - right
        if isinstance(op, ast.Mult):
            return left * right
        if isinstance(op, ast.Div):
            return left / right
        if isinstance(op, ast.Pow):
            return left**right
        if isinstance(op, ast.FloorDiv):
            return sympy.floor(left / right)
        if isinstance(op, ast.Mod):
            return sympy.Mod(left, right, evaluate=False)
        self.fail(f"the operator {type(op).__name__} is not allowed")

    def _chain(self, node):
        """A sum (or product) of many terms is a deeply left-nested tree: walk down its left
        side in a loop rather than by recursion, which would exhaust Python's stack (a sum of
        a few hundred terms)."""
        sums = isinstance(node.op, (ast.Add, ast.Sub))
        kinds = (ast.Add, ast.Sub) if sums else (ast.Mult, ast.Div)
        operands = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, kinds):
            operands.append((node.op, node.right))
            node = node.left
        result = self.visit(node)
        for op, right in reversed(operands):
            value = self.visit(right)
            if isinstance(op, ast.Add):
                result = result + value
            elif isinstance(op, ast.Sub):
                result = result - value
            elif isinstance(op, ast.Mult):
                result = result * value
            else:
                result = result / value
        return result

    def visit_BoolOp(self, node):
        values = [_as_boolean(self.visit(value)) for value in node.values]
        return sympy.And(*values) if isinstance(node.op, ast.And) else sympy.Or(*values)

    def visit_Compare(self, node):
        relations = {
            ast.Lt: sympy.StrictLessThan,
            ast.LtE: sympy.LessThan,
            ast.Gt: sympy.StrictGreaterThan,
            ast.GtE: sympy.GreaterThan,
            ast.Eq: sympy.Eq,
            ast.NotEq: sympy.Ne,
        }
        terms = [self.visit(node.left)] + [self.visit(c) for c in node.comparators]
        parts = []
        for op, left, right in zip(node.ops, terms, terms[1:]):
            if type(op) not in relations:
                self.fail(f"the comparison {type(op).__name__} is not allowed")
            parts.append(relations[type(op)](left, right, evaluate=False))
        return parts[0] if len(parts) == 1 else sympy.And(*parts)

    def visit_Call(self, node):
        if not isinstance(node.func, ast.Name):
            self.fail("only functions called by their plain name are allowed")
        name = node.func.id
        if node.keywords:
            self.fail(f"{name}() takes no keyword arguments")
        if name in RANDOM_FUNCTIONS:
            if node.args:
                self.fail(f"{name}() takes no arguments")
            return RANDOM_FUNCTIONS[name](sympy.Integer(next(_counter)))
        if name in FUNCTIONS:
            args = [self.visit(arg) for arg in node.args]
            try:
                return FUNCTIONS[name][0](*args)
            except TypeError:
                self.fail(f"wrong number of arguments for {name}()")
        self._check_user_function_name(name)
        return user_function(name)(*[self.visit(arg) for arg in node.args])

    def _check_user_function_name(self, name: str) -> None:
        """Reject calls that cannot be of a user function, before looking at the arguments."""
        if name.startswith("_"):
            self.fail(
                f"unknown function {name}(): names starting with an underscore are not allowed"
            )
        if not name.isascii():
            self.fail(f"unknown function {name}(): function names must be ASCII")
        if name in _PYTHON_BUILTINS:
            self.fail(
                f"unknown function {name}(): Python's built-ins cannot be called in model code"
            )
        if name in RESERVED_NAMES or name.startswith("xi_") or name == "xi":
            self.fail(f"unknown function {name}(): {name!r} is a reserved word")
        if name in SPECIAL_NAMES:
            self.fail(f"{name} is not a function")

    def visit_IfExp(self, node):
        self.fail("conditional expressions (x if c else y) are not allowed; use int(c)*x")


def _as_boolean(expr):
    if is_boolean(expr):
        return expr
    return sympy.Ne(expr, 0, evaluate=False)


def parse_expression(text: str) -> sympy.Expr:
    """Parse one expression (``'(I - v)/tau'``, ``'v > -50*mV'``) into sympy."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression string, got {type(text).__name__}")
    stripped = " ".join(text.strip().splitlines())
    if not stripped:
        raise ExpressionError("the expression is empty", text)
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"syntax error ({error.msg})", text) from None
    return _Converter(text).visit(tree)


@dataclass(frozen=True)
class Statement:
    """One line of abstract code: ``target op expression`` (``op`` is ``=``, ``+=``, ...)."""

    target: str
    operation: str
    expression: sympy.Expr
    text: str
    line_number: int

    def as_assignment(self) -> sympy.Expr:
        """The value assigned to ``target``, with augmented assignments spelled out."""
        current = symbol(self.target)
        match self.operation:
            case "=":
                return self.expression
            case "+=":
                return current + self.expression
            case "-=":
                return current - self.expression
            case "*=":
                return current * self.expression
            case "/=":
                return current / self.expression
        raise AssertionError(self.operation)


def parse_statements(code: str) -> list[Statement]:
    """Parse statements, one per line or separated by ``;``: ``v = -60*mV``, ``w += 1*nA``."""
    statements = []
    for line_number, raw_line in enumerate(code.splitlines(), start=1):
        line = raw_line.split("#", 1)[0]
        for part in line.split(";"):
            if not part.strip():
                continue
            statements.append(_parse_statement(part.strip(), line_number))
    return statements


def _parse_statement(text: str, line_number: int) -> Statement:
    for operation in ("+=", "-=", "*=", "/=", "="):
        head, separator, tail = text.partition(operation)
        if not separator:
            continue
        if operation == "=" and (tail.startswith("=") or head.endswith(("<", ">", "!", "="))):
            continue  # a comparison, not an assignment
        target = head.strip()
        if not target.isidentifier():
            raise ExpressionError(f"cannot assign to {target!r}", text)
        if target.startswith("_") or target.startswith(GENERATED_PREFIXES):
            raise ExpressionError(
                f"names starting with an underscore are reserved ({target!r})", text
            )
        return Statement(target, operation, parse_expression(tail), text, line_number)
    raise ExpressionError("a statement must assign a value, as in 'v = v_reset'", text)


# ---------------------------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------------------------


def is_boolean(expr) -> bool:
    """Whether ``expr`` is a condition (comparison, and/or/not, True/False).

    A bare name is not (sympy's symbols could stand for booleans, ours are numbers).
    """
    return isinstance(expr, sympy.logic.boolalg.Boolean) and not expr.is_Symbol


def dimension_of(expr, dimensions: dict[str, Dimension], text: str | None = None) -> Dimension:
    """The physical dimension of ``expr`` given the dimensions of its symbols.

    Raises :class:`ExpressionError` on inconsistent units (adding volt to second, exp of volt).
    The number 0 is accepted where any unit is expected (``v > 0`` or ``x = 0``), as are
    conditions wherever a dimensionless value is needed.
    """

    def of(node) -> Dimension:
        if node.is_Symbol:
            try:
                found = dimensions[node.name]
            except KeyError:
                raise ExpressionError(f"unknown identifier {node.name!r}", text) from None
            if isinstance(found, UserFunction):
                raise ExpressionError(
                    f"{node.name} is a function and needs to be called: {node.name}(...)", text
                )
            return found
        if node.is_Number or node in (sympy.true, sympy.false) or node.is_NumberSymbol:
            return DIMENSIONLESS
        if node.is_Add:
            terms = [(term, of(term)) for term in node.args]
            reference = next((dim for term, dim in terms if not term.is_zero), DIMENSIONLESS)
            for term, dim in terms:
                if dim != reference and not term.is_zero:
                    raise ExpressionError(
                        f"inconsistent units: cannot add {reference} and {dim}"
                        f" (the term {term} has units of {dim})",
                        text,
                    )
            return reference
        if node.is_Mul:
            result = DIMENSIONLESS
            for factor in node.args:
                result = result * of(factor)
            return result
        if node.is_Pow:
            base, exponent = node.args
            if not of(exponent).is_dimensionless:
                raise ExpressionError("an exponent must be dimensionless", text)
            base_dim = of(base)
            if base_dim.is_dimensionless:
                return DIMENSIONLESS
            if not exponent.is_Number:
                raise ExpressionError(
                    f"a quantity with units ({base_dim}) can only be raised to a fixed number", text
                )
            return base_dim ** float(exponent)
        if isinstance(node, sympy.Mod):
            dims = [of(arg) for arg in node.args]
            if dims[0] != dims[1]:
                raise ExpressionError(f"cannot take {dims[0]} modulo {dims[1]}", text)
            return dims[0]
        if isinstance(node, sympy.core.relational.Relational):
            left, right = node.args
            dl, dr = of(left), of(right)
            if dl != dr and not left.is_zero and not right.is_zero:
                raise ExpressionError(f"inconsistent units: cannot compare {dl} with {dr}", text)
            return DIMENSIONLESS
        if isinstance(node, sympy.Piecewise):
            values = [of(value) for value, condition in node.args]
            for _, condition in node.args:
                of(condition)
            for dim, (value, _) in zip(values, node.args):
                if dim != values[0] and not value.is_zero:
                    raise ExpressionError(f"inconsistent units: {values[0]} and {dim}", text)
            return values[0]
        if isinstance(node, (sympy.And, sympy.Or, sympy.Not)):
            for arg in node.args:
                of(arg)
            return DIMENSIONLESS
        if isinstance(node, (rand, randn)):
            return DIMENSIONLESS
        if is_user_call(node):
            return user_call_dimension(node, [of(arg) for arg in node.args])
        if isinstance(node, sympy.Function):
            name = _function_name(node)
            if name is None:
                raise ExpressionError(f"unsupported function {node.func}", text)
            dims = [of(arg) for arg in node.args]
            # 0 goes with any unit (clip(x, 0*mV, inf*mV): sympy has made 0*mV a plain 0)
            known = next((d for d, a in zip(dims, node.args) if not a.is_zero), None)
            if known is not None:
                dims = [known if a.is_zero else d for d, a in zip(dims, node.args)]
            return FUNCTIONS[name][1](dims, text)
        if node in (sympy.zoo, sympy.nan):  # what x/0 and 0/0 become
            raise ExpressionError("a division by zero (the value is infinite or undefined)", text)
        raise ExpressionError(f"unsupported expression {node}", text)

    def user_call_dimension(node, dims) -> Dimension:
        name = node.func.__name__
        try:
            function = dimensions[name]
        except (KeyError, ExpressionError):
            raise ExpressionError(
                f"unknown function {name}(): the namespace has no Function or TimedArray of "
                "this name",
                text,
            ) from None
        if not isinstance(function, UserFunction):
            raise ExpressionError(
                f"{name} is not a function (it is a variable or a value), but is called", text
            )
        return function.call_dimension(name, dims, text)

    try:
        return of(expr)
    except DimensionMismatchError as error:
        raise ExpressionError(str(error), text) from None


_SYMPY_TO_NAME = {f.form: f.name for f in BUILTIN_FUNCTIONS if f.form is not None}


def _function_name(node) -> str | None:
    return _SYMPY_TO_NAME.get(node.func)


def identifiers(expr) -> set[str]:
    """Names of the symbols ``expr`` uses."""
    return {s.name for s in expr.free_symbols}


def random_calls(expr) -> bool:
    """Whether ``expr`` draws random numbers."""
    return bool(expr.atoms(rand, randn))


class _SourcePrinter(StrPrinter):
    """Model code as users write it, for messages: ``k // n`` and ``k % n`` rather than sympy's
    ``floor(k/n)`` and ``Mod(k, n)``."""

    def _binary(self, left, operator: str, right) -> str:
        level = PRECEDENCE["Mul"]
        return f"{self.parenthesize(left, level)} {operator} {self.parenthesize(right, level + 1)}"

    def _print_floor(self, expr) -> str:
        numerator, denominator = expr.args[0].as_numer_denom()
        if denominator == 1:
            return super()._print_Function(expr)
        return self._binary(numerator, "//", denominator)

    def _print_Mod(self, expr) -> str:
        return self._binary(expr.args[0], "%", expr.args[1])

    def _print_integer_floordiv(self, expr) -> str:
        return self._binary(expr.args[0], "//", expr.args[1])

    def _print_integer_mod(self, expr) -> str:
        return self._binary(expr.args[0], "%", expr.args[1])

    def _print_Relational(self, expr) -> str:  # sympy writes Eq(a, b) and Ne(a, b)
        level = PRECEDENCE["Relational"]
        left, right = (self.parenthesize(arg, level) for arg in expr.args)
        return f"{left} {expr.rel_op} {right}"

    def _print_And(self, expr) -> str:
        return " and ".join(
            f"({self._print(arg)})" if isinstance(arg, sympy.Or) else self._print(arg)
            for arg in expr.args
        )

    def _print_Or(self, expr) -> str:
        return " or ".join(self._print(arg) for arg in expr.args)

    def _print_Not(self, expr) -> str:
        (arg,) = expr.args
        inner = self._print(arg)
        return f"not ({inner})" if isinstance(arg, (sympy.And, sympy.Or)) else f"not {inner}"


def source_text(expr) -> str:
    """``expr`` written as model code (for messages)."""
    return _SourcePrinter().doprint(expr)
