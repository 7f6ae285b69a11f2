"""Stochastic differential equations (xi): Ornstein-Uhlenbeck variance, method choice, seeds."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from spikeforge.only import *


def discrete_ou_variance(method: str, a: float, sigma2: float) -> float:
    """Stationary variance of the scheme applied to dv = -v/tau dt + sqrt(2 sigma2/tau) dW
    with a = dt/tau (additive noise: Euler-Maruyama and Milstein coincide)."""
    noise = 2 * a * sigma2  # g**2 dt
    if method in ("euler", "milstein"):
        return noise / (1 - (1 - a) ** 2)
    c = 1 - a + a * a / 2  # heun: v_new = c v + (1 - a/2) g dW
    return noise * (1 - a / 2) ** 2 / (1 - c * c)


@pytest.mark.parametrize("method", ["euler", "heun", "milstein"])
def test_ornstein_uhlenbeck_stationary_variance(method):
    seed(31)
    tau, sigma = 2 * ms, 2 * mV
    defaultclock.dt = 0.1 * ms  # a = 0.05: the schemes' variances differ from sigma**2
    G = NeuronGroup(40000, "dv/dt = -v/tau + sigma*sqrt(2/tau)*xi : volt", method=method)
    run(40 * ms)  # 20 tau: stationary
    expected = discrete_ou_variance(method, 0.05, 4.0)
    measured = np.var(G.v[:] / mV)
    # the sample variance of 40000 normal values has a relative s.d. of 0.7%
    assert measured == pytest.approx(expected, rel=5 * np.sqrt(2 / 40000))
    assert abs(np.mean(G.v[:] / mV)) < 5 * np.sqrt(expected / 40000)


def test_methods_are_chosen_as_in_brian2():
    additive = NeuronGroup(1, "dv/dt = -v/(10*ms) + xi/sqrt(ms) : 1")
    multiplicative = NeuronGroup(1, "dv/dt = -v/(10*ms) + v*xi/sqrt(ms) : 1")
    run(0.1 * ms)
    assert additive.method_used == "euler"
    assert multiplicative.method_used == "heun"


def test_multiplicative_noise_is_stratonovich_with_heun():
    # dv = -v/tau dt + s v o dW (Stratonovich): E[v] decays with rate 1/tau - s**2/2
    seed(3)
    tau, s = 10 * ms, 0.1 * (10 * ms) ** -0.5
    G = NeuronGroup(40000, "dv/dt = -v/tau + s*v*xi : 1", method="heun")
    G.v = 1
    run(10 * ms)
    rate = 1 / 0.01 - 0.1**2 / 0.01 / 2
    assert np.mean(G.v[:]) == pytest.approx(np.exp(-rate * 0.01), rel=0.01)


def test_noise_units_and_misuse_are_errors():
    G = NeuronGroup(1, "dv/dt = -v/(10*ms) + xi*mV : volt", method="euler")
    with pytest.raises(EquationError, match="inconsistent units"):
        run(0.1 * ms)
    with pytest.raises(EquationError, match="only appear in differential"):
        NeuronGroup(1, "x = xi : 1")
    start_scope()
    H = NeuronGroup(1, "dv/dt = -v/(10*ms) + xi/sqrt(ms) : 1", method="exact")
    with pytest.raises(IntegrationError, match="cannot integrate stochastic"):
        run(0.1 * ms)


def test_shared_noise_term_is_the_same_draw():
    # two variables driven by the same xi receive the same increment every step
    G = NeuronGroup(100, "da/dt = xi/sqrt(ms) : 1\ndb/dt = 2*xi/sqrt(ms) : 1", method="euler")
    run(1 * ms)
    np.testing.assert_allclose(G.b[:], 2 * G.a[:], rtol=1e-12)


SCRIPT = textwrap.dedent("""
    import hashlib, numpy as np
    from spikeforge import *
    seed(1234)
    G = NeuronGroup(500, 'dv/dt = -v/(10*ms) + xi*sqrt(2/(10*ms)) : 1', threshold='v > 1',
                    reset='v = 0', method='euler')
    G.v = 'rand()'
    spikes = SpikeMonitor(G)
    run(50*ms)
    print(hashlib.sha256(G.v[:].tobytes() + spikes.i.tobytes()).hexdigest())
""")


def test_same_seed_gives_bitwise_identical_results_across_processes():
    digests = set()
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        digests.add(result.stdout.strip().splitlines()[-1])
    assert len(digests) == 1
    # and in this process, too
    namespace = {}
    exec(compile(SCRIPT.replace("print(", "result = ("), "script", "exec"), namespace)
    assert namespace["result"] in digests


def test_noise_in_a_subexpression_has_the_ou_stationary_variance():
    # Brian2 allows a named noise term (xi_1...) in a subexpression that a differential
    # equation uses; the substituted equation is the OU process of the first test
    seed(17)
    tau, sigma = 2 * ms, 2 * mV  # noqa: F841 (used by the equations)
    G = NeuronGroup(
        40000,
        "dv/dt = -v/tau + I : volt\nI = sigma*sqrt(2/tau)*xi_1 : volt/second",
        method="euler",
    )
    run(40 * ms)
    expected = discrete_ou_variance("euler", 0.05, 4.0)
    assert np.var(G.v[:] / mV) == pytest.approx(expected, rel=5 * np.sqrt(2 / 40000))
    with pytest.raises(EquationError, match="only appear in differential"):
        NeuronGroup(1, "dv/dt = -v/tau + I : volt\nI = xi*mV/ms**0.5 : volt/second")
    start_scope()
    H = NeuronGroup(1, G.equations, threshold="I > 0*volt/second", method="euler", name="h")
    with pytest.raises(ExpressionError, match=r"'h', threshold.*'xi_1' is only defined"):
        run(0.1 * ms)
    del H


def test_noise_in_clock_driven_synaptic_equations():
    seed(5)
    tau = 2 * ms  # noqa: F841
    G = NeuronGroup(100, "v : 1")
    S = Synapses(
        G,
        G,
        """dw/dt = -w/tau + 2*sqrt(2/tau)*xi : 1 (clock-driven)
           du/dt = -u/tau + noise : 1 (clock-driven)
           noise = 2*sqrt(2/tau)*xi_1 : Hz""",
        method="euler",
    )
    S.connect()
    run(40 * ms)
    expected = discrete_ou_variance("euler", 0.05, 4.0)
    assert S.method_used == "euler"
    for values in (S.w[:], S.u[:]):
        assert np.var(values) == pytest.approx(expected, rel=5 * np.sqrt(2 / 10000))
    assert abs(np.corrcoef(S.w[:], S.u[:])[0, 1]) < 0.05  # xi and xi_1 are independent
