"""The compilation cache: hits across processes, one compile under concurrency, recovery."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from spikeforge.codegen import cache

MODEL_SCRIPT = textwrap.dedent("""
    import json, sys
    from spikeforge import *
    from spikeforge.codegen import cache
    tau = float(sys.argv[1]) * ms
    G = NeuronGroup(int(sys.argv[2]), '''dv/dt = (MARKER*mV - v)/tau : volt
                                         MARKER : 1 (constant)''',
                    threshold='v > 5*mV', reset='v = 0*mV', method='exact')
    G.MARKER = 10
    spikes = SpikeMonitor(G)
    run(20*ms)
    print(json.dumps({"compiled": cache.statistics.compiled, "spikes": int(spikes.num_spikes)}))
""")


def run_script(script: str, cache_dir, *args) -> dict:
    import json

    env = dict(os.environ, SPIKEFORGE_CACHE_DIR=str(cache_dir))
    result = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_second_process_and_parameter_changes_compile_nothing(tmp_path):
    first = run_script(MODEL_SCRIPT, tmp_path, 10, 5)
    assert len(first["compiled"]) >= 2  # the runtime containers and the network module at least
    again = run_script(MODEL_SCRIPT, tmp_path, 10, 5)
    assert again == {"compiled": [], "spikes": first["spikes"]}
    changed = run_script(MODEL_SCRIPT, tmp_path, 3, 50)  # other constant, other size
    assert changed["compiled"] == []
    assert changed["spikes"] != first["spikes"]


def test_concurrent_processes_compile_a_new_module_once(tmp_path):
    script = MODEL_SCRIPT.replace("MARKER", "CONCURRENT_MARKER")
    env = dict(os.environ, SPIKEFORGE_CACHE_DIR=str(tmp_path))
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, "10", "5"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    import json

    compiled = []
    spikes = set()
    for process in processes:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        report = json.loads(out.strip().splitlines()[-1])
        compiled += report["compiled"]
        spikes.add(report["spikes"])
    assert len(compiled) == len(set(compiled))  # each module was compiled by one process only
    assert len(spikes) == 1
    assert not list(Path(tmp_path).glob(".build-*"))  # no half-written entries left


def test_broken_entry_is_rebuilt(tmp_path):
    # Build in one process, damage the extension (as a full disk might), load in another.
    script = textwrap.dedent("""
        import json
        from spikeforge.codegen import cache
        module = cache.load_module("def answer():\\n    return 42\\n", "broken_entry_test")
        print(json.dumps({"compiled": cache.statistics.compiled, "answer": module.answer()}))
    """)
    first = run_script(script, tmp_path)
    assert first["answer"] == 42 and len(first["compiled"]) == 1
    (extension,) = Path(tmp_path).glob("broken_entry_test_*/*.so")
    extension.write_bytes(b"not a shared object")
    second = run_script(script, tmp_path)
    assert second == first  # rebuilt (compiled again) and working


def test_compile_errors_name_the_generated_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKEFORGE_CACHE_DIR", str(tmp_path))
    with pytest.raises(cache.CompilationError) as info:
        cache.load_module("def f(:\n    pass\n", "syntax_error_test")
    message = str(info.value)
    assert "Cython failed" in message and "syntax_error_test" in message
    kept = Path(message.split("Generated Cython: ")[1].splitlines()[0])
    assert kept.exists() and "def f(:" in kept.read_text()
    assert not cache.entry_directory("def f(:\n    pass\n", "syntax_error_test").exists()

    bad_cpp = 'cdef extern from *:\n    """\n    this is not C++;\n    """\n    pass\n'
    with pytest.raises(cache.CompilationError, match="C\\+\\+ compiler failed"):
        cache.load_module(bad_cpp, "cpp_error_test")


def test_key_depends_on_source_and_toolchain(monkeypatch):
    key = cache.module_key("x = 1\n")
    assert key != cache.module_key("x = 2\n")
    monkeypatch.setenv("SPIKEFORGE_CXXFLAGS", "-O3")
    assert cache.module_key("x = 1\n") != key
