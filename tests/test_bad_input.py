"""Bad input: every row is a call that must raise a given exception whose message names the
object and the problem, and must leave the objects usable (issue: never crash, never silently
wrong)."""

import re
import subprocess
import sys

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.codegen.expressions import ExpressionError, parse_expression
from spikeforge.model.state import read_snapshot_file
from spikeforge.pipeline import ModelFault


def _group():
    return NeuronGroup(
        3,
        "dv/dt = -v/(10*ms) : 1\nk : integer",
        threshold="v > 1",
        reset="v = 0",
        refractory=1 * ms,
        name="cells",
    )


CASES = [
    ("N is read-only", lambda G: setattr(G, "N", 1000), AttributeError, "cells.*N is read-only"),
    ("name is read-only", lambda G: setattr(G, "name", "x"), AttributeError, "name is read-only"),
    ("i is read-only", lambda G: setattr(G, "i", 2), TypeError, "cells.*'i' cannot be assigned"),
    (
        "integer overflow",
        lambda G: setattr(G, "k", 2**40),
        ValueError,
        "cells.*k is a 32-bit integer variable",
    ),
    ("integer NaN", lambda G: setattr(G, "k", np.nan), ValueError, "cells.*cannot hold NaN"),
    (
        "NaN refractory",
        lambda G: NeuronGroup(1, "v : 1", threshold="v > 1", refractory=np.nan * ms, name="r"),
        ValueError,
        "NeuronGroup 'r'.*refractory period must be finite",
    ),
    (
        "NaN Poisson rate",
        lambda G: PoissonGroup(2, np.nan * Hz, name="p"),
        ValueError,
        "PoissonGroup 'p'.*rates must be finite",
    ),
    (
        "negative Poisson rate",
        lambda G: PoissonGroup(2, [1, -1] * Hz, name="q"),
        ValueError,
        "PoissonGroup 'q'.*rates must be finite and not negative",
    ),
    ("NaN duration", lambda G: run(np.nan * ms), ValueError, "finite, non-negative duration"),
    (
        "integer overflow in model code",
        lambda G: (
            NeuronGroup(1, "k : integer", threshold="True", reset="k = 3000000000", name="w"),
            run(0.1 * ms),
        ),
        ExpressionError,
        "NeuronGroup 'w', reset line 1.*32-bit integer variable and cannot hold 3000000000",
    ),
    (
        "a literal division by zero",
        lambda G: (G.run_regularly("v = v/0"), run(0.1 * ms)),
        ExpressionError,
        "NeuronGroup 'cells', run_regularly.*'v = v/0'.*division by zero",
    ),
    (
        "two objects, one name",
        lambda G: (NeuronGroup(1, "v : 1", name="cells"), run(1 * ms)),
        ValueError,
        "two objects named 'cells'",
    ),
]


