"""The compatibility runner's own logic (benchmarks/brian2_examples.py), without Brian2."""

import subprocess
import sys
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import brian2_examples as runner  # noqa: E402
from brian2_examples_bootstrap import rewrite_imports  # noqa: E402


def test_only_import_lines_change():
    source = (
        "from brian2 import *\n"
        "import brian2.numpy_ as bnp  # brian2 stays in comments\n"
        "from brian2.units.constants import (zero_celsius,\n"
        "    faraday_constant as F)\n"
        "text = 'brian2 is named here'\n"
        "import numpy, brian2\n"
        "from mybrian2 import x\n"
    )
    assert rewrite_imports(source, "spikeforge") == (
        "from spikeforge import *\n"
        "import spikeforge.numpy_ as bnp  # brian2 stays in comments\n"
        "from spikeforge.units.constants import (zero_celsius,\n"
        "    faraday_constant as F)\n"
        "text = 'brian2 is named here'\n"
        "import numpy, spikeforge\n"
        "from mybrian2 import x\n"
    )
    assert rewrite_imports(source, "brian2") == source


def test_random_scripts_are_recognised():
    assert runner.is_random("G.v = 'rand()*mV'")
    assert runner.is_random("S.connect(p=0.1)")
    assert runner.is_random("dv/dt = -v/tau + xi/sqrt(ms) : 1")
    assert runner.is_random("P = PoissonGroup(10, 5*Hz)")
    assert not runner.is_random("G = NeuronGroup(10, 'dv/dt = -v/tau : 1')\nrun(1*ms)")


def test_comparisons_of_arrays():
    t = np.arange(10) * 1e-4
    assert runner.compare_arrays("t", t, t + 1e-12, random=False) == ""
    assert runner.compare_arrays("t", t, t + 1e-4, random=False) == "t differs"
    assert runner.compare_arrays("i", np.arange(3.0), np.array([0.0, 2, 1]), False) == "i differs"
    v = np.sin(np.arange(100.0))
    assert runner.compare_arrays("v", v, v * (1 + 1e-9), random=False) == ""
    assert "max difference" in runner.compare_arrays("v", v, v + 1e-3, random=False)
    # random scripts: event counts within 15% and 3 standard errors, means within 15%
    assert runner.compare_arrays("i", np.zeros(1000), np.zeros(1080), random=True) == ""
    assert runner.compare_arrays("i", np.zeros(1000), np.zeros(1400), random=True) != ""
    assert runner.compare_arrays("rate", np.full(50, 10.0), np.full(50, 10.5), random=True) == ""
    assert runner.compare_arrays("rate", np.full(50, 10.0), np.full(50, 14.0), random=True) != ""


def test_the_bootstrap_runs_a_script_and_saves_its_monitors(tmp_path):
    script = tmp_path / "tiny.py"
    script.write_text(
        "from brian2 import *\n"
        "G = NeuronGroup(2, 'dv/dt = 2/(10*ms) : 1', threshold='v > 1', reset='v = 0',"
        " method='exact')\n"
        "M = SpikeMonitor(G)\n"
        "S = Synapses(G, G, 'w : 1', on_pre='v += 0')\n"
        "S.connect(i=[1, 0], j=[0, 1])\n"
        "S.w = 'i + 10*j'\n"
        "run(8*ms)\n"
        "plot(M.t/ms, M.i, '.')\n"
        "show()\n"
    )
    prefix = tmp_path / "out"
    subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "brian2_examples_bootstrap.py"),
            "spikeforge",
            str(script),
            str(prefix),
        ],
        check=True,
        cwd=tmp_path,
        timeout=300,
    )
    report = runner.json.loads((tmp_path / "out.json").read_text())
    assert report["status"] == "ran" and report["monitors"][0]["kind"] == "SpikeMonitor"
    # then the final states of the groups: NeuronGroup and Synapses, numbered as made
    kinds = [(m["kind"], m["name"], m["serial"], m.get("keys")) for m in report["monitors"][1:]]
    assert kinds == [
        ("NeuronGroup", "neurongroup (final state)", 0, ["v"]),
        ("Synapses", "synapses (final state)", 0, ["w"]),
    ]
    with np.load(tmp_path / "out.npz") as arrays:
        # v grows by 0.02 per step and passes 1 after about 50 steps; once in 8 ms
        assert sorted(arrays["0/i"]) == [0, 1]
        assert np.all(np.abs(arrays["0/t"] - 0.005) <= 1.5e-4)
        assert np.allclose(arrays["1/v"], 30 * 0.02)  # 80 steps: reset at 50, then 30 more
        assert list(arrays["2/w"]) == [10, 1]  # ordered by (i, j): 0->1 first


