"""CUBA benchmark network (Vogels & Abbott 2005, as in Brian2's ``examples/CUBA.py``).

The model is written once, in :func:`cuba`, as a function of the simulator module (``spikeforge``
or ``brian2``); the rest of this file times one run of it in this process and reports the
figures. Run it as a script, one configuration per process:

    python benchmarks/models/cuba.py --simulator spikeforge --duration 1 --json
    python3.13 benchmarks/models/cuba.py --simulator brian2 --device runtime --duration 1 --json
    python3.13 benchmarks/models/cuba.py --simulator brian2 --device cpp_standalone --json

With ``--json`` it prints one JSON line (the last line of stdout). ``--cache-dir`` names the
compilation cache to use: ``$SPIKEFORGE_CACHE_DIR`` for spikeforge,
``prefs.codegen.runtime.cython.cache_dir`` for Brian2's runtime (Cython) mode and the project
directory for Brian2's ``cpp_standalone`` mode. ``benchmarks/run.py`` passes an empty directory
for cold runs and a filled one for warm runs. See ``docs/benchmarks.md`` for what each figure
means.
"""

import time

_SCRIPT_STARTED = time.perf_counter()  # "total" is measured from here

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

N_NEURONS = 4000
CONNECTION_PROBABILITY = 0.02


def cuba(sim, duration_seconds, random_seed=None):
    """Build the CUBA network with simulator module ``sim``, run it, and return its figures.

    Only names that both simulators share are used. External constants come from this function's
    local variables (the implicit namespace of ``run``), as in Brian2's example script.
    Returns the seconds spent in ``run()`` and the counts needed to cross-check the simulators.
    """
    ms, mV, second = sim.ms, sim.mV, sim.second
    if random_seed is not None:
        sim.seed(random_seed)
    # The constants below are read by the model strings, through the namespace of run() (this
    # function's locals), which linters can't see: hence the noqa comments.
    taum = 20 * ms  # noqa: F841
    taue = 5 * ms  # noqa: F841
    taui = 10 * ms  # noqa: F841
    Vt = -50 * mV  # noqa: F841
    Vr = -60 * mV  # noqa: F841
    El = -49 * mV  # noqa: F841

    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """

    P = sim.NeuronGroup(
        N_NEURONS, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="exact"
    )
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV

    we = (60 * 0.27 / 10) * mV  # noqa: F841  (excitatory synaptic weight)
    wi = (-20 * 4.5 / 10) * mV  # noqa: F841  (inhibitory synaptic weight)
    Ce = sim.Synapses(P, P, on_pre="ge += we")
    Ci = sim.Synapses(P, P, on_pre="gi += wi")
    Ce.connect("i<3200", p=CONNECTION_PROBABILITY)
    Ci.connect("i>=3200", p=CONNECTION_PROBABILITY)

    s_mon = sim.SpikeMonitor(P)

    run_started = time.perf_counter()
    sim.run(duration_seconds * second, report=None)
    run_seconds = time.perf_counter() - run_started

    return {
        "run_s": run_seconds,
        "synapses": int(len(Ce)) + int(len(Ci)),
        "synapses_excitatory": int(len(Ce)),
        "synapses_inhibitory": int(len(Ci)),
        "spikes": int(s_mon.num_spikes),
    }


# -- instrumentation per simulator -------------------------------------------------------------


def _prepare_spikeforge(args):
    """Import spikeforge; the cache directory is taken from the environment at build time."""
    if args.cache_dir:
        os.environ["SPIKEFORGE_CACHE_DIR"] = args.cache_dir
    import spikeforge

    return spikeforge, {}


def _spikeforge_figures(sim, state):
    from spikeforge.codegen import cache

    statistics = dict(sim.magic_network.last_run_statistics)
    return {
        "loop_s": statistics.get("loop"),
        "loop_source": "magic_network.last_run_statistics['loop']",
        "compile_s": cache.statistics.seconds_compiling,
        "compile_source": "spikeforge.codegen.cache.statistics.seconds_compiling",
        "modules_compiled": len(cache.statistics.compiled),
        "modules_loaded": len(cache.statistics.loaded),
        "run_statistics": statistics,
        "cache_dir": str(cache.cache_directory()),
        "version": sim.__version__,
    }


def _prepare_brian2(args):
    import brian2

    state = {"compile_s": 0.0, "compiled": 0}
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
            directory = tempfile.mkdtemp(prefix="cuba-standalone-")
            state["remove_directory"] = directory
        state["directory"] = directory
        brian2.prefs.devices.cpp_standalone.openmp_threads = 0  # the default: one thread
        gnu_time = shutil.which("time") if sys.platform.startswith("linux") else None
        if gnu_time and not args.no_binary_rss:
            # The binary's own peak RSS. getrusage(RUSAGE_CHILDREN) can't give it: a child
            # forked from this (large) Python process is charged with the parent's pages.
            # GNU time is a small process in between, and adds about a millisecond.
            rss_file = os.path.join(tempfile.mkdtemp(prefix="cuba-rss-"), "maxrss_kib")
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


def _brian2_figures(sim, state, args):
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--simulator", choices=["spikeforge", "brian2"], default="spikeforge")
    parser.add_argument(
        "--device",
        choices=["runtime", "cpp_standalone"],
        default="runtime",
        help="Brian2 device (spikeforge has only 'runtime')",
    )
    parser.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: none)")
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="compilation cache (spikeforge), Cython cache (Brian2 runtime) or project "
        "directory (Brian2 cpp_standalone; default: a temporary directory, removed at the end)",
    )
    parser.add_argument(
        "--no-binary-rss",
        action="store_true",
        help="cpp_standalone: don't run the binary under GNU time to measure its peak RSS",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    if args.simulator == "spikeforge" and args.device != "runtime":
        parser.error("spikeforge has no standalone device; use --device runtime")

    before_import = time.perf_counter()
    if args.simulator == "spikeforge":
        sim, state = _prepare_spikeforge(args)
    else:
        sim, state = _prepare_brian2(args)
    imported = time.perf_counter()

    result = cuba(sim, args.duration, random_seed=args.seed)

    if args.simulator == "spikeforge":
        figures = _spikeforge_figures(sim, state)
    else:
        figures = _brian2_figures(sim, state, args)
    finished = time.perf_counter()

    usage_self = resource.getrusage(resource.RUSAGE_SELF)
    maxrss_per_mib = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes there, else KiB
    loop_s = figures.pop("loop_s")
    record = {
        "model": "cuba",
        "simulator": args.simulator,
        "device": args.device,
        "duration_s": args.duration,
        "seed": args.seed,
        "total_s": finished - _SCRIPT_STARTED,
        "import_s": imported - before_import,
        "run_s": result.pop("run_s"),
        "loop_s": loop_s,
        "peak_rss_mib": usage_self.ru_maxrss / maxrss_per_mib,
        **result,
        "mean_rate_hz": result["spikes"] / (N_NEURONS * args.duration) if args.duration else None,
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


if __name__ == "__main__":
    main()
