#include "zarr/metadata.h"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <string>
#include <utility>

namespace nimbus::zarr {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// Parsed JSON holds non-negative integers as unsigned, JSON built in C++ as signed.
bool IsNonNegativeInteger(const json& j) {
  return j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0);
}

// For error messages: never throws, whatever the strings hold.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Status MemberError(std::string_view member, std::string_view expected, const json& got) {
  return InvalidArgumentError("zarr.json member " + Quoted(member) + " must be " +
                              std::string(expected) + ", got " + Dump(got));
}

Status CheckZarrFormat(const json& j) {
  const auto it = j.find("zarr_format");
  if (it == j.end()) return InvalidArgumentError("zarr.json is missing member 'zarr_format'");
  if (!it->is_number_integer() || it->get<int64_t>() != 3) {
    return MemberError("zarr_format", "3", *it);
  }
  return Status::Ok();
}

Status CheckNodeType(const json& j, std::string_view expected) {
  const auto it = j.find("node_type");
  if (it == j.end()) return InvalidArgumentError("zarr.json is missing member 'node_type'");
  if (!it->is_string() || it->get_ref<const std::string&>() != expected) {
    return MemberError("node_type", Quoted(expected), *it);
  }
  return Status::Ok();
}

Result<const json*> Required(const json& j, std::string_view member) {
  const auto it = j.find(member);
  if (it == j.end()) {
    return InvalidArgumentError("zarr.json is missing member " + Quoted(member));
  }
  return &*it;
}

// Members the spec does not define are kept only when they say they may be ignored.
bool IsIgnorable(std::string_view key, const json& value) {
  if (key == "consolidated_metadata" && value.is_null()) return true;  // zarr-python may write it
  if (!value.is_object()) return false;
  const auto it = value.find("must_understand");
  return it != value.end() && it->is_boolean() && !it->get<bool>();
}

Status CollectExtras(const json& j, std::initializer_list<std::string_view> known, json* extra) {
  *extra = json::object();
  for (const auto& [key, value] : j.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    if (!IsIgnorable(key, value)) {
      return UnimplementedError("unsupported zarr.json member " + Quoted(key) +
                                " (must_understand)");
    }
    (*extra)[key] = value;
  }
  return Status::Ok();
}

// An extension point: the short-hand name or {"name", "configuration"?, "must_understand"?}.
// `configuration` is an empty object when absent.
struct Extension {
  std::string name;
  json configuration = json::object();
};

Result<Extension> ParseExtension(const json& j, std::string_view member) {
  Extension ext;
  if (j.is_string()) {
    ext.name = j.get<std::string>();
    return ext;
  }
  if (!j.is_object()) return MemberError(member, "a name or an object", j);
  const auto name = j.find("name");
  if (name == j.end() || !name->is_string()) {
    return MemberError(member, "an object with a string 'name'", j);
  }
  ext.name = name->get<std::string>();
  for (const auto& [key, value] : j.items()) {
    if (key == "name") continue;
    if (key == "configuration") {
      if (!value.is_object())
        return MemberError(std::string(member) + ".configuration", "an object", value);
      ext.configuration = value;
    } else if (key == "must_understand") {
      // The spec does not let these extension points be ignored, so the flag changes nothing.
      if (!value.is_boolean()) {
        return MemberError(std::string(member) + ".must_understand", "a boolean", value);
      }
    } else {
      return InvalidArgumentError("unsupported member " + Quoted(key) + " in " + Quoted(member));
    }
  }
  return ext;
}

Result<std::vector<uint64_t>> ParseExtent(const json& j, std::string_view member, bool positive) {
  const std::string_view expected =
      positive ? "an array of positive integers" : "an array of non-negative integers";
  if (!j.is_array()) return MemberError(member, expected, j);
  std::vector<uint64_t> out;
  out.reserve(j.size());
  for (const json& d : j) {
    if (!IsNonNegativeInteger(d) || (positive && d.get<uint64_t>() == 0)) {
      return MemberError(member, expected, j);
    }
    out.push_back(d.get<uint64_t>());
  }
  return out;
}

