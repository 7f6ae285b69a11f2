"""Neuron groups compiled and run: closed forms, schedule semantics, assignments, errors."""

import math

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.codegen import cache


def test_exponential_decay_matches_closed_form():
    tau = 10 * ms
    G = NeuronGroup(3, "dv/dt = -v/tau : volt", method="exact")
    G.v = [1, 2, 3] * mV
    mon = StateMonitor(G, "v", record=True)
    run(20 * ms)
    t = mon.t / second
    expected = np.outer([1e-3, 2e-3, 3e-3], np.exp(-t / 0.01))
    np.testing.assert_allclose(mon.v / volt, expected, rtol=1e-12)
    np.testing.assert_allclose(G.v[:] / mV, np.array([1, 2, 3]) * np.exp(-2.0), rtol=1e-12)


def test_exact_and_rk4_agree_on_a_linear_system():
    tau_m, tau_s = 20 * ms, 5 * ms
    eqs = "dv/dt = (g - v)/tau_m : volt\ndg/dt = -g/tau_s : volt"
    results = {}
    for method in ("exact", "rk4"):
        start_scope()
        G = NeuronGroup(1, eqs, method=method)
        G.g = 10 * mV
        run(30 * ms)
        results[method] = G.v[0] / mV
    t = 0.03
    closed = 10 * 0.005 / 0.015 * (math.exp(-t / 0.02) - math.exp(-t / 0.005))
    assert results["exact"] == pytest.approx(closed, rel=1e-10)
    assert results["rk4"] == pytest.approx(closed, rel=1e-7)


def test_lif_rate_under_constant_drive():
    # period T = t_ref + tau*log((I - v_r)/(I - v_t)); on a grid of dt the period is a whole
    # number of steps in (T - dt, T]: the crossing is found at the end of a step, but the spike
    # (and the refractory period) is dated at its start.
    tau, v_t, v_r, t_ref = 10 * ms, -50 * mV, -60 * mV, 2 * ms
    G = NeuronGroup(
        5,
        "dv/dt = (I - v)/tau : volt (unless refractory)\nI : volt (constant)",
        threshold="v > v_t",
        reset="v = v_r",
        refractory=t_ref,
        method="exact",
    )
    G.v = v_r
    G.I = "-45*mV + 5*mV*i"
    spikes = SpikeMonitor(G)
    run(1 * second)
    drive = -45e-3 + 5e-3 * np.arange(5)
    period = 0.002 + 0.01 * np.log((drive + 0.06) / (drive + 0.05))
    counts = spikes.count
    assert np.all(counts >= np.floor(1.0 / period))
    assert np.all(counts <= np.floor(1.0 / (period - 1e-4)) + 1)
    # the spike times of each neuron are evenly spaced (a regular oscillator)
    trains = spikes.spike_trains()
    for k in range(5):
        intervals = np.diff(trains[k] / second)
        assert np.ptp(intervals) <= 1.01e-4


def test_refractory_period_and_schedule():
    # a huge drive: spikes at 0, 2, 4 ms (integration resumes in the step starting at
    # lastspike + refractory), recorded with the time of the step's start
    G = NeuronGroup(
        1,
        "dv/dt = 1*volt/ms : volt (unless refractory)",
        threshold="v > 0*volt",
        reset="v = -1e-6*volt",
        refractory=2 * ms,
        method="euler",
    )
    mon = SpikeMonitor(G)
    state = StateMonitor(G, "v", record=0)
    G.v = 1 * volt
    run(5 * ms)
    np.testing.assert_allclose(mon.t / ms, [0.0, 2.0, 4.0], atol=1e-12)
    assert state.t[0] == 0 * ms and state.v[0][0] == 1 * volt  # recorded before the update


def test_boolean_refractoriness_blocks_repeated_spikes():
    G = NeuronGroup(
        1,
        "dv/dt = (2*volt - v)/ms : volt",
        threshold="v > 1*volt",
        refractory="v > 1*volt",
        reset="",
        method="exact",
    )
    mon = SpikeMonitor(G)
    run(3 * ms)
    assert mon.num_spikes == 1  # v stays above 1 volt: refractory, no second spike


def test_population_rate_is_spikes_per_step_over_n_dt():
    G = NeuronGroup(4, "dv/dt = 1/ms : 1", threshold="v > 0.5", reset="v = 0", method="euler")
    G.v = "i*0.25"
    rate = PopulationRateMonitor(G)
    spikes = SpikeMonitor(G)
    run(2 * ms)
    steps = np.round(spikes.t / defaultclock.dt).astype(int)
    expected = np.bincount(steps, minlength=20) / (4 * 1e-4)
    np.testing.assert_allclose(rate.rate / Hz, expected)


