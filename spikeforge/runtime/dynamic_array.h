// A growable 2-D array of doubles: rows of a fixed width appended at the end, stored row after
// row in one std::vector.  Monitors append one row per recorded time step from generated code.
#ifndef SPIKEFORGE_DYNAMIC_ARRAY_H
#define SPIKEFORGE_DYNAMIC_ARRAY_H

#include <stdint.h>
#include <vector>

namespace spikeforge {

class DynamicArray2D {
  public:
    explicit DynamicArray2D(int64_t columns = 0) : columns_(columns) {}

    // Appends a row (zero-filled) and returns a pointer to it, valid until the next append.
    inline double *append_row() {
        data_.resize(data_.size() + (size_t)columns_);
        return data_.data() + data_.size() - (size_t)columns_;
    }

    inline int64_t rows() const { return columns_ ? (int64_t)(data_.size() / (size_t)columns_) : 0; }
    inline int64_t columns() const { return columns_; }
    inline double *data() { return data_.data(); }
    inline void resize_rows(int64_t rows) { data_.resize((size_t)(rows * columns_)); }
    inline void reserve_rows(int64_t rows) { data_.reserve((size_t)(rows * columns_)); }

  private:
    int64_t columns_;
    std::vector<double> data_;
};

}  // namespace spikeforge

#endif
