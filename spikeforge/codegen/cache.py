"""Compile generated Cython modules at run time and cache them by the hash of their source.

A cache entry is a directory named after the module, ``<name>_<key>``, holding the ``.pyx`` that
was compiled, the C++ file Cython made of it, the extension module and ``manifest.json``.  The key
is a hash of the source and of everything else that changes the binary (Cython version, compiler
and flags, Python ABI, the runtime headers), so a cache directory can be shared by several Python
versions.

Nothing the cache holds is loaded unchecked: the manifest records the size and SHA-256 hash of the
extension, and an entry whose extension does not match (truncated by a full disk, overwritten,
missing) is rebuilt, never imported.  A damaged entry is replaced by renaming directories, never
by writing into files that a running process may have mapped.

Concurrency: an entry is built in a temporary directory under a file lock and published by an
atomic rename, so no process ever sees a half-written entry, and several processes asking for the
same new module at once compile it once.  Where the lock does not exclude (some network file
systems), a build that finds the entry published by someone else when it renames uses theirs and
never removes an entry that verifies.  Within one process, :func:`start_module` translates a
module and leaves its C++ compiler running in the background (at most one compiler per core), so
that independent modules compile in parallel; :func:`load_module` waits for the result.

Maintenance (also ``python -m spikeforge cache``): :func:`cache_entries` lists the entries with
their size and last use, :func:`prune` removes old or least recently used entries and the
folders of builds whose process died, :func:`clear_cache` removes every entry.
``SPIKEFORGE_CACHE_MAX_SIZE`` bounds the size of the entries: each build that publishes an entry
then evicts the least recently used ones.

The cache lives in the user cache directory (``platformdirs.user_cache_dir("spikeforge")``);
the environment variable ``SPIKEFORGE_CACHE_DIR`` overrides it.
"""

from __future__ import annotations

import atexit
import errno
import hashlib
import importlib.machinery
import importlib.util
import io
import json
import os
import platform
import re
import shlex
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Collection
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import platformdirs
from filelock import FileLock, Timeout

RUNTIME_DIR = Path(__file__).resolve().parent.parent / "runtime"

#: Optimisation and language flags for every generated module.  ``-O3`` with the machine's own
#: instruction set vectorises the element loops (twice as fast a CUBA loop as ``-O2``, measured);
#: ``-fno-math-errno`` lets the compiler inline ``sqrt``; ``-fno-trapping-math`` (floating-point
#: operations raise no traps, which is already so: spikeforge never enables them) lets it compute
#: both sides of a condition without branching, which changes no value (bitwise identical
#: results, measured) and makes the CUBA loop 25% and a compartmental one 15% faster.  No
#: ``-ffast-math`` and no fused
#: multiply-add contraction (``-ffp-contract=off``): results stay those of the equations as
#: written, the same on every machine.
DEFAULT_CXX_FLAGS = (
    "-O3",
    "-std=c++17",
    "-fPIC",
    "-fno-math-errno",
    "-fno-trapping-math",
    "-ffp-contract=off",
    "-DNDEBUG",
    "-w",
)


class CacheError(RuntimeError):
    """The cache directory cannot be used (not writable, a file where a folder should be), or a
    cache entry that passed its integrity check cannot be imported.

    The message names the path, the environment variable ``SPIKEFORGE_CACHE_DIR`` where it
    helps, and what to do.
    """


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
    return Path(platformdirs.user_cache_dir("spikeforge")) / "modules"


def _split_variable(variable: str, default: str = "") -> list[str]:
    """The words of an environment variable, split like a shell command line; a value that does
    not split (an unbalanced quote) is an error that names the variable."""
    value = os.environ.get(variable) or default
    try:
        return shlex.split(value)
    except ValueError as error:
        raise ValueError(
            f"The environment variable {variable}={value!r} cannot be split into words like a "
            f"shell command line ({error}). Quote or escape it as you would in a shell."
        ) from None


