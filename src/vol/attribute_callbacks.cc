// Attribute callbacks. Attributes of a file, group or dataset are entries of its zarr.json
// "attributes": the plain JSON value under the attribute's name, and its exact HDF5 type and shape
// under "_nimbus" -> "attributes" -> name (docs/format.md "Attributes"). Every change is a
// conditional read-modify-write of the owner's zarr.json.
#include <algorithm>
#include <cstring>

#include "vol/callbacks.h"
#include "vol/errors.h"

namespace nimbus::vol {
namespace {

using nlohmann::json;

struct AttributeEntry {
  StoredType type;
  AttributeShape shape;
  H5T_cset_t name_cset = H5T_CSET_ASCII;
};

bool IsAscii(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return (c & 0x80) == 0; });
}

json ShapeToJson(const AttributeShape& shape) {
  if (!shape) return nullptr;
  json dims = json::array();
  for (hsize_t d : *shape) dims.push_back(d);
  return dims;
}

Result<AttributeShape> ShapeFromJson(const json& j) {
  if (j.is_null()) return AttributeShape{};
  if (!j.is_array()) return InvalidArgumentError("attribute shape " + j.dump() + " is not a list");
  std::vector<hsize_t> dims;
  for (const json& d : j) dims.push_back(d.get<hsize_t>());
  return AttributeShape(std::move(dims));
}

const json* Described(const json& attributes, const std::string& name) {
  auto reserved = attributes.find(kReservedAttribute);
  if (reserved == attributes.end() || !reserved->is_object()) return nullptr;
  auto described = reserved->find("attributes");
  if (described == reserved->end() || !described->is_object()) return nullptr;
  auto it = described->find(name);
  return it == described->end() ? nullptr : &*it;
}

Result<AttributeEntry> EntryOf(const json& attributes, const std::string& name,
                               const std::string& owner) {
  auto value = attributes.find(name);
  if (name == kReservedAttribute || value == attributes.end()) {
    return Status(ErrorKind::kNotFound, "attribute '" + name + "' does not exist on '/" + owner +
                                            "'");
  }
  AttributeEntry entry;
  if (const json* d = Described(attributes, name)) {
    NIMBUS_ASSIGN_OR_RETURN(entry.type, MakeStoredType(d->at("type")));
    NIMBUS_ASSIGN_OR_RETURN(entry.shape, ShapeFromJson(d->value("shape", json::array())));
    if (d->value("name_cset", "") == "utf8" || !IsAscii(name)) entry.name_cset = H5T_CSET_UTF8;
    return entry;
  }
  if (!IsAscii(name)) entry.name_cset = H5T_CSET_UTF8;
  auto inferred = InferAttribute(*value);
  if (!inferred.ok()) {
    return inferred.status().WithContext("attribute '" + name + "' of '/" + owner + "'");
  }
  NIMBUS_ASSIGN_OR_RETURN(entry.type, MakeStoredType(inferred->type_description));
  entry.shape = inferred->shape;
  return entry;
}

// The attribute's owner: attributes are located relative to an object, or are the object.
Result<std::string> OwnerPath(Object& obj, const H5VL_loc_params_t* loc) {
  if (obj.kind() == Object::Kind::kAttribute && loc->type == H5VL_OBJECT_BY_SELF) {
    return obj.path();
  }
  return LocatedPath(obj, loc);
}

Status CheckAttributeName(const std::string& name) {
  if (name.empty()) return InvalidArgumentError("attribute names cannot be empty");
  if (name == kReservedAttribute) {
    return InvalidArgumentError("'" + name + "' is reserved for nimbus's own metadata");
  }
  return Status::Ok();
}

Result<Attribute*> OpenAttribute(File& file, const std::string& owner, const std::string& name) {
  NIMBUS_ASSIGN_OR_RETURN(json attributes, ReadNodeAttributes(file, owner));
  NIMBUS_ASSIGN_OR_RETURN(AttributeEntry entry, EntryOf(attributes, name, owner));
  auto* a = new Attribute(file.shared_file(), owner, name, std::move(entry.type),
                          std::move(entry.shape));
  a->set_name_cset(entry.name_cset);
  return a;
}

