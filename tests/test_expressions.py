"""Parsing of expressions and statements, unit checking, and rejection of unsafe input."""

import pytest
import sympy

from spikeforge.codegen.expressions import (
    ExpressionError,
    check_identifier,
    dimension_of,
    parse_expression,
    parse_statements,
)
from spikeforge.units import DIMENSIONLESS, amp, ohm, second, volt

DIMS = {
    "v": volt.dim,
    "tau": second.dim,
    "I": amp.dim,
    "R": ohm.dim,
    "x": DIMENSIONLESS,
    "mV": volt.dim,
    "ms": second.dim,
}


def test_arithmetic_parses_into_sympy():
    expr = parse_expression("(R*I - v)/tau")
    v, R, current, tau = sympy.symbols("v R I tau", real=True)
    assert sympy.simplify(expr - (R * current - v) / tau) == 0


def test_division_of_integers_is_true_division():
    assert parse_expression("1/2") == sympy.Rational(1, 2)


def test_conditions_and_logic():
    expr = parse_expression("v > 1 and not (x < 2 or x > 3)")
    assert isinstance(expr, sympy.And)


def test_each_rand_call_is_distinct():
    expr = parse_expression("rand() + rand()")
    # sympy would merge two identical calls into 2*rand(); ours stay two draws
    assert len(expr.atoms(sympy.Function)) == 2


@pytest.mark.parametrize(
    "text, problem",
    [
        ("__import__('os').system('ls')", "plain name"),
        ("__import__('os')", "unknown function"),
        ("v.__class__", "not allowed"),
        ("[x for x in range(3)]", "not allowed"),
        ("lambda: 1", "not allowed"),
        ("'text'", "not a number"),
        ("x if v else 1", "conditional"),
        ("v +", "syntax error"),
        ("exp", "needs to be called"),
        ("x[0]", "not allowed"),
        ("_secret + 1", "underscore"),
        ("open('f')", "unknown function"),
        ("exp(x, y=1)", "keyword"),
    ],
)
def test_unsafe_or_invalid_expressions_are_rejected(text, problem):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert problem in str(info.value)
    assert text.strip() in str(info.value)


def test_units_of_expressions():
    assert dimension_of(parse_expression("(R*I - v)/tau"), DIMS) == volt.dim / second.dim
    assert dimension_of(parse_expression("exp(-v/mV)"), DIMS) == DIMENSIONLESS
    assert dimension_of(parse_expression("sqrt(tau*ms)"), DIMS) == second.dim


@pytest.mark.parametrize(
    "text, problem",
    [
        ("v + tau", "cannot add"),
        ("exp(v)", "dimensionless"),
        ("v > tau", "cannot compare"),
        ("v**x", "fixed number"),
        ("unknown_name * 2", "unknown identifier"),
    ],
)
def test_unit_mismatches_are_reported(text, problem):
    with pytest.raises(ExpressionError) as info:
        dimension_of(parse_expression(text), DIMS, text)
    assert problem in str(info.value)


def test_zero_matches_any_unit():
    assert dimension_of(parse_expression("v > 0"), DIMS) == DIMENSIONLESS


def test_statements():
    statements = parse_statements("v = -60*mV; x += 1\nw -= 2  # comment")
    assert [(s.target, s.operation, s.line_number) for s in statements] == [
        ("v", "=", 1),
        ("x", "+=", 1),
        ("w", "-=", 2),
    ]
    x = sympy.Symbol("x", real=True)
    assert statements[1].as_assignment() == x + 1


@pytest.mark.parametrize("text", ["v == 3", "3 = v", "v", "import os", "v = ", "a.b = 1"])
def test_invalid_statements(text):
    with pytest.raises(ExpressionError):
        parse_statements(text)


@pytest.mark.parametrize(
    "name, problem",
    [
        ("_v", "underscore"),
        ("link__b", "link__"),
        ("double", "reserved"),
        ("cdef", "reserved"),
        ("class", "reserved"),
        ("exp", "fixed meaning"),
        ("t", "fixed meaning"),
        ("int32_t", "reserved"),
        ("1v", "not a valid"),
    ],
)
def test_reserved_names(name, problem):
    with pytest.raises(ExpressionError) as info:
        check_identifier(name)
    assert problem in str(info.value)
