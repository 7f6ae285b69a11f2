"""User functions in model code: TimedArray lookups and Functions with Cython implementations.

TimedArray results are compared with closed forms and with Brian2's rule for the looked-up step
(written out in ``brian2_step``; the expected arrays of the compiled tests were also checked
against Brian2 2.11's numpy target).
"""

import math

import numpy as np
import pytest
import sympy

from spikeforge.only import *
from spikeforge.codegen import cache
from spikeforge.codegen.expressions import (
    ExpressionError,
    UserFunctionError,
    dimension_of,
    parse_expression,
    user_function_names,
)
from spikeforge.codegen.translate import Resolved, Scope, translate
from spikeforge.model.functions import _without_gil
from spikeforge.units import DIMENSIONLESS

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def brian2_step(t, array_dt, dt, rows):
    """Brian2's step of a TimedArray at the times ``t`` (s), for a simulation step ``dt``."""
    K = max(int(2 ** np.ceil(np.log2(8 / dt * array_dt))), 1)
    epsilon = float(f"{array_dt:.18f}") / K
    step = np.trunc((np.asarray(t) / epsilon + 0.5) / K).astype(np.int64)
    return np.clip(step, 0, rows - 1)


def compiled_count():
    return len(cache.statistics.compiled)


@implementation(
    "cython",
    """
    cdef double squash(double x):
        return x / (1.0 + fabs(x))
    """,
)
@check_units(x=1, result=1)
def squash(x):
    return x / (1 + np.abs(x))


@implementation(
    "cython",
    """
    cdef double ohmic(double v):
        return v / 100e6
    """,
)
@check_units(v=volt, result=amp)
def ohmic(v):
    return v / (100 * Mohm)


# ---------------------------------------------------------------------------------------------
# parsing, units and translation (nothing compiled)
# ---------------------------------------------------------------------------------------------


def test_calls_of_other_names_parse_into_user_functions():
    expr = parse_expression("ta(t) + f(v, 2*x)")
    assert user_function_names(expr) == {"ta", "f"}
    assert {s.name for s in expr.free_symbols} == {"t", "v", "x"}
    # built-in functions stay what they were
    assert user_function_names(parse_expression("exp(v) + clip(v, 0, 1)")) == set()


@pytest.mark.parametrize(
    "text, problem",
    [
        ("__import__('os')", "unknown function"),
        ("_private(v)", "unknown function"),
        ("open(v)", "unknown function"),
        ("eval(v)", "unknown function"),
        ("malloc(8)", "unknown function"),
        ("f(v, scale=2)", "keyword"),
        ("v.f(1)", "plain name"),
        ("f('text')", "not a number"),
        ("t(1)", "not a function"),
    ],
)
def test_calls_that_cannot_be_user_functions_are_rejected_when_parsing(text, problem):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert problem in str(info.value)


def test_units_of_calls_come_from_the_function():
    ta = TimedArray([1, 2, 3] * mV, dt=1 * ms)
    dims = {"ta": ta, "ohmic": ohmic, "t": second.dim, "v": volt.dim, "x": DIMENSIONLESS}
    assert dimension_of(parse_expression("ta(t)"), dims) == volt.dim
    assert dimension_of(parse_expression("ohmic(v)*v"), dims) == (amp * volt).dim
    with pytest.raises(ExpressionError, match="argument t of ta.. must have units of"):
        dimension_of(parse_expression("ta(v)"), dims, "ta(v)")
    with pytest.raises(ExpressionError, match="argument v of ohmic.. must have units of"):
        dimension_of(parse_expression("ohmic(x)"), dims, "ohmic(x)")
    with pytest.raises(ExpressionError, match="takes 1 argument"):
        dimension_of(parse_expression("ta(t, x)"), dims)
    with pytest.raises(ExpressionError, match="needs to be called"):
        dimension_of(parse_expression("ta + 1"), dims)
    with pytest.raises(ExpressionError, match="unknown function nothere"):
        dimension_of(parse_expression("nothere(v)"), dims)
    with pytest.raises(ExpressionError, match="x is not a function"):
        dimension_of(parse_expression("x(v)"), dims)


