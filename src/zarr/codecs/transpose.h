// transpose (array -> array): permutes the chunk's dimensions. Configuration {"order": [perm]}
// where encoded dimension i is decoded dimension order[i]; the legacy strings "C" (identity) and
// "F" (reversed) are accepted on read and written back as the list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "zarr/chunk.h"
#include "zarr/codec.h"

namespace nimbus::zarr {

// Writes `in` (C order, shape `in_shape`, `item_size` bytes per element) to `out` as the array
// whose dimension i is in's dimension order[i] (numpy's in.transpose(order), made contiguous).
void TransposeElements(const char* in, std::span<const uint64_t> in_shape,
                       std::span<const size_t> order, size_t item_size, char* out);

class TransposeCodec : public ArrayToArrayCodec {
 public:
  static Result<std::shared_ptr<const TransposeCodec>> FromJson(const nlohmann::json& configuration,
                                                                const ChunkSpec& decoded_spec);
  explicit TransposeCodec(std::vector<size_t> order);

  std::string name() const override { return "transpose"; }
  nlohmann::json ToJson() const override;
  Result<ChunkSpec> EncodedSpec(const ChunkSpec& decoded) const override;
  Result<ChunkArray> Encode(ChunkArray decoded, const ChunkSpec& decoded_spec) const override;
  Result<ChunkArray> Decode(ChunkArray encoded, const ChunkSpec& decoded_spec) const override;

  const std::vector<size_t>& order() const { return order_; }

 private:
  // Permutes `chunk` (of shape `shape`) by `order` into a chunk of the permuted shape.
  Result<ChunkArray> Permute(ChunkArray chunk, const std::vector<uint64_t>& shape,
                             const std::vector<size_t>& order, const DataType& type) const;

  std::vector<size_t> order_;
  std::vector<size_t> inverse_;
  bool identity_ = true;
};

}  // namespace nimbus::zarr
