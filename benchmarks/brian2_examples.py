"""Run a folder of Brian2 scripts under Brian2 and under spikeforge, and compare their monitors.

Each script runs in a fresh process per simulator (``brian2_examples_bootstrap.py``), in a
temporary working directory, with a timeout; for spikeforge only its import lines change.  The
report says per script whether it ran under each simulator (or the first line of its error),
and whether every monitor agrees::

    python benchmarks/brian2_examples.py BRIAN2_EXAMPLES_DIR --brian2-python PY_BRIAN2
    python benchmarks/brian2_examples.py DIR --brian2-python PY --only CUBA synapses/ --write-docs

Agreement.  Monitors are matched by kind and name (both simulators name them alike).  A script
that draws no random numbers (no ``rand``, ``randn``, ``xi``, Poisson inputs, ``p=`` in
``connect``, NumPy's random module) must give the same spikes (indices exactly, times to
1e-9 s) and traces (to 1e-6 of their range).  A trace that differs more is marked "grown from
rounding" when the two agreed to 1e-12 of the range over the first 1% of the run: the same
equations, computed in another order, in a model that amplifies the last bits (such scripts
still count as differing).  A random script is compared statistically: the
number of events of each event monitor, and the mean of each recorded variable or rate, within
15% (plus 3 standard errors for counts); the report marks such scripts as "random".  One run
per simulator says little about a script whose results vary much from seed to seed, so a random
script that differs in that first run is run again, under both simulators, with its seeds moved
(``--seeds K`` runs in all; ``brian2_examples_bootstrap.reseed``).  Then each statistic (the
number of events of a monitor, the mean of a variable) is judged against its spread over the K
runs: the two simulators' means over seeds must lie within 15% of Brian2's, or within three
standard errors of their difference (Welch's, from the two samples of K).  The report says
"over K seeds" for these.

Besides the monitors, the final state of every live ``NeuronGroup``, ``Synapses`` and
``SpatialNeuron`` is compared (the variables of its differential equations and its parameters;
synapses ordered by presynaptic, then postsynaptic index), so that a script that records
nothing is still checked.  Values that are not finite must be so in the same places; the
others must agree to 1e-5 of their range or size (by their mean in a random script); a name
only one simulator adds to a group's equations (Brian2's ``lastspike`` of a refractory group)
is left out.

The same runner checks Brian2's tutorials, once ``brian2_tutorials.py`` has turned their
notebooks into scripts (docs/brian2_tutorials.md).

Brian2's results do not depend on spikeforge: they are kept in the results directory, keyed by
the script's content, and only rerun with ``--rerun-brian2``.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from brian2_examples_bootstrap import FORMAT, GROUP_KINDS, rewrite_imports  # noqa: E402

BOOTSTRAP = HERE / "brian2_examples_bootstrap.py"
DOCS = HERE.parent / "docs" / "brian2_examples.md"
RANDOM = re.compile(
    r"\brand\(|\brandn\(|\bxi\b|xi_|PoissonGroup|PoissonInput|[(,\s]p\s*=|np\.random|"
    r"numpy\.random|\brandom\.|\bseed\("
)


def is_random(source: str) -> bool:
    """Whether a script draws random numbers (then monitors are compared statistically)."""
    return bool(RANDOM.search(source))


def run_script(
    python: str, simulator: str, script: Path, results: Path, timeout: float, offset: int = 0
) -> dict:
    """Run one script under one simulator (its seeds moved by ``offset``); its report (status,
    error, monitors) and arrays."""
    prefix = (
        results / f"{simulator}-{_key(script)}"
        if not offset
        else (results / f"{simulator}-{_key(script)}-seed{offset}")
    )
    with tempfile.TemporaryDirectory(prefix="brian2-example-") as work:
        # beside copies of the files of the script's folder (parameters, style files it reads)
        for neighbour in script.parent.iterdir():
            if neighbour.suffix == ".py" and neighbour != script:  # a module the script imports
                source = neighbour.read_text(encoding="utf-8")
                try:
                    source = rewrite_imports(source, simulator)
                except SyntaxError:
                    pass  # not Python this version reads: copied as it is
                (Path(work) / neighbour.name).write_text(source)
            elif neighbour.is_file():
                shutil.copy(neighbour, work)
        environment = dict(os.environ, MPLBACKEND="Agg", PYTHONSAFEPATH="1")
        environment.pop("VIRTUAL_ENV", None)
        try:
            completed = subprocess.run(
                [python, str(BOOTSTRAP), simulator, str(script), str(prefix), str(offset)],
                cwd=work,
                env=environment,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return {"status": "timeout", "error": f"no result after {timeout:.0f} s"}
    if not Path(str(prefix) + ".json").exists():
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"status": "crashed", "error": f"exit {completed.returncode}: {tail[0]}"}
    report = json.loads(Path(str(prefix) + ".json").read_text())
    report["arrays"] = str(prefix) + ".npz"
    return report


def is_current(report: dict) -> bool:
    """Whether a saved report is in the bootstrap's present format (:data:`FORMAT`), with the
    final states of groups and a creation number (``serial``) for every monitor, by which the
    two simulators' monitors are matched.  Reports of older runners are run again."""
    return report.get("format") == FORMAT and all(
        "serial" in monitor for monitor in report.get("monitors", [])
    )


