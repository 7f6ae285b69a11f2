"""The helpers that split a pathway's pending spikes by block of targets for threaded runs
(``spikeforge/runtime/queues.py``), against their definitions."""

import numpy as np
import pytest

from spikeforge.runtime.queues import (
    block_bounds,
    block_of,
    convert_entries,
    merge_pending,
    split_pending,
)


@pytest.mark.parametrize("size, parts", [(10, 3), (7, 2), (64000, 2), (5, 8), (1, 1)])
def test_the_block_of_a_value_is_the_block_of_the_thread_that_loops_over_it(size, parts):
    values = np.arange(size)
    expected = np.empty(size, dtype=np.int64)
    for block in range(parts):  # generated code: range(block * size // blocks, ...)
        expected[block * size // parts : (block + 1) * size // parts] = block
    np.testing.assert_array_equal(block_of(values, size, parts), expected)
    assert block_bounds(size, parts)[-1] == size


def test_splitting_and_merging_pending_spikes_keeps_each_parts_order_in_each_slot():
    rng = np.random.default_rng(0)
    counts = np.array([5, 0, 7, 3], dtype=np.int64)
    entries = rng.integers(0, 100, counts.sum()).astype(np.int32)
    part_of_entry = block_of(entries, 100, 3)
    split = split_pending(counts, entries, part_of_entry, 3)
    slots = np.repeat(np.arange(len(counts)), counts)
    for part, (part_counts, part_entries) in enumerate(split):
        chosen = part_of_entry == part
        np.testing.assert_array_equal(part_entries, entries[chosen])  # in order
        np.testing.assert_array_equal(part_counts, np.bincount(slots[chosen], minlength=4))
    merged_counts, merged = merge_pending(split)
    np.testing.assert_array_equal(merged_counts, counts)
    for slot in range(len(counts)):  # part after part within a slot; each part's order kept
        got = merged[slots == slot]
        want = entries[slots == slot]
        order = np.argsort(block_of(want, 100, 3), kind="stable")
        np.testing.assert_array_equal(got, want[order])


def test_pending_synapse_indices_become_the_neurons_they_reach_and_not_back():
    j = np.array([4, 2, 9], dtype=np.int32)
    entries = np.array([2, 0, 2], dtype=np.int32)
    np.testing.assert_array_equal(convert_entries(entries, "synapses", "j", {"j": j}), [9, 4, 9])
    assert convert_entries(entries, "j", "j", {}) is entries
    with pytest.raises(ValueError, match="neuron indices"):
        convert_entries(entries, "j", "synapses", {})
