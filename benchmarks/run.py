"""Run the CUBA benchmark: spikeforge against Brian2 (runtime Cython and cpp_standalone).

Every measurement is a fresh process running ``benchmarks/models/cuba.py``. For each duration and
each repetition, every configuration runs once "cold" (with an empty compilation cache) and once
"warm" (with a cache that an earlier cold run of the same configuration and duration filled).
The configurations take turns inside each repetition, so that slow drifts of the machine's load
affect all of them alike. The report gives medians over the repetitions and the ratios
spikeforge / Brian2 computed from the medians of this one invocation.

    python benchmarks/run.py                          # 1 s and 10 s, 3 repetitions
    python benchmarks/run.py --brian2-python /path/to/python-with-brian2 --write-docs
    python benchmarks/run.py --quick                  # smoke test: 50 ms, 1 repetition

Raw results go to ``benchmarks/results/cuba.json`` (``cuba-quick.json`` with ``--quick``);
``--write-docs`` also replaces the results section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import datetime
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
MODEL_SCRIPT = BENCHMARKS / "models" / "cuba.py"
RESULTS = BENCHMARKS / "results"
DOCS = REPOSITORY / "docs" / "benchmarks.md"
START_MARKER = "<!-- cuba-results:start -->"
END_MARKER = "<!-- cuba-results:end -->"
QUICK_DURATION = 0.05

#: Figures summarised by their median (per configuration, duration and kind of run).
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
)


@dataclass
class Configuration:
    name: str
    label: str
    simulator: str
    device: str
    python: str | None
    skipped: str | None = None
    versions: dict = field(default_factory=dict)


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        description="CUBA benchmark: spikeforge vs Brian2 (runtime and cpp_standalone)."
    )
    parser.add_argument(
        "--durations",
        type=float,
        nargs="+",
        default=[1.0, 10.0],
        metavar="SECONDS",
        help="simulated durations (default: 1 10)",
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
    parser.add_argument("--skip-standalone", action="store_true", help="skip Brian2 cpp_standalone")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {QUICK_DURATION * 1000:g} ms, 1 repetition; results go to "
        "cuba-quick.json and can't be written to the docs",
    )
    parser.add_argument("--seed", type=int, default=12345, help="random seed of every run")
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds before one process is killed"
    )
    parser.add_argument(
        "--output", type=Path, default=None, help="raw results (default: benchmarks/results/)"
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help=f"replace the results section of docs/benchmarks.md ({START_MARKER} ... {END_MARKER})",
    )
    args = parser.parse_args(argv)
    if args.quick:
        if args.write_docs:
            parser.error("--quick results are smoke-test figures and are never written to docs")
        args.durations = [QUICK_DURATION]
        args.repeats = 1
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if any(duration <= 0 for duration in args.durations):
        parser.error("--durations must be positive")
    if args.output is None:
        args.output = RESULTS / ("cuba-quick.json" if args.quick else "cuba.json")
    return args


# -- interpreters ------------------------------------------------------------------------------


def probe(python: str, module: str) -> tuple[str | None, str | None]:
    """(version of ``module`` under ``python``, None) or (None, why it can't be used)."""
    code = f"import sys, {module}; print({module}.__version__, '%d.%d.%d' % sys.version_info[:3])"
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
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if "Error" in line]
        why = errors[-1] if errors else (lines[0] if lines else f"exit status {result.returncode}")
        return None, f"{python} cannot import {module} ({why})"
    return result.stdout.split()[0] + " (Python " + result.stdout.split()[1] + ")", None


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
        "brian2-runtime", "Brian2 runtime (Cython)", "brian2", "runtime", brian2_python, skipped
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
    return [spikeforge, runtime, standalone]


# -- running -----------------------------------------------------------------------------------


