"""Brian2's devices and preferences, accepted: standalone scripts give the same results."""

import warnings

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.devices import StandaloneNotice
from spikeforge.devices import device as device_module


def _model():
    G = NeuronGroup(
        3,
        "dv/dt = (2 - v)/tau : 1\ntau : second (constant)",
        threshold="v > 1",
        reset="v = 0",
        method="exact",
        name="cells",
    )
    G.tau = 10 * ms
    return G, SpikeMonitor(G)


def _spikes_per_neuron(tau, duration=50 * ms, dt=0.1 * ms):
    """v = 2(1 - exp(-t/tau)) passes 1 after tau*ln(2), rounded up to a step; then resets."""
    steps_per_spike = int(np.floor(float(tau * np.log(2) / dt))) + 1
    return int(round(float(duration / dt))) // steps_per_spike


def test_build_on_run_false_records_runs_until_build():
    device_module._noticed = False
    with pytest.warns(StandaloneNotice, match="no separate project"):
        set_device("cpp_standalone", build_on_run=False, directory=None)
    G, M = _model()
    run(50 * ms)
    assert M.num_spikes == 0 and magic_network.t == 0 * ms  # recorded, not run
    device.build(directory=None)
    assert magic_network.t == 50 * ms
    assert M.num_spikes == 3 * _spikes_per_neuron(10 * ms)


def test_run_args_rerun_the_program_from_its_initial_state():
    set_device("cpp_standalone", build_on_run=False)
    G, M = _model()
    run(50 * ms)
    device.build(run=False)
    for tau in (5 * ms, 10 * ms, 20 * ms):
        device.run(run_args={G.tau: tau})
        assert M.num_spikes == 3 * _spikes_per_neuron(tau), tau
        assert magic_network.t == 50 * ms
    with pytest.raises(TypeError, match="keys of run_args"):
        device.run(run_args={"tau": 1 * ms})


def test_the_default_standalone_device_runs_at_once_like_the_runtime_one():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StandaloneNotice)
        set_device("cpp_standalone", directory="ignored")
    G, M = _model()
    run(20 * ms)
    standalone = np.array(M.t_)
    reset_device()
    assert get_device().name == "runtime"
    start_scope()
    G, M = _model()
    run(20 * ms)
    assert np.array_equal(standalone, M.t_) and len(standalone) > 0


def test_preferences_by_brian2s_names():
    assert prefs.codegen.target == "auto"
    prefs.codegen.target = "numpy"
    assert prefs["codegen.target"] == "numpy" and prefs.codegen["target"] == "numpy"
    prefs.devices.cpp_standalone.openmp_threads = 4  # changes nothing: accepted
    with pytest.raises(KeyError, match="no preference 'codegen.targett'"):
        prefs.codegen.targett = "numpy"
    with pytest.raises(KeyError, match="no preference 'nonsense'"):
        _ = prefs.nonsense
    G, M = _model()
    run(1 * ms)  # accepted settings don't stop a run
    prefs.core.default_integer_dtype = np.int64
    with pytest.raises(NotImplementedError, match="prefs.core.default_integer_dtype.*int64"):
        run(1 * ms)
    prefs.reset_to_defaults()
    run(1 * ms)
    assert magic_network.t == 2 * ms


def test_networks_give_their_objects_by_name():
    G, M = _model()
    net = Network(G, M)
    assert net["cells"] is G
    with pytest.raises(KeyError, match="no object named 'other'"):
        net["other"]