def compiler_command() -> list[str]:
    """The C++ compiler: ``$CXX`` if set, else the one Python was built with, else ``c++``."""
    if os.environ.get("CXX"):
        return _split_variable("CXX")
    return shlex.split(sysconfig.get_config_var("CXX") or "c++")


#: A line of the source of a module that uses threads: it is compiled and linked with OpenMP.
OPENMP_MARKER = "# spikeforge: compiled with OpenMP"
OPENMP_FLAGS = ("-fopenmp",)
#: A line of the source of a module in fast-math mode (``prefs.codegen.fast_math``): compiled
#: so that its element loops call the vector versions of exp, log... (``functions.h``).
FAST_MATH_MARKER = "# spikeforge: compiled in fast-math mode"


FAST_MATH_FLAGS = ("-DSPIKEFORGE_FAST_MATH", "-fopenmp-simd")


def fast_math_flags() -> list[str]:
    """Compiler flags of a fast-math module: ``FAST_MATH_FLAGS``, and for GCC a larger budget
    of run-time alias checks (a state update such as COBAHH's writes seven arrays through
    pointers that may overlap as far as the compiler knows; with GCC's default of 10 checks it
    does not vectorise that loop, measured with GCC 12)."""
    flags = list(FAST_MATH_FLAGS)
    compiler = " ".join(toolchain_description()["compiler"]).lower()
    if "clang" not in compiler:
        flags.append("--param=vect-max-version-for-alias-checks=64")
    return flags


def fast_math_libraries() -> list[str]:
    """What a fast-math module links with, after its source: glibc's vector math library where
    there is one (Linux on x86-64).  The flags (``FAST_MATH_FLAGS``) turn the declarations of
    ``functions.h`` on; ``-fopenmp-simd`` honours them and starts no threads."""
    if sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64"):
        if platform.libc_ver()[0] == "glibc":
            return ["-lmvec"]
    return []


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
    flags += _split_variable("SPIKEFORGE_CXXFLAGS")
    return flags


def toolchain_description(optimize: bool = True) -> dict:
    """Everything besides the source that changes a compiled module.

    Computed once per process: asking the compiler for its version costs a process start.
    """
    global _toolchain_fields
    if _toolchain_fields is None:
        import Cython  # deferred: only when a key is first needed (its version is part of it)

        try:
            version = subprocess.run(
                [*compiler_command(), "--version"], capture_output=True, text=True, timeout=60
            ).stdout.splitlines()[:1]
        except OSError as error:
            version = [f"unavailable: {error}"]
        headers = hashlib.sha256()  # the C++ headers and the .pxd that generated code cimports
        for header in sorted([*RUNTIME_DIR.glob("*.h"), *RUNTIME_DIR.glob("*.pxd")]):
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
    configured = os.environ.get("SPIKEFORGE_COMPILE_JOBS", "").strip()
    if configured:
        try:
            jobs = int(configured)
        except ValueError:
            jobs = 0
        if jobs < 1:
            raise ValueError(
                f"The environment variable SPIKEFORGE_COMPILE_JOBS={configured!r} must be a whole "
                "number of at least 1 (how many C++ compilers may run at once), or be unset to "
                "use one per core."
            )
        return jobs
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}


