// The spike queue of a synaptic pathway: spikes of presynaptic sources wait here, as the indices
// of the synapses they reach, until their transmission delay has passed.
//
// The queue is a ring of time slots; each slot is a std::vector<int32_t> of synapse indices.
// One time step of a network uses it in this order:
//
//     push(spiking sources)   // the sources that spiked at this step
//     peek()                  // the synapses whose spikes arrive at this step
//     advance()               // empty the current slot and move to the next step
//
// Delays are whole time steps.  A spike pushed at step n through a synapse with a delay of d
// steps is in the slot that peek() returns at step n + d, that is after d calls to advance().
// A delay of 0 delivers at the same step (push before peek).
//
// Order within a slot: the order of the push() calls that put the indices there (an earlier step
// before a later one, one call before the next within a step), then the order of the sources in
// the spikes array, then, for one source, the order of its synapses in `synapses_by_source` (see
// prepare()).  A source listed twice in one push delivers twice.
//
// What a slot holds: by default synapse indices.  A pathway whose statements read and write only
// one neuron per synapse (`v_post += w0`, no synaptic variable, no random number) passes prepare
// `values`, the target neuron of each synapse: slots then hold values[synapse] instead of the
// synapse, in the same order, and delivery reads no per-synapse array (with delays that differ,
// such reads land at random places).  When synapses are grouped by source, the queue reads the
// caller's `values` array at push(), which must then stay where it is, unchanged, until the next
// prepare() (a pathway prepares its queue before each run, and its synapses do not change during
// a run); otherwise it keeps a copy in position order (4 bytes per synapse).
//
// Generated code receives a SpikeQueue* from a PyCapsule named "spikeforge.SpikeQueue" and calls
// push(), peek() and advance() directly; these never throw, and never allocate once every slot
// has reached the size it needs (advance() clears a slot but keeps its capacity); a push() that
// runs out of memory queues nothing and returns false.
#ifndef SPIKEFORGE_SPIKEQUEUE_H
#define SPIKEFORGE_SPIKEQUEUE_H

#include <stdint.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <new>
#include <vector>

namespace spikeforge {

class SpikeQueue {
  public:
    // An empty queue with one slot and no sources: peek() returns an empty slot, advance() is
    // allowed, push() must wait for prepare().
    SpikeQueue()
        : slots_(1), current_(0), n_sources_(0), n_synapses_(0), homogeneous_delay_(0),
          holds_values_(false), borrowed_values_(nullptr) {}

    // Set up (or set up again) the synapses and their delays.
    //
    // delay_steps[i]            delay of synapse i in time steps (>= 0), for i < n_synapses
    // synapse_offsets_by_source the synapses of source s are found at positions
    //                           offsets[s] .. offsets[s+1]-1, for s < n_sources (n_sources + 1
    //                           entries, offsets[0] == 0, not decreasing, last == n_synapses)
    // synapses_by_source        the synapse index at each such position; NULL when synapse
    //                           indices are already grouped by source (position == index)
    //
    // The ring gets max(delay) + 1 slots, or keeps its size when it is already larger: it never
    // shrinks, so spikes that are still pending keep their delivery step (the absolute step,
    // counted from the step they were pushed at with the delays of that time).  Pending entries
    // are synapse indices: if the indices change meaning (synapses removed or renumbered), call
    // clear() first.
    //
    // When every synapse has the same delay, push() copies each source's whole range into one
    // slot.  Throws std::invalid_argument (and changes nothing) on inconsistent input.
    inline void prepare(const int32_t* delay_steps, int64_t n_synapses,
                        const int32_t* synapse_offsets_by_source, int64_t n_sources,
                        const int32_t* synapses_by_source = nullptr) {
        if (n_synapses > 0 && delay_steps == nullptr) throw std::invalid_argument("missing delays");
        check_arguments(n_synapses, synapse_offsets_by_source, n_sources, synapses_by_source);
        std::vector<int32_t> offsets(synapse_offsets_by_source,
                                     synapse_offsets_by_source + n_sources + 1);
        std::vector<int32_t> synapses;
        if (synapses_by_source != nullptr) {
            synapses.assign(synapses_by_source, synapses_by_source + n_synapses);
        }
        install(offsets, synapses, n_synapses, n_sources, [&](int64_t synapse) {
            return static_cast<double>(delay_steps[synapse]);
        });
    }

