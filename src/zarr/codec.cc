#include "zarr/codec.h"

#include <algorithm>
#include <array>
#include <limits>
#include <string_view>
#include <type_traits>
#include <utility>

#include "zarr/codecs/blosc.h"
#include "zarr/codecs/bytes.h"
#include "zarr/codecs/crc32c.h"
#include "zarr/codecs/gzip.h"
#include "zarr/codecs/numcodecs.h"
#include "zarr/codecs/registry.h"
#include "zarr/codecs/transpose.h"
#include "zarr/codecs/vlen.h"
#include "zarr/codecs/zstd.h"

namespace nimbus::zarr {
namespace {

template <typename Base, typename Derived>
Result<std::shared_ptr<const Base>> Upcast(Result<std::shared_ptr<const Derived>> r) {
  if (!r.ok()) return r.status();
  return std::shared_ptr<const Base>(std::move(r).value());
}

Result<std::shared_ptr<const ArrayToArrayCodec>> MakeTranspose(const nlohmann::json& c,
                                                               const ChunkSpec& s) {
  return Upcast<ArrayToArrayCodec>(TransposeCodec::FromJson(c, s));
}
Result<std::shared_ptr<const ArrayToBytesCodec>> MakeBytes(const nlohmann::json& c,
                                                           const ChunkSpec& s) {
  return Upcast<ArrayToBytesCodec>(BytesCodec::FromJson(c, s));
}
Result<std::shared_ptr<const ArrayToBytesCodec>> MakeVlenUtf8(const nlohmann::json& c,
                                                              const ChunkSpec& s) {
  return Upcast<ArrayToBytesCodec>(VlenCodec::FromJson(VlenCodec::Kind::kUtf8, c, s));
}
Result<std::shared_ptr<const ArrayToBytesCodec>> MakeVlenBytes(const nlohmann::json& c,
                                                               const ChunkSpec& s) {
  return Upcast<ArrayToBytesCodec>(VlenCodec::FromJson(VlenCodec::Kind::kBytes, c, s));
}
Result<std::shared_ptr<const ArrayToBytesCodec>> MakeSharding(const nlohmann::json& c,
                                                              const ChunkSpec& s) {
  return Upcast<ArrayToBytesCodec>(ShardingCodec::FromJson(c, s));
}
Result<std::shared_ptr<const BytesToBytesCodec>> MakeGzip(const nlohmann::json& c,
                                                          const BytesCodecContext& x) {
  return Upcast<BytesToBytesCodec>(GzipCodec::FromJson(c, x));
}
Result<std::shared_ptr<const BytesToBytesCodec>> MakeZstd(const nlohmann::json& c,
                                                          const BytesCodecContext& x) {
  return Upcast<BytesToBytesCodec>(ZstdCodec::FromJson(c, x));
}
Result<std::shared_ptr<const BytesToBytesCodec>> MakeBlosc(const nlohmann::json& c,
                                                           const BytesCodecContext& x) {
  return Upcast<BytesToBytesCodec>(BloscCodec::FromJson(c, x));
}
Result<std::shared_ptr<const BytesToBytesCodec>> MakeNumcodecsShuffle(const nlohmann::json& c,
                                                                      const BytesCodecContext& x) {
  return Upcast<BytesToBytesCodec>(NumcodecsShuffleCodec::FromJson(c, x));
}
Result<std::shared_ptr<const BytesToBytesCodec>> MakeNumcodecsLz4(const nlohmann::json& c,
                                                                  const BytesCodecContext& x) {
  return Upcast<BytesToBytesCodec>(NumcodecsLz4Codec::FromJson(c, x));
}
Result<std::shared_ptr<const BytesToBytesCodec>> MakeCrc32c(const nlohmann::json& c,
                                                            const BytesCodecContext&) {
  return Upcast<BytesToBytesCodec>(Crc32cCodec::FromJson(c));
}

// Sorted by name (SupportedCodecNames relies on it).
const std::array<CodecFactory, 11> kFactories = {{
    {"blosc", BytesToBytesFactory{&MakeBlosc}},
    {"bytes", ArrayToBytesFactory{&MakeBytes}},
    {"crc32c", BytesToBytesFactory{&MakeCrc32c}},
    {"gzip", BytesToBytesFactory{&MakeGzip}},
    {"numcodecs.lz4", BytesToBytesFactory{&MakeNumcodecsLz4}},
    {"numcodecs.shuffle", BytesToBytesFactory{&MakeNumcodecsShuffle}},
    {"sharding_indexed", ArrayToBytesFactory{&MakeSharding}},
    {"transpose", ArrayToArrayFactory{&MakeTranspose}},
    {"vlen-bytes", ArrayToBytesFactory{&MakeVlenBytes}},
    {"vlen-utf8", ArrayToBytesFactory{&MakeVlenUtf8}},
    {"zstd", BytesToBytesFactory{&MakeZstd}},
}};

std::string SupportedList() {
  std::string s;
  for (std::string_view name : SupportedCodecNames()) {
    if (!s.empty()) s += ", ";
    s += name;
  }
  return s;
}

// A codecs entry is {"name": ..., "configuration": {...}} or, for codecs without configuration,
// just the name.
Status ParseEntry(const nlohmann::json& entry, std::string& name, nlohmann::json& configuration) {
  if (entry.is_string()) {
    name = entry.get<std::string>();
    configuration = nlohmann::json::object();
    return Status::Ok();
  }
  if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string()) {
    return InvalidArgumentError(
        "codecs: each entry must be a name or an object with a \"name\", got " + entry.dump());
  }
  name = entry["name"].get<std::string>();
  auto it = entry.find("configuration");
  configuration = it == entry.end() ? nlohmann::json::object() : *it;
  if (!configuration.is_object()) {
    return InvalidArgumentError("codec '" + name + "': configuration must be an object, got " +
                                configuration.dump());
  }
  return Status::Ok();
}

bool MultiplyOverflows(uint64_t a, uint64_t b, uint64_t& product) {
  return __builtin_mul_overflow(a, b, &product);
}

}  // namespace