Result<std::string> NameByIndex(File& file, const std::string& owner, H5_index_t index,
                                H5_iter_order_t order, hsize_t n) {
  if (index == H5_INDEX_CRT_ORDER) {
    return UnimplementedError("nimbus does not track attribute creation order; use the name index");
  }
  NIMBUS_ASSIGN_OR_RETURN(auto names, AttributeNames(file, owner));
  if (n >= names.size()) {
    return InvalidArgumentError("attribute index " + std::to_string(n) + " is out of range: '/" +
                                owner + "' has " + std::to_string(names.size()) + " attributes");
  }
  return order == H5_ITER_DEC ? names[names.size() - 1 - n] : names[n];
}

H5A_info_t InfoOf(const Attribute& a) {
  H5A_info_t info;
  std::memset(&info, 0, sizeof info);
  info.corder_valid = false;
  info.cset = a.name_cset();
  info.data_size = NumElements(a.shape()) * H5Tget_size(a.type().file_type.get());
  return info;
}

Status Read(Attribute& a, hid_t mem_type, void* buf, hid_t dxpl) {
  NIMBUS_ASSIGN_OR_RETURN(json attributes, ReadNodeAttributes(a.file(), a.path()));
  auto value = attributes.find(a.name());
  if (value == attributes.end()) {
    return Status(ErrorKind::kNotFound, "attribute '" + a.name() + "' of '/" + a.path() +
                                            "' no longer exists");
  }
  const uint64_t n = NumElements(a.shape());
  if (n == 0) return Status::Ok();
  const StoredType& type = a.type();
  const size_t mem_size = H5Tget_size(mem_type);
  htri_t same = H5Tequal(type.engine_type.get(), mem_type);
  if (same < 0) return Hdf5CallFailed("comparing attribute types");
  std::vector<char> temp(n * std::max(type.size, mem_size));
  NIMBUS_RETURN_IF_ERROR(DecodeAttributeValue(*value, type, a.shape(), temp.data()));
  if (!same) {
    // When the types are equal our strings go to the application, which owns them; otherwise the
    // conversion makes the application's own copies and ours are freed here.
    std::vector<char> ours;
    if (type.variable_string) ours.assign(temp.begin(), temp.begin() + n * sizeof(char*));
    // Records: members the memory type has and the attribute lacks keep the buffer's values.
    std::vector<char> background;
    if (type.has_compound) background.assign(static_cast<const char*>(buf),
                                             static_cast<const char*>(buf) + n * mem_size);
    herr_t converted = H5Tconvert(type.engine_type.get(), mem_type, n, temp.data(),
                                  background.empty() ? nullptr : background.data(), dxpl);
    if (type.variable_string) {
      for (uint64_t i = 0; i < n; ++i) {
        char* p;
        std::memcpy(&p, ours.data() + i * sizeof p, sizeof p);
        H5free_memory(p);
      }
    }
    if (converted < 0) {
      return Status(ErrorKind::kInvalidArgument, "cannot convert attribute '" + a.name() +
                                                     "' (" + TypeSummary(type.description) +
                                                     ") to the requested memory type");
    }
  }
  std::memcpy(buf, temp.data(), n * mem_size);
  return Status::Ok();
}

Status Write(Attribute& a, hid_t mem_type, const void* buf, hid_t dxpl) {
  File& file = a.file();
  NIMBUS_RETURN_IF_ERROR(file.CheckWritable("write attribute '" + a.name() + "'"));
  const uint64_t n = NumElements(a.shape());
  const StoredType& type = a.type();
  const size_t mem_size = H5Tget_size(mem_type);
  htri_t same = H5Tequal(type.engine_type.get(), mem_type);
  if (same < 0) return Hdf5CallFailed("comparing attribute types");
  std::vector<char> temp(n * std::max(type.size, mem_size) + 1);
  std::memcpy(temp.data(), buf, n * mem_size);
  bool reclaim = false;
  if (!same && n > 0) {
    // Records: members the memory type lacks keep the attribute's current values.
    std::vector<char> background;
    if (type.has_compound) {
      background.assign(n * type.size, '\0');
      if (ConversionNeedsOldValues(mem_type, type.engine_type.get())) {
        NIMBUS_ASSIGN_OR_RETURN(json attributes, ReadNodeAttributes(file, a.path()));
        auto current = attributes.find(a.name());
        if (current != attributes.end()) {
          NIMBUS_RETURN_IF_ERROR(
              DecodeAttributeValue(*current, type, a.shape(), background.data()));
        }
      }
    }
    if (H5Tconvert(mem_type, type.engine_type.get(), n, temp.data(),
                   background.empty() ? nullptr : background.data(), dxpl) < 0) {
      return Status(ErrorKind::kInvalidArgument, "cannot convert the memory type to attribute '" +
                                                     a.name() + "' (" +
                                                     TypeSummary(type.description) + ")");
    }
    reclaim = type.variable_string;  // the conversion allocated the strings
  }
  auto value = EncodeAttributeValue(type, a.shape(), temp.data());
  if (reclaim) {
    hsize_t dims[1] = {n};
    Hid space(H5Screate_simple(1, dims, nullptr));
    H5Treclaim(type.engine_type.get(), space.get(), H5P_DEFAULT, temp.data());
  }
  if (!value.ok()) return value.status().WithContext("attribute '" + a.name() + "'");
  return UpdateNodeAttributes(file, a.path(), [&](json& attributes) -> Status {
    attributes[a.name()] = *value;
    attributes[kReservedAttribute]["attributes"][a.name()] = {
        {"type", type.description}, {"shape", ShapeToJson(a.shape())}};
    return Status::Ok();
  });
}