def parse_size(text: str) -> int:
    """A size in bytes from ``500MB``, ``2G``, ``1.5GiB`` or ``1000000`` (``k``, ``M``, ``G``,
    ``T`` are powers of 1000, ``KiB``, ``MiB``, ``GiB``, ``TiB`` powers of 1024)."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([A-Za-z]*)\s*", text)
    if match is None or match.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(
            f"{text!r} is not a size: write a number and a unit, such as 500MB, 2GB or 1.5GiB"
        )
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def format_size(size: float) -> str:
    """A size in bytes for people: ``812 B``, ``45.8 kB``, ``1.2 MB``, ``3.4 GB``."""
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def maximum_cache_size() -> int | None:
    """The bound on the size of the cache's entries, ``$SPIKEFORGE_CACHE_MAX_SIZE`` (``500MB``,
    ``2GB``...), or None when it is not set (no bound)."""
    configured = os.environ.get("SPIKEFORGE_CACHE_MAX_SIZE", "").strip()
    if not configured:
        return None
    try:
        return parse_size(configured)
    except ValueError as error:
        raise ValueError(f"The environment variable SPIKEFORGE_CACHE_MAX_SIZE: {error}") from None


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
        #: Completes the build (set while the compiler runs).
        self._finish: Callable[[], ModuleType] | None = None
        self.thread = threading.get_ident()
        self._completing = threading.Lock()  # one completion, by whichever thread comes first

    @property
    def running(self) -> bool:
        return self._finish is not None

    def result(self) -> ModuleType:
        """The compiled module; waits for the compiler if it is still running."""
        # always through the lock: the watcher thread may be completing the build right now
        # (its _finish already taken, its module not yet set)
        self._complete()
        if self.error is not None:
            raise self.error
        assert self.module is not None  # a build that did not fail has its module
        return self.module

    def _complete(self) -> None:
        with self._completing:
            finish, self._finish = self._finish, None
            if finish is None:  # completed meanwhile by the other thread
                return
            try:
                self.module = finish()
                _loaded_modules[self.full_name] = self.module
            except BaseException as error:  # kept, and raised by result()
                self.error = error
            finally:
                with _builds_lock:
                    _in_flight.pop(self.full_name, None)

    def _publish_when_compiled(self) -> None:
        """Run by a watcher thread: publish the entry (and release its file lock) as soon as
        the compiler exits, not when this process next asks for the module.  Another process
        waiting for the same entry would otherwise wait for as long as this one does something
        else (a parent process waiting for a worker that needs the module: a deadlock)."""
        if self.process is not None:
            self.process.wait()
        self._complete()


#: Builds whose compiler may still be running, by module name.
_in_flight: dict[str, ModuleBuild] = {}
_builds_lock = threading.Lock()


def _builds_of_this_thread() -> list[ModuleBuild]:
    """The builds in flight that this thread started, oldest first (each is also published by
    its watcher thread as soon as its compiler exits)."""
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
            module = _wait_for_other_thread(full_name)
            if module is None:
                return start_module(source, name, optimize)
            return ModuleBuild(full_name, module)
        return build
    _finish_finished_builds()
    root = cache_directory()
    entry = root / full_name
    module = _load_entry(entry, full_name)
    if module is None:
        lock = _acquire_entry_lock(root, full_name)
        try:
            module = _load_entry(entry, full_name)  # another process may have built it meanwhile
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
    threading.Thread(
        target=build._publish_when_compiled, name=f"publish {full_name}", daemon=True
    ).start()
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


# ---------------------------------------------------------------------------------------------
# verifying and loading an entry
# ---------------------------------------------------------------------------------------------

MANIFEST = "manifest.json"


def _extension_path(entry: Path, full_name: str) -> Path:
    return entry / (full_name + sysconfig.get_config_var("EXT_SUFFIX"))


def verify_entry(entry: Path, full_name: str | None = None) -> str | None:
    """Check a cache entry before anything of it is loaded: None when it is complete and its
    extension module is byte for byte the one that was built, else what is wrong with it.

    The manifest records the size and SHA-256 hash of the extension and the size of the
    ``.pyx``; an entry without them (made by an older spikeforge) does not verify.
    """
    full_name = full_name or entry.name
    if not entry.is_dir():
        return "the entry does not exist" if not entry.exists() else "the entry is not a folder"
    try:
        manifest = json.loads((entry / MANIFEST).read_text())
        size, digest = int(manifest["extension"]["size"]), str(manifest["extension"]["sha256"])
        source_size = int(manifest["source"]["size"])
    except FileNotFoundError:
        return f"{MANIFEST} is missing"
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"{MANIFEST} cannot be read or lacks the extension's hash ({error!r})"
    if manifest.get("module") != full_name:
        return f"{MANIFEST} describes another module ({manifest.get('module')!r})"
    extension = _extension_path(entry, full_name)
    try:
        with open(extension, "rb") as file:
            found = os.fstat(file.fileno()).st_size
            if found != size:
                return f"the extension module has {found} bytes, {size} were built"
            if hashlib.file_digest(file, "sha256").hexdigest() != digest:
                return "the extension module's SHA-256 hash differs from the one that was built"
    except OSError as error:
        return f"the extension module cannot be read ({error.strerror})"
    try:
        found = (entry / (full_name + ".pyx")).stat().st_size
    except OSError:
        return "the .pyx is missing"
    if found != source_size:
        return f"the .pyx has {found} bytes, {source_size} were compiled"
    return None


def _write_manifest(work: Path, full_name: str, optimize: bool) -> None:
    """Write the manifest of a finished build: the tool chain, and what verifies the entry."""
    extension = _extension_path(work, full_name)
    pyx = work / (full_name + ".pyx")
    with open(extension, "rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    manifest = {
        "module": full_name,
        "extension": {
            "file": extension.name,
            "size": extension.stat().st_size,
            "sha256": digest,
        },
        "source": {"file": pyx.name, "size": pyx.stat().st_size},
        "toolchain": toolchain_description(optimize),
    }
    (work / MANIFEST).write_text(json.dumps(manifest, indent=1))


def _load_entry(entry: Path, full_name: str) -> ModuleType | None:
    """Import a published entry after it verified; None when it is missing or damaged (the
    caller then rebuilds it under the lock and replaces it)."""
    if verify_entry(entry, full_name) is not None:
        return None
    extension = _extension_path(entry, full_name)
    try:
        loader = importlib.machinery.ExtensionFileLoader(full_name, str(extension))
        spec = importlib.util.spec_from_file_location(full_name, str(extension), loader=loader)
        assert spec is not None  # a file location with an explicit loader always has one
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
    except ImportError as error:
        if verify_entry(entry, full_name) is not None:
            return None  # removed or replaced since it verified (evicted, repaired): rebuild
        raise CacheError(
            f"The cached module {extension} is intact (it matches the hash recorded when it was "
            f"built) but cannot be imported: {error}\n"
            "Rebuilding would give the same file. If another machine with other system libraries "
            "shares this cache directory, give each machine its own (SPIKEFORGE_CACHE_DIR); "
            f"otherwise delete {entry} and run again."
        ) from error
    _record_use(entry)
    return module


def _record_use(entry: Path) -> None:
    """Note that an entry was loaded (the manifest's modification time is its last use; once per
    process and entry, as a loaded module is not loaded again)."""
    try:
        os.utime(entry / MANIFEST)
    except OSError:  # a read-only cache still loads
        pass


# ---------------------------------------------------------------------------------------------
# building and publishing an entry
# ---------------------------------------------------------------------------------------------


def _acquire_entry_lock(root: Path, full_name: str) -> FileLock:
    """Take the file lock of an entry (waiting for another process that holds it)."""
    try:
        (root / "locks").mkdir(parents=True, exist_ok=True)
        # released by the thread that publishes the entry, which need not be the one that
        # took the lock
        lock = FileLock(str(root / "locks" / (full_name + ".lock")), thread_local=False)
        lock.acquire()
    except OSError as error:
        raise _unusable_cache(root, error, "taking the lock of a cache entry") from None
    return lock


def _unusable_cache(root: Path, error: OSError, doing: str) -> CacheError:
    """A clear error for an OS error met in the cache directory: the path, the problem, the
    variable that chooses the directory and what to do."""
    path = Path(error.filename) if error.filename else root
    blocking = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None and error.errno in (errno.ENOTDIR, errno.EEXIST):
        problem = f"{blocking} is a file where spikeforge needs a folder"
        advice = "Move that file away"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        problem = f"spikeforge may not write to {path} ({error.strerror})"
        advice = "Make that directory writable"
    elif error.errno in (errno.ENOSPC, errno.EDQUOT):
        problem = f"no space is left for {path} ({error.strerror})"
        advice = "Free space (python -m spikeforge cache prune --max-size 500MB)"
    else:
        problem = f"{path}: {error.strerror or error}"
        advice = "Check that path"
    origin = (
        "set by SPIKEFORGE_CACHE_DIR"
        if os.environ.get("SPIKEFORGE_CACHE_DIR")
        else "the default; SPIKEFORGE_CACHE_DIR chooses another"
    )
    return CacheError(
        f"The compilation cache cannot be used ({doing}): {problem}.\n"
        f"The cache directory is {root} ({origin}).\n"
        f"{advice}, or set the environment variable SPIKEFORGE_CACHE_DIR to a directory you can "
        "write to."
    )


def _builder_tag() -> str:
    """``<pid>@<host>``, part of a build folder's name: who builds there, so that the folder of
    a build whose process died can be recognised and removed."""
    host = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())[:64] or "host"
    return f"{os.getpid()}@{host}"


def _start_build(
    source: str, root: Path, entry: Path, full_name: str, optimize: bool, lock, build: ModuleBuild
):
    """Translate ``source`` now and start its C++ compiler in a temporary directory; returns the
    function that waits for the compiler and publishes the entry atomically (the caller holds
    ``lock``, which that function releases)."""
    maximum_cache_size()  # a bad value is reported now, not after the compiler has run
    started = time.perf_counter()
    try:
        root.mkdir(parents=True, exist_ok=True)
        remove_stale_builds(root, holding=full_name)
        work = Path(tempfile.mkdtemp(prefix=f".build-{full_name}-{_builder_tag()}-", dir=root))
    except OSError as error:
        statistics.build_intervals.append((started, time.perf_counter()))
        raise _unusable_cache(root, error, "creating a build folder") from None
    pyx = work / (full_name + ".pyx")
    cpp = work / (full_name + ".cpp")
    extension = _extension_path(work, full_name)
    command = [
        *compiler_command(),
        *compiler_flags(optimize),
        *(OPENMP_FLAGS if OPENMP_MARKER in source else ()),
        *(fast_math_flags() if FAST_MATH_MARKER in source else ()),
        "-shared",
        f"-I{sysconfig.get_paths()['include']}",
        f"-I{RUNTIME_DIR}",
        str(cpp),
        *(fast_math_libraries() if FAST_MATH_MARKER in source else ()),
        "-o",
        str(extension),
    ]
    try:
        try:
            pyx.write_text(source)
        except OSError as error:
            raise _unusable_cache(root, error, "writing the generated source") from None
        _cythonize(pyx, cpp, full_name)
        log = open(work / "compiler-output.txt", "w+")
        try:
            # output to a file, not a pipe: nobody reads a pipe while the compiler runs
            build.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        except OSError as error:
            log.close()
            configured = os.environ.get("CXX")
            where = f"CXX is set to {configured!r}" if configured else "CXX is not set"
            raise CompilationError(
                f"Cannot run the C++ compiler {compiler_command()[0]!r} ({error}). Install a C++ "
                "compiler (g++ or clang++) or name one in the environment variable CXX "
                f"({where})."
            ) from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        statistics.build_intervals.append((started, time.perf_counter()))
        raise

    def compile_and_publish() -> ModuleType:
        assert build.process is not None
        returncode = build.process.wait()
        log.seek(0)
        output = log.read()
        log.close()
        if returncode != 0:
            kept = _keep_failed(work, root, full_name)
            extra = os.environ.get("SPIKEFORGE_CXXFLAGS", "").strip()
            raise CompilationError(
                f"The C++ compiler failed on the generated module {full_name}.\n"
                + _kept_files(kept, pyx.name, cpp.name)
                + f"Command: {shlex.join(command)}\n"
                + (f"Flags added by SPIKEFORGE_CXXFLAGS: {extra}\n" if extra else "")
                + f"Compiler output (first lines):\n{_first_lines(output)}"
            )
        try:
            _write_manifest(work, full_name, optimize)
        except OSError as error:
            raise _unusable_cache(root, error, "writing the manifest of a new entry") from None
        return _publish(work, entry, full_name)

    def finish() -> ModuleType:
        try:
            module = compile_and_publish()
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
            lock.release()
            statistics.build_intervals.append((started, time.perf_counter()))
        _enforce_size_bound(root, keep={full_name})
        return module

    return finish


def _publish(work: Path, entry: Path, full_name: str) -> ModuleType:
    """Rename a finished build to its entry and import it.

    An entry already there that verifies was published by another process, whose lock did not
    exclude ours (some network file systems): it is used, and never removed, since that process
    may run it.  One that does not verify is renamed aside and deleted, never written in place.
    """
    for _attempt in range(3):
        try:
            os.rename(work, entry)
            break
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                raise _unusable_cache(entry.parent, error, "publishing a new entry") from None
        theirs = _load_entry(entry, full_name)
        if theirs is not None:
            return theirs
        _set_aside(entry, full_name)
    else:
        raise CacheError(f"Cannot publish the new cache entry {entry}: it keeps being replaced.")
    module = _load_entry(entry, full_name)
    if module is None:
        raise CompilationError(f"The freshly compiled module in {entry} does not verify")
    return module


def _set_aside(entry: Path, full_name: str) -> None:
    """Move a damaged entry out of the way by renaming it (a process that mapped one of its files
    keeps a valid mapping), then delete it; unless it verifies after all (another process
    published a good one just before the rename): that one is put back, or left for ``prune``."""
    aside = entry.parent / f".replaced-{entry.name}-{os.urandom(4).hex()}"
    try:
        os.rename(entry, aside)
    except FileNotFoundError:
        return
    except OSError as error:
        raise _unusable_cache(entry.parent, error, "moving a damaged entry aside") from None
    if verify_entry(aside, full_name) is None:
        try:
            os.rename(aside, entry)
        except OSError:
            pass
        return
    _remove_path(aside)


def _remove_path(path: Path) -> None:
    """Delete a folder or file by unlinking (never truncating) what it holds."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _cythonize(pyx: Path, cpp: Path, full_name: str) -> None:
    """Translate one .pyx to C++ in this process (no Cython start-up cost per module)."""
    # deferred: Cython's compiler is slow to import (half a second), and only builds need it
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
            + _kept_files(kept, pyx.name)
            + f"Cython output (first lines):\n{_first_lines(messages.getvalue())}"
        )


