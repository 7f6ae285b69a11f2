"""Network.store()/restore() (snapshots in memory and in files) and get_states()/set_states()."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.model.state import read_snapshot_file, write_snapshot_file
from spikeforge.runtime import driver
from spikeforge.units import DimensionMismatchError

REPO = Path(__file__).resolve().parent.parent

# A network with everything a snapshot holds: Poisson input, a spike generator whose spikes span
# the snapshot, synapses with heterogeneous delays (spikes pending at the snapshot), a refractory
# neuron group, and all three kinds of monitor.
NETWORK = """
def build(connect=True):
    inp = PoissonGroup(30, 400*Hz, name="inp")
    gen = SpikeGeneratorGroup(3, [0, 1, 2, 0, 1], [0.5, 1.2, 3.05, 6.0, 8.3]*ms, name="gen")
    exc = NeuronGroup(6, '''dv/dt = (-v + drive)/(10*ms) : 1 (unless refractory)
                            drive : 1''',
                      threshold='v > 1', reset='v = 0', refractory=1*ms, name="exc")
    syn = Synapses(inp, exc, 'w : 1', on_pre='v += w', name="syn")
    gsyn = Synapses(gen, exc, on_pre='v += 0.8', delay=2*ms, name="gsyn")
    if connect:
        syn.connect(p=0.4)
        syn.w = 'rand()*0.4'
        syn.delay = 'rand()*4*ms'
        gsyn.connect(j='i')
        exc.drive = 'i*0.1'
    mons = [SpikeMonitor(exc, name="excmon"), SpikeMonitor(inp, name="inpmon"),
            SpikeMonitor(gen, name="genmon"),
            StateMonitor(exc, ['v', 'not_refractory'], record=[0, 3, 5], name="trace"),
            PopulationRateMonitor(exc, name="rate")]
    return [inp, gen, exc, syn, gsyn, *mons]


def records(objects):
    inp, gen, exc, syn, gsyn, excmon, inpmon, genmon, trace, rate = objects
    return {"exc_i": excmon.i, "exc_t": excmon.t_, "exc_count": excmon.count,
            "inp_i": inpmon.i, "inp_t": inpmon.t_, "gen_i": genmon.i, "gen_t": genmon.t_,
            "trace_t": trace.t_, "trace_v": trace.v_, "trace_nr": trace.not_refractory,
            "rate_t": rate.t_, "rate": np.asarray(rate.rate), "v": exc.v_,
            "lastspike": exc.lastspike_, "w": syn.w_}
