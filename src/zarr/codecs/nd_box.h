// Walking a box (a sub-block) of a C-order array row by row: the sharding codec copies inner
// chunks out of and into a shard with it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace nimbus::zarr::codec_internal {

// Calls fn(outer_offset, box_offset, count) for each run of `count` consecutive elements along
// the innermost dimension of the box at `origin` with shape `box` inside a C-order array of shape
// `outer`. Offsets are element indices; the box itself is taken as C-order contiguous. Requires
// origin + box <= outer in every dimension.
template <typename Fn>
void ForEachBoxRow(std::span<const uint64_t> outer, std::span<const uint64_t> origin,
                   std::span<const uint64_t> box, Fn fn) {
  const size_t rank = outer.size();
  uint64_t total = 1;
  for (uint64_t d : box) total *= d;
  if (total == 0) return;
  if (rank == 0) {
    fn(uint64_t{0}, uint64_t{0}, uint64_t{1});
    return;
  }
  std::vector<uint64_t> stride(rank);
  uint64_t s = 1;
  for (size_t i = rank; i-- > 0;) {
    stride[i] = s;
    s *= outer[i];
  }
  uint64_t outer_offset = 0;
  for (size_t i = 0; i < rank; ++i) outer_offset += origin[i] * stride[i];
  const uint64_t row = box[rank - 1];
  std::vector<uint64_t> counter(rank, 0);
  uint64_t box_offset = 0;
  while (true) {
    fn(outer_offset, box_offset, row);
    box_offset += row;
    bool done = true;
    for (size_t d = rank - 1; d-- > 0;) {
      outer_offset += stride[d];
      if (++counter[d] < box[d]) {
        done = false;
        break;
      }
      outer_offset -= stride[d] * box[d];
      counter[d] = 0;
    }
    if (done) return;
  }
}

}  // namespace nimbus::zarr::codec_internal
