"""SpatialNeuron and morphologies against cable theory and the morphology's own arithmetic.

Closed forms (passive cables, dv/dt = 0 at steady state): a sealed cable of length L and
length constant lambda = sqrt(d Rm / (4 Ri)), injected with I at x = 0, has
v(x) - EL = I ra lambda cosh((L - x)/lambda) / sinh(L/lambda), ra = 4 Ri / (pi d**2), so its
input resistance is ra lambda coth(L/lambda); a tree obeying Rall's 3/2 rule with equal
electrotonic lengths is one cylinder.  One compartment under backward Euler relaxes by exactly
1/(1 + dt/tau) per step.  Agreement with Brian2 itself is in test_brian2_reference.py
(``spatial_*`` models).
"""

import sys
from pathlib import Path

import numpy as np
import pytest

from spikeforge.codegen import cache
from spikeforge.only import (
    Cylinder,
    EquationError,
    Morphology,
    NeuronGroup,
    Section,
    Soma,
    SpatialNeuron,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    amp,
    cm,
    defaultclock,
    meter,
    ms,
    mV,
    nA,
    ohm,
    run,
    siemens,
    start_scope,
    uF,
    um,
)

sys.path.insert(0, str(Path(__file__).parent / "reference"))
import models  # noqa: E402  (the squid axon's equations, shared with the Brian2 references)

gL = 1e-4 * siemens / cm**2
EL = -70 * mV
PASSIVE = """
Im = gL * (EL - v) : amp/meter**2
I : amp (point current)
"""


@pytest.fixture(autouse=True)
def _scope():
    start_scope()
    defaultclock.dt = 0.1 * ms
    yield
    defaultclock.dt = 0.1 * ms


def passive(morpho, Ri=150 * ohm * cm, **kwargs):
    neuron = SpatialNeuron(
        morphology=morpho,
        model=PASSIVE,
        Cm=1 * uF / cm**2,
        Ri=Ri,
        method="exponential_euler",
        **kwargs,
    )
    neuron.v = EL
    return neuron


# morphologies -----------------------------------------------------------------------------------
def tree():
    morpho = Soma(30 * um)
    morpho.L = Cylinder(diameter=1 * um, length=100 * um, n=5)
    morpho.LL = Cylinder(diameter=1 * um, length=20 * um, n=2)
    morpho.R = Cylinder(diameter=1 * um, length=100 * um, n=5)
    return morpho