Result<std::vector<uint64_t>> ParseChunkGrid(const json& j) {
  NIMBUS_ASSIGN_OR_RETURN(Extension grid, ParseExtension(j, "chunk_grid"));
  if (grid.name != "regular") {
    return UnimplementedError("chunk grid " + Quoted(grid.name) + " is not supported");
  }
  for (const auto& [key, value] : grid.configuration.items()) {
    if (key != "chunk_shape") {
      return InvalidArgumentError("unsupported member " + Quoted(key) +
                                  " in chunk_grid configuration");
    }
  }
  const auto chunk_shape = grid.configuration.find("chunk_shape");
  if (chunk_shape == grid.configuration.end()) {
    return InvalidArgumentError("regular chunk_grid needs configuration.chunk_shape");
  }
  return ParseExtent(*chunk_shape, "chunk_shape", /*positive=*/true);
}

Status CheckCodecs(const json& codecs) {
  if (!codecs.is_array() || codecs.empty()) {
    return MemberError("codecs", "a non-empty array (it needs an array->bytes codec)", codecs);
  }
  for (size_t i = 0; i < codecs.size(); ++i) {
    // Structure only: the codec chain checks names and configurations.
    const std::string entry = "codecs[" + std::to_string(i) + "]";
    NIMBUS_ASSIGN_OR_RETURN(Extension codec, ParseExtension(codecs[i], entry));
    (void)codec;
  }
  return Status::Ok();
}

Result<std::optional<std::vector<std::optional<std::string>>>> ParseDimensionNames(const json& j,
                                                                                   size_t rank) {
  if (j.is_null()) return std::optional<std::vector<std::optional<std::string>>>();
  constexpr std::string_view kExpected = "an array of strings or nulls, one per dimension";
  if (!j.is_array()) return MemberError("dimension_names", kExpected, j);
  if (j.size() != rank) {
    return InvalidArgumentError("zarr.json member 'dimension_names' has " +
                                std::to_string(j.size()) + " entries but the array has rank " +
                                std::to_string(rank));
  }
  std::vector<std::optional<std::string>> names;
  for (const json& name : j) {
    if (name.is_null()) {
      names.emplace_back();
    } else if (name.is_string()) {
      names.emplace_back(name.get<std::string>());
    } else {
      return MemberError("dimension_names", kExpected, j);
    }
  }
  return std::optional(std::move(names));
}