def _keep_failed(work: Path, root: Path, full_name: str) -> Path | OSError:
    """Copy a failed build where a user can read it: ``<cache>/failed/<module>``; the error when
    that is impossible (``failed`` is not a folder, the disk is full)."""
    target = root / "failed" / full_name
    try:
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(work, target)
    except OSError as error:
        return error
    return target


def _kept_files(kept: Path | OSError, pyx_name: str, cpp_name: str | None = None) -> str:
    """The lines of a compilation error that say where the generated files are."""
    if isinstance(kept, OSError):
        return (
            f"The generated files could not be kept: copying them to failed/ failed "
            f"({kept.filename}: {kept.strerror}).\n"
        )
    lines = f"Generated Cython: {kept / pyx_name}\n"
    if cpp_name is not None:
        lines += f"Generated C++: {kept / cpp_name}\n"
    return lines


def _first_lines(text: str, count: int = 30) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[:count])


# ---------------------------------------------------------------------------------------------
# maintenance: listing, pruning, clearing, the size bound
# ---------------------------------------------------------------------------------------------

#: The name of an entry folder: ``<name>_<key>``.
_ENTRY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*_[0-9a-f]{24}")
#: A build folder: ``.build-<name>_<key>-<pid>@<host>-<random>``.
_BUILD_NAME = re.compile(r"\.build-([A-Za-z0-9_]+)-(?:([0-9]+)@([A-Za-z0-9._]+)-)?[A-Za-z0-9_]+")
#: An entry renamed aside to be deleted: ``.removed-<name>_<key>-<hex>`` (by :func:`remove_entry`)
#: or ``.replaced-<name>_<key>-<hex>`` (a damaged entry replaced by a build), under its lock.
_ASIDE_NAME = re.compile(r"\.(?:removed|replaced)-([A-Za-z0-9_]+)-[0-9a-f]{8}")
#: A build folder of another machine is taken as dead when nothing in it changed for this long
#: (and its lock is free): whether its process lives cannot be asked.
STALE_BUILD_SECONDS = 24 * 3600


