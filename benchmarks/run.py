"""Run the benchmark models: spikeforge against Brian2 (runtime Cython and cpp_standalone), and
against NEST 3 and ANNarchy 5 where an interpreter that has them is given.

Every measurement is a fresh process running one script of ``benchmarks/models/``. For each
model, each case (a simulated duration, and for ``cuba_scaled`` a network size) and each
repetition, every configuration runs once "cold" (with an empty compilation cache) and once
"warm" (with a cache that an earlier cold run of the same configuration and case filled), and
then twice more for the memory per synapse: once with and once without connecting the synapses,
both with spike monitors that only count. The configurations take turns inside each repetition,
so that slow drifts of the machine's load affect all of them alike. The report gives medians over
the repetitions and the ratios spikeforge / peer computed from the medians of this one invocation.

    python benchmarks/run.py                          # CUBA, 1 s and 10 s, 3 repetitions
    python benchmarks/run.py --models all --targets --brian2-python PATH --write-docs
    python benchmarks/run.py --models all --quick     # smoke test: 50 ms, 1 repetition
    python benchmarks/run.py --targets-only           # the targets table from saved results

Raw results go to ``benchmarks/results/<model>.json`` (``<model>-quick.json`` with ``--quick``);
``--write-docs`` also replaces each model's results section of ``docs/benchmarks.md`` (and the
targets section with ``--targets``).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.util
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
REPOSITORY = BENCHMARKS.parent
MODELS_DIRECTORY = BENCHMARKS / "models"
RESULTS = BENCHMARKS / "results"
DOCS = REPOSITORY / "docs" / "benchmarks.md"
QUICK_DURATION = 0.05
QUICK_SIZES = [16000, 64000]
#: bytes per synapse is shown only for networks with at least this many synapses: below, the
#: difference of two peak RSS (pages, allocator arenas) says nothing about one synapse.
MIN_SYNAPSES_FOR_BYTES = 100_000
#: Configurations whose memory runs can't count spikes without recording them (their spike
#: recorders always record): without synapses their neurons fire several times more often, so
#: the difference of the two peaks would mix the spikes' storage into the synapses' cost.
ALWAYS_RECORD_SPIKES = ("nest", "annarchy", "neuron")


def markers(section: str) -> tuple[str, str]:
    return f"<!-- {section}-results:start -->", f"<!-- {section}-results:end -->"


@dataclass
class ModelSpec:
    name: str
    script: str
    title: str
    durations: list[float]
    sizes: list[int] | None = None  #: network sizes (``--neurons``), for cuba_scaled
    #: whether ``--sizes`` (and ``--quick``'s sizes) replace ``sizes``: cuba_scaled only, not
    #: step_cost, whose 40 neurons are what it measures
    resizable: bool = False
    #: peers left out unless ``--all-peers`` is given, with the reason
    slow_peers: dict[str, str] | None = None


MODEL_SPECS = {
    spec.name: spec
    for spec in (
        ModelSpec("cuba", "cuba.py", "CUBA", [1.0, 10.0]),
        ModelSpec("cobahh", "cobahh.py", "COBAHH", [1.0]),
        ModelSpec("brunel", "brunel.py", "Brunel with delays", [1.0]),
        ModelSpec("stdp", "stdp.py", "STDP", [10.0]),
        # the fixed cost of a time step: 40 neurons, 100,000 steps (the report gives it per step)
        ModelSpec("step_cost", "cuba.py", "Per-step cost (CUBA, 40 neurons)", [10.0], sizes=[40]),
        ModelSpec("compartmental", "compartmental.py", "Compartmental neuron", [1.0]),
        ModelSpec(
            "cuba_scaled",
            "cuba.py",
            "CUBA scaled",
            [1.0],
            sizes=[16000, 64000, 256000],
            resizable=True,
            slow_peers={
                "nest": "NEST took 110 s per process at 64000 neurons (building 5.1 million "
                "synapses on one thread), which makes this model hours long; --all-peers "
                "includes it"
            },
        ),
    )
}

#: Figures summarised by their median (per model, case, configuration and kind of run).
MEDIAN_FIELDS = (
    "total_s",
    "process_wall_s",
    "import_s",
    "run_s",
    "loop_s",
    "compile_s",
    "peak_rss_mib",
    "binary_peak_rss_mib",
    "synapses",
    "spikes",
    "mean_rate_hz",
    "spikes_per_loop_second",
    "modules_compiled",
)

#: Kinds of run: the two timed ones, and the pair for the memory per synapse.
KINDS = ("cold", "warm", "memory", "memory-unconnected")


@dataclass
class Case:
    label: str
    duration: float
    neurons: int | None = None  #: --neurons for cuba_scaled, None otherwise
    arguments: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"label": self.label, "duration_s": self.duration, "neurons": self.neurons}


def cases_of(spec: ModelSpec, durations: list[float], sizes: list[int] | None) -> list[Case]:
    if spec.sizes is None:
        return [Case(f"{duration:g} s", duration) for duration in durations]
    return [
        Case(f"{size} neurons, {duration:g} s", duration, size, ["--neurons", str(size)])
        for size in (sizes if sizes and spec.resizable else spec.sizes)
        for duration in durations
    ]


@dataclass
class Configuration:
    name: str
    label: str
    simulator: str
    device: str
    python: str | None
    skipped: str | None = None
    versions: dict = field(default_factory=dict)
    #: Options the model script gets besides the common ones (``--threads 2``).
    arguments: tuple = ()


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        description="Benchmark models: spikeforge vs Brian2 (runtime and cpp_standalone), "
        "NEST and ANNarchy."
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=["cuba"],
        metavar="MODEL",
        help=f"models to run: {' '.join(MODEL_SPECS)}, or 'all' (default: cuba)",
    )
    parser.add_argument(
        "--durations",
        type=float,
        nargs="+",
        default=None,
        metavar="SECONDS",
        help="simulated durations for every model (default: each model's own: cuba 1 10, "
        "cobahh 1, brunel 1, stdp 10, cuba_scaled 1)",
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="network sizes of cuba_scaled (default: 16000 64000 256000)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="repetitions (cold and warm runs each; default 3)"
    )
    parser.add_argument(
        "--brian2-python",
        default=None,
        metavar="PATH",
        help="Python interpreter with brian2 installed (default: python3.13 from PATH if it "
        "can import brian2, else Brian2 is skipped)",
    )
    parser.add_argument(
        "--spikeforge-python",
        default=sys.executable,
        metavar="PATH",
        help="Python interpreter with spikeforge installed (default: this one)",
    )
    parser.add_argument(
        "--nest-python",
        default=None,
        metavar="PATH",
        help="Python interpreter with NEST 3 (module nest); NEST is skipped without it",
    )
    parser.add_argument(
        "--annarchy-python",
        default=None,
        metavar="PATH",
        help="Python interpreter with ANNarchy 5; ANNarchy is skipped without it",
    )
    parser.add_argument(
        "--neuron-python",
        default=None,
        metavar="PATH",
        help="Python interpreter with NEURON 9 (module neuron), for the compartmental model; "
        "NEURON is skipped without it",
    )
    parser.add_argument("--skip-standalone", action="store_true", help="skip Brian2 cpp_standalone")
    parser.add_argument(
        "--skip-runtime", action="store_true", help="skip Brian2's runtime (Cython) mode"
    )
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[],
        metavar="K",
        help="also run spikeforge with K threads (a configuration 'spikeforge-Kt' each; "
        "the report then gives its times as ratios to one thread's)",
    )
    parser.add_argument(
        "--fast-math",
        action="store_true",
        help="also run spikeforge in fast-math mode (configuration 'spikeforge-fastmath'; "
        "the report gives its times as ratios to the exact mode's)",
    )
    parser.add_argument(
        "--float32",
        action="store_true",
        help="also run spikeforge and Brian2 standalone with float32 state (configurations "
        "'spikeforge-float32' and 'brian2-standalone-float32'; the report gives their times "
        "and memory as ratios to float64's, and to each other)",
    )
    parser.add_argument(
        "--no-memory",
        action="store_true",
        help="skip the two extra runs per repetition that measure the memory per synapse",
    )
    parser.add_argument(
        "--targets",
        action="store_true",
        help="also print the table of the issue's targets (spikeforge's medians; models not run "
        "now are read from their saved results) and run the recompilation check",
    )
    parser.add_argument(
        "--targets-only",
        action="store_true",
        help="run no model: only the recompilation check and the targets table from the saved "
        "results",
    )
    parser.add_argument(
        "--all-peers",
        action="store_true",
        help="also run the peers that a model leaves out for their time (NEST in cuba_scaled)",
    )
    parser.add_argument(
        "--from-results",
        action="store_true",
        help="run no model: make the reports of --models again from their saved raw results "
        "(with --write-docs, into the docs, and the figure)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {QUICK_DURATION * 1000:g} ms, 1 repetition, cuba_scaled at "
        f"{' and '.join(map(str, QUICK_SIZES))} neurons unless --sizes is given; results go to "
        "<model>-quick.json and can't be written to the docs",
    )
    parser.add_argument("--seed", type=int, default=12345, help="random seed of every run")
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds before one process is killed"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="raw results file, with a single model (default: benchmarks/results/<model>.json)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=RESULTS,
        help="directory of the raw results (default: benchmarks/results/)",
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="replace the results sections of docs/benchmarks.md "
        "(<!-- MODEL-results:start --> ... <!-- MODEL-results:end -->)",
    )
    args = parser.parse_args(argv)
    if "all" in args.models:
        args.models = list(MODEL_SPECS)
    unknown = [name for name in args.models if name not in MODEL_SPECS]
    if unknown:
        parser.error(f"unknown model(s) {' '.join(unknown)}; choose from {' '.join(MODEL_SPECS)}")
    args.models = list(dict.fromkeys(args.models))  # in the order given, without repeats
    if args.targets_only:
        args.models = []
        args.targets = True
    if args.quick:
        if args.write_docs:
            parser.error("--quick results are smoke-test figures and are never written to docs")
        args.durations = [QUICK_DURATION]
        args.repeats = 1
        if args.sizes is None:
            args.sizes = QUICK_SIZES  # building 256000 neurons takes minutes, even for 50 ms
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.durations is not None and any(duration <= 0 for duration in args.durations):
        parser.error("--durations must be positive")
    if args.sizes is not None and any(size < 10 for size in args.sizes):
        parser.error("--sizes must be at least 10")
    if args.output is not None and len(args.models) != 1:
        parser.error("--output needs exactly one model; use --output-dir for several")
    return args


def results_path(args, model: str) -> Path:
    if args.output is not None:
        return args.output
    return args.output_dir / (f"{model}-quick.json" if args.quick else f"{model}.json")


# -- interpreters ------------------------------------------------------------------------------


def probe(
    python: str, module: str, attribute: str = "__version__"
) -> tuple[str | None, str | None]:
    """(version of ``module`` under ``python``, read from ``attribute``, None) or (None, why it
    can't be used)."""
    code = (
        f"import sys, {module}; print(getattr({module}, {attribute!r}, 'unknown'), "
        "'%d.%d.%d' % sys.version_info[:3])"
    )
    try:
        result = subprocess.run(
            [python, "-c", code],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tempfile.gettempdir(),
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"cannot run {python}: {error}"
    words = result.stdout.split()
    if result.returncode != 0 or len(words) < 2:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if "Error" in line]
        why = errors[-1] if errors else (lines[0] if lines else f"exit status {result.returncode}")
        return None, f"{python} cannot import {module} ({why})"
    return words[-2] + " (Python " + words[-1] + ")", None  # NEST may print a banner first


def optional_peer(
    name, label, simulator, python, module, major, option, attribute="__version__"
) -> Configuration:
    """NEST or ANNarchy: used if ``python`` imports ``module`` at version ``major``.x (read from
    ``attribute``)."""
    config = Configuration(name, label, simulator, "runtime", python)
    if not python:
        config.skipped = f"no interpreter given ({option} PATH)"
    else:
        version, problem = probe(python, module, attribute)
        if problem:
            config.skipped = problem
        elif not version.split(".")[0] == str(major):
            config.skipped = f"{module} {version} is not version {major}.x"
        else:
            config.versions[module] = version
    if config.skipped:
        print(f"{label} is skipped: {config.skipped}", file=sys.stderr)
    return config


def configurations(args) -> list[Configuration]:
    spikeforge = Configuration(
        "spikeforge", "spikeforge", "spikeforge", "runtime", args.spikeforge_python
    )
    version, problem = probe(args.spikeforge_python, "spikeforge")
    if problem:
        sys.exit(f"spikeforge is not usable: {problem}")
    spikeforge.versions["spikeforge"] = version

    brian2_python, brian2_version, problem = args.brian2_python, None, None
    if brian2_python:
        brian2_version, problem = probe(brian2_python, "brian2")
        if problem:
            sys.exit(f"--brian2-python: {problem}")
    else:
        found = shutil.which("python3.13")
        if found:
            brian2_version, problem = probe(found, "brian2")
            brian2_python = found if brian2_version else None
        else:
            problem = "no python3.13 on PATH"
    skipped = None
    if brian2_python is None:
        skipped = f"{problem}; pass --brian2-python PATH with a Python that has brian2"
        print(f"Brian2 is skipped: {skipped}", file=sys.stderr)
    runtime = Configuration(
        "brian2-runtime",
        "Brian2 runtime (Cython)",
        "brian2",
        "runtime",
        brian2_python,
        skipped or ("--skip-runtime" if args.skip_runtime else None),
    )
    standalone = Configuration(
        "brian2-standalone",
        "Brian2 cpp_standalone",
        "brian2",
        "cpp_standalone",
        brian2_python,
        skipped or ("--skip-standalone" if args.skip_standalone else None),
    )
    for config in (runtime, standalone):
        if brian2_version:
            config.versions["brian2"] = brian2_version
    nest = optional_peer("nest", "NEST", "nest", args.nest_python, "nest", 3, "--nest-python")
    annarchy = optional_peer(
        "annarchy",
        "ANNarchy",
        "annarchy",
        args.annarchy_python,
        "ANNarchy",
        5,
        "--annarchy-python",
        "__release__",  # the full version (5.0.4.1); __version__ is only "5.0"
    )
    neuron = optional_peer(
        "neuron", "NEURON", "neuron", args.neuron_python, "neuron", 9, "--neuron-python"
    )

    def variant(base: Configuration, name: str, label: str, *arguments: str) -> Configuration:
        """``base`` with more options for the model script, under a name of its own."""
        return dataclasses.replace(
            base, name=name, label=label, versions=dict(base.versions), arguments=arguments
        )

    threaded = [
        variant(spikeforge, f"spikeforge-{k}t", f"spikeforge, {k} threads", "--threads", str(k))
        for k in args.threads
        if k > 1
    ]
    if args.fast_math:
        threaded.append(
            variant(spikeforge, "spikeforge-fastmath", "spikeforge, fast math", "--fast-math")
        )
    single = []
    if args.float32:
        single = [
            variant(spikeforge, "spikeforge-float32", "spikeforge, float32", "--float32"),
            variant(
                standalone,
                "brian2-standalone-float32",
                "Brian2 cpp_standalone, float32",
                "--float32",
            ),
        ]
    return [spikeforge, *threaded, runtime, standalone, nest, annarchy, neuron, *single]


def model_support(spec: ModelSpec) -> dict[str, bool]:
    """Which simulators the model's script has a version for (read from its MODEL object)."""
    path = MODELS_DIRECTORY / spec.script
    sys.path.insert(0, str(MODELS_DIRECTORY))
    try:
        module_spec = importlib.util.spec_from_file_location(f"_benchmark_{spec.name}", path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(MODELS_DIRECTORY))
    model = module.MODEL
    return {
        "spikeforge": True,
        "brian2": True,
        "nest": model.nest_model is not None,
        "annarchy": model.annarchy_model is not None,
        "neuron": getattr(model, "neuron_model", None) is not None,
    }


# -- running -----------------------------------------------------------------------------------


def run_once(
    config: Configuration, spec: ModelSpec, case: Case, cache_dir: Path, args, extra=()
) -> dict:
    """One fresh process of the model's script; its JSON record plus the wall time seen from
    here."""
    command = [
        config.python,
        str(MODELS_DIRECTORY / spec.script),
        "--simulator",
        config.simulator,
        "--device",
        config.device,
        "--duration",
        repr(case.duration),
        "--seed",
        str(args.seed),
        "--cache-dir",
        str(cache_dir),
        "--json",
        *case.arguments,
        *config.arguments,
        *extra,
    ]
    environment = dict(os.environ)
    environment.pop("SPIKEFORGE_CACHE_DIR", None)  # the script sets it from --cache-dir
    if config.simulator == "annarchy":
        environment["PATH"] = interpreter_first_on_path(config.python, environment.get("PATH"))
        # CMake's FindPython prefers $VIRTUAL_ENV: when run.py itself runs in an activated
        # environment (spikeforge's), ANNarchy's CMake step would find that Python and fail
        environment.pop("VIRTUAL_ENV", None)
    started = time.perf_counter()
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=args.timeout,
            env=environment,
            cwd=tempfile.gettempdir(),
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {args.timeout:g} s", "command": shlex.join(command)}
    wall = time.perf_counter() - started
    record = None
    for line in reversed(result.stdout.splitlines()):
        if line.startswith("{"):
            try:
                record = json.loads(line)
                break
            except json.JSONDecodeError:
                pass
    if result.returncode != 0 or record is None:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        return {
            "error": f"exit status {result.returncode}",
            "output_tail": tail,
            "command": shlex.join(command),
        }
    record["process_wall_s"] = wall
    return record


def interpreter_first_on_path(python: str, path: str | None) -> str:
    """``path`` with the directory of ``python`` in front.

    ANNarchy runs cmake and the compiler from PATH while a script runs, and its generated CMake
    project looks for the Python that has nanobind, i.e. for the environment's own interpreter:
    with a virtual environment's ``bin`` first, that is what it finds (a cmake installed there
    too comes before, say, a pyenv shim, which would put its own Python first). The directory is
    the one named, not the link's target: a virtual environment's python is a link out of it.
    """
    found = shutil.which(python) or python
    directory = os.path.dirname(os.path.abspath(found))
    return os.pathsep.join([directory, path]) if path else directory


#: Extra script options of each kind of run.
KIND_OPTIONS = {
    "cold": (),
    "warm": (),
    "memory": ("--count-spikes-only",),
    "memory-unconnected": ("--count-spikes-only", "--no-connect"),
}


def shares_cache(config: Configuration) -> bool:
    """Whether other variants of a model can use the warm cache of the timed runs: true for
    caches that hold one entry per generated module (spikeforge, Brian2's Cython cache), false
    for a project or compilation directory that a variant would overwrite."""
    return config.simulator == "spikeforge" or (
        config.simulator == "brian2" and config.device == "runtime"
    )


def run_model(args, spec: ModelSpec, cases: list[Case], active, work: Path) -> list[dict]:
    kinds = ("cold", "warm") if args.no_memory else KINDS
    total = len(cases) * args.repeats * len(active) * len(kinds)
    done = 0
    runs = []
    warm_caches: dict[tuple[str, str], Path] = {}
    variant_caches: dict[tuple[str, str, str], Path] = {}

    def announce(text):
        print(text, end=" ", file=sys.stderr, flush=True)

    def report(record, kind):
        if "error" in record:
            print(f"FAILED ({record['error']})", file=sys.stderr)
            print(record.get("output_tail", ""), file=sys.stderr)
        elif kind.startswith("memory"):
            print(
                f"peak RSS {record['peak_rss_mib']:.0f} MiB, {record['synapses']} synapses",
                file=sys.stderr,
            )
        else:
            print(
                f"total {record['total_s']:.2f} s, run {record['run_s']:.2f} s",
                file=sys.stderr,
            )

    for case in cases:
        for repetition in range(args.repeats):
            for config in active:
                for kind in kinds:
                    key = (config.name, case.label)
                    if kind == "cold":
                        cache = Path(tempfile.mkdtemp(prefix=f"{config.name}-cold-", dir=work))
                    elif kind == "warm" or shares_cache(config):
                        cache = warm_caches.get(key)
                        if cache is None:  # every cold run so far failed
                            cache = Path(tempfile.mkdtemp(prefix=f"{config.name}-warm-", dir=work))
                            warm_caches[key] = cache
                    else:
                        cache = variant_caches.get((*key, kind))
                        if cache is None:
                            cache = Path(
                                tempfile.mkdtemp(prefix=f"{config.name}-{kind}-", dir=work)
                            )
                            variant_caches[(*key, kind)] = cache
                    if kind.startswith("memory") and repetition == 0 and config.simulator != "nest":
                        # Fill the cache for this variant first: a run that compiles has the
                        # compiler's memory in its peak RSS.
                        announce(f"[prime] {spec.name} {config.name} {kind} {case.label} ...")
                        record = run_once(config, spec, case, cache, args, KIND_OPTIONS[kind])
                        record.update(configuration=config.name, kind=f"prime-{kind}")
                        record.update(repetition=repetition, case=case.label)
                        record.update(requested_duration_s=case.duration)
                        runs.append(record)
                        report(record, kind)
                    done += 1
                    announce(
                        f"[{done}/{total}] {spec.name} {config.name} {kind} {case.label} "
                        f"(repetition {repetition + 1}) ..."
                    )
                    record = run_once(config, spec, case, cache, args, KIND_OPTIONS[kind])
                    record.update(
                        configuration=config.name,
                        kind=kind,
                        repetition=repetition,
                        case=case.label,
                        requested_duration_s=case.duration,
                    )
                    runs.append(record)
                    report(record, kind)
                    if kind == "cold":
                        if key not in warm_caches and "error" not in record:
                            warm_caches[key] = cache  # filled: the warm runs use it
                        else:
                            shutil.rmtree(cache, ignore_errors=True)
    return runs


# -- summary -----------------------------------------------------------------------------------


def summarise(runs: list[dict], configs, cases: list[dict]) -> list[dict]:
    summary = []
    for case in cases:
        for config in configs:
            if config["skipped"]:
                continue
            for kind in KINDS:
                chosen = [
                    run
                    for run in runs
                    if run["configuration"] == config["name"]
                    and run["kind"] == kind
                    and run.get("case") == case["label"]
                ]
                if not chosen:
                    continue
                good = [run for run in chosen if "error" not in run]
                entry = {
                    "configuration": config["name"],
                    "kind": kind,
                    "case": case["label"],
                    "duration_s": case["duration_s"],
                    "neurons": case.get("neurons"),
                    "runs": len(good),
                    "failed": len(chosen) - len(good),
                }
                for name in MEDIAN_FIELDS:
                    values = [run[name] for run in good if run.get(name) is not None]
                    entry[name] = statistics.median(values) if values else None
                summary.append(entry)
    return summary


def lookup(summary, config, kind, case, name):
    for entry in summary:
        if (entry["configuration"], entry["kind"], entry["case"]) == (config, kind, case):
            return entry.get(name)
    return None


def memory(summary, config, case, kind="warm"):
    """Peak RSS of a run: the Python process, plus the binary for cpp_standalone (the Python
    process stays alive while the binary runs). (MiB, text for the table)."""
    own = lookup(summary, config, kind, case, "peak_rss_mib")
    binary = lookup(summary, config, kind, case, "binary_peak_rss_mib")
    if own is None:
        return None, "–"
    if binary is None:
        return own, f"{own:.0f}"
    return own + binary, f"{own:.0f} + {binary:.0f}"


def bytes_per_synapse(summary, config, case):
    """(peak RSS with synapses - peak RSS without) / synapses, both warm and counting spikes
    only; None where it was not measured or the network has too few synapses for it."""
    connected = memory(summary, config, case, "memory")[0]
    unconnected = memory(summary, config, case, "memory-unconnected")[0]
    synapses = lookup(summary, config, "memory", case, "synapses")
    if connected is None or unconnected is None or not synapses:
        return None
    if synapses < MIN_SYNAPSES_FOR_BYTES or config in ALWAYS_RECORD_SPIKES:
        return None
    return (connected - unconnected) * 1024 * 1024 / synapses


def seconds(value) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.2f}"
    if value >= 0.01:
        return f"{value:.3f}"
    return f"{value:.4f}"


