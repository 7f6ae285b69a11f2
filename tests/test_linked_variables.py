"""Linked variables: a ``(linked)`` parameter reads and writes another group's variable
(``linked_var``), one to one, from a single element, or at an index (an array or an integer
variable).  Generated code uses the other group's array directly; nothing is copied."""

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.codegen import cache
from spikeforge.codegen.expressions import ExpressionError


def test_follows_the_closed_form_decay_of_its_source():
    tau = 10 * ms  # noqa: F841 (used by the equations)
    G1 = NeuronGroup(10, "dv/dt = -v / tau : volt", method="exact")
    G1.v = np.linspace(0, 20, 10) * mV
    G2 = NeuronGroup(10, "v : volt (linked)")
    G2.v = linked_var(G1.v)
    mon1 = StateMonitor(G1, "v", record=True)
    mon2 = StateMonitor(G2, "v", record=True)
    run(5 * ms)
    np.testing.assert_array_equal(mon2.v_, mon1.v_)
    expected = np.linspace(0, 20e-3, 10)[:, None] * np.exp(-mon2.t_ / 10e-3)
    np.testing.assert_allclose(mon2.v_, expected, rtol=1e-12, atol=1e-18)
    np.testing.assert_array_equal(G2.v_, G1.v_)
    assert "v" not in G2._full_state().get("variables", {})  # stored by its owner only


def test_index_array_and_index_variable_in_generated_code():
    source = NeuronGroup(3, "x : 1")
    source.x = [1.0, 2.0, 3.0]
    by_array = NeuronGroup(6, "y : 1 (linked)\ndw/dt = y/ms : 1", method="euler")
    by_array.y = linked_var(source, "x", index=np.array([2, 2, 1, 1, 0, 0]))
    by_variable = NeuronGroup(2, "z : 1 (linked)\nk : integer\ndu/dt = z/ms : 1", method="euler")
    by_variable.z = linked_var(by_array.y, index="k")  # linked to a linked variable
    by_variable.k = [4, 1]
    run(1 * ms)
    np.testing.assert_allclose(by_array.w[:], [3, 3, 2, 2, 1, 1], rtol=1e-12)
    np.testing.assert_allclose(by_variable.u[:], [1, 3], rtol=1e-12)
    # another index of the same kind is another value of a module argument
    source_code, compiled = magic_network.last_run.source, len(cache.statistics.compiled)
    by_array.y = linked_var(source, "x", index=np.array([0, 1, 2, 0, 1, 2]))
    by_variable.k = [0, 5]
    run(1 * ms)
    assert magic_network.last_run.source == source_code
    assert len(cache.statistics.compiled) == compiled
    np.testing.assert_allclose(by_array.w[:], [4, 5, 5, 3, 3, 4], rtol=1e-12)
    np.testing.assert_allclose(by_variable.u[:], [2, 6], rtol=1e-12)


def test_python_reads_and_writes_follow_the_links():
    G1 = NeuronGroup(5, "x : 1")
    G2 = NeuronGroup(10, "y : 1 (linked)")
    G2.y = linked_var(G1.x, index=np.arange(5).repeat(2))
    G3 = NeuronGroup(10, "z : 1 (linked)")
    G3.z = linked_var(G2.y, index=np.arange(10)[::-1])
    G4 = NeuronGroup(4, "s : 1 (linked)")
    G4.s = linked_var(G1, "x", index=np.array([4, 3, 2, 1]))
    G1.x = np.arange(5) * 0.1
    np.testing.assert_allclose(G3.z[:], np.arange(5).repeat(2)[::-1] * 0.1)
    np.testing.assert_allclose(G4.s[:], [0.4, 0.3, 0.2, 0.1])
    G4.s[0] = 7  # writes the linked element
    assert G1.x[4] == 7
    G4.s = "s + 1"  # a string assignment runs generated code on G1's array
    np.testing.assert_allclose(G1.x[:], [0, 1.1, 1.2, 1.3, 8])


def test_writes_in_a_reset_reach_the_source():
    G1 = NeuronGroup(3, "x : 1")
    single = NeuronGroup(1, "x : 1")
    G2 = NeuronGroup(
        3, "x_linked : 1 (linked)\ny : 1", threshold="y > 1", reset="y = 0; x_linked += 1"
    )
    G2.x_linked = linked_var(G1, "x")
    G2.y = [0, 1.1, 0]
    G3 = NeuronGroup(1, "l : 1 (linked)", threshold="True", reset="l += 1")
    G3.l = linked_var(single, "x")  # size 1 to size 1: writable
    run(3 * defaultclock.dt)
    np.testing.assert_array_equal(G1.x[:], [0, 1, 0])
    assert single.x[0] == 3
    G4 = NeuronGroup(3, "m : 1 (linked)")
    G4.m = linked_var(single.x)
    assert np.isscalar(G4.m[:]) and G4.m[:] == 3  # one value for all, as in Brian2


