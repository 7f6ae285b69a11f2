# Cython declarations of the runtime's C++ containers, written once: containers.pyx (their
# owners) and every generated module cimport them from here ("from cpp_containers cimport ...",
# with this folder on Cython's include path), so the two always agree on the layout and the
# methods of the objects that pass between them through capsules.  Their capsule names are in
# registry.py.
#
# Methods that generated code calls inside its nogil loops are noexcept: they do not allocate
# (SpikeQueue::push catches std::bad_alloc and returns false; recordings append through
# spikeforge_push_back in functions.h, or into room reserved before the run, as StateMonitor
# does), since a C++ exception cannot pass through generated code; those only the owners call
# may raise (except +: std::bad_alloc becomes MemoryError).
from libc.stdint cimport int32_t, int64_t


cdef extern from "<vector>" namespace "std" nogil:
    cdef cppclass vector[T]:
        vector() except +
        void push_back(const T&) noexcept
        void reserve(size_t) except +
        void resize(size_t) except +
        size_t size() noexcept
        T* data() noexcept


cdef extern from "dynamic_array.h" namespace "spikeforge" nogil:
    cdef cppclass DynamicArray2D:
        DynamicArray2D(int64_t columns)
        double* append_row() noexcept
        int64_t rows()
        int64_t columns()
        double* data()
        void resize_rows(int64_t rows) except +
        void reserve_rows(int64_t rows) except +


cdef extern from "spikequeue.h" namespace "spikeforge" nogil:
    cdef cppclass SpikeQueue:
        SpikeQueue() except +
        void prepare(const int32_t* delay_steps, int64_t n_synapses,
                     const int32_t* synapse_offsets_by_source, int64_t n_sources,
                     const int32_t* synapses_by_source) except +
        void prepare_from_sources(const int32_t* sources, int64_t n_synapses, int64_t n_sources,
                                  const double* delay_seconds, double uniform_delay_seconds,
                                  double dt, const int32_t* values) except +
        void prepare_grouped(const int32_t* source_offsets, int64_t n_sources,
                             const double* delay_seconds, double uniform_delay_seconds,
                             double dt, const int32_t* values) except +
        bint stores_synapse_order() noexcept
        bint holds_values() noexcept
        void set_holds_values(bint holds_values) noexcept
        bint push(const int32_t* spiking_sources, int64_t n_spikes) noexcept
        vector[int32_t]* peek() noexcept
        void advance() noexcept
        void clear() noexcept
        int64_t n_slots() noexcept
        int64_t n_sources() noexcept
        int64_t n_synapses() noexcept
        bint is_homogeneous() noexcept
        int64_t n_pending() noexcept
        vector[int32_t]* slot_after(int64_t k) noexcept
        void reserve_slots(int64_t n) except +