def _report(tmp_path, name, events, w):
    """A saved report of one SpikeMonitor with ``events`` spikes and a StateMonitor of ``w``."""
    arrays = tmp_path / f"{name}.npz"
    np.savez(
        arrays,
        **{"0/i": np.zeros(events), "0/t": np.zeros(events), "0/count": np.array([events])},
        **{"1/t": np.arange(4.0), "1/w": np.full(4, w)},
    )
    return {
        "arrays": str(arrays),
        "monitors": [
            {"kind": "SpikeMonitor", "name": "spikes", "keys": ["count", "i", "t"]},
            {"kind": "StateMonitor", "name": "state", "keys": ["t", "w"]},
        ],
    }


def test_random_scripts_are_judged_against_their_spread_over_seeds(tmp_path):
    # counts that vary much from seed to seed: 416 against Brian2's 204 in one run, but the
    # means over five seeds are within three standard errors of each other
    theirs = [_report(tmp_path, f"b{k}", n, 1.0) for k, n in enumerate([204, 335, 485, 339, 268])]
    ours = [_report(tmp_path, f"s{k}", n, 1.0) for k, n in enumerate([416, 224, 240, 349, 382])]
    assert runner.compare(theirs[0], ours[0], True)[0].startswith(
        "SpikeMonitor spikes: count: 416 vs 204"
    )
    assert runner.compare_spread(theirs, ours) == [
        "SpikeMonitor spikes: agrees (over 5 seeds)",
        "StateMonitor state: agrees (over 5 seeds)",
    ]
    # a mean that is steady over seeds but 30% away is a difference
    ours = [_report(tmp_path, f"s{k}", n, 1.3 + 0.01 * k) for k, n in enumerate([300] * 5)]
    theirs = [_report(tmp_path, f"b{k}", n, 1.0 + 0.01 * k) for k, n in enumerate([300] * 5)]
    lines = runner.compare_spread(theirs, ours)
    assert lines[0] == "SpikeMonitor spikes: agrees (over 5 seeds)"
    assert lines[1].startswith("StateMonitor state: mean w: 1.32 ± 0.016 vs 1.02 ± 0.016")
    assert runner._agrees({"agreement": lines[:1]}) and not runner._agrees({"agreement": lines})


def test_moved_seeds_are_reproducible_and_differ_from_the_scripts_own(tmp_path):
    script = tmp_path / "noisy.py"
    script.write_text(
        "from brian2 import *\n"
        "seed(4)\n"
        "G = NeuronGroup(50, 'v : 1')\n"
        "G.v = 'rand()'\n"
        "x = np.random.rand(3)\n"
        "M = StateMonitor(G, 'v', record=True)\n"
        "run(0.2*ms)\n"
    )

    def values(offset):
        prefix = tmp_path / f"out{offset}"
        command = [sys.executable, str(BENCHMARKS / "brian2_examples_bootstrap.py")]
        command += ["spikeforge", str(script), str(prefix), str(offset)]
        subprocess.run(command, check=True, cwd=tmp_path, timeout=300)
        with np.load(f"{prefix}.npz") as arrays:
            return arrays["0/v"]

    own, moved = values(0), values(3)
    assert np.array_equal(values(3), moved)  # reproducible
    assert not np.array_equal(own, moved)
    assert 0.3 < moved.mean() < 0.7  # still uniform draws


def test_a_trace_that_drifts_from_rounding_is_told_apart():
    t = np.linspace(0, 1, 1000)
    base = np.sin(20 * t)[None, :]
    drift = base + 1e-17 * np.exp(30 * t)  # 1e-17 at the start, 1e-4 at the end
    assert "grown from rounding" in runner.compare_arrays("v", base, drift, random=False)
    wrong = base * 1.001  # a wrong constant shows from the start
    text = runner.compare_arrays("v", base, wrong, random=False)
    assert "max difference" in text and "grown" not in text


def test_saved_reports_of_an_older_runner_are_not_reused():
    """Brian2's saved results are reused only if they are of the present format (with the
    groups' final states) and their monitors carry creation numbers: otherwise they would be
    matched by name against numbered ones and seem missing."""
    monitor = {"kind": "StateMonitor", "name": "m", "serial": 0}
    current = {"status": "ran", "format": runner.FORMAT, "monitors": [monitor]}
    unnumbered = {"status": "ran", "format": runner.FORMAT, "monitors": [{"kind": "StateMonitor"}]}
    without_groups = {"status": "ran", "monitors": [monitor]}
    assert runner.is_current(current)
    assert not runner.is_current(unnumbered) and not runner.is_current(without_groups)
    assert runner.is_current({"status": "failed", "format": runner.FORMAT, "monitors": []})


def test_the_report_groups_failures_and_says_when_there_are_none():
    def row(script, spikeforge, error=""):
        return {
            "script": script,
            "brian2": "ran",
            "spikeforge": spikeforge,
            "error": error,
            "agreement": [],
            "random": False,
        }

    failing = [row("a.py", "failed", "KeyError: 'x'"), row("b.py", "failed", "KeyError: 'y'")]
    report = runner.markdown([row("c.py", "ran"), *failing], [])
    assert "- 2 × `KeyError: …`: a.py, b.py" in report
    assert "None: every script" not in report
    report = runner.markdown([row("c.py", "ran")], [])
    section = report.split("## Why the others fail (most common first)")[1].split("## Per")[0]
    assert section.strip() == "None: every script that Brian2 runs here, spikeforge runs too."
    assert report.startswith("# Brian2's examples under spikeforge")
    assert runner.markdown([row("c.py", "ran")], [], "tutorials").startswith(
        "# Brian2's tutorials under spikeforge"
    )