"""
exec(NETWORK)


def assert_identical(first: dict, second: dict):
    assert first.keys() == second.keys()
    for key in first:
        a, b = np.asarray(first[key]), np.asarray(second[key])
        assert a.dtype == b.dtype and a.shape == b.shape, key
        assert a.tobytes() == b.tobytes(), f"{key} differs"


def pending(objects):
    syn, gsyn = objects[3], objects[4]
    return syn.pathways[0].queue.n_pending + gsyn.pathways[0].queue.n_pending


# store / restore ------------------------------------------------------------------------------
def test_restored_run_is_bitwise_identical():
    seed(11)
    objects = build()
    net = Network(objects)
    net.run(4 * ms)
    assert pending(objects) > 0  # the snapshot must hold spikes still on their way
    net.store()
    net.run(6 * ms)
    first = records(objects)
    assert len(first["exc_i"]) > 5 and len(first["gen_i"]) == 5
    net.restore(restore_random_state=True)
    assert net.t == 4 * ms
    assert len(objects[-1].t_) == 40 and objects[8].v_.shape == (3, 40)  # records cut back
    net.run(6 * ms)
    assert_identical(first, records(objects))
    # once more: restoring does not consume the snapshot
    net.restore(restore_random_state=True)
    net.run(6 * ms)
    assert_identical(first, records(objects))


def test_random_state_is_only_restored_on_request():
    seed(5)
    objects = build()
    run(2 * ms)
    store()
    run(3 * ms)
    after_run = driver.random_state.copy()
    first = records(objects)
    restore()
    assert np.array_equal(driver.random_state, after_run)
    run(3 * ms)
    assert not np.array_equal(first["inp_i"], objects[6].i)  # new Poisson spikes
    np.random.seed(1)
    expected = np.random.rand()
    np.random.seed(1)
    store("numpy")
    np.random.rand()
    restore("numpy", restore_random_state=True)
    assert np.random.rand() == expected  # NumPy's generator comes back too


def test_module_level_store_restore_acts_on_objects_in_scope():
    seed(2)
    objects = build()
    run(3 * ms)
    store("here")
    run(2 * ms)
    first = records(objects)
    restore("here", restore_random_state=True)
    assert magic_network.t == 3 * ms
    run(2 * ms)
    assert_identical(first, records(objects))


def test_several_names_in_memory_and_in_one_file(tmp_path):
    filename = tmp_path / "snapshots.npz"
    G = NeuronGroup(3, "dv/dt = (2 - v)/(5*ms) : 1", threshold="v > 1", reset="v = 0", name="g")
    mon = SpikeMonitor(G, name="mon")
    net = Network(G, mon)
    net.store("start")
    net.store("start", filename=filename)
    net.run(12 * ms)
    net.store("middle")
    net.store("middle", filename=filename)
    v_middle, spikes_middle = G.v[:].copy(), mon.num_spikes
    assert spikes_middle > 0
    net.run(5 * ms)
    for source in (None, filename):
        net.restore("start", filename=source)
        assert net.t == 0 * ms and mon.num_spikes == 0 and len(mon.i) == 0
        assert np.all(G.v[:] == 0)
        net.restore("middle", filename=source)
        assert net.t == 12 * ms and mon.num_spikes == spikes_middle
        assert np.array_equal(G.v[:], v_middle)
    # storing a name again replaces it, in the file as in memory
    G.v = 0.5
    net.store("start", filename=filename)
    net.restore("middle", filename=filename)
    net.restore("start", filename=filename)
    assert np.all(G.v[:] == 0.5) and net.t == 12 * ms
    with np.load(filename, allow_pickle=False) as archive:  # a plain .npz, no pickles
        assert "index" in archive.files


def test_unknown_names_and_bad_files(tmp_path):
    G = NeuronGroup(2, "v : 1", name="g")
    net = Network(G)
    with pytest.raises(KeyError, match="no snapshot named 'default'"):
        net.restore()
    net.store("a")
    with pytest.raises(KeyError, match=r"no snapshot named 'b'.*'a'"):
        net.restore("b")
    filename = tmp_path / "state.npz"
    net.store("a", filename=filename)
    with pytest.raises(KeyError, match="no snapshot named 'b'"):
        net.restore("b", filename=filename)
    with pytest.raises(FileNotFoundError):
        net.restore("a", filename=tmp_path / "missing.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a snapshot")
    with pytest.raises(ValueError, match="not a spikeforge snapshot file"):
        net.restore("a", filename=garbage)
    with pytest.raises(ValueError, match="not a spikeforge snapshot file"):
        net.store("a", filename=garbage)  # an unreadable file is not overwritten
    assert garbage.read_bytes() == b"not a snapshot"
    with pytest.raises(TypeError):
        net.store(3)


def test_restore_needs_the_same_objects():
    G = NeuronGroup(2, "v : 1", name="g")
    H = NeuronGroup(2, "v : 1", name="h")
    net = Network(G, H)
    net.store()
    net.remove(H)
    with pytest.raises(KeyError, match="not in the network: h"):
        net.restore()
    net.store()
    net.add(H)
    with pytest.raises(KeyError, match="no state for h"):
        net.restore()
    other = Network(NeuronGroup(3, "v : 1", name="g"), H)  # same names, another size of g
    other.store()
    G.v = 7
    net.run(1 * ms)
    net._stored_snapshots["default"] = other._stored_snapshots["default"]
    with pytest.raises(ValueError, match="does not fit NeuronGroup 'g'"):
        net.restore()
    assert net.t == 1 * ms and np.all(G.v[:] == 7)  # a failed restore changes nothing


def test_synapses_shrink_and_grow_back():
    source = NeuronGroup(3, "v : 1", threshold="False", name="src")
    target = NeuronGroup(3, "v : 1", name="tgt")
    S = Synapses(source, target, "w : 1", on_pre="v += w", name="s")
    S.connect(i=[0, 1], j=[1, 2])
    S.w = [0.25, 0.5]
    net = Network(source, target, S)
    net.store()
    S.connect(i=[2, 2], j=[0, 1])
    S.w = 1
    assert S.N == 4
    net.restore()
    assert S.N == 2 and list(S.i[:]) == [0, 1] and list(S.j[:]) == [1, 2]
    assert list(S.w[:]) == [0.25, 0.5] and list(S.N_incoming[:]) == [1, 1]
    S2 = Synapses(source, target, "w : 1", on_pre="v += w", name="s")  # a fresh copy: no synapses
    fresh = Network(source, target, S2)
    fresh._stored_snapshots = net._stored_snapshots
    fresh.restore()
    assert S2.N == 2 and list(S2.j[:]) == [1, 2] and list(S2.w[:]) == [0.25, 0.5]
    fresh.run(0.5 * ms)  # and the restored synapses run


FRESH_PROCESS = """
import sys
import numpy as np
from spikeforge.only import *
{network}
mode, filename, output = sys.argv[1:4]
if mode == "first":
    seed(21)
    objects = build()
    run(4*ms)
    store("at4", filename=filename)
    store("other", filename=filename)
    run(6*ms)
