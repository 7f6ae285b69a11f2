"""spikeforge's modelling names without NumPy's or matplotlib's (Brian2's ``brian2.only``).

``from spikeforge.only import *`` gives ``NeuronGroup``, ``Synapses``, monitors, ``run``, units,
the unit-aware NumPy functions (``linspace``, ``arange``, ``exp``...) and the rest of
spikeforge's public names, and nothing else: use it in code that imports NumPy and matplotlib
itself.  ``from spikeforge import *`` gives the same names plus, as Brian2's star import does,
``np``/``numpy`` and pylab's names (matplotlib's plotting functions and NumPy's).
"""

from spikeforge import units as _units
from spikeforge.codegen.cache import CompilationError
from spikeforge.codegen.equations import EquationError, Equations
from spikeforge.codegen.expressions import BrianObjectException, ExpressionError
from spikeforge.codegen.stateupdaters import (
    ExplicitStateUpdater,
    IntegrationError,
    StateUpdateMethod,
)
from spikeforge.model.clock import Clock, defaultclock
from spikeforge.model.functions import Function, TimedArray, declare_types, implementation
from spikeforge.model.groups import NeuronGroup
from spikeforge.model.logging import BrianLogger, get_logger
from spikeforge.model.inputs import PoissonGroup, PoissonInput, SpikeGeneratorGroup
from spikeforge.model.monitors import (
    EventMonitor,
    PopulationRateMonitor,
    SpikeMonitor,
    StateMonitor,
)
from spikeforge.model.network import (
    Network,
    collect,
    magic_network,
    profiling_summary,
    restore,
    run,
    scheduling_summary,
    start_scope,
    stop,
    store,
)
from spikeforge.devices import (
    all_devices,
    device,
    get_device,
    reinit_devices,
    reset_device,
    set_device,
)
from spikeforge.model.operations import NetworkOperation, network_operation
from spikeforge.model.preferences import brian_prefs, prefs
from spikeforge.model.morphology import Cylinder, Morphology, Section, Soma
from spikeforge.model.spatialneuron import SpatialNeuron, SpatialSubgroup
from spikeforge.model.synapses import Synapses
from spikeforge.model.variables import linked_var
from spikeforge.runtime.driver import seed
from spikeforge.sweeps import SweepWarning, sweep
from spikeforge.units import *  # noqa: F403  (units are part of the modelling vocabulary)
from spikeforge.units import unitsafe as _unitsafe
from spikeforge.units.unitsafe import *  # noqa: F403  (Brian2's unit-aware NumPy functions)

#: Brian2's names of integration methods, for ``method=euler`` written without quotes.
exact = linear = "exact"
euler = "euler"
rk2 = "rk2"
rk4 = "rk4"
exponential_euler = "exponential_euler"
heun = "heun"
milstein = "milstein"

__all__ = [
    "NeuronGroup",
    "BrianLogger",
    "get_logger",
    "PoissonGroup",
    "SpikeGeneratorGroup",
    "PoissonInput",
    "Synapses",
    "SpatialNeuron",
    "SpatialSubgroup",
    "Morphology",
    "Soma",
    "Section",
    "Cylinder",
    "linked_var",
    "SpikeMonitor",
    "EventMonitor",
    "StateMonitor",
    "PopulationRateMonitor",
    "Network",
    "NetworkOperation",
    "network_operation",
    "run",
    "stop",
    "store",
    "restore",
    "start_scope",
    "collect",
    "scheduling_summary",
    "profiling_summary",
    "magic_network",
    "defaultclock",
    "Clock",
    "Equations",
    "Function",
    "TimedArray",
    "implementation",
    "declare_types",
    "seed",
    "sweep",
    "SweepWarning",
    "prefs",
    "brian_prefs",
    "set_device",
    "get_device",
    "device",
    "reset_device",
    "reinit_devices",
    "all_devices",
    "BrianObjectException",
    "ExpressionError",
    "EquationError",
    "IntegrationError",
    "ExplicitStateUpdater",
    "StateUpdateMethod",
    "CompilationError",
    "exact",
    "linear",
    "euler",
    "rk2",
    "rk4",
    "exponential_euler",
    "heun",
    "milstein",
    *_units.__all__,
    *_unitsafe.__all__,
]