def run_once(config: Configuration, duration: float, cache_dir: Path, args) -> dict:
    """One fresh process of ``cuba.py``; its JSON record plus the wall time seen from here."""
    command = [
        config.python,
        str(MODEL_SCRIPT),
        "--simulator",
        config.simulator,
        "--device",
        config.device,
        "--duration",
        repr(duration),
        "--seed",
        str(args.seed),
        "--cache-dir",
        str(cache_dir),
        "--json",
    ]
    environment = dict(os.environ)
    environment.pop("SPIKEFORGE_CACHE_DIR", None)  # the script sets it from --cache-dir
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


def run_all(args, configs: list[Configuration], work: Path) -> list[dict]:
    active = [config for config in configs if not config.skipped]
    total = len(args.durations) * args.repeats * len(active) * 2
    done = 0
    runs = []
    warm_caches: dict[tuple[str, float], Path] = {}
    for duration in args.durations:
        for repetition in range(args.repeats):
            for config in active:
                for kind in ("cold", "warm"):
                    if kind == "cold":
                        cache = Path(tempfile.mkdtemp(prefix=f"{config.name}-cold-", dir=work))
                    else:
                        cache = warm_caches.get((config.name, duration))
                        if cache is None:  # every cold run so far failed
                            cache = Path(tempfile.mkdtemp(prefix=f"{config.name}-warm-", dir=work))
                    done += 1
                    print(
                        f"[{done}/{total}] {config.name} {kind} {duration:g} s "
                        f"(repetition {repetition + 1}) ...",
                        end=" ",
                        file=sys.stderr,
                        flush=True,
                    )
                    record = run_once(config, duration, cache, args)
                    record.update(
                        configuration=config.name,
                        kind=kind,
                        repetition=repetition,
                        requested_duration_s=duration,
                    )
                    runs.append(record)
                    if "error" in record:
                        print(f"FAILED ({record['error']})", file=sys.stderr)
                        print(record.get("output_tail", ""), file=sys.stderr)
                    else:
                        print(
                            f"total {record['total_s']:.2f} s, run {record['run_s']:.2f} s",
                            file=sys.stderr,
                        )
                    if kind == "cold":
                        key = (config.name, duration)
                        if key not in warm_caches and "error" not in record:
                            warm_caches[key] = cache  # filled: the warm runs use it
                        else:
                            shutil.rmtree(cache, ignore_errors=True)
    return runs


# -- summary -----------------------------------------------------------------------------------


def summarise(runs: list[dict], configs, durations) -> list[dict]:
    summary = []
    for duration in durations:
        for config in configs:
            if config.skipped:
                continue
            for kind in ("cold", "warm"):
                chosen = [
                    run
                    for run in runs
                    if run["configuration"] == config.name
                    and run["kind"] == kind
                    and run["requested_duration_s"] == duration
                ]
                good = [run for run in chosen if "error" not in run]
                entry = {
                    "configuration": config.name,
                    "kind": kind,
                    "duration_s": duration,
                    "runs": len(good),
                    "failed": len(chosen) - len(good),
                }
                for name in MEDIAN_FIELDS:
                    values = [run[name] for run in good if run.get(name) is not None]
                    entry[name] = statistics.median(values) if values else None
                summary.append(entry)
    return summary


def lookup(summary, config, kind, duration, name):
    for entry in summary:
        if (entry["configuration"], entry["kind"], entry["duration_s"]) == (
            config,
            kind,
            duration,
        ):
            return entry.get(name)
    return None


