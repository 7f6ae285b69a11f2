"""A pathway's spike queue split by target, for threaded runs.

In a threaded run, a pathway whose statements write the neurons of one side only (``v_post +=
w``) has one C++ ``SpikeQueue`` per thread, each holding only the synapses onto that thread's
block of consecutive neurons: the block of the same thread in the neurons' own loops
(``_block * N // blocks``).  Every thread then queues the spikes of its own synapses and
delivers them, and no thread reads what another queued.  Generated code reaches the queues
through an array of their addresses (:attr:`QueueParts.addresses`).

Results do not depend on the number of parts: a part keeps its synapses in the order the whole
queue has them (by source, then synapse), so each neuron receives its spikes in the same order
as from one queue; only the interleaving of different neurons' spikes changes, and nothing
depends on it.

The parts hold the global index of each synapse (or the neuron each reaches, for a pathway whose
queue holds neuron indices), given to the queue as its per-synapse values.  Pending spikes move
between the whole queue of serial runs and the parts of threaded ones at each ``prepare``, by
the block of the neuron each reaches, slot by slot, in order.
"""

from __future__ import annotations

import numpy as np

from spikeforge.runtime import containers


def block_bounds(size: int, parts: int) -> np.ndarray:
    """The first element of each of ``parts`` blocks of ``range(size)``, and ``size``: the
    blocks of the threads of a loop over ``size`` elements (generated code's
    ``block * size // blocks``)."""
    return np.array([p * size // parts for p in range(parts + 1)], dtype=np.int64)


def block_of(values: np.ndarray, size: int, parts: int) -> np.ndarray:
    """The block (0 to ``parts - 1``, at most 65535) holding each of ``values`` (in
    ``range(size)``), as 2 bytes per value."""
    bounds = block_bounds(size, parts)[1:]
    values = np.asarray(values)
    blocks = np.empty(values.shape, dtype=np.uint16)
    chunk = 1 << 20  # searchsorted gives 8 bytes per value: a chunk at a time
    for start in range(0, values.size, chunk):
        part = values[start : start + chunk]
        blocks[start : start + chunk] = np.searchsorted(bounds, part, side="right")
    return blocks


def convert_entries(entries: np.ndarray, kind: str, wanted: str, indices: dict) -> np.ndarray:
    """Pending entries of ``kind`` (``"synapses"``, ``"i"`` or ``"j"``) as entries of
    ``wanted``: synapse indices become the neuron each reaches (``indices[wanted]``, an array
    per synapse); neuron indices cannot become synapse indices."""
    if kind == wanted or entries.size == 0:
        return entries
    if kind == "synapses":
        return np.ascontiguousarray(indices[wanted][entries], dtype=np.int32)
    raise ValueError(
        f"the spike queue holds pending neuron indices ({kind!r}), not the {wanted} this "
        "pathway needs"
    )


def split_pending(counts: np.ndarray, entries: np.ndarray, part_of_entry: np.ndarray, parts: int):
    """Pending spikes as ``pending_spikes()`` gives them, split into ``parts`` lists of the same
    form (each entry to the part ``part_of_entry`` says), in order within each slot."""
    slot_of_entry = np.repeat(np.arange(len(counts)), counts)
    split = []
    for part in range(parts):
        chosen = part_of_entry == part
        part_counts = np.bincount(slot_of_entry[chosen], minlength=len(counts))
        split.append((part_counts.astype(np.int64), entries[chosen]))
    return split


def merge_pending(pending: list[tuple[np.ndarray, np.ndarray]]):
    """The pending spikes of several parts as one list of the ``pending_spikes()`` form: each
    slot holds the parts' entries for it, part after part."""
    n_slots = max((len(counts) for counts, _ in pending), default=0)
    slots, entries = [], []
    for counts, part_entries in pending:
        slots.append(np.repeat(np.arange(len(counts)), counts))
        entries.append(part_entries)
    if not slots:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
    slot_of_entry = np.concatenate(slots)
    order = np.argsort(slot_of_entry, kind="stable")
    counts = np.bincount(slot_of_entry, minlength=n_slots).astype(np.int64)
    return counts, np.ascontiguousarray(np.concatenate(entries)[order], dtype=np.int32)


class QueueParts:
    """The spike queues of one pathway in a threaded run, one per block of targets.

    Empty (:attr:`active` false) outside threaded runs: the pathway's single queue holds its
    pending spikes then.
    """

    def __init__(self) -> None:
        self.queues: list = []  # containers.SpikeQueue, one per part
        #: What the parts' entries are: synapse indices, or the neuron each reaches ("i", "j").
        self.kind = "synapses"
        #: The addresses of the parts' C++ queues (generated code's array of queues).
        self.addresses = np.zeros(1, dtype=np.int64)

    @property
    def active(self) -> bool:
        """Whether the parts hold the pathway's pending spikes (after a threaded run)."""
        return bool(self.queues)

    @property
    def n_parts(self) -> int:
        return len(self.queues)

    @property
    def n_pending(self) -> int:
        return sum(queue.n_pending for queue in self.queues)

    def pending_spikes(self):
        """The parts' pending spikes together, as ``SpikeQueue.pending_spikes()`` gives them
        (entries of :attr:`kind`)."""
        return merge_pending([queue.pending_spikes() for queue in self.queues])

    def set_pending_spikes(self, counts, entries, part_of_entry) -> None:
        """Replace the pending spikes of the parts (entries of :attr:`kind`, each going to the
        part ``part_of_entry`` gives), keeping the queues themselves."""
        split = split_pending(counts, entries, part_of_entry, self.n_parts)
        for queue, (part_counts, part_entries) in zip(self.queues, split):
            queue.set_pending_spikes(part_counts, part_entries, values=True)

    def release(self) -> None:
        """Forget the parts (their pending spikes must have been taken first)."""
        self.queues = []
        self.addresses = np.zeros(1, dtype=np.int64)

    def prepare(
        self,
        parts: int,
        sources: np.ndarray,
        n_sources: int,
        seconds: np.ndarray | None,
        uniform: float,
        dt: float,
        part_of_synapse: np.ndarray,
        values: np.ndarray,
        kind: str,
        pending,
    ) -> None:
        """Set up ``parts`` queues: part ``p`` holds the synapses with ``part_of_synapse == p``,
        and queues ``values`` (the global synapse index, or the neuron reached: ``kind``) for
        each; ``pending`` (``(counts, entries, part of each entry)``) are the pathway's pending
        spikes, already of ``kind``."""
        counts, entries, part_of_entry = pending
        queues = [containers().SpikeQueue() for _ in range(parts)]
        split = split_pending(counts, entries, part_of_entry, parts)
        for part, queue in enumerate(queues):
            chosen = part_of_synapse == part  # a byte per synapse
            part_values = np.ascontiguousarray(values[chosen], dtype=np.int32)
            queue.set_pending_spikes(*split[part], values=True)
            queue.prepare_from_sources(
                np.ascontiguousarray(sources[chosen], dtype=np.int32),
                n_sources,
                None if seconds is None else seconds[chosen],
                uniform,
                dt,
                part_values,
            )
            del chosen
        self.queues = queues
        self.kind = kind
        self.addresses = np.array([queue.address for queue in queues], dtype=np.int64)
