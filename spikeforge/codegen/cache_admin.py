"""The ``cache`` command: ``python -m spikeforge cache list|clear|prune`` (or ``spikeforge cache``).

It works on the cache directory in use (``SPIKEFORGE_CACHE_DIR`` or the user cache directory)
through the functions of :mod:`spikeforge.codegen.cache`, so it is as safe while other processes
use the cache: an entry being built is never removed, and removing one that a process has
imported does not disturb that process.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from spikeforge.codegen import cache

_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float:
    """Seconds from ``30d``, ``12h``, ``90m``, ``45s`` or ``2w``."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([smhdw])\s*", text.lower())
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration: write a number and a unit (s, m, h, d or w), such as 30d"
        )
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]


def _size_argument(text: str) -> int:
    try:
        return cache.parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _duration_argument(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


def list_command(args: argparse.Namespace) -> int:
    """Print the entries, last used first, with their size, and the total."""
    root = cache.cache_directory()
    entries = cache.cache_entries(root)
    print(f"Cache directory: {root}")
    if entries:
        print(f"{'LAST USE':<17} {'SIZE':>9}  ENTRY")
        for entry in entries:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.last_use))
            print(f"{when:<17} {cache.format_size(entry.size):>9}  {entry.name}")
    total = sum(entry.size for entry in entries)
    print(f"{_plural(len(entries), 'entry', 'entries')}, {cache.format_size(total)} in total")
    failed = root / "failed"
    if failed.is_dir():
        kept = list(failed.iterdir())
        if kept:
            print(f"Failed builds kept in {failed}: {len(kept)}")
    builds = list(root.glob(".build-*")) if root.is_dir() else []
    if builds:
        print(f"Build folders: {len(builds)} (running builds, or dead ones that prune removes)")
    return 0


def _report(report: cache.PruneReport, root: Path) -> None:
    removed = _plural(len(report.removed), "entry", "entries")
    print(f"Removed {removed} ({cache.format_size(report.removed_size)}) from {root}")
    if report.leftovers:
        print(
            f"Removed {_plural(len(report.leftovers), 'other folder')} (dead builds, "
            "failed builds, symbolic results, entries set aside by a repair)"
        )
    for name in report.in_use:
        print(f"Kept {name}: a process is building it")
    remaining = cache.cache_entries(root)
    print(
        f"Left: {_plural(len(remaining), 'entry', 'entries')}, "
        f"{cache.format_size(sum(entry.size for entry in remaining))}"
    )


def clear_command(args: argparse.Namespace) -> int:
    """Remove every entry (except those being built), failed builds and the symbolic cache."""
    root = cache.cache_directory()
    _report(cache.clear_cache(root), root)
    return 0


def prune_command(args: argparse.Namespace) -> int:
    """Remove dead builds' folders, entries unused for a while, and the least recently used
    entries beyond a size."""
    root = cache.cache_directory()
    _report(cache.prune(max_size=args.max_size, older_than=args.older_than, root=root), root)
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``cache`` command and its subcommands to the program's parser."""
    parser = commands.add_parser(
        "cache",
        help="list, prune or clear the compilation cache",
        description="The compilation cache (SPIKEFORGE_CACHE_DIR, else the user cache directory).",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "list", help="entries with their size and last use, last used first; the total"
    ).set_defaults(run=list_command)
    actions.add_parser(
        "clear", help="remove every entry (not those being built), failed builds, symbolic results"
    ).set_defaults(run=clear_command)
    prune = actions.add_parser(
        "prune",
        help="remove dead builds' folders, old entries, least recently used entries beyond a size",
    )
    prune.add_argument(
        "--max-size",
        type=_size_argument,
        metavar="SIZE",
        help="remove least recently used entries until the rest take at most SIZE (500MB, 2GB)",
    )
    prune.add_argument(
        "--older-than",
        type=_duration_argument,
        metavar="AGE",
        help="remove entries (and failed builds) not used for AGE (30d, 12h)",
    )
    prune.set_defaults(run=prune_command)


def run(args: argparse.Namespace) -> int:
    """Run a parsed ``cache`` command; a cache that cannot be used is reported, not raised."""
    try:
        return args.run(args)
    except (cache.CacheError, ValueError) as error:
        print(f"spikeforge cache {args.action}: {error}", file=sys.stderr)
        return 1