def number(value, format_spec: str) -> str:
    return "–" if value is None else format(value, format_spec)


def ratio(numerator, denominator) -> str:
    if numerator is None or not denominator:
        return "–"
    return f"{numerator / denominator:.2f}"


def report(results: dict) -> str:
    summary = results["summary"]
    configs = [config for config in results["configurations"] if not config["skipped"]]
    labels = {config["name"]: config["label"] for config in results["configurations"]}
    machine = results["machine"]
    cases = [case["label"] for case in results["settings"]["cases"]]
    lines = [
        f"Command: `{results['command']}`",
        "",
    ]
    if results["settings"]["quick"]:
        lines += ["**Smoke test (`--quick`): these figures are not a measurement.**", ""]
    lines += [
        f"Measured {results['started']} to {results['finished']} on {machine['cpu']} "
        f"({machine['cores']} cores), {machine['system']}; load average "
        f"{machine['load_before']} before and {machine['load_after']} after. "
        f"Medians of {results['settings']['repeats']} repetition(s); seed "
        f"{results['settings']['seed']}.",
        "",
    ]
    for config in results["configurations"]:
        description = ", ".join(f"{k} {v}" for k, v in config["versions"].items()) or "–"
        state = f"skipped: {config['skipped']}" if config["skipped"] else description
        lines.append(f"- {config['label']}: {state}")
    lines += [
        "",
        "Times in seconds (wall clock); RSS in MiB; bytes per synapse from two more warm runs "
        "with and without `connect()` (see docs/benchmarks.md).",
        "",
        "| simulated | configuration | cold total | warm total | warm run() | warm loop "
        "| cold compile | synapses | spikes | rate (Hz) | peak RSS, warm | bytes/synapse |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case in cases:
        for config in configs:
            name = config["name"]

            def get(kind, field_name, name=name, case=case):
                return lookup(summary, name, kind, case, field_name)

            cells = [
                case,
                labels[name],
                seconds(get("cold", "total_s")),
                seconds(get("warm", "total_s")),
                seconds(get("warm", "run_s")),
                seconds(get("warm", "loop_s")),
                seconds(get("cold", "compile_s")),
                number(get("warm", "synapses"), ".0f"),
                number(get("warm", "spikes"), ".0f"),
                number(get("warm", "mean_rate_hz"), ".2f"),
                memory(summary, name, case)[1],
                number(bytes_per_synapse(summary, name, case), ".1f"),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    few = [
        entry
        for entry in summary
        if entry["kind"] == "memory"
        and entry["synapses"] is not None
        and entry["synapses"] < MIN_SYNAPSES_FOR_BYTES
    ]
    if few:
        lines += [
            "",
            f"Bytes per synapse are not given for fewer than {MIN_SYNAPSES_FOR_BYTES:,} "
            "synapses: the difference of two peak RSS is then mostly noise.",
        ]
    recording = [labels[c["name"]] for c in configs if c["name"] in ALWAYS_RECORD_SPIKES]
    if recording:
        lines += [
            "",
            f"No bytes per synapse for {' and '.join(recording)}: their spike recorders always "
            "record, and without synapses the neurons fire more, so the difference of the two "
            "peaks is not the synapses' cost.",
        ]
    failures = [run for run in results["runs"] if "error" in run]
    if failures:
        lines += ["", f"{len(failures)} run(s) failed; see the raw results."]
    per_step = [case for case in cases if case.startswith("40 neurons")]
    if per_step:
        lines += [
            "",
            "The fixed cost of a time step: the warm loop divided by its steps (dt = 0.1 ms):",
            "",
            "| simulated | configuration | warm loop per step (µs) |",
            "|---|---|---:|",
        ]
        for case in per_step:
            steps = round(float(case.split(", ")[1].rstrip(" s")) / 1e-4)
            for config in configs:
                loop = lookup(summary, config["name"], "warm", case, "loop_s")
                per = "–" if loop is None else f"{loop / steps * 1e6:.3f}"
                lines.append(f"| {case} | {config['label']} | {per} |")
    threaded = [
        config
        for config in configs
        if config["name"].startswith("spikeforge-") and config["name"] != "spikeforge-float32"
    ]
    if threaded and any(config["name"] == "spikeforge" for config in configs):
        lines += [
            "",
            "Ratios of spikeforge with threads (or in fast-math mode) to spikeforge with one "
            "(exact; above 1: faster; with threads, the spikes must be the same):",
            "",
            "| simulated | variant | speed-up of the warm loop | speed-up of warm run() "
            "| spikes, variant / one |",
            "|---|---|---:|---:|---:|",
        ]
        for case in cases:
            for config in threaded:
                cells = [
                    ratio(
                        lookup(summary, "spikeforge", "warm", case, field_name),
                        lookup(summary, config["name"], "warm", case, field_name),
                    )
                    for field_name in ("loop_s", "run_s")
                ]
                cells.append(
                    ratio(
                        lookup(summary, config["name"], "warm", case, "spikes"),
                        lookup(summary, "spikeforge", "warm", case, "spikes"),
                    )
                )
                lines.append(f"| {case} | {config['label']} | " + " | ".join(cells) + " |")
    peers = [
        config
        for config in configs
        if config["simulator"] != "spikeforge" and not config["name"].endswith("-float32")
    ]
    if peers and any(config["name"] == "spikeforge" for config in configs):
        lines += [
            "",
            "Ratios spikeforge / peer of the medians above (below 1: spikeforge is faster "
            "or smaller; the spikes, a cross-check, should be close to 1):",
            "",
            "| simulated | against | cold total | warm total | warm run() | warm loop "
            "| peak RSS, warm | bytes/synapse | spikes |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for case in cases:
            for config in peers:
                cells = []
                for kind, field_name in (
                    ("cold", "total_s"),
                    ("warm", "total_s"),
                    ("warm", "run_s"),
                    ("warm", "loop_s"),
                ):
                    cells.append(
                        ratio(
                            lookup(summary, "spikeforge", kind, case, field_name),
                            lookup(summary, config["name"], kind, case, field_name),
                        )
                    )
                cells.append(
                    ratio(
                        memory(summary, "spikeforge", case)[0],
                        memory(summary, config["name"], case)[0],
                    )
                )
                cells.append(
                    ratio(
                        bytes_per_synapse(summary, "spikeforge", case),
                        bytes_per_synapse(summary, config["name"], case),
                    )
                )
                cells.append(
                    ratio(
                        lookup(summary, "spikeforge", "warm", case, "spikes"),
                        lookup(summary, config["name"], "warm", case, "spikes"),
                    )
                )
                lines.append(f"| {case} | {config['label']} | " + " | ".join(cells) + " |")
    fast = [config for config in configs if config["name"] == "spikeforge-fastmath"]
    if fast and peers:
        lines += [
            "",
            "Ratios of spikeforge's fast-math mode to the peers (warm loop; below 1: faster):",
            "",
            "| simulated | against | warm loop | spikes |",
            "|---|---|---:|---:|",
        ]
        for case in cases:
            for config in peers:
                cells = [
                    ratio(
                        lookup(summary, "spikeforge-fastmath", "warm", case, field_name),
                        lookup(summary, config["name"], "warm", case, field_name),
                    )
                    for field_name in ("loop_s", "spikes")
                ]
                lines.append(f"| {case} | {config['label']} | " + " | ".join(cells) + " |")
    lines += float32_table(summary, configs, cases)
    return "\n".join(lines)


def float32_table(summary, configs, cases) -> list[str]:
    """Ratios of float32 state to float64 state (each simulator against itself), and of
    spikeforge to Brian2 standalone both in float32."""
    names = {config["name"] for config in configs}
    pairs = [
        (single, double, label)
        for single, double, label in (
            ("spikeforge-float32", "spikeforge", "spikeforge"),
            ("brian2-standalone-float32", "brian2-standalone", "Brian2 cpp_standalone"),
        )
        if single in names and double in names
    ]
    if not pairs:
        return []
    lines = [
        "",
        "Single precision: float32 / float64 of the same simulator (below 1: float32 is faster "
        "or smaller; the spikes differ as rounding makes the runs drift apart):",
        "",
        "| simulated | simulator | warm loop | peak RSS, warm | bytes/synapse | spikes |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for case in cases:
        for single, double, label in pairs:
            cells = [
                ratio(
                    lookup(summary, single, "warm", case, "loop_s"),
                    lookup(summary, double, "warm", case, "loop_s"),
                ),
                ratio(memory(summary, single, case)[0], memory(summary, double, case)[0]),
                ratio(
                    bytes_per_synapse(summary, single, case),
                    bytes_per_synapse(summary, double, case),
                ),
                ratio(
                    lookup(summary, single, "warm", case, "spikes"),
                    lookup(summary, double, "warm", case, "spikes"),
                ),
            ]
            lines.append(f"| {case} | {label} | " + " | ".join(cells) + " |")
    if {"spikeforge-float32", "brian2-standalone-float32"} <= names:
        lines += [
            "",
            "spikeforge / Brian2 cpp_standalone, both with float32 state (below 1: spikeforge "
            "is faster or smaller):",
            "",
            "| simulated | warm loop | peak RSS, warm | bytes/synapse |",
            "|---|---:|---:|---:|",
        ]
        for case in cases:
            cells = [
                ratio(
                    lookup(summary, "spikeforge-float32", "warm", case, "loop_s"),
                    lookup(summary, "brian2-standalone-float32", "warm", case, "loop_s"),
                ),
                ratio(
                    memory(summary, "spikeforge-float32", case)[0],
                    memory(summary, "brian2-standalone-float32", case)[0],
                ),
                ratio(
                    bytes_per_synapse(summary, "spikeforge-float32", case),
                    bytes_per_synapse(summary, "brian2-standalone-float32", case),
                ),
            ]
            lines.append(f"| {case} | " + " | ".join(cells) + " |")
    return lines


def machine_description() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
        "load_before": load_average(),
    }


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def write_docs(section: str, markdown: str) -> None:
    start_marker, end_marker = markers(section)
    text = DOCS.read_text()
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < start:
        sys.exit(f"{DOCS} has no {start_marker} ... {end_marker} section")
    updated = text[: start + len(start_marker)] + "\n\n" + markdown + "\n\n" + text[end:]
    DOCS.write_text(updated)
    print(f"Updated the {section} section of {DOCS}", file=sys.stderr)


# -- targets -----------------------------------------------------------------------------------


@dataclass
class Target:
    """One target of the benchmark issue, checked against spikeforge's median."""

    description: str
    model: str
    duration: float
    neurons: int | None
    figure: str  #: "total_s", "loop_s", "peak_mb" or "bytes_per_synapse"
    kind: str  #: the kind of run the figure is taken from
    limit: float
    unit: str


TARGETS = [
    Target("CUBA, 1 s: cold total", "cuba", 1.0, None, "total_s", "cold", 5.0, "s"),
    Target("CUBA, 1 s: warm total", "cuba", 1.0, None, "total_s", "warm", 1.0, "s"),
    Target("CUBA, 10 s: loop", "cuba", 10.0, None, "loop_s", "warm", 0.9, "s"),
    Target("COBAHH, 1 s: loop", "cobahh", 1.0, None, "loop_s", "warm", 4.5, "s"),
    Target("Brunel with delays, 1 s: loop", "brunel", 1.0, None, "loop_s", "warm", 2.5, "s"),
    Target("STDP, 10 s: loop", "stdp", 10.0, None, "loop_s", "warm", 0.35, "s"),
    Target(
        "CUBA, 64000 neurons: peak RSS", "cuba_scaled", 1.0, 64000, "peak_mb", "warm", 120, "MB"
    ),
    Target(
        "CUBA, 64000 neurons: bytes per synapse",
        "cuba_scaled",
        1.0,
        64000,
        "bytes_per_synapse",
        "memory",
        16,
        "bytes",
    ),
]

#: The recompilation check: the CUBA script once, then again in a fresh process with the same
#: cache, another network size and another membrane time constant.
RECOMPILE_FIRST = ["--neurons", "4000", "--taum-ms", "20"]
RECOMPILE_SECOND = ["--neurons", "4400", "--taum-ms", "21"]


def normalise(results: dict) -> dict:
    """Results written before there were cases (CUBA only): one case per duration."""
    settings = results["settings"]
    if "cases" not in settings:
        settings["cases"] = [
            {"label": f"{duration:g} s", "duration_s": duration, "neurons": None}
            for duration in settings["durations"]
        ]
        for entry in results.get("summary", []):
            entry.setdefault("case", f"{entry['duration_s']:g} s")
    return results


def find_case(results: dict, target: Target, quick: bool):
    """The label of the case of ``results`` that ``target`` is about (any duration for --quick)."""
    for case in results["settings"]["cases"]:
        if case.get("neurons") != target.neurons:
            continue
        if quick or abs(case["duration_s"] - target.duration) < 1e-9:
            return case["label"]
    return None


def recompile_check(args, work: Path) -> dict:
    """Run CUBA (spikeforge), then again with another N and constant, fresh process, same
    cache: how many modules did the second run compile?"""
    spec = MODEL_SPECS["cuba"]
    config = Configuration(
        "spikeforge", "spikeforge", "spikeforge", "runtime", args.spikeforge_python
    )
    cache = Path(tempfile.mkdtemp(prefix="recompile-", dir=work))
    outcome = {"first": RECOMPILE_FIRST, "second": RECOMPILE_SECOND}
    for step, arguments in (("first", RECOMPILE_FIRST), ("second", RECOMPILE_SECOND)):
        print(f"[recompile check] cuba {shlex.join(arguments)} ...", end=" ", file=sys.stderr)
        case = Case(step, 0.1, None, arguments)
        record = run_once(config, spec, case, cache, args)
        if "error" in record:
            print(f"FAILED ({record['error']})", file=sys.stderr)
            print(record.get("output_tail", ""), file=sys.stderr)
            outcome["error"] = f"{step} run: {record['error']}"
            return outcome
        print(f"{record['modules_compiled']} module(s) compiled", file=sys.stderr)
        outcome[f"{step}_compiled"] = record["modules_compiled_names"]
    outcome["compiled"] = len(outcome["second_compiled"])
    return outcome


def targets_report(args, results_by_model: dict, recompile: dict) -> tuple[str, dict]:
    """The Markdown table of the targets, and its data."""
    rows, data = [], []
    sources = {}
    for target in TARGETS:
        results = results_by_model.get(target.model)
        source = "this invocation"
        if results is None:
            name = f"{target.model}-quick.json" if args.quick else f"{target.model}.json"
            path = args.output_dir / name
            if path.is_file():
                results = normalise(json.loads(path.read_text()))
                shown_path = (
                    path.relative_to(REPOSITORY) if path.is_relative_to(REPOSITORY) else path
                )
                source = f"`{shown_path}`"
        value, case = None, None
        if results is not None:
            quick = bool(results["settings"].get("quick"))
            case = find_case(results, target, quick)
            summary = results["summary"]
            if case is not None:
                if target.figure == "peak_mb":
                    mib = memory(summary, "spikeforge", case, target.kind)[0]
                    value = None if mib is None else mib * 1024 * 1024 / 1e6
                elif target.figure == "bytes_per_synapse":
                    value = bytes_per_synapse(summary, "spikeforge", case)
                else:
                    value = lookup(summary, "spikeforge", target.kind, case, target.figure)
            sources[source] = (
                results.get("started", "?") + (" (smoke test)" if quick else "")
                if source != "this invocation"
                else None
            )
        met = "–" if value is None else ("yes" if value <= target.limit else "**no**")
        shown = "not measured" if value is None else f"{value:.3g} {target.unit}"
        rows.append(
            f"| {target.description} | ≤ {target.limit:g} {target.unit} | {shown} | {met} "
            f"| {source if results is not None else '–'} |"
        )
        data.append({**target.__dict__, "case": case, "value": value, "source": source})
    compiled = recompile.get("compiled")
    met = "–" if compiled is None else ("yes" if compiled == 0 else "**no**")
    shown = recompile.get("error")
    if shown is None:
        names = recompile["second_compiled"]
        shown = f"{compiled} module(s)" + (f": {', '.join(names)}" if names else "")
    rows.append(
        "| changing N and a constant compiles nothing (CUBA 4000 → 4400 neurons, "
        f"taum 20 → 21 ms, fresh process, warm cache) | 0 modules | {shown} | {met} "
        "| this invocation |"
    )
    data.append({"description": "recompilation check", **recompile})
    lines = [
        f"Command: `{args.command}`",
        "",
    ]
    if args.quick or any("smoke" in (text or "") for text in sources.values()):
        lines += ["**Smoke-test figures (`--quick`): not a measurement.**", ""]
    lines += [
        f"Checked {datetime.datetime.now().isoformat(timespec='seconds')}: spikeforge's "
        "medians against the targets of the benchmark issue (MB = 10^6 bytes).",
        "",
        "| target | limit | spikeforge | met | from |",
        "|---|---:|---:|---|---|",
        *rows,
    ]
    dated = {source: when for source, when in sources.items() if when}
    if dated:
        lines += ["", "Saved results: " + "; ".join(f"{s} of {w}" for s, w in dated.items()) + "."]
    return "\n".join(lines), {"targets": data}


# -- main --------------------------------------------------------------------------------------


def redacted_command(args, argv) -> str:
    command = shlex.join(["python", *sys.argv]) if argv is None else shlex.join(["python", *argv])
    # Paths of this machine's interpreters are not for the docs.
    for path, name in (
        (args.brian2_python, "PYTHON_WITH_BRIAN2"),
        (args.nest_python, "PYTHON_WITH_NEST"),
        (args.annarchy_python, "PYTHON_WITH_ANNARCHY"),
        (args.neuron_python, "PYTHON_WITH_NEURON"),
    ):
        if path:
            command = command.replace(path, name)
    if args.spikeforge_python != sys.executable:
        command = command.replace(args.spikeforge_python, "PYTHON_WITH_SPIKEFORGE")
    return command


def draw_figure(args) -> None:
    """docs/benchmarks.png from every model's saved results (plot.py), if matplotlib is here."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import plot

    try:
        path = plot.draw(args.output_dir, DOCS.parent / "benchmarks.png")
    except ImportError as error:
        print(f"No figure: {error} (install matplotlib)", file=sys.stderr)
        return
    print(f"Figure: {path}", file=sys.stderr)


def main(argv=None) -> None:
    args = parse_arguments(argv)
    args.command = redacted_command(args, argv)
    configs = configurations(args) if args.models and not args.from_results else []
    results_by_model = {}
    work = Path(tempfile.mkdtemp(prefix="spikeforge-bench-"))
    try:
        for model in args.models if args.from_results else []:
            saved = results_path(args, model)
            if not saved.exists():
                sys.exit(f"no saved results of {model} at {saved}: run it first")
            results = json.loads(saved.read_text())
            results["markdown"] = markdown = report(results)
            saved.write_text(json.dumps(results, indent=1) + "\n")
            print(f"\n## {MODEL_SPECS[model].title}\n\n{markdown}\n")
            if args.write_docs:
                write_docs(model, markdown)
        for model in [] if args.from_results else args.models:
            spec = MODEL_SPECS[model]
            cases = cases_of(spec, args.durations or spec.durations, args.sizes)
            support = model_support(spec)
            model_configs = []
            for config in configs:
                copy = Configuration(**config.__dict__)
                copy.versions = dict(config.versions)
                slow = (spec.slow_peers or {}).get(config.simulator)
                if not copy.skipped and not support[config.simulator]:
                    copy.skipped = f"the {model} benchmark has no {config.label} version"
                elif not copy.skipped and slow and not args.all_peers:
                    copy.skipped = slow
                if copy.skipped and not config.skipped:
                    print(f"{config.label} is skipped for {model}: {copy.skipped}", file=sys.stderr)
                model_configs.append(copy)
            results = {
                "benchmark": model,
                "command": args.command,
                "started": datetime.datetime.now().isoformat(timespec="seconds"),
                "machine": machine_description(),
                "settings": {
                    "durations": args.durations or spec.durations,
                    "cases": [case.as_dict() for case in cases],
                    "repeats": args.repeats,
                    "seed": args.seed,
                    "quick": args.quick,
                    "memory": not args.no_memory,
                },
                "configurations": [
                    {
                        "name": config.name,
                        "label": config.label,
                        "simulator": config.simulator,
                        "device": config.device,
                        "versions": config.versions,
                        "skipped": config.skipped,
                    }
                    for config in model_configs
                ],
            }
            active = [config for config in model_configs if not config.skipped]
            results["runs"] = run_model(args, spec, cases, active, work)
            results["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
            results["machine"]["load_after"] = load_average()
            results["summary"] = summarise(
                results["runs"], results["configurations"], results["settings"]["cases"]
            )
            markdown = report(results)
            results["markdown"] = markdown
            output = results_path(args, model)
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(json.dumps(results, indent=1) + "\n")
            print(f"\n## {spec.title}\n\n{markdown}\n")
            print(f"Raw results: {output}", file=sys.stderr)
            if args.write_docs:
                write_docs(model, markdown)
            results_by_model[model] = results
        if args.targets:
            recompile = recompile_check(args, work)
            markdown, data = targets_report(args, results_by_model, recompile)
            print(f"\n## Targets\n\n{markdown}\n")
            output = args.output_dir / ("targets-quick.json" if args.quick else "targets.json")
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(json.dumps({"command": args.command, **data}, indent=1) + "\n")
            print(f"Raw results: {output}", file=sys.stderr)
            if args.write_docs:
                write_docs("targets", markdown)
        if args.write_docs:
            draw_figure(args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.quick:
        print("(--quick: smoke-test figures, not a measurement)", file=sys.stderr)


if __name__ == "__main__":
    main()