def _key(script: Path) -> str:
    digest = hashlib.sha256(script.read_bytes()).hexdigest()[:16]
    return f"{script.stem}-{digest}"


def _load(report: dict) -> dict:
    if "arrays" not in report or not Path(report["arrays"]).exists():
        return {}
    with np.load(report["arrays"]) as archive:
        return {key: archive[key] for key in archive.files}


def compare(brian2: dict, spikeforge: dict, random: bool) -> list[str]:
    """One line per monitor of Brian2's: ``name: agrees`` or what differs."""
    ours_by_name = {(m["kind"], m["name"]): k for k, m in enumerate(spikeforge["monitors"])}
    # the k-th monitor of a kind the script made is the same in both (names are numbered by
    # what else is alive, which differs)
    ours_by_serial = {
        (m["kind"], m["serial"]): k
        for k, m in enumerate(spikeforge["monitors"])
        if m.get("serial") is not None
    }
    ours_by_kind = collections.defaultdict(list)  # names can differ (numbering of old objects)
    for k, m in enumerate(spikeforge["monitors"]):
        ours_by_kind[m["kind"]].append(k)
    theirs_by_kind = collections.defaultdict(list)
    for k, m in enumerate(brian2["monitors"]):
        theirs_by_kind[m["kind"]].append(k)
    theirs, ours = _load(brian2), _load(spikeforge)
    lines = []
    for k, monitor in enumerate(brian2["monitors"]):
        label = f"{monitor['kind']} {monitor['name']}"
        j = ours_by_serial.get((monitor["kind"], monitor.get("serial")))
        if j is None:
            j = ours_by_name.get((monitor["kind"], monitor["name"]))
        same_kind = ours_by_kind[monitor["kind"]]
        if j is None and len(same_kind) == len(theirs_by_kind[monitor["kind"]]):
            j = same_kind[theirs_by_kind[monitor["kind"]].index(k)]
        if j is None:
            lines.append(f"{label}: missing")
            continue
        problems = []
        group = monitor["kind"] in GROUP_KINDS
        for key in monitor.get("keys", []):
            a, b = theirs.get(f"{k}/{key}"), ours.get(f"{j}/{key}")
            if a is None or b is None:
                if not group:  # a group's equations may hold names of the simulator's own
                    problems.append(f"{key} missing")
                continue
            problem = compare_arrays(key, a, b, random, final=group)
            if problem:
                problems.append(problem)
        lines.append(f"{label}: " + ("agrees" if not problems else "; ".join(problems)))
    return lines


def compare_arrays(
    key: str, theirs: np.ndarray, ours: np.ndarray, random: bool, final: bool = False
) -> str:
    """ "" when the arrays agree, else a short description of how they differ (``final``: the
    values of a group's variable at the end, not a recording)."""
    if final:
        return compare_final(key, theirs, ours, random)
    if random:
        if key in ("i", "t", "count"):
            n_theirs, n_ours = (
                (theirs.size, ours.size)
                if key != "count"
                else (
                    theirs.sum(),
                    ours.sum(),
                )
            )
            allowed = 0.15 * n_theirs + 3 * np.sqrt(max(n_theirs, 1))
            return "" if abs(n_ours - n_theirs) <= allowed else f"{key}: {n_ours} vs {n_theirs}"
        return _compare_means(key, theirs, ours)
    if theirs.shape != ours.shape:
        return f"{key}: shape {ours.shape} vs {theirs.shape}"
    if key in ("i", "count"):
        return "" if np.array_equal(theirs, ours) else f"{key} differs"
    if key == "t":
        return "" if np.allclose(theirs, ours, rtol=0, atol=1e-9) else "t differs"
    scale = max(float(np.ptp(theirs)) if theirs.size else 0.0, 1e-30)
    worst = float(np.max(np.abs(theirs - ours))) if theirs.size else 0.0
    if worst <= 1e-6 * scale:
        return ""
    text = f"{key}: max difference {worst:.3g}"
    early = _early_difference(theirs, ours) / scale
    if early <= 1e-12:
        text += f" (grown from rounding: {early:.1g} of the range over the first 1% of the run)"
    return text


