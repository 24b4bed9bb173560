// zarr.json for arrays and groups (Zarr v3 core). Unknown members are preserved; members and
// extensions with `must_understand: true` (or no must_understand field, per the spec) that we do
// not understand are refused with an error naming them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "zarr/data_type.h"

namespace nimbus::zarr {

// How chunk grid coordinates become store keys: "default" -> "c/1/2" (separator '/' or '.'),
// "v2" -> "1.2" (separator '.' or '/'); a 0-d array's only chunk is "c" (default) or "0" (v2).
struct ChunkKeyEncoding {
  bool v2 = false;
  char separator = '/';
  std::string Key(std::span<const uint64_t> chunk_coords) const;
  static Result<ChunkKeyEncoding> FromJson(const nlohmann::json& j);
  nlohmann::json ToJson() const;
};

struct ArrayMetadata {
  std::vector<uint64_t> shape;
  DataType data_type;
  std::vector<uint64_t> chunk_shape;  // regular chunk grid; same rank as shape
  ChunkKeyEncoding chunk_key_encoding;
  std::string fill_value;             // see ParseFillValue
  nlohmann::json codecs = nlohmann::json::array();  // the codec specs, as written
  nlohmann::json attributes = nlohmann::json::object();
  std::optional<std::vector<std::optional<std::string>>> dimension_names;
  nlohmann::json storage_transformers = nlohmann::json::array();  // must be empty (none supported)
  nlohmann::json extra = nlohmann::json::object();  // unknown members with must_understand false

  size_t rank() const { return shape.size(); }
  // Number of chunks along each dimension (ceil(shape / chunk_shape)).
  std::vector<uint64_t> GridShape() const;

  static Result<ArrayMetadata> Parse(std::string_view json_text);
  static Result<ArrayMetadata> FromJson(const nlohmann::json& j);
  nlohmann::json ToJson() const;
  // zarr.json text as zarr-python writes it: its member order (ToJson's json object sorts keys),
  // indent 2, non-ASCII escaped. Never throws (invalid UTF-8 in strings is replaced).
  std::string Serialize() const;
};

struct GroupMetadata {
  nlohmann::json attributes = nlohmann::json::object();
  nlohmann::json extra = nlohmann::json::object();
  static Result<GroupMetadata> FromJson(const nlohmann::json& j);
  nlohmann::json ToJson() const;
  std::string Serialize() const;  // as ArrayMetadata::Serialize
};

using NodeMetadata = std::variant<ArrayMetadata, GroupMetadata>;
// Parses any zarr.json (checks zarr_format == 3 and node_type).
Result<NodeMetadata> ParseNodeMetadata(std::string_view json_text);

}  // namespace nimbus::zarr
