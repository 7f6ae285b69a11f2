"""Parsing of model equations: kinds, units, flags, continuation lines, errors."""

import pytest

from spikeforge.codegen.equations import (
    DIFFERENTIAL,
    PARAMETER,
    SUBEXPRESSION,
    EquationError,
    Equations,
)
from spikeforge.codegen.expressions import symbol
from spikeforge.units import DIMENSIONLESS, all_units, amp, metre, ms, mV, second, siemens, volt


def test_kinds_units_and_flags():
    eqs = Equations("""
        dv/dt = (I - v)/tau : volt (unless refractory)  # membrane
        I = g*(E - v) : amp
        g : siemens/meter**2 (constant, shared)
        n : integer
        active : boolean
    """)
    assert [e.kind for e in eqs] == [DIFFERENTIAL, SUBEXPRESSION, PARAMETER, PARAMETER, PARAMETER]
    assert eqs["v"].flags == {"unless refractory"}
    assert eqs["g"].dimension == siemens.dim / metre.dim**2
    assert eqs["g"].flags == {"constant", "shared"}
    assert eqs["I"].dimension == amp.dim
    assert (eqs["n"].var_type, eqs["active"].var_type) == ("integer", "boolean")
    assert eqs["n"].dimension == DIMENSIONLESS
    # Brian2's sets of names
    assert eqs.names == {"v", "I", "g", "n", "active"}
    assert eqs.diff_eq_names == {"v"} and eqs.subexpr_names == {"I"}
    assert eqs.eq_names == {"v", "I"} and eqs.parameter_names == {"g", "n", "active"}
    assert eqs["g"].varname == "g"


def test_multi_line_equation():
    eqs = Equations("""dm/dt = (1 - m)/tau
                             - m/tau : 1
                       x : 1""")
    assert list(eqs.equations) == ["m", "x"]


def test_joining_and_renaming():
    joined = Equations("dv/dt = -v/tau : volt") + "w : 1"
    assert list(joined.equations) == ["v", "w"]
    renamed = Equations("dv/dt = -v/tau : volt", tau="tau_m")
    assert "tau_m" in str(renamed)


def test_units_checked_with_the_names_dimensions():
    eqs = Equations("dv/dt = (I - v)/tau : volt")
    eqs.check_units({"v": volt.dim, "I": volt.dim, "tau": second.dim}, "G")
    with pytest.raises(EquationError) as info:
        eqs.check_units({"v": volt.dim, "I": volt.dim, "tau": volt.dim}, "NeuronGroup 'G'")
    message = str(info.value)
    assert "NeuronGroup 'G'" in message and "dv/dt = (I - v)/tau : volt" in message
    assert "inconsistent units" in message


@pytest.mark.parametrize(
    "model, problem",
    [
        ("dv/dt = -v/tau", "unit after a colon"),
        ("dv/dt = -v/tau : potato", "invalid unit"),
        ("dv/dt = -v/tau : volt (constant)", "not allowed"),
        ("x : 1 (unless refractory)", "not allowed"),
        ("dv/dt = -v/tau : volt\ndv/dt = v/tau : volt", "defined twice"),
        ("d_v/dt = -_v/tau : volt", "underscore"),
        ("dclass/dt = 1/second : 1", "reserved"),
        ("dt : second", "fixed meaning"),
        ("dn/dt = 1/second : integer", "floating point"),
        ("v = = 3 : volt", "syntax error"),
        ("dv/dt = -v/tau; import os : volt", "syntax error"),
        ("2x : volt", "not an equation"),
    ],
)
def test_malformed_equations(model, problem):
    with pytest.raises(EquationError) as info:
        Equations(model)
    assert problem in str(info.value)


def test_subexpressions_are_substituted_recursively():
    import sympy

    eqs = Equations("""dv/dt = I/C : volt
                       I = g*E_diff : amp
                       E_diff = E - v : volt
                       g : siemens""")
    expr = eqs.substituted(sympy.Symbol("I", real=True))
    assert {s.name for s in expr.free_symbols} == {"g", "E", "v"}


def test_keyword_arguments_rename_names_and_insert_values():
    """Brian2's Equations(..., x='n', tau=10*ms): the renamed variable of dx/dt, its uses and
    its text change; a value becomes a constant with its units (checked as usual)."""
    eqs = Equations("dx/dt = -x/tau : volt\ny = 2*x : volt\nx_other : 1", x="n", tau=10 * ms)
    assert [eq.name for eq in eqs] == ["n", "y", "x_other"]
    assert str(eqs).splitlines()[0].startswith("dn/dt = -n/")
    assert eqs["y"].expression == 2 * symbol("n")
    # the value carries its dimension (in SI base units): -n/tau has units of volt/second
    units = {name: all_units[name].dim for name in ("metre", "kilogram", "second", "amp")}
    eqs.check_units({"n": volt.dim, "x_other": DIMENSIONLESS, "y": volt.dim, **units}, "test")
    with pytest.raises(EquationError, match="inconsistent units"):
        Equations("dx/dt = -x/tau : volt", tau=10 * mV).check_units({"x": volt.dim, **units}, "t")
    with pytest.raises(EquationError, match="can be renamed"):
        Equations("dx/dt = -x/tau : 1", x=3)
    with pytest.raises(EquationError, match="defined twice"):
        Equations("a : 1\nb : 1", a="b")
