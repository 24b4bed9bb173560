// sharding_indexed: see ShardingCodec in zarr/codec.h.
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "zarr/codec.h"
#include "zarr/codecs/config.h"
#include "zarr/codecs/nd_box.h"

namespace nimbus::zarr {
namespace {

using codec_internal::CorruptError;
using codec_internal::ForEachBoxRow;

constexpr const char* kName = "sharding_indexed";
constexpr uint64_t kMissing = ~uint64_t{0};

nlohmann::json DefaultInnerCodecs() {
  return nlohmann::json::array({{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}}});
}

nlohmann::json DefaultIndexCodecs() {
  return nlohmann::json::array(
      {{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}}, {{"name", "crc32c"}}});
}

// The index is itself a chunk: uint64 (offset, nbytes) pairs, shape inner_grid + [2].
ChunkSpec IndexSpec(const std::vector<uint64_t>& inner_grid) {
  ChunkSpec spec;
  spec.shape = inner_grid;
  spec.shape.push_back(2);
  spec.data_type.type_class = TypeClass::kUInt;
  spec.data_type.name = "uint64";
  spec.data_type.item_size = 8;
  spec.data_type.swap_size = 8;
  spec.fill_value = std::string(8, '\xff');
  return spec;
}

std::string CoordsText(const std::vector<uint64_t>& coords) {
  std::string s = "(";
  for (size_t i = 0; i < coords.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(coords[i]);
  }
  return s + ")";
}

// Steps `coords` to the next position in C order over `grid`; false after the last.
bool NextCoords(std::vector<uint64_t>& coords, const std::vector<uint64_t>& grid) {
  for (size_t d = coords.size(); d-- > 0;) {
    if (++coords[d] < grid[d]) return true;
    coords[d] = 0;
  }
  return false;
}

}  // namespace

Result<std::shared_ptr<const ShardingCodec>> ShardingCodec::FromJson(
    const nlohmann::json& configuration, const ChunkSpec& shard_spec) {
  using codec_internal::MemberError;
  NIMBUS_RETURN_IF_ERROR(codec_internal::CheckMembers(
      configuration, kName, {"chunk_shape", "codecs", "index_codecs", "index_location"}));
  if (!configuration.is_object() || !configuration.contains("chunk_shape")) {
    return MemberError(kName, "chunk_shape", "is required");
  }
  const size_t rank = shard_spec.shape.size();
  const nlohmann::json& chunk_shape = configuration["chunk_shape"];
  if (!chunk_shape.is_array() || chunk_shape.size() != rank) {
    return MemberError(
        kName, "chunk_shape",
        "must list " + std::to_string(rank) + " dimensions, got " + chunk_shape.dump());
  }
  auto codec = std::make_shared<ShardingCodec>();
  uint64_t num_inner = 1;
  for (size_t i = 0; i < rank; ++i) {
    uint64_t inner = 0;
    if (!codec_internal::AsUnsigned(chunk_shape[i], &inner) || inner == 0) {
      return MemberError(kName, "chunk_shape",
                         "must hold positive integers, got " + chunk_shape.dump());
    }
    if (shard_spec.shape[i] % inner != 0) {
      return MemberError(kName, "chunk_shape",
                         chunk_shape.dump() + " must divide the shard shape " +
                             nlohmann::json(shard_spec.shape).dump());
    }
    codec->inner_chunk_shape_.push_back(inner);
    codec->inner_grid_.push_back(shard_spec.shape[i] / inner);
    num_inner *= codec->inner_grid_.back();  // bounded by the shard's element count
  }
  if (num_inner > std::numeric_limits<uint64_t>::max() / 16) {
    return MemberError(kName, "chunk_shape", "makes an index too large");
  }

  std::string location = "end";
  if (configuration.contains("index_location")) {
    const nlohmann::json& j = configuration["index_location"];
    if (!j.is_string() || (j != "start" && j != "end")) {
      return MemberError(kName, "index_location", "must be \"start\" or \"end\", got " + j.dump());
    }
    location = j.get<std::string>();
  }
  codec->index_location_ = location == "start" ? IndexLocation::kStart : IndexLocation::kEnd;

  ChunkSpec inner_spec = shard_spec;
  inner_spec.shape = codec->inner_chunk_shape_;
  const nlohmann::json inner_json =
      configuration.contains("codecs") ? configuration["codecs"] : DefaultInnerCodecs();
  auto inner_chain = CodecChain::FromJson(inner_json, inner_spec);
  if (!inner_chain.ok()) return inner_chain.status().WithContext("codec 'sharding_indexed' codecs");
  codec->inner_chain_ = std::make_shared<const CodecChain>(std::move(inner_chain).value());

  const nlohmann::json index_json =
      configuration.contains("index_codecs") ? configuration["index_codecs"] : DefaultIndexCodecs();
  auto index_chain = CodecChain::FromJson(index_json, IndexSpec(codec->inner_grid_));
  if (!index_chain.ok()) {
    return index_chain.status().WithContext("codec 'sharding_indexed' index_codecs");
  }
  codec->index_chain_ = std::make_shared<const CodecChain>(std::move(index_chain).value());
  std::optional<uint64_t> index_size = codec->index_chain_->FixedEncodedSize();
  if (!index_size.has_value()) {
    return InvalidArgumentError(
        "codec 'sharding_indexed': index_codecs must have a fixed size (no compressors), got " +
        index_json.dump());
  }
  codec->encoded_index_size_ = *index_size;
  codec->configuration_ = {{"chunk_shape", codec->inner_chunk_shape_},
                           {"codecs", codec->inner_chain_->ToJson()},
                           {"index_codecs", codec->index_chain_->ToJson()},
                           {"index_location", location}};
  return std::shared_ptr<const ShardingCodec>(std::move(codec));
}

