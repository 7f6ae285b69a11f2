"""Test set-up: every test session compiles into its own fresh cache directory.

The directory is shared by the whole session (and by the subprocesses tests start, through the
environment), so each distinct module is compiled once per session.
"""

import atexit
import os
import shutil
import tempfile

import pytest

_session_cache = tempfile.mkdtemp(prefix="spikeforge-test-cache-")
os.environ["SPIKEFORGE_CACHE_DIR"] = _session_cache
atexit.register(shutil.rmtree, _session_cache, ignore_errors=True)


@pytest.fixture(autouse=True)
def fresh_scope():
    """Each test starts with an empty implicit network and the default time step."""
    from spikeforge import defaultclock, ms, start_scope

    start_scope()
    defaultclock.dt = 0.1 * ms
    yield


@pytest.fixture
def cache_dir():
    """The cache directory of this session."""
    return _session_cache
