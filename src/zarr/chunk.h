// ChunkArray: one chunk's elements in memory, C order, native endianness. The unit the codec chain
// encodes and decodes and the array layer copies selections into and out of.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "zarr/data_type.h"

namespace nimbus::zarr {

// What a codec sees: the shape and type of the chunk it encodes, and the fill value.
struct ChunkSpec {
  std::vector<uint64_t> shape;
  DataType data_type;
  std::string fill_value;  // as in ArrayMetadata::fill_value

  uint64_t num_elements() const {
    uint64_t n = 1;
    for (uint64_t d : shape) n *= d;
    return n;
  }
  uint64_t num_bytes() const { return num_elements() * data_type.item_size; }
};

struct ChunkArray {
  std::vector<uint64_t> shape;
  Buffer data;                      // fixed-size types: num_elements * item_size bytes
  std::vector<std::string> values;  // variable-length types: num_elements values

  // A chunk of `spec`'s shape where every element is the fill value.
  static ChunkArray Filled(const ChunkSpec& spec);
  // True when every element equals the fill value (bitwise for fixed-size types, so NaN fill
  // matches NaN elements with the same bits).
  bool IsAllFill(const ChunkSpec& spec) const;
};

}  // namespace nimbus::zarr