def test_a_tutorial_notebook_becomes_a_script_that_fails_only_on_unexpected_errors(
    tmp_path, monkeypatch
):
    import json

    import brian2_tutorials

    def cell(source, kind="code"):
        return {"cell_type": kind, "source": source.splitlines(keepends=True)}

    notebook = {
        "cells": [
            cell("Some text", "markdown"),
            cell("%matplotlib inline\nx = 1\neqs = '''\n  dv/dt = -v/tau : 1\n'''"),
            cell("x + 'a'  # raises on purpose"),
            cell("print('x is', x, eqs.split())"),
        ]
    }
    folder = tmp_path / "notebooks"
    folder.mkdir()
    (folder / "1-intro.ipynb").write_text(json.dumps(notebook))
    (folder / "picture.png").write_bytes(b"\x89PNG")
    output = tmp_path / "tutorials"

    def converted(expected):
        monkeypatch.setattr(brian2_tutorials, "EXPECTED_ERRORS", {"1-intro": expected})
        assert brian2_tutorials.main([str(folder), str(output)]) == 0
        script = output / "1_intro.py"
        assert "%matplotlib" not in script.read_text()
        return subprocess.run([sys.executable, str(script)], capture_output=True, text=True)

    expected = converted({2: "adding a string to a number"})
    assert expected.returncode == 0, expected.stderr
    assert "cell 2 raised TypeError" in expected.stdout
    assert "x is 1 ['dv/dt', '=', '-v/tau', ':', '1']" in expected.stdout  # later cells run
    assert (output / "picture.png").read_bytes() == b"\x89PNG"
    unexpected = converted({})
    assert unexpected.returncode != 0
    assert "cell 2: TypeError" in unexpected.stderr


def test_final_states_of_groups_are_compared_with_their_unset_values():
    nan, inf = np.nan, np.inf
    theirs = np.array([1.0, nan, -inf, 2.0])
    assert runner.compare_arrays("v", theirs, theirs + [5e-6, 0, 0, 0], False, final=True) == ""
    assert "max difference" in runner.compare_arrays(
        "v", theirs, theirs + [1e-3, 0, 0, 0], False, final=True
    )
    moved_nan = np.array([1.0, 3.0, -inf, nan])
    assert "not finite" in runner.compare_arrays("v", theirs, moved_nan, False, final=True)
    # a variable equal everywhere is judged against its size, not its (zero) range
    assert (
        runner.compare_arrays("w", np.full(3, 0.5), np.full(3, 0.5 + 1e-12), False, final=True)
        == ""
    )
    assert runner.compare_arrays("w", np.full(3, 0.5), np.full(3, 0.6), False, final=True)
    # random: means of the finite values, whatever the sizes; a variable named count is a value
    assert (
        runner.compare_arrays("count", np.array([1.0, 3, nan]), np.array([2.0]), True, final=True)
        == ""
    )
    assert runner.compare_arrays(
        "count", np.array([1.0, 3]), np.array([4.0, 4, 4]), True, final=True
    )


def test_names_only_one_simulator_gives_a_group_are_not_differences(tmp_path):
    # Brian2 adds lastspike and not_refractory to a refractory group's equations
    def report(name, keys, v):
        arrays = tmp_path / f"{name}.npz"
        np.savez(arrays, **{f"0/{key}": np.full(3, v) for key in keys})
        entry = {"kind": "NeuronGroup", "name": "g (final state)", "serial": 0, "keys": keys}
        return {"arrays": str(arrays), "monitors": [entry]}

    theirs = [report(f"b{k}", ["lastspike", "v"], 1.0 + 0.01 * k) for k in range(3)]
    ours = [report(f"s{k}", ["v"], 1.0 + 0.01 * k) for k in range(3)]
    assert runner.compare(theirs[0], ours[0], False) == ["NeuronGroup g (final state): agrees"]
    assert runner.compare_spread(theirs, ours) == [
        "NeuronGroup g (final state): agrees (over 3 seeds)"
    ]
    ours = [report(f"s{k}", ["v"], 2.0 + 0.01 * k) for k in range(3)]
    assert "mean v" in runner.compare_spread(theirs, ours)[0]


def test_the_report_names_no_folder_of_this_machine(tmp_path):
    for name, label in [
        ("examples", "BRIAN2_EXAMPLES_DIR"),
        ("tutorials", "TUTORIAL_SCRIPTS"),
        ("results", "RESULTS_DIR"),
    ]:
        (tmp_path / name).mkdir()
        assert runner._placeholder(str(tmp_path / name)) == label
    assert runner._placeholder("--jobs") == "--jobs"
