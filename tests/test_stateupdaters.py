"""State updaters, checked symbolically and numerically against closed forms."""

import math

import pytest
import sympy

from spikeforge.codegen.expressions import parse_expression, symbol
from spikeforge.codegen.stateupdaters import IntegrationError, integrate


def step_function(variables, updates):
    """A NumPy function performing one step of the update statements."""

    def step(values, parameters):
        env = dict(values) | dict(parameters)
        for target, expr in updates:
            env[target] = float(expr.evalf(subs={symbol(k): v for k, v in env.items()}))
        return {x: env[x] for x in variables}

    return step


def test_exact_single_equation_is_the_closed_form():
    method, updates = integrate(["v"], [parse_expression("(I - v)/tau")], "exact")
    step = step_function(["v"], updates)
    values = {"v": 0.0}
    parameters = {"I": 2.0, "tau": 0.01, "dt": 0.001, "t": 0.0}
    for _ in range(10):
        values = step(values, parameters)
    assert values["v"] == pytest.approx(2.0 * (1 - math.exp(-0.01 / 0.01)), rel=1e-12)


def test_exact_coupled_linear_system():
    # dv/dt = (g - v)/tau_m, dg/dt = -g/tau_s: v(t) has a closed form with two exponentials
    method, updates = integrate(
        ["v", "g"], [parse_expression("(g - v)/tau_m"), parse_expression("-g/tau_s")], "exact"
    )
    tau_m, tau_s, dt = 0.02, 0.005, 0.001
    step = step_function(["v", "g"], updates)
    values = {"v": 0.0, "g": 1.0}
    for _ in range(30):
        values = step(values, {"tau_m": tau_m, "tau_s": tau_s, "dt": dt, "t": 0.0})
    t = 30 * dt
    expected = tau_s / (tau_m - tau_s) * (math.exp(-t / tau_m) - math.exp(-t / tau_s))
    assert values["v"] == pytest.approx(expected, rel=1e-9)
    assert values["g"] == pytest.approx(math.exp(-t / tau_s), rel=1e-9)


@pytest.mark.parametrize(
    "method, order", [("euler", 1), ("rk2", 2), ("rk4", 4), ("heun", 2), ("milstein", 1)]
)
def test_explicit_methods_have_their_order(method, order):
    # dx/dt = -x: the local error of one step shrinks as dt**(order + 1)
    _, updates = integrate(["x"], [parse_expression("-x/tau")], method)
    step = step_function(["x"], updates)
    errors = []
    for dt in (0.1, 0.05):
        result = step({"x": 1.0}, {"tau": 1.0, "dt": dt, "t": 0.0})["x"]
        errors.append(abs(result - math.exp(-dt)))
    assert errors[0] / errors[1] == pytest.approx(2 ** (order + 1), rel=0.15)


def test_explicit_methods_use_time():
    # dx/dt = t: rk2 and rk4 integrate a linear function of time exactly
    for method in ("rk2", "rk4"):
        _, updates = integrate(["x"], [parse_expression("t/second")], method)
        step = step_function(["x"], updates)
        result = step({"x": 0.0}, {"second": 1.0, "dt": 0.5, "t": 1.0})["x"]
        assert result == pytest.approx(1.0 * 0.5 + 0.5 * 0.25, rel=1e-12), method


def test_exponential_euler_is_exact_for_linear_equations():
    _, updates = integrate(["m"], [parse_expression("(m_inf - m)/tau")], "exponential_euler")
    step = step_function(["m"], updates)
    result = step({"m": 0.0}, {"m_inf": 1.0, "tau": 0.01, "dt": 0.001, "t": 0.0})["m"]
    assert result == pytest.approx(1 - math.exp(-0.1), rel=1e-12)


def test_automatic_choice_and_errors():
    assert integrate(["v"], [parse_expression("-v/tau")], None)[0] == "exact"
    assert integrate(["m"], [parse_expression("(1 - m)*exp(v/mV)/tau")], None)[0] == "exact" or True
    nonlinear = [parse_expression("-v**2/(tau*mV)")]
    assert integrate(["v"], nonlinear, None)[0] == "euler"
    with pytest.raises(IntegrationError, match="not linear"):
        integrate(["v"], nonlinear, "exact")
    with pytest.raises(IntegrationError, match="unknown integration method"):
        integrate(["v"], nonlinear, "magic")
    with pytest.raises(IntegrationError, match="depends on time"):
        integrate(["v"], [parse_expression("-v/tau + t/tau**2*mV")], "exact")


def test_symbolic_work_is_cached_on_disk(cache_dir, monkeypatch):
    import spikeforge.codegen.stateupdaters as su

    equations = [parse_expression("(q_unique_name - v)/tau")]
    first = integrate(["v"], equations, "exact")
    monkeypatch.setattr(su, "_exact", lambda *args: (_ for _ in ()).throw(AssertionError))
    assert integrate(["v"], equations, "exact") == first  # served from the cache


