"""Compile generated Cython modules at run time and cache them by the hash of their source.

A cache entry is a directory named after the module, ``<name>_<key>``, holding the ``.pyx`` that
was compiled, the C++ file Cython made of it and the extension module.  The key is a hash of the
source and of everything else that changes the binary (Cython version, compiler and flags, Python
ABI, the runtime headers), so a cache directory can be shared by several Python versions.

Concurrency: an entry is built in a temporary directory under a file lock and published by an
atomic rename, so no process ever sees a half-written entry, and several processes asking for the
same new module at once compile it once.  An entry that exists but fails to load is rebuilt.
Within one process, :func:`start_module` translates a module and leaves its C++ compiler running
in the background (at most one compiler per core), so that independent modules compile in
parallel; :func:`load_module` waits for the result.

The cache lives in the user cache directory (``platformdirs.user_cache_dir("spikeforge")``);
the environment variable ``SPIKEFORGE_CACHE_DIR`` overrides it.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.machinery
import importlib.util
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from filelock import FileLock

RUNTIME_DIR = Path(__file__).resolve().parent.parent / "runtime"

#: Optimisation and language flags for every generated module.  ``-O3`` with the machine's own
#: instruction set vectorises the element loops (twice as fast a CUBA loop as ``-O2``, measured);
#: ``-fno-math-errno`` lets the compiler inline ``sqrt``.  No ``-ffast-math`` and no fused
#: multiply-add contraction (``-ffp-contract=off``): results stay those of the equations as
#: written, the same on every machine.
DEFAULT_CXX_FLAGS = (
    "-O3",
    "-std=c++17",
    "-fPIC",
    "-fno-math-errno",
    "-ffp-contract=off",
    "-DNDEBUG",
    "-w",
)


class CompilationError(RuntimeError):
    """A generated module failed to translate (Cython) or to compile (C++ compiler).

    The message names the generated file, kept on disk for inspection, and the compiler's first
    error lines.
    """


@dataclass
class CacheStatistics:
    """What this process did with the cache: modules compiled and modules loaded from disk.

    ``seconds_compiling`` is wall-clock time during which at least one module was being built
    (Cython translation or C++ compiler): builds that overlap count once.
    """

    compiled: list[str] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)
    #: (start, end) of every build, from time.perf_counter()
    build_intervals: list[tuple[float, float]] = field(default_factory=list)

    @property
    def seconds_compiling(self) -> float:
        total, covered_until = 0.0, float("-inf")
        for start, end in sorted(self.build_intervals):
            if end > covered_until:
                total += end - max(start, covered_until)
                covered_until = end
        return total

    def reset(self) -> None:
        self.compiled.clear()
        self.loaded.clear()
        self.build_intervals.clear()


#: Statistics of this process (read by tests and benchmarks).
statistics = CacheStatistics()

_loaded_modules: dict[str, ModuleType] = {}
_cython_lock = threading.Lock()
_toolchain_fields: dict | None = None


def cache_directory() -> Path:
    """The cache directory in use: ``$SPIKEFORGE_CACHE_DIR`` or the user cache directory."""
    configured = os.environ.get("SPIKEFORGE_CACHE_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_cache_dir("spikeforge")) / "modules"


def compiler_command() -> list[str]:
    """The C++ compiler: ``$CXX`` if set, else the one Python was built with, else ``c++``."""
    configured = os.environ.get("CXX") or sysconfig.get_config_var("CXX") or "c++"
    return shlex.split(configured)


def compiler_flags(optimize: bool = True) -> list[str]:
    """Flags for compiling and linking one generated module (``$SPIKEFORGE_CXXFLAGS`` appends).

    ``optimize=False`` is for code that runs once or is glue (string assignments, ``connect()``,
    the runtime owners): ``-O1`` for the machine in general compiles much faster.
    """
    flags = list(DEFAULT_CXX_FLAGS)
    if not optimize:
        flags[flags.index("-O3")] = "-O1"
    elif os.environ.get("SPIKEFORGE_NATIVE", "1") != "0" and sys.platform.startswith("linux"):
        flags.append("-march=native")  # the CPU is part of the cache key (toolchain_description)
    if sys.platform == "darwin":
        flags += ["-undefined", "dynamic_lookup"]
    flags += shlex.split(os.environ.get("SPIKEFORGE_CXXFLAGS", ""))
    return flags


def toolchain_description(optimize: bool = True) -> dict:
    """Everything besides the source that changes a compiled module.

    Computed once per process: asking the compiler for its version costs a process start.
    """
    global _toolchain_fields
    if _toolchain_fields is None:
        import Cython

        try:
            version = subprocess.run(
                [*compiler_command(), "--version"], capture_output=True, text=True, timeout=60
            ).stdout.splitlines()[:1]
        except OSError as error:
            version = [f"unavailable: {error}"]
        headers = hashlib.sha256()
        for header in sorted(RUNTIME_DIR.glob("*.h")):
            headers.update(header.name.encode() + b"\0" + header.read_bytes())
        _toolchain_fields = {
            "cython": Cython.__version__,
            "compiler": compiler_command() + version,
            "python": sys.implementation.cache_tag,
            "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
            "platform": sysconfig.get_platform(),
            "runtime_headers": headers.hexdigest(),
            "cpu": _cpu_description(),
        }
    return {**_toolchain_fields, "flags": compiler_flags(optimize)}


def _cpu_description() -> str:
    """The processor and its instruction set extensions (``-march=native`` depends on them), so
    that a cache shared between different machines never loads a module built for another CPU."""
    import platform

    description = platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith(("model name", "flags", "Features")):
                    description += "|" + line.split(":", 1)[1].strip()
                if line.startswith(("flags", "Features")):
                    break
    except OSError:
        pass
    return hashlib.sha256(description.encode()).hexdigest()[:16]


def module_key(source: str, optimize: bool = True) -> str:
    """The cache key of a module source: a hash of the source and of the tool chain."""
    digest = hashlib.sha256()
    digest.update(json.dumps(toolchain_description(optimize), sort_keys=True).encode())
    digest.update(b"\0")
    digest.update(source.encode())
    return digest.hexdigest()[:24]


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_") or "module"
    if cleaned[0].isdigit():
        cleaned = "m_" + cleaned
    return cleaned[:60]


def module_name(source: str, name: str, optimize: bool = True) -> str:
    """The importable name (and the entry directory name) for ``source`` with readable ``name``."""
    return f"{_safe_name(name)}_{module_key(source, optimize)}"


def entry_directory(source: str, name: str, optimize: bool = True) -> Path:
    """Where the cache entry for this source lives (whether or not it exists yet)."""
    return cache_directory() / module_name(source, name, optimize)


def max_parallel_builds() -> int:
    """How many C++ compilers may run at once: ``$SPIKEFORGE_COMPILE_JOBS``, else the number of
    cores this process may use."""
    configured = os.environ.get("SPIKEFORGE_COMPILE_JOBS")
    if configured:
        return max(1, int(configured))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class ModuleBuild:
    """A module requested with :func:`start_module`: ready, or being compiled in the background.

    :meth:`result` waits for the compiler, publishes the cache entry and returns the imported
    module (or raises the :class:`CompilationError`, every time it is asked).
    """

    def __init__(self, full_name: str, module: ModuleType | None = None):
        self.full_name = full_name
        self.module = module
        self.error: BaseException | None = None
        self.process: subprocess.Popen | None = None
        self._finish = None  # completes the build (set while the compiler runs)
        self.thread = threading.get_ident()

    @property
    def running(self) -> bool:
        return self._finish is not None

    def result(self) -> ModuleType:
        """The compiled module; waits for the compiler if it is still running."""
        if self._finish is not None:
            self._complete()
        if self.error is not None:
            raise self.error
        return self.module

    def _complete(self) -> None:
        finish, self._finish = self._finish, None
        with _builds_lock:
            _in_flight.pop(self.full_name, None)
        try:
            self.module = finish()
            _loaded_modules[self.full_name] = self.module
        except BaseException as error:  # kept, and raised by result()
            self.error = error


#: Builds whose compiler may still be running, by module name.
_in_flight: dict[str, ModuleBuild] = {}
_builds_lock = threading.Lock()


def _builds_of_this_thread() -> list[ModuleBuild]:
    """The builds in flight that this thread started (only it may publish them: it holds their
    file locks), oldest first."""
    with _builds_lock:
        return [b for b in _in_flight.values() if b.thread == threading.get_ident()]


def _finish_finished_builds(wait_for_a_slot: bool = False) -> None:
    """Publish the builds (of this thread) whose compiler has exited; with ``wait_for_a_slot``,
    first wait until fewer than :func:`max_parallel_builds` compilers run."""
    mine = _builds_of_this_thread()
    if wait_for_a_slot:
        running = [b for b in mine if b.process is not None and b.process.poll() is None]
        while len(running) >= max_parallel_builds():
            running.pop(0)._complete()  # the oldest
    for build in mine:
        if build.running and (build.process is None or build.process.poll() is not None):
            build._complete()


def finish_all_builds() -> None:
    """Wait for every background build of this thread (at exit, so entries get published)."""
    for build in _builds_of_this_thread():
        if build.running:
            build._complete()


atexit.register(finish_all_builds)


def start_module(source: str, name: str, optimize: bool = True) -> ModuleBuild:
    """Ask for the compiled module of ``source``: from this process, from the cache, or else
    translated now and compiled by a C++ compiler that runs in the background.

    ``name`` says what the module is for (``network_cuba``, ``set_neurongroup_v``); it becomes
    part of the file names so that a user can find the generated code.  Call ``result()`` on the
    returned :class:`ModuleBuild` to get the module.
    """
    full_name = module_name(source, name, optimize)
    if full_name in _loaded_modules:
        return ModuleBuild(full_name, _loaded_modules[full_name])
    with _builds_lock:
        build = _in_flight.get(full_name)
    if build is not None:
        if build.thread != threading.get_ident():
            build = _wait_for_other_thread(full_name)
            return ModuleBuild(full_name, build) if build else start_module(source, name, optimize)
        return build
    _finish_finished_builds()
    root = cache_directory()
    entry = root / full_name
    module = _try_import(entry, full_name)
    if module is None:
        (root / "locks").mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(root / "locks" / (full_name + ".lock")))
        lock.acquire()
        try:
            module = _try_import(entry, full_name)  # another process may have built it meanwhile
            if module is None:
                return _start_build_in_flight(source, root, entry, full_name, optimize, lock)
        except BaseException:
            lock.release()
            raise
        lock.release()
    statistics.loaded.append(full_name)
    _loaded_modules[full_name] = module
    return ModuleBuild(full_name, module)


def _start_build_in_flight(source, root, entry, full_name, optimize, lock) -> ModuleBuild:
    """Start building an entry (``lock`` is held; the build releases it when published)."""
    _finish_finished_builds(wait_for_a_slot=True)
    build = ModuleBuild(full_name)
    build._finish = _start_build(source, root, entry, full_name, optimize, lock, build)
    statistics.compiled.append(full_name)
    with _builds_lock:
        _in_flight[full_name] = build
    return build


def _wait_for_other_thread(full_name: str) -> ModuleType | None:
    """The module another thread of this process is building (None if its build failed)."""
    while True:
        with _builds_lock:
            if full_name not in _in_flight:
                break
        time.sleep(0.01)
    return _loaded_modules.get(full_name)


def load_module(source: str, name: str, optimize: bool = True) -> ModuleType:
    """Return the compiled module for ``source``, compiling it only if no process has yet.

    ``name`` says what the module is for (``network_cuba``, ``set_neurongroup_v``); it becomes
    part of the file names so that a user can find the generated code.
    """
    return start_module(source, name, optimize).result()


def _extension_path(entry: Path, full_name: str) -> Path:
    return entry / (full_name + sysconfig.get_config_var("EXT_SUFFIX"))


def _try_import(entry: Path, full_name: str) -> ModuleType | None:
    """Import a published entry; None when it does not exist or is broken (the caller then
    rebuilds it under the lock, replacing the broken directory)."""
    extension = _extension_path(entry, full_name)
    if not (entry / "manifest.json").exists() or not extension.exists():
        return None
    try:
        loader = importlib.machinery.ExtensionFileLoader(full_name, str(extension))
        spec = importlib.util.spec_from_file_location(full_name, str(extension), loader=loader)
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
    except ImportError:
        # A broken entry (truncated by a full disk, a different tool chain...): rebuild it.
        # Removing it is only safe under the lock, which the caller takes before rebuilding.
        return None
    return module


def _start_build(
    source: str, root: Path, entry: Path, full_name: str, optimize: bool, lock, build: ModuleBuild
):
    """Translate ``source`` now and start its C++ compiler in a temporary directory; returns the
    function that waits for the compiler and publishes the entry atomically (the caller holds
    ``lock``, which that function releases)."""
    started = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".build-{full_name}-", dir=root))
    pyx = work / (full_name + ".pyx")
    cpp = work / (full_name + ".cpp")
    extension = _extension_path(work, full_name)
    command = [
        *compiler_command(),
        *compiler_flags(optimize),
        "-shared",
        f"-I{sysconfig.get_paths()['include']}",
        f"-I{RUNTIME_DIR}",
        str(cpp),
        "-o",
        str(extension),
    ]
    try:
        pyx.write_text(source)
        _cythonize(pyx, cpp, full_name)
        log = open(work / "compiler-output.txt", "w+")
        try:
            # output to a file, not a pipe: nobody reads a pipe while the compiler runs
            build.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        except OSError as error:
            log.close()
            raise CompilationError(
                f"Cannot run the C++ compiler {compiler_command()[0]!r} ({error}). Install a C++ "
                "compiler (g++ or clang++) or name one in the environment variable CXX."
            ) from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        statistics.build_intervals.append((started, time.perf_counter()))
        raise

    def finish() -> ModuleType:
        try:
            returncode = build.process.wait()
            log.seek(0)
            output = log.read()
            log.close()
            if returncode != 0:
                kept = _keep_failed(work, root, full_name)
                raise CompilationError(
                    f"The C++ compiler failed on the generated module {full_name}.\n"
                    f"Generated Cython: {kept / pyx.name}\nGenerated C++: {kept / cpp.name}\n"
                    f"Command: {shlex.join(command)}\n"
                    f"Compiler output (first lines):\n{_first_lines(output)}"
                )
            manifest = {"module": full_name, "toolchain": toolchain_description(optimize)}
            (work / "manifest.json").write_text(json.dumps(manifest, indent=1))
            if entry.exists():
                shutil.rmtree(entry)  # a broken entry; we hold the lock
            os.rename(work, entry)
            module = _try_import(entry, full_name)
            if module is None:
                raise CompilationError(f"The freshly compiled module {entry} cannot be imported")
            return module
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
            lock.release()
            statistics.build_intervals.append((started, time.perf_counter()))

    return finish


def _cythonize(pyx: Path, cpp: Path, full_name: str) -> None:
    """Translate one .pyx to C++ in this process (no Cython start-up cost per module)."""
    from Cython.Compiler.Main import CompilationOptions, compile_single, default_options

    options = CompilationOptions(
        default_options,
        cplus=True,
        language_level=3,
        output_file=str(cpp),
        include_path=[str(RUNTIME_DIR)],
    )
    messages = io.StringIO()
    try:
        with _cython_lock:  # Cython's compiler is not thread-safe
            if threading.current_thread() is threading.main_thread():
                with redirect_stderr(messages), redirect_stdout(messages):
                    result = compile_single(str(pyx), options, full_module_name=full_name)
            else:  # redirecting would swallow the main thread's output meanwhile
                result = compile_single(str(pyx), options, full_module_name=full_name)
        failed = result.num_errors > 0
    except Exception as error:  # Cython raises on some internal errors
        messages.write(f"\n{type(error).__name__}: {error}")
        failed = True
    if failed:
        kept = _keep_failed(pyx.parent, pyx.parent.parent, full_name)
        raise CompilationError(
            f"Cython failed to translate the generated module {full_name}.\n"
            f"Generated Cython: {kept / pyx.name}\n"
            f"Cython output (first lines):\n{_first_lines(messages.getvalue())}"
        )


def _keep_failed(work: Path, root: Path, full_name: str) -> Path:
    """Copy a failed build where a user can read it: ``<cache>/failed/<module>``."""
    target = root / "failed" / full_name
    if target.exists():
        shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(work, target)
    return target


def _first_lines(text: str, count: int = 30) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[:count])


def clear_cache() -> None:
    """Delete every cache entry (modules already imported by this process stay usable)."""
    root = cache_directory()
    if root.exists():
        shutil.rmtree(root)
    _loaded_modules.clear()
