// Selections of array elements and how they map onto a caller's buffer.
//
// Two kinds cover what HDF5 and numpy ask for:
//  - orthogonal: per dimension a sorted set of indices (unions of strided segments), the selection
//    being their Cartesian product. A box, an HDF5 regular hyperslab (start, stride, count,
//    block) and numpy's orthogonal indexing are all of this kind. Elements are ordered row-major
//    over the product, and the caller's buffer holds them densely in C or F order of the
//    selection's shape.
//  - points: an explicit list of coordinates, in the caller's order.
// The array layer turns a selection into per-chunk copy runs (CopyRun) that move elements between
// a decoded chunk and the caller's buffer, so every read/write path shares one copy kernel.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace nimbus::zarr {

// Indices start, start+stride, ..., start+(count-1)*stride.
struct Segment {
  uint64_t start = 0;
  uint64_t stride = 1;
  uint64_t count = 0;
  uint64_t last() const { return start + (count - 1) * stride; }
};

// The selected indices of one dimension: sorted, non-overlapping segments.
class DimSelection {
 public:
  DimSelection() = default;
  static DimSelection Range(uint64_t start, uint64_t count);  // [start, start + count)
  // HDF5 hyperslab along one dimension: `count` blocks of `block` consecutive indices, `stride`
  // apart. Overlapping blocks (stride < block) are merged.
  static DimSelection Hyperslab(uint64_t start, uint64_t stride, uint64_t count, uint64_t block);
  // Arbitrary indices; sorted and de-duplicated.
  static DimSelection Indices(std::vector<uint64_t> indices);

  uint64_t size() const { return total_; }  // number of selected indices
  bool empty() const { return total_ == 0; }
  const std::vector<Segment>& segments() const { return segments_; }
  uint64_t max_index() const { return segments_.empty() ? 0 : segments_.back().last(); }

  // Visits the selected indices in [lo, hi) as segments, with the rank (position within this
  // dimension's selection) of each segment's first index: fn(Segment, rank).
  template <typename Fn>
  void ForEachIn(uint64_t lo, uint64_t hi, Fn&& fn) const;

 private:
  void Add(Segment s);  // appends (must be after the last one)
  std::vector<Segment> segments_;
  std::vector<uint64_t> rank_;  // rank of each segment's first index
  uint64_t total_ = 0;
};

enum class Layout { kC, kF };

class Selection {
 public:
  // The whole array.
  static Selection All(std::span<const uint64_t> shape);
  static Selection Box(std::span<const uint64_t> start, std::span<const uint64_t> count);
  static Selection Orthogonal(std::vector<DimSelection> dims);
  // points[i] is one coordinate of rank() values.
  static Selection Points(size_t rank, std::vector<uint64_t> flat_coordinates);

  bool is_points() const { return points_; }
  size_t rank() const { return rank_; }
  uint64_t num_elements() const;
  // Orthogonal only.
  const std::vector<DimSelection>& dims() const { return dims_; }
  // The dense shape of an orthogonal selection (its per-dimension sizes).
  std::vector<uint64_t> shape() const;
  // Points only: coordinates, rank() per point.
  const std::vector<uint64_t>& coordinates() const { return coords_; }

  // Checks that every selected index lies inside `array_shape`; the error names the dimension.
  Status Validate(std::span<const uint64_t> array_shape) const;

 private:
  bool points_ = false;
  size_t rank_ = 0;
  std::vector<DimSelection> dims_;
  std::vector<uint64_t> coords_;
};

// Moves `length` elements between a chunk (element index chunk_elem, step chunk_stride) and the
// caller's buffer (element index buffer_elem, step buffer_stride). Strides are in elements.
struct CopyRun {
  uint64_t chunk_elem;
  uint64_t chunk_stride;
  uint64_t buffer_elem;
  int64_t buffer_stride;
  uint64_t length;
};

// The part of a selection that falls in one chunk.
struct ChunkPart {
  std::vector<uint64_t> chunk_coords;  // grid coordinates of the chunk
  std::vector<CopyRun> runs;
  uint64_t num_elements = 0;
  bool covers_chunk = false;  // every element of the (clipped) chunk is selected
};

// Splits `selection` over a regular chunk grid. For orthogonal selections, `layout` says how the
// caller's buffer holds the selection's dense shape; points map to buffer elements in list order.
// Parts come in chunk-grid C order. Edge chunks are clipped to `array_shape`.
std::vector<ChunkPart> SplitByChunk(const Selection& selection, std::span<const uint64_t> array_shape,
                                    std::span<const uint64_t> chunk_shape, Layout layout);

// Element copies between chunk and buffer; item_size is the element size in bytes.
void CopyToBuffer(const char* chunk, char* buffer, size_t item_size, const std::vector<CopyRun>& runs);
void CopyFromBuffer(const char* buffer, char* chunk, size_t item_size,
                    const std::vector<CopyRun>& runs);
// Same for variable-length elements held as std::string.
void CopyToBuffer(const std::string* chunk, std::string* buffer, const std::vector<CopyRun>& runs);
void CopyFromBuffer(const std::string* buffer, std::string* chunk, const std::vector<CopyRun>& runs);

// ---------------------------------------------------------------------------------------------

template <typename Fn>
void DimSelection::ForEachIn(uint64_t lo, uint64_t hi, Fn&& fn) const {
  // Binary search for the first segment whose last index is >= lo.
  size_t a = 0, b = segments_.size();
  while (a < b) {
    size_t m = (a + b) / 2;
    if (segments_[m].last() < lo) a = m + 1; else b = m;
  }
  for (size_t i = a; i < segments_.size(); ++i) {
    const Segment& s = segments_[i];
    if (s.start >= hi) break;
    // First k with start + k*stride >= lo; last k with start + k*stride < hi.
    uint64_t k0 = s.start >= lo ? 0 : (lo - s.start + s.stride - 1) / s.stride;
    uint64_t k1 = std::min<uint64_t>(s.count, (hi - s.start + s.stride - 1) / s.stride);
    if (k0 >= k1) continue;
    fn(Segment{s.start + k0 * s.stride, s.stride, k1 - k0}, rank_[i] + k0);
  }
}

}  // namespace nimbus::zarr