def memory(summary, config, duration):
    """Peak RSS of a warm run: the Python process, plus the binary for cpp_standalone (the
    Python process stays alive while the binary runs)."""
    own = lookup(summary, config, "warm", duration, "peak_rss_mib")
    binary = lookup(summary, config, "warm", duration, "binary_peak_rss_mib")
    if own is None:
        return None, "–"
    if binary is None:
        return own, f"{own:.0f}"
    return own + binary, f"{own:.0f} + {binary:.0f}"


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
        "Times in seconds (wall clock); RSS in MiB.",
        "",
        "| simulated | configuration | cold total | warm total | warm run() | warm loop "
        "| cold compile | synapses | spikes | rate (Hz) | peak RSS, warm |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for duration in results["settings"]["durations"]:
        for config in configs:
            name = config["name"]

            def get(kind, field_name, name=name, duration=duration):
                return lookup(summary, name, kind, duration, field_name)

            cells = [
                f"{duration:g} s",
                labels[name],
                seconds(get("cold", "total_s")),
                seconds(get("warm", "total_s")),
                seconds(get("warm", "run_s")),
                seconds(get("warm", "loop_s")),
                seconds(get("cold", "compile_s")),
                number(get("warm", "synapses"), ".0f"),
                number(get("warm", "spikes"), ".0f"),
                number(get("warm", "mean_rate_hz"), ".2f"),
                memory(summary, name, duration)[1],
            ]
            lines.append("| " + " | ".join(cells) + " |")
    failures = [run for run in results["runs"] if "error" in run]
    if failures:
        lines += ["", f"{len(failures)} run(s) failed; see the raw results."]
    brian2 = [config for config in configs if config["simulator"] == "brian2"]
    if brian2 and any(config["name"] == "spikeforge" for config in configs):
        lines += [
            "",
            "Ratios spikeforge / Brian2 of the medians above (below 1: spikeforge is faster "
            "or smaller):",
            "",
            "| simulated | against | cold total | warm total | warm run() | warm loop "
            "| peak RSS, warm |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for duration in results["settings"]["durations"]:
            for config in brian2:
                cells = []
                for kind, field_name in (
                    ("cold", "total_s"),
                    ("warm", "total_s"),
                    ("warm", "run_s"),
                    ("warm", "loop_s"),
                ):
                    cells.append(
                        ratio(
                            lookup(summary, "spikeforge", kind, duration, field_name),
                            lookup(summary, config["name"], kind, duration, field_name),
                        )
                    )
                cells.append(
                    ratio(
                        memory(summary, "spikeforge", duration)[0],
                        memory(summary, config["name"], duration)[0],
                    )
                )
                lines.append(f"| {duration:g} s | {config['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


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


def write_docs(markdown: str) -> None:
    text = DOCS.read_text()
    start, end = text.find(START_MARKER), text.find(END_MARKER)
    if start < 0 or end < start:
        sys.exit(f"{DOCS} has no {START_MARKER} ... {END_MARKER} section")
    updated = text[: start + len(START_MARKER)] + "\n\n" + markdown + "\n\n" + text[end:]
    DOCS.write_text(updated)
    print(f"Updated {DOCS}", file=sys.stderr)


def main(argv=None) -> None:
    args = parse_arguments(argv)
    command = shlex.join(["python", *sys.argv]) if argv is None else shlex.join(argv)
    if args.brian2_python:  # a path of this machine: not for the docs
        command = command.replace(args.brian2_python, "PYTHON_WITH_BRIAN2")
    configs = configurations(args)
    results = {
        "benchmark": "cuba",
        "command": command,
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": machine_description(),
        "settings": {
            "durations": args.durations,
            "repeats": args.repeats,
            "seed": args.seed,
            "quick": args.quick,
        },
        "configurations": [
            {
                "name": config.name,
                "label": config.label,
                "simulator": config.simulator,
                "device": config.device,
                "python": config.python,
                "versions": config.versions,
                "skipped": config.skipped,
            }
            for config in configs
        ],
    }
    work = Path(tempfile.mkdtemp(prefix="spikeforge-bench-"))
    try:
        results["runs"] = run_all(args, configs, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    results["machine"]["load_after"] = load_average()
    results["summary"] = summarise(results["runs"], configs, args.durations)
    markdown = report(results)
    results["markdown"] = markdown
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1) + "\n")
    print(markdown)
    print(f"\nRaw results: {args.output}", file=sys.stderr)
    if args.quick:
        print("(--quick: smoke-test figures, not a measurement)", file=sys.stderr)
    if args.write_docs:
        write_docs(markdown)


if __name__ == "__main__":
    main()