    // The same set-up from what a synaptic pathway stores, without copies of its arrays:
    //
    // sources[i]      the source of synapse i (0 <= sources[i] < n_sources), for i < n_synapses
    // delay_seconds   the delay of each synapse in seconds, or NULL when every synapse has the
    //                 delay `uniform_delay_seconds`
    // dt              the time step; a delay of d seconds is (int)(d / dt + 0.5) steps
    // values          NULL (slots hold synapse indices), or one value per synapse that slots
    //                 hold instead (see above)
    //
    // Positions follow the synapse order within each source (a stable counting sort).  When the
    // sources do not decrease (synapses created source by source, as connect() does), position
    // and synapse index coincide and the queue stores no index per synapse; with a uniform delay
    // it stores no delay per synapse either.  Memory: (n_sources + 1) * 4 bytes, plus 4 bytes
    // per synapse when the sources are out of order, plus 4 bytes per synapse when delays differ.
    inline void prepare_from_sources(const int32_t* sources, int64_t n_synapses, int64_t n_sources,
                                     const double* delay_seconds, double uniform_delay_seconds,
                                     double dt, const int32_t* values = nullptr) {
        if (n_synapses < 0 || n_synapses > INT32_MAX)
            throw std::invalid_argument("the number of synapses must be in 0 .. 2**31-1");
        if (n_sources < 0 || n_sources >= INT32_MAX)
            throw std::invalid_argument("the number of sources must be in 0 .. 2**31-2");
        if (n_synapses > 0 && sources == nullptr) throw std::invalid_argument("missing sources");
        if (!(dt > 0)) throw std::invalid_argument("the time step must be positive");
        std::vector<int32_t> offsets(static_cast<size_t>(n_sources) + 1, 0);
        bool grouped = true;
        for (int64_t k = 0; k < n_synapses; ++k) {
            const int32_t source = sources[k];
            if (source < 0 || source >= n_sources)
                throw std::invalid_argument("source " + std::to_string(source) + " of synapse " +
                                            std::to_string(k) + " is outside 0.." +
                                            std::to_string(n_sources - 1));
            ++offsets[static_cast<size_t>(source) + 1];
            if (k > 0 && source < sources[k - 1]) grouped = false;
        }
        for (int64_t s = 0; s < n_sources; ++s) offsets[s + 1] += offsets[s];
        std::vector<int32_t> synapses;
        if (!grouped) {
            synapses.resize(static_cast<size_t>(n_synapses));
            std::vector<int32_t> next(offsets.begin(), offsets.end() - 1);
            for (int64_t k = 0; k < n_synapses; ++k) {
                synapses[next[sources[k]]++] = static_cast<int32_t>(k);
            }
        }
        install(offsets, synapses, n_synapses, n_sources, [&](int64_t synapse) {
            const double seconds =
                delay_seconds != nullptr ? delay_seconds[synapse] : uniform_delay_seconds;
            return seconds / dt + 0.5;
        }, values);
    }

    // The same for synapses grouped by source, given as ranges: the synapses of source s are
    // offsets[s] .. offsets[s+1]-1 (n_sources + 1 entries, as in prepare()).  The queue keeps no
    // index per synapse.
    inline void prepare_grouped(const int32_t* source_offsets, int64_t n_sources,
                                const double* delay_seconds, double uniform_delay_seconds,
                                double dt, const int32_t* values = nullptr) {
        if (n_sources < 0 || n_sources >= INT32_MAX)
            throw std::invalid_argument("the number of sources must be in 0 .. 2**31-2");
        if (source_offsets == nullptr) throw std::invalid_argument("missing offsets");
        const int64_t n_synapses = source_offsets[n_sources];
        check_arguments(n_synapses, source_offsets, n_sources, nullptr);
        if (!(dt > 0)) throw std::invalid_argument("the time step must be positive");
        std::vector<int32_t> offsets(source_offsets, source_offsets + n_sources + 1);
        std::vector<int32_t> synapses;
        install(offsets, synapses, n_synapses, n_sources, [&](int64_t synapse) {
            const double seconds =
                delay_seconds != nullptr ? delay_seconds[synapse] : uniform_delay_seconds;
            return seconds / dt + 0.5;
        }, values);
    }

