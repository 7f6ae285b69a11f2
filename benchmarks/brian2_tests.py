"""Run Brian2's own tests under spikeforge, to find where spikeforge behaves differently.

Brian2's tests import ``brian2`` and some of its internals.  This script writes a stand-in
``brian2`` package that gives them spikeforge: spikeforge's public names, and, for an internal
name spikeforge lacks, a placeholder that raises ``NotImplementedError`` when it is used (so one
missing internal fails the tests that use it, not the whole file).  It copies the tests of an
installed Brian2 beside it, with a conftest of its own (each test starts with ``start_scope()``,
the runtime device and default preferences; tests marked as long, standalone-only or needing the
GSL are skipped), runs pytest on them with spikeforge's interpreter, and prints, per file, how
many passed and failed, and each failure's first line.

The failures are leads, not verdicts: many tests check Brian2's internals (code objects,
variables, log messages) or exception classes that spikeforge names differently.  The ones worth
reading are assertion failures on values, and tests that raise where Brian2 runs.

    python benchmarks/brian2_tests.py --brian2-python PY_BRIAN2 [--files test_synapses ...]

``--brian2-python`` is an interpreter that imports Brian2 (only used to find its tests).  With
pytest-xdist installed, ``--jobs 2`` shares the tests between two processes; with pytest-timeout,
each test has ``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

#: The test files that exercise the public API (the others test Brian2's code generation,
#: standalone projects, parsing and preferences).
DEFAULT_FILES = (
    "test_clocks",
    "test_monitor",
    "test_network",
    "test_neurongroup",
    "test_poissongroup",
    "test_poissoninput",
    "test_refractory",
    "test_spatialneuron",
    "test_spikegenerator",
    "test_subgroup",
    "test_synapses",
    "test_thresholder",
    "test_timedarray",
)

SHIM_INIT = '''
"""Stand-in for Brian2, made by spikeforge's benchmarks/brian2_tests.py: spikeforge's names."""
import importlib
import importlib.abc
import importlib.machinery
import sys
import types

import spikeforge
from spikeforge import *  # noqa: F403
from spikeforge import __all__ as _names

__all__ = list(_names)
_SOURCES = [spikeforge]
for _module in ("units", "model.groups", "model.synapses", "model.network", "model.monitors",
                "model.inputs", "model.variables", "model.functions", "model.clock",
                "model.morphology", "model.spatialneuron", "devices.device", "codegen.equations",
                "codegen.stateupdaters", "model.subgroups", "units.constants"):
    _SOURCES.append(importlib.import_module("spikeforge." + _module))


class Missing:
    """An internal name of Brian2 that spikeforge does not have: fails when used."""

    def __init__(self, where):
        self._where = where

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(f"{self._where} is not provided by spikeforge")

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Missing(f"{self._where}.{name}")


def _lookup(module, name):
    for source in _SOURCES:
        if hasattr(source, name):
            return getattr(source, name)
    if name.startswith("__"):
        raise AttributeError(name)
    return Missing(f"{module}.{name}")


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """brian2.<anything>: the stand-in's own files first, else a module of spikeforge names."""

    def find_spec(self, fullname, path, target=None):
        if not fullname.startswith("brian2."):
            return None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    return spec
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = lambda name, _module=spec.name: _lookup(_module, name)
        return module

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _Finder())
'''

SHIM_FILES = {
    "core/__init__.py": "",
    "core/network.py": """
from spikeforge import second
from spikeforge.model.network import *  # noqa: F403


def schedule_propagation_offset(net=None):
    return 0 * second  # Brian2's default schedule: thresholds before synapses
""",
    "core/functions.py": """
import numpy as np


def timestep(t, dt):
    return np.asarray((np.asarray(t) + 1e-3 * np.asarray(dt)) / np.asarray(dt)).astype(np.int64)
""",
    "devices/__init__.py": "",
    "devices/device.py": """
from spikeforge import seed  # noqa: F401
from spikeforge.devices.device import *  # noqa: F403
from spikeforge.devices.device import reinit_devices


def reinit_and_delete():
    reinit_devices()
""",
    "utils/__init__.py": "",
    "utils/logger.py": '''
import contextlib
import logging
import warnings


@contextlib.contextmanager
def catch_logs(log_level=logging.WARNING, only_from=("brian2",)):
    """Brian2's log catcher; spikeforge warns with the warnings module instead."""
    caught_logs = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught_logs
    caught_logs.extend(("WARNING", "brian2." + w.category.__name__, str(w.message)) for w in caught)


class BrianLogger:
    @staticmethod
    def suppress_name(*args, **kwargs):
        pass

    @staticmethod
    def suppress_hierarchy(*args, **kwargs):
        pass