def test_string_assignments_and_indexing():
    G = NeuronGroup(10, "x : 1\nn : integer\nflag : boolean\ny : volt")
    G.x = "i / N"
    np.testing.assert_allclose(G.x[:], np.arange(10) / 10)
    G.n = "i * 2.7"  # truncated, as Brian2 does for integer variables
    np.testing.assert_array_equal(G.n[:], (np.arange(10) * 2.7).astype(int))
    G.flag = "i % 3 == 0"
    np.testing.assert_array_equal(G.flag[:], np.arange(10) % 3 == 0)
    G.y["i >= 5"] = 2 * mV
    np.testing.assert_allclose(G.y[:] / mV, [0] * 5 + [2] * 5)
    G.y[:2] = [7, 8] * mV
    assert G.y[1] == 8 * mV
    assert list(G.x["x > 0.65"]) == pytest.approx([0.7, 0.8, 0.9])
    with pytest.raises(DimensionMismatchError):
        G.y = 3 * second
    with pytest.raises(ExpressionError, match="inconsistent units"):
        G.y = "i * second"


def test_random_numbers_are_uniform_and_seeded():
    G = NeuronGroup(20000, "u : 1\nz : 1")
    seed(42)
    G.u = "rand()"
    G.z = "randn()"
    first = G.u[:].copy()
    assert 0 <= first.min() and first.max() < 1
    assert abs(first.mean() - 0.5) < 0.01 and abs(first.var() - 1 / 12) < 0.003
    assert abs(G.z[:].mean()) < 0.03 and abs(G.z[:].std() - 1) < 0.02
    seed(42)
    G.u = "rand()"
    np.testing.assert_array_equal(G.u[:], first)
    # as in Brian2's runtime mode, seed() seeds NumPy's global random numbers too, so a
    # script's initial values drawn with NumPy repeat
    seed(7)
    drawn = np.random.rand(5)
    seed(7)
    np.testing.assert_array_equal(np.random.rand(5), drawn)
    seed(2**40 + 7)  # any integer, as for the generated code's numbers
    np.testing.assert_array_equal(np.random.rand(5), drawn)


def test_subexpressions_and_external_constants():
    gain = 3.0
    G = NeuronGroup(2, "dv/dt = drive/ms : 1\ndrive = gain*(i + 1) : 1", method="euler")
    run(1 * ms)
    np.testing.assert_allclose(G.v[:], [3.0, 6.0], rtol=1e-12)
    np.testing.assert_allclose(G.drive[:], [3.0, 6.0])
    mon = StateMonitor(G, "drive", record=[1])
    run(0.2 * ms)
    assert np.allclose(mon.drive[0], 6.0)


def test_successive_runs_continue_and_constant_changes_compile_nothing():
    tau = 10 * ms
    G = NeuronGroup(1, "dv/dt = -v/tau : 1", method="exact")
    G.v = 1
    run(10 * ms)
    compiled_before = len(cache.statistics.compiled)
    tau = 5 * ms  # noqa: F841  (read by the next run from this frame)
    run(10 * ms)
    assert len(cache.statistics.compiled) == compiled_before
    assert G.v[0] == pytest.approx(math.exp(-1) * math.exp(-2), rel=1e-12)
    assert magic_network.t == 20 * ms


def test_changing_the_size_compiles_nothing():
    sizes_compiled = []
    for size in (10, 37):
        start_scope()
        G = NeuronGroup(
            size, "dv/dt = -v/(10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact"
        )
        SpikeMonitor(G)
        before = len(cache.statistics.compiled)
        run(1 * ms)
        sizes_compiled.append(len(cache.statistics.compiled) - before)
    assert sizes_compiled[1] == 0


def test_run_duration_rounding_follows_brian2():
    G = NeuronGroup(1, "dv/dt = 1/second : 1", method="euler")
    mon = StateMonitor(G, "v", record=0)
    run(0.25 * ms)
    assert len(mon.t) == 3 and magic_network.t == 0.25 * ms
    run(0.25 * ms)
    np.testing.assert_allclose(mon.t / ms, [0, 0.1, 0.2, 0.3, 0.4], atol=1e-12)