    // Put the synapses of each spiking source into the slot of its delay.  Every source must be
    // in 0 .. n_sources-1 of the last prepare() (not checked here: generated code passes the
    // indices of a group's own neurons).  Returns false if memory ran out: then none of these
    // spikes is queued (the queue is as before the call) and generated code reports it, as it
    // cannot pass a C++ exception on.  The try blocks cost nothing while nothing throws.
    inline bool push(const int32_t* spiking_sources, int64_t n_spikes) noexcept {
        const size_t n_slots = slots_.size();
        // what a position puts in its slot: entries[position], or the position itself
        const int32_t* synapses = !synapses_by_position_.empty() ? synapses_by_position_.data()
                                                                 : borrowed_values_;
        if (homogeneous_delay_ >= 0) {
            size_t target = current_ + static_cast<size_t>(homogeneous_delay_);
            if (target >= n_slots) target -= n_slots;
            std::vector<int32_t>& slot = slots_[target];
            const size_t size_before = slot.size();
            try {
                for (int64_t k = 0; k < n_spikes; ++k) {
                    const int32_t source = spiking_sources[k];
                    const int32_t begin = offsets_[source], end = offsets_[source + 1];
                    if (synapses != nullptr) {
                        slot.insert(slot.end(), synapses + begin, synapses + end);
                    } else {  // position == synapse index
                        const size_t old_size = slot.size();
                        slot.resize(old_size + static_cast<size_t>(end - begin));
                        int32_t* out = slot.data() + old_size;
                        for (int32_t position = begin; position < end; ++position) {
                            *out++ = position;
                        }
                    }
                }
            } catch (const std::bad_alloc&) {
                slot.erase(slot.begin() + static_cast<std::ptrdiff_t>(size_before), slot.end());
                return false;
            }
            return true;
        }
        const int32_t* delays = delays_by_position_.data();
        for (int64_t k = 0; k < n_spikes; ++k) {
            const int32_t source = spiking_sources[k];
            const int32_t end = offsets_[source + 1];
            for (int32_t position = offsets_[source]; position < end; ++position) {
                size_t target = current_ + static_cast<size_t>(delays[position]);
                if (target >= n_slots) target -= n_slots;  // delays < n_slots, one wrap at most
                try {
                    slots_[target].push_back(synapses != nullptr ? synapses[position] : position);
                } catch (const std::bad_alloc&) {
                    unpush(spiking_sources, k, position);
                    return false;
                }
            }
        }
        return true;
    }

  private:
    // Undo a push() that stopped at `position` of its k-th spike: every synapse it appended
    // went to the end of its slot, so removing them in the reverse order restores each slot.
    inline void unpush(const int32_t* spiking_sources, int64_t k, int32_t position) noexcept {
        const size_t n_slots = slots_.size();
        const int32_t* delays = delays_by_position_.data();
        for (;;) {
            const int32_t begin = offsets_[spiking_sources[k]];
            while (position > begin) {
                --position;
                size_t target = current_ + static_cast<size_t>(delays[position]);
                if (target >= n_slots) target -= n_slots;
                slots_[target].pop_back();
            }
            if (k == 0) return;
            --k;
            position = offsets_[spiking_sources[k] + 1];
        }
    }

  public:
    // The synapse indices whose spikes arrive at the current step (valid until advance()).
    inline std::vector<int32_t>* peek() noexcept { return &slots_[current_]; }

    // Empty the current slot (keeping its memory) and move to the next step.
    inline void advance() noexcept {
        slots_[current_].clear();
        current_ = current_ + 1 == slots_.size() ? 0 : current_ + 1;
    }

    // Drop every pending spike (the ring keeps its size and memory).
    inline void clear() noexcept {
        for (std::vector<int32_t>& slot : slots_) slot.clear();
    }

