#include "zarr/chunk.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace nimbus::zarr {
namespace {

// Comparison block: several KiB of repeated fill elements, so IsAllFill is a few large memcmp
// calls rather than one call per element.
constexpr size_t kPatternBytes = 4096;

// The fill element's bytes, exactly item_size long (a malformed fill reads as zeros past its end).
std::string FillElement(const ChunkSpec& spec) {
  std::string element = spec.fill_value;
  element.resize(spec.data_type.item_size, '\0');
  return element;
}

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

// Fills `n` bytes at `out` with `element` repeated (n is a multiple of element.size()).
void Replicate(std::string_view element, char* out, size_t n) {
  if (n == 0) return;
  if (element.size() == 1 || AllZero(element)) {
    std::memset(out, element.empty() ? 0 : element[0], n);
    return;
  }
  const size_t first = std::min(n, element.size());
  std::memcpy(out, element.data(), first);
  // Doubling copies: log2(n / item_size) memcpy calls.
  size_t filled = first;
  while (filled < n) {
    const size_t step = std::min(filled, n - filled);
    std::memcpy(out + filled, out, step);
    filled += step;
  }
}

}  // namespace

ChunkArray ChunkArray::Filled(const ChunkSpec& spec) {
  ChunkArray chunk;
  chunk.shape = spec.shape;
  const uint64_t count = spec.num_elements();
  if (spec.data_type.variable_length()) {
    chunk.values.assign(count, spec.fill_value);
    return chunk;
  }
  const size_t item_size = spec.data_type.item_size;
  chunk.data = Buffer::Allocate(count * item_size);
  Replicate(FillElement(spec), chunk.data.data(), chunk.data.size());
  return chunk;
}

bool ChunkArray::IsAllFill(const ChunkSpec& spec) const {
  const uint64_t count = spec.num_elements();
  if (spec.data_type.variable_length()) {
    if (values.size() != count) return false;
    return std::all_of(values.begin(), values.end(),
                       [&](const std::string& v) { return v == spec.fill_value; });
  }
  const size_t item_size = spec.data_type.item_size;
  if (item_size == 0 || data.size() != count * item_size) return false;
  const std::string element = FillElement(spec);
  // A block holding a whole number of elements so every comparison stays element-aligned.
  const size_t block_size = std::min<size_t>(
      data.size(), item_size >= kPatternBytes ? item_size : kPatternBytes / item_size * item_size);
  std::string block(block_size, '\0');
  Replicate(element, block.data(), block.size());
  const char* p = data.data();
  size_t remaining = data.size();
  while (remaining > 0) {
    const size_t n = std::min(remaining, block_size);
    if (std::memcmp(p, block.data(), n) != 0) return false;
    p += n;
    remaining -= n;
  }
  return true;
}

}  // namespace nimbus::zarr