def test_generated_code_is_readable_on_disk():
    G = NeuronGroup(
        2, "dv/dt = -v/(5*ms) : volt", threshold="v > 1*mV", reset="v = 0*mV", method="exact"
    )
    SpikeMonitor(G)
    run(0.1 * ms)
    path = magic_network.generated_source_path
    text = path.read_text()
    assert path.suffix == ".pyx" and path.parent == magic_network.generated_code_dir
    assert "def run_steps" in text and "cdef void ng0_stateupdate" in text
    assert "PyCapsule_GetPointer" in text  # monitors reach their C++ vectors through capsules
    assert list(path.parent.glob("*.so"))


def test_explicit_network_and_shared_variables():
    G = NeuronGroup(3, "dv/dt = rate_s : 1\nrate_s : hertz (shared)", method="euler")
    G.rate_s = 2 * kHz
    assert G.rate_s[:] == 2 * kHz
    net = Network(G)
    net.run(1 * ms)
    np.testing.assert_allclose(G.v[:], [2.0, 2.0, 2.0], rtol=1e-12)
    assert net.t == 1 * ms and magic_network.t == 0 * ms
    H = NeuronGroup(1, "dw/dt = 1/second : 1", method="euler")  # not in net: does not run
    net.run(1 * ms)
    assert H.w[0] == 0


def test_schedule_summary_lists_objects_in_step_order():
    G = NeuronGroup(1, "dv/dt = -v/(10*ms) : 1", threshold="v > 1", method="exact", name="g")
    state = StateMonitor(G, "v", record=0, name="state")
    spikes = SpikeMonitor(G, name="spikes")
    rates = PopulationRateMonitor(G, name="rates")
    lines = Network(rates, spikes, G, state).scheduling_summary().splitlines()
    assert [line.split()[0] for line in lines] == ["state", "g", "spikes", "rates"]


def test_smooth_rate_preserves_the_mean_of_a_regular_rate():
    # every neuron fires every 1 ms (10 steps), staggered: the population rate is constant
    # in the mean; smoothing over whole periods gives exactly that mean away from the ends
    G = NeuronGroup(
        10, "dv/dt = 1/ms : 1", threshold="v > 1 - 1e-9", reset="v -= 1", method="euler"
    )
    G.v = "i/N"
    rates = PopulationRateMonitor(G)
    run(20 * ms)
    smooth = rates.smooth_rate(window="flat", width=1.1 * ms) / Hz
    assert np.mean(rates.rate / Hz) == pytest.approx(1000, rel=0.01)
    np.testing.assert_allclose(smooth[20:-20], 1000, rtol=0.01)
    with pytest.raises(NotImplementedError, match="unknown window"):  # as Brian2
        rates.smooth_rate(window="triangle", width=1 * ms)


def test_string_assignments_see_the_clock_and_the_groups_time():
    defaultclock.dt = 0.05 * ms
    G = NeuronGroup(1, "x : second\nstep : 1\ndv/dt = 1/second : 1", method="euler")
    G.x = "dt"
    assert G.x[0] == 0.05 * ms
    net = Network(G)
    net.run(1 * ms)
    G.x = "t"
    G.step = "t_in_timesteps"
    assert G.x[0] / ms == pytest.approx(1.0) and G.step[0] == 20


def test_spike_monitor_without_recording_still_counts():
    G = NeuronGroup(2, "dv/dt = 1/ms : 1", threshold="v > 1", reset="v = 0", method="euler")
    counter = SpikeMonitor(G, record=False)
    recorder = SpikeMonitor(G)
    run(5 * ms)
    assert len(counter.i) == 0 and counter.num_spikes == recorder.num_spikes > 0
    np.testing.assert_array_equal(counter.count, recorder.count)


def test_dtype_float_is_float64():
    # Python's float is NumPy's float64 (float32: tests/test_float32.py)
    assert NeuronGroup(1, "v : 1", dtype=float).v_.dtype == np.float64


def test_zero_without_units_fits_any_units():
    # Brian2 accepts a plain 0 (or a NumPy array of zeros) for a variable with units
    G = NeuronGroup(2, "v : volt")
    G.v = 1 * mV
    G.v = 0
    np.testing.assert_array_equal(G.v_, 0)
    G.v = np.zeros(2)
    with pytest.raises(DimensionMismatchError):
        G.v = 1
    with pytest.raises(DimensionMismatchError):
        G.v = np.array([0.0, 1.0])


def test_a_condition_guards_an_integer_division_on_its_right():
    """`n != 0 and 10 // n > 2` never divides by zero: the right side is evaluated only when
    the left one holds (the zero division would otherwise stop the run with a fault)."""
    G = NeuronGroup(6, "n : integer", threshold="n != 0 and 10 // n > 2")
    G.n = [0, 1, 2, 3, 4, 0]
    spikes = SpikeMonitor(G)
    run(0.3 * ms)
    assert sorted(set(np.asarray(spikes.i))) == [1, 2, 3]  # 10 // 4 == 2 is not > 2


