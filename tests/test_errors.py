"""Bad input gets an error naming the object, the line and the problem, and changes nothing."""

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.codegen import cache


def error_text(excinfo) -> str:
    return str(excinfo.value)


def test_unknown_identifier_names_group_and_equation():
    G = NeuronGroup(2, "dv/dt = (v0 - v)/tau_unknown : volt", method="euler", name="cells")
    with pytest.raises(ExpressionError) as info:
        run(1 * ms)
    message = error_text(info)
    assert "'cells'" in message and "tau_unknown" in message and "unknown identifier" in message


def test_unit_mismatch_in_equations_is_reported_at_run():
    tau = 10 * ms
    G = NeuronGroup(1, "dv/dt = -v*tau : volt", method="euler", name="wrong_units")  # noqa: F841
    with pytest.raises(EquationError) as info:
        run(1 * ms)
    message = error_text(info)
    assert "'wrong_units'" in message and "dv/dt = -v*tau : volt" in message
    assert "inconsistent units" in message


def test_reset_to_undefined_variable_names_the_line():
    with pytest.raises(ExpressionError) as info:
        NeuronGroup(
            1,
            "dv/dt = -v/(10*ms) : volt",
            threshold="v > 1*mV",
            reset="v = 0*mV\nw += 1",  # (w = 1 would define a temporary)
            name="resetter_test",
        )
    message = error_text(info)
    assert "'resetter_test'" in message and "reset line 2" in message and "'w'" in message


def test_reset_to_a_constant_is_rejected():
    with pytest.raises(ExpressionError, match="constant parameter"):
        NeuronGroup(1, "v : volt\nI : volt (constant)", threshold="v > 1*mV", reset="I = 0*mV")


def test_threshold_must_be_a_condition():
    with pytest.raises(ExpressionError) as info:
        NeuronGroup(1, "dv/dt = -v/(10*ms) : volt", threshold="v + 1*mV", name="thr")
    assert "'thr'" in error_text(info) and "condition" in error_text(info)


def test_threshold_units_are_checked():
    G = NeuronGroup(
        1,
        "dv/dt = -v/(10*ms) : volt",
        threshold="v > 1*second",  # noqa: F841
        method="exact",
    )
    with pytest.raises(ExpressionError, match="cannot compare"):
        run(1 * ms)


@pytest.mark.parametrize(
    "model",
    [
        "dv/dt = -v/(10*ms) : volt\n__x : 1",
        "dv/dt = -v/(10*ms) : volt\ndouble : 1",
        "dv/dt = -v/(10*ms) : volt\nx : 1\nx : 1",
        "dv/dt = -v/(10*ms) : mV",
    ],
)
def test_malformed_models_are_rejected_at_construction(model):
    with pytest.raises(EquationError):
        NeuronGroup(1, model)


@pytest.mark.parametrize(
    "assignment",
    [
        "__import__('os').system('echo injected')",
        "v; import os",
        "0*mV\n    pass",
        "(lambda: 0)()",
        "v.__class__",
    ],
)
def test_injection_attempts_never_reach_generated_code(assignment):
    G = NeuronGroup(3, "v : volt")
    G.v = 1 * mV
    compiled = len(cache.statistics.compiled)
    with pytest.raises(ExpressionError):
        G.v = assignment
    assert len(cache.statistics.compiled) == compiled  # nothing was generated or compiled
    np.testing.assert_array_equal(G.v[:] / mV, [1, 1, 1])  # and nothing changed


def test_unknown_variable_in_assignment_and_attribute():
    G = NeuronGroup(2, "v : volt", name="attrs")
    with pytest.raises(AttributeError, match="no variable 'w'"):
        G.w = 1
    with pytest.raises(ExpressionError, match="unknown identifier 'nothing'"):
        G.v = "nothing*mV"


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least 1"):
        NeuronGroup(0, "v : 1")
    # as in Brian2: the wrong kind of value is a TypeError, and says what goes where
    with pytest.raises(TypeError, match="equations come second"):
        NeuronGroup("dv/dt = 5*Hz : 1", 1)
    for N in (object(), True):
        with pytest.raises(TypeError, match="whole number"):
            NeuronGroup(N, "v : 1")
    with pytest.raises(ValueError, match="whole number"):  # PoissonGroup's test in Brian2
        PoissonGroup(1.5, 10 * Hz)
    with pytest.raises(DimensionMismatchError):
        NeuronGroup(1, "dv/dt = -v/(10*ms) : 1", threshold="v > 1", refractory=5 * mV)
    with pytest.raises(ValueError, match="invalid object name"):
        NeuronGroup(1, "v : 1", name="bad name")
    G = NeuronGroup(1, "dv/dt = -v/(10*ms) : 1", method="exact")  # noqa: F841
    with pytest.raises(DimensionMismatchError):
        run(10)
    with pytest.raises(IntegrationError, match="not linear"):
        start_scope()
        H = NeuronGroup(1, "dv/dt = -v**2/(10*ms) : 1", method="exact")  # noqa: F841
        run(1 * ms)


def test_external_array_is_rejected_with_a_hint():
    weights = np.ones(3)
    G = NeuronGroup(3, "dv/dt = -weights*v/(10*ms) : 1", method="euler")  # noqa: F841
    with pytest.raises(ExpressionError, match="refers to an array"):
        run(1 * ms)


def test_failed_run_leaves_state_unchanged():
    G = NeuronGroup(2, "dv/dt = -v/tau_missing : 1", method="euler")
    G.v = 1
    with pytest.raises(ExpressionError):
        run(1 * ms)
    assert magic_network.t == 0 * ms
    np.testing.assert_array_equal(G.v[:], [1, 1])


def test_progress_report(capsys):
    G = NeuronGroup(1, "dv/dt = -v/(10*ms) : 1", method="exact")  # noqa: F841
    run(2 * ms, report="text", report_period=0 * second)
    out = capsys.readouterr().out
    assert "2 ms" in out or "0.002 s" in out
    reports = []
    run(2 * ms, report=lambda elapsed, fraction, start, duration: reports.append(fraction))
    assert reports and reports[-1] == pytest.approx(1.0)  # Brian2: the completed fraction
