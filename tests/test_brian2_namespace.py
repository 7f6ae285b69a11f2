"""Brian2's namespace: what `from spikeforge import *` binds, `spikeforge.only`, constants,
unit-aware NumPy functions and `stop()`."""

import subprocess
import sys

import numpy as np
import pytest

from spikeforge import *


def _python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_star_import_gives_brian2s_names():
    """np/numpy with unit-aware functions, pylab's plotting names (with matplotlib), NumPy's
    names, and spikeforge's names over pylab's (cm is a centimetre, seed is spikeforge's)."""
    out = _python(
        "from spikeforge import *\n"
        "import spikeforge\n"
        "print(np.arange(0*ms, 3*ms, 1*ms).dim == second.dim, numpy is np)\n"
        "print(callable(plot), callable(figure), zeros(2).shape, pi == np.pi)\n"
        "print(cm == 0.01*metre, seed is spikeforge.seed, linspace(0*mV, 1*mV, 3)[1] == 0.5*mV)\n"
        "print('test' in dir())\n"
    )
    assert out.splitlines() == ["True True", "True True (2,) True", "True True True", "False"]


def test_importing_the_package_does_not_import_matplotlib():
    out = _python(
        "import sys, spikeforge\n"
        "print('matplotlib' in sys.modules)\n"
        "from spikeforge.only import *\n"
        "print('matplotlib' in sys.modules, 'plot' in dir(), 'np' in dir(), 'NeuronGroup' in dir())"
    )
    assert out.splitlines() == ["False", "False False False True"]


def test_constants_and_unit_submodules():
    from spikeforge.units import mV as millivolt
    from spikeforge.units.constants import (
        avogadro_constant,
        boltzmann_constant,
        elementary_charge,
        faraday_constant,
        gas_constant,
        zero_celsius,
    )

    assert millivolt == mV
    assert float(faraday_constant) == pytest.approx(
        float(avogadro_constant * elementary_charge), rel=1e-15
    )
    assert float(gas_constant) == pytest.approx(
        float(avogadro_constant * boltzmann_constant), rel=1e-15
    )
    assert faraday_constant.dim == (coulomb / mole).dim
    assert float(zero_celsius) == 273.15
    # E_K of a Nernst potential at 37 degrees, in volts: R T / F ln(5/140)
    T = zero_celsius + 37 * kelvin
    nernst = gas_constant * T / faraday_constant * np.log(5 / 140)
    assert nernst.dim == volt.dim and float(nernst) == pytest.approx(-0.0890, abs=1e-4)


def test_unit_aware_numpy_functions():
    assert arange(0 * ms, 1 * ms, 0.25 * ms).dim == second.dim
    assert list(arange(3)) == [0, 1, 2]
    with pytest.raises(DimensionMismatchError):
        arange(0 * ms, 1 * mV, 0.1 * ms)
    assert exprel(0.0) == 1.0 and exprel(1.0) == pytest.approx(np.e - 1)
    assert np.allclose(exprel(np.array([1e-10, -2.0])), [1.0, (np.exp(-2) - 1) / -2])
    assert ptp([1, 4] * mV) == 3 * mV and trace(np.eye(2) * mV) == 2 * mV
    assert not hasattr(ones_like([1, 2] * mV), "dim")
    with pytest.raises(DimensionMismatchError):
        exp(3 * mV)


def test_integration_methods_by_name_without_quotes():
    G = NeuronGroup(1, "dv/dt = -v/(10*ms) : 1", method=euler)
    G.v = 1
    run(1 * ms)
    assert G.v[0] == pytest.approx((1 - 0.01) ** 10)


def test_stop_ends_the_run_after_the_current_step():
    """stop() from a network operation: the run ends with that step; time, state and monitors
    agree, and a later run continues."""
    G = NeuronGroup(1, "dv/dt = 1/second : 1", method="euler")
    trace = StateMonitor(G, "v", record=0)

    @network_operation(dt=1 * ms)
    def halt(t):
        if t >= 3 * ms:
            stop()

    run(10 * ms)
    steps = len(trace.t)
    assert magic_network.t == steps * defaultclock.dt
    assert steps == 31  # the operation runs at the start of step 30 (t = 3 ms)
    assert G.v[0] == pytest.approx(steps * 1e-4)
    halt.active = False
    run(1 * ms)
    assert len(trace.t) == steps + 10


