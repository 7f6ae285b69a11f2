"""What every benchmark model script shares: the command line, the instrumentation of each
simulator, and the JSON record of one run.

A model script (``cuba.py``, ``cobahh.py``, ``brunel.py``, ``stdp.py``) notes the time at its
first line, defines its model once as a function of the simulator module (``spikeforge`` or
``brian2``; optionally also a NEST and an ANNarchy version) and calls :func:`main`. One process
runs one configuration once; ``benchmarks/run.py`` starts the processes. See
``docs/benchmarks.md`` for what each figure means.

The model function is called as ``model(sim, params)`` and returns a dict with at least
``run_s`` (seconds inside ``run()``), ``synapses`` and ``spikes``; ``params`` has the fields
listed in :class:`Parameters`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Parameters:
    """What a model function gets from the command line."""

    duration: float  #: simulated seconds
    seed: int | None  #: random seed, or None
    connect: bool = True  #: False: the synapses are created, but connect(False) makes none
    record_spikes: bool = True  #: False: spike monitors count spikes without recording them
    extra: dict = field(default_factory=dict)  #: the model's own options (``--neurons`` ...)


@dataclass
class Model:
    """One benchmark model, as a script hands it to :func:`main`."""

    name: str
    model: Callable  #: model(sim, params) for spikeforge and Brian2
    neurons: Callable  #: neurons(params) -> number of neurons (for the mean rate)
    nest_model: Callable | None = None  #: model(nest, params), or None: no NEST version
    annarchy_model: Callable | None = None  #: model(ann, params), or None: no ANNarchy version
    neuron_model: Callable | None = None  #: model(h, params), or None: no NEURON version
    add_arguments: Callable | None = None  #: add_arguments(parser): the model's own options
    extra_names: tuple = ()  #: names of the model's own options, copied into Parameters.extra


SIMULATORS = ("spikeforge", "brian2", "nest", "annarchy", "neuron")


def parse(model: Model, argv=None):
    parser = argparse.ArgumentParser(description=f"Time one run of the {model.name} benchmark.")
    parser.add_argument("--simulator", choices=SIMULATORS, default="spikeforge")
    parser.add_argument(
        "--device",
        choices=["runtime", "cpp_standalone"],
        default="runtime",
        help="Brian2 device (the other simulators have only 'runtime')",
    )
    parser.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: none)")
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="compilation cache (spikeforge), Cython cache (Brian2 runtime), project "
        "directory (Brian2 cpp_standalone) or compilation directory (ANNarchy); default: each "
        "simulator's usual cache, or a temporary directory removed at the end",
    )
    parser.add_argument(
        "--no-binary-rss",
        action="store_true",
        help="cpp_standalone: don't run the binary under GNU time to measure its peak RSS",
    )
    parser.add_argument(
        "--no-connect",
        action="store_true",
        help="create the synapses but connect no pair: connect(False) (the baseline of bytes per "
        "synapse)",
    )
    parser.add_argument(
        "--count-spikes-only",
        action="store_true",
        help="spike monitors count spikes without recording their indices and times",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="spikeforge: threads for the loop (through Brian2's preference "
        "devices.cpp_standalone.openmp_threads, which spikeforge honours)",
    )
    parser.add_argument(
        "--fast-math",
        action="store_true",
        help="spikeforge: fast-math mode (vector exp, log...; through Brian2's preference "
        "codegen.cpp.extra_compile_args_gcc holding '-ffast-math')",
    )
    parser.add_argument(
        "--float32",
        action="store_true",
        help="spikeforge and Brian2: float variables stored as float32 "
        "(prefs.core.default_float_dtype = float32)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    if model.add_arguments:
        model.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.threads != 1 and args.simulator != "spikeforge":
        parser.error("--threads is for spikeforge")
    if args.fast_math and args.simulator != "spikeforge":
        parser.error("--fast-math is for spikeforge")
    if args.simulator != "brian2" and args.device != "runtime":
        parser.error(f"{args.simulator} has no standalone device; use --device runtime")
    return args


def main(model: Model, script_started: float, argv=None) -> None:
    """Run ``model`` once in this process and print its figures (one JSON line with --json).

    ``script_started`` is ``time.perf_counter()`` at the first line of the script: "total" is
    measured from there.
    """
    args = parse(model, argv)
    params = Parameters(
        duration=args.duration,
        seed=args.seed,
        connect=not args.no_connect,
        record_spikes=not args.count_spikes_only,
        extra={name: getattr(args, name) for name in model.extra_names},
    )

    before_import = time.perf_counter()
    prepare, run_model, collect = {
        "spikeforge": (_prepare_spikeforge, model.model, _spikeforge_figures),
        "brian2": (_prepare_brian2, model.model, _brian2_figures),
        "nest": (_prepare_nest, model.nest_model, _nest_figures),
        "annarchy": (_prepare_annarchy, model.annarchy_model, _annarchy_figures),
        "neuron": (_prepare_neuron, model.neuron_model, _neuron_figures),
    }[args.simulator]
    if run_model is None:
        sys.exit(f"the {model.name} benchmark has no {args.simulator} version")
    sim, state = prepare(args)
    imported = time.perf_counter()

    result = run_model(sim, params)

    network = result.pop("network", None)  # an explicit Network, else the implicit one ran
    figures = collect(sim, state, args, result, network)
    finished = time.perf_counter()

    usage_self = resource.getrusage(resource.RUSAGE_SELF)
    maxrss_per_mib = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes there, else KiB
    loop_s = figures.pop("loop_s")
    neurons = model.neurons(params)
    record = {
        "model": model.name,
        "simulator": args.simulator,
        "device": args.device,
        "duration_s": args.duration,
        "threads": args.threads,
        "fast_math": args.fast_math,
        "float32": args.float32,
        "seed": args.seed,
        "connect": params.connect,
        "record_spikes": params.record_spikes,
        **params.extra,
        "total_s": finished - script_started,
        "import_s": imported - before_import,
        "run_s": result.pop("run_s"),
        "loop_s": loop_s,
        "peak_rss_mib": usage_self.ru_maxrss / maxrss_per_mib,
        **result,
        "neurons": neurons,
        "mean_rate_hz": result["spikes"] / (neurons * args.duration) if args.duration else None,
        "spikes_per_loop_second": result["spikes"] / loop_s if loop_s else None,
        **figures,
        "python": platform.python_version(),
    }
    if args.json:
        print(json.dumps(record), flush=True)
    else:
        for key, value in record.items():
            print(f"{key:24} {value}")
    if state.get("remove_directory"):
        shutil.rmtree(state["remove_directory"], ignore_errors=True)


# -- spikeforge --------------------------------------------------------------------------------


def _prepare_spikeforge(args):
    """Import spikeforge; the cache directory is taken from the environment at build time."""
    if args.cache_dir:
        os.environ["SPIKEFORGE_CACHE_DIR"] = args.cache_dir
    import spikeforge

    if args.threads != 1:
        spikeforge.prefs.devices.cpp_standalone.openmp_threads = args.threads
    if args.fast_math:
        flags = spikeforge.prefs.codegen.cpp.extra_compile_args_gcc
        spikeforge.prefs.codegen.cpp.extra_compile_args_gcc = [*flags, "-ffast-math"]
    if args.float32:
        spikeforge.prefs.core.default_float_dtype = "float32"
    return spikeforge, {}


def _spikeforge_figures(sim, state, args, result, network=None):
    from spikeforge.codegen import cache

    statistics = dict((network or sim.magic_network).last_run_statistics)
    return {
        "loop_s": statistics.get("loop"),
        "loop_source": "Network.last_run_statistics['loop']",
        "compile_s": cache.statistics.seconds_compiling,
        "compile_source": "spikeforge.codegen.cache.statistics.seconds_compiling",
        "modules_compiled": len(cache.statistics.compiled),
        "modules_compiled_names": list(cache.statistics.compiled),
        "modules_loaded": len(cache.statistics.loaded),
        "run_statistics": statistics,
        "cache_dir": str(cache.cache_directory()),
        "version": sim.__version__,
    }


# -- Brian2 ------------------------------------------------------------------------------------


def _prepare_brian2(args):
    import brian2

    state = {"compile_s": 0.0, "compiled": 0}
    if args.float32:
        import numpy

        brian2.prefs.core.default_float_dtype = numpy.float32
    if args.device == "runtime":
        # Cython explicitly: with the default 'auto' target Brian2 would fall back to numpy
        # silently if Cython did not work.
        brian2.prefs.codegen.target = "cython"
        if args.cache_dir:
            brian2.prefs.codegen.runtime.cython.cache_dir = args.cache_dir
        _time_brian2_cython_builds(state)
    else:
        directory = args.cache_dir
        if not directory:
            directory = tempfile.mkdtemp(prefix="benchmark-standalone-")
            state["remove_directory"] = directory
        state["directory"] = directory
        brian2.prefs.devices.cpp_standalone.openmp_threads = 0  # the default: one thread
        gnu_time = shutil.which("time") if sys.platform.startswith("linux") else None
        if gnu_time and not args.no_binary_rss:
            # The binary's own peak RSS. getrusage(RUSAGE_CHILDREN) can't give it: a child
            # forked from this (large) Python process is charged with the parent's pages.
            # GNU time is a small process in between, and adds about a millisecond.
            rss_file = os.path.join(tempfile.mkdtemp(prefix="benchmark-rss-"), "maxrss_kib")
            state["binary_rss_file"] = rss_file
            brian2.prefs.devices.cpp_standalone.run_cmd_unix = [
                gnu_time,
                "-f",
                "%M",
                "-o",
                rss_file,
                "./main",
            ]
        brian2.set_device("cpp_standalone", directory=directory, build_on_run=True)
    return brian2, state


def _time_brian2_cython_builds(state):
    """Count the time Brian2 spends building Cython extensions (a missing ``.so`` in its cache).

    Brian2 does not report this itself. ``CythonExtensionManager._load_module`` either imports a
    cached extension or translates and compiles it first; only the calls that had to compile are
    counted, which matches what spikeforge's ``seconds_compiling`` counts.
    """
    from brian2.codegen.runtime.cython_rt.extension_manager import CythonExtensionManager

    original = CythonExtensionManager._load_module

    def timed_load_module(self, module_path, *args, **kwargs):
        must_compile = not os.path.isfile(module_path)
        started = time.perf_counter()
        try:
            return original(self, module_path, *args, **kwargs)
        finally:
            if must_compile:
                state["compile_s"] += time.perf_counter() - started
                state["compiled"] += 1

    CythonExtensionManager._load_module = timed_load_module


def _brian2_figures(sim, state, args, result, network=None):
    from brian2.devices.device import get_device

    device = get_device()
    figures = {"version": sim.__version__}
    last_run_time = getattr(device, "_last_run_time", None)
    figures["loop_s"] = float(last_run_time) if last_run_time is not None else None
    if args.device == "runtime":
        figures["loop_source"] = (
            "device._last_run_time (Network.run: time after before_run, i.e. after code "
            "objects are created and compiled, to the end of the time-step loop)"
        )
        figures["compile_s"] = state["compile_s"]
        figures["compile_source"] = (
            "time in CythonExtensionManager._load_module calls that had to build an extension"
        )
        figures["modules_compiled"] = state["compiled"]
        figures["cache_dir"] = sim.prefs.codegen.runtime.cython.cache_dir or "(Cython default)"
    else:
        figures["loop_source"] = (
            "device._last_run_time (read from the binary's last_run_info.txt: time of the "
            "simulation loop measured inside the compiled program)"
        )
        timers = getattr(device, "timers", {}) or {}
        compile_timers = timers.get("compile", {}) or {}
        made = [value for value in compile_timers.values() if value is not None]
        figures["compile_s"] = sum(made) if made else None
        figures["compile_source"] = "device.timers['compile'] (make clean + make)"
        figures["run_binary_s"] = timers.get("run_binary")
        figures["openmp_threads"] = sim.prefs.devices.cpp_standalone.openmp_threads
        figures["binary_peak_rss_mib"] = _read_binary_rss(state.get("binary_rss_file"))
        figures["cache_dir"] = state["directory"]
    return figures


def _read_binary_rss(path):
    """The standalone binary's peak RSS in MiB, as written by GNU time (KiB), or None."""
    if not path:
        return None
    try:
        with open(path) as file:
            kib = int(file.read().split()[-1])
    except (OSError, ValueError, IndexError):
        kib = None
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)
    return kib / 1024 if kib is not None else None