Result<ArrayMetadata> ArrayFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgumentError("zarr.json must be an object, got " + Dump(j));
  NIMBUS_RETURN_IF_ERROR(CheckZarrFormat(j));
  NIMBUS_RETURN_IF_ERROR(CheckNodeType(j, "array"));
  ArrayMetadata m;
  NIMBUS_RETURN_IF_ERROR(CollectExtras(
      j,
      {"zarr_format", "node_type", "shape", "data_type", "chunk_grid", "chunk_key_encoding",
       "fill_value", "codecs", "attributes", "storage_transformers", "dimension_names"},
      &m.extra));

  NIMBUS_ASSIGN_OR_RETURN(const json* shape, Required(j, "shape"));
  NIMBUS_ASSIGN_OR_RETURN(m.shape, ParseExtent(*shape, "shape", /*positive=*/false));

  NIMBUS_ASSIGN_OR_RETURN(const json* data_type, Required(j, "data_type"));
  NIMBUS_ASSIGN_OR_RETURN(m.data_type, DataType::FromJson(*data_type));

  NIMBUS_ASSIGN_OR_RETURN(const json* chunk_grid, Required(j, "chunk_grid"));
  NIMBUS_ASSIGN_OR_RETURN(m.chunk_shape, ParseChunkGrid(*chunk_grid));
  if (m.chunk_shape.size() != m.shape.size()) {
    return InvalidArgumentError("chunk_shape has rank " + std::to_string(m.chunk_shape.size()) +
                                " but shape has rank " + std::to_string(m.shape.size()));
  }

  NIMBUS_ASSIGN_OR_RETURN(const json* key_encoding, Required(j, "chunk_key_encoding"));
  NIMBUS_ASSIGN_OR_RETURN(m.chunk_key_encoding, ChunkKeyEncoding::FromJson(*key_encoding));

  NIMBUS_ASSIGN_OR_RETURN(const json* fill_value, Required(j, "fill_value"));
  NIMBUS_ASSIGN_OR_RETURN(m.fill_value, ParseFillValue(m.data_type, *fill_value));

  NIMBUS_ASSIGN_OR_RETURN(const json* codecs, Required(j, "codecs"));
  NIMBUS_RETURN_IF_ERROR(CheckCodecs(*codecs));
  m.codecs = *codecs;

  if (const auto it = j.find("attributes"); it != j.end()) {
    if (!it->is_object()) return MemberError("attributes", "an object", *it);
    m.attributes = *it;
  }
  if (const auto it = j.find("storage_transformers"); it != j.end()) {
    if (!it->is_array()) return MemberError("storage_transformers", "an array", *it);
    if (!it->empty()) {
      const json& first = it->front();
      std::string name = Dump(first);
      if (first.is_string()) {
        name = first.get<std::string>();
      } else if (first.is_object() && first.contains("name") && first["name"].is_string()) {
        name = first["name"].get<std::string>();
      }
      return UnimplementedError("storage transformer " + Quoted(name) + " is not supported");
    }
  }
  if (const auto it = j.find("dimension_names"); it != j.end()) {
    NIMBUS_ASSIGN_OR_RETURN(m.dimension_names, ParseDimensionNames(*it, m.rank()));
  }
  return m;
}

Result<GroupMetadata> GroupFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgumentError("zarr.json must be an object, got " + Dump(j));
  NIMBUS_RETURN_IF_ERROR(CheckZarrFormat(j));
  NIMBUS_RETURN_IF_ERROR(CheckNodeType(j, "group"));
  GroupMetadata m;
  NIMBUS_RETURN_IF_ERROR(CollectExtras(j, {"zarr_format", "node_type", "attributes"}, &m.extra));
  if (const auto it = j.find("attributes"); it != j.end()) {
    if (!it->is_object()) return MemberError("attributes", "an object", *it);
    m.attributes = *it;
  }
  return m;
}

