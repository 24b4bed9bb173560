#include "zarr/codecs/transpose.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "zarr/codecs/config.h"

namespace nimbus::zarr {
namespace {

// Calls copy(out_index, in_index) for every element, out_index running in C order over the
// permuted shape; the innermost loop is a plain strided walk so `copy` inlines into it.
template <typename CopyFn>
void ForEachTransposed(std::span<const uint64_t> in_shape, std::span<const size_t> order,
                       CopyFn copy) {
  const size_t rank = in_shape.size();
  uint64_t total = 1;
  for (uint64_t d : in_shape) total *= d;
  if (total == 0) return;
  if (rank == 0) {
    copy(0, 0);
    return;
  }
  std::vector<uint64_t> in_stride(rank);
  uint64_t stride = 1;
  for (size_t i = rank; i-- > 0;) {
    in_stride[i] = stride;
    stride *= in_shape[i];
  }
  std::vector<uint64_t> out_shape(rank), step(rank), counter(rank, 0);
  for (size_t i = 0; i < rank; ++i) {
    out_shape[i] = in_shape[order[i]];
    step[i] = in_stride[order[i]];
  }
  const uint64_t inner_count = out_shape[rank - 1];
  const uint64_t inner_step = step[rank - 1];
  uint64_t in_base = 0;
  uint64_t out = 0;
  while (true) {
    uint64_t in = in_base;
    for (uint64_t k = 0; k < inner_count; ++k, in += inner_step) copy(out++, in);
    bool done = true;
    for (size_t d = rank - 1; d-- > 0;) {
      in_base += step[d];
      if (++counter[d] < out_shape[d]) {
        done = false;
        break;
      }
      in_base -= step[d] * out_shape[d];
      counter[d] = 0;
    }
    if (done) return;
  }
}

template <typename T>
void TransposeTyped(const char* in, std::span<const uint64_t> in_shape,
                    std::span<const size_t> order, char* out) {
  ForEachTransposed(in_shape, order, [&](uint64_t o, uint64_t i) {
    std::memcpy(out + o * sizeof(T), in + i * sizeof(T), sizeof(T));
  });
}

}  // namespace

void TransposeElements(const char* in, std::span<const uint64_t> in_shape,
                       std::span<const size_t> order, size_t item_size, char* out) {
  switch (item_size) {
    case 1:
      return TransposeTyped<uint8_t>(in, in_shape, order, out);
    case 2:
      return TransposeTyped<uint16_t>(in, in_shape, order, out);
    case 4:
      return TransposeTyped<uint32_t>(in, in_shape, order, out);
    case 8:
      return TransposeTyped<uint64_t>(in, in_shape, order, out);
    default:
      ForEachTransposed(in_shape, order, [&](uint64_t o, uint64_t i) {
        std::memcpy(out + o * item_size, in + i * item_size, item_size);
      });
  }
}

TransposeCodec::TransposeCodec(std::vector<size_t> order)
    : order_(std::move(order)), inverse_(order_.size()) {
  for (size_t i = 0; i < order_.size(); ++i) {
    inverse_[order_[i]] = i;
    if (order_[i] != i) identity_ = false;
  }
}

Result<std::shared_ptr<const TransposeCodec>> TransposeCodec::FromJson(
    const nlohmann::json& configuration, const ChunkSpec& decoded_spec) {
  NIMBUS_RETURN_IF_ERROR(codec_internal::CheckMembers(configuration, "transpose", {"order"}));
  const size_t rank = decoded_spec.shape.size();
  if (!configuration.is_object() || !configuration.contains("order")) {
    return codec_internal::MemberError("transpose", "order", "is required");
  }
  const nlohmann::json& j = configuration["order"];
  std::vector<size_t> order(rank);
  std::iota(order.begin(), order.end(), size_t{0});
  if (j.is_string() && (j == "C" || j == "F")) {
    // Legacy forms from early v3 drafts: C = identity, F = reversed.
    if (j == "F") std::reverse(order.begin(), order.end());
    return std::make_shared<const TransposeCodec>(std::move(order));
  }
  auto bad = [&](const std::string& why) {
    return codec_internal::MemberError("transpose", "order", why + ", got " + j.dump());
  };
  if (!j.is_array()) return bad("must be a permutation list (or \"C\"/\"F\")");
  if (j.size() != rank) {
    return bad("must have one entry per dimension (" + std::to_string(rank) + ")");
  }
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < rank; ++i) {
    uint64_t axis = 0;
    if (!codec_internal::AsUnsigned(j[i], &axis) || axis >= rank || seen[axis]) {
      return bad("must be a permutation of 0.." + std::to_string(rank == 0 ? 0 : rank - 1));
    }
    order[i] = static_cast<size_t>(axis);
    seen[axis] = true;
  }
  return std::make_shared<const TransposeCodec>(std::move(order));
}

