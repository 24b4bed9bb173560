#include "vol/types.h"

#include <cstring>
#include <vector>

#include "vol/errors.h"

namespace nimbus::vol {
namespace {

using nlohmann::json;

H5T_order_t NativeOrder() { return H5Tget_order(H5T_NATIVE_INT); }

std::string OrderName(H5T_order_t order) { return order == H5T_ORDER_BE ? "big" : "little"; }

Result<H5T_order_t> OrderFromName(const json& d) {
  std::string order = d.value("order", std::string("little"));
  if (order == "little") return H5T_ORDER_LE;
  if (order == "big") return H5T_ORDER_BE;
  return InvalidArgumentError("datatype description " + d.dump() + ": unknown order '" + order +
                              "'");
}

// The predefined little-endian integer or float of this size and kind; negative when none.
hid_t StandardLittleEndian(H5T_class_t cls, size_t size, bool is_signed) {
  if (cls == H5T_INTEGER) {
    switch (size) {
      case 1: return is_signed ? H5T_STD_I8LE : H5T_STD_U8LE;
      case 2: return is_signed ? H5T_STD_I16LE : H5T_STD_U16LE;
      case 4: return is_signed ? H5T_STD_I32LE : H5T_STD_U32LE;
      case 8: return is_signed ? H5T_STD_I64LE : H5T_STD_U64LE;
      default: return H5I_INVALID_HID;
    }
  }
  if (cls == H5T_FLOAT) {
    switch (size) {
      case 2: return H5T_IEEE_F16LE;
      case 4: return H5T_IEEE_F32LE;
      case 8: return H5T_IEEE_F64LE;
      default: return H5I_INVALID_HID;
    }
  }
  return H5I_INVALID_HID;
}

// Integers and floats nimbus stores are exactly the standard layouts (any byte order): compare a
// little-endian copy with the predefined type, which checks precision, offset, padding, fields.
Result<json> DescribeNumber(hid_t type, H5T_class_t cls) {
  const size_t size = H5Tget_size(type);
  const bool is_signed = cls == H5T_INTEGER && H5Tget_sign(type) == H5T_SGN_2;
  const H5T_order_t order = H5Tget_order(type);
  const char* what = cls == H5T_INTEGER ? "integer" : "floating-point";
  hid_t standard = StandardLittleEndian(cls, size, is_signed);
  if (standard < 0 || (order != H5T_ORDER_LE && order != H5T_ORDER_BE)) {
    return UnimplementedError(std::to_string(size * 8) + "-bit " + what +
                              " datatypes are not supported (sizes 8/16/32/64 bits" +
                              (cls == H5T_FLOAT ? std::string(", 16/32/64 for floats") : "") +
                              ", little or big endian)");
  }
  Hid copy(H5Tcopy(type));
  if (!copy.valid() || H5Tset_order(copy.get(), H5T_ORDER_LE) < 0) {
    return Hdf5CallFailed("handling a datatype");
  }
  if (H5Tequal(copy.get(), standard) <= 0) {
    return UnimplementedError(std::string("non-standard ") + what +
                              " layouts (custom precision, offset, padding or exponent fields) "
                              "are not supported");
  }
  json d = {{"class", cls == H5T_INTEGER ? "integer" : "float"}, {"size", size}};
  if (cls == H5T_INTEGER) d["signed"] = is_signed;
  d["order"] = OrderName(order);
  return d;
}

// Converts one value between an integer type and int64/uint64 (H5Tconvert: exact for in-range).
Result<json> EnumValueToJson(hid_t base, const void* value) {
  const bool is_signed = H5Tget_sign(base) == H5T_SGN_2;
  hid_t wide = is_signed ? H5T_NATIVE_INT64 : H5T_NATIVE_UINT64;
  unsigned char buf[16] = {};
  std::memcpy(buf, value, H5Tget_size(base));
  if (H5Tconvert(base, wide, 1, buf, nullptr, H5P_DEFAULT) < 0) return Hdf5CallFailed("handling a datatype");
  if (is_signed) {
    int64_t v;
    std::memcpy(&v, buf, sizeof v);
    return json(v);
  }
  uint64_t v;
  std::memcpy(&v, buf, sizeof v);
  return json(v);
}

Status EnumValueFromJson(const json& value, hid_t base, void* out) {
  unsigned char buf[16] = {};
  hid_t wide;
  if (value.is_number_unsigned()) {
    uint64_t v = value.get<uint64_t>();
    std::memcpy(buf, &v, sizeof v);
    wide = H5T_NATIVE_UINT64;
  } else if (value.is_number_integer()) {
    int64_t v = value.get<int64_t>();
    std::memcpy(buf, &v, sizeof v);
    wide = H5T_NATIVE_INT64;
  } else {
    return InvalidArgumentError("enum member value " + value.dump() + " is not an integer");
  }
  if (H5Tconvert(wide, base, 1, buf, nullptr, H5P_DEFAULT) < 0) return Hdf5CallFailed("handling a datatype");
  std::memcpy(out, buf, H5Tget_size(base));
  return Status::Ok();
}

// Which HDF5 type a description is turned into (see types.h): the declared one, the engine form of
// a whole element, or the engine form of a part of a record (compound member or array element).
enum class Form { kFile, kEngine, kRecordPart };

Result<Hid> NumberType(const json& d, Form form) {
  std::string cls = d.value("class", "");
  size_t size = d.value("size", size_t{0});
  bool is_signed = d.value("signed", true);
  hid_t standard =
      StandardLittleEndian(cls == "integer" ? H5T_INTEGER : H5T_FLOAT, size, is_signed);
  if (standard < 0) {
    return InvalidArgumentError("datatype description " + d.dump() + ": unsupported size");
  }
  NIMBUS_ASSIGN_OR_RETURN(H5T_order_t order, OrderFromName(d));
  if (form == Form::kEngine) order = NativeOrder();
  if (form == Form::kRecordPart) order = H5T_ORDER_LE;  // zarr-python reads record fields so
  Hid t(H5Tcopy(standard));
  if (!t.valid() || H5Tset_order(t.get(), order) < 0) {
    return Hdf5CallFailed("handling a datatype");
  }
  return t;
}

Result<Hid> StringType(const json& d) {
  Hid t(H5Tcopy(H5T_C_S1));
  if (!t.valid()) return Hdf5CallFailed("handling a datatype");
  const json& length = d.at("length");
  size_t size = length.is_string() ? H5T_VARIABLE : length.get<size_t>();
  if (!length.is_string() && size == 0) {
    return InvalidArgumentError("string datatype description with length 0");
  }
  std::string charset = d.value("charset", "ascii");
  std::string padding = d.value("padding", "nullterm");
  H5T_str_t pad = padding == "nullpad"    ? H5T_STR_NULLPAD
                  : padding == "spacepad" ? H5T_STR_SPACEPAD
                                          : H5T_STR_NULLTERM;
  if (H5Tset_size(t.get(), size) < 0 ||
      H5Tset_cset(t.get(), charset == "utf-8" ? H5T_CSET_UTF8 : H5T_CSET_ASCII) < 0 ||
      H5Tset_strpad(t.get(), pad) < 0) {
    return Hdf5CallFailed("handling a datatype");
  }
  return t;
}

Result<Hid> TypeFromDescription(const json& d, Form form);

const json& MembersOf(const json& d) {
  static const json kNone = json::array();
  auto it = d.find("members");
  return it != d.end() && it->is_array() ? *it : kNone;
}

// Compound: the declared layout (offsets, padding, total size) for kFile; otherwise the packed
// record zarr-python's "structured" type describes: members in order, no padding.
Result<Hid> CompoundType(const json& d, Form form) {
  const json& members = MembersOf(d);
  if (members.empty()) {
    return InvalidArgumentError("compound datatype description without members: " + d.dump());
  }
  std::vector<std::pair<std::string, Hid>> parts;
  std::vector<size_t> offsets;
  size_t packed = 0;
  for (const json& m : members) {
    if (!m.is_object() || !m.contains("name") || !m["name"].is_string() || !m.contains("type")) {
      return InvalidArgumentError("compound member " + m.dump() + " needs a name and a type");
    }
    NIMBUS_ASSIGN_OR_RETURN(Hid mt, TypeFromDescription(m["type"], form == Form::kFile
                                                                       ? Form::kFile
                                                                       : Form::kRecordPart));
    offsets.push_back(form == Form::kFile ? m.value("offset", size_t{0}) : packed);
    packed += H5Tget_size(mt.get());
    parts.emplace_back(m["name"].get<std::string>(), std::move(mt));
  }
  const size_t size = form == Form::kFile ? d.value("size", packed) : packed;
  Hid t(H5Tcreate(H5T_COMPOUND, size));
  if (!t.valid()) return Hdf5CallFailed("creating a compound datatype");
  for (size_t i = 0; i < parts.size(); ++i) {
    if (H5Tinsert(t.get(), parts[i].first.c_str(), offsets[i], parts[i].second.get()) < 0) {
      return InvalidArgumentError("compound datatype description " + d.dump() + ": member '" +
                                  parts[i].first + "' does not fit at offset " +
                                  std::to_string(offsets[i]));
    }
  }
  return t;
}

Result<Hid> ArrayType(const json& d, Form form) {
  const json& dims_json = d.value("dims", json::array());
  if (!dims_json.is_array() || dims_json.empty() || dims_json.size() > H5S_MAX_RANK) {
    return InvalidArgumentError("array datatype description " + d.dump() + " needs 1 to 32 dims");
  }
  std::vector<hsize_t> dims;
  for (const json& n : dims_json) {
    if (!n.is_number_unsigned() && !(n.is_number_integer() && n.get<int64_t>() > 0)) {
      return InvalidArgumentError("array datatype description " + d.dump() + ": bad dimension");
    }
    dims.push_back(n.get<hsize_t>());
  }
  NIMBUS_ASSIGN_OR_RETURN(Hid base, TypeFromDescription(d.at("base"), form == Form::kFile
                                                                          ? Form::kFile
                                                                          : Form::kRecordPart));
  Hid t(H5Tarray_create2(base.get(), static_cast<unsigned>(dims.size()), dims.data()));
  if (!t.valid()) return Hdf5CallFailed("creating an array datatype");
  return t;
}

Result<Hid> OpaqueType(const json& d) {
  size_t size = d.value("size", size_t{0});
  if (size == 0) return InvalidArgumentError("opaque datatype description " + d.dump() + " has no size");
  Hid t(H5Tcreate(H5T_OPAQUE, size));
  if (!t.valid()) return Hdf5CallFailed("creating an opaque datatype");
  std::string tag = d.value("tag", "");
  if (!tag.empty() && H5Tset_tag(t.get(), tag.c_str()) < 0) {
    return Hdf5CallFailed("setting the tag of an opaque datatype");
  }
  return t;
}

Result<Hid> TypeFromDescription(const json& d, Form form) {
  if (!d.is_object()) return InvalidArgumentError("datatype description " + d.dump() + " is not an object");
  std::string cls = d.value("class", "");
  if (cls == "integer" || cls == "float") return NumberType(d, form);
  if (cls == "string") {
    if (form == Form::kRecordPart && d.at("length").is_string()) {
      return UnimplementedError("variable-length strings inside compound or array datatypes are "
                                "not supported");
    }
    return StringType(d);
  }
  if (cls == "compound") return CompoundType(d, form);
  if (cls == "array") return ArrayType(d, form);
  if (cls == "opaque") return OpaqueType(d);
  if (cls == "enum") {
    NIMBUS_ASSIGN_OR_RETURN(Hid base, NumberType(d.at("base"), form));
    Hid t(H5Tenum_create(base.get()));
    if (!t.valid()) return Hdf5CallFailed("handling a datatype");
    for (const json& member : d.at("members")) {
      if (!member.is_array() || member.size() != 2 || !member[0].is_string()) {
        return InvalidArgumentError("enum member " + member.dump() + " is not [name, value]");
      }
      unsigned char value[16] = {};
      NIMBUS_RETURN_IF_ERROR(EnumValueFromJson(member[1], base.get(), value));
      if (H5Tenum_insert(t.get(), member[0].get_ref<const std::string&>().c_str(), value) < 0) {
        return Hdf5CallFailed("handling a datatype");
      }
    }
    return t;
  }
  return UnimplementedError("datatype class '" + cls + "' in " + d.dump() + " is not supported");
}

// Bytes of one element in engine form inside a record (packed; a vlen string cannot be there).
size_t RecordPartSize(const json& d) {
  std::string cls = d.value("class", "");
  if (cls == "integer" || cls == "float" || cls == "opaque") return d.value("size", size_t{0});
  if (cls == "enum") return RecordPartSize(d.at("base"));
  if (cls == "string") return d.at("length").is_string() ? sizeof(char*) : d.at("length").get<size_t>();
  if (cls == "array") {
    size_t n = RecordPartSize(d.at("base"));
    for (const json& k : d.at("dims")) n *= k.get<size_t>();
    return n;
  }
  size_t n = 0;
  for (const json& m : MembersOf(d)) n += RecordPartSize(m.at("type"));
  return n;
}

json RawBytesJson(size_t length) {
  return {{"name", "raw_bytes"}, {"configuration", {{"length_bytes", length}}}};
}

// The zarr-python data type of a record field holding `d` (little-endian numbers; arrays, which
// zarr-python records cannot describe, as their raw bytes).
Result<json> RecordFieldJson(const json& d) {
  std::string cls = d.value("class", "");
  if (cls == "integer") {
    return json(std::string(d.value("signed", true) ? "int" : "uint") +
                std::to_string(d.value("size", 0) * 8));
  }
  if (cls == "float") return json("float" + std::to_string(d.value("size", 0) * 8));
  if (cls == "enum") return IsBoolEnum(d) ? json("bool") : RecordFieldJson(d.at("base"));
  if (cls == "string" && !d.at("length").is_string()) {
    return json{{"name", "null_terminated_bytes"},
                {"configuration", {{"length_bytes", d.at("length")}}}};
  }
  if (cls == "opaque" || cls == "array") return RawBytesJson(RecordPartSize(d));
  if (cls == "compound") {
    json fields = json::array();
    for (const json& m : MembersOf(d)) {
      NIMBUS_ASSIGN_OR_RETURN(json field, RecordFieldJson(m.at("type")));
      fields.push_back(json::array({m.at("name"), field}));
    }
    return json{{"name", "structured"}, {"configuration", {{"fields", fields}}}};
  }
  return UnimplementedError("no Zarr record field type for " + d.dump());
}

// A record field of an array written by zarr-python -> description (packed, little-endian).
Result<json> DescriptionOfField(const zarr::DataType& type);

Result<json> CompoundFromStructured(const zarr::DataType& type) {
  json members = json::array();
  for (const zarr::DataType::Field& f : type.fields) {
    NIMBUS_ASSIGN_OR_RETURN(json member_type, DescriptionOfField(*f.type));
    members.push_back({{"name", f.name}, {"offset", f.offset}, {"type", member_type}});
  }
  return json{{"class", "compound"}, {"size", type.item_size}, {"members", members}};
}

Result<json> DescriptionOfField(const zarr::DataType& type) {
  switch (type.type_class) {
    case zarr::TypeClass::kStructured: return CompoundFromStructured(type);
    case zarr::TypeClass::kRawBytes:
      return json{{"class", "opaque"}, {"size", type.item_size}, {"tag", ""}};
    case zarr::TypeClass::kBool:
    case zarr::TypeClass::kInt:
    case zarr::TypeClass::kUInt:
    case zarr::TypeClass::kFloat:
    case zarr::TypeClass::kFixedBytes:
      return DescriptionFromZarr(type, "little");
    default:
      return UnimplementedError("record field type '" + type.name +
                                "' has no HDF5 equivalent in nimbus yet");
  }
}

}  // namespace

namespace {

Result<json> DescribePart(hid_t type, bool in_record);

// Member names, offsets and types of a compound, with the exact layout (padding, total size).
Result<json> DescribeCompound(hid_t type) {
  int n = H5Tget_nmembers(type);
  if (n < 0) return Hdf5CallFailed("handling a compound datatype");
  if (n == 0) return UnimplementedError("compound datatypes without members are not supported");
  json members = json::array();
  for (int i = 0; i < n; ++i) {
    char* name = H5Tget_member_name(type, static_cast<unsigned>(i));
    if (name == nullptr) return Hdf5CallFailed("handling a compound datatype");
    std::string member_name(name);
    H5free_memory(name);
    Hid member_type(H5Tget_member_type(type, static_cast<unsigned>(i)));
    if (!member_type.valid()) return Hdf5CallFailed("handling a compound datatype");
    auto d = DescribePart(member_type.get(), true);
    if (!d.ok()) return d.status().WithContext("compound member '" + member_name + "'");
    members.push_back({{"name", member_name},
                       {"offset", H5Tget_member_offset(type, static_cast<unsigned>(i))},
                       {"type", *d}});
  }
  return json{{"class", "compound"}, {"size", H5Tget_size(type)}, {"members", members}};
}

Result<json> DescribeArray(hid_t type) {
  int rank = H5Tget_array_ndims(type);
  if (rank <= 0) return Hdf5CallFailed("handling an array datatype");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (H5Tget_array_dims2(type, dims.data()) < 0) return Hdf5CallFailed("handling an array datatype");
  Hid base(H5Tget_super(type));
  if (!base.valid()) return Hdf5CallFailed("handling an array datatype");
  auto d = DescribePart(base.get(), true);
  if (!d.ok()) return d.status().WithContext("array datatype element");
  return json{{"class", "array"}, {"dims", dims}, {"base", *d}};
}

Result<json> DescribeOpaque(hid_t type) {
  char* tag = H5Tget_tag(type);
  std::string tag_text = tag != nullptr ? tag : "";
  if (tag != nullptr) H5free_memory(tag);
  return json{{"class", "opaque"}, {"size", H5Tget_size(type)}, {"tag", tag_text}};
}

Result<json> DescribePart(hid_t type, bool in_record) {
  H5T_class_t cls = H5Tget_class(type);
  switch (cls) {
    case H5T_INTEGER:
    case H5T_FLOAT:
      return DescribeNumber(type, cls);
    case H5T_STRING: {
      htri_t variable = H5Tis_variable_str(type);
      if (variable < 0) return Hdf5CallFailed("handling a datatype");
      H5T_cset_t cset = H5Tget_cset(type);
      H5T_str_t pad = H5Tget_strpad(type);
      json d = {{"class", "string"}};
      if (variable && in_record) {
        return UnimplementedError("variable-length strings inside compound or array datatypes are "
                                  "not supported yet; use fixed-length strings (numpy 'S<n>')");
      }
      if (variable) {
        d["length"] = "variable";
      } else {
        d["length"] = H5Tget_size(type);
      }
      d["charset"] = cset == H5T_CSET_UTF8 ? "utf-8" : "ascii";
      d["padding"] = pad == H5T_STR_NULLPAD    ? "nullpad"
                     : pad == H5T_STR_SPACEPAD ? "spacepad"
                                               : "nullterm";
      return d;
    }
    case H5T_ENUM: {
      Hid base(H5Tget_super(type));
      if (!base.valid()) return Hdf5CallFailed("handling a datatype");
      NIMBUS_ASSIGN_OR_RETURN(json base_d, DescribeNumber(base.get(), H5T_INTEGER));
      int n = H5Tget_nmembers(type);
      if (n < 0) return Hdf5CallFailed("handling a datatype");
      json members = json::array();
      for (int i = 0; i < n; ++i) {
        char* name = H5Tget_member_name(type, static_cast<unsigned>(i));
        if (name == nullptr) return Hdf5CallFailed("handling a datatype");
        std::string member_name(name);
        H5free_memory(name);
        unsigned char value[16] = {};
        if (H5Tget_member_value(type, static_cast<unsigned>(i), value) < 0) {
          return Hdf5CallFailed("handling a datatype");
        }
        NIMBUS_ASSIGN_OR_RETURN(json v, EnumValueToJson(base.get(), value));
        members.push_back(json::array({member_name, v}));
      }
      return json{{"class", "enum"}, {"base", base_d}, {"members", members}};
    }
    case H5T_COMPOUND: return DescribeCompound(type);
    case H5T_ARRAY: return DescribeArray(type);
    case H5T_OPAQUE: return DescribeOpaque(type);
    case H5T_VLEN: return UnimplementedError("variable-length sequence datatypes are not supported yet");
    case H5T_REFERENCE: return UnimplementedError("reference datatypes are not supported");
    case H5T_BITFIELD: return UnimplementedError("bitfield datatypes are not supported");
    case H5T_TIME: return UnimplementedError("time datatypes are not supported");
    default: return Hdf5CallFailed("handling a datatype");
  }
}

}  // namespace

Result<json> DescribeType(hid_t type) { return DescribePart(type, false); }

Result<StoredType> MakeStoredType(const json& description) {
  StoredType st;
  st.description = description;
  NIMBUS_ASSIGN_OR_RETURN(st.file_type, TypeFromDescription(description, Form::kFile));
  NIMBUS_ASSIGN_OR_RETURN(st.engine_type, TypeFromDescription(description, Form::kEngine));
  st.size = H5Tget_size(st.engine_type.get());
  st.has_compound = H5Tdetect_class(st.engine_type.get(), H5T_COMPOUND) > 0;
  st.variable_string = description.value("class", "") == "string" &&
                       description.at("length").is_string();
  return st;
}

bool IsBoolEnum(const json& d) {
  if (d.value("class", "") != "enum") return false;
  const json& base = d.at("base");
  if (base.value("size", 0) != 1) return false;
  const json& members = d.at("members");
  if (!members.is_array() || members.size() != 2) return false;
  bool has_false = false, has_true = false;
  for (const json& m : members) {
    if (m[0] == "FALSE" && m[1] == 0) has_false = true;
    if (m[0] == "TRUE" && m[1] == 1) has_true = true;
  }
  return has_false && has_true;
}

Result<ZarrEncoding> ZarrEncodingOf(const json& d) {
  std::string cls = d.value("class", "");
  ZarrEncoding enc;
  std::string name;
  if (cls == "integer") {
    name = std::string(d.value("signed", true) ? "int" : "uint") +
           std::to_string(d.value("size", 0) * 8);
    if (d.value("size", 0) > 1) enc.endian = d.value("order", "little");
  } else if (cls == "float") {
    name = "float" + std::to_string(d.value("size", 0) * 8);
    enc.endian = d.value("order", "little");
  } else if (cls == "enum") {
    if (IsBoolEnum(d)) {
      name = "bool";
    } else {
      return ZarrEncodingOf(d.at("base"));
    }
  } else if (cls == "string") {
    if (d.at("length").is_string()) {
      // UTF-8 text is Zarr's "string"; ASCII-labelled strings may hold any bytes, so they are
      // "variable_length_bytes" (exact for every byte value).
      name = d.value("charset", "ascii") == "utf-8" ? "string" : "variable_length_bytes";
    } else {
      NIMBUS_ASSIGN_OR_RETURN(
          enc.data_type,
          zarr::DataType::FromJson(json{{"name", "null_terminated_bytes"},
                                        {"configuration", {{"length_bytes", d.at("length")}}}}));
      return enc;
    }
  } else if (cls == "compound" || cls == "array" || cls == "opaque") {
    // Records: zarr-python's "structured" (fields little-endian, so no bytes-codec endian) or, for
    // arrays and opaque bytes, "raw_bytes".
    NIMBUS_ASSIGN_OR_RETURN(json record, RecordFieldJson(d));
    NIMBUS_ASSIGN_OR_RETURN(enc.data_type, zarr::DataType::FromJson(record));
    return enc;
  } else {
    return UnimplementedError("no Zarr data type for " + d.dump());
  }
  NIMBUS_ASSIGN_OR_RETURN(enc.data_type, zarr::DataType::FromName(name));
  return enc;
}

Result<json> DescriptionFromZarr(const zarr::DataType& type, std::string_view endian) {
  std::string order = endian == "big" ? "big" : "little";
  switch (type.type_class) {
    case zarr::TypeClass::kBool:
      return json{{"class", "enum"},
                  {"base", {{"class", "integer"}, {"size", 1}, {"signed", true}, {"order", "little"}}},
                  {"members", json::array({json::array({"FALSE", 0}), json::array({"TRUE", 1})})}};
    case zarr::TypeClass::kInt:
    case zarr::TypeClass::kUInt:
      return json{{"class", "integer"},
                  {"size", type.item_size},
                  {"signed", type.type_class == zarr::TypeClass::kInt},
                  {"order", order}};
    case zarr::TypeClass::kFloat:
      return json{{"class", "float"}, {"size", type.item_size}, {"order", order}};
    case zarr::TypeClass::kFixedBytes:
      return json{{"class", "string"},
                  {"length", type.item_size},
                  {"charset", "ascii"},
                  {"padding", "nullpad"}};
    case zarr::TypeClass::kString:
      return json{{"class", "string"},
                  {"length", "variable"},
                  {"charset", "utf-8"},
                  {"padding", "nullterm"}};
    case zarr::TypeClass::kBytes:
      return json{{"class", "string"},
                  {"length", "variable"},
                  {"charset", "ascii"},
                  {"padding", "nullterm"}};
    case zarr::TypeClass::kStructured:
      return CompoundFromStructured(type);
    case zarr::TypeClass::kRawBytes:
      return json{{"class", "opaque"}, {"size", type.item_size}, {"tag", ""}};
    default:
      return UnimplementedError("Zarr data type '" + type.name +
                                "' has no HDF5 equivalent in nimbus yet");
  }
}

bool ConversionNeedsOldValues(hid_t from, hid_t to) {
  const H5T_class_t to_class = H5Tget_class(to);
  const H5T_class_t from_class = H5Tget_class(from);
  if (to_class == H5T_ARRAY && from_class == H5T_ARRAY) {
    Hid to_base(H5Tget_super(to)), from_base(H5Tget_super(from));
    return ConversionNeedsOldValues(from_base.get(), to_base.get());
  }
  if (to_class != H5T_COMPOUND || from_class != H5T_COMPOUND) return false;
  const int n = H5Tget_nmembers(to);
  for (int i = 0; i < n; ++i) {
    char* name = H5Tget_member_name(to, static_cast<unsigned>(i));
    if (name == nullptr) return true;
    const int in_from = H5Tget_member_index(from, name);
    H5free_memory(name);
    if (in_from < 0) return true;
    Hid to_member(H5Tget_member_type(to, static_cast<unsigned>(i)));
    Hid from_member(H5Tget_member_type(from, static_cast<unsigned>(in_from)));
    if (ConversionNeedsOldValues(from_member.get(), to_member.get())) return true;
  }
  return false;
}

std::string TypeSummary(const json& d) {
  std::string cls = d.value("class", "");
  if (cls == "integer") {
    return std::to_string(d.value("size", 0) * 8) + "-bit " + d.value("order", "") + "-endian " +
           (d.value("signed", true) ? "signed" : "unsigned") + " integer";
  }
  if (cls == "float") {
    return std::to_string(d.value("size", 0) * 8) + "-bit " + d.value("order", "") +
           "-endian float";
  }
  if (cls == "string") {
    return d.at("length").is_string() ? "variable-length string"
                                      : std::to_string(d.at("length").get<size_t>()) +
                                            "-byte string";
  }
  if (cls == "enum") return IsBoolEnum(d) ? "boolean enum" : "enum";
  if (cls == "compound") {
    std::string names;
    for (const json& m : MembersOf(d)) names += (names.empty() ? "" : ", ") + m.value("name", "");
    return "compound {" + names + "}";
  }
  if (cls == "array") {
    std::string dims;
    for (const json& k : d.value("dims", json::array())) dims += (dims.empty() ? "" : "x") + k.dump();
    return "array [" + dims + "] of " + TypeSummary(d.at("base"));
  }
  if (cls == "opaque") return std::to_string(d.value("size", 0)) + "-byte opaque";
  return d.dump();
}

}  // namespace nimbus::vol
