"""``BrianLogger``: Brian2's logging switches, accepted (spikeforge reports through Python's
``warnings`` and exceptions, and its progress reports through ``run(report=...)``)."""

from __future__ import annotations

import logging

_logger = logging.getLogger("spikeforge")


class BrianLogger:
    """Brian2's logging class: the log-level switches set the level of the ``spikeforge``
    logger of Python's :mod:`logging`; the rest is accepted and does nothing."""

    @staticmethod
    def log_level_debug() -> None:
        """Log everything."""
        _logger.setLevel(logging.DEBUG)

    @staticmethod
    def log_level_info() -> None:
        """Log information, warnings and errors."""
        _logger.setLevel(logging.INFO)

    @staticmethod
    def log_level_warn() -> None:
        """Log warnings and errors."""
        _logger.setLevel(logging.WARNING)

    @staticmethod
    def log_level_error() -> None:
        """Log errors only."""
        _logger.setLevel(logging.ERROR)

    @staticmethod
    def suppress_name(name: str, filter_log_file: bool = False) -> None:
        """Accepted for Brian2's scripts."""

    @staticmethod
    def suppress_hierarchy(name: str, filter_log_file: bool = False) -> None:
        """Accepted for Brian2's scripts."""


def get_logger(name: str = "spikeforge") -> logging.Logger:
    """A logger under ``spikeforge`` (Brian2's ``get_logger``)."""
    return logging.getLogger(name if name.startswith("spikeforge") else f"spikeforge.{name}")