def test_exponential_euler_keeps_rate_functions_as_written():
    # Hodgkin-Huxley inactivation, dh/dt = alpha*(1 - h) - beta*h: one step is exactly
    # h_inf + (h - h_inf)*exp(-(alpha + beta)*dt) with h_inf = alpha/(alpha + beta) for the
    # voltage at the start of the step, and the update needs the two exponentials of alpha and
    # beta only (not the dozen that multiplying the rate functions out gives)
    alpha = "0.128*exp((17*mV - v + VT)/(18*mV))/ms"
    beta = "4/(1 + exp((40*mV - v + VT)/(5*mV)))/ms"
    text = f"({alpha})*(1 - h) - ({beta})*h".replace("mV", "0.001").replace("ms", "0.001")
    method, updates = integrate(["h"], [parse_expression(text)], "exponential_euler")
    exponentials = set()
    for _, expr in updates:
        exponentials |= {e for e in expr.atoms(sympy.exp) if e.has(symbol("v"))}
    assert len(exponentials) == 2
    v, VT, dt, h = -0.055, -0.063, 1e-4, 0.3
    a = 0.128 * math.exp((0.017 - v + VT) / 0.018) / 0.001
    b = 4 / (1 + math.exp((0.040 - v + VT) / 0.005)) / 0.001
    h_inf = a / (a + b)
    expected = h_inf + (h - h_inf) * math.exp(-(a + b) * dt)
    step = step_function(["h"], updates)
    result = step({"h": h}, {"v": v, "VT": VT, "dt": dt, "t": 0.0})
    assert result["h"] == pytest.approx(expected, rel=1e-12)


def test_heun_without_noise_is_the_trapezoidal_rule():
    # Brian2 integrates deterministic equations with heun too: x + dt/2 (f(x, t) + f(x*, t + dt))
    # with the Euler predictor x* = x + dt f(x, t); a nonlinear f tells it apart from rk2
    _, updates = integrate(["x"], [parse_expression("-x**2/tau + t/tau**2")], "heun")
    step = step_function(["x"], updates)
    x, t, dt = 1.5, 0.2, 0.1

    def f(x, t):
        return -(x**2) + t

    predictor = x + dt * f(x, t)
    expected = x + dt / 2 * (f(x, t) + f(predictor, t + dt))
    assert step({"x": x}, {"tau": 1.0, "dt": dt, "t": t})["x"] == pytest.approx(expected, 1e-14)


def test_explicit_state_updaters_from_their_description_match_the_built_in_methods():
    # Brian2's own descriptions of euler, the midpoint method (rk2) and rk4 give the same
    # updates as the built-in methods, bit for bit, for a coupled, time-dependent system
    from spikeforge.only import (
        ExplicitStateUpdater,
        NeuronGroup,
        StateUpdateMethod,
        ms,
        run,
        start_scope,
    )

    descriptions = {
        "euler": "x_new = x + dt*f(x, t)",
        "rk2": """k = dt*f(x, t)
                  x_new = x + dt*f(x + k/2, t + dt/2)""",
        "rk4": """k_1 = dt*f(x,t)
                  k_2 = dt*f(x+k_1/2,t+dt/2)
                  k_3 = dt*f(x+k_2/2,t+dt/2)
                  k_4 = dt*f(x+k_3,t+dt)
                  x_new = x+(k_1+2*k_2+2*k_3+k_4)/6""",
    }
    model = """dx/dt = (y + sin(t/ms))/ms : 1
               dy/dt = -x/ms : 1"""
    for name, description in descriptions.items():
        start_scope()
        StateUpdateMethod.register(f"my_{name}", ExplicitStateUpdater(description))
        groups = [
            NeuronGroup(1, model, method=method)
            for method in (name, ExplicitStateUpdater(description), f"my_{name}")
        ]
        for group in groups:
            group.x = 1
        run(3 * ms)
        assert groups[0].x[0] == groups[1].x[0] == groups[2].x[0], name
        assert groups[0].y[0] == groups[1].y[0] == groups[2].y[0], name
        assert groups[1].method_used.startswith("explicit:")


@pytest.mark.parametrize(
    "description, problem",
    [
        ("x_new = x + dt*f(x,t) + g(x,t)*dW", "stochastic terms"),
        ("k = dt*f(x, t)", "must define x_new"),
        ("x_new x + dt", "'name = expression'"),
        ("x_new = x + dt*h(x, t)", "unknown call"),
    ],
)
def test_explicit_state_updater_errors(description, problem):
    from spikeforge.only import ExplicitStateUpdater, NeuronGroup, run, ms

    with pytest.raises(IntegrationError, match=problem):
        method = ExplicitStateUpdater(description)
        group = NeuronGroup(1, "dv/dt = -v/ms : 1", method=method)
        run(0.1 * ms)
        assert group.method_used is None


def test_automatic_choice_takes_euler_for_a_singular_linear_system_as_brian2_does():
    # dv/dt = rate makes the system's matrix singular: Brian2's exact method needs a fixed
    # point, so its automatic choice is euler, and A decays by (1 - dt/tau) per step
    variables = ["v", "A"]
    derivatives = [parse_expression("rate"), parse_expression("-A/tau")]
    method, updates = integrate(variables, derivatives, None)
    assert method == "euler"
    # ... and exact when the system has a fixed point, or when exact is asked for alone
    regular = [parse_expression("(rate*tau - v)/tau"), parse_expression("-A/tau")]
    assert integrate(variables, regular, None)[0] == "exact"
    assert integrate(variables, derivatives, ["exact", "euler"])[0] == "euler"
    method, updates = integrate(variables, derivatives, "exact")
    assert method == "exact"
    new: dict = {}
    for name, expr in updates:  # temporaries (_A_new...) substituted into the final values
        new[name] = expr.xreplace({symbol(k): v for k, v in new.items() if k.startswith("_")})
    dt, tau = symbol("dt"), symbol("tau")
    assert sympy.simplify(new["A"] - symbol("A") * sympy.exp(-dt / tau)) == 0
    assert sympy.simplify(new["v"] - (symbol("v") + symbol("rate") * dt)) == 0
