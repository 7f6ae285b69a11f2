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
    assert any(name.startswith("network_") for name in first["compiled"])
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


def test_a_finished_build_is_published_while_its_process_does_something_else(tmp_path):
    # Process A starts compiling a module and then only sleeps (it never asks for the result);
    # process B needs the same module.  The entry is published, and its lock released, when
    # A's compiler exits, so B loads it instead of waiting for A (before, for as long as A
    # did not ask: a parent waiting for a worker that needed the module never got it).
    source = "def answer():\n    return 41 + 1\n"
    holder = textwrap.dedent(f"""
        import time
        from spikeforge.codegen import cache
        cache.start_module({source!r}, "published_early_test")
        print("started", flush=True)
        time.sleep(600)
    """)
    env = dict(os.environ, SPIKEFORGE_CACHE_DIR=str(tmp_path))
    a = subprocess.Popen([sys.executable, "-c", holder], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert a.stdout.readline().strip() == "started"
        reader = textwrap.dedent(f"""
            import json
            from spikeforge.codegen import cache
            module = cache.load_module({source!r}, "published_early_test")
            print(json.dumps({{"compiled": cache.statistics.compiled, "answer": module.answer()}}))
        """)
        b = run_script(reader, tmp_path)  # raises TimeoutExpired if it waits for A
        assert b == {"compiled": [], "answer": 42}
    finally:
        a.kill()
        a.wait()


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


def test_runtime_owners_come_from_the_installation_or_else_from_the_cache(monkeypatch):
    # The installed extension is used only while it matches the sources beside it; otherwise
    # the same sources are compiled through the cache (an editable checkout with changed
    # headers, an installation without the extension) and work the same.
    import numpy as np

    from spikeforge import runtime
    from spikeforge.runtime import sources

    installed = runtime.installed_containers()
    assert installed is not None, "the package's installation should build the runtime owners"
    assert installed.SOURCES_HASH == sources.containers_sources_hash()
    monkeypatch.setattr(sources, "containers_sources_hash", lambda *args: "other sources")
    assert runtime.installed_containers() is None
    built = runtime._load_containers()
    assert built is not installed and built.SOURCES_HASH == ""
    queue = built.SpikeQueue()
    queue.prepare_from_sources(np.array([0, 0, 1], dtype=np.int32), 2, None, 1e-4, 1e-4)
    queue.push(np.array([0], dtype=np.int32))
    queue.advance()
    assert queue.peek().tolist() == [0, 1]


PREFETCH_SCRIPT = textwrap.dedent("""
    import json
    from spikeforge import *
    from spikeforge.codegen import stateupdaters
    G = NeuronGroup(3, '''dv/dt = (w - v)/(7*ms) : 1
                          dw/dt = -w/(13*ms) + v/(29*ms) : 1''', method='exact')
    started = len(stateupdaters._prefetched)
    G.v = 'i + 1'
    run(2*ms)
    print(json.dumps({"started": started, "v": G.v[:].tolist(), "w": G.w[:].tolist()}))
""")


def test_symbolic_prefetch_gives_the_same_result_as_computing_it_in_place(tmp_path):
    import json

    results = {}
    for prefetch in ("1", "0"):
        env = dict(
            os.environ, SPIKEFORGE_CACHE_DIR=str(tmp_path / prefetch), SPIKEFORGE_PREFETCH=prefetch
        )
        result = subprocess.run(
            [sys.executable, "-c", PREFETCH_SCRIPT], env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        results[prefetch] = json.loads(result.stdout.strip().splitlines()[-1])
    # on Linux the group started its integration in a child process when it was made
    assert results["1"]["started"] == (1 if sys.platform.startswith("linux") else 0)
    assert results["0"]["started"] == 0
    assert results["1"]["v"] == results["0"]["v"] and results["1"]["w"] == results["0"]["w"]
    assert len(list((tmp_path / "1" / "symbolic").glob("*"))) >= 1