    inline int64_t n_slots() const noexcept { return static_cast<int64_t>(slots_.size()); }
    inline int64_t n_sources() const noexcept { return n_sources_; }
    inline int64_t n_synapses() const noexcept { return n_synapses_; }
    // Whether the queue keeps an entry per position (synapses not grouped by source).
    inline bool stores_synapse_order() const noexcept { return !synapses_by_position_.empty(); }
    // Whether slots hold the values given to prepare instead of synapse indices.
    inline bool holds_values() const noexcept { return holds_values_; }
    // Whether every synapse has the same delay (push() then copies whole ranges).
    inline bool is_homogeneous() const noexcept { return homogeneous_delay_ >= 0; }
    // Number of synapse indices waiting in all slots, the current one included.
    inline int64_t n_pending() const noexcept {
        int64_t total = 0;
        for (const std::vector<int32_t>& slot : slots_) total += static_cast<int64_t>(slot.size());
        return total;
    }

    // Saving and restoring pending spikes (Network.store/restore) ----------------------------
    // The slot that peek() returns after k more calls to advance() (0 <= k < n_slots()).
    inline std::vector<int32_t>* slot_after(int64_t k) noexcept {
        size_t index = current_ + static_cast<size_t>(k);
        if (index >= slots_.size()) index -= slots_.size();
        return &slots_[index];
    }
    // Declare what restored entries (slot_after) are.  The next prepare() converts synapse
    // indices to values if it is given values (and refuses values if it is not); call it before
    // the next push().
    inline void set_holds_values(bool holds_values) noexcept {
        if (holds_values == holds_values_) return;
        holds_values_ = holds_values;
        borrowed_values_ = nullptr;
    }
    // Grow the ring to at least n slots; pending spikes keep their delivery step.
    inline void reserve_slots(int64_t n) {
        if (n > 0 && static_cast<size_t>(n) > slots_.size()) grow_ring(static_cast<size_t>(n));
    }

  private:
    // Finish a prepare(): the delay of each position in steps (checked), then swap everything in.
    // `synapses` is empty when position == synapse index; `steps_of(synapse)` gives a delay in
    // steps, as a double to be truncated towards zero; `values` (or NULL) what slots hold for
    // each synapse instead of its index.
    template <typename StepsOf>
    inline void install(std::vector<int32_t>& offsets, std::vector<int32_t>& synapses,
                        int64_t n_synapses, int64_t n_sources, StepsOf steps_of,
                        const int32_t* values = nullptr) {
        const bool holds_values = values != nullptr;
        const bool convert = holds_values && !holds_values_ && n_pending() > 0;
        if (!holds_values && holds_values_ && n_pending() > 0)
            throw std::invalid_argument("the queue holds pending values, not synapse indices: "
                                        "clear() it before preparing it without values");
        if (convert) check_pending_synapses(n_synapses);
        std::vector<int32_t> entries;
        if (holds_values && !synapses.empty()) {  // out of order: copy the value of each position
            entries.resize(static_cast<size_t>(n_synapses));
            for (int64_t position = 0; position < n_synapses; ++position) {
                entries[position] = values[synapses[position]];
            }
        }
        install_delays(offsets, synapses, n_synapses, n_sources, steps_of);
        if (!entries.empty()) synapses_by_position_.swap(entries);
        if (convert) {  // pending synapse indices (restored, or from a run without values)
            for (std::vector<int32_t>& slot : slots_) {
                for (int32_t& entry : slot) entry = values[entry];
            }
        }
        holds_values_ = holds_values;
        // grouped by source: position == synapse, push() reads the values where they are
        borrowed_values_ = holds_values && synapses_by_position_.empty() ? values : nullptr;
    }

    inline void check_pending_synapses(int64_t n_synapses) const {
        for (const std::vector<int32_t>& slot : slots_) {
            for (const int32_t entry : slot) {
                if (entry < 0 || entry >= n_synapses)
                    throw std::invalid_argument("a pending spike names synapse " +
                                                std::to_string(entry) + " of " +
                                                std::to_string(n_synapses));
            }
        }
    }

