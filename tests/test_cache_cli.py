"""The cache command, ``python -m spikeforge cache list|clear|prune``, on a temporary cache of
made-up entries (nothing is compiled): what it prints and what it removes."""

import os
import subprocess
import sys
import time

import pytest
from filelock import FileLock

from spikeforge.__main__ import main
from spikeforge.codegen import cache
from spikeforge.codegen.cache_admin import parse_duration

HOUR, DAY = 3600, 86400


def _entry(root, name, size, age):
    """An entry folder of ``size`` bytes in all, last used ``age`` seconds ago."""
    entry = root / name
    entry.mkdir(parents=True)
    (entry / "manifest.json").write_text("{}")
    (entry / f"{name}.so").write_bytes(b"\0" * (size - 2))
    used = time.time() - age
    os.utime(entry / "manifest.json", (used, used))
    return entry, used


@pytest.fixture
def entries(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKEFORGE_CACHE_DIR", str(tmp_path))
    made = {
        "recent": _entry(tmp_path, "network_" + "a" * 24, 1_000_000, HOUR),
        "old": _entry(tmp_path, "set_v_" + "b" * 24, 200_000, 40 * DAY),
        "older_than_recent": _entry(tmp_path, "network_" + "c" * 24, 2_400_000, 10 * DAY),
    }
    (tmp_path / "locks").mkdir()
    return tmp_path, made


def _row(entry, used, size):
    return f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(used)):<17} {size:>9}  {entry.name}"


def _output(capsys, *argv):
    assert main(list(argv)) == 0
    return capsys.readouterr().out.splitlines()


def test_list_shows_entries_last_used_first_with_sizes_and_total(entries, capsys):
    root, made = entries
    (root / "failed" / "network_broken").mkdir(parents=True)
    assert _output(capsys, "cache", "list") == [
        f"Cache directory: {root}",
        "LAST USE               SIZE  ENTRY",
        _row(*made["recent"], "1.0 MB"),
        _row(*made["older_than_recent"], "2.4 MB"),
        _row(*made["old"], "200.0 kB"),
        "3 entries, 3.6 MB in total",
        f"Failed builds kept in {root / 'failed'}: 1",
    ]


def test_list_of_an_empty_or_missing_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SPIKEFORGE_CACHE_DIR", str(tmp_path / "nothing here"))
    assert _output(capsys, "cache", "list") == [
        f"Cache directory: {tmp_path / 'nothing here'}",
        "0 entries, 0 B in total",
    ]


def test_prune_older_than_removes_entries_unused_since(entries, capsys):
    root, made = entries
    assert _output(capsys, "cache", "prune", "--older-than", "30d") == [
        f"Removed 1 entry (200.0 kB) from {root}",
        "Left: 2 entries, 3.4 MB",
    ]
    assert not made["old"][0].exists() and made["recent"][0].exists()


def test_prune_max_size_removes_least_recently_used_first(entries, capsys):
    root, made = entries
    assert _output(capsys, "cache", "prune", "--max-size", "2.5MB") == [
        f"Removed 2 entries (2.6 MB) from {root}",
        "Left: 1 entry, 1.0 MB",
    ]
    assert [entry.name for entry in cache.cache_entries(root)] == [made["recent"][0].name]


def test_prune_removes_folders_of_dead_builds_only(entries, capsys):
    root, made = entries
    dead_pid = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    tag = cache._builder_tag()
    dead = root / f".build-{made['old'][0].name}-{tag.replace(str(os.getpid()), dead_pid, 1)}-x1"
    live = root / f".build-{made['recent'][0].name}-{tag}-x2"
    dead.mkdir()
    live.mkdir()
    assert _output(capsys, "cache", "prune") == [
        f"Removed 0 entries (0 B) from {root}",
        "Removed 1 other folder (dead builds, failed builds, symbolic results, entries set aside "
        "by a repair)",
        "Left: 3 entries, 3.6 MB",
    ]
    assert not dead.exists() and live.exists()


def test_clear_removes_everything_but_entries_being_built_and_lock_files(entries, capsys):
    root, made = entries
    (root / "symbolic").mkdir()
    (root / "symbolic" / "result.pickle").write_bytes(b"x")
    (root / "locks" / "network_x.lock").write_text("")
    building = made["older_than_recent"][0].name
    with FileLock(str(root / "locks" / f"{building}.lock")):
        lines = _output(capsys, "cache", "clear")
    assert lines == [
        f"Removed 2 entries (1.2 MB) from {root}",
        "Removed 1 other folder (dead builds, failed builds, symbolic results, entries set aside "
        "by a repair)",
        f"Kept {building}: a process is building it",
        "Left: 1 entry, 2.4 MB",
    ]
    assert sorted(path.name for path in root.iterdir()) == ["locks", building]
    assert (root / "locks" / "network_x.lock").exists()


def test_bad_arguments_are_named(entries, capsys):
    with pytest.raises(SystemExit) as info:
        main(["cache", "prune", "--max-size", "lots"])
    assert info.value.code == 2
    assert "--max-size: 'lots' is not a size" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["cache", "prune", "--older-than", "3 fortnights"])
    assert "--older-than: '3 fortnights' is not a duration" in capsys.readouterr().err


def test_an_unusable_cache_is_reported_not_raised(tmp_path, monkeypatch, capsys):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "locks").write_text("")
    _entry(tmp_path / "cache", "network_" + "d" * 24, 100, 0)
    monkeypatch.setenv("SPIKEFORGE_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["cache", "clear"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("spikeforge cache clear: The compilation cache cannot be used")
    assert f"{tmp_path / 'cache' / 'locks'} is a file where spikeforge needs a folder" in error


def test_the_module_runs_as_a_program(entries):
    root, made = entries
    result = subprocess.run(
        [sys.executable, "-m", "spikeforge", "cache", "list"],
        env=dict(os.environ, SPIKEFORGE_CACHE_DIR=str(root)),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "3 entries, 3.6 MB in total"


def test_sizes_and_durations():
    assert cache.parse_size("500MB") == 500_000_000
    assert cache.parse_size("1.5GiB") == 3 * 2**29
    assert cache.parse_size(" 2 g ") == 2_000_000_000
    assert cache.parse_size("1000") == 1000
    for bad in ("", "MB", "5 XB", "-1MB"):
        with pytest.raises(ValueError, match="is not a size"):
            cache.parse_size(bad)
    assert [cache.format_size(n) for n in (0, 999, 1000, 45_800, 1_234_567, 3.4e9, 5e12)] == [
        "0 B",
        "999 B",
        "1.0 kB",
        "45.8 kB",
        "1.2 MB",
        "3.4 GB",
        "5000.0 GB",
    ]
    assert parse_duration("30d") == 30 * DAY and parse_duration("1.5h") == 1.5 * HOUR
    assert parse_duration("2w") == 14 * DAY