Status Delete(File& file, const std::string& owner, const std::string& name) {
  NIMBUS_RETURN_IF_ERROR(file.CheckWritable("delete attribute '" + name + "'"));
  return UpdateNodeAttributes(file, owner, [&](json& attributes) -> Status {
    if (name == kReservedAttribute || !attributes.contains(name)) {
      return Status(ErrorKind::kNotFound, "attribute '" + name + "' does not exist on '/" + owner +
                                              "'");
    }
    attributes.erase(name);
    auto reserved = attributes.find(kReservedAttribute);
    if (reserved != attributes.end() && reserved->contains("attributes")) {
      (*reserved)["attributes"].erase(name);
      if ((*reserved)["attributes"].empty()) reserved->erase("attributes");
    }
    return Status::Ok();
  });
}

Status Rename(File& file, const std::string& owner, const std::string& from,
              const std::string& to) {
  NIMBUS_RETURN_IF_ERROR(file.CheckWritable("rename attribute '" + from + "'"));
  NIMBUS_RETURN_IF_ERROR(CheckAttributeName(to));
  return UpdateNodeAttributes(file, owner, [&](json& attributes) -> Status {
    if (from == kReservedAttribute || !attributes.contains(from)) {
      return Status(ErrorKind::kNotFound, "attribute '" + from + "' does not exist on '/" + owner +
                                              "'");
    }
    if (attributes.contains(to)) {
      return Status(ErrorKind::kPreconditionFailed, "attribute '" + to + "' already exists on '/" +
                                                        owner + "'");
    }
    attributes[to] = attributes[from];
    attributes.erase(from);
    if (const json* d = Described(attributes, from)) {
      json entry = *d;
      (*attributes.find(kReservedAttribute))["attributes"].erase(from);
      attributes[kReservedAttribute]["attributes"][to] = entry;
    }
    return Status::Ok();
  });
}

}  // namespace

Result<std::vector<std::string>> AttributeNames(File& file, const std::string& path) {
  NIMBUS_ASSIGN_OR_RETURN(json attributes, ReadNodeAttributes(file, path));
  std::vector<std::string> names;
  for (const auto& [name, value] : attributes.items()) {
    if (name == kReservedAttribute) continue;
    if (Described(attributes, name) == nullptr && !InferAttribute(value).ok()) continue;
    names.push_back(name);
  }
  return names;  // nlohmann's object keeps keys sorted: HDF5's name order
}

// The object an H5A*_by_idx location names (its link access list checked, soft links followed).
static Result<std::string> OwnerByIdx(Object& base, const H5VL_loc_by_idx_t& by_idx) {
  NIMBUS_RETURN_IF_ERROR(CheckAccessList(by_idx.lapl_id, "link access"));
  return ResolveObjectPath(base.file(), base.path(), by_idx.name);
}

