"""spikeforge: spiking neural networks from equation strings, compiled to native code.

``from spikeforge import *`` gives Brian2's modelling names (``NeuronGroup``, ``SpikeMonitor``,
``run``, units...), so that a Brian2 script runs after swapping its import line.
"""

from spikeforge import units as _units
from spikeforge.codegen.cache import CompilationError
from spikeforge.codegen.equations import EquationError, Equations
from spikeforge.codegen.expressions import ExpressionError
from spikeforge.codegen.stateupdaters import IntegrationError
from spikeforge.model.clock import Clock, defaultclock
from spikeforge.model.functions import Function, TimedArray, declare_types, implementation
from spikeforge.model.groups import NeuronGroup
from spikeforge.model.inputs import PoissonGroup, PoissonInput, SpikeGeneratorGroup
from spikeforge.model.monitors import (
    EventMonitor,
    PopulationRateMonitor,
    SpikeMonitor,
    StateMonitor,
)
from spikeforge.model.network import (
    Network,
    magic_network,
    restore,
    run,
    start_scope,
    store,
)
from spikeforge.model.operations import NetworkOperation, network_operation
from spikeforge.model.synapses import Synapses
from spikeforge.model.variables import linked_var
from spikeforge.runtime.driver import seed
from spikeforge.units import *  # noqa: F403  (units are part of the modelling vocabulary)

__version__ = "0.1.0"

from spikeforge.runtime import prebuild_in_background as _prebuild  # noqa: E402

_prebuild()

__all__ = [
    "NeuronGroup",
    "PoissonGroup",
    "SpikeGeneratorGroup",
    "PoissonInput",
    "Synapses",
    "linked_var",
    "SpikeMonitor",
    "EventMonitor",
    "StateMonitor",
    "PopulationRateMonitor",
    "Network",
    "NetworkOperation",
    "network_operation",
    "run",
    "store",
    "restore",
    "start_scope",
    "magic_network",
    "defaultclock",
    "Clock",
    "Equations",
    "Function",
    "TimedArray",
    "implementation",
    "declare_types",
    "seed",
    "ExpressionError",
    "EquationError",
    "IntegrationError",
    "CompilationError",
    *_units.__all__,
]