def test_function_reads_check_units_and_other_declarations():
    @check_units(a=volt, b="a", result=volt**2)
    def product(a, b):
        return a * b

    function = Function(product)
    assert function._arg_names == ["a", "b"]
    dims = {"f": function, "v": volt.dim, "x": DIMENSIONLESS}
    assert dimension_of(parse_expression("f(v, v)"), dims) == (volt * volt).dim
    with pytest.raises(ExpressionError, match="argument b"):
        dimension_of(parse_expression("f(v, x)"), dims)
    assert function(2 * mV, 3 * mV) == 6 * mV * mV  # the Python version

    # units of the result as a function of the arguments' (Brian2's return_unit=callable)
    scaled = Function(
        lambda a, b: a * b, arg_units=[None, 1], arg_names=["a", "b"], return_unit=lambda a, b: a
    )
    assert dimension_of(parse_expression("f(v, x)"), {**dims, "f": scaled}) == volt.dim

    explicit = Function(lambda x: 2 * x, arg_units=[second], return_unit=second)
    assert dimension_of(parse_expression("f(t)"), {"f": explicit, "t": second.dim}) == second.dim

    def undeclared(x):
        return x

    with pytest.raises(ValueError, match="units"):
        Function(undeclared)
    with pytest.raises(ValueError, match="result"):
        Function(check_units(x=1)(undeclared))


class _Scope(Scope):
    """Names for translate(): v per element, tau a constant, t and i as in groups."""

    def __init__(self, functions):
        self.functions = functions

    def resolve(self, name):
        if name == "v":
            return Resolved("element", np.dtype(np.float64), "_g_v")
        if name == "tau":
            return Resolved("scalar", static="_g_tau")
        if name == "t":
            return Resolved("scalar")
        if name == "i":
            return Resolved("index", literal="_idx")
        if name in self.functions:
            return self.functions[name]
        raise ExpressionError(f"unknown identifier {name!r}")


def _function(cname, pure=True):
    return Resolved(
        "function", literal=cname, call=lambda args: f"{cname}({', '.join(args)})", pure=pure
    )


def test_only_calls_of_pure_functions_with_scalar_arguments_leave_the_loop():
    scope = _Scope({"f": _function("f"), "g": _function("g", pure=False), "h": _function("h")})
    expr = parse_expression("f(tau) + g(tau) + f(v) + h(t, i)")
    code = translate([("v", expr)], scope)
    scalar = "\n".join(code.scalar_lines)
    vector = "\n".join(code.vector_lines)
    assert "f(tau)" in scalar  # pure, same for all elements: once per step
    assert "g(tau)" in vector and "g(" not in scalar  # not pure: once per element
    assert "f(v)" in vector and "h(t, _idx)" in vector  # per-element arguments


def test_translation_says_unknown_function_and_not_called():
    scope = _Scope({"f": _function("f")})
    with pytest.raises(ExpressionError, match=r"unknown function nothere\(\)"):
        translate([("v", parse_expression("nothere(v)"))], scope)
    with pytest.raises(ExpressionError, match=r"unknown function v\(\)"):
        translate([("v", parse_expression("v(1)"))], scope)
    with pytest.raises(ExpressionError, match="needs to be called"):
        translate([("v", parse_expression("f + v"))], scope)


def test_cython_headers_get_nogil():
    code = (
        "cdef double f(double x):\n"
        "    return g(x)\n"
        "cdef inline double g(double x) nogil:\n"
        "    return x\n"
        "cdef double h(double x) except? -1:  # note\n"
        "    return x\n"
        "cdef double z = 3\n"
    )
    adapted = _without_gil(code).splitlines()
    assert adapted[0] == "cdef double f(double x) noexcept nogil:"
    assert adapted[2] == "cdef inline double g(double x) nogil:"
    assert adapted[4] == "cdef double h(double x) except? -1 nogil:  # note"
    assert adapted[6] == "cdef double z = 3"