# -- NEST --------------------------------------------------------------------------------------
# NEST builds nothing at run time: its neuron and synapse models are compiled into the library.
# A model function for NEST returns, besides run_s, synapses and spikes, "loop_s" (the time of
# nest.Run, see nest_run). compile_s is 0 by definition.


def _prepare_nest(args):
    import nest

    if hasattr(nest, "VerbosityLevel"):  # NEST >= 3.10; set_verbosity warns there
        nest.verbosity = nest.VerbosityLevel.ERROR
    else:
        nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"local_num_threads": 1, "resolution": 0.1})
    if args.seed is not None:
        nest.SetKernelStatus({"rng_seed": args.seed + 1})  # NEST wants a seed >= 1
    return nest, {}


def _prepare_neuron(args):
    """NEURON's ``h`` with the standard run system; one thread (NEURON's default)."""
    from neuron import h

    h.load_file("stdrun.hoc")
    return h, {}


def neuron_run(h, params, tstop_ms: float) -> dict:
    """Initialise and run NEURON to ``tstop_ms``: ``run_s`` from ``finitialize`` on, the loop
    being ``continuerun`` alone."""
    started = time.perf_counter()
    h.finitialize(h.v_init)
    loop_started = time.perf_counter()
    h.continuerun(tstop_ms)
    finished = time.perf_counter()
    return {"run_s": finished - started, "loop_s": finished - loop_started}