    template <typename StepsOf>
    inline void install_delays(std::vector<int32_t>& offsets, std::vector<int32_t>& synapses,
                               int64_t n_synapses, int64_t n_sources, StepsOf steps_of) {
        int32_t max_delay = 0, first_delay = 0;
        bool homogeneous = true;
        std::vector<int32_t> delays;
        for (int pass = 0; pass < 2; ++pass) {  // pass 1 stores the delays, if they differ
            for (int64_t position = 0; position < n_synapses; ++position) {
                const int64_t synapse = synapses.empty() ? position : synapses[position];
                const double steps = steps_of(synapse);
                if (!(steps >= 0.0 && steps < static_cast<double>(INT32_MAX)))
                    throw std::invalid_argument("delay of synapse " + std::to_string(synapse) +
                                                " out of range (" + std::to_string(steps) +
                                                " time steps)");
                const int32_t delay = static_cast<int32_t>(steps);
                if (pass == 1) {
                    delays[position] = delay;
                    continue;
                }
                if (position == 0) first_delay = delay;
                if (delay > max_delay) max_delay = delay;
                if (delay != first_delay) homogeneous = false;
            }
            if (homogeneous) break;
            if (pass == 0) delays.resize(static_cast<size_t>(n_synapses));
        }
        if (static_cast<size_t>(max_delay) + 1 > slots_.size()) {
            grow_ring(static_cast<size_t>(max_delay) + 1);
        }
        offsets_.swap(offsets);
        synapses_by_position_.swap(synapses);
        n_synapses_ = n_synapses;
        n_sources_ = n_sources;
        if (homogeneous) {
            homogeneous_delay_ = first_delay;
            delays_by_position_.clear();
            delays_by_position_.shrink_to_fit();
        } else {
            homogeneous_delay_ = -1;
            delays_by_position_.swap(delays);
        }
    }

    // Resize to n slots, n larger than now, keeping each pending slot at the same distance from
    // the current one: the current slot becomes slot 0, the new empty slots come last.
    inline void grow_ring(size_t n) {
        const size_t old_n = slots_.size();
        std::vector<std::vector<int32_t>> ring(n);
        for (size_t k = 0; k < old_n; ++k) {
            size_t old_index = current_ + k;
            if (old_index >= old_n) old_index -= old_n;
            ring[k].swap(slots_[old_index]);
        }
        slots_.swap(ring);
        current_ = 0;
    }

    static inline void check_arguments(int64_t n_synapses, const int32_t* offsets,
                                       int64_t n_sources,
                                       const int32_t* synapses_by_source) {
        if (n_synapses < 0 || n_synapses > INT32_MAX)
            throw std::invalid_argument("the number of synapses must be in 0 .. 2**31-1");
        if (n_sources < 0 || n_sources >= INT32_MAX)
            throw std::invalid_argument("the number of sources must be in 0 .. 2**31-2");
        if (offsets == nullptr) throw std::invalid_argument("missing offsets");
        if (offsets[0] != 0) throw std::invalid_argument("the first source offset must be 0");
        for (int64_t s = 0; s < n_sources; ++s) {
            if (offsets[s + 1] < offsets[s])
                throw std::invalid_argument("source offsets must not decrease (source " +
                                            std::to_string(s) + ")");
        }
        if (offsets[n_sources] != n_synapses)
            throw std::invalid_argument("the last source offset must equal the number of "
                                        "synapses (" + std::to_string(n_synapses) + "), not " +
                                        std::to_string(offsets[n_sources]));
        if (synapses_by_source != nullptr) {
            for (int64_t k = 0; k < n_synapses; ++k) {
                if (synapses_by_source[k] < 0 || synapses_by_source[k] >= n_synapses)
                    throw std::invalid_argument("synapse index out of range at position " +
                                                std::to_string(k));
            }
        }
    }

    std::vector<std::vector<int32_t>> slots_;  // the ring; slots_[current_] is this step
    size_t current_;
    int64_t n_sources_;
    int64_t n_synapses_;
    std::vector<int32_t> offsets_;               // n_sources + 1 entries
    std::vector<int32_t> synapses_by_position_;  // synapse index (or value) at each position, or
                                                 // empty: position == synapse index
    std::vector<int32_t> delays_by_position_;    // delay at each position (heterogeneous only)
    int32_t homogeneous_delay_;                  // the common delay, or -1 when delays differ
    bool holds_values_;                          // slots hold values, not synapse indices
    const int32_t* borrowed_values_;             // the caller's values (by synapse), when
                                                 // push() reads them where they are
};

}  // namespace spikeforge

#endif