void* AttrCreate(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t type_id,
                 hid_t space_id, hid_t acpl_id, hid_t aapl_id, hid_t, void**) {
  return GuardPointer<Object>(__func__, {H5E_ATTR, H5E_CANTCREATE}, [&]() -> Result<Object*> {
    NIMBUS_RETURN_IF_ERROR(CheckPropertyList(acpl_id, H5P_ATTRIBUTE_CREATE, "attribute creation"));
    NIMBUS_RETURN_IF_ERROR(CheckAccessList(aapl_id, "attribute access"));
    Object& base = AsObject(obj);
    File& file = base.file();
    const std::string attr_name = name == nullptr ? "" : name;
    NIMBUS_RETURN_IF_ERROR(file.CheckWritable("create attribute '" + attr_name + "'"));
    NIMBUS_RETURN_IF_ERROR(CheckAttributeName(attr_name));
    NIMBUS_ASSIGN_OR_RETURN(std::string owner, OwnerPath(base, loc));
    const std::string what = "attribute '" + attr_name + "' of '/" + owner + "'";
    H5T_cset_t name_cset = H5T_CSET_ASCII;
    if (acpl_id != H5P_DEFAULT && H5Pget_char_encoding(acpl_id, &name_cset) < 0) {
      return Hdf5CallFailed("reading the character encoding of " + what);
    }
    auto type = StoredTypeOf(type_id);
    if (!type.ok()) return type.status().WithContext(what);
    AttributeShape shape;
    switch (H5Sget_simple_extent_type(space_id)) {
      case H5S_NULL: break;
      case H5S_SCALAR: shape = std::vector<hsize_t>{}; break;
      case H5S_SIMPLE: {
        int rank = H5Sget_simple_extent_ndims(space_id);
        std::vector<hsize_t> dims(rank > 0 ? rank : 0);
        if (rank < 0 || H5Sget_simple_extent_dims(space_id, dims.data(), nullptr) < 0) {
          return Hdf5CallFailed("reading the dataspace of " + what);
        }
        shape = dims;
        break;
      }
      default: return Hdf5CallFailed("reading the dataspace of " + what);
    }
    // A new attribute holds zeros (empty strings for variable-length ones) until written.
    const uint64_t n = NumElements(shape);
    std::vector<char> zeros(n * type->size + 1, 0);
    NIMBUS_ASSIGN_OR_RETURN(json initial, EncodeAttributeValue(*type, shape, zeros.data()));
    NIMBUS_RETURN_IF_ERROR(UpdateNodeAttributes(file, owner, [&](json& attributes) -> Status {
      if (attributes.contains(attr_name)) {
        return Status(ErrorKind::kPreconditionFailed, what + " already exists");
      }
      attributes[attr_name] = initial;
      json& described = attributes[kReservedAttribute]["attributes"][attr_name];
      described = {{"type", type->description}, {"shape", ShapeToJson(shape)}};
      if (name_cset == H5T_CSET_UTF8) described["name_cset"] = "utf8";
      return Status::Ok();
    }));
    auto* a = new Attribute(file.shared_file(), owner, attr_name, std::move(type).value(),
                            std::move(shape));
    a->set_name_cset(name_cset == H5T_CSET_UTF8 || !IsAscii(attr_name) ? H5T_CSET_UTF8
                                                                       : H5T_CSET_ASCII);
    return static_cast<Object*>(a);
  });
}

void* AttrOpen(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t aapl_id, hid_t,
               void**) {
  return GuardPointer<Object>(__func__, {H5E_ATTR, H5E_CANTOPENOBJ}, [&]() -> Result<Object*> {
    NIMBUS_RETURN_IF_ERROR(CheckAccessList(aapl_id, "attribute access"));
    Object& base = AsObject(obj);
    File& file = base.file();
    if (loc->type == H5VL_OBJECT_BY_IDX) {
      const auto& by_idx = loc->loc_data.loc_by_idx;
      NIMBUS_ASSIGN_OR_RETURN(std::string owner, OwnerByIdx(base, by_idx));
      NIMBUS_ASSIGN_OR_RETURN(std::string attr_name, NameByIndex(file, owner, by_idx.idx_type,
                                                                 by_idx.order, by_idx.n));
      NIMBUS_ASSIGN_OR_RETURN(Attribute * a, OpenAttribute(file, owner, attr_name));
      return static_cast<Object*>(a);
    }
    NIMBUS_ASSIGN_OR_RETURN(std::string owner, OwnerPath(base, loc));
    NIMBUS_ASSIGN_OR_RETURN(Attribute * a, OpenAttribute(file, owner, name));
    return static_cast<Object*>(a);
  });
}