def _compare_means(key: str, theirs: np.ndarray, ours: np.ndarray) -> str:
    """ "" when the means agree to 15% of Brian2's mean or spread, else both means."""
    mean_theirs = float(np.mean(theirs)) if theirs.size else 0.0
    mean_ours = float(np.mean(ours)) if ours.size else 0.0
    scale = max(abs(mean_theirs), float(np.std(theirs)) if theirs.size else 0.0, 1e-30)
    if abs(mean_ours - mean_theirs) <= 0.15 * scale:
        return ""
    return f"mean {key}: {mean_ours:.4g} vs {mean_theirs:.4g}"


def compare_final(key: str, theirs: np.ndarray, ours: np.ndarray, random: bool) -> str:
    """ "" when the final values of a group's variable agree, else how they differ.  Values
    that are not finite (an unset time, a division by zero) must be so in the same places; the
    others agree to 1e-5 of their range or size (or, in a random script, by their mean): a
    little wider than for recordings, since a final value may be a small difference of large
    ones (a compartment's capacitive current at rest, 1e-10 A/m2, differs by 3e-6 of itself
    when its voltage differs in the last bits)."""
    if not random and theirs.shape != ours.shape:
        return f"{key}: shape {ours.shape} vs {theirs.shape}"
    finite_theirs, finite_ours = np.isfinite(theirs), np.isfinite(ours)
    if not random and not (
        np.array_equal(finite_theirs, finite_ours)
        and np.array_equal(theirs[~finite_theirs], ours[~finite_ours], equal_nan=True)
    ):
        return f"{key}: not finite in other places"
    theirs, ours = theirs[finite_theirs], ours[finite_ours]
    if random:
        return _compare_means(key, theirs, ours)
    if theirs.size == 0:
        return ""
    scale = max(float(np.ptp(theirs)), float(np.max(np.abs(theirs))), 1e-30)
    worst = float(np.max(np.abs(theirs - ours)))
    if worst <= 1e-5 * scale:
        return ""
    return f"{key}: max difference {worst:.3g} ({worst / scale:.1g} of its size)"