def _neuron_figures(sim, state, args, result, network=None):
    import neuron

    return {
        "loop_s": result.pop("loop_s", None),
        "loop_source": "time of h.continuerun (after h.finitialize)",
        "compile_s": 0.0,
        "compile_source": "the model uses NEURON's built-in hh mechanism: nothing is compiled",
        "modules_compiled": 0,
        "neuron_version": neuron.__version__,
    }


def connect_excitatory_inhibitory(Ce, Ci, params, namespace):
    """Ce from the sources i < n_exc, Ci from the others, each pair with probability p (names
    from ``namespace``); with --no-connect, no synapses (Brian2 refuses to run Synapses that
    were never connected)."""
    if params.connect:
        Ce.connect("i<n_exc", p=namespace["p"], namespace=namespace)
        Ci.connect("i>=n_exc", p=namespace["p"], namespace=namespace)
    else:
        Ce.connect(False)
        Ci.connect(False)


def brian_api_run(sim, group, params, Ce, Ci, level=0):
    """Record the spikes of ``group``, run for the duration and report the figures of an E/I
    network written with the Brian2 API (names in model strings come from the caller).

    The objects go into an explicit ``Network``: Brian2's implicit ``run()`` collects only the
    objects of one frame, and the monitor made here is not in the caller's (spikeforge's
    collects every live object, so only Brian2 missed it). The caller's names are passed as the
    run's namespace."""
    s_mon = sim.SpikeMonitor(group, record=params.record_spikes)
    caller = sys._getframe(level + 1)
    namespace = {**caller.f_globals, **caller.f_locals}
    network = sim.Network(group, Ce, Ci, s_mon)
    run_started = time.perf_counter()
    network.run(params.duration * sim.second, report=None, namespace=namespace)
    run_seconds = time.perf_counter() - run_started
    return {
        "run_s": run_seconds,
        "network": network,
        "synapses": int(len(Ce)) + int(len(Ci)),
        "synapses_excitatory": int(len(Ce)),
        "synapses_inhibitory": int(len(Ci)),
        "spikes": int(s_mon.num_spikes),
    }