@pytest.mark.parametrize("what, call, error, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_a_message(what, call, error, message):
    G = _group()
    G.v = 0.5
    with pytest.raises(error, match=message):
        call(G)
    assert G.N == 3 and np.all(G.v[:] == 0.5) and np.all(G.k[:] == 0)


@pytest.mark.parametrize(
    "code, error, message",
    [
        ("k = k // n", ZeroDivisionError, "integer division by zero in 'k = k // n'"),
        ("k = k % n", ZeroDivisionError, "integer division by zero in 'k = k % n'"),
        ("k = 1e12*v", ModelFault, "integer variable 'k'"),
        ("k = k / (n - 0*v)", ModelFault, "integer variable 'k'"),  # a float division
    ],
)
def test_a_value_an_integer_variable_cannot_hold_stops_the_run(code, error, message):
    """NaN, infinities and values out of range used to become INT_MIN without a word.  (An
    overflow inside integer arithmetic, before the value is stored, wraps as in C and Brian2.)"""
    start_scope()
    G = NeuronGroup(3, "v : 1\nk : integer\nn : integer", name="counts")
    G.v = 1
    G.k = 7
    G.n = [1, 0, 2]
    G.run_regularly(code, dt=1 * ms, when="end")
    mon = StateMonitor(G, "k", record=True)
    with pytest.raises(error, match=f"NeuronGroup 'counts': .*{re.escape(message)}.*t = ") as info:
        run(2 * ms)
    assert isinstance(info.value, ModelFault)
    # time, state and monitors agree: the run ended after the step of the fault (step 0)
    assert defaultclock.t == 0.1 * ms
    assert len(mon.t) == 1
    assert 0 in G.k[:].tolist()  # a faulty element stores 0, never INT_MIN
    assert min(G.k[:]) >= 0


def test_a_string_assignment_that_faults_raises_at_the_assignment():
    start_scope()
    G = NeuronGroup(3, "k : integer\nn : integer", name="counts")
    G.k = 7
    G.n = [1, 0, 2]
    with pytest.raises(
        ZeroDivisionError, match="NeuronGroup 'counts': integer division by zero in 'k = k // n'"
    ):
        G.k = "k // n"
    assert G.k[:].tolist() == [7, 0, 3]  # elements assign independently; the faulty one is 0
    G.n = 1
    G.k = "k // n"  # the same code, no fault: no error
    assert G.k[:].tolist() == [7, 0, 3]


@pytest.mark.parametrize(
    "where, code",
    [
        ("float result", {"run_regularly": "v = k // n + 0.5"}),
        ("condition", {"threshold": "k % n == 0"}),
        ("reset", {"threshold": "True", "reset": "v = v + (k + 1) % n"}),
    ],
)
def test_an_integer_division_by_zero_anywhere_is_a_zero_division_error(where, code):
    """Integer // and % by a divisor that is 0 at run time gave infinities or NaN (a condition
    then silently false, a float variable infinite): now ZeroDivisionError naming the object
    and the statement, wherever the division is."""
    start_scope()
    G = NeuronGroup(
        3,
        "v : 1\nk : integer\nn : integer",
        threshold=code.get("threshold"),
        reset=code.get("reset"),
        name="counts",
    )
    G.k = 7
    G.n = [1, 0, 2]
    if "run_regularly" in code:
        G.run_regularly(code["run_regularly"], dt=1 * ms)
    statement = code.get("run_regularly") or code.get("reset") or code["threshold"]
    with pytest.raises(
        ZeroDivisionError,
        match=f"NeuronGroup 'counts': integer division by zero in {re.escape(repr(statement))}",
    ):
        run(2 * ms)
    assert defaultclock.t == 0.1 * ms  # stopped after the step of the fault
    G.n = 3
    run(0.2 * ms)  # and goes on once the divisor is not 0
    assert np.all(np.isfinite(G.v[:]))


def test_a_connect_whose_condition_divides_by_zero_keeps_no_synapses():
    start_scope()
    G = NeuronGroup(4, "v : 1", name="cells")
    S = Synapses(G, G, name="links")
    S.connect(i=0, j=1)
    with pytest.raises(
        ZeroDivisionError, match="Synapses 'links': integer division by zero in 'i % d == 0'"
    ):
        S.connect(condition="i % d == 0", namespace={"d": 0})
    assert S.N == 1 and S.j[:].tolist() == [1]  # none of the failed call's synapses
    S.connect(condition="i % d == 0 and i != j", namespace={"d": 2})
    assert S.N == 1 + 3 + 3


def test_integer_division_is_pythons_and_exact():
    """Integer // and % round as Python's do (towards minus infinity, the remainder with the
    sign of the divisor), in integers: 49 // n with n = 49 outside the model was 0 (the division
    became a multiplication by 1/49, moved out of the loop)."""
    start_scope()
    n = 49
    G = NeuronGroup(
        4, "a : integer\nb : integer\nq : integer\nr : integer\nqn : integer", name="ints"
    )
    G.a = [-7, 7, -7, 49]
    G.b = [2, -2, -2, 5]
    G.run_regularly("q = a // b\nr = a % b\nqn = a // n", dt=1 * ms)
    run(0.1 * ms)
    assert G.q[:].tolist() == [-7 // 2, 7 // -2, -7 // -2, 49 // 5]
    assert G.r[:].tolist() == [-7 % 2, 7 % -2, -7 % -2, 49 % 5]
    assert G.qn[:].tolist() == [-7 // 49, 7 // 49, -7 // 49, 1]


def test_float_division_by_zero_keeps_ieee_semantics():
    """As in Brian2: a float // 0 is infinite and a float % 0 is NaN, without an error."""
    start_scope()
    G = NeuronGroup(2, "x : 1\ny : 1\nz : 1\nk : integer", name="floats")
    G.x = [3.0, -3.0]
    G.k = 3
    G.run_regularly("y = x // z\nz = x % z + 0*k", dt=1 * ms)
    run(0.1 * ms)
    assert G.y[:].tolist() == [np.inf, -np.inf]
    assert np.all(np.isnan(G.z[:]))


OUT_OF_MEMORY = """
import resource
from spikeforge.only import *
G = NeuronGroup(10000, "v : 1", threshold="True", name="always")
mon = SpikeMonitor(G, name="spikes")
run(0.1 * ms)  # compile and import everything first
with open("/proc/self/status") as status:
    vm = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
resource.setrlimit(resource.RLIMIT_AS, (vm + 300 * 2**20, resource.RLIM_INFINITY))
try:
    run(100 * second)  # 10000 spikes a step: the recording outgrows the limit within 0.2 s
except MemoryError as error:
    print("MemoryError:", error)
resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
steps = round(float(defaultclock.t / defaultclock.dt))
print("LENGTHS", len(mon.i), len(mon.t), steps)
run(0.2 * ms)  # the network goes on from there
print("CONTINUED", len(mon.t))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and RLIMIT_AS")
def test_a_recording_that_runs_out_of_memory_is_a_memory_error_naming_the_monitor():
    """A monitor's C++ vector that cannot grow ended the process with std::bad_alloc
    (SIGABRT); now the run stops after that step with a MemoryError."""
    done = subprocess.run(
        [sys.executable, "-c", OUT_OF_MEMORY], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "MemoryError: SpikeMonitor 'spikes': out of memory while recording spike" in out
    assert " recorded so far, which are kept); the run stopped at t = " in out
    assert "the run stopped at t = " in out
    n_i, n_t, steps = (int(x) for x in out.split("LENGTHS ")[1].split()[:3])
    # i and t have the same length: the steps before the fault, and part of its step
    assert n_i == n_t and 10000 * (steps - 1) <= n_i < 10000 * steps
    # and another run goes on from there: two more steps of 10000 spikes
    assert int(out.split("CONTINUED ")[1]) == n_t + 20000


QUEUE_OUT_OF_MEMORY = """
import resource
from spikeforge.only import *
G = NeuronGroup(1000, "v : 1", threshold="True", name="always")
S = Synapses(G, G, on_pre="v_post += 1", name="links")
S.connect()
S.delay = DELAY  # nothing arrives within the run: pending events only grow
run(0.1 * ms)  # compile and import everything first
with open("/proc/self/status") as status:
    vm = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
resource.setrlimit(resource.RLIMIT_AS, (vm + 300 * 2**20, resource.RLIM_INFINITY))
try:
    run(40 * ms)  # 10**6 synaptic events a step, 4 MB: the limit is reached within 100 steps
except MemoryError as error:
    print("MemoryError:", error)
resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
print("PENDING", S.pathways[0].queue.n_pending, round(float(defaultclock.t / defaultclock.dt)))
run(0.2 * ms)  # the network goes on from there
print("CONTINUED", S.pathways[0].queue.n_pending)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and RLIMIT_AS")
@pytest.mark.parametrize("delay", ["50 * ms", "'(40 + 10*rand()) * ms'"])
def test_a_spike_queue_that_runs_out_of_memory_is_a_memory_error_and_queues_none_of_that_step(
    delay,
):
    """A queue that could not grow ended the process; then it kept part of the step's spikes.
    Now the run stops after that step, whose spikes are not queued at all, with a MemoryError
    naming the synapses; the same for one delay for all synapses and delays that differ."""
    script = QUEUE_OUT_OF_MEMORY.replace("DELAY", delay)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert (
        "MemoryError: Synapses 'links': out of memory while queueing the spikes of the pre "
        "pathway (" in out
    ), out
    assert "synaptic events were waiting for their delays); the run stopped at t = " in out
    pending, steps = (int(x) for x in out.split("PENDING ")[1].split()[:2])
    assert pending == 10**6 * (steps - 1)  # every step before the fault's, none of the fault's
    assert int(out.split("CONTINUED ")[1]) == pending + 2 * 10**6


RATE_OUT_OF_MEMORY = """
import resource
from spikeforge.only import *
G = NeuronGroup(1, "v : 1", threshold="True", name="one")
rate = PopulationRateMonitor(G, name="rate")
run(0.1 * ms)  # compile and import everything first
with open("/proc/self/status") as status:
    vm = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
resource.setrlimit(resource.RLIMIT_AS, (vm + 100 * 2**20, resource.RLIM_INFINITY))
try:
    run(10000 * second)  # 16 bytes a step: the limit is reached within 5 million steps
except MemoryError as error:
    print("MemoryError:", error)
resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
print("LENGTHS", len(rate.t), len(rate.rate), round(float(defaultclock.t / defaultclock.dt)))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and RLIMIT_AS")
def test_a_rate_monitor_that_runs_out_of_memory_is_a_memory_error_naming_it():
    done = subprocess.run(
        [sys.executable, "-c", RATE_OUT_OF_MEMORY], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "MemoryError: PopulationRateMonitor 'rate': out of memory while recording (" in out
    n_t, n_rate, steps = (int(x) for x in out.split("LENGTHS ")[1].split()[:3])
    assert f"({n_t} time steps recorded so far, which are kept)" in out
    assert n_t == n_rate == steps - 1  # t and rate agree: every step before the fault's


CONNECT_OUT_OF_MEMORY = """
import resource
from spikeforge.only import *
G = NeuronGroup(20000, "v : 1", name="cells")
S = Synapses(G, G, "w : 1", name="dense")
S.connect(i=[0], j=[1])  # compile and import everything first
with open("/proc/self/status") as status:
    vm = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
resource.setrlimit(resource.RLIMIT_AS, (vm + 300 * 2**20, resource.RLIM_INFINITY))
for how in ({"p": 0.5}, {"condition": "i != j"}):  # 2e8 and 4e8 synapses: over 800 MB
    try:
        S.connect(**how)
        print("CONNECTED", S.N)
    except MemoryError as error:
        print("MemoryError:", error)
    print("SYNAPSES", S.N, len(S.j[:]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and RLIMIT_AS")
def test_a_connect_that_runs_out_of_memory_keeps_the_synapses_it_had():
    done = subprocess.run(
        [sys.executable, "-c", CONNECT_OUT_OF_MEMORY], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert out.count("MemoryError: Synapses 'dense'") == 2, out
    assert out.count("out of memory while creating synapses") == 2  # reserve, then push_back
    assert out.count("SYNAPSES 1 1") == 2  # the synapse made before, and nothing half-made


def test_integer_variables_take_fractions_as_brian2_does():
    G = _group()
    G.k = 2.7
    assert list(G.k[:]) == [2, 2, 2]


def test_a_sum_of_hundreds_of_terms_parses():
    terms = "+".join(f"{k}*v" for k in range(1, 701))
    assert parse_expression(terms) == sum(range(1, 701)) * parse_expression("v")
    product = "*".join(["v"] * 600) + "/v"
    assert parse_expression(product) == parse_expression("v") ** 599


@pytest.mark.parametrize("cut", [0, 10, 100, 1000])
def test_a_truncated_snapshot_file_is_a_value_error(tmp_path, cut):
    G = _group()
    net = Network(G)
    path = tmp_path / "snap.npz"
    net.store(filename=path)
    data = path.read_bytes()
    path.write_bytes(data[: min(cut, len(data) - 1)])
    with pytest.raises(ValueError, match="is not a spikeforge snapshot file"):
        read_snapshot_file(path)


def test_allocations_too_large_are_errors_that_name_the_object():
    """What would end in std::bad_alloc (SIGABRT) is refused with a Python exception first."""
    G = NeuronGroup(200_000, "v : 1", name="big")
    S = Synapses(G, G, "w : 1", name="dense")
    with pytest.raises(ValueError, match="Synapses 'dense'.*about 4e\\+10 synapses"):
        S.connect()
    assert S.N == 0
    H = NeuronGroup(1000, "v : 1", name="small")
    monitor = StateMonitor(H, "v", record=True, name="everything")
    with pytest.raises(MemoryError, match="StateMonitor 'everything'.*1000 element"):
        run(1e7 * second)
    start_scope()
    H = NeuronGroup(1, "v : 1", name="small")
    monitor = StateMonitor(H, "v", record=False, name="times")  # records t only: 8 bytes a step
    with pytest.raises(
        MemoryError, match=r"StateMonitor 'times': recording the times of \d+ steps"
    ):
        run(1e11 * second)  # 8e15 bytes: more than any address space
    assert defaultclock.t == 0 * second and len(monitor.t) == 0