@dataclass
class CacheEntry:
    """One entry of the cache as :func:`cache_entries` lists it."""

    name: str
    path: Path
    #: bytes, all files of the entry
    size: int
    #: when a process last loaded it (``time.time()``; the manifest's modification time)
    last_use: float


@dataclass
class PruneReport:
    """What :func:`prune` or :func:`clear_cache` removed, and what it left because it was in use."""

    removed: list[CacheEntry] = field(default_factory=list)
    #: entries being built or replaced by a process, left alone
    in_use: list[str] = field(default_factory=list)
    #: folders of builds whose process died, and entries left aside by a repair
    leftovers: list[Path] = field(default_factory=list)

    @property
    def removed_size(self) -> int:
        return sum(entry.size for entry in self.removed)


def _folder_size(path: Path) -> int:
    total = 0
    for dirpath, _dirnames, filenames in os.walk(path):
        for filename in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, filename)).st_size
            except OSError:
                pass
    return total


def cache_entries(root: Path | None = None) -> list[CacheEntry]:
    """The entries of the cache (default: :func:`cache_directory`), last used first."""
    root = cache_directory() if root is None else root
    entries = []
    try:
        children = list(os.scandir(root))
    except (FileNotFoundError, NotADirectoryError):
        return []
    for child in children:
        if not _ENTRY_NAME.fullmatch(child.name) or not child.is_dir(follow_symlinks=False):
            continue
        path = Path(child.path)
        try:
            last_use = (path / MANIFEST).stat().st_mtime
        except OSError:
            last_use = child.stat(follow_symlinks=False).st_mtime
        entries.append(CacheEntry(child.name, path, _folder_size(path), last_use))
    return sorted(entries, key=lambda entry: entry.last_use, reverse=True)


