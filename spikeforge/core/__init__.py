"""Brian2's ``brian2.core`` paths that scripts import from (``from brian2.core.functions import
timestep``): the same objects as in :mod:`spikeforge.only`."""