herr_t AttrRead(void* attr, hid_t mem_type_id, void* buf, hid_t dxpl_id, void**) {
  return GuardStatus(__func__, {H5E_ATTR, H5E_READERROR}, [&]() -> Status {
    return Read(static_cast<Attribute&>(AsObject(attr)), mem_type_id, buf, dxpl_id);
  });
}

herr_t AttrWrite(void* attr, hid_t mem_type_id, const void* buf, hid_t dxpl_id, void**) {
  return GuardStatus(__func__, {H5E_ATTR, H5E_WRITEERROR}, [&]() -> Status {
    return Write(static_cast<Attribute&>(AsObject(attr)), mem_type_id, buf, dxpl_id);
  });
}

herr_t AttrGet(void* obj, H5VL_attr_get_args_t* args, hid_t, void**) {
  return GuardStatus(__func__, {H5E_ATTR, H5E_CANTGET}, [&]() -> Status {
    Object& base = AsObject(obj);
    switch (args->op_type) {
      case H5VL_ATTR_GET_ACPL: {
        hid_t acpl = H5Pcreate(H5P_ATTRIBUTE_CREATE);
        if (acpl < 0) return Hdf5CallFailed("creating an attribute creation property list");
        H5Pset_char_encoding(acpl, static_cast<Attribute&>(base).name_cset());
        args->args.get_acpl.acpl_id = acpl;
        return Status::Ok();
      }
      case H5VL_ATTR_GET_SPACE: {
        auto& a = static_cast<Attribute&>(base);
        hid_t space;
        if (!a.shape()) {
          space = H5Screate(H5S_NULL);
        } else if (a.shape()->empty()) {
          space = H5Screate(H5S_SCALAR);
        } else {
          space = H5Screate_simple(static_cast<int>(a.shape()->size()), a.shape()->data(), nullptr);
        }
        if (space < 0) return Hdf5CallFailed("creating a dataspace");
        args->args.get_space.space_id = space;
        return Status::Ok();
      }
      case H5VL_ATTR_GET_TYPE: {
        hid_t t = H5Tcopy(static_cast<Attribute&>(base).type().file_type.get());
        if (t < 0) return Hdf5CallFailed("copying the attribute's datatype");
        args->args.get_type.type_id = t;
        return Status::Ok();
      }
      case H5VL_ATTR_GET_STORAGE_SIZE: {
        auto& a = static_cast<Attribute&>(base);
        *args->args.get_storage_size.data_size = InfoOf(a).data_size;
        return Status::Ok();
      }
      case H5VL_ATTR_GET_NAME: {
        auto& g = args->args.get_name;
        std::string attr_name;
        if (g.loc_params.type == H5VL_OBJECT_BY_SELF) {
          attr_name = static_cast<Attribute&>(base).name();
        } else if (g.loc_params.type == H5VL_OBJECT_BY_IDX) {
          const auto& by_idx = g.loc_params.loc_data.loc_by_idx;
          NIMBUS_ASSIGN_OR_RETURN(std::string owner, OwnerByIdx(base, by_idx));
          NIMBUS_ASSIGN_OR_RETURN(attr_name, NameByIndex(base.file(), owner, by_idx.idx_type,
                                                         by_idx.order, by_idx.n));
        } else {
          return InvalidArgumentError("attribute names are queried by self or by index");
        }
        CopyName(attr_name, g.buf, g.buf_size, g.attr_name_len);
        return Status::Ok();
      }
      case H5VL_ATTR_GET_INFO: {
        auto& g = args->args.get_info;
        std::unique_ptr<Attribute> opened;
        Attribute* a = nullptr;
        if (g.loc_params.type == H5VL_OBJECT_BY_SELF && base.kind() == Object::Kind::kAttribute) {
          a = &static_cast<Attribute&>(base);
        } else if (g.loc_params.type == H5VL_OBJECT_BY_IDX) {
          const auto& by_idx = g.loc_params.loc_data.loc_by_idx;
          NIMBUS_ASSIGN_OR_RETURN(std::string owner, OwnerByIdx(base, by_idx));
          NIMBUS_ASSIGN_OR_RETURN(std::string attr_name,
                                  NameByIndex(base.file(), owner, by_idx.idx_type, by_idx.order,
                                              by_idx.n));
          NIMBUS_ASSIGN_OR_RETURN(Attribute * raw, OpenAttribute(base.file(), owner, attr_name));
          opened.reset(raw);
          a = raw;
        } else {
          NIMBUS_ASSIGN_OR_RETURN(std::string owner, OwnerPath(base, &g.loc_params));
          NIMBUS_ASSIGN_OR_RETURN(Attribute * raw, OpenAttribute(base.file(), owner, g.attr_name));
          opened.reset(raw);
          a = raw;
        }
        *g.ainfo = InfoOf(*a);
        return Status::Ok();
      }
    }
    return UnimplementedError("attribute get operation not supported by nimbus");
  });
}

