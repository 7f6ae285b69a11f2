"""Test set-up: the installed package, and a fresh cache directory for every test session.

The tests exercise spikeforge as installed (``pip install .``), with the runtime extension that
the installation builds, not the ``spikeforge/`` folder of the checkout: ``pytest`` (unlike
``python -m pytest``) does not put the working directory on ``sys.path``, and the subprocesses
that tests start get ``PYTHONSAFEPATH`` so that ``python -c`` does not either.

The cache directory is shared by the whole session (and by those subprocesses, through the
environment), so each distinct module is compiled once per session.
"""

import atexit
import os
import shutil
import tempfile

import pytest

_session_cache = tempfile.mkdtemp(prefix="spikeforge-test-cache-")
os.environ["SPIKEFORGE_CACHE_DIR"] = _session_cache
os.environ["PYTHONSAFEPATH"] = "1"
atexit.register(shutil.rmtree, _session_cache, ignore_errors=True)


@pytest.fixture(autouse=True)
def fresh_scope():
    """Each test starts with an empty implicit network, the default time step, the runtime
    device and Brian2's default preferences."""
    from spikeforge import defaultclock, ms, prefs, reinit_devices, reset_device, start_scope

    start_scope()
    defaultclock.dt = 0.1 * ms
    reset_device()
    reinit_devices()
    prefs.reset_to_defaults()
    yield


@pytest.fixture
def cache_dir():
    """The cache directory of this session."""
    return _session_cache


def pytest_configure(config):
    """Stop at once, with the reason, when the tests would run against a checkout that has no
    built runtime extension (``python -m pytest`` from the top of a non-editable checkout)."""
    import spikeforge
    from spikeforge import runtime

    if runtime.installed_containers() is None:
        raise pytest.UsageError(
            f"spikeforge was imported from {os.path.dirname(spikeforge.__file__)}, which has no "
            "runtime extension built from its sources. Install the package (pip install "
            "'.[test]', or pip install -e '.[test]' for development) and run `pytest`, not "
            "`python -m pytest` (which puts the checkout's own folder first on sys.path)."
        )