def test_run_accepts_profile_and_reports_timings():
    G = NeuronGroup(1, "v : 1")
    run(1 * ms, profile=True)
    lines = profiling_summary().splitlines()
    assert [line.split(":")[0] for line in lines] == ["preparation", "build", "loop", "total"]
    assert all(float(line.split(":")[1].split()[0]) >= 0 for line in lines)
    # show=k keeps the k longest phases (Brian2's argument); a prompt shows the text itself
    seconds = {line.split(":")[0]: float(line.split(":")[1].split()[0]) for line in lines}
    longest = max(["preparation", "build", "loop"], key=lambda name: seconds[name])
    shown = profiling_summary(show=1)
    assert [line.split(":")[0] for line in shown.splitlines()] == [longest, "total"]
    assert repr(shown) == str(shown) and repr(scheduling_summary()).startswith("neurongroup")
    # Brian2's profiling_info: (name, time) pairs, longest first, adding up to the run's time
    info = magic_network.profiling_info
    assert sorted(name for name, _ in info) == ["build", "loop", "preparation"]
    times = [float(seconds) for _, seconds in info]
    assert times == sorted(times, reverse=True)
    statistics = magic_network.last_run_statistics
    assert sum(times) == pytest.approx(statistics["total"], abs=0.01)
    with pytest.raises(ValueError, match="has not run yet"):
        _ = Network(G).profiling_info


def test_clock_time_follows_the_run():
    """defaultclock.t is the time of the step a network operation runs in, and the end of the
    last run afterwards (Brian2's network_operation_stop example reads it)."""
    seen = []
    G = NeuronGroup(1, "v : 1")

    @network_operation(dt=1 * ms)
    def look():
        seen.append(float(defaultclock.t / ms))

    run(3 * ms)
    assert seen == pytest.approx([0.0, 1.0, 2.0])
    assert defaultclock.t == 3 * ms and defaultclock.timestep == 30
    start_scope()
    assert defaultclock.t == 0 * ms


def test_smaller_brian2_habits():
    """NeuronGroup(10.0), names with a double underscore, 0 with any unit inside clip(),
    range() as values, S[i, :] for synapse indices, BrianLogger, zeros beside quantities."""
    G = NeuronGroup(
        10.0,
        "dtheta/dt = (a*clip(v - v_i, 0*mV, inf*mV) - theta)/(5*ms) : volt\n"
        "v : volt\nv_i : volt\nU_0__star : 1",
        method="euler",
    )
    assert G.N == 10
    G.v = 2 * mV
    G.U_0__star = range(10)
    a = 1
    run(0.1 * ms)
    assert list(G.U_0__star[:]) == list(range(10))
    assert float(G.theta[0]) == pytest.approx(float(2 * mV) * 0.1 / 5)
    S = Synapses(G, G, "w : 1")
    S.connect()
    assert list(S[3, :]) == [k for k, i in enumerate(S.i[:]) if i == 3]
    BrianLogger.log_level_error()
    stacked = np.vstack(([1, 2] * mV, np.zeros(2)))
    assert stacked.dim == volt.dim and stacked[1, 0] == 0 * mV
    with pytest.raises(ExpressionError, match="link__"):
        NeuronGroup(1, "link__x : 1")


def test_one_element_of_a_state_monitor():
    G = NeuronGroup(2, "dv/dt = -v/(10*ms) : 1", method="exact")
    G.v = [1, 2]
    mon = StateMonitor(G, "v", record=True)
    run(1 * ms)
    assert np.array_equal(mon[1].t, mon.t) and len(mon[1].t) == 10
    assert np.array_equal(mon[1].v, mon.v[1]) and np.array_equal(mon[1].v_, mon.v_[1])


def test_counts_per_neuron_and_the_core_functions_path():
    from spikeforge.core.functions import timestep  # Brian2's module path, as scripts use it

    G = NeuronGroup(3, "v : 1")
    S = Synapses(G, G)
    S.connect(j="i")
    S.connect(i=0, j=2)
    assert S.N_incoming_post.tolist() == [1, 1, 2]
    assert S.N_outgoing_pre.tolist() == [2, 1, 1]
    assert S.N_incoming[:].tolist() == [1, 1, 2, 2]
    assert timestep(0.35 * ms, 0.1 * ms) == 3
    assert timestep(np.array([0.1, 0.2]) * ms, 0.1 * ms).tolist() == [1, 2]