''',
    "tests/__init__.py": "",
    "tests/utils.py": """
import numpy as np
from numpy.testing import assert_allclose as _numpy_allclose

from spikeforge import get_dimensions


def assert_allclose(actual, desired, rtol=4.5e8, atol=1e-9, **kwargs):
    assert get_dimensions(actual) == get_dimensions(desired), (actual, desired)
    tolerance = np.finfo(float).eps * rtol
    _numpy_allclose(np.asarray(actual), np.asarray(desired), rtol=tolerance, atol=atol, **kwargs)


def exc_isinstance(exc_info, expected, raise_not_implemented=False):
    if exc_info is None:
        return False
    error = getattr(exc_info, "value", exc_info)
    if isinstance(error, expected):
        return True
    if raise_not_implemented and isinstance(error, NotImplementedError):
        raise error
    return exc_isinstance(error.__cause__, expected, raise_not_implemented)
""",
}

#: Added to each file of the stand-in: names it does not define come from spikeforge, or are
#: placeholders.
FALLBACK = """

def __getattr__(name):
    import brian2

    return brian2._lookup(__name__, name)
"""

CONFTEST = """
import pytest

from spikeforge import defaultclock, ms, prefs, reinit_devices, set_device, start_scope

SKIPPED_MARKS = {"standalone_only", "long", "gsl", "openmp", "cpp_standalone"}


def pytest_configure(config):
    for mark in ("long", "codegen_independent", "standalone_compatible", "multiple_runs",
                 "standalone_only", "cpp_standalone", "openmp", "gsl"):
        config.addinivalue_line("markers", mark)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SKIPPED_MARKS & {mark.name for mark in item.iter_markers()}:
            item.add_marker(pytest.mark.skip(reason="not run by benchmarks/brian2_tests.py"))


@pytest.fixture(autouse=True)
def fresh_start():
    set_device("runtime")
    reinit_devices()
    start_scope()
    defaultclock.dt = 0.1 * ms
    yield
    defaultclock.dt = 0.1 * ms
    prefs.reset_to_defaults()


@pytest.fixture
def fake_randn_randn_fixture():
    pytest.skip("replacing randn is not possible under spikeforge")
"""


def brian2_tests_folder(python: str) -> Path:
    found = subprocess.run(
        [python, "-c", "import os, brian2.tests; print(os.path.dirname(brian2.tests.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(found.stdout.strip())


def write_stand_in(root: Path) -> None:
    package = root / "brian2"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(SHIM_INIT)
    for name, text in SHIM_FILES.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + FALLBACK)


def summary(junit: Path) -> tuple[Counter, list[tuple[str, str]]]:
    counts: Counter = Counter()
    failures = []
    for case in ET.parse(junit).iter("testcase"):
        module = (case.get("classname") or "").rsplit(".", 1)[-1]
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            counts[module, "failed"] += 1
            message = (problem.get("message") or "").splitlines()
            failures.append((f"{module}::{case.get('name')}", message[0] if message else ""))
        elif case.find("skipped") is not None:
            counts[module, "skipped"] += 1
        else:
            counts[module, "passed"] += 1
    return counts, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brian2-python", required=True, help="an interpreter that imports brian2")
    parser.add_argument("--files", nargs="*", default=DEFAULT_FILES, help="test modules to run")
    parser.add_argument("--jobs", type=int, default=1, help="pytest-xdist processes")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per test")
    parser.add_argument("--keep", action="store_true", help="keep the folder the tests ran in")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="brian2-tests-"))
    write_stand_in(work / "stand-in")
    tests = work / "run" / "brian2" / "tests"
    shutil.copytree(brian2_tests_folder(args.brian2_python), tests)
    # beside the tests: their pytest.ini makes their folder the root, above which pytest
    # reads no conftest.py
    (tests / "conftest.py").write_text(CONFTEST)
    junit = work / "results.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rN"]
    command += ["--continue-on-collection-errors"]  # a file that can't be imported is one row
    command += [f"tests/{name}.py" for name in args.files]
    command += [f"--junitxml={junit}"]
    if args.jobs > 1 and importlib.util.find_spec("xdist"):
        command += ["-n", str(args.jobs)]
    if importlib.util.find_spec("pytest_timeout"):
        # the thread method ends a test stuck in native code too (by ending its process)
        command += [f"--timeout={args.timeout}", "-o", "timeout_method=thread"]
    paths = [str(work / "stand-in")] + [p for p in [os.environ.get("PYTHONPATH")] if p]
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(paths), OPENBLAS_NUM_THREADS="1")
    subprocess.run(command, cwd=tests.parent, env=environment, check=False)

    counts, failures = summary(junit)
    modules = sorted({module for module, _ in counts})
    print(f"\n{'file':<22} {'passed':>7} {'failed':>7} {'skipped':>8}")
    for module in modules:
        row = [counts[module, kind] for kind in ("passed", "failed", "skipped")]
        print(f"{module:<22} {row[0]:>7} {row[1]:>7} {row[2]:>8}")
    total = [sum(counts[m, kind] for m in modules) for kind in ("passed", "failed", "skipped")]
    print(f"{'total':<22} {total[0]:>7} {total[1]:>7} {total[2]:>8}\n")
    for name, message in failures:
        print(f"{name}: {message[:160]}")
    if args.keep:
        print(f"\nthe tests ran in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
