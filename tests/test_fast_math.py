"""Fast-math mode: vector versions of exp, log... in the element loops, results changed only in
their last bits, compared with the exact mode."""

import platform
import sys
from pathlib import Path

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.codegen.cache import FAST_MATH_MARKER, fast_math_libraries
from spikeforge.model.network import fast_math_mode

from cobahh_neurons import HH, NAMESPACE  # a module beside this file

LIBMVEC = bool(fast_math_libraries())
needs_libmvec = pytest.mark.skipif(
    not LIBMVEC, reason=f"no glibc vector math library on {sys.platform}/{platform.machine()}"
)


def hh_run(fast_math: bool, duration):
    start_scope()
    neurons = NeuronGroup(
        1000,
        HH,
        threshold="v > -20*mV",
        refractory=3 * ms,
        method="exponential_euler",
        namespace=NAMESPACE,
        name="hh",
    )
    neurons.v = "El + 10*mV*(i % 7)/7.0"
    neurons.I = "0.5*nA*i/1000.0"
    spikes = SpikeMonitor(neurons)
    trace = StateMonitor(neurons, "v", record=[10, 500, 999], dt=0.5 * ms)
    network = Network(neurons, spikes, trace)
    network.run(duration, fast_math=fast_math)
    return network, np.array(spikes.count[:]), np.array(trace.v_[:]), np.array(neurons.v_[:])


@needs_libmvec
def test_fast_math_calls_vector_functions_and_changes_only_the_last_bits():
    exact_net, exact_counts, exact_trace, exact_v = hh_run(False, 20 * ms)
    fast_net, fast_counts, fast_trace, fast_v = hh_run(True, 20 * ms)
    assert FAST_MATH_MARKER not in exact_net.last_run.source
    assert FAST_MATH_MARKER in fast_net.last_run.source
    # the compiled module calls libmvec's vector functions (names _ZGV...: x86-64 vector ABI)
    assert b"_ZGV" in Path(fast_net.last_run.module.__file__).read_bytes()
    assert b"_ZGV" not in Path(exact_net.last_run.module.__file__).read_bytes()
    assert exact_counts.sum() > 1000  # the neurons spike: the dynamics are exercised
    # over 20 ms, the differences of a few units in the last place have not grown beyond 1 nV
    assert not np.array_equal(fast_v, exact_v)  # they do differ...
    np.testing.assert_allclose(fast_trace, exact_trace, rtol=0, atol=1e-9)  # ...by very little
    np.testing.assert_array_equal(fast_counts, exact_counts)


@needs_libmvec
def test_fast_math_keeps_the_statistics_of_a_long_run():
    """Over 300 ms, single trajectories may part (spike times move by a step), but the firing
    of each neuron, a smooth function of its drive, stays the same within a spike."""
    _, exact_counts, _, _ = hh_run(False, 300 * ms)
    _, fast_counts, _, _ = hh_run(True, 300 * ms)
    assert exact_counts.mean() > 5
    assert np.abs(fast_counts - exact_counts).max() <= 1
    assert abs(fast_counts.sum() - exact_counts.sum()) <= 0.001 * exact_counts.sum() + 2


def test_the_mode_comes_from_run_or_from_brian2s_compiler_flags():
    assert fast_math_mode() is False  # spikeforge's default flags have no -ffast-math
    assert fast_math_mode(True) is True and fast_math_mode(False) is False
    before = prefs.codegen.cpp.extra_compile_args_gcc
    try:
        prefs.codegen.cpp.extra_compile_args_gcc += ["-ffast-math"]  # as Brian2 scripts do
        assert fast_math_mode() is True
        assert fast_math_mode(False) is False  # the argument of run() decides
    finally:
        prefs.codegen.cpp.extra_compile_args_gcc = before
    assert "-ffast-math" not in prefs.codegen.cpp.extra_compile_args_gcc  # defaults unchanged
    with pytest.raises(TypeError, match="fast_math must be True, False or None, not 'yes'"):
        fast_math_mode("yes")