nlohmann::json ShardingCodec::ToJson() const {
  return {{"name", kName}, {"configuration", configuration_}};
}

uint64_t ShardingCodec::num_inner_chunks() const {
  uint64_t n = 1;
  for (uint64_t d : inner_grid_) n *= d;
  return n;
}

Result<Buffer> ShardingCodec::Encode(const ChunkArray& shard, const ChunkSpec& spec) const {
  const size_t rank = inner_grid_.size();
  for (size_t i = 0; i < rank; ++i) {
    if (spec.shape.size() != rank || spec.shape[i] != inner_grid_[i] * inner_chunk_shape_[i]) {
      return InvalidArgumentError("sharding_indexed: shard shape " +
                                  nlohmann::json(spec.shape).dump() +
                                  " is not the shape the codec was built for");
    }
  }
  const bool variable = spec.data_type.variable_length();
  const size_t item_size = spec.data_type.item_size;
  if (variable ? shard.values.size() != spec.num_elements()
               : shard.data.size() != spec.num_bytes()) {
    return InvalidArgumentError("sharding_indexed: shard data does not match its shape");
  }
  const ChunkSpec& inner_spec = inner_chain_->spec();
  const uint64_t inner_elements = inner_spec.num_elements();
  std::vector<std::optional<Buffer>> encoded(num_inner_chunks());
  std::vector<uint64_t> coords(rank, 0);
  std::vector<uint64_t> origin(rank);
  for (size_t index = 0; index < encoded.size(); ++index, NextCoords(coords, inner_grid_)) {
    for (size_t i = 0; i < rank; ++i) origin[i] = coords[i] * inner_chunk_shape_[i];
    ChunkArray inner;
    inner.shape = inner_chunk_shape_;
    if (variable) {
      inner.values.resize(inner_elements);
      ForEachBoxRow(spec.shape, origin, inner_chunk_shape_,
                    [&](uint64_t outer, uint64_t box, uint64_t count) {
                      std::copy_n(shard.values.begin() + outer, count, inner.values.begin() + box);
                    });
    } else {
      inner.data = Buffer::Allocate(inner_elements * item_size);
      ForEachBoxRow(spec.shape, origin, inner_chunk_shape_,
                    [&](uint64_t outer, uint64_t box, uint64_t count) {
                      std::memcpy(inner.data.data() + box * item_size,
                                  shard.data.data() + outer * item_size, count * item_size);
                    });
    }
    if (inner.IsAllFill(inner_spec)) continue;  // omitted: reads back as fill
    auto bytes = inner_chain_->Encode(std::move(inner));
    if (!bytes.ok()) {
      return bytes.status().WithContext("sharding_indexed: inner chunk " + CoordsText(coords));
    }
    encoded[index] = std::move(bytes).value();
  }
  return AssembleShard(encoded);
}

