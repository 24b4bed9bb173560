#include "vol/attribute_values.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "vol/errors.h"
#include "zarr/data_type.h"

namespace nimbus::vol {
namespace {

using nlohmann::json;

// kRecord: compound, array and opaque values, converted element by element (RecordToJson).
enum class ValueKind { kSigned, kUnsigned, kFloat, kBool, kFixedString, kVariableString, kRecord };

struct ValueCodec {
  ValueKind kind;
  Hid number_type;  // engine-form integer/float type the values convert through (numbers only)
  size_t length = 0;  // fixed strings
  H5T_str_t padding = H5T_STR_NULLTERM;
};

Result<ValueCodec> CodecFor(const StoredType& type) {
  ValueCodec codec{};
  const json& d = type.description;
  std::string cls = d.value("class", "");
  if (cls == "string") {
    if (type.variable_string) {
      codec.kind = ValueKind::kVariableString;
    } else {
      codec.kind = ValueKind::kFixedString;
      codec.length = type.size;
      codec.padding = H5Tget_strpad(type.engine_type.get());
    }
    return codec;
  }
  if (IsBoolEnum(d)) {
    codec.kind = ValueKind::kBool;
    return codec;
  }
  if (cls == "enum") {
    // Engine enum bytes are the native-order base integer: convert through the base.
    codec.number_type = Hid(H5Tget_super(type.engine_type.get()));
    codec.kind = d.at("base").value("signed", true) ? ValueKind::kSigned : ValueKind::kUnsigned;
    return codec;
  }
  if (cls == "compound" || cls == "array" || cls == "opaque") {
    codec.kind = ValueKind::kRecord;
    return codec;
  }
  if (cls == "integer" || cls == "float") {
    codec.number_type = Hid(H5Tcopy(type.engine_type.get()));
    codec.kind = cls == "float"                   ? ValueKind::kFloat
                 : d.value("signed", true) ? ValueKind::kSigned
                                                  : ValueKind::kUnsigned;
    return codec;
  }
  return UnimplementedError("attributes of type " + TypeSummary(d) + " are not supported");
}

hid_t WideType(ValueKind kind) {
  switch (kind) {
    case ValueKind::kSigned: return H5T_NATIVE_INT64;
    case ValueKind::kUnsigned: return H5T_NATIVE_UINT64;
    default: return H5T_NATIVE_DOUBLE;
  }
}

json FloatToJson(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

Result<double> FloatFromJson(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  return InvalidArgumentError("attribute element " + v.dump() + " is not a number");
}

// Nests `flat` (C order) into lists of `dims`.
json Nest(const std::vector<json>& flat, const std::vector<hsize_t>& dims, size_t dim,
          size_t* pos) {
  json out = json::array();
  for (hsize_t i = 0; i < dims[dim]; ++i) {
    if (dim + 1 == dims.size()) {
      out.push_back(flat[(*pos)++]);
    } else {
      out.push_back(Nest(flat, dims, dim + 1, pos));
    }
  }
  return out;
}

// Flattens nested lists, checking they have exactly `dims`.
Status Flatten(const json& value, const std::vector<hsize_t>& dims, size_t dim,
               std::vector<const json*>* flat) {
  if (dim == dims.size()) {
    flat->push_back(&value);
    return Status::Ok();
  }
  if (!value.is_array() || value.size() != dims[dim]) {
    return InvalidArgumentError("attribute value does not have the recorded shape (dimension " +
                                std::to_string(dim) + " should hold " + std::to_string(dims[dim]) +
                                " elements)");
  }
  for (const json& item : value) NIMBUS_RETURN_IF_ERROR(Flatten(item, dims, dim + 1, flat));
  return Status::Ok();
}

std::string TrimmedFixedString(const char* p, size_t length, H5T_str_t padding) {
  size_t n = 0;
  while (n < length && p[n] != '\0') ++n;
  if (padding == H5T_STR_SPACEPAD) {
    n = length;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\0')) --n;
  }
  return std::string(p, n);
}

// Rectangular shape of nested lists and the kind of their leaves; false when ragged or mixed.
bool ShapeOf(const json& value, std::vector<hsize_t>* dims) {
  const json* cur = &value;
  while (cur->is_array()) {
    if (cur->empty()) return false;
    dims->push_back(cur->size());
    cur = &(*cur)[0];
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Records (compound, array, opaque): one element at a time, walking the description and the engine
// type side by side (the engine type gives member offsets and sizes). Plain JSON forms: a compound
// is an object keyed by member name, an array nested lists, opaque bytes a base64 string, and the
// parts inside are what they would be alone (numbers, booleans, text).

Result<json> PartToJson(const json& d, hid_t part, const char* p);

Result<json> NumberPartToJson(const json& d, hid_t part, const char* p) {
  std::string cls = d.value("class", "");
  Hid base(cls == "enum" ? H5Tget_super(part) : H5Tcopy(part));
  if (!base.valid()) return Hdf5CallFailed("reading an attribute value");
  const json& number = cls == "enum" ? d.at("base") : d;
  const ValueKind kind = number.value("class", "") == "float" ? ValueKind::kFloat
                         : number.value("signed", true)       ? ValueKind::kSigned
                                                              : ValueKind::kUnsigned;
  unsigned char buf[16] = {};
  std::memcpy(buf, p, H5Tget_size(base.get()));
  if (H5Tconvert(base.get(), WideType(kind), 1, buf, nullptr, H5P_DEFAULT) < 0) {
    return Hdf5CallFailed("widening an attribute value");
  }
  if (kind == ValueKind::kSigned) {
    int64_t v;
    std::memcpy(&v, buf, 8);
    return json(v);
  }
  if (kind == ValueKind::kUnsigned) {
    uint64_t v;
    std::memcpy(&v, buf, 8);
    return json(v);
  }
  double v;
  std::memcpy(&v, buf, 8);
  return FloatToJson(v);
}

Result<json> PartToJson(const json& d, hid_t part, const char* p) {
  std::string cls = d.value("class", "");
  if (cls == "enum" && IsBoolEnum(d)) return json(p[0] != 0);
  if (cls == "integer" || cls == "float" || cls == "enum") return NumberPartToJson(d, part, p);
  if (cls == "string") {
    std::string text = TrimmedFixedString(p, H5Tget_size(part), H5Tget_strpad(part));
    if (!IsValidUtf8(text)) {
      return UnimplementedError("attribute strings must be valid UTF-8 to be stored as JSON");
    }
    return json(std::move(text));
  }
  if (cls == "opaque") return json(zarr::Base64Encode(std::string_view(p, H5Tget_size(part))));
  if (cls == "array") {
    Hid base(H5Tget_super(part));
    if (!base.valid()) return Hdf5CallFailed("reading an attribute value");
    const size_t step = H5Tget_size(base.get());
    std::vector<hsize_t> dims;
    for (const json& k : d.at("dims")) dims.push_back(k.get<hsize_t>());
    std::vector<json> flat;
    const size_t count = H5Tget_size(part) / (step == 0 ? 1 : step);
    for (size_t i = 0; i < count; ++i) {
      NIMBUS_ASSIGN_OR_RETURN(json v, PartToJson(d.at("base"), base.get(), p + i * step));
      flat.push_back(std::move(v));
    }
    size_t pos = 0;
    return Nest(flat, dims, 0, &pos);
  }
  if (cls == "compound") {
    json out = json::object();
    const json& members = d.at("members");
    for (size_t i = 0; i < members.size(); ++i) {
      Hid member(H5Tget_member_type(part, static_cast<unsigned>(i)));
      if (!member.valid()) return Hdf5CallFailed("reading an attribute value");
      const size_t offset = H5Tget_member_offset(part, static_cast<unsigned>(i));
      NIMBUS_ASSIGN_OR_RETURN(json v, PartToJson(members[i].at("type"), member.get(), p + offset));
      out[members[i].at("name").get<std::string>()] = std::move(v);
    }
    return out;
  }
  return UnimplementedError("attributes of type " + TypeSummary(d) + " are not supported");
}

Status PartFromJson(const json& d, hid_t part, const json& v, char* p);

Status NumberPartFromJson(const json& d, hid_t part, const json& v, char* p) {
  std::string cls = d.value("class", "");
  Hid base(cls == "enum" ? H5Tget_super(part) : H5Tcopy(part));
  if (!base.valid()) return Hdf5CallFailed("writing an attribute value");
  const json& number = cls == "enum" ? d.at("base") : d;
  unsigned char buf[16] = {};
  ValueKind kind;
  if (number.value("class", "") == "float") {
    kind = ValueKind::kFloat;
    NIMBUS_ASSIGN_OR_RETURN(double x, FloatFromJson(v));
    std::memcpy(buf, &x, 8);
  } else if (!v.is_number_integer()) {
    return InvalidArgumentError("attribute element " + v.dump() + " is not an integer");
  } else if (number.value("signed", true)) {
    kind = ValueKind::kSigned;
    int64_t x = v.get<int64_t>();
    std::memcpy(buf, &x, 8);
  } else {
    kind = ValueKind::kUnsigned;
    uint64_t x = v.get<uint64_t>();
    std::memcpy(buf, &x, 8);
  }
  if (H5Tconvert(WideType(kind), base.get(), 1, buf, nullptr, H5P_DEFAULT) < 0) {
    return Hdf5CallFailed("narrowing an attribute value");
  }
  std::memcpy(p, buf, H5Tget_size(base.get()));
  return Status::Ok();
}

Status PartFromJson(const json& d, hid_t part, const json& v, char* p) {
  std::string cls = d.value("class", "");
  if (cls == "enum" && IsBoolEnum(d)) {
    if (!v.is_boolean() && !v.is_number_integer()) {
      return InvalidArgumentError("attribute element " + v.dump() + " is not a boolean");
    }
    p[0] = v.is_boolean() ? static_cast<char>(v.get<bool>()) : static_cast<char>(v.get<int64_t>() != 0);
    return Status::Ok();
  }
  if (cls == "integer" || cls == "float" || cls == "enum") return NumberPartFromJson(d, part, v, p);
  const size_t size = H5Tget_size(part);
  if (cls == "string") {
    if (!v.is_string()) return InvalidArgumentError("attribute element " + v.dump() + " is not a string");
    const std::string& text = v.get_ref<const std::string&>();
    std::memset(p, H5Tget_strpad(part) == H5T_STR_SPACEPAD ? ' ' : '\0', size);
    std::memcpy(p, text.data(), std::min(text.size(), size));
    return Status::Ok();
  }
  if (cls == "opaque") {
    std::string bytes;
    if (!v.is_string() || !zarr::Base64Decode(v.get_ref<const std::string&>(), &bytes) ||
        bytes.size() != size) {
      return InvalidArgumentError("attribute element " + v.dump() + " is not " +
                                  std::to_string(size) + " bytes in base64");
    }
    std::memcpy(p, bytes.data(), size);
    return Status::Ok();
  }
  if (cls == "array") {
    Hid base(H5Tget_super(part));
    if (!base.valid()) return Hdf5CallFailed("writing an attribute value");
    const size_t step = H5Tget_size(base.get());
    std::vector<hsize_t> dims;
    for (const json& k : d.at("dims")) dims.push_back(k.get<hsize_t>());
    std::vector<const json*> flat;
    NIMBUS_RETURN_IF_ERROR(Flatten(v, dims, 0, &flat));
    for (size_t i = 0; i < flat.size(); ++i) {
      NIMBUS_RETURN_IF_ERROR(PartFromJson(d.at("base"), base.get(), *flat[i], p + i * step));
    }
    return Status::Ok();
  }
  if (cls == "compound") {
    if (!v.is_object()) return InvalidArgumentError("attribute element " + v.dump() + " is not an object");
    const json& members = d.at("members");
    for (size_t i = 0; i < members.size(); ++i) {
      const std::string& name = members[i].at("name").get_ref<const std::string&>();
      auto value = v.find(name);
      if (value == v.end()) {
        return InvalidArgumentError("attribute element " + v.dump() + " lacks member '" + name + "'");
      }
      Hid member(H5Tget_member_type(part, static_cast<unsigned>(i)));
      if (!member.valid()) return Hdf5CallFailed("writing an attribute value");
      NIMBUS_RETURN_IF_ERROR(PartFromJson(members[i].at("type"), member.get(), *value,
                                          p + H5Tget_member_offset(part, static_cast<unsigned>(i))));
    }
    return Status::Ok();
  }
  return UnimplementedError("attributes of type " + TypeSummary(d) + " are not supported");
}

}  // namespace

uint64_t NumElements(const AttributeShape& shape) {
  if (!shape) return 0;
  uint64_t n = 1;
  for (hsize_t d : *shape) n *= d;
  return n;
}

bool IsValidUtf8(const std::string& s) {
  // RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF (what JSON writers accept).
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t extra = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (n - i - 1 < extra) return false;
    const auto second = static_cast<unsigned char>(s[i + 1]);
    if (second < lo || second > hi) return false;
    for (size_t k = 2; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

Result<json> EncodeAttributeValue(const StoredType& type, const AttributeShape& shape,
                                  const void* values) {
  if (!shape) return json(nullptr);
  const uint64_t n = NumElements(shape);
  NIMBUS_ASSIGN_OR_RETURN(ValueCodec codec, CodecFor(type));
  std::vector<json> flat;
  flat.reserve(n);
  const char* bytes = static_cast<const char*>(values);
  switch (codec.kind) {
    case ValueKind::kRecord:
      for (uint64_t i = 0; i < n; ++i) {
        auto v = PartToJson(type.description, type.engine_type.get(), bytes + i * type.size);
        if (!v.ok()) return v.status().WithContext("element " + std::to_string(i));
        flat.push_back(std::move(v).value());
      }
      break;
    case ValueKind::kBool:
      for (uint64_t i = 0; i < n; ++i) flat.push_back(bytes[i] != 0);
      break;
    case ValueKind::kFixedString:
    case ValueKind::kVariableString:
      for (uint64_t i = 0; i < n; ++i) {
        if (codec.kind == ValueKind::kVariableString) {
          const char* p;
          std::memcpy(&p, bytes + i * sizeof(char*), sizeof p);
          if (p == nullptr) {
            flat.push_back(nullptr);
            continue;
          }
          flat.push_back(std::string(p));
        } else {
          flat.push_back(TrimmedFixedString(bytes + i * codec.length, codec.length, codec.padding));
        }
        if (!IsValidUtf8(flat.back().get_ref<const std::string&>())) {
          return UnimplementedError(
              "attribute strings must be valid UTF-8 to be stored as JSON; element " +
              std::to_string(i) + " is not");
        }
      }
      break;
    default: {
      // Widen through HDF5's own conversion (exact for every supported size).
      hid_t wide = WideType(codec.kind);
      std::vector<unsigned char> buf(n * 8 + 8);
      std::memcpy(buf.data(), values, n * H5Tget_size(codec.number_type.get()));
      if (n > 0 && H5Tconvert(codec.number_type.get(), wide, n, buf.data(), nullptr,
                              H5P_DEFAULT) < 0) {
        return Hdf5CallFailed("widening attribute values");
      }
      for (uint64_t i = 0; i < n; ++i) {
        const unsigned char* p = buf.data() + i * 8;
        if (codec.kind == ValueKind::kSigned) {
          int64_t v;
          std::memcpy(&v, p, 8);
          flat.push_back(v);
        } else if (codec.kind == ValueKind::kUnsigned) {
          uint64_t v;
          std::memcpy(&v, p, 8);
          flat.push_back(v);
        } else {
          double v;
          std::memcpy(&v, p, 8);
          flat.push_back(FloatToJson(v));
        }
      }
    }
  }
  if (shape->empty()) return flat.empty() ? json(nullptr) : flat[0];
  size_t pos = 0;
  return Nest(flat, *shape, 0, &pos);
}

Status DecodeAttributeValue(const json& value, const StoredType& type, const AttributeShape& shape,
                            void* values) {
  if (!shape) return Status::Ok();
  const uint64_t n = NumElements(shape);
  NIMBUS_ASSIGN_OR_RETURN(ValueCodec codec, CodecFor(type));
  std::vector<const json*> flat;
  NIMBUS_RETURN_IF_ERROR(Flatten(value, *shape, 0, &flat));
  char* bytes = static_cast<char*>(values);
  switch (codec.kind) {
    case ValueKind::kRecord:
      std::memset(bytes, 0, n * type.size);
      for (uint64_t i = 0; i < n; ++i) {
        Status s = PartFromJson(type.description, type.engine_type.get(), *flat[i],
                                bytes + i * type.size);
        if (!s.ok()) return s.WithContext("element " + std::to_string(i));
      }
      return Status::Ok();
    case ValueKind::kBool:
      for (uint64_t i = 0; i < n; ++i) {
        const json& v = *flat[i];
        if (!v.is_boolean() && !v.is_number_integer()) {
          return InvalidArgumentError("attribute element " + v.dump() + " is not a boolean");
        }
        bytes[i] = v.is_boolean() ? static_cast<char>(v.get<bool>()) : static_cast<char>(v.get<int64_t>() != 0);
      }
      return Status::Ok();
    case ValueKind::kFixedString:
      std::memset(bytes, codec.padding == H5T_STR_SPACEPAD ? ' ' : '\0', n * codec.length);
      for (uint64_t i = 0; i < n; ++i) {
        if (!flat[i]->is_string()) {
          return InvalidArgumentError("attribute element " + flat[i]->dump() + " is not a string");
        }
        const std::string& s = flat[i]->get_ref<const std::string&>();
        std::memcpy(bytes + i * codec.length, s.data(), std::min(s.size(), codec.length));
      }
      return Status::Ok();
    case ValueKind::kVariableString:
      for (uint64_t i = 0; i < n; ++i) {
        char* p = nullptr;
        if (!flat[i]->is_null()) {
          if (!flat[i]->is_string()) {
            return InvalidArgumentError("attribute element " + flat[i]->dump() +
                                        " is not a string");
          }
          const std::string& s = flat[i]->get_ref<const std::string&>();
          p = static_cast<char*>(H5allocate_memory(s.size() + 1, false));
          if (p == nullptr) return PermanentError("out of memory for an attribute string");
          std::memcpy(p, s.c_str(), s.size() + 1);
        }
        std::memcpy(bytes + i * sizeof(char*), &p, sizeof p);
      }
      return Status::Ok();
    default: {
      hid_t wide = WideType(codec.kind);
      std::vector<unsigned char> buf(n * 8 + 8);
      for (uint64_t i = 0; i < n; ++i) {
        const json& v = *flat[i];
        unsigned char* p = buf.data() + i * 8;
        if (codec.kind == ValueKind::kFloat) {
          NIMBUS_ASSIGN_OR_RETURN(double d, FloatFromJson(v));
          std::memcpy(p, &d, 8);
        } else if (!v.is_number_integer()) {
          return InvalidArgumentError("attribute element " + v.dump() + " is not an integer");
        } else if (codec.kind == ValueKind::kSigned) {
          int64_t x = v.get<int64_t>();
          std::memcpy(p, &x, 8);
        } else {
          uint64_t x = v.get<uint64_t>();
          std::memcpy(p, &x, 8);
        }
      }
      if (n > 0 && H5Tconvert(wide, codec.number_type.get(), n, buf.data(), nullptr,
                              H5P_DEFAULT) < 0) {
        return Hdf5CallFailed("narrowing attribute values");
      }
      std::memcpy(values, buf.data(), n * H5Tget_size(codec.number_type.get()));
      return Status::Ok();
    }
  }
}

Result<InferredAttribute> InferAttribute(const json& value) {
  InferredAttribute out;
  std::vector<hsize_t> dims;
  if (!ShapeOf(value, &dims)) {
    return UnimplementedError("empty lists have no HDF5 attribute form");
  }
  std::vector<const json*> flat;
  if (!Flatten(value, dims, 0, &flat).ok()) {
    return UnimplementedError("ragged lists have no HDF5 attribute form");
  }
  bool all_bool = true, all_string = true, all_number = true, any_float = false,
       any_big_unsigned = false;
  for (const json* v : flat) {
    all_bool = all_bool && v->is_boolean();
    all_string = all_string && v->is_string();
    all_number = all_number && v->is_number();
    any_float = any_float || v->is_number_float();
    any_big_unsigned = any_big_unsigned ||
                       (v->is_number_unsigned() &&
                        v->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()));
  }
  if (all_bool) {
    out.type_description = {
        {"class", "enum"},
        {"base", {{"class", "integer"}, {"size", 1}, {"signed", true}, {"order", "little"}}},
        {"members", json::array({json::array({"FALSE", 0}), json::array({"TRUE", 1})})}};
  } else if (all_string) {
    out.type_description = {
        {"class", "string"}, {"length", "variable"}, {"charset", "utf-8"}, {"padding", "nullterm"}};
  } else if (all_number) {
    if (any_float) {
      out.type_description = {{"class", "float"}, {"size", 8}, {"order", "little"}};
    } else {
      out.type_description = {
          {"class", "integer"}, {"size", 8}, {"signed", !any_big_unsigned}, {"order", "little"}};
    }
  } else {
    return UnimplementedError("this JSON value has no HDF5 attribute form");
  }
  out.shape = dims;
  return out;
}

}  // namespace nimbus::vol
