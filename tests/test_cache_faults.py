"""Fault injection for the compilation cache: whatever happens to the files of an entry, a load
never crashes and never runs a damaged module; it rebuilds the entry and runs the fresh one.

Loads of damaged entries run in subprocesses, so that a crash (SIGBUS from a truncated
extension, SIGILL from garbage code) fails a test instead of killing pytest.  The C++ compiler
is a wrapper around the real one (``CXX``) that can record its calls, wait for a file before
compiling, or block until it is killed, so that concurrent and killed builds are arranged by
events, not by timing.
"""

import json
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from filelock import FileLock

from spikeforge.codegen import cache

SOURCE = "def answer():\n    return 42\n\ndef other():\n    return sum(range(10))\n"
NAME = "fault_test"

#: Loads SOURCE from the cache of $SPIKEFORGE_CACHE_DIR and reports what happened.
LOAD_SCRIPT = textwrap.dedent(f"""
    import json, os
    from spikeforge.codegen import cache
    module = cache.load_module({SOURCE!r}, {NAME!r}, optimize=False)
    print(json.dumps({{"compiled": cache.statistics.compiled, "loaded": cache.statistics.loaded,
                      "answer": module.answer(), "other": module.other(),
                      "inode": os.stat(module.__file__).st_ino}}))
""")

#: Checks copies of an entry, each damaged by a function of the test, without importing them
#: unless they verify: prints one line per case, so a crash names the case.
VERIFY_SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from spikeforge.codegen import cache
    for line in sys.stdin:
        case, entry, name = json.loads(line)
        problem = cache.verify_entry(Path(entry), name)
        module = cache._load_entry(Path(entry), name)
        print(json.dumps([case, problem, module is not None]), flush=True)
""")

#: Imports an extension without any check (what the cache did before): the premise of the
#: tests, that these faults crash an unguarded loader.
UNGUARDED_IMPORT = textwrap.dedent("""
    import importlib.machinery, importlib.util, sys
    name, path = sys.argv[1], sys.argv[2]
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    print(module.answer())
""")


def _wrapper_compiler(directory: Path) -> Path:
    """A C++ compiler wrapper: logs each compile to $FAULT_LOG, waits for the file
    $FAULT_WAIT_FOR before compiling, or with $FAULT_BLOCK creates that file and sleeps until
    killed.  The version query passes straight through, so the cache key is the same whatever
    the variables say."""
    wrapper = directory / "wrapper-cxx"
    real = " ".join(cache.compiler_command())
    wrapper.write_text(
        textwrap.dedent(f"""\
            #!{sys.executable}
            import os, subprocess, sys, time
            if "-shared" in sys.argv:
                if os.environ.get("FAULT_LOG"):
                    with open(os.environ["FAULT_LOG"], "a") as log:
                        log.write(str(os.getpid()) + "\\n")
                if os.environ.get("FAULT_BLOCK"):
                    open(os.environ["FAULT_BLOCK"], "w").close()
                    time.sleep(600)
                wait_for = os.environ.get("FAULT_WAIT_FOR")
                deadline = time.time() + 120
                while wait_for and not os.path.exists(wait_for) and time.time() < deadline:
                    time.sleep(0.05)
            sys.exit(subprocess.call({real!r}.split() + sys.argv[1:]))
        """)
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return wrapper


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    """A cache holding one good entry of SOURCE, built with the wrapper compiler: copy it, then
    damage the copy."""
    base = tmp_path_factory.mktemp("golden")
    wrapper = _wrapper_compiler(base)
    env = _environment(base / "cache", wrapper)
    report = _run(LOAD_SCRIPT, env)
    assert report["answer"] == 42 and len(report["compiled"]) == 1
    (entry,) = (base / "cache").glob(f"{NAME}_*")
    return {"cache": base / "cache", "entry": entry, "wrapper": wrapper}


def _environment(cache_dir: Path, wrapper: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAULT_", "SPIKEFORGE_"))}
    return dict(env, SPIKEFORGE_CACHE_DIR=str(cache_dir), CXX=str(wrapper), **extra)


def _run(script: str, env: dict, *args, expect_success: bool = True) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if not expect_success:
        return {"returncode": result.returncode, "stderr": result.stderr}
    assert result.returncode == 0, f"exit status {result.returncode}\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def _copy_cache(golden: dict, target: Path) -> Path:
    """A copy of the golden cache; returns the entry in it."""
    shutil.copytree(golden["cache"], target)
    return target / golden["entry"].name


def _extension(entry: Path) -> Path:
    (extension,) = entry.glob("*.so")
    return extension


def _text_section(path: Path) -> tuple[int, int]:
    """Offset and size of the ``.text`` section of a 64-bit little-endian ELF file."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1
    (section_offset,) = struct.unpack_from("<Q", data, 0x28)
    entry_size, count, names_index = struct.unpack_from("<HHH", data, 0x3A)

    def header(index):
        return struct.unpack_from("<IIQQQQ", data, section_offset + index * entry_size)

    names_offset = header(names_index)[4]
    for index in range(count):
        name, _type, _flags, _address, offset, size = header(index)
        end = data.index(b"\0", names_offset + name)
        if data[names_offset + name : end] == b".text":
            return offset, size
    raise AssertionError(".text not found")


linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="ELF files and signals of Linux"
)


# ---------------------------------------------------------------------------------------------
# damaged files
# ---------------------------------------------------------------------------------------------


@linux_only
def test_truncated_and_overwritten_extensions_are_rejected_before_import(golden, tmp_path):
    extension = _extension(golden["entry"])
    size = extension.stat().st_size
    sizes = sorted(
        {0, 1, 64, 999, 1000, 1001, 2000, 4096}
        | {size * k // 16 for k in range(1, 16)}  # between 1000 bytes and 3/4, and beyond
        | {size - 4096, size - 1}
    )
    text_offset, text_size = _text_section(extension)
    cases = []
    for truncated in sizes:
        entry = _copy_cache(golden, tmp_path / f"truncated_{truncated}")
        os.truncate(_extension(entry), truncated)
        cases.append((f"truncated to {truncated}", str(entry), entry.name))
    for label, offset in (("start", 0), ("middle", text_size // 2)):
        entry = _copy_cache(golden, tmp_path / f"code_{label}")
        with open(_extension(entry), "r+b") as file:  # ud2 instructions over the code
            file.seek(text_offset + offset)
            file.write(b"\x0f\x0b" * min(256, (text_size - offset) // 2))
        cases.append((f"garbage code at the {label} of .text", str(entry), entry.name))
    entry = _copy_cache(golden, tmp_path / "one_bit")
    with open(_extension(entry), "r+b") as file:
        file.seek(size // 2)
        byte = file.read(1)
        file.seek(size // 2)
        file.write(bytes([byte[0] ^ 1]))
    cases.append(("one bit flipped", str(entry), entry.name))

    result = subprocess.run(
        [sys.executable, "-c", VERIFY_SCRIPT],
        input="".join(json.dumps(case) + "\n" for case in cases),
        env=_environment(tmp_path, golden["wrapper"]),
        capture_output=True,
        text=True,
        timeout=300,
    )
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    checked = [case for case, _problem, _loaded in reports]
    assert result.returncode == 0, (
        f"the check crashed (status {result.returncode}) after {checked[-1:]}: {result.stderr}"
    )
    assert len(reports) == len(cases)
    for case, problem, loaded in reports:
        assert problem is not None and not loaded, case
        if case.startswith("truncated"):
            assert f"{int(case.split()[-1])} bytes, {size} were built" in problem
        else:
            assert "SHA-256" in problem


@linux_only
def test_premise_an_unguarded_import_of_these_files_crashes(golden, tmp_path):
    # Not a test of spikeforge: it shows that the faults above are real (what the cache did
    # before it verified entries), so that their rejection means something.
    extension = _extension(golden["entry"])
    name = golden["entry"].name
    truncated = tmp_path / "truncated.so"
    shutil.copy(extension, truncated)
    os.truncate(truncated, extension.stat().st_size // 2)
    garbage = tmp_path / "garbage.so"
    shutil.copy(extension, garbage)
    offset, size = _text_section(garbage)
    with open(garbage, "r+b") as file:
        file.seek(offset)
        file.write(b"\x0f\x0b" * (size // 2))
    outcomes = {
        path.name: subprocess.run(
            [sys.executable, "-c", UNGUARDED_IMPORT, name, str(path)], capture_output=True
        ).returncode
        for path in (truncated, garbage)
    }
    assert outcomes == {"truncated.so": -signal.SIGBUS, "garbage.so": -signal.SIGILL}


@linux_only
@pytest.mark.parametrize("damage", ["truncate", "garbage code", "delete .so", "delete manifest"])
def test_a_damaged_entry_is_rebuilt_by_renaming_never_written_in_place(golden, tmp_path, damage):
    entry = _copy_cache(golden, tmp_path / "cache")
    extension = _extension(entry)
    if damage == "truncate":
        os.truncate(extension, extension.stat().st_size // 2)
    elif damage == "garbage code":
        offset, size = _text_section(extension)
        with open(extension, "r+b") as file:
            file.seek(offset)
            file.write(b"\x0f\x0b" * (size // 2))
    elif damage == "delete .so":
        extension.unlink()
    else:
        (entry / "manifest.json").unlink()
    damaged = extension.read_bytes() if extension.exists() else None
    held = open(extension, "rb") if damaged is not None else None  # as a process that mapped it
    try:
        report = _run(LOAD_SCRIPT, _environment(tmp_path / "cache", golden["wrapper"]))
        assert report["compiled"] == [entry.name]  # rebuilt ...
        assert report["answer"] == 42 and report["other"] == 45  # ... and working
        assert cache.verify_entry(entry) is None
        if held is not None:
            # the damaged file was renamed away and unlinked, not rewritten: its inode is not
            # the new extension's, and still holds the damaged bytes
            assert os.fstat(held.fileno()).st_ino != report["inode"]
            assert held.read() == damaged
    finally:
        if held is not None:
            held.close()
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        [entry.name, "locks"]
    )  # no build folder or damaged entry left behind
    again = _run(LOAD_SCRIPT, _environment(tmp_path / "cache", golden["wrapper"]))
    assert again["compiled"] == [] and again["loaded"] == [entry.name]


@pytest.mark.parametrize(
    "damage, problem",
    [
        ("delete .pyx", "the .pyx is missing"),
        ("shorten .pyx", "the .pyx has"),
        ("manifest without hash", "lacks the extension's hash"),
        ("manifest of another module", "describes another module"),
        ("manifest not JSON", "cannot be read"),
        ("entry is a file", "not a folder"),
        ("extension is a folder", "cannot be read"),
    ],
)
def test_every_missing_or_wrong_file_fails_verification(golden, tmp_path, damage, problem):
    entry = _copy_cache(golden, tmp_path / "cache")
    assert cache.verify_entry(entry) is None
    manifest = json.loads((entry / "manifest.json").read_text())
    (pyx,) = entry.glob("*.pyx")
    if damage == "delete .pyx":
        pyx.unlink()
    elif damage == "shorten .pyx":
        pyx.write_text(pyx.read_text()[:-3])
    elif damage == "manifest without hash":  # an entry of an older spikeforge
        del manifest["extension"]
        (entry / "manifest.json").write_text(json.dumps(manifest))
    elif damage == "manifest of another module":
        manifest["module"] = "other_" + manifest["module"]
        (entry / "manifest.json").write_text(json.dumps(manifest))
    elif damage == "manifest not JSON":
        (entry / "manifest.json").write_text('{"module": ')
    elif damage == "entry is a file":
        shutil.rmtree(entry)
        entry.write_text("not a folder")
    else:
        extension = _extension(entry)
        extension.unlink()
        extension.mkdir()
    assert problem in cache.verify_entry(entry, entry.name)


def test_an_entry_path_taken_by_a_file_is_replaced(golden, tmp_path):
    entry = _copy_cache(golden, tmp_path / "cache")
    shutil.rmtree(entry)
    entry.write_text("in the way")
    report = _run(LOAD_SCRIPT, _environment(tmp_path / "cache", golden["wrapper"]))
    assert report["compiled"] == [entry.name] and report["answer"] == 42
    assert cache.verify_entry(entry) is None


# ---------------------------------------------------------------------------------------------
# unusable cache paths and bad settings
# ---------------------------------------------------------------------------------------------


def _read_only_command(directory: Path) -> list[str] | None:
    """A command prefix under which ``directory`` cannot be written: as a user, the directory is
    made read-only; as root (whom permissions do not stop), it is bind-mounted read-only in a
    private mount namespace.  None when neither is possible."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        return []
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    prefix = [
        unshare,
        "-m",
        "sh",
        "-c",
        'mount --bind -o ro "$0" "$0" && exec "$@"',
        str(directory),
    ]
    probe = subprocess.run([*prefix, "touch", str(directory / "probe")], capture_output=True)
    if probe.returncode == 0 or (directory / "probe").exists():
        (directory / "probe").unlink(missing_ok=True)
        return None
    return prefix


def test_a_read_only_cache_loads_its_entries_and_says_why_it_cannot_build(golden, tmp_path):
    entry = _copy_cache(golden, tmp_path / "cache")
    prefix = _read_only_command(tmp_path / "cache")
    if prefix is None:
        pytest.skip("cannot make a read-only directory here (root without mount namespaces)")
    env = _environment(tmp_path / "cache", golden["wrapper"])
    try:
        loaded = subprocess.run(
            [*prefix, sys.executable, "-c", LOAD_SCRIPT], env=env, capture_output=True, text=True
        )
        assert loaded.returncode == 0, loaded.stderr
        report = json.loads(loaded.stdout.strip().splitlines()[-1])
        assert report["loaded"] == [entry.name] and report["answer"] == 42
        new_module = LOAD_SCRIPT.replace("return 42", "return 43")
        failed = subprocess.run(
            [*prefix, sys.executable, "-c", new_module], env=env, capture_output=True, text=True
        )
    finally:
        (tmp_path / "cache").chmod(0o755)
    assert failed.returncode == 1
    message = failed.stderr.strip().splitlines()
    assert any(line.startswith("spikeforge.codegen.cache.CacheError") for line in message)
    text = failed.stderr
    assert f"spikeforge may not write to {tmp_path / 'cache'}" in text
    assert "SPIKEFORGE_CACHE_DIR" in text and "writable" in text


@pytest.mark.parametrize("blocked", ["cache directory", "locks", "parent"])
def test_a_file_where_a_folder_should_be_is_named(tmp_path, monkeypatch, blocked):
    root = tmp_path / "parent" / "cache"
    if blocked == "cache directory":
        root.parent.mkdir()
        root.write_text("")
        in_the_way = root
    elif blocked == "locks":
        root.mkdir(parents=True)
        (root / "locks").write_text("")
        in_the_way = root / "locks"
    else:
        root.parent.write_text("")
        in_the_way = root.parent
    monkeypatch.setenv("SPIKEFORGE_CACHE_DIR", str(root))
    with pytest.raises(cache.CacheError) as info:
        cache.load_module("def f():\n    return 7\n", "blocked_path_test", optimize=False)
    message = str(info.value)
    assert f"{in_the_way} is a file where spikeforge needs a folder" in message
    assert "SPIKEFORGE_CACHE_DIR" in message and "Move that file away" in message


def test_a_failed_folder_in_the_way_still_gives_the_compile_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKEFORGE_CACHE_DIR", str(tmp_path))
    (tmp_path / "failed").write_text("")
    with pytest.raises(cache.CompilationError, match="Cython failed") as info:
        cache.load_module("def f(:\n    pass\n", "failed_in_the_way_test", optimize=False)
    assert "The generated files could not be kept: copying them to failed/ failed" in str(
        info.value
    )


@pytest.mark.parametrize(
    "variable, value, expected",
    [
        ("SPIKEFORGE_CXXFLAGS", '-DNAME="unbalanced', "SPIKEFORGE_CXXFLAGS="),
        ("CXX", "g++ 'unbalanced", "CXX="),
        ("SPIKEFORGE_COMPILE_JOBS", "four", "SPIKEFORGE_COMPILE_JOBS='four' must be a whole"),
        ("SPIKEFORGE_COMPILE_JOBS", "0", "SPIKEFORGE_COMPILE_JOBS='0' must be a whole number"),
        ("SPIKEFORGE_CACHE_MAX_SIZE", "lots", "SPIKEFORGE_CACHE_MAX_SIZE: 'lots' is not a size"),
    ],
)
def test_bad_settings_name_their_variable(tmp_path, monkeypatch, variable, value, expected):
    monkeypatch.setenv("SPIKEFORGE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv(variable, value)
    monkeypatch.setattr(cache, "_toolchain_fields", None)
    with pytest.raises(ValueError) as info:
        cache.start_module("def f():\n    return 8\n", "bad_setting_test", optimize=False)
    assert expected in str(info.value)
    assert not list(tmp_path.glob(".build-*"))


def test_flags_the_compiler_rejects_are_named_with_their_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKEFORGE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("SPIKEFORGE_CXXFLAGS", "--no-such-flag-anywhere")
    with pytest.raises(cache.CompilationError) as info:
        cache.load_module("def f():\n    return 9\n", "rejected_flag_test", optimize=False)
    assert "Flags added by SPIKEFORGE_CXXFLAGS: --no-such-flag-anywhere" in str(info.value)


# ---------------------------------------------------------------------------------------------
# concurrent, killed and unlocked builders
# ---------------------------------------------------------------------------------------------


def test_concurrent_builders_compile_once(golden, tmp_path):
    log = tmp_path / "compiles.log"
    env = _environment(tmp_path / "cache", golden["wrapper"], FAULT_LOG=str(log))
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", LOAD_SCRIPT], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    reports = []
    for process in processes:
        out, _ = process.communicate(timeout=300)
        assert process.returncode == 0
        reports.append(json.loads(out.strip().splitlines()[-1]))
    assert len(log.read_text().splitlines()) == 1
    assert sum(len(report["compiled"]) for report in reports) == 1
    assert {report["answer"] for report in reports} == {42}
    assert len({report["inode"] for report in reports}) == 1  # all run the one published file
    assert not list((tmp_path / "cache").glob(".build-*"))


def test_a_killed_build_leaves_a_folder_that_the_next_build_removes(golden, tmp_path):
    started = tmp_path / "compiler-started"
    env = _environment(tmp_path / "cache", golden["wrapper"], FAULT_BLOCK=str(started))
    builder = subprocess.Popen([sys.executable, "-c", LOAD_SCRIPT], env=env, start_new_session=True)
    deadline = time.time() + 120
    while not started.exists() and builder.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert started.exists(), "the builder never reached its compiler"
    os.killpg(builder.pid, signal.SIGKILL)  # the builder and its compiler, mid-compile
    builder.wait()
    (stale,) = (tmp_path / "cache").glob(".build-*")
    assert f"-{builder.pid}@" in stale.name
    report = _run(LOAD_SCRIPT, _environment(tmp_path / "cache", golden["wrapper"]))
    assert len(report["compiled"]) == 1 and report["answer"] == 42
    assert not stale.exists() and not list((tmp_path / "cache").glob(".build-*"))


def test_a_live_build_folder_is_never_removed_as_stale(tmp_path):
    # a folder named for this (live) process, and one of a dead process whose lock is held
    (tmp_path / "locks").mkdir()
    live = tmp_path / f".build-live_{'0' * 24}-{cache._builder_tag()}-abc"
    live.mkdir()
    dead_pid = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    tag = cache._builder_tag().replace(str(os.getpid()), dead_pid, 1)
    locked = tmp_path / f".build-locked_{'1' * 24}-{tag}-abc"
    locked.mkdir()
    dead = tmp_path / f".build-dead_{'2' * 24}-{tag}-abc"
    dead.mkdir()
    lock = FileLock(str(tmp_path / "locks" / f"locked_{'1' * 24}.lock"))
    with lock:
        assert cache.remove_stale_builds(tmp_path) == [dead]
    assert live.exists() and locked.exists() and not dead.exists()


@linux_only
def test_a_publish_that_finds_an_entry_uses_it_and_never_removes_it(golden, tmp_path):
    # Two processes whose locks do not exclude each other (as on some network file systems)
    # build the same module: the second to finish finds the first's entry, which the first is
    # running, and must use it rather than pull it from under that process.
    unlocked = textwrap.dedent("""
        import sys
        from spikeforge.codegen import cache
        class NoLock:  # a lock that does not exclude
            def __init__(self, *args, **kwargs): pass
            def acquire(self, *args, **kwargs): return self
            def release(self, *args, **kwargs): pass
        cache.FileLock = NoLock
    """)
    running = unlocked + textwrap.dedent(f"""
        import json, os
        module = cache.load_module({SOURCE!r}, {NAME!r}, optimize=False)
        print(json.dumps({{"inode": os.stat(module.__file__).st_ino}}), flush=True)
        sys.stdin.readline()  # the other process publishes meanwhile
        print(json.dumps({{"other": module.other(), "answer": module.answer()}}), flush=True)
    """)
    cache_dir = tmp_path / "cache"
    manifest = cache_dir / golden["entry"].name / "manifest.json"
    late = subprocess.Popen(
        [sys.executable, "-c", unlocked + LOAD_SCRIPT],
        env=_environment(cache_dir, golden["wrapper"], FAULT_WAIT_FOR=str(manifest)),
        stdout=subprocess.PIPE,
        text=True,
    )
    first = subprocess.Popen(
        [sys.executable, "-c", running],
        env=_environment(cache_dir, golden["wrapper"]),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    published = json.loads(first.stdout.readline())
    out, _ = late.communicate(timeout=300)
    assert late.returncode == 0
    late_report = json.loads(out.strip().splitlines()[-1])
    assert late_report["compiled"] == [golden["entry"].name]  # it did compile ...
    assert late_report["inode"] == published["inode"]  # ... but runs the published entry
    assert (cache_dir / golden["entry"].name / _extension(golden["entry"]).name).stat().st_ino == (
        published["inode"]
    )
    out, _ = first.communicate("go\n", timeout=60)
    assert first.returncode == 0 and json.loads(out) == {"other": 45, "answer": 42}
    assert not list(cache_dir.glob(".build-*")) and not list(cache_dir.glob(".replaced-*"))


# ---------------------------------------------------------------------------------------------
# the size bound
# ---------------------------------------------------------------------------------------------


@linux_only
def test_eviction_under_a_size_bound_while_another_process_runs_the_entry(golden, tmp_path):
    cache_dir = tmp_path / "cache"
    entry = _copy_cache(golden, cache_dir)
    user = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
                import json, sys
                from spikeforge.codegen import cache
                module = cache.load_module({SOURCE!r}, {NAME!r}, optimize=False)
                print(module.answer(), flush=True)
                sys.stdin.readline()  # the entry is evicted meanwhile
                print(json.dumps([module.other(), module.answer()]), flush=True)
            """),
        ],
        env=_environment(cache_dir, golden["wrapper"]),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert user.stdout.readline().strip() == "42"
    os.utime(entry / "manifest.json", (1, 1))  # the least recently used entry
    bounded = _environment(cache_dir, golden["wrapper"], SPIKEFORGE_CACHE_MAX_SIZE="1kB")
    newer = _run(LOAD_SCRIPT.replace("return 42", "return 44"), bounded)
    assert newer["answer"] == 44
    assert not entry.exists()  # evicted ...
    (kept,) = cache_dir.glob(f"{NAME}_*")  # ... the new entry stays, though above the bound
    assert kept.name == newer["compiled"][0]
    out, _ = user.communicate("go\n", timeout=60)
    assert user.returncode == 0 and json.loads(out) == [45, 42]  # ... and its user runs on


def test_eviction_skips_an_entry_being_built(golden, tmp_path):
    entry = _copy_cache(golden, tmp_path / "cache")
    lock = FileLock(str(tmp_path / "cache" / "locks" / f"{entry.name}.lock"))
    with lock:  # as a process rebuilding it
        report = cache.prune(max_size=0, root=tmp_path / "cache")
    assert report.removed == [] and report.in_use == [entry.name] and entry.exists()
    report = cache.prune(max_size=0, root=tmp_path / "cache")
    assert [removed.name for removed in report.removed] == [entry.name] and not entry.exists()


def test_setting_aside_deletes_a_damaged_entry_but_never_an_intact_one(golden, tmp_path):
    # an entry that another process made intact just before the rename goes back in place
    entry = _copy_cache(golden, tmp_path / "intact")
    inode = _extension(entry).stat().st_ino
    cache._set_aside(entry, entry.name)
    assert cache.verify_entry(entry) is None and _extension(entry).stat().st_ino == inode
    assert not list((tmp_path / "intact").glob(".replaced-*"))
    damaged = _copy_cache(golden, tmp_path / "damaged")
    os.truncate(_extension(damaged), 5000)
    cache._set_aside(damaged, damaged.name)
    assert not damaged.exists() and not list((tmp_path / "damaged").glob(".replaced-*"))


def test_leftovers_of_a_repair_are_removed_unless_a_process_is_at_work_on_them(tmp_path):
    (tmp_path / "locks").mkdir()
    replaced = tmp_path / f".replaced-network_{'a' * 24}-0011aabb"
    removing = tmp_path / f".removed-network_{'b' * 24}-0011aabb"
    replaced.mkdir()
    removing.mkdir()
    with FileLock(str(tmp_path / "locks" / f"network_{'b' * 24}.lock")):
        report = cache.prune(root=tmp_path)
    assert report.leftovers == [replaced] and not replaced.exists() and removing.exists()


def test_a_build_folder_of_another_machine_is_stale_only_after_a_day_without_change(tmp_path):
    recent = tmp_path / f".build-net_{'3' * 24}-4242@elsewhere.example-abc"
    old = tmp_path / f".build-net_{'4' * 24}-4242@elsewhere.example-abc"
    for folder in (recent, old):
        folder.mkdir()
        (folder / "net.cpp").write_text("")
    two_days_ago = time.time() - 2 * 86400
    for path in (old / "net.cpp", old):
        os.utime(path, (two_days_ago, two_days_ago))
    assert cache.remove_stale_builds(tmp_path) == [old]
    assert recent.exists() and not old.exists()