Result<Buffer> ShardingCodec::AssembleShard(
    const std::vector<std::optional<Buffer>>& encoded_inner) const {
  const uint64_t n = num_inner_chunks();
  if (encoded_inner.size() != n) {
    return InvalidArgumentError("sharding_indexed: " + std::to_string(encoded_inner.size()) +
                                " inner chunks given, the shard holds " + std::to_string(n));
  }
  const uint64_t data_start = index_location_ == IndexLocation::kStart ? encoded_index_size_ : 0;
  ChunkArray index;
  index.shape = inner_grid_;
  index.shape.push_back(2);
  index.data = Buffer::Allocate(n * 16);
  uint64_t data_size = 0;
  bool any = false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t entry[2] = {kMissing, kMissing};
    // An empty encoding is treated as missing, as zarr-python does.
    if (encoded_inner[i].has_value() && !encoded_inner[i]->empty()) {
      entry[0] = data_start + data_size;
      entry[1] = encoded_inner[i]->size();
      data_size += entry[1];
      any = true;
    }
    std::memcpy(index.data.data() + i * 16, entry, 16);
  }
  if (!any) return Buffer();
  auto index_bytes = index_chain_->Encode(std::move(index));
  if (!index_bytes.ok()) return index_bytes.status().WithContext("sharding_indexed: index");
  if (index_bytes->size() != encoded_index_size_) {
    return PermanentError("sharding_indexed: encoded index is " +
                          std::to_string(index_bytes->size()) + " bytes, expected " +
                          std::to_string(encoded_index_size_));
  }
  Buffer out;
  out.Reserve(data_size + encoded_index_size_);
  if (index_location_ == IndexLocation::kStart)
    out.Append(index_bytes->data(), index_bytes->size());
  for (const std::optional<Buffer>& chunk : encoded_inner) {
    if (chunk.has_value()) out.Append(chunk->data(), chunk->size());
  }
  if (index_location_ == IndexLocation::kEnd) out.Append(index_bytes->data(), index_bytes->size());
  return out;
}

Result<std::vector<ShardingCodec::IndexEntry>> ShardingCodec::DecodeIndex(
    Buffer index_bytes) const {
  if (index_bytes.size() != encoded_index_size_) {
    return CorruptError(kName, "index is " + std::to_string(index_bytes.size()) +
                                   " bytes, expected " + std::to_string(encoded_index_size_));
  }
  auto decoded = index_chain_->Decode(std::move(index_bytes));
  if (!decoded.ok()) return decoded.status().WithContext("sharding_indexed: index");
  const uint64_t n = num_inner_chunks();
  if (decoded->data.size() != n * 16) {
    return CorruptError(kName, "index decodes to the wrong size");
  }
  std::vector<IndexEntry> entries(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t pair[2];
    std::memcpy(pair, decoded->data.data() + i * 16, 16);
    entries[i].offset = pair[0];
    entries[i].nbytes = pair[1];
    if (entries[i].missing()) continue;
    if (pair[0] == kMissing || pair[1] == kMissing || pair[0] + pair[1] < pair[0]) {
      return CorruptError(kName, "index entry " + std::to_string(i) + " is invalid (offset " +
                                     std::to_string(pair[0]) + ", nbytes " +
                                     std::to_string(pair[1]) + ")");
    }
  }
  return entries;
}