nlohmann::json TransposeCodec::ToJson() const {
  return {{"name", "transpose"}, {"configuration", {{"order", order_}}}};
}

Result<ChunkSpec> TransposeCodec::EncodedSpec(const ChunkSpec& decoded) const {
  if (decoded.shape.size() != order_.size()) {
    return InvalidArgumentError("codec 'transpose': order has " + std::to_string(order_.size()) +
                                " entries but the chunk has " +
                                std::to_string(decoded.shape.size()) + " dimensions");
  }
  ChunkSpec encoded = decoded;
  for (size_t i = 0; i < order_.size(); ++i) encoded.shape[i] = decoded.shape[order_[i]];
  return encoded;
}

Result<ChunkArray> TransposeCodec::Permute(ChunkArray chunk, const std::vector<uint64_t>& shape,
                                           const std::vector<size_t>& order,
                                           const DataType& type) const {
  std::vector<uint64_t> permuted(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) permuted[i] = shape[order[i]];
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  if (type.variable_length()) {
    if (chunk.values.size() != n) {
      return InvalidArgumentError("transpose: chunk holds " + std::to_string(chunk.values.size()) +
                                  " values, expected " + std::to_string(n));
    }
    if (identity_) {
      chunk.shape = std::move(permuted);
      return chunk;
    }
    std::vector<std::string> out(n);
    ForEachTransposed(shape, order,
                      [&](uint64_t o, uint64_t i) { out[o] = std::move(chunk.values[i]); });
    return ChunkArray{std::move(permuted), Buffer(), std::move(out)};
  }
  if (chunk.data.size() != n * type.item_size) {
    return InvalidArgumentError("transpose: chunk holds " + std::to_string(chunk.data.size()) +
                                " bytes, expected " + std::to_string(n * type.item_size));
  }
  if (identity_) {
    chunk.shape = std::move(permuted);
    return chunk;
  }
  Buffer out = Buffer::Allocate(chunk.data.size());
  TransposeElements(chunk.data.data(), shape, order, type.item_size, out.data());
  return ChunkArray{std::move(permuted), std::move(out), {}};
}

Result<ChunkArray> TransposeCodec::Encode(ChunkArray decoded, const ChunkSpec& decoded_spec) const {
  NIMBUS_ASSIGN_OR_RETURN(ChunkSpec encoded_spec, EncodedSpec(decoded_spec));
  (void)encoded_spec;
  return Permute(std::move(decoded), decoded_spec.shape, order_, decoded_spec.data_type);
}

Result<ChunkArray> TransposeCodec::Decode(ChunkArray encoded, const ChunkSpec& decoded_spec) const {
  NIMBUS_ASSIGN_OR_RETURN(ChunkSpec encoded_spec, EncodedSpec(decoded_spec));
  return Permute(std::move(encoded), encoded_spec.shape, inverse_, decoded_spec.data_type);
}

}  // namespace nimbus::zarr