Result<json> ParseText(std::string_view json_text) {
  try {
    return json::parse(json_text);
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("zarr.json is not valid JSON: ") + e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// Serialisation in zarr-python's member order. nlohmann::json objects sort their keys, so the
// order is rebuilt on an ordered_json copy.

// zarr-python's member order inside the configurations it writes most, so Serialize gives the
// same bytes; members not listed (and other extensions') follow in sorted order.
struct ConfigurationOrder {
  std::string_view name;
  std::array<std::string_view, 5> members;  // unused slots are empty
};
constexpr ConfigurationOrder kConfigurationOrders[] = {
    {"numpy.datetime64", {"unit", "scale_factor"}},
    {"numpy.timedelta64", {"unit", "scale_factor"}},
    {"blosc", {"typesize", "cname", "clevel", "shuffle", "blocksize"}},
    {"zstd", {"level", "checksum"}},
    {"sharding_indexed", {"chunk_shape", "codecs", "index_codecs", "index_location"}},
};

ordered_json Ordered(const json& j, bool name_first);

ordered_json OrderedConfiguration(const json& configuration, const json& name) {
  if (!configuration.is_object() || !name.is_string()) return Ordered(configuration, true);
  ordered_json out = ordered_json::object();
  for (const ConfigurationOrder& order : kConfigurationOrders) {
    if (order.name != name.get_ref<const std::string&>()) continue;
    for (std::string_view key : order.members) {
      if (key.empty()) break;
      if (const auto it = configuration.find(key); it != configuration.end()) {
        out[std::string(key)] = Ordered(*it, true);
      }
    }
  }
  for (const auto& [key, value] : configuration.items()) {
    if (!out.contains(key)) out[key] = Ordered(value, true);
  }
  return out;
}

ordered_json Ordered(const json& j, bool name_first) {
  switch (j.type()) {
    case json::value_t::object: {
      ordered_json out = ordered_json::object();
      if (name_first) {
        // Extension objects read best as {"name", "configuration", ...}, as zarr-python writes.
        if (const auto name = j.find("name"); name != j.end()) {
          out["name"] = Ordered(*name, name_first);
          if (const auto it = j.find("configuration"); it != j.end()) {
            out["configuration"] = OrderedConfiguration(*it, *name);
          }
        }
      }
      for (const auto& [key, value] : j.items()) {
        if (!out.contains(key)) out[key] = Ordered(value, name_first);
      }
      return out;
    }
    case json::value_t::array: {
      ordered_json out = ordered_json::array();
      for (const json& v : j) out.push_back(Ordered(v, name_first));
      return out;
    }
    case json::value_t::string:
      return j.get<std::string>();
    case json::value_t::boolean:
      return j.get<bool>();
    case json::value_t::number_integer:
      return j.get<int64_t>();
    case json::value_t::number_unsigned:
      return j.get<uint64_t>();
    case json::value_t::number_float:
      return j.get<double>();
    case json::value_t::binary:
      return ordered_json::binary(j.get_binary());
    case json::value_t::null:
    case json::value_t::discarded:
      return nullptr;
  }
  return nullptr;
}

std::string SerializeInOrder(const json& j, std::initializer_list<std::string_view> order) {
  ordered_json out = ordered_json::object();
  for (std::string_view key : order) {
    if (const auto it = j.find(key); it != j.end()) {
      out[std::string(key)] = Ordered(*it, /*name_first=*/key != "attributes");
    }
  }
  for (const auto& [key, value] : j.items()) {
    if (!out.contains(key)) out[key] = Ordered(value, /*name_first=*/true);
  }
  // zarr-python (Python json.dumps) escapes non-ASCII; match it byte for byte where we can.
  return out.dump(2, ' ', /*ensure_ascii=*/true, ordered_json::error_handler_t::replace);
}

}  // namespace

std::string ChunkKeyEncoding::Key(std::span<const uint64_t> chunk_coords) const {
  if (v2 && chunk_coords.empty()) return "0";
  std::string key = v2 ? "" : "c";
  for (size_t i = 0; i < chunk_coords.size(); ++i) {
    if (!v2 || i > 0) key += separator;
    key += std::to_string(chunk_coords[i]);
  }
  return key;
}

Result<ChunkKeyEncoding> ChunkKeyEncoding::FromJson(const nlohmann::json& j) {
  NIMBUS_ASSIGN_OR_RETURN(Extension ext, ParseExtension(j, "chunk_key_encoding"));
  ChunkKeyEncoding encoding;
  if (ext.name == "default") {
    encoding.v2 = false;
    encoding.separator = '/';
  } else if (ext.name == "v2") {
    encoding.v2 = true;
    encoding.separator = '.';
  } else {
    return UnimplementedError("chunk key encoding " + Quoted(ext.name) + " is not supported");
  }
  for (const auto& [key, value] : ext.configuration.items()) {
    if (key != "separator") {
      return InvalidArgumentError("unsupported member " + Quoted(key) +
                                  " in chunk_key_encoding configuration");
    }
    if (value != "/" && value != ".") {
      return MemberError("chunk_key_encoding.configuration.separator", "\"/\" or \".\"", value);
    }
    encoding.separator = value.get_ref<const std::string&>()[0];
  }
  return encoding;
}

nlohmann::json ChunkKeyEncoding::ToJson() const {
  return {{"name", v2 ? "v2" : "default"},
          {"configuration", {{"separator", std::string(1, separator)}}}};
}

std::vector<uint64_t> ArrayMetadata::GridShape() const {
  std::vector<uint64_t> grid(shape.size(), 0);
  for (size_t i = 0; i < shape.size() && i < chunk_shape.size(); ++i) {
    const uint64_t c = chunk_shape[i];
    if (c == 0) continue;
    grid[i] = shape[i] / c + (shape[i] % c != 0 ? 1 : 0);  // no overflow near 2^64
  }
  return grid;
}

Result<ArrayMetadata> ArrayMetadata::Parse(std::string_view json_text) {
  NIMBUS_ASSIGN_OR_RETURN(json j, ParseText(json_text));
  return FromJson(j);
}

Result<ArrayMetadata> ArrayMetadata::FromJson(const nlohmann::json& j) {
  // The parsers check types before every access; this is the boundary for anything they miss.
  try {
    return ArrayFromJson(j);
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("invalid array zarr.json: ") + e.what());
  }
}