def test_compartments_are_numbered_depth_first_in_the_order_sections_were_attached():
    morpho = tree()
    assert morpho.total_compartments == 13
    assert morpho.total_sections == 4
    assert morpho.indices[:] == 0
    np.testing.assert_array_equal(morpho.L.indices[:], [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(morpho.L.L.indices[:], [6, 7])
    np.testing.assert_array_equal(morpho["LL"].indices[:], [6, 7])
    np.testing.assert_array_equal(morpho.R.indices[:], [8, 9, 10, 11, 12])
    # children also have numbers, in the order they were attached
    assert morpho["1"] is morpho.L and morpho["2"] is morpho.R
    assert morpho.children.name(morpho.R) == "R"
    assert morpho.R[-1]._indices() == 12
    assert morpho.L[50 * um]._indices() == 3  # 40..60 um is the third compartment
    np.testing.assert_array_equal(morpho.L[20 * um : 60 * um]._indices(), [2, 3])
    text = str(morpho.topology())
    assert text.count("Cylinder") == 3 and "Soma" in text


def test_geometry_follows_the_formulas_of_spheres_cylinders_and_truncated_cones():
    soma = Soma(20 * um)
    assert float(soma.area[0]) == pytest.approx(np.pi * 20e-6**2)
    assert float(soma.volume[0]) == pytest.approx(np.pi * 20e-6**3 / 6)
    cyl = Cylinder(diameter=2 * um, length=100 * um, n=4)
    np.testing.assert_allclose(np.asarray(cyl.length), 25e-6)
    np.testing.assert_allclose(np.asarray(cyl.area), np.pi * 2e-6 * 25e-6)
    np.testing.assert_allclose(np.asarray(cyl.r_length_1), np.pi * (2e-6) ** 2 / (2 * 25e-6))
    cone = Section(diameter=[4, 2] * um, length=[3] * um, n=1)
    d1, d2, length = 4e-6, 2e-6, 3e-6
    lateral = np.pi / 2 * (d1 + d2) * np.sqrt((d1 - d2) ** 2 / 4 + length**2)
    assert float(cone.area[0]) == pytest.approx(lateral)
    assert float(cone.volume[0]) == pytest.approx(np.pi * length * (d1**2 + d1 * d2 + d2**2) / 12)
    assert float(cone.diameter[0]) == pytest.approx(3e-6)
    # distances: a soma is a point; a child starts where its parent ends
    soma.axon = cyl
    cyl.tip = Cylinder(diameter=1 * um, length=10 * um, n=2)
    np.testing.assert_allclose(np.asarray(cyl.distance), [12.5e-6, 37.5e-6, 62.5e-6, 87.5e-6])
    np.testing.assert_allclose(np.asarray(cyl.tip.distance), [102.5e-6, 107.5e-6])


def test_coordinates_are_relative_to_the_end_of_the_parent():
    root = Cylinder(diameter=1 * um, n=4, x=[0, 40] * um)
    np.testing.assert_allclose(np.asarray(root.x), [5e-6, 15e-6, 25e-6, 35e-6])
    np.testing.assert_allclose(np.asarray(root.length), 10e-6)
    root.up = Cylinder(diameter=1 * um, n=2, y=[0, 20] * um)
    np.testing.assert_allclose(np.asarray(root.up.x), [40e-6, 40e-6])
    np.testing.assert_allclose(np.asarray(root.up.y), [5e-6, 15e-6])
    assert Cylinder(diameter=1 * um, length=10 * um).x is None


def test_generated_coordinates_keep_the_geometry_and_join_the_sections():
    morpho = tree()
    morpho.R.x_given = Cylinder(diameter=1 * um, n=2, y=[0, 20] * um)
    placed = morpho.generate_coordinates()
    assert morpho.L.x is None  # the original is left as it was
    for name in ("L", "LL", "R"):
        section = placed[name]
        np.testing.assert_allclose(np.asarray(section.length), np.asarray(morpho[name].length))
        steps = np.sqrt(
            np.diff(np.asarray(section.start_x)) ** 2 + np.diff(np.asarray(section.start_y)) ** 2
        )
        np.testing.assert_allclose(steps, np.asarray(section.length)[:-1], rtol=1e-12)
    # a child starts where its parent ends; given coordinates are kept
    np.testing.assert_allclose(np.asarray(placed.LL.start_x)[0], np.asarray(placed.L.end_x)[-1])
    np.testing.assert_allclose(np.asarray(placed.LL.start_y)[0], np.asarray(placed.L.end_y)[-1])
    np.testing.assert_allclose(
        np.asarray(placed.R.x_given.y) - np.asarray(placed.R.end_y)[-1], [5e-6, 15e-6]
    )
    # deterministic without randomness, in the x-y plane; a neuron gets x, y, z
    again = morpho.generate_coordinates()
    np.testing.assert_array_equal(np.asarray(again.LL.x), np.asarray(placed.LL.x))
    assert np.all(np.asarray(placed.L.z) == 0)
    neuron = passive(placed)
    np.testing.assert_allclose(np.asarray(neuron.x)[6:8], np.asarray(placed.LL.x))
    turned = morpho.generate_coordinates(section_randomness=20, compartment_randomness=5)
    np.testing.assert_allclose(np.asarray(turned.L.length), np.asarray(morpho.L.length))
    with pytest.raises(ValueError, match="section_randomness"):
        morpho.generate_coordinates(section_randomness=-1)


@pytest.mark.parametrize(
    "build, error, words",
    [
        (lambda: Cylinder(diameter=1 * um, length=0 * um), ValueError, "positive length"),
        (lambda: Cylinder(diameter=-1 * um, length=10 * um), ValueError, "diameter"),
        (lambda: Cylinder(diameter=1 * um, length=10 * um, n=0), ValueError, "at least one"),
        (lambda: Cylinder(diameter=1 * mV, length=10 * um), TypeError, "length"),
        (lambda: Cylinder(diameter=1 * um), TypeError, "length"),
        (
            lambda: Section(diameter=[1, 2] * um, length=[1, 2] * um, n=2),
            TypeError,
            r"n \+ 1 = 3 diameters",
        ),
        (lambda: Morphology.from_file("cell.hoc"), NotImplementedError, "SWC"),
    ],
)
def test_a_bad_morphology_is_refused_with_what_is_wrong(build, error, words):
    with pytest.raises(error, match=words):
        build()


def test_a_morphology_is_a_tree():
    a = Cylinder(diameter=1 * um, length=10 * um)
    b = Cylinder(diameter=1 * um, length=10 * um)
    a.child = b
    with pytest.raises(ValueError, match="loop"):
        b.back = a
    c = Soma(10 * um)
    with pytest.raises(ValueError, match="already attached"):
        c.other = b
    with pytest.raises(IndexError, match="outside the section"):
        a[11 * um]
    with pytest.raises(IndexError, match="does not exist"):
        a[3]
    with pytest.raises(AttributeError, match="no attribute or subtree"):
        a.nothing  # noqa: B018 (the access is the test)


def test_swc_files_become_sections_between_branch_points(tmp_path):
    swc = tmp_path / "cell.swc"
    swc.write_text(
        "# index type x y z radius parent\n"
        "1 1 0 0 0 10 -1\n"  # soma
        "2 3 10 0 0 1 1\n"
        "3 3 20 0 0 1 2\n"  # branch point
        "4 3 30 0 0 0.5 3\n"
        "5 3 20 10 0 0.5 3\n"
        "6 3 20 20 0 0.5 5\n"
    )
    morpho = Morphology.from_file(swc)
    assert isinstance(morpho, Soma)
    assert float(morpho.diameter[0]) == pytest.approx(20e-6)
    dend = morpho.dend
    assert dend.n == 2
    np.testing.assert_allclose(np.asarray(dend.length), 10e-6)
    assert [child.n for child in dend.children] == [1, 2]
    assert morpho.total_compartments == 6
    np.testing.assert_allclose(np.asarray(dend.dend2.end_y)[-1], 20e-6)
    bad = tmp_path / "bad.swc"
    bad.write_text("1 1 0 0 0 10 -1\n2 3 10 0 0 1 7\n")
    with pytest.raises(ValueError, match="parent 7"):
        Morphology.from_swc_file(bad)


# cable theory -----------------------------------------------------------------------------------
def test_sealed_cable_steady_state_is_the_cosh_profile():
    diameter, length, Ri = 1 * um, 300 * um, 150 * ohm * cm
    neuron = passive(Cylinder(diameter=diameter, length=length, n=200), Ri=Ri)
    lam = np.sqrt(float(diameter) / (4 * float(Ri) * float(gL)))
    assert float(neuron.space_constant[0]) == pytest.approx(lam, rel=1e-12)
    assert float(neuron.time_constant[0]) == pytest.approx(0.01, rel=1e-12)  # Cm/gL
    current = 0.02 * nA
    neuron.I[0] = current
    run(150 * ms)  # 15 membrane time constants
    ra = 4 * float(Ri) / (np.pi * float(diameter) ** 2)
    x = np.asarray(neuron.distance)
    L = float(length)
    theory = float(current) * ra * lam * np.cosh((L - x) / lam) / np.sinh(L / lam)
    # the current enters the first compartment's middle, not x = 0: a discretisation error
    # of order (L/n)/lambda
    depolarisation = np.asarray(neuron.v) - float(EL)
    np.testing.assert_allclose(depolarisation, theory, rtol=2e-3)


def test_input_resistance_of_a_finite_cable_and_the_length_constant_of_a_long_one():
    diameter, Ri = 2 * um, 100 * ohm * cm
    lam = np.sqrt(float(diameter) / (4 * float(Ri) * float(gL)))
    ra = 4 * float(Ri) / (np.pi * float(diameter) ** 2)
    long_cable = passive(Cylinder(diameter=diameter, length=10 * lam * meter, n=1000), Ri=Ri)
    short = passive(Cylinder(diameter=diameter, length=0.5 * lam * meter, n=100), Ri=Ri)
    current = 0.05 * nA
    long_cable.I[0] = current
    short.I[0] = current
    run(200 * ms)
    for neuron, L in ((short, 0.5 * lam), (long_cable, 10 * lam)):
        measured = (float(neuron.v[0]) - float(EL)) / float(current)
        first = float(neuron.distance[0])  # input measured at the first compartment's middle
        expected = ra * lam * np.cosh((L - first) / lam) / np.sinh(L / lam)
        assert measured == pytest.approx(expected, rel=1e-3)
    # far from the sealed end, the voltage decays by e over one length constant
    x = np.asarray(long_cable.distance)
    v = np.asarray(long_cable.v) - float(EL)
    inside = (x > lam) & (x < 4 * lam)
    slope = np.polyfit(x[inside], np.log(v[inside]), 1)[0]
    assert -1 / slope == pytest.approx(lam, rel=2e-3)


def test_rall_tree_equals_its_equivalent_cylinder():
    Ri = 150 * ohm * cm
    d0, L0, d1, L1 = 1e-6, 300e-6, 0.5e-6, 200e-6

    def lam(d):
        return np.sqrt(d / (4 * float(Ri) * float(gL)))

    d2 = (d0**1.5 - d1**1.5) ** (1 / 1.5)  # the 3/2 rule
    L2 = L1 / lam(d1) * lam(d2)  # equal electrotonic lengths
    morpho = Cylinder(diameter=d0 * meter, length=L0 * meter, n=300)
    morpho.L = Cylinder(diameter=d1 * meter, length=L1 * meter, n=200)
    morpho.R = Cylinder(diameter=d2 * meter, length=L2 * meter, n=200)
    tree_neuron = passive(morpho, Ri=Ri)
    l_total = L0 / lam(d0) + L1 / lam(d1)
    equivalent = passive(
        Cylinder(diameter=d0 * meter, length=l_total * lam(d0) * meter, n=500), Ri=Ri
    )
    for neuron in (tree_neuron, equivalent):
        neuron.I[0] = 0.02 * nA
    run(150 * ms)
    ra = 4 * float(Ri) / (np.pi * d0**2)
    x = np.asarray(tree_neuron.main.distance)
    theory = 0.02e-9 * ra * lam(d0) * np.cosh(l_total - x / lam(d0)) / np.sinh(l_total)
    np.testing.assert_allclose(np.asarray(tree_neuron.main.v) - float(EL), theory, rtol=3e-3)
    # both branches sit at the electrotonic distance the cylinder has there
    for branch, d in ((tree_neuron.L, d1), (tree_neuron.R, d2)):
        electrotonic = L0 / lam(d0) + (np.asarray(branch.distance) - L0) / lam(d)
        theory = 0.02e-9 * ra * lam(d0) * np.cosh(l_total - electrotonic) / np.sinh(l_total)
        np.testing.assert_allclose(np.asarray(branch.v) - float(EL), theory, rtol=3e-3)
    assert float(equivalent.v[0]) == pytest.approx(float(tree_neuron.v[0]), rel=1e-4)


def test_one_compartment_relaxes_by_the_backward_euler_factor_each_step():
    neuron = passive(Soma(20 * um))
    current = 0.01 * nA
    neuron.I = current
    mon = StateMonitor(neuron, "v", record=0)
    run(5 * ms)
    area = np.pi * (20e-6) ** 2
    g = float(gL) * area
    v_inf = float(EL) + float(current) / g
    tau = 0.01  # Cm/gL
    ratio = 1 / (1 + 1e-4 / tau)
    steps = np.arange(len(mon.t))  # the monitor records before the step's update
    expected = v_inf + (float(EL) - v_inf) * ratio**steps
    np.testing.assert_allclose(np.asarray(mon.v[0]), expected, rtol=0, atol=1e-13)
    exact = v_inf + (float(EL) - v_inf) * np.exp(-np.asarray(mon.t) / tau)
    np.testing.assert_allclose(np.asarray(mon.v[0]), exact, atol=abs(v_inf - float(EL)) * 1e-2)


def hh_velocity(n):
    """Conduction velocity (m/s) of the action potential on Hodgkin and Huxley's axon cut into
    ``n`` compartments over 3 cm."""
    start_scope()
    defaultclock.dt = 0.005 * ms
    namespace = {
        "El": 10.613 * mV,
        "ENa": 115 * mV,
        "EK": -12 * mV,
        "gl": 0.3e-3 * siemens / cm**2,
        "gK": 36e-3 * siemens / cm**2,
    }
    neuron = SpatialNeuron(
        morphology=Cylinder(length=3 * cm, diameter=476 * um, n=n),
        model=models.SQUID_AXON,
        method="exponential_euler",
        threshold="m > 0.5",
        refractory="m > 0.4",
        Cm=1 * uF / cm**2,
        Ri=35.4 * ohm * cm,
        namespace=namespace,
    )
    neuron.v = 0 * mV
    neuron.m = 0.0529  # the resting state
    neuron.h = 0.5961
    neuron.n = 0.3177
    neuron.gNa = 120e-3 * siemens / cm**2
    spikes = SpikeMonitor(neuron)
    neuron.I[0] = 1e-6 * amp
    run(3 * ms, namespace=namespace)
    neuron.I = 0 * amp
    run(4 * ms, namespace=namespace)
    i, t = np.asarray(spikes.i), np.asarray(spikes.t)
    x = np.asarray(neuron.distance)[i]
    middle = (x > 0.01) & (x < 0.02)  # away from the stimulus and the sealed end
    assert len(np.unique(i[middle])) == middle.sum() > 0  # one spike per compartment
    return np.polyfit(t[middle], x[middle], 1)[0]


def test_hh_axon_conduction_velocity_converges_and_a_new_size_compiles_nothing():
    coarse, medium = hh_velocity(10), hh_velocity(40)
    compiled = len(cache.statistics.compiled)
    fine = hh_velocity(200)
    assert len(cache.statistics.compiled) == compiled  # the size is an argument
    # spike times come in steps of dt, so the fits carry about 0.3 % of noise
    assert abs(coarse - fine) > 2 * abs(medium - fine)
    assert abs(medium - fine) < 0.01 * fine
    # the rate constants are those of 6.3 degrees, at which the axon conducts at about
    # 12 m/s (Hodgkin & Huxley 1952 computed 18.8 m/s at 18.5 degrees)
    assert 11 < fine < 14


# groups of compartments ---------------------------------------------------------------------------
def test_compartments_by_section_distance_and_morphology_index():
    morpho = tree()
    neuron = passive(morpho)
    neuron.v = np.arange(13) * mV
    np.testing.assert_allclose(np.asarray(neuron.L.v) / 1e-3, [1, 2, 3, 4, 5, 6, 7])
    np.testing.assert_allclose(np.asarray(neuron.L.main.v) / 1e-3, [1, 2, 3, 4, 5])
    np.testing.assert_allclose(np.asarray(neuron.LL.v) / 1e-3, [6, 7])
    np.testing.assert_allclose(np.asarray(neuron.main.v) / 1e-3, [0])
    np.testing.assert_allclose(np.asarray(neuron.R[40 * um : 80 * um].v) / 1e-3, [10, 11])
    assert float(neuron.v[morpho.R[-1]]) == pytest.approx(12e-3)
    neuron.L[20 * um : 60 * um].v = -1 * mV
    neuron.I[morpho.R[10 * um]] = 1 * nA
    np.testing.assert_allclose(np.asarray(neuron.v)[[1, 2, 3, 4]] / 1e-3, [1, -1, -1, 4])
    assert np.flatnonzero(np.asarray(neuron.I)).tolist() == [8]
    mon = StateMonitor(neuron.R, "v", record=morpho.R[-1])
    assert mon.record.tolist() == [4]  # relative to the part it monitors
    with pytest.raises(AttributeError, match="no variable or subtree 'RR'"):
        neuron.RR  # noqa: B018 (the access is the test)


def test_synapses_onto_a_compartment_and_a_threshold_location():
    morpho = Soma(30 * um)
    morpho.dend = Cylinder(diameter=1 * um, length=100 * um, n=10)
    neuron = SpatialNeuron(
        morphology=morpho,
        model=PASSIVE
        + """
        Is = gs*(0*mV - v) : amp (point current)
        gs : siemens
        """,
        Cm=1 * uF / cm**2,
        Ri=100 * ohm * cm,
        threshold="v > -69*mV",
        threshold_location=morpho.dend[-1],
        method="exponential_euler",
    )
    neuron.v = EL
    source = NeuronGroup(1, "", threshold="True")
    synapses = Synapses(source, neuron, "gs_post = 5*nS : siemens (summed)")
    synapses.connect(i=0, j=morpho.dend[-1])
    assert synapses.j[:].tolist() == [10]
    spikes = SpikeMonitor(neuron)
    run(5 * ms)
    # only the synapse's compartment carries the conductance
    assert np.flatnonzero(np.asarray(neuron.gs)).tolist() == [10]
    assert float(neuron.v[10]) > float(neuron.v[0]) > float(EL)
    assert spikes.count[:].tolist() == [0] * 10 + [spikes.count[10]]
    assert spikes.count[10] > 0


@pytest.mark.parametrize(
    "model, error, words",
    [
        ("I : amp (point current)", EquationError, "must define the transmembrane"),
        ("Im = gL*(EL - v) : amp", EquationError, "current per area"),
        ("dIm/dt = 0*amp/meter**2/second : amp/meter**2", EquationError, "subexpression"),
        (PASSIVE + "J : amp/meter**2 (point current)", EquationError, "in amp"),
        (PASSIVE + "v : volt", EquationError, "defined by the SpatialNeuron"),
    ],
)
def test_a_bad_spatial_model_is_refused_with_what_is_wrong(model, error, words):
    with pytest.raises(error, match=words):
        SpatialNeuron(morphology=Soma(10 * um), model=model)


def test_point_currents_and_physical_arguments_are_checked():
    with pytest.raises(EquationError, match="only for a SpatialNeuron"):
        NeuronGroup(1, "I : amp (point current)")
    with pytest.raises(TypeError, match="Cm must be in units"):
        SpatialNeuron(morphology=Soma(10 * um), model=PASSIVE, Cm=1 * ohm)
    with pytest.raises(TypeError, match="morphology must be"):
        SpatialNeuron(morphology=None, model=PASSIVE)
    with pytest.raises(TypeError, match="one compartment"):
        SpatialNeuron(
            morphology=Cylinder(diameter=1 * um, length=10 * um, n=3),
            model=PASSIVE,
            threshold="v > 0*mV",
            threshold_location=[0, 1],
        )