def _try_entry_lock(root: Path, full_name: str) -> FileLock | None:
    """The lock of an entry if no process holds it (not waiting), else None."""
    try:
        (root / "locks").mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(root / "locks" / (full_name + ".lock")), timeout=0)
        lock.acquire()
    except Timeout:
        return None
    except OSError as error:
        raise _unusable_cache(root, error, "taking the lock of a cache entry") from None
    return lock


def remove_entry(name: str, root: Path | None = None) -> bool:
    """Remove one entry, unless a process holds its lock (it is being built or replaced):
    renamed aside, then unlinked file by file.  A process that has imported the module keeps
    using it (on POSIX a mapped file stays valid once unlinked).  True if it was removed."""
    root = cache_directory() if root is None else root
    lock = _try_entry_lock(root, name)
    if lock is None:
        return False
    try:
        aside = root / f".removed-{name}-{os.urandom(4).hex()}"
        try:
            os.rename(root / name, aside)
        except FileNotFoundError:
            return False
        except OSError as error:
            raise _unusable_cache(root, error, "removing an entry") from None
        _remove_path(aside)
    finally:
        lock.release()
    return True


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _newest_change(path: Path) -> float:
    newest = 0.0
    for dirpath, _dirnames, filenames in os.walk(path):
        for name in [dirpath, *(os.path.join(dirpath, f) for f in filenames)]:
            try:
                newest = max(newest, os.lstat(name).st_mtime)
            except OSError:
                pass
    return newest


