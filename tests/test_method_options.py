"""``method_options=``: Brian2's options of an integration method, checked like Brian2 does."""

import numpy as np
import pytest

from spikeforge.only import *


def test_simplify_is_accepted_for_the_exact_method():
    G = NeuronGroup(2, "dv/dt = -v/(10*ms) : 1", method="exact", method_options={"simplify": False})
    G.v = 1
    run(1 * ms)
    np.testing.assert_allclose(G.v[:], np.exp(-0.1), rtol=1e-12)
    S = Synapses(G, G, "dw/dt = -w/(5*ms) : 1 (clock-driven)", method_options={"simplify": True})
    assert S.method_options == {"simplify": True}


def test_other_options_are_errors_naming_the_object():
    with pytest.raises(IntegrationError, match=r"'ng'.*'simplify'.*exponential_euler.*no options"):
        NeuronGroup(
            1,
            "dv/dt = -v/ms : 1",
            method="exponential_euler",
            method_options={"simplify": False},
            name="ng",
        )
    with pytest.raises(IntegrationError, match="GSL"):
        NeuronGroup(1, "dv/dt = -v/ms : 1", method_options={"absolute_error": 1e-6})
    with pytest.raises(IntegrationError, match="GSL"):
        NeuronGroup(1, "dv/dt = -v/ms : 1", method="gsl_rkf45", method_options={})
    with pytest.raises(IntegrationError, match=r"Synapses 'syn'.*'order'"):
        G = NeuronGroup(1, "v : 1")
        Synapses(G, G, method="euler", method_options={"order": 2}, name="syn")
    with pytest.raises(IntegrationError, match="must be a dict"):
        NeuronGroup(1, "dv/dt = -v/ms : 1", method_options=["simplify"])
