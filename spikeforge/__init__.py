"""spikeforge: spiking neural networks from equation strings, compiled to native code.

``from spikeforge import *`` gives Brian2's modelling names (``NeuronGroup``, ``SpikeMonitor``,
``run``, units...), so that a Brian2 script runs after swapping its import line.
"""

from spikeforge import units as _units
from spikeforge.codegen.cache import CompilationError
from spikeforge.codegen.equations import EquationError, Equations
from spikeforge.codegen.expressions import ExpressionError
from spikeforge.codegen.stateupdaters import IntegrationError
from spikeforge.model.base import start_scope
from spikeforge.model.clock import Clock, defaultclock
from spikeforge.model.groups import NeuronGroup
from spikeforge.model.inputs import PoissonGroup, SpikeGeneratorGroup
from spikeforge.model.monitors import PopulationRateMonitor, SpikeMonitor, StateMonitor
from spikeforge.model.network import Network, magic_network, run
from spikeforge.model.operations import NetworkOperation, network_operation
from spikeforge.model.synapses import Synapses
from spikeforge.runtime.driver import seed
from spikeforge.units import *  # noqa: F403  (units are part of the modelling vocabulary)

__version__ = "0.1.0"

__all__ = [
    "NeuronGroup",
    "PoissonGroup",
    "SpikeGeneratorGroup",
    "Synapses",
    "SpikeMonitor",
    "StateMonitor",
    "PopulationRateMonitor",
    "Network",
    "NetworkOperation",
    "network_operation",
    "run",
    "start_scope",
    "magic_network",
    "defaultclock",
    "Clock",
    "Equations",
    "seed",
    "ExpressionError",
    "EquationError",
    "IntegrationError",
    "CompilationError",
    *_units.__all__,
]