def test_errors():
    G1 = NeuronGroup(10, "x : volt\ny : 1")
    G2 = NeuronGroup(20, "x : volt")
    G3 = NeuronGroup(10, "l : volt (linked)\nnot_linked : volt\nf : 1\nk : integer")
    with pytest.raises(DimensionMismatchError):
        G3.l = linked_var(G1.y)
    with pytest.raises(ValueError, match="sizes 10 and 20"):
        G3.l = linked_var(G2.x)
    with pytest.raises(ValueError, match="not both"):
        G3.l = linked_var(G1.x, "x")
    with pytest.raises(ValueError, match="linked_var needs"):
        G3.l = linked_var(G1)
    with pytest.raises(TypeError, match="not flagged"):
        G3.not_linked = linked_var(G1.x)
    with pytest.raises(TypeError, match="integer array"):
        G3.l = linked_var(G1.x, index=np.arange(10) * 1.0)
    with pytest.raises(TypeError, match="one-dimensional"):
        G3.l = linked_var(G1.x, index=np.arange(10).reshape(5, 2))
    with pytest.raises(TypeError, match="one-dimensional with 10"):
        G3.l = linked_var(G1.x, index=np.arange(5))
    with pytest.raises(ValueError, match="outside"):
        G3.l = linked_var(G1.x, index=np.arange(10) + 1)
    with pytest.raises(TypeError, match="not an integer variable"):
        G3.l = linked_var(G1.x, index="f")
    S = Synapses(G1, G1, "w : volt")
    with pytest.raises(NotImplementedError, match="synaptic"):
        G3.l = linked_var(S, "w")
    S2 = Synapses(G1, G1, "l : volt (linked)")
    with pytest.raises(NotImplementedError, match="number of synapses changes"):
        S2.l = linked_var(G1.x)


def test_synapses_link_to_a_single_value_or_through_an_index_variable():
    G = NeuronGroup(2, "v : 1", threshold="True")
    factor = NeuronGroup(1, "dF/dt = 1/ms : 1", method="euler")
    table = NeuronGroup(3, "value : 1")
    table.value = [10, 20, 30]
    S = Synapses(G, G, "F : 1 (linked)\nT : 1 (linked)\nk : integer", on_pre="v_post += F + T")
    S.connect()
    S.F = linked_var(factor, "F")
    S.T = linked_var(table.value, index="k")
    S.k = "i + j"
    run(3 * defaultclock.dt)
    # F is 0.1, 0.2, 0.3 when the spikes of steps 0, 1, 2 arrive (synapses run after groups)
    F = 0.1 * np.arange(1, 4)
    T = np.array([[10, 20], [20, 30]])  # table[i + j]
    np.testing.assert_allclose(
        G.v[:], [F.sum() * 2 + 3 * T[:, 0].sum(), F.sum() * 2 + 3 * T[:, 1].sum()]
    )
    np.testing.assert_allclose(S.T[:], [10, 20, 20, 30])


def test_errors_at_run_name_the_group_and_the_line():
    one = NeuronGroup(1, "x : 1")
    G = NeuronGroup(
        2,
        "x_linked : 1 (linked)\ny : 1",
        threshold="y > 1",
        reset="y = 0; x_linked += 1",
        name="linking",
    )
    with pytest.raises(
        ExpressionError, match="'x_linked' of NeuronGroup 'linking' has not been linked"
    ):
        run(defaultclock.dt)
    G.x_linked = linked_var(one, "x")
    with pytest.raises(ExpressionError, match=r"'linking', reset line 1.*one value for all 2"):
        Network(one, G).run(defaultclock.dt)


def test_linked_to_a_subexpression():
    # named: objects of one slot run in the order of their names (as in Brian2), and numbered
    # default names depend on what earlier tests left alive
    G = NeuronGroup(
        2, "dv/dt = 100*Hz : 1\nI = clip(v, 0, inf) + i : 1", method="euler", name="a_source"
    )
    G.v = [0, 0.5]
    G2 = NeuronGroup(6, "I_l : 1 (linked)\ndacc/dt = I_l/ms : 1", method="euler", name="b_linked")
    G2.I_l = linked_var(G.I, index=np.array([0, 1]).repeat(3))
    source = StateMonitor(G, "I", record=True)
    linked = StateMonitor(G2, "I_l", record=True)
    run(2 * ms)
    np.testing.assert_array_equal(linked.I_l, source.I[[0, 0, 0, 1, 1, 1]])
    np.testing.assert_allclose(G2.I_l[:], G.I[:][[0, 0, 0, 1, 1, 1]])
    # acc adds 0.1*I per step; G (first by name) has updated v when G2 reads I at step n:
    # I of element k is then v0 + (n + 1)*0.01 + k, with v0 = 0.5*k
    n = np.arange(20)
    expected = [np.sum(0.1 * (0.01 * (n + 1) + 1.5 * k)) for k in (0, 1)]
    np.testing.assert_allclose(G2.acc[:], np.repeat(expected, 3), rtol=1e-12)
    G3 = NeuronGroup(2, "x : 1 (linked)", threshold="True", reset="x = 1", name="writer")
    G3.x = linked_var(G.I)
    with pytest.raises(ExpressionError, match=r"'writer', reset.*linked to the subexpression"):
        Network(G, G3).run(defaultclock.dt)
