// The Zarr v3 codec pipeline: array->array codecs (transpose), then exactly one array->bytes codec
// (bytes, vlen-utf8, vlen-bytes, sharding_indexed), then bytes->bytes codecs (gzip, zstd, blosc,
// crc32c). A CodecChain is built once per array (per chunk shape) from the "codecs" JSON and then
// encodes/decodes chunks; it is immutable and safe to use from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/buffer.h"
#include "core/status.h"
#include "zarr/chunk.h"

namespace nimbus::zarr {

class Codec {
 public:
  virtual ~Codec() = default;
  virtual std::string name() const = 0;
  // The spec entry as it should be written ({"name": ..., "configuration": {...}}), with every
  // default made explicit the way zarr-python writes it.
  virtual nlohmann::json ToJson() const = 0;
};

class ArrayToArrayCodec : public Codec {
 public:
  // The spec of the encoded array given the decoded one (transpose permutes the shape).
  virtual Result<ChunkSpec> EncodedSpec(const ChunkSpec& decoded) const = 0;
  virtual Result<ChunkArray> Encode(ChunkArray decoded, const ChunkSpec& decoded_spec) const = 0;
  virtual Result<ChunkArray> Decode(ChunkArray encoded, const ChunkSpec& decoded_spec) const = 0;
};

class ArrayToBytesCodec : public Codec {
 public:
  virtual Result<Buffer> Encode(const ChunkArray& chunk, const ChunkSpec& spec) const = 0;
  virtual Result<ChunkArray> Decode(Buffer bytes, const ChunkSpec& spec) const = 0;
  // Encoded size when it is a fixed function of the spec ("bytes": num_bytes), else nullopt.
  virtual std::optional<uint64_t> EncodedSize(const ChunkSpec& spec) const {
    (void)spec;
    return std::nullopt;
  }
};

class BytesToBytesCodec : public Codec {
 public:
  virtual Result<Buffer> Encode(Buffer bytes) const = 0;
  virtual Result<Buffer> Decode(Buffer bytes) const = 0;
  // Encoded size when it is a fixed function of the input size (crc32c: +4), else nullopt.
  virtual std::optional<uint64_t> EncodedSize(uint64_t decoded_size) const {
    (void)decoded_size;
    return std::nullopt;
  }
};

class ShardingCodec;

class CodecChain {
 public:
  // `codecs` is the array's "codecs" list; `spec` the (outer) chunk spec it applies to. Errors
  // name the offending codec: unknown codecs are kUnimplemented ("codec 'foo' is not supported"),
  // bad configurations kInvalidArgument, a chain without exactly one array->bytes codec too.
  static Result<CodecChain> FromJson(const nlohmann::json& codecs, const ChunkSpec& spec);

  Result<Buffer> Encode(ChunkArray chunk) const;
  Result<ChunkArray> Decode(Buffer bytes) const;

  nlohmann::json ToJson() const;
  const ChunkSpec& spec() const { return spec_; }

  // Non-null when the array->bytes codec is sharding_indexed and there are no array->array codecs
  // before it (the only layout where the array layer reads inner chunks directly; otherwise
  // shards are read whole).
  const ShardingCodec* sharding() const;

  // Bytes of an encoded chunk are exactly the C-order native-endian elements (only "bytes" with
  // native or no endianness, nothing else): lets the array layer decode by aliasing/copying.
  bool IsRawNative() const;

  // Size of every encoded chunk when the chain fixes it ("bytes" then fixed-size codecs such as
  // crc32c), else nullopt (compressors, variable-length types, sharding).
  std::optional<uint64_t> FixedEncodedSize() const;

 private:
  ChunkSpec spec_;
  std::vector<std::shared_ptr<const ArrayToArrayCodec>> array_to_array_;
  std::vector<ChunkSpec> array_specs_;  // spec_ after each array->array codec
  std::shared_ptr<const ArrayToBytesCodec> array_to_bytes_;
  std::vector<std::shared_ptr<const BytesToBytesCodec>> bytes_to_bytes_;
};

// sharding_indexed: a shard (the outer chunk) holds a grid of inner chunks, each encoded with the
// inner chain, plus an index of (offset, nbytes) uint64 pairs per inner chunk, encoded with the
// index chain and stored at the start or the end. Missing inner chunks have offset = nbytes =
// 2^64-1 and read as fill.
class ShardingCodec : public ArrayToBytesCodec {
 public:
  struct IndexEntry {
    uint64_t offset = ~uint64_t{0};
    uint64_t nbytes = ~uint64_t{0};
    bool missing() const { return offset == ~uint64_t{0} && nbytes == ~uint64_t{0}; }
  };
  enum class IndexLocation { kStart, kEnd };

  static Result<std::shared_ptr<const ShardingCodec>> FromJson(const nlohmann::json& configuration,
                                                               const ChunkSpec& shard_spec);

  std::string name() const override { return "sharding_indexed"; }
  nlohmann::json ToJson() const override;
  // Whole-shard encode: inner chunks that are all fill are omitted (missing in the index). An
  // all-missing shard encodes to an empty buffer (the caller deletes the object).
  Result<Buffer> Encode(const ChunkArray& shard, const ChunkSpec& spec) const override;
  Result<ChunkArray> Decode(Buffer bytes, const ChunkSpec& spec) const override;

  // --- For partial reads and writes by the array layer ---
  const std::vector<uint64_t>& inner_chunk_shape() const { return inner_chunk_shape_; }
  // Inner chunks per dimension (shard shape / inner chunk shape).
  const std::vector<uint64_t>& inner_grid() const { return inner_grid_; }
  uint64_t num_inner_chunks() const;
  const CodecChain& inner_chain() const { return *inner_chain_; }
  IndexLocation index_location() const { return index_location_; }
  // Size of the encoded index in bytes (16 per inner chunk plus the index codecs' overhead).
  uint64_t encoded_index_size() const { return encoded_index_size_; }
  // Decodes (and verifies, with crc32c) an index read from the shard; entries are in C order of
  // the inner grid.
  Result<std::vector<IndexEntry>> DecodeIndex(Buffer index_bytes) const;
  // Builds a shard from already-encoded inner chunks (C order of the inner grid; nullopt =
  // missing). Used by writers that encode inner chunks themselves.
  Result<Buffer> AssembleShard(const std::vector<std::optional<Buffer>>& encoded_inner) const;

 private:
  std::vector<uint64_t> inner_chunk_shape_;
  std::vector<uint64_t> inner_grid_;
  std::shared_ptr<const CodecChain> inner_chain_;
  std::shared_ptr<const CodecChain> index_chain_;
  IndexLocation index_location_ = IndexLocation::kEnd;
  uint64_t encoded_index_size_ = 0;
  nlohmann::json configuration_;
};

}  // namespace nimbus::zarr
