"""Brian2's devices, accepted: ``set_device``, ``device.build()``, ``device.run(run_args=...)``.

Brian2 runs a network either in Python ("runtime") or as a generated C++ project
("cpp_standalone"). spikeforge has one way to run, native code from Python, and gives the same
results for both.  Scripts written for standalone mode run unchanged:

- ``set_device('cpp_standalone')`` (``build_on_run=True``, Brian2's default) changes nothing:
  each ``run()`` runs at once.  A short notice says so, once per process.
- With ``build_on_run=False``, ``run()`` calls are recorded, not made; ``device.build()`` makes
  them (monitors are filled after it), and ``device.build(run=False)`` only records that the
  program is complete.  ``device.run(run_args={G.tau: value, ...})`` then runs the whole
  program again from its state before the first ``run()``, with the given initial values (set
  after the script's own assignments, as Brian2 does by default), as a standalone binary would.
- ``reset_device()``, ``reinit_devices()``, ``device.reinit()``, ``get_device()`` and
  ``device.delete()`` work as in Brian2; project-related options (``directory=``,
  ``compile=``, ``clean=``, ``debug=``, ``with_output=``) are accepted and change nothing.
"""

from __future__ import annotations

import warnings

from spikeforge.model import network as _network
from spikeforge.model.namespace import caller_namespace, picklable_namespace
from spikeforge.model.variables import VariableView
from spikeforge.runtime.driver import seed as _seed

#: The snapshot name the standalone device keeps the state before the first run under.
INITIAL = "spikeforge-standalone-initial"


class StandaloneNotice(UserWarning):
    """Says that a Brian2 device setting builds no separate project in spikeforge."""


_noticed = False


def _notice(text: str) -> None:
    global _noticed
    if not _noticed:
        _noticed = True
        warnings.warn(text, StandaloneNotice, stacklevel=3)


class Device:
    """A device: how ``run()`` calls are carried out (Brian2's ``Device``)."""

    def __init__(self, name: str):
        self.name = name
        self.build_on_run = True
        self.options: dict = {}
        self.project_dir = None
        self.has_been_run = False
        self._recorded: list[tuple] = []  # (network, duration, report, report_period, namespace)
        self._networks: list = []  # the networks of the recorded runs, in order

    def __repr__(self) -> str:
        return f"<device {self.name!r} (spikeforge runs it natively)>"

    def __getstate__(self) -> dict:
        # the namespaces of recorded runs keep their plain values when the device is sent to
        # another process (Brian2's standalone_multiple_processes example pickles it)
        state = dict(self.__dict__)
        state["_recorded"] = [
            (network, duration, report, period, picklable_namespace(namespace))
            for network, duration, report, period, namespace in self._recorded
        ]
        return state

    def activate(self, build_on_run: bool = True, **options) -> None:
        """Make this the active device (``set_device``)."""
        self.build_on_run = build_on_run
        self.options = options
        self.project_dir = options.get("directory")

    # runs ------------------------------------------------------------------------------------
    def _record(self, network, duration, report, report_period, namespace, level) -> bool:
        """Called by ``Network.run``: whether the call was recorded instead of made."""
        if self.build_on_run:
            return False
        if not self._recorded:
            network.store(INITIAL)  # the program's state before its first run
        if network not in self._networks:
            self._networks.append(network)
        if namespace is None:
            namespace = caller_namespace(level + 1)
        self._recorded.append((network, duration, report, report_period, namespace))
        return True

    def _replay(self) -> None:
        previous, _network.run_interceptor = _network.run_interceptor, None
        try:
            for network, duration, report, report_period, namespace in self._recorded:
                network.run(duration, report, report_period, namespace)
        finally:
            _network.run_interceptor = previous
        self.has_been_run = True

    def build(
        self,
        directory=None,
        compile=True,
        run=True,
        debug=False,
        clean=False,
        with_output=True,
        run_args=None,
        **options,
    ) -> None:
        """Make the recorded ``run()`` calls (``run=False``: only note that the program is
        complete; ``device.run()`` runs it)."""
        if run:
            self.run(run_args=run_args)

    def run(self, directory=None, with_output=True, run_args=None, **options) -> None:
        """Run the recorded program from its state before the first ``run()``, with
        ``run_args`` (``{group.variable: value}``) as initial values."""
        if not self._recorded:
            return
        for network in self._networks:
            if network is self._networks[0] and not self.has_been_run and not run_args:
                continue  # the state is still the initial one
            network.restore(INITIAL, restore_random_state=True)
        for key, value in (run_args or {}).items():
            if not isinstance(key, VariableView):
                raise TypeError(
                    "the keys of run_args must be variables of groups, as in "
                    f"run_args={{G.tau: 10*ms}}; got {key!r}"
                )
            key.set_item(slice(None), value, level=1)
        self._replay()

    def apply_run_args(self) -> None:
        """Accepted for Brian2's scripts: run_args are applied when ``device.run`` starts."""

    def reinit(self) -> None:
        """Forget the recorded program (Brian2: start a new project)."""
        self._recorded.clear()
        self._networks.clear()
        self.has_been_run = False

    def delete(self, code=True, data=True, run_args=True, directory=True, force=False) -> None:
        """Accepted for Brian2's scripts: there is no project to delete."""

    def seed(self, seed=None) -> None:
        """Seed the random numbers (as ``seed()``)."""
        _seed(seed)


#: Brian2's device names; all run the same way here.
all_devices = {name: Device(name) for name in ("runtime", "cpp_standalone", "cuda_standalone")}
active_device = all_devices["runtime"]


def set_device(device, build_on_run: bool = True, **options) -> None:
    """Use ``device`` (a name of :data:`all_devices` or a :class:`Device`) from now on."""
    global active_device
    if isinstance(device, str):
        if device not in all_devices:
            raise ValueError(f"unknown device {device!r} (known: {', '.join(sorted(all_devices))})")
        device = all_devices[device]
    if device.name != "runtime":
        _notice(
            f"set_device({device.name!r}): spikeforge compiles and runs every network as "
            "native code itself, so no separate project is built; results are the same"
        )
    device.activate(build_on_run=build_on_run, **options)
    active_device = device
    _network.run_interceptor = _intercept


def get_device() -> Device:
    """The active device."""
    return active_device


def reset_device(device=None) -> None:
    """Go back to the runtime device (or to ``device``)."""
    set_device(device or "runtime")


def reinit_devices() -> None:
    """Forget every device's recorded program."""
    for device in all_devices.values():
        device.reinit()


def _intercept(network, duration, report, report_period, namespace, level) -> bool:
    return get_device()._record(network, duration, report, report_period, namespace, level + 1)


class _ActiveDevice:
    """``device``: stands for the active device (as Brian2's ``device`` does)."""

    def __getattr__(self, name: str):
        return getattr(active_device, name)

    def __repr__(self) -> str:
        return repr(active_device)


device = _ActiveDevice()