def remove_stale_builds(root: Path | None = None, holding: str | None = None) -> list[Path]:
    """Remove the build folders (``.build-*``) of builds whose process died (killed mid-compile).

    A folder is stale when nobody holds its entry's lock and either its process is gone (a
    build of this machine) or nothing in it changed for :data:`STALE_BUILD_SECONDS` (a build of
    another machine sharing the cache, whose process cannot be asked).  ``holding`` names an
    entry whose lock the caller holds.  Returns the folders removed.
    """
    root = cache_directory() if root is None else root
    this_host = _builder_tag().split("@", 1)[1]
    removed = []
    for path in sorted(root.glob(".build-*")):
        match = _BUILD_NAME.fullmatch(path.name)
        if match is None:
            continue
        full_name, pid, host = match.groups()
        dead = pid is not None and host == this_host and not _process_alive(int(pid))
        # a process of another machine cannot be asked; one of this machine may have had its
        # id reused: both are taken as dead once nothing changed in the folder for long
        if not dead and time.time() - _newest_change(path) < STALE_BUILD_SECONDS:
            continue
        lock = None if full_name == holding else _try_entry_lock(root, full_name)
        if lock is None and full_name != holding:
            continue
        try:
            _remove_path(path)
            removed.append(path)
        finally:
            if lock is not None:
                lock.release()
    return removed