def test_variable_views_compute_and_index_as_brian2s_do():
    G = NeuronGroup(10, "x : 1\ny : volt\nidx : integer")
    G.x = np.arange(10)
    G.y = np.arange(10) * mV
    G.idx = np.arange(10)
    np.testing.assert_array_equal(2**G.x, 2.0 ** np.arange(10))
    np.testing.assert_array_equal(17 // G.idx[1:4], [17, 8, 5])
    np.testing.assert_array_equal(17 % G.idx[1:4], [0, 1, 2])
    assert np.all(+G.y == G.y[:])
    with pytest.raises(DimensionMismatchError):
        2**G.y
    # an array on the left, and NumPy's functions, see the units too (G.x[:] + G.y was a plain
    # sum of numbers, np.mean(G.y) a number of volts)
    with pytest.raises(DimensionMismatchError):
        G.x[:] + G.y
    np.testing.assert_allclose(np.arange(10) * G.y / mV, np.arange(10) ** 2)
    np.testing.assert_allclose((10 * mV - G.y) / mV, 10 - np.arange(10))  # quantity first
    assert np.mean(G.y) == 4.5 * mV and np.exp(G.x)[1] == pytest.approx(np.e)
    assert type(np.asarray(G.y)) is np.ndarray and np.asarray(G.y)[1] == pytest.approx(1e-3)
    assert G.y.unit == volt and G.x.unit == 1
    # a subgroup as an index reads and writes its elements
    sub = G[2:4]
    assert list(G.y[sub] / mV) == [2, 3]
    G.x[sub] = 5
    np.testing.assert_array_equal(G.x[:], [0, 1, 5, 5, 4, 5, 6, 7, 8, 9])
    for index in (object(), 1.5):
        with pytest.raises(TypeError, match="index with integers"):
            G.x[index]


def test_record_single_timestep_adds_the_values_at_the_end_of_the_run():
    G = NeuronGroup(3, "dv/dt = -v/(5*ms) : 1\nw = 2*v : 1", method="exact")
    G.v = [1, 2, 3]
    mon = StateMonitor(G, ["v", "w"], record=[0, 2])
    with pytest.raises(TypeError, match="run first"):
        mon.record_single_timestep()
    run(0.5 * ms)
    assert len(mon.t) == 5  # at the start of each step: the end is not seen
    mon.record_single_timestep()
    np.testing.assert_allclose(mon.t / ms, [0, 0.1, 0.2, 0.3, 0.4, 0.5])
    times = np.arange(6) * 0.1
    np.testing.assert_allclose(mon.v, np.outer([1, 3], np.exp(-times / 5)), rtol=1e-12)
    np.testing.assert_allclose(mon.w, 2 * mon.v, rtol=1e-12)
    np.testing.assert_array_equal(mon.v[:, -1], G.v[[0, 2]])


def test_brian2s_old_names_of_synaptic_pathways_and_its_exception_class():
    G = NeuronGroup(2, "v : 1", threshold="True")
    with pytest.warns(FutureWarning, match="pre= is the deprecated name of on_pre="):
        S = Synapses(G, G, pre="v += 1")
    assert [pathway.prepost for pathway in S.pathways] == ["pre"]
    with pytest.raises(TypeError, match="on_pre= only"):
        Synapses(G, G, on_pre="v += 1", pre="v += 1")
    with pytest.raises(TypeError, match="call S.connect"):
        Synapses(G, G, connect=True)
    # a model error is a BrianObjectException, as scripts written for Brian2 catch it
    start_scope()
    bad = NeuronGroup(1, "dv/dt = nothing : 1")  # noqa: F841 (names are resolved at run)
    with pytest.raises(BrianObjectException, match="unknown identifier 'nothing'"):
        run(0 * ms)


def test_a_shared_subexpression_has_one_value_and_reads_only_shared_values():
    G = NeuronGroup(
        10,
        "dv/dt = freq : 1\nfreq : Hz (shared)\nnumber : 1 (shared)\n"
        "total = freq + number*Hz : Hz (shared)",
    )
    G.freq = 100 * Hz
    G.number = 50
    assert G.total[:] == 150 * Hz and np.shape(G.total[:]) == ()
    with pytest.raises(EquationError, match="'total' reads 'x', which has a value per element"):
        NeuronGroup(10, "freq : Hz (shared)\nx : 1\ntotal = freq + x*Hz : Hz (shared)")
