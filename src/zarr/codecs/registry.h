// The codec registry: codec names as they appear in zarr.json, mapped to the factory that builds
// the codec. A fixed table (no static self-registration, which a static library would drop).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"
#include "zarr/chunk.h"
#include "zarr/codec.h"
#include "zarr/data_type.h"

namespace nimbus::zarr {

// What a bytes->bytes codec may know about its input when it is built.
struct BytesCodecContext {
  // The array's data type (blosc derives its default typesize from it).
  DataType data_type;
  // Exact size of the bytes Decode must return when the chain fixes it (after "bytes" and
  // fixed-size codecs such as crc32c); decoders refuse to produce more. nullopt: variable.
  std::optional<uint64_t> decoded_size;
};

using ArrayToArrayFactory = Result<std::shared_ptr<const ArrayToArrayCodec>> (*)(
    const nlohmann::json& configuration, const ChunkSpec& decoded_spec);
using ArrayToBytesFactory = Result<std::shared_ptr<const ArrayToBytesCodec>> (*)(
    const nlohmann::json& configuration, const ChunkSpec& spec);
using BytesToBytesFactory = Result<std::shared_ptr<const BytesToBytesCodec>> (*)(
    const nlohmann::json& configuration, const BytesCodecContext& context);

struct CodecFactory {
  std::string_view name;
  std::variant<ArrayToArrayFactory, ArrayToBytesFactory, BytesToBytesFactory> make;
};

// nullptr when no codec has that name.
const CodecFactory* FindCodecFactory(std::string_view name);
// Every registered name, sorted.
std::vector<std::string_view> SupportedCodecNames();

}  // namespace nimbus::zarr