const CodecFactory* FindCodecFactory(std::string_view name) {
  for (const CodecFactory& f : kFactories) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::vector<std::string_view> SupportedCodecNames() {
  std::vector<std::string_view> names;
  for (const CodecFactory& f : kFactories) names.push_back(f.name);
  return names;
}

Result<CodecChain> CodecChain::FromJson(const nlohmann::json& codecs, const ChunkSpec& spec) {
  try {
    if (!codecs.is_array()) {
      return InvalidArgumentError("codecs must be a list, got " + codecs.dump());
    }
    uint64_t bytes = std::max<uint64_t>(spec.data_type.item_size, 1);
    for (uint64_t d : spec.shape) {
      if (MultiplyOverflows(bytes, d, bytes)) {
        return InvalidArgumentError("codecs: chunk shape " + nlohmann::json(spec.shape).dump() +
                                    " is too large");
      }
    }
    CodecChain chain;
    chain.spec_ = spec;
    ChunkSpec current = spec;
    std::string array_to_bytes_name;
    std::optional<uint64_t> size;  // exact size of the bytes at this point, when fixed
    for (const nlohmann::json& entry : codecs) {
      std::string name;
      nlohmann::json configuration;
      NIMBUS_RETURN_IF_ERROR(ParseEntry(entry, name, configuration));
      const CodecFactory* factory = FindCodecFactory(name);
      if (factory == nullptr) {
        return UnimplementedError("codec '" + name +
                                  "' is not supported (supported: " + SupportedList() + ")");
      }
      if (const auto* make = std::get_if<ArrayToArrayFactory>(&factory->make)) {
        if (chain.array_to_bytes_) {
          return InvalidArgumentError("codec '" + name +
                                      "' (array -> array) must come before the array -> bytes "
                                      "codec '" +
                                      array_to_bytes_name + "'");
        }
        NIMBUS_ASSIGN_OR_RETURN(auto codec, (*make)(configuration, current));
        NIMBUS_ASSIGN_OR_RETURN(current, codec->EncodedSpec(current));
        chain.array_to_array_.push_back(std::move(codec));
        chain.array_specs_.push_back(current);
      } else if (const auto* make_bytes = std::get_if<ArrayToBytesFactory>(&factory->make)) {
        if (chain.array_to_bytes_) {
          return InvalidArgumentError("codecs: only one array -> bytes codec is allowed, got '" +
                                      array_to_bytes_name + "' and '" + name + "'");
        }
        NIMBUS_ASSIGN_OR_RETURN(chain.array_to_bytes_, (*make_bytes)(configuration, current));
        array_to_bytes_name = name;
        size = chain.array_to_bytes_->EncodedSize(current);
      } else {
        if (!chain.array_to_bytes_) {
          return InvalidArgumentError("codec '" + name +
                                      "' (bytes -> bytes) must come after an array -> bytes codec");
        }
        const auto& make_b2b = std::get<BytesToBytesFactory>(factory->make);
        NIMBUS_ASSIGN_OR_RETURN(auto codec,
                                make_b2b(configuration, BytesCodecContext{spec.data_type, size}));
        if (size.has_value()) size = codec->EncodedSize(*size);
        chain.bytes_to_bytes_.push_back(std::move(codec));
      }
    }
    if (!chain.array_to_bytes_) {
      return InvalidArgumentError(
          "codecs: an array -> bytes codec (bytes, vlen-utf8, vlen-bytes or sharding_indexed) is "
          "required");
    }
    return chain;
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(std::string("codecs: ") + e.what());
  }
}

Result<Buffer> CodecChain::Encode(ChunkArray chunk) const {
  if (!array_to_bytes_) return InvalidArgumentError("encode: empty codec chain");
  if (chunk.shape != spec_.shape) {
    return InvalidArgumentError("encode: chunk shape " + nlohmann::json(chunk.shape).dump() +
                                " differs from the chain's " + nlohmann::json(spec_.shape).dump());
  }
  for (size_t i = 0; i < array_to_array_.size(); ++i) {
    const ChunkSpec& decoded_spec = i == 0 ? spec_ : array_specs_[i - 1];
    NIMBUS_ASSIGN_OR_RETURN(chunk, array_to_array_[i]->Encode(std::move(chunk), decoded_spec));
  }
  const ChunkSpec& bytes_spec = array_specs_.empty() ? spec_ : array_specs_.back();
  Buffer bytes;
  if (const auto* plain = dynamic_cast<const BytesCodec*>(array_to_bytes_.get())) {
    NIMBUS_ASSIGN_OR_RETURN(bytes, plain->EncodeInPlace(std::move(chunk), bytes_spec));
  } else {
    NIMBUS_ASSIGN_OR_RETURN(bytes, array_to_bytes_->Encode(chunk, bytes_spec));
  }
  for (const auto& codec : bytes_to_bytes_) {
    NIMBUS_ASSIGN_OR_RETURN(bytes, codec->Encode(std::move(bytes)));
  }
  return bytes;
}

Result<ChunkArray> CodecChain::Decode(Buffer bytes) const {
  if (!array_to_bytes_) return InvalidArgumentError("decode: empty codec chain");
  for (size_t i = bytes_to_bytes_.size(); i-- > 0;) {
    NIMBUS_ASSIGN_OR_RETURN(bytes, bytes_to_bytes_[i]->Decode(std::move(bytes)));
  }
  const ChunkSpec& bytes_spec = array_specs_.empty() ? spec_ : array_specs_.back();
  NIMBUS_ASSIGN_OR_RETURN(ChunkArray chunk, array_to_bytes_->Decode(std::move(bytes), bytes_spec));
  for (size_t i = array_to_array_.size(); i-- > 0;) {
    const ChunkSpec& decoded_spec = i == 0 ? spec_ : array_specs_[i - 1];
    NIMBUS_ASSIGN_OR_RETURN(chunk, array_to_array_[i]->Decode(std::move(chunk), decoded_spec));
  }
  // Callers copy out of the chunk by its spec: make sure it really has that size.
  const bool sized = spec_.data_type.variable_length() ? chunk.values.size() == spec_.num_elements()
                                                       : chunk.data.size() == spec_.num_bytes();
  if (!sized || chunk.shape != spec_.shape) {
    return PermanentError("decode: codec chain produced a chunk of the wrong size");
  }
  return chunk;
}

nlohmann::json CodecChain::ToJson() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& codec : array_to_array_) out.push_back(codec->ToJson());
  if (array_to_bytes_) out.push_back(array_to_bytes_->ToJson());
  for (const auto& codec : bytes_to_bytes_) out.push_back(codec->ToJson());
  return out;
}

const ShardingCodec* CodecChain::sharding() const {
  if (!array_to_array_.empty()) return nullptr;
  return dynamic_cast<const ShardingCodec*>(array_to_bytes_.get());
}

bool CodecChain::IsRawNative() const {
  if (!array_to_array_.empty() || !bytes_to_bytes_.empty()) return false;
  const auto* bytes = dynamic_cast<const BytesCodec*>(array_to_bytes_.get());
  return bytes != nullptr && bytes->native();
}

std::optional<uint64_t> CodecChain::FixedEncodedSize() const {
  if (!array_to_bytes_) return std::nullopt;
  const ChunkSpec& bytes_spec = array_specs_.empty() ? spec_ : array_specs_.back();
  std::optional<uint64_t> size = array_to_bytes_->EncodedSize(bytes_spec);
  for (const auto& codec : bytes_to_bytes_) {
    if (!size.has_value()) break;
    size = codec->EncodedSize(*size);
  }
  return size;
}

}  // namespace nimbus::zarr
