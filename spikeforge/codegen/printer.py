"""Print sympy expressions as Cython expressions over C doubles and integers.

The printer is the only way user expressions reach generated code.  Symbols are printed through a
name table (a model name is mapped to the local it is loaded into, a unit to its SI value), so an
identifier the table does not know is an error, never free text in the output.  Calls of user
functions are printed through a second table (the function's name to a function that forms the
call from the printed arguments), with the same rule.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy

from spikeforge.codegen import expressions as ex


class PrinterError(ValueError):
    """An expression uses a name or construct that has no Cython form."""


class CythonPrinter:
    """Turns sympy expressions into Cython source text.

    ``names`` maps each symbol name to the Cython expression that stands for it (a local
    variable, or a literal for units and fixed constants).  ``functions`` maps the name of each
    user function (``Function``, ``TimedArray``) to a function that returns the Cython call for
    a list of printed arguments.  ``rng`` is the name of the random generator state pointer in
    the generated function.
    """

    def __init__(
        self,
        names: dict[str, str],
        rng: str = "&_rng_stream",
        functions: dict[str, Callable[[list[str]], str]] | None = None,
    ):
        self.names = names
        self.rng = rng
        self.functions = functions or {}

    def __call__(self, expr) -> str:
        return self.print(expr)

    def print(self, expr) -> str:
        if ex.is_user_call(expr):  # before the dispatch on type names, which users choose here
            return self._user_call(expr)
        method = getattr(self, "_print_" + type(expr).__name__, None)
        if method is not None:
            return method(expr)
        if isinstance(expr, sympy.core.relational.Relational):
            return self._relation(expr)
        if isinstance(expr, sympy.Function):
            return self._function(expr)
        if expr.is_Symbol:
            return self._symbol(expr)
        if expr.is_Integer:
            return str(int(expr))
        if expr.is_Rational:
            return repr(float(expr))
        if expr.is_Float:
            return _float(float(expr))
        if expr.is_NumberSymbol:
            return _float(float(expr))
        raise PrinterError(f"cannot print {expr!r} ({type(expr).__name__}) as Cython")

    # -- atoms --------------------------------------------------------------------------------
    def _symbol(self, expr) -> str:
        try:
            return self.names[expr.name]
        except KeyError:
            raise PrinterError(f"no value for the name {expr.name!r}") from None

    def _print_BooleanTrue(self, expr) -> str:
        return "True"

    def _print_BooleanFalse(self, expr) -> str:
        return "False"

    def _print_Infinity(self, expr) -> str:
        return "INFINITY"

    def _print_NegativeInfinity(self, expr) -> str:
        return "(-INFINITY)"

    def _print_NaN(self, expr) -> str:
        return "NAN"

    # -- arithmetic ---------------------------------------------------------------------------
    def _print_Add(self, expr) -> str:
        terms = list(expr.as_ordered_terms())
        text = self.print(terms[0])
        for term in terms[1:]:
            coefficient, rest = term.as_coeff_Mul()
            if coefficient.is_negative:
                text += " - " + self._factor(-term)
            else:
                text += " + " + self._factor(term)
        return f"({text})"

    def _factor(self, expr) -> str:
        return self.print(expr)

    def _print_Mul(self, expr) -> str:
        coefficient, rest = expr.as_coeff_Mul()
        if coefficient == -1:
            return f"(-{self.print(rest)})"
        numerator, denominator = [], []
        for factor in expr.as_ordered_factors():
            if factor.is_Pow and factor.exp.is_Number and factor.exp.is_negative:
                denominator.append(factor.base ** (-factor.exp))
            elif factor.is_Rational and not factor.is_Integer:
                if factor.p != 1:
                    numerator.append(sympy.Integer(factor.p))
                denominator.append(sympy.Integer(factor.q))
            else:
                numerator.append(factor)
        top = " * ".join(self.print(f) for f in numerator) if numerator else "1.0"
        if not denominator:
            return f"({top})"
        bottom = " * ".join(self.print(f) for f in denominator)
        # The cast makes the division a floating point one even for integer operands (i/N).
        return f"({top} / <double>({bottom}))"

    def _print_Pow(self, expr) -> str:
        base, exponent = expr.args
        if exponent == sympy.S.Half:
            return f"sqrt({self.print(base)})"
        if exponent == -sympy.S.Half:
            return f"(1.0 / sqrt({self.print(base)}))"
        if exponent.is_Integer and 1 <= abs(int(exponent)) <= 4:
            power = abs(int(exponent))
            printed = self.print(base)
            product = "(" + " * ".join([printed] * power) + ")" if power > 1 else printed
            return product if exponent > 0 else f"(1.0 / <double>{product})"
        if base == sympy.E:
            return f"exp({self.print(exponent)})"
        return f"pow(<double>{self.print(base)}, <double>{self.print(exponent)})"

    def _print_Mod(self, expr) -> str:
        left, right = expr.args
        return f"spikeforge_mod({self.print(left)}, {self.print(right)})"

    def _print_integer_floordiv(self, expr) -> str:
        return self._integer_division("spikeforge_floordiv_int", expr)

    def _print_integer_mod(self, expr) -> str:
        return self._integer_division("spikeforge_mod_int", expr)

    def _integer_division(self, function: str, expr) -> str:
        # in 64-bit integers (functions.h); the last argument is the fault of a zero divisor
        left, right, site = expr.args
        return f"{function}(<int64_t>({self.print(left)}), <int64_t>({self.print(right)}), {site})"

    # -- logic --------------------------------------------------------------------------------
    def _relation(self, expr) -> str:
        operators = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "==", "!=": "!="}
        return f"({self.print(expr.lhs)} {operators[expr.rel_op]} {self.print(expr.rhs)})"

    def _print_And(self, expr) -> str:
        return "(" + " and ".join(self.print(a) for a in expr.args) + ")"

    def _print_Or(self, expr) -> str:
        return "(" + " or ".join(self.print(a) for a in expr.args) + ")"

    def _print_Not(self, expr) -> str:
        return f"(not {self.print(expr.args[0])})"

    def _print_Piecewise(self, expr) -> str:
        (value, condition), *rest = expr.args
        if not rest:
            return self.print(value)
        otherwise = sympy.Piecewise(*rest) if rest[0][1] is not sympy.true else rest[0][0]
        return f"({self.print(value)} if {self.print(condition)} else {self.print(otherwise)})"

    # -- functions ----------------------------------------------------------------------------
    _C_FUNCTIONS = {f.name: f.c_name for f in ex.BUILTIN_FUNCTIONS if f.c_name}

    def _function(self, expr) -> str:
        if isinstance(expr, ex.rand):
            return f"spikeforge_rand({self.rng})"
        if isinstance(expr, ex.randn):
            return f"spikeforge_randn({self.rng})"
        if isinstance(expr, ex.int_):
            return f"(<int64_t>({self.print(expr.args[0])}))"
        name = ex._function_name(expr)
        if name is None or name not in self._C_FUNCTIONS:
            raise PrinterError(f"no Cython form for the function {expr.func}")
        args = ", ".join(self.print(arg) for arg in expr.args)
        return f"{self._C_FUNCTIONS[name]}({args})"

    def _user_call(self, expr) -> str:
        name = expr.func.__name__
        try:
            call = self.functions[name]
        except KeyError:
            raise PrinterError(f"unknown function {name}()") from None
        return call([self.print(arg) for arg in expr.args])


def _float(value: float) -> str:
    if value != value:
        return "NAN"
    if value in (float("inf"), float("-inf")):
        return "INFINITY" if value > 0 else "(-INFINITY)"
    text = repr(value)
    return f"({text})" if value < 0 else text