def nest_run(nest, params, synapses, recorders):
    """Simulate, timing Prepare + Run + Cleanup as run() and Run alone as the loop.

    ``nest.Simulate`` is exactly these three calls. Prepare is where NEST sorts the connections
    and builds its tables of targets (the first step of Run takes under a millisecond for CUBA),
    so the loop is the time-step loop alone, as for the other simulators.

    ``recorders``: the spike recorders whose events are counted as the model's spikes. NEST's
    spike recorders always store the events (``--count-spikes-only`` changes nothing here).
    """
    started = time.perf_counter()
    nest.Prepare()
    loop_started = time.perf_counter()
    nest.Run(params.duration * 1000.0)
    loop_s = time.perf_counter() - loop_started
    nest.Cleanup()
    return {
        "run_s": time.perf_counter() - started,
        "loop_s": loop_s,
        "synapses": int(synapses),
        "spikes": sum(int(recorder.get("n_events")) for recorder in recorders),
    }


def _nest_figures(sim, state, args, result, network=None):
    version = getattr(sim, "__version__", None)
    if version is None:
        try:
            version = sim.GetKernelStatus("build_info")["version"]
        except Exception:  # noqa: BLE001  (only informative)
            version = "unknown"
    return {
        "loop_s": result.pop("loop_s", None),
        "loop_source": "time of nest.Run (between nest.Prepare and nest.Cleanup)",
        "compile_s": 0.0,
        "compile_source": "NEST compiles nothing at run time",
        "version": version,
    }


