"""Single precision: float32 storage (``dtype=``, ``prefs.core.default_float_dtype``), with
arithmetic in double precision and one rounding at each store."""

import numpy as np
import pytest

from spikeforge.only import *

from cobahh_neurons import HH, NAMESPACE  # a module beside this file

STATE = ("v", "m", "n", "h")


def test_each_step_of_float32_state_is_the_float64_step_rounded_once():
    """A float32 group computes each step in double from its float32 state and rounds the
    result: so a float64 group started every step from the float32 group's state must end the
    step with the same values, rounded to float32 (bit for bit, over many steps and spikes)."""
    groups = {}
    for dtype in (np.float32, np.float64):
        group = NeuronGroup(
            60,
            HH,
            threshold="v > -20*mV",
            method="exponential_euler",
            namespace=NAMESPACE,
            dtype=dtype,
            name=f"hh_{np.dtype(dtype).name}",
        )
        group.v = "El + 10*mV*(i % 7)/7.0"
        group.I = "0.6*nA*i/60.0"
        groups[np.dtype(dtype).name] = group
    single, double = groups["float32"], groups["float64"]

    @network_operation(when="start")
    def start_double_from_single():
        for name in (*STATE, "I"):  # I too: the float32 group holds it rounded
            getattr(double, name)[:] = getattr(single, name)[:]

    monitors = {  # at the end of each step, before the next step's start copies the state
        key: StateMonitor(group, STATE, record=True, when="end") for key, group in groups.items()
    }
    spikes = SpikeMonitor(single)
    run(30 * ms)
    assert spikes.num_spikes > 20  # the rounding has been checked through spikes
    for name in STATE:
        recorded_single = getattr(monitors["float32"], name + "_")
        recorded_double = getattr(monitors["float64"], name + "_")
        assert recorded_single.dtype == np.float32 and recorded_double.dtype == np.float64
        assert getattr(single, name + "_").dtype == np.float32
        np.testing.assert_array_equal(recorded_single, recorded_double.astype(np.float32))
        # and the rounding is not a no-op: float64 keeps bits that float32 drops
        assert np.any(recorded_double != recorded_double.astype(np.float32).astype(np.float64))
    source = magic_network.last_run.source
    assert "cdef float* _ptr_v" in source and "cdef double* _ptr_v" in source


def test_float32_synaptic_weights_are_added_in_double_and_rounded_at_each_delivery():
    """Each delivery ``v_post += w`` reads float32 values, adds in double and stores the
    rounded sum; spikes of one source reach their synapses in synapse order."""
    rng = np.random.default_rng(3)
    n_synapses, n_targets = 400, 7
    source = SpikeGeneratorGroup(2, [0, 1, 0], [0, 0, 1] * ms)
    target = NeuronGroup(n_targets, "v : 1", dtype=np.float32)
    target.v = "0.1*i + 1e-3"
    synapses = Synapses(source, target, "w : 1", on_pre="v_post += w", dtype={"w": np.float32})
    pre = np.sort(rng.integers(0, 2, n_synapses))
    post = rng.integers(0, n_targets, n_synapses)
    synapses.connect(i=pre, j=post)
    synapses.w = "(rand() - 0.3) * 10.0**(-3.0 * rand())"
    weights = np.asarray(synapses.w[:])
    assert weights.dtype == np.float32 and np.unique(weights).size > n_synapses - 5
    expected = np.asarray(target.v[:]).copy()
    assert expected.dtype == np.float32
    run(2 * ms)
    order = np.asarray(synapses.i[:]), np.asarray(synapses.j[:])
    for spiking in (0, 1, 0):  # the spikes in order: (0, 1) at 0 ms, then 0 at 1 ms
        for k in np.flatnonzero(order[0] == spiking):
            post_k = order[1][k]
            expected[post_k] = np.float32(np.float64(expected[post_k]) + np.float64(weights[k]))
    np.testing.assert_array_equal(np.asarray(target.v[:]), expected)


def test_the_preference_sets_the_default_and_dtype_overrides_it():
    prefs.core.default_float_dtype = np.float32
    group = NeuronGroup(
        3,
        "dv/dt = -v/tau : 1\ntau : second\ncount : integer\nflag : boolean",
        threshold="v > 1",
        refractory=1 * ms,
        dtype={"tau": np.float64},
    )
    assert group.v_.dtype == np.float32 and group.tau_.dtype == np.float64
    assert group.count_.dtype == np.int32 and group.flag_.dtype == np.bool_
    assert group.lastspike_.dtype == np.float64  # times stay float64, as t
    synapses = Synapses(group, group, "w : 1\nx : 1 (shared)", on_pre="v_post += w")
    synapses.connect(p=1)
    assert synapses.w_.dtype == np.float32 and synapses.x_.dtype == np.float32
    assert synapses.delay_.dtype == np.float64
    morphology = Cylinder(diameter=1 * um, length=10 * um, n=4)
    neuron = SpatialNeuron(morphology, "Im = 0*amp/meter**2 : amp/meter**2")
    assert neuron.v_.dtype == np.float64  # the cable solver is float64
    prefs.core.default_float_dtype = np.float64
    assert NeuronGroup(2, "v : 1", dtype="float32").v_.dtype == np.float32


def test_dtype_errors_name_the_group_and_the_problem():
    with pytest.raises(TypeError, match="NeuronGroup 'cells': dtype= int16 is not supported"):
        NeuronGroup(2, "v : 1", dtype=np.int16, name="cells")
    with pytest.raises(TypeError, match="integer variable 'k' is stored as int32.*float32"):
        NeuronGroup(2, "v : 1\nk : integer", dtype={"k": np.float32})
    with pytest.raises(KeyError, match="dtype= names 'vv', which is not a variable"):
        NeuronGroup(2, "v : 1", dtype={"vv": np.float32})
    with pytest.raises(TypeError, match="'nonsense' is not a NumPy dtype"):
        NeuronGroup(2, "v : 1", dtype="nonsense")
    with pytest.raises(TypeError, match="SpatialNeuron .*float32 is not supported .float64"):
        SpatialNeuron(
            Cylinder(diameter=1 * um, length=10 * um, n=2),
            "Im = 0*amp/meter**2 : amp/meter**2",
            dtype=np.float32,
        )
    with pytest.raises(TypeError, match="Synapses .*: the dtype of 'w', float16 is not supported"):
        G = NeuronGroup(1, "v : 1")
        Synapses(G, G, "w : 1", dtype={"w": np.float16})
    prefs.core.default_float_dtype = np.int32
    with pytest.raises(TypeError, match="default_float_dtype = int32: spikeforge stores float"):
        NeuronGroup(2, "v : 1")


def test_float32_state_is_stored_restored_and_monitored_in_float32():
    group = NeuronGroup(4, "dv/dt = (2 - v)/(7*ms) : 1", dtype=np.float32, name="g")
    group.v = "0.1*i"
    monitor = StateMonitor(group, "v", record=[1, 3])
    store()
    run(3 * ms)
    after = group.v_.copy()
    recorded = monitor.v_.copy()
    assert after.dtype == np.float32 and recorded.dtype == np.float32
    assert not np.array_equal(after, np.float32(0.1) * np.arange(4, dtype=np.float32))
    restore()
    assert group.v_.dtype == np.float32
    np.testing.assert_allclose(group.v_, 0.1 * np.arange(4), rtol=1e-7)
    run(3 * ms)
    np.testing.assert_array_equal(group.v_, after)
    np.testing.assert_array_equal(monitor.v_, recorded)
