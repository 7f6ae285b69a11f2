"""Temporaries: ``x = expression`` for a name that is not a variable defines a local value of
the element, which later lines of the same code read (Brian2's rule).  Each test compares code
with temporaries to the same code with the expressions written out."""

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.codegen.expressions import ExpressionError

EQS = "dv/dt = (2 - v)/(10*ms) : 1\nw : volt\nn : integer"


def test_reset_with_temporaries_equals_the_inlined_reset():
    with_temporaries = """
    x = 0.5*v*mV
    w += x
    big = x > 0.4*mV
    n += int(big)
    x = x + w
    w = x / 2
    v = 0.1 + 0.1*int(big)
    """
    inlined = """
    w = (w + 0.5*v*mV + 0.5*v*mV) / 2
    n += int(0.5*v*mV > 0.4*mV)
    v = 0.1 + 0.1*int(0.5*v*mV > 0.4*mV)
    """
    groups = [
        NeuronGroup(5, EQS, threshold="v > 0.8 + 0.01*i", reset=reset, method="exact")
        for reset in (with_temporaries, inlined)
    ]
    for G in groups:
        G.v = "0.1*i"
    run(20 * ms)
    assert groups[0].n[:].sum() > 5  # resets happened, with both branches of big
    # the same statements up to floating-point association (sympy orders the sums)
    for name in ("v", "w", "n"):
        np.testing.assert_allclose(
            getattr(groups[0], name + "_"), getattr(groups[1], name + "_"), rtol=1e-14
        )


def test_a_temporary_with_one_value_for_all_elements_keeps_its_order():
    # x = 1 is the same for every element, but x is assigned again per element: the first
    # value must not leak into the next element's statements
    G = NeuronGroup(4, "v : 1\nu : 1", threshold="True", reset="x = 1\nu = x\nx = x + v\nv = x")
    G.v = [0, 1, 2, 3]
    run(defaultclock.dt)
    np.testing.assert_array_equal(G.u[:], 1)
    np.testing.assert_array_equal(G.v[:], [1, 2, 3, 4])


def test_synaptic_and_event_code_with_temporaries():
    source = NeuronGroup(3, "dv/dt = 1/(2*ms) : 1", threshold="v > 1", reset="v = 0")
    source.v = [0.5, 0.7, 0.9]
    variants = [
        (
            "c = count + 1\ncount = c\ng = g - 0.5*c/c",
            "d = w*(1 + i)\ng_post += d\ntmp = d*d\nh_post += tmp",
        ),
        (
            "count = count + 1\ng = g - 0.5",
            "g_post += w*(1 + i)\nh_post += (w*(1 + i))*(w*(1 + i))",
        ),
    ]
    targets = []
    for on_event, on_pre in variants:
        target = NeuronGroup(2, "g : 1\nh : 1\ncount : 1", events={"high": "g > 0.5"})
        target.run_on_event("high", on_event)
        S = Synapses(source, target, "w : 1", on_pre=on_pre)
        S.connect()
        S.w = "0.1*(j + 1)"
        targets.append(target)
    run(5 * ms)
    assert targets[0].count[:].sum() > 0 and targets[0].h[:].min() > 0
    for name in ("g", "h", "count"):
        np.testing.assert_array_equal(getattr(targets[0], name)[:], getattr(targets[1], name)[:])


def test_units_of_temporaries_come_from_their_expression():
    G = NeuronGroup(1, "v : volt\nu : 1", threshold="True", reset="x = 2*v\nv = x\nu = x")
    with pytest.raises(ExpressionError, match=r"reset line 3.*inconsistent units"):
        run(defaultclock.dt)


def test_updating_an_undefined_temporary_is_an_error():
    with pytest.raises(ExpressionError, match=r"'g', on_pre line 1.*'y = \.\.\.'"):
        G = NeuronGroup(1, "v : 1", threshold="v > 1")
        Synapses(G, G, on_pre="y += 1", name="g")