nlohmann::json ArrayMetadata::ToJson() const {
  json j = json::object();
  j["shape"] = shape;
  j["data_type"] = data_type.ToJson();
  j["chunk_grid"] = {{"name", "regular"}, {"configuration", {{"chunk_shape", chunk_shape}}}};
  j["chunk_key_encoding"] = chunk_key_encoding.ToJson();
  j["fill_value"] = FillValueToJson(data_type, fill_value);
  j["codecs"] = codecs;
  j["attributes"] = attributes;
  if (dimension_names) {
    json names = json::array();
    for (const auto& name : *dimension_names) {
      names.push_back(name ? json(*name) : json(nullptr));
    }
    j["dimension_names"] = std::move(names);
  }
  j["zarr_format"] = 3;
  j["node_type"] = "array";
  j["storage_transformers"] = storage_transformers;
  for (const auto& [key, value] : extra.items()) {
    if (!j.contains(key)) j[key] = value;
  }
  return j;
}

std::string ArrayMetadata::Serialize() const {
  return SerializeInOrder(ToJson(), {"shape", "data_type", "chunk_grid", "chunk_key_encoding",
                                     "fill_value", "codecs", "attributes", "dimension_names",
                                     "zarr_format", "node_type", "storage_transformers"});
}

Result<GroupMetadata> GroupMetadata::FromJson(const nlohmann::json& j) {
  try {
    return GroupFromJson(j);
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("invalid group zarr.json: ") + e.what());
  }
}

nlohmann::json GroupMetadata::ToJson() const {
  json j = json::object();
  j["attributes"] = attributes;
  j["zarr_format"] = 3;
  j["node_type"] = "group";
  for (const auto& [key, value] : extra.items()) {
    if (!j.contains(key)) j[key] = value;
  }
  return j;
}

std::string GroupMetadata::Serialize() const {
  return SerializeInOrder(ToJson(),
                          {"attributes", "zarr_format", "consolidated_metadata", "node_type"});
}

Result<NodeMetadata> ParseNodeMetadata(std::string_view json_text) {
  NIMBUS_ASSIGN_OR_RETURN(json j, ParseText(json_text));
  if (!j.is_object()) return InvalidArgumentError("zarr.json must be an object, got " + Dump(j));
  NIMBUS_RETURN_IF_ERROR(CheckZarrFormat(j));
  const auto node_type = j.find("node_type");
  if (node_type != j.end() && *node_type == "array") {
    NIMBUS_ASSIGN_OR_RETURN(ArrayMetadata array, ArrayMetadata::FromJson(j));
    return NodeMetadata(std::move(array));
  }
  if (node_type != j.end() && *node_type == "group") {
    NIMBUS_ASSIGN_OR_RETURN(GroupMetadata group, GroupMetadata::FromJson(j));
    return NodeMetadata(std::move(group));
  }
  if (node_type == j.end()) return InvalidArgumentError("zarr.json is missing member 'node_type'");
  return MemberError("node_type", "'array' or 'group'", *node_type);
}

}  // namespace nimbus::zarr
