// Reductions over strided N-d selections: count, min, max, sum and select, for every dtype, over
// all axes, some axes or none (numpy axis=()).
//
// The data is never copied to be reduced: a selection is a strided view (first element, a count
// and a signed element stride per logical dimension) on the decoded bytes, whatever their memory
// order. Loops run with the smallest-stride dimension innermost, so a C- or F-order array is read
// sequentially; contiguous innermost runs use lane-split accumulators that GCC vectorises.
//
// Semantics (docs/active.md):
//  - missing elements (MissingSpec) are excluded from every reduction and every count;
//  - sum accumulates integers in 64-bit two's complement and returns the dtype's wrap-around
//    result (numpy.sum(a, dtype=a.dtype)); floats accumulate in float64 and round to the dtype;
//  - min/max propagate NaN (numpy); with nothing to reduce (empty selection, all missing) they
//    return NaN for floats and the fold's start value for integers (dtype max for min, dtype min
//    for max), always with count 0;
//  - count is int64; `counts` holds one entry per output element in C order (select: the total);
//  - multi-dimensional results (select, axis=(), partial reductions) are laid out in the request's
//    memory order (C or F).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "active/dtype.h"
#include "active/request.h"
#include "core/buffer.h"
#include "core/status.h"

namespace nimbus::active {

struct StridedView {
  int64_t first = 0;              // element index of the first selected element
  std::vector<int64_t> counts;    // selected elements per logical dimension
  std::vector<int64_t> strides;   // element stride per logical dimension (signed)

  int64_t size() const;
};

// The view a request selects on an array of `shape` stored in C or F order.
StridedView MakeView(const std::vector<uint64_t>& shape, bool fortran_order,
                     const std::optional<std::vector<SliceSpec>>& selection);

struct ReductionResult {
  DType dtype = DType::kInt64;  // of `bytes`: the request dtype, int64 for count
  Buffer bytes;                 // native byte order
  std::vector<uint64_t> shape;
  std::vector<int64_t> counts;
};

// Runs `op` on `data`: `element_count` elements of `dtype` in native byte order, which the view
// must lie within. `axis`: nullopt or every axis = full reduction; empty = none; otherwise those
// axes (validated: ascending, in range).
Result<ReductionResult> Reduce(Operation op, DType dtype, const char* data, size_t element_count,
                               const StridedView& view,
                               const std::optional<std::vector<size_t>>& axis,
                               bool fortran_output, const MissingSpec& missing);

}  // namespace nimbus::active
