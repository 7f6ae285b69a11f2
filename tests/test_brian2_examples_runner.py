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
    with np.load(tmp_path / "out.npz") as arrays:
        # v grows by 0.02 per step and passes 1 after about 50 steps; once in 8 ms
        assert sorted(arrays["0/i"]) == [0, 1]
        assert np.all(np.abs(arrays["0/t"] - 0.005) <= 1.5e-4)