else:
    seed(99)  # another stream: the file brings the random state back
    objects = build(connect=False)
    assert objects[3].N == 0
    restore("at4", filename=filename, restore_random_state=True)
    assert objects[3].N > 0 and magic_network.t == 4*ms
    run(6*ms)
np.savez(output, **records(objects))
print("ok")
"""


def test_restore_from_a_file_in_a_fresh_process(tmp_path):
    script = FRESH_PROCESS.format(network=NETWORK)
    filename = tmp_path / "net.npz"
    outputs = {}
    for mode in ("first", "second"):
        outputs[mode] = tmp_path / f"{mode}.npz"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), *sys.path]))
        result = subprocess.run(
            [sys.executable, "-c", script, mode, str(filename), str(outputs[mode])],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
    with np.load(outputs["first"]) as first, np.load(outputs["second"]) as second:
        assert_identical(dict(first), dict(second))
        assert len(first["exc_i"]) > 5


# get_states / set_states -----------------------------------------------------------------------
def make_group():
    factor = 3.0
    G = NeuronGroup(
        3,
        """dv/dt = -v/(10*ms) : volt
           twice = factor*v : volt
           c : 1 (shared)
           k : integer
           flag : boolean""",
        threshold="v > 1*volt",
        reset="v = 0*volt",
        refractory=2 * ms,
        name="grp",
    )
    return G, factor


def test_get_states_with_and_without_units():
    G, _ = make_group()
    G.v = [1, 2, 3] * mV
    G.c = 0.5
    G.k = [4, 5, 6]
    G.flag = [True, False, True]
    factor = 5.0  # subexpressions see the names of the caller of get_states
    states = G.get_states()
    # Brian2's names: the variables, i, and N, t, dt, t_in_timesteps (no subexpressions)
    assert set(states) == {
        "N",
        "i",
        "t",
        "dt",
        "t_in_timesteps",
        "v",
        "c",
        "k",
        "flag",
        "lastspike",
        "not_refractory",
    }
    assert isinstance(states["v"], Quantity) and np.allclose(states["v"] / mV, [1, 2, 3])
    assert states["c"].shape == () and states["c"] == 0.5
    assert states["k"].dtype == np.int32 and list(states["k"]) == [4, 5, 6]
    assert states["flag"].dtype == bool and list(states["flag"]) == [True, False, True]
    assert states["N"] == 3 and states["t"] == 0 * second and states["dt"] == 0.1 * ms
    plain = G.get_states(units=False)
    assert type(plain["v"]) is np.ndarray and np.allclose(plain["v"], [1e-3, 2e-3, 3e-3])
    assert type(plain["t"]) is np.ndarray
    writable = G.get_states(read_only_variables=False)
    assert set(writable) == {"v", "c", "k", "flag", "lastspike", "not_refractory"}
    with_subexpressions = G.get_states(subexpr=True)  # `factor` comes from this frame
    assert np.allclose(with_subexpressions["twice"] / mV, [5, 10, 15])
    assert np.allclose(Network(G).get_states(subexpr=True)["grp"]["twice"] / mV, [5, 10, 15])
    assert G.get_states(subexpressions=True).keys() == with_subexpressions.keys()
    chosen = G.get_states(["v", "twice"], units=False)
    assert list(chosen) == ["v", "twice"] and np.allclose(chosen["twice"], [5e-3, 10e-3, 15e-3])
    chosen["v"][:] = 99  # copies
    assert np.allclose(G.v[:] / mV, [1, 2, 3])
    with pytest.raises(KeyError, match="nonexistent"):
        G.get_states(["nonexistent"])
    with pytest.raises(NotImplementedError, match="format"):
        G.get_states(format="csv")
    run(1 * ms)
    later = G.get_states(["t", "t_in_timesteps"])
    assert later["t"] == 1 * ms and later["t_in_timesteps"] == 10


def test_set_states_with_and_without_units():
    G, _ = make_group()
    v0 = 2 * mV
    G.set_states({"v": [1, 2, 3] * mV, "c": 4, "k": [1, 2, 3]})
    assert np.allclose(G.v[:] / mV, [1, 2, 3]) and G.c[:] == 4 and list(G.k[:]) == [1, 2, 3]
    G.set_states({"v": [0.5, 0.25, 0.125], "flag": [True, True, False]}, units=False)
    assert np.allclose(G.v[:] / volt, [0.5, 0.25, 0.125]) and list(G.flag[:]) == [1, 1, 0]
    G.set_states({"v": "v0 + i*mV"})  # string expressions see this frame's names
    assert np.allclose(G.v[:] / mV, [2, 3, 4])
    with pytest.raises(DimensionMismatchError):
        G.set_states({"v": [1, 2, 3]})
    with pytest.raises(TypeError, match="read-only"):
        G.set_states({"i": [0, 1, 2]}, units=False)
    with pytest.raises(TypeError, match="read-only"):
        G.set_states({"twice": [0, 1, 2] * mV})
    with pytest.raises(KeyError, match="nonexistent"):
        G.set_states({"nonexistent": 1})
    # what get_states(read_only_variables=False) gives, set_states takes back
    saved = G.get_states(read_only_variables=False)
    saved_plain = G.get_states(read_only_variables=False, units=False)
    G.set_states({"v": [9, 9, 9] * mV, "c": 0, "k": [0, 0, 0], "flag": [False] * 3})
    G.set_states(saved)
    assert_identical(G.get_states(units=False), {**G.get_states(units=False), **saved_plain})
    G.v = 0 * mV
    G.set_states(saved_plain, units=False)
    assert np.allclose(G.v[:] / mV, [2, 3, 4])


def test_synapse_and_monitor_states_and_network_get_states():
    source = NeuronGroup(2, "u : volt", threshold="True", name="pre_g")
    target = NeuronGroup(2, "v : volt", name="post_g")
    S = Synapses(source, target, "w : volt", on_pre="v += w", delay=1 * ms, name="syn_g")
    S.connect(i=[0, 1, 1], j=[1, 0, 1])
    source.u = [1, 2] * mV
    target.v = [5, 6] * mV
    S.w = [1, 2, 3] * mV
    states = S.get_states()
    assert list(states["i"]) == [0, 1, 1] and list(states["j"]) == [1, 0, 1]
    assert states["N"] == 3 and states["N_pre"] == 2 and list(states["i_post"]) == [1, 0, 1]
    assert np.allclose(states["u_pre"] / mV, [1, 2, 2])
    assert np.allclose(states["v_post"] / mV, [6, 5, 6])
    assert np.allclose(states["v"] / mV, [6, 5, 6])  # a bare postsynaptic name
    assert np.all(states["delay"] == 1 * ms)
    assert set(S.get_states(read_only_variables=False)) == {"w", "delay", "u_pre", "v_post", "v"}
    S.set_states({"w": [0, 0, 1]}, units=False)
    assert np.allclose(S.w[:] / mV, [0, 0, 1000])
    S.set_states({"v_post": [7, 8, 9] * mV})  # writes the postsynaptic neurons
    assert np.allclose(target.v[:] / mV, [8, 9])
    spikes = SpikeMonitor(source, name="spk_g")
    trace = StateMonitor(target, "v", record=True, name="trace_g")
    net = Network(source, target, S, spikes, trace)
    net.run(0.3 * ms)
    monitor_states = spikes.get_states()
    assert set(monitor_states) == {"i", "t", "count", "N"} and monitor_states["N"] == 6
    assert spikes.get_states(read_only_variables=False) == {}
    trace_states = trace.get_states(units=False)
    assert trace_states["v"].shape == (3, 2)  # time steps x neurons, as Brian2 stores them
    assert trace_states["N"] == 3
    everything = net.get_states(units=False)
    assert set(everything) == {"pre_g", "post_g", "syn_g", "spk_g", "trace_g"}
    assert np.allclose(everything["post_g"]["v"], target.v_)
    assert everything["syn_g"]["t"] == pytest.approx(0.3e-3)


def test_pandas_format():
    G, _ = make_group()
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pandas"):
            G.get_states(format="pandas", units=False)
        return
    with pytest.raises(NotImplementedError, match="units"):
        G.get_states(format="pandas")
    frame = G.get_states(["v", "k"], units=False, format="pandas")
    assert list(frame.columns) == ["v", "k"] and len(frame) == 3
    frame["v"] = [0.1, 0.2, 0.3]
    G.set_states(frame, units=False, format="pandas")
    assert np.allclose(G.v[:] / volt, [0.1, 0.2, 0.3])


def test_clocks_dt_comes_back():
    G = NeuronGroup(2, "v : 1", dt=0.2 * ms, name="slow")
    H = NeuronGroup(2, "v : 1", name="fast")
    net = Network(G, H)
    net.store()
    G.clock.dt = 0.4 * ms
    defaultclock.dt = 0.05 * ms
    net.restore()
    assert G.clock.dt == 0.2 * ms and defaultclock.dt == 0.1 * ms
    assert G.get_states(["dt"])["dt"] == 0.2 * ms


def test_a_tampered_snapshot_is_refused_before_anything_changes(tmp_path):
    """Out-of-range synapse targets, a NaN time or a zero time step in a snapshot file: restore
    raises ValueError naming the problem, and the network is exactly as before (a later run
    still works)."""
    objects = build()
    net = Network(*objects)
    net.run(5 * ms)
    path = tmp_path / "snap.npz"
    net.store("good", filename=path)
    net.run(1 * ms)
    before = records(objects)
    snapshots = read_snapshot_file(path)
    tampered = {
        "targets": ("syn", "variables", "j", lambda j: j + 100, "outside 0..5"),
        "time": ("0_t", None, None, lambda t: np.array(np.nan), "time must be finite"),
        "dt": ("0_dt", None, None, lambda dt: np.array(0.0), "must be positive"),
    }
    for name, (key, sub, leaf, change, _) in tampered.items():
        state = read_snapshot_file(path)["good"]
        if sub is None:
            state[key] = change(state[key])
        else:
            state[key][sub][leaf] = change(np.asarray(state[key][sub][leaf]))
        snapshots[name] = state
    write_snapshot_file(path, snapshots)
    for name, (*_, message) in tampered.items():
        with pytest.raises(ValueError, match=message):
            net.restore(name, filename=path)
        assert_identical(records(objects), before)
        assert net.t == 6 * ms
    net.restore("good", filename=path, restore_random_state=True)
    assert net.t == 5 * ms
    net.run(1 * ms)
    assert_identical(records(objects), before)  # the same sixth millisecond again


def test_a_spike_generator_stored_before_its_first_run_restores_for_each_run():
    # Brian2's third tutorial: store() before any run, then restore() and run in a loop.  The
    # generator's spikes are binned into steps only at its first run, so the stored state holds
    # spikes not yet binned; each restored run must replay all of them.
    start_scope()
    gen = SpikeGeneratorGroup(3, [0, 1, 2, 2], [1, 2, 3, 7] * ms)
    target = NeuronGroup(3, "v : 1")
    syn = Synapses(gen, target, on_pre="v += 1")
    syn.connect(j="i")
    mon = SpikeMonitor(gen)
    net = Network(gen, target, syn, mon)
    net.store()
    for _ in range(3):
        net.restore()
        net.run(10 * ms)
        assert list(mon.i) == [0, 1, 2, 2]
        assert list(target.v) == [1, 1, 2]
    # New spikes given after a run leave the binned arrays of the old ones behind: a snapshot
    # taken then still restores.
    gen.set_spikes([0], [12] * ms)
    net.store("changed")
    net.run(5 * ms)
    net.restore("changed")
    net.run(5 * ms)
    assert list(mon.i) == [0, 1, 2, 2, 0]