def prune(
    max_size: int | None = None,
    older_than: float | None = None,
    root: Path | None = None,
    keep: Collection[str] = frozenset(),
) -> PruneReport:
    """Remove the folders of dead builds, entries not used for ``older_than`` seconds and, while
    the entries take more than ``max_size`` bytes, the least recently used ones.

    Entries being built or replaced (their lock is held) and those named in ``keep`` stay.
    """
    root = cache_directory() if root is None else root
    report = PruneReport()
    report.leftovers += remove_stale_builds(root)
    for path in [*root.glob(".removed-*"), *root.glob(".replaced-*")]:
        match = _ASIDE_NAME.fullmatch(path.name)
        lock = _try_entry_lock(root, match.group(1)) if match else None
        if lock is None:  # a process is removing or replacing that entry right now
            continue
        try:
            _remove_path(path)
            report.leftovers.append(path)
        finally:
            lock.release()
    entries = cache_entries(root)
    total = sum(entry.size for entry in entries)
    for entry in reversed(entries):  # least recently used first
        if entry.name in keep:
            continue
        too_old = older_than is not None and time.time() - entry.last_use > older_than
        too_big = max_size is not None and total > max_size
        if not (too_old or too_big):
            continue
        if remove_entry(entry.name, root):
            report.removed.append(entry)
            total -= entry.size
        else:
            report.in_use.append(entry.name)
    if older_than is not None and (root / "failed").is_dir():
        for failed in (root / "failed").iterdir():
            if time.time() - _newest_change(failed) > older_than:
                _remove_path(failed)
                report.leftovers.append(failed)
    return report


def _enforce_size_bound(root: Path, keep: set[str]) -> None:
    """Evict least recently used entries while the entries exceed ``SPIKEFORGE_CACHE_MAX_SIZE``
    (after a build; nothing to do when it is not set).  Best effort: a failure leaves the cache
    larger, never the build failed."""
    limit = maximum_cache_size()
    if limit is None:
        return
    try:
        prune(max_size=limit, root=root, keep=keep)
    except (OSError, CacheError):
        pass


def clear_cache(root: Path | None = None) -> PruneReport:
    """Delete every cache entry that no process is building, the kept failed builds, the folders
    of dead builds and the symbolic cache.  Lock files stay (deleting one that a process is
    about to lock would let two processes build at once).  Modules already imported, by this
    process or others, stay usable; this process keeps using the ones it imported."""
    root = cache_directory() if root is None else root
    report = prune(max_size=0, root=root)
    for folder in ("failed", "symbolic"):
        if (root / folder).exists():
            report.leftovers.append(root / folder)
            _remove_path(root / folder)
    return report
