"""Brian2's ``brian2.devices``: ``set_device``, ``device``, ``get_device``... (see
:mod:`spikeforge.devices.device`)."""

from spikeforge.devices import device as device_module
from spikeforge.devices.device import (
    Device,
    StandaloneNotice,
    all_devices,
    device,
    get_device,
    reinit_devices,
    reset_device,
    set_device,
)
from spikeforge.runtime.driver import seed

__all__ = [
    "Device",
    "StandaloneNotice",
    "all_devices",
    "device",
    "device_module",
    "get_device",
    "reinit_devices",
    "reset_device",
    "seed",
    "set_device",
]