herr_t AttrSpecific(void* obj, const H5VL_loc_params_t* loc, H5VL_attr_specific_args_t* args,
                    hid_t, void**) {
  Object& base = AsObject(obj);
  if (args->op_type == H5VL_ATTR_ITER) {
    // The operator's own return value must come back unchanged, so only listing is guarded.
    auto& it = args->args.iterate;
    std::vector<std::string> names;
    std::vector<H5A_info_t> infos;
    hid_t owner_id = H5I_INVALID_HID;
    herr_t listed = GuardStatus(__func__, {H5E_ATTR, H5E_BADITER}, [&]() -> Status {
      if (it.idx_type == H5_INDEX_CRT_ORDER) {
        return UnimplementedError("nimbus does not track attribute creation order");
      }
      NIMBUS_ASSIGN_OR_RETURN(std::string owner, OwnerPath(base, loc));
      NIMBUS_ASSIGN_OR_RETURN(names, AttributeNames(base.file(), owner));
      if (it.order == H5_ITER_DEC) std::reverse(names.begin(), names.end());
      for (const std::string& n : names) {
        NIMBUS_ASSIGN_OR_RETURN(Attribute * raw, OpenAttribute(base.file(), owner, n));
        std::unique_ptr<Attribute> a(raw);
        infos.push_back(InfoOf(*a));
      }
      NIMBUS_ASSIGN_OR_RETURN(owner_id, RegisterNodeId(base.file(), owner));
      return Status::Ok();
    });
    if (listed < 0) return listed;
    herr_t ret = 0;
    hsize_t i = it.idx != nullptr ? *it.idx : 0;
    for (; i < names.size() && ret == 0; ++i) {
      ret = it.op(owner_id, names[i].c_str(), &infos[i], it.op_data);
    }
    if (it.idx != nullptr) *it.idx = i;
    H5Idec_ref(owner_id);
    return ret;
  }
  return GuardStatus(__func__, {H5E_ATTR, H5E_CANTGET}, [&]() -> Status {
    File& file = base.file();
    NIMBUS_ASSIGN_OR_RETURN(std::string owner, OwnerPath(base, loc));
    switch (args->op_type) {
      case H5VL_ATTR_DELETE:
        return Delete(file, owner, args->args.del.name);
      case H5VL_ATTR_DELETE_BY_IDX: {
        const auto& a = args->args.delete_by_idx;
        NIMBUS_ASSIGN_OR_RETURN(std::string attr_name,
                                NameByIndex(file, owner, a.idx_type, a.order, a.n));
        return Delete(file, owner, attr_name);
      }
      case H5VL_ATTR_EXISTS: {
        NIMBUS_ASSIGN_OR_RETURN(json attributes, ReadNodeAttributes(file, owner));
        std::string attr_name = args->args.exists.name;
        *args->args.exists.exists = attr_name != kReservedAttribute &&
                                    attributes.contains(attr_name);
        return Status::Ok();
      }
      case H5VL_ATTR_RENAME:
        return Rename(file, owner, args->args.rename.old_name, args->args.rename.new_name);
      case H5VL_ATTR_ITER:
        break;
    }
    return UnimplementedError("attribute operation not supported by nimbus");
  });
}

herr_t AttrOptional(void*, H5VL_optional_args_t* args, hid_t, void**) {
  return GuardStatus(__func__, {H5E_ATTR, H5E_UNSUPPORTED}, [&]() -> Status {
    return UnimplementedError("native-only attribute operation " + std::to_string(args->op_type) +
                              " is not supported by nimbus");
  });
}

herr_t AttrClose(void* attr, hid_t, void**) {
  return GuardStatus(__func__, {H5E_ATTR, H5E_CLOSEERROR}, [&]() -> Status {
    delete &AsObject(attr);
    return Status::Ok();
  });
}

}  // namespace nimbus::vol