# -- ANNarchy ----------------------------------------------------------------------------------
# ANNarchy generates and compiles a C++ library for each network (net.compile), and keeps it in a
# compilation directory: that is its cache. A model function for ANNarchy returns, besides run_s,
# synapses and spikes, "loop_s" (the time of simulate) and "compile_call_s" (the time of
# net.compile); compile_s, the C++ build alone, is measured by _prepare_annarchy's hook. ANNarchy
# runs cmake and g++ from PATH, and its CMake project looks for the Python that has nanobind: the
# environment's bin directory must come first on PATH (run.py puts it there).


def _prepare_annarchy(args):
    state = {"compile_s": 0.0, "compiled": 0}
    directory = args.cache_dir
    if not directory:
        directory = tempfile.mkdtemp(prefix="benchmark-annarchy-")
        state["remove_directory"] = directory
    state["directory"] = directory
    import ANNarchy

    ANNarchy.__benchmark_directory__ = directory  # read by annarchy_run
    _time_annarchy_builds(state)
    return ANNarchy, state


def _time_annarchy_builds(state):
    """Count the time ANNarchy spends building its C++ library (cmake and make).

    ANNarchy does not report this itself. ``net.compile()`` generates the code, copies it into the
    compilation directory, calls ``Compiler.compilation`` only if a file changed or the library is
    missing, then loads the library and creates the synapses. Only ``compilation`` is counted,
    which matches what spikeforge's ``seconds_compiling`` counts: 0 when the directory was warm.
    """
    from ANNarchy.generator.Compiler import Compiler

    original = Compiler.compilation

    def timed_compilation(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            state["compile_s"] += time.perf_counter() - started
            state["compiled"] += 1

    Compiler.compilation = timed_compilation


def annarchy_run(ann, net, params, projections, monitors):
    """Compile (timed as a whole: code generation, C++ build if needed, loading the library and
    creating the synapses) and simulate (timed: run() and the loop). ``monitors``: the spike
    monitors whose spikes are counted as the model's spikes; with more than one, the result also
    has each one's count as ``spikes_per_monitor`` (for the model function to name them). They
    always record (``--count-spikes-only`` changes nothing here).
    """
    started = time.perf_counter()
    net.compile(directory=ann.__benchmark_directory__, silent=True)
    compile_call_s = time.perf_counter() - started
    started = time.perf_counter()
    net.simulate(params.duration * 1000.0)
    run_s = time.perf_counter() - started
    counts = [sum(len(times) for times in monitor.get("spike").values()) for monitor in monitors]
    result = {
        "run_s": run_s,
        "loop_s": run_s,
        "compile_call_s": compile_call_s,
        "synapses": int(sum(projection.nb_synapses for projection in projections)),
        "spikes": int(sum(counts)),
    }
    if len(monitors) > 1:
        result["spikes_per_monitor"] = [int(count) for count in counts]
    return result


def _annarchy_figures(sim, state, args, result, network=None):
    return {
        "loop_s": result.pop("loop_s", None),
        "loop_source": "time of net.simulate() (ANNarchy has no separate loop time)",
        "compile_s": state["compile_s"],
        "compile_source": "time in ANNarchy's Compiler.compilation (cmake and make), called by "
        "net.compile() only when the generated code changed or the library is missing",
        "modules_compiled": state["compiled"],
        "compile_call_s": result.pop("compile_call_s", None),
        "compile_call_source": "time of net.compile(): code generation, C++ build if needed, "
        "loading the library, creating the synapses",
        "cache_dir": state["directory"],
        "version": getattr(sim, "__release__", None) or getattr(sim, "__version__", "unknown"),
    }