def test_timedarray_called_from_python_follows_brian2():
    ta = TimedArray(np.arange(5.0) * mV, dt=1 * ms)
    times = np.array([-1, 0, 0.5, 0.99, 0.999, 0.9999, 1.0, 1.5, 2.0, 4.0, 4.99, 5.0, 100.0])
    # Brian2 2.11 gives these: the step switches dt/(2K) before the boundary (K = 128 here)
    expected = [0, 0, 0, 0, 1, 1, 1, 1, 2, 4, 4, 4, 4]
    np.testing.assert_array_equal(np.asarray(ta(times * ms) / mV), expected)
    two_d = TimedArray(np.arange(6.0).reshape(3, 2), dt=2 * ms)
    assert float(two_d(3 * ms, 1)) == 3.0
    with pytest.raises(DimensionMismatchError):
        ta(3)


def test_timedarray_needs_a_time_step_and_values():
    with pytest.raises(DimensionMismatchError):
        TimedArray([1, 2], dt=1)
    with pytest.raises(ValueError):
        TimedArray([], dt=1 * ms)
    with pytest.raises(NotImplementedError):
        TimedArray(np.zeros((2, 2, 2)), dt=1 * ms)


# ---------------------------------------------------------------------------------------------
# compiled
# ---------------------------------------------------------------------------------------------