def _early_difference(theirs: np.ndarray, ours: np.ndarray) -> float:
    """The largest difference of two recordings (time along the last axis) over their first
    1% of samples (at least 3): tiny when they start out equal to rounding and drift apart
    later (a model that amplifies differences)."""
    samples = max(3, theirs.shape[-1] // 100) if theirs.ndim else 1
    a, b = np.atleast_1d(theirs)[..., :samples], np.atleast_1d(ours)[..., :samples]
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def statistics(report: dict) -> dict[str, float]:
    """The statistics a random script is judged by, keyed by ``kind name/key``: the number of
    events of each event monitor, and the mean of every other recorded array."""
    arrays = _load(report)
    found = {}
    for k, monitor in enumerate(report.get("monitors", [])):
        # matched by creation number when known (names depend on what else is alive)
        serial = monitor.get("serial")
        label = f"{monitor['kind']} " + (f"#{serial}" if serial is not None else monitor["name"])
        for key in monitor.get("keys", []):
            values = arrays.get(f"{k}/{key}")
            events = monitor["kind"] not in GROUP_KINDS and "count" in monitor["keys"]
            if values is None or key in ("i", "t") and events:
                continue
            if key == "count" and events:
                found[f"{label}/events"] = float(values.sum())
            elif key != "t" or monitor["kind"] in GROUP_KINDS:
                found[f"{label}/{key}"] = float(np.mean(values)) if values.size else 0.0
    return found


def compare_spread(brian2: list[dict], spikeforge: list[dict]) -> list[str]:
    """One line per monitor of Brian2's, judging each statistic of :func:`statistics` over the
    runs with different seeds (see the module's docstring)."""
    theirs = [statistics(report) for report in brian2]
    names = {  # Brian2's names of the monitors, for the report
        f"{m['kind']} #{m['serial']}": f"{m['kind']} {m['name']}"
        for m in brian2[0].get("monitors", [])
        if m.get("serial") is not None
    }
    ours = [statistics(report) for report in spikeforge]
    verdicts: dict[str, list[str]] = {}
    for name in theirs[0]:
        label, key = name.rsplit("/", 1)
        verdicts.setdefault(label, [])
        a = np.array([s[name] for s in theirs if name in s])
        b = np.array([s[name] for s in ours if name in s])
        if b.size == 0:
            if label.split()[0] not in GROUP_KINDS:  # see compare(): a group's own names
                verdicts[label].append(f"{key} missing")
            continue
        difference = abs(b.mean() - a.mean())
        error = (
            np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
            if min(a.size, b.size) > 1
            else 0.0
        )
        if difference <= 0.15 * max(abs(a.mean()), 1e-30) or difference <= 3 * error:
            continue
        what = "events" if key == "events" else f"mean {key}"
        verdicts[label].append(
            f"{what}: {b.mean():.4g} ± {b.std(ddof=1):.2g} vs {a.mean():.4g} ± {a.std(ddof=1):.2g}"
        )
    seeds = f" (over {len(brian2)} seeds)"
    return [
        f"{names.get(label, label)}: " + ("; ".join(problems) if problems else "agrees") + seeds
        for label, problems in verdicts.items()
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("examples", type=Path, help="a folder of Brian2 scripts (searched deeply)")
    parser.add_argument("--brian2-python", required=True, help="a Python with brian2 installed")
    parser.add_argument("--spikeforge-python", default=sys.executable)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--jobs", type=int, default=1, help="scripts run at the same time")
    parser.add_argument("--only", nargs="*", default=[], help="parts of script paths to run")
    parser.add_argument("--results", type=Path, default=HERE / "results" / "brian2_examples")
    parser.add_argument("--rerun-brian2", action="store_true")
    parser.add_argument(
        "--seeds",
        type=int,
        default=5,
        help="runs per simulator, with moved seeds, of a random script whose first run differs",
    )
    parser.add_argument("--write-docs", action="store_true", help="write the report to --docs")
    parser.add_argument(
        "--docs", type=Path, default=DOCS, help=f"the report's file (default: docs/{DOCS.name})"
    )
    args = parser.parse_args(argv)
    args.results.mkdir(parents=True, exist_ok=True)
    scripts = sorted(p for p in args.examples.rglob("*.py") if not p.name.startswith("_"))
    if args.only:
        scripts = [p for p in scripts if any(part in str(p) for part in args.only)]

    def run_brian2(script: Path, offset: int = 0) -> dict:
        suffix = f"-seed{offset}" if offset else ""
        cached = args.results / f"brian2-{_key(script)}{suffix}.result.json"
        if cached.exists() and not args.rerun_brian2:
            result = json.loads(cached.read_text())
            if is_current(result):
                return result
        brian2 = run_script(
            args.brian2_python, "brian2", script, args.results, args.timeout, offset
        )
        cached.write_text(json.dumps(brian2))
        return brian2

    def run_ours(script: Path, offset: int = 0) -> dict:
        return run_script(
            args.spikeforge_python, "spikeforge", script, args.results, args.timeout, offset
        )

    def one(script: Path) -> dict:
        relative = script.relative_to(args.examples).as_posix()
        brian2 = run_brian2(script)
        ours = run_ours(script)
        random = is_random(script.read_text(encoding="utf-8"))
        agreement = []
        if brian2["status"] == "ran" and ours["status"] == "ran":
            agreement = compare(brian2, ours, random)
            if random and args.seeds > 1 and not all(a.endswith("agrees") for a in agreement):
                theirs, mine = [brian2], [ours]
                for offset in range(1, args.seeds):
                    theirs.append(run_brian2(script, offset))
                    mine.append(run_ours(script, offset))
                theirs = [r for r in theirs if r["status"] == "ran"]
                mine = [r for r in mine if r["status"] == "ran"]
                agreement = compare_spread(theirs, mine)
        row = {
            "script": relative,
            "brian2": brian2["status"],
            "spikeforge": ours["status"],
            "error": ours.get("error", ""),
            "where": ours.get("where", ""),
            "random": random,
            "agreement": agreement,
            "seconds": {"brian2": brian2.get("seconds"), "spikeforge": ours.get("seconds")},
        }
        print(_row_line(row), flush=True)
        return row

    # scripts in parallel processes (each simulator run is a subprocess); --jobs 1 on a
    # machine that is also measuring anything else
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(one, scripts))
    (args.results / "summary.json").write_text(json.dumps(rows, indent=1))
    report = markdown(rows, argv if argv is not None else sys.argv[1:], args.examples.name)
    print(report)
    if args.write_docs:
        args.docs.write_text(report)
    return 0


def _agrees(row: dict) -> bool:
    return bool(row["agreement"]) and all(
        line.endswith("agrees") or line.endswith("seeds)") and ": agrees (over" in line
        for line in row["agreement"]
    )


def _row_line(row: dict) -> str:
    verdict = "agrees" if _agrees(row) else ("no monitors" if not row["agreement"] else "differs")
    if row["spikeforge"] != "ran":
        verdict = row["error"].splitlines()[0][:100] if row["error"] else row["spikeforge"]
    return f"{row['script']}: brian2 {row['brian2']}, spikeforge {row['spikeforge']}: {verdict}"


def markdown(rows: list[dict], argv: list[str], folder: str = "examples") -> str:
    """The report: counts, failures grouped by error, and one line per script (``folder``:
    the name of the scripts' folder, ``examples`` or ``tutorials``)."""
    ran_b2 = [r for r in rows if r["brian2"] == "ran"]
    ran_both = [r for r in ran_b2 if r["spikeforge"] == "ran"]
    agree = [r for r in ran_both if _agrees(r)]
    drifted = [
        r
        for r in ran_both
        if r["agreement"]
        and not _agrees(r)
        and all(line.endswith("agrees") or "grown from rounding" in line for line in r["agreement"])
    ]
    command = " ".join(["python benchmarks/brian2_examples.py", *[_placeholder(a) for a in argv]])
    lines = [
        f"# Brian2's {folder} under spikeforge",
        "",
        f"Made by `{command}` on {datetime.date.today().isoformat()} (Brian2's folder "
        f"`{folder}/`; PY_BRIAN2 is a Python with Brian2 2.11).",
        "",
        f"- Scripts: {len(rows)}; run by Brian2 here: {len(ran_b2)}.",
        f"- Of those, run by spikeforge with only the import lines changed: {len(ran_both)}.",
        f"- Of those, every monitor agrees: {len(agree)} (criteria in "
        "`benchmarks/brian2_examples.py`).",
        f"- Of the others, traces that agree to 1e-12 over the first 1% of the run and drift "
        f"apart later (grown from rounding): {len(drifted)}.",
        "",
        "## Why the others fail (most common first)",
        "",
    ]
    failures = collections.Counter()
    examples = collections.defaultdict(list)
    for row in ran_b2:
        if row["spikeforge"] != "ran":
            first = (row["error"] or row["spikeforge"]).splitlines()[0]
            key = re.sub(r"'[^']*'|\"[^\"]*\"|\d+(\.\d+)?", "…", first)[:120]
            failures[key] += 1
            examples[key].append(row["script"])
    for key, count in failures.most_common():
        lines.append(f"- {count} × `{key}`: {', '.join(examples[key][:6])}")
    if not failures:
        lines.append("None: every script that Brian2 runs here, spikeforge runs too.")
    lines += [
        "",
        "## Per script",
        "",
        "| script | Brian2 | spikeforge | monitors |",
        "|---|---|---|---|",
    ]
    for row in rows:
        monitors = "; ".join(row["agreement"]) if row["agreement"] else ""
        status = row["spikeforge"]
        if status != "ran":
            status += f": {row['error'].splitlines()[0][:90]}" if row["error"] else ""
        random = " (random)" if row["random"] else ""
        lines.append(f"| {row['script']}{random} | {row['brian2']} | {status} | {monitors[:300]} |")
    return "\n".join(lines) + "\n"


def _placeholder(argument: str) -> str:
    if os.path.sep in argument and ("python" in argument or "bin" in argument):
        return "PY_BRIAN2" if "brian2" in argument.lower() else "PY_SPIKEFORGE"
    if os.path.isdir(argument):
        names = {"examples": "BRIAN2_EXAMPLES_DIR", "tutorials": "TUTORIAL_SCRIPTS"}
        return names.get(Path(argument).name, "RESULTS_DIR")
    return argument


if __name__ == "__main__":
    sys.exit(main())
