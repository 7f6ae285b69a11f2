"""String assignments and connect() calls deferred while their modules compile in the background.

A deferred call must be invisible: every read, write, seed(), store() or run() sees the state as
if each statement had run when it was written.  And independent modules must compile at the same
time, which is the point of deferring.
"""

import json
import os
import stat
import sys
import textwrap

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.codegen import cache
from spikeforge.runtime import driver


def test_assignments_take_effect_in_the_order_written():
    G = NeuronGroup(6, "v : 1\nw : 1")
    G.v = "i * 1.0"
    G.w = "v + 10"  # reads the v of the previous (deferred) assignment
    G.v = "v * 2"
    G.v[:2] = [-1, -2]  # an array write waits for the string assignments before it
    assert G.v[:].tolist() == [-1, -2, 4, 6, 8, 10]
    assert G.w[:].tolist() == [10, 11, 12, 13, 14, 15]


def test_get_states_sees_deferred_assignments():
    G = NeuronGroup(3, "v : 1")
    G.v = "i + 0.5"
    assert G.get_states(["v"], units=False)["v"].tolist() == [0.5, 1.5, 2.5]


def test_seed_between_assignments_gives_each_its_own_stream():
    G = NeuronGroup(50, "x : 1\ny : 1")
    seed(5)
    G.x = "rand()"
    seed(5)
    G.y = "rand()"
    # made when written, both assignments drew the same numbers
    assert np.array_equal(G.x[:], G.y[:])
    assert len(set(G.x[:].tolist())) == 50


def test_deferred_connect_is_seen_by_every_later_read():
    G = NeuronGroup(40, "v : 1")
    S = Synapses(G, G, "w : 1")
    S.connect(p=0.5)
    S.connect("i == j")  # appends to the first
    S.w = "i + j * 0.001"
    n = S.N
    assert n == len(S.i[:]) == len(S.w[:])
    assert np.sum(S.i[:] == S.j[:]) >= 40  # the second connect() made all 40 pairs i == j
    assert np.allclose(S.w[:], S.i[:] + S.j[:] * 0.001)
    counts = np.bincount(S.i[:], minlength=40)
    assert counts.sum() == n


def test_connect_that_can_fail_raises_at_the_call():
    G = NeuronGroup(5, "v : 1")
    S = Synapses(G, G, "w : 1")
    S.connect(p=1.0)
    with pytest.raises(IndexError, match="j=5 .for i=2."):
        S.connect(j="i + 3")
    assert S.N == 25  # the first connect() is kept, nothing of the failed one


def test_run_and_store_see_deferred_assignments():
    G = NeuronGroup(3, "dv/dt = -v/(10*ms) : 1", method="exact")
    G.v = "i + 1.0"
    store("before")
    run(1 * ms)
    assert np.allclose(G.v[:], np.arange(1, 4) * np.exp(-0.1))
    G.v = "0.5"
    restore("before")  # the assignment before restore() happened before it
    assert G.v[:].tolist() == [1.0, 2.0, 3.0]


def test_a_failing_deferred_call_drops_the_later_ones():
    made = []
    driver.defer(lambda: made.append(1))
    driver.defer(lambda: 1 / 0)
    driver.defer(lambda: made.append(3))
    with pytest.raises(ZeroDivisionError):
        driver.run_deferred()
    assert made == [1]
    driver.run_deferred()  # nothing left
    assert made == [1]


def test_overlapping_builds_count_once_in_the_compile_time():
    statistics = cache.CacheStatistics()
    statistics.build_intervals += [(0.0, 3.0), (1.0, 2.0), (2.5, 4.0), (10.0, 11.0)]
    assert statistics.seconds_compiling == pytest.approx(5.0)


def _recording_compiler(tmp_path):
    """A compiler wrapper that records when each call starts and ends (and sleeps a little so
    that two calls run long enough to overlap if they are started together)."""
    log = tmp_path / "calls.jsonl"
    wrapper = tmp_path / "recording-cxx"
    real = " ".join(cache.compiler_command())
    wrapper.write_text(
        textwrap.dedent(f"""\
            #!{sys.executable}
            import json, subprocess, sys, time
            started = time.time()
            time.sleep(0.5)
            code = subprocess.call({real!r}.split() + sys.argv[1:])
            if "-shared" in sys.argv:  # not the version query
                with open({str(log)!r}, "a") as log:
                    log.write(json.dumps([started, time.time()]) + "\\n")
            sys.exit(code)
        """)
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return wrapper, log


def test_independent_modules_compile_at_the_same_time(tmp_path, monkeypatch):
    wrapper, log = _recording_compiler(tmp_path)
    monkeypatch.setenv("SPIKEFORGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CXX", str(wrapper))
    monkeypatch.setenv("SPIKEFORGE_COMPILE_JOBS", "2")
    monkeypatch.setattr(cache, "_toolchain_fields", None)
    first = cache.start_module("def f():\n    return 1\n", "parallel_a", optimize=False)
    second = cache.start_module("def f():\n    return 2\n", "parallel_b", optimize=False)
    assert first.running and second.running
    assert first.result().f() == 1 and second.result().f() == 2
    (start_a, end_a), (start_b, end_b) = sorted(
        json.loads(line) for line in log.read_text().splitlines()
    )
    assert start_b < end_a  # the second compiler started before the first had finished
    # with one compiler at a time, the second waits for the first
    monkeypatch.setenv("SPIKEFORGE_COMPILE_JOBS", "1")
    log.unlink()
    third = cache.start_module("def f():\n    return 3\n", "serial_a", optimize=False)
    fourth = cache.start_module("def f():\n    return 4\n", "serial_b", optimize=False)
    assert third.result().f() == 3 and fourth.result().f() == 4
    (start_a, end_a), (start_b, end_b) = sorted(
        json.loads(line) for line in log.read_text().splitlines()
    )
    assert start_b >= end_a
    assert sorted(os.listdir(tmp_path / "cache")) == sorted(
        [
            cache.module_name(f"def f():\n    return {k}\n", name, optimize=False)
            for k, name in ((1, "parallel_a"), (2, "parallel_b"), (3, "serial_a"), (4, "serial_b"))
        ]
        + ["locks"]
    )


def test_only_reads_and_writes_of_what_a_call_touches_wait_for_it():
    G = NeuronGroup(4, "u : 1\nv : 1\nw : 1")
    H = NeuronGroup(4, "x : 1")
    H.x = "i * 3.0"
    G.u = "i + 1.0"
    G.v = "2 * u"  # touches u and v
    G.w = [5, 6, 7, 8]  # touches neither: all three assignments may still wait
    assert len(driver._deferred) == 3
    assert H.x[:].tolist() == [0, 3, 6, 9]  # the calls up to H's ran; G's can wait
    assert len(driver._deferred) == 2
    assert G.w[:].tolist() == [5, 6, 7, 8]
    assert len(driver._deferred) == 2
    assert G.u[:].tolist() == [1, 2, 3, 4]  # both touch u (the second reads it)
    assert not driver._deferred
    assert G.v[:].tolist() == [2, 4, 6, 8]
