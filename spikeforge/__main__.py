"""The command line: ``python -m spikeforge COMMAND`` (``spikeforge COMMAND`` once installed).

Commands: ``cache list``, ``cache clear``, ``cache prune [--max-size SIZE] [--older-than AGE]``
(see docs/cache.md).
"""

from __future__ import annotations

import argparse
import sys

from spikeforge.codegen import cache_admin


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: the command line), run the command, return its exit status."""
    parser = argparse.ArgumentParser(
        prog="spikeforge", description="spikeforge's command line tools."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cache_admin.add_parser(commands)
    args = parser.parse_args(argv)
    return cache_admin.run(args)


if __name__ == "__main__":
    sys.exit(main())