def test_timedarray_lookups_match_closed_forms_and_brian2():
    aligned = TimedArray(np.arange(5.0) * mV, dt=1 * ms)  # 10 simulation steps per value
    offgrid = TimedArray(np.arange(12.0) ** 2, dt=0.25 * ms)  # 2.5 steps per value
    table = TimedArray(np.arange(12.0).reshape(4, 3) * nA, dt=0.3 * ms)  # (time, index)
    G = NeuronGroup(
        3,
        """
        x = aligned(t) : volt
        y = offgrid(t) : 1
        z = table(t, i) : amp
        """,
    )
    mon = StateMonitor(G, ["x", "y", "z"], record=True)
    run(7 * ms)
    k = np.arange(70)
    t = k * 0.1e-3
    # aligned: exact at boundaries (t = 1 ms gives values[1]), the first value in the middle
    # of a step, and the last value beyond the end
    np.testing.assert_array_equal(mon.x[0] / mV, np.minimum(k // 10, 4))
    np.testing.assert_array_equal(mon.x[0] / mV, brian2_step(t, 1e-3, 1e-4, 5))
    assert mon.x.dim == volt.dim
    np.testing.assert_array_equal(
        mon.y[0], np.minimum(np.floor(0.4 * k + 1e-9), 11).astype(int) ** 2
    )
    np.testing.assert_array_equal(mon.y[0], brian2_step(t, 0.25e-3, 1e-4, 12) ** 2)
    rows = brian2_step(t, 0.3e-3, 1e-4, 4)
    np.testing.assert_array_equal(rows, np.minimum(np.floor(k / 3 + 1e-9), 3))
    for i in range(3):
        np.testing.assert_allclose(mon.z[i] / nA, 3 * rows + i, rtol=0, atol=1e-12)


def test_timedarray_in_equations_resets_assignments_and_synapses():
    drive = TimedArray(np.sin(np.arange(40.0) / 3) * mV, dt=0.15 * ms)
    table = TimedArray(np.arange(10.0).reshape(5, 2) * mV, dt=0.2 * ms)
    tau = 1 * ms
    G = NeuronGroup(
        2,
        """
        dv/dt = (drive(t) - v)/tau : volt
        w : volt
        """,
        threshold="True",
        reset="w = table(t, i)",
        method="euler",
    )
    H = NeuronGroup(1, "u : volt")
    S = Synapses(G, H, on_pre="u_post += table(t, i)")
    S.connect()
    mon = StateMonitor(G, "v", record=[0])
    run(1 * ms)
    # Forward Euler with Brian2's lookups
    dt, v, expected = 1e-4, 0.0, []
    for k in range(10):
        expected.append(v)
        value = np.sin(brian2_step(k * dt, 0.15e-3, dt, 40) / 3) * 1e-3
        v = v + dt * (value - v) / 1e-3
    np.testing.assert_allclose(mon.v[0] / volt, expected, rtol=1e-12, atol=1e-18)
    # the reset of the last step (t = 0.9 ms: row 4)
    np.testing.assert_allclose(G.w[:] / mV, [8, 9])
    # every step both neurons spike; the synapses add the row of the step
    rows = brian2_step(np.arange(10) * dt, 0.2e-3, dt, 5)
    np.testing.assert_allclose(H.u[0] / mV, sum(4 * r + 1 for r in rows))
    G.w = "table(t, i) + drive(t)"  # a string assignment at t = 1 ms
    np.testing.assert_allclose(G.w[:] / mV, np.array([8, 9]) + np.sin(6 / 3), rtol=1e-12)


def _record_lookup(values, dt):
    start_scope()
    lookup = TimedArray(values, dt=dt)
    G = NeuronGroup(1, "x = lookup(t) : volt")
    mon = StateMonitor(G, "x", record=True)
    run(1 * ms)
    return lookup, mon


def test_changing_timedarray_values_compiles_nothing():
    _record_lookup(np.arange(3.0) * mV, 0.5 * ms)
    before = compiled_count()
    # other values, another number of them and another dt: the same module
    lookup, mon = _record_lookup(np.arange(20.0) * 2 * mV, 0.1 * ms)
    assert compiled_count() == before
    np.testing.assert_allclose(mon.x[0] / mV, 2 * np.arange(10))
    # values changed in place are seen by the next run
    lookup.values[:] = 7e-3
    run(0.5 * ms)
    assert compiled_count() == before
    np.testing.assert_allclose(mon.x[0][10:] / mV, 7)


def test_cython_function_in_equations_matches_its_python_version():
    tau = 2 * ms
    G = NeuronGroup(
        4,
        """
        dx/dt = (squash(y) - x)/tau : 1
        y : 1
        s = squash(y) : 1
        """,
        method="euler",
    )
    G.y = [-3, -0.5, 0, 2]
    run(1 * ms)
    target = squash(np.array([-3, -0.5, 0, 2]))
    np.testing.assert_allclose(G.s[:], target, rtol=1e-15)
    x = np.zeros(4)
    for _ in range(10):
        x = x + 1e-4 * (target - x) / 2e-3
    np.testing.assert_allclose(G.x[:], x, rtol=1e-13)
    # with units; the Cython code works on SI values
    H = NeuronGroup(2, "I = ohmic(v) : amp\nv : volt")
    H.v = [-70, 10] * mV
    np.testing.assert_allclose(H.I[:] / nA, ohmic([-70, 10] * mV) / nA, rtol=1e-14)


def test_dependencies_and_thresholds_use_the_cython_code():
    @implementation(
        "cython",
        """
        cdef double twice_squash(double x):
            return 2*squash(x)
        """,
        dependencies={"squash": squash},
    )
    @check_units(x=1, result=1)
    def twice_squash(x):
        return 2 * squash(x)

    G = NeuronGroup(3, "y : 1\nspiked : 1", threshold="twice_squash(y) > 1", reset="spiked = 1")
    G.y = [0.5, 1.0, 2.0]  # twice_squash: 0.67, 1, 1.33
    run(0.1 * ms)
    np.testing.assert_array_equal(G.spiked[:], [0, 0, 1])


def test_wrong_argument_units_are_errors_before_compiling():
    before = compiled_count()
    G = NeuronGroup(1, "I = ohmic(t) : amp\ndv/dt = I/(1*nF) : volt")
    with pytest.raises(ExpressionError, match=r"argument v of ohmic\(\) must have units of"):
        run(0.1 * ms)
    start_scope()
    lookup = TimedArray([1, 2] * mV, dt=1 * ms)
    G = NeuronGroup(1, "dv/dt = lookup(t)/ms : 1")
    with pytest.raises(ExpressionError, match="inconsistent units"):
        run(0.1 * ms)
    assert compiled_count() == before
    assert lookup is not None and G is not None


def test_function_without_cython_implementation_says_so():
    @check_units(x=1, result=1)
    def doubled(x):
        return 2 * x

    doubler = Function(doubled)
    assert doubler(3) == 6  # usable from Python
    before = compiled_count()
    G = NeuronGroup(1, "dx/dt = doubler(x)/ms : 1", method="euler")
    with pytest.raises(UserFunctionError) as info:
        run(0.1 * ms)
    message = str(info.value)
    assert "no Cython implementation" in message and "no Python fallback" in message
    assert compiled_count() == before
    assert G is not None


def test_unknown_functions_are_errors_at_resolution_and_compile_nothing():
    before = compiled_count()
    G = NeuronGroup(1, "dx/dt = nothere(x)/ms : 1", method="euler")
    with pytest.raises(ExpressionError, match=r"unknown function nothere\(\)"):
        run(0.1 * ms)
    with pytest.raises(ExpressionError, match="unknown function"):
        NeuronGroup(1, "dx/dt = __import__('os')/ms : 1")
    H = NeuronGroup(1, "x : 1")
    with pytest.raises(ExpressionError, match=r"unknown function nothere\(\)"):
        H.x = "nothere(1)"
    assert compiled_count() == before
    assert G is not None


def test_user_functions_appear_once_in_the_module():
    lookup = TimedArray(np.arange(4.0), dt=1 * ms)
    G = NeuronGroup(2, "a = lookup(t) : 1\nb = squash(lookup(t)) + squash(i) : 1")
    mon = StateMonitor(G, ["a", "b"], record=True)
    run(0.2 * ms)
    source = magic_network.generated_source_path.read_text()
    assert source.count("cdef inline double _timedarray_1d(") == 1
    assert source.count("cdef double squash(double x) noexcept nogil:") == 1
    assert "0.0, 1.0, 2.0" not in source  # values are an argument, not literals
    np.testing.assert_allclose(mon.b[1], squash(0.0) + squash(1.0))
    assert isinstance(parse_expression("squash(x)").func, sympy.core.function.UndefinedFunction)


def test_exact_integration_with_a_timed_array_input():
    # Brian2 integrates exactly when the input is constant over each step (a TimedArray whose
    # dt is a multiple of the group's): the result is the piecewise exponential relaxation
    ta = TimedArray([0, 10, 20, 5] * mV, dt=1 * ms)
    tau = 5 * ms
    G = NeuronGroup(1, "dv/dt = (ta(t) - v)/tau : volt")
    run(4 * ms)
    assert G.method_used == "exact"
    expected = 0.0
    for target in (0, 10, 20, 5):
        expected = target + (expected - target) * np.exp(-1 / 5)
    assert G.v[0] / mV == pytest.approx(expected, rel=1e-12)


def test_exprel_in_generated_code_at_its_edges():
    """``spikeforge_exprel`` chooses its argument instead of branching around ``expm1`` (so that
    loops calling it vectorise); its values are (exp(x) - 1)/x, 1 below 1e-16 in magnitude,
    infinite above 717 and NaN for NaN, as the formula with branches gives."""
    x = np.array(
        [0.0, -0.0, 1e-17, -1e-17, 1e-16, -1e-16, 1e-10, -1e-10, 1.0, -30.0, 700.0, 709.8]
        + [717.0, 717.5, 800.0, -800.0, np.inf, -np.inf, np.nan]
    )
    G = NeuronGroup(len(x), "x : 1\ny : 1")
    G.x = x
    G.y = "exprel(x)"

    def branching(v):  # the C library's expm1 (math.expm1), not NumPy's own
        if abs(v) < 1e-16:
            return 1.0
        if v > 717:
            return math.inf
        if math.isnan(v):
            return math.nan
        try:
            return math.expm1(v) / v
        except OverflowError:  # C's expm1 gives inf there
            return math.inf

    expected = [branching(float(v)) for v in x]
    np.testing.assert_array_equal(G.y[:], expected)  # NaN where expected is NaN