Result<ChunkArray> ShardingCodec::Decode(Buffer bytes, const ChunkSpec& spec) const {
  const size_t rank = inner_grid_.size();
  for (size_t i = 0; i < rank; ++i) {
    if (spec.shape.size() != rank || spec.shape[i] != inner_grid_[i] * inner_chunk_shape_[i]) {
      return InvalidArgumentError("sharding_indexed: shard shape " +
                                  nlohmann::json(spec.shape).dump() +
                                  " is not the shape the codec was built for");
    }
  }
  if (bytes.size() < encoded_index_size_) {
    return CorruptError(kName, "shard of " + std::to_string(bytes.size()) +
                                   " bytes is smaller than its index (" +
                                   std::to_string(encoded_index_size_) + " bytes)");
  }
  const size_t index_start =
      index_location_ == IndexLocation::kStart ? 0 : bytes.size() - encoded_index_size_;
  NIMBUS_ASSIGN_OR_RETURN(
      std::vector<IndexEntry> entries,
      DecodeIndex(Buffer::CopyOf(bytes.view().substr(index_start, encoded_index_size_))));
  bool any_missing = false;
  bool all_missing = true;
  for (size_t i = 0; i < entries.size(); ++i) {
    const IndexEntry& e = entries[i];
    if (e.missing()) {
      any_missing = true;
      continue;
    }
    all_missing = false;
    if (e.offset > bytes.size() || e.nbytes > bytes.size() - e.offset) {
      return CorruptError(kName, "index entry " + std::to_string(i) + " (offset " +
                                     std::to_string(e.offset) + ", nbytes " +
                                     std::to_string(e.nbytes) + ") lies outside the " +
                                     std::to_string(bytes.size()) + "-byte shard");
    }
  }
  if (all_missing) return ChunkArray::Filled(spec);

  const bool variable = spec.data_type.variable_length();
  const size_t item_size = spec.data_type.item_size;
  ChunkArray shard;
  if (any_missing) {
    shard = ChunkArray::Filled(spec);
  } else {
    shard.shape = spec.shape;
    if (variable) {
      shard.values.resize(spec.num_elements());
    } else {
      shard.data = Buffer::Allocate(spec.num_bytes());
    }
  }
  std::vector<uint64_t> coords(rank, 0);
  std::vector<uint64_t> origin(rank);
  for (size_t index = 0; index < entries.size(); ++index, NextCoords(coords, inner_grid_)) {
    const IndexEntry& e = entries[index];
    if (e.missing()) continue;
    auto inner = inner_chain_->Decode(Buffer::CopyOf(bytes.view().substr(e.offset, e.nbytes)));
    if (!inner.ok()) {
      return inner.status().WithContext("sharding_indexed: inner chunk " + CoordsText(coords));
    }
    for (size_t i = 0; i < rank; ++i) origin[i] = coords[i] * inner_chunk_shape_[i];
    if (variable) {
      ForEachBoxRow(spec.shape, origin, inner_chunk_shape_,
                    [&](uint64_t outer, uint64_t box, uint64_t count) {
                      std::move(inner->values.begin() + box, inner->values.begin() + box + count,
                                shard.values.begin() + outer);
                    });
    } else {
      ForEachBoxRow(spec.shape, origin, inner_chunk_shape_,
                    [&](uint64_t outer, uint64_t box, uint64_t count) {
                      std::memcpy(shard.data.data() + outer * item_size,
                                  inner->data.data() + box * item_size, count * item_size);
                    });
    }
  }
  return shard;
}

}  // namespace nimbus::zarr
