// Group, link and object callbacks: the hierarchy. Groups are Zarr groups; every object has exactly
// one hard link (its place in the Zarr hierarchy), so link and object operations are operations on
// node paths.
#include <hdf5.h>  // before H5VLnative.h, which is not self-contained
#include <H5VLnative.h>

#include <algorithm>
#include <cstring>

#include "vol/callbacks.h"
#include "vol/errors.h"

namespace nimbus::vol {
namespace {

using nlohmann::json;

H5O_type_t ObjectTypeOf(NodeKind kind) {
  return kind == NodeKind::kGroup ? H5O_TYPE_GROUP : H5O_TYPE_DATASET;
}

Result<NodeKind> ExistingNode(File& file, const std::string& path) {
  NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, LookupNode(file, path));
  if (kind == NodeKind::kMissing) {
    return Status(ErrorKind::kNotFound, "object '/" + path + "' doesn't exist in file '" +
                                            file.name() + "'");
  }
  return kind;
}

H5L_info2_t LinkInfo(const std::string& path) {
  H5L_info2_t info;
  std::memset(&info, 0, sizeof info);
  info.type = H5L_TYPE_HARD;
  info.corder_valid = false;
  info.cset = H5T_CSET_UTF8;
  info.u.token = TokenOf(path);
  return info;
}

Result<H5O_info2_t> ObjectInfo(File& file, const std::string& path, NodeKind kind,
                               unsigned fields) {
  H5O_info2_t info;
  std::memset(&info, 0, sizeof info);
  info.fileno = file.fileno();
  info.token = TokenOf(path);
  info.type = ObjectTypeOf(kind);
  info.rc = 1;
  if (fields & H5O_INFO_NUM_ATTRS) {
    NIMBUS_ASSIGN_OR_RETURN(auto names, AttributeNames(file, path));
    info.num_attrs = names.size();
  }
  return info;
}

// Calls an iteration operator for each entry; >0 stops with that value, <0 is the operator's
// failure (returned as is: h5py raises the exception its operator recorded).
template <typename Entry, typename Call>
herr_t IterateEntries(const std::vector<Entry>& entries, hsize_t start, hsize_t* idx_p,
                      Call&& call) {
  herr_t ret = 0;
  hsize_t i = start;
  for (; i < entries.size() && ret == 0; ++i) ret = call(entries[i]);
  if (idx_p != nullptr) *idx_p = i;
  return ret;
}

struct VisitEntry {
  std::string relative;  // name relative to the iteration's start
  std::string path;      // node path in the file
  NodeKind kind;
};

// Depth-first, in name order at each level (H5Lvisit/H5Ovisit order for name indexes).
Status CollectSubtree(File& file, const std::string& start, const std::string& prefix,
                      H5_iter_order_t order, std::vector<VisitEntry>* out) {
  NIMBUS_ASSIGN_OR_RETURN(auto names, ChildNames(file, start, H5_INDEX_NAME, order));
  for (const std::string& name : names) {
    std::string path = JoinPath(start, name);
    NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, LookupNode(file, path));
    if (kind == NodeKind::kMissing) continue;  // deleted meanwhile
    std::string relative = prefix.empty() ? name : prefix + "/" + name;
    out->push_back({relative, path, kind});
    if (kind == NodeKind::kGroup) {
      NIMBUS_RETURN_IF_ERROR(CollectSubtree(file, path, relative, order, out));
    }
  }
  return Status::Ok();
}

Status CheckIndex(H5_index_t index) {
  if (index == H5_INDEX_CRT_ORDER) {
    return UnimplementedError("nimbus does not track creation order; iterate by name");
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shared helpers

Result<std::vector<std::string>> ChildNames(File& file, const std::string& path, H5_index_t index,
                                            H5_iter_order_t order) {
  NIMBUS_RETURN_IF_ERROR(CheckIndex(index));
  NIMBUS_ASSIGN_OR_RETURN(auto names, zarr::ListChildren(file.store(), path));
  if (order == H5_ITER_DEC) std::reverse(names.begin(), names.end());
  return names;
}

Result<std::string> LocatedPath(Object& obj, const H5VL_loc_params_t* loc) {
  if (obj.kind() == Object::Kind::kDataset && static_cast<Dataset&>(obj).anonymous()) {
    return InvalidArgumentError("an anonymous dataset has no place in the file until it is linked");
  }
  switch (loc->type) {
    case H5VL_OBJECT_BY_SELF:
      return obj.path();
    case H5VL_OBJECT_BY_NAME:
      return ResolvePath(obj.path(), loc->loc_data.loc_by_name.name);
    case H5VL_OBJECT_BY_IDX: {
      const auto& by_idx = loc->loc_data.loc_by_idx;
      NIMBUS_ASSIGN_OR_RETURN(std::string group, ResolvePath(obj.path(), by_idx.name));
      NIMBUS_ASSIGN_OR_RETURN(auto names,
                              ChildNames(obj.file(), group, by_idx.idx_type, by_idx.order));
      if (by_idx.n >= names.size()) {
        return InvalidArgumentError("index " + std::to_string(by_idx.n) + " is out of range: '/" +
                                    group + "' holds " + std::to_string(names.size()) + " links");
      }
      return JoinPath(group, names[by_idx.n]);
    }
    case H5VL_OBJECT_BY_TOKEN:
      return PathOfToken(*loc->loc_data.loc_by_token.token);
  }
  return InvalidArgumentError("unknown location type");
}

void CopyName(const std::string& name, char* buf, size_t buf_size, size_t* length) {
  if (length != nullptr) *length = name.size();
  if (buf != nullptr && buf_size > 0) {
    size_t n = std::min(name.size(), buf_size - 1);
    std::memcpy(buf, name.data(), n);
    buf[n] = '\0';
  }
}

Result<hid_t> RegisterNodeId(File& file, const std::string& path) {
  NIMBUS_ASSIGN_OR_RETURN(Object * handle, OpenNode(file, path));
  hid_t id = H5VLwrap_register(handle, handle->id_type());
  if (id < 0) {
    delete handle;
    return Hdf5CallFailed("registering an ID for '/" + path + "'");
  }
  return id;
}

// ---------------------------------------------------------------------------------------------
// Group

void* GroupCreate(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t lcpl_id, hid_t,
                  hid_t, hid_t, void**) {
  return GuardPointer<Object>(__func__, {H5E_SYM, H5E_CANTCREATE}, [&]() -> Result<Object*> {
    Object& base = AsObject(obj);
    File& file = base.file();
    NIMBUS_RETURN_IF_ERROR(file.CheckWritable("create group '" + std::string(name) + "'"));
    NIMBUS_ASSIGN_OR_RETURN(std::string where, LocatedPath(base, loc));
    NIMBUS_ASSIGN_OR_RETURN(std::string path, ResolvePath(where, name));
    unsigned intermediate = 0;
    if (lcpl_id >= 0 && lcpl_id != H5P_DEFAULT) {
      H5Pget_create_intermediate_group(lcpl_id, &intermediate);
    }
    NIMBUS_RETURN_IF_ERROR(CreateGroupNode(file, path, intermediate != 0)
                               .WithContext("creating group in file '" + file.name() + "'"));
    return static_cast<Object*>(new Group(file.shared_file(), path));
  });
}

void* GroupOpen(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t, hid_t, void**) {
  return GuardPointer<Object>(__func__, {H5E_SYM, H5E_CANTOPENOBJ}, [&]() -> Result<Object*> {
    Object& base = AsObject(obj);
    File& file = base.file();
    NIMBUS_ASSIGN_OR_RETURN(std::string where, LocatedPath(base, loc));
    NIMBUS_ASSIGN_OR_RETURN(std::string path, ResolvePath(where, name));
    NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, ExistingNode(file, path));
    if (kind != NodeKind::kGroup) {
      return InvalidArgumentError("'/" + path + "' is a dataset, not a group");
    }
    return static_cast<Object*>(new Group(file.shared_file(), path));
  });
}

herr_t GroupGet(void* obj, H5VL_group_get_args_t* args, hid_t, void**) {
  return GuardStatus(__func__, {H5E_SYM, H5E_CANTGET}, [&]() -> Status {
    Object& base = AsObject(obj);
    switch (args->op_type) {
      case H5VL_GROUP_GET_GCPL: {
        hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
        if (gcpl < 0) return Hdf5CallFailed("creating a group creation property list");
        args->args.get_gcpl.gcpl_id = gcpl;
        return Status::Ok();
      }
      case H5VL_GROUP_GET_INFO: {
        auto& a = args->args.get_info;
        NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedPath(base, &a.loc_params));
        NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, ExistingNode(base.file(), path));
        if (kind != NodeKind::kGroup) return InvalidArgumentError("'/" + path + "' is not a group");
        NIMBUS_ASSIGN_OR_RETURN(auto names, zarr::ListChildren(base.file().store(), path));
        a.ginfo->storage_type = H5G_STORAGE_TYPE_COMPACT;
        a.ginfo->nlinks = names.size();
        a.ginfo->max_corder = 0;
        a.ginfo->mounted = false;
        return Status::Ok();
      }
    }
    return UnimplementedError("group get operation not supported by nimbus");
  });
}

herr_t GroupSpecific(void*, H5VL_group_specific_args_t* args, hid_t, void**) {
  return GuardStatus(__func__, {H5E_SYM, H5E_UNSUPPORTED}, [&]() -> Status {
    switch (args->op_type) {
      case H5VL_GROUP_FLUSH:
      case H5VL_GROUP_REFRESH:
        return Status::Ok();  // nothing is cached for groups
      case H5VL_GROUP_MOUNT:
      case H5VL_GROUP_UNMOUNT:
        return UnimplementedError("mounting files is not supported by nimbus");
    }
    return UnimplementedError("group operation not supported by nimbus");
  });
}

herr_t GroupOptional(void* obj, H5VL_optional_args_t* args, hid_t, void**) {
  return GuardStatus(__func__, {H5E_SYM, H5E_UNSUPPORTED}, [&]() -> Status {
#ifndef H5_NO_DEPRECATED_SYMBOLS
    // H5Gget_objinfo is what h5py's hash() and == use: fill it from the file number and token.
    if (args->op_type == H5VL_NATIVE_GROUP_GET_OBJINFO) {
      auto* a = static_cast<H5VL_native_group_get_objinfo_t*>(args->args);
      Object& base = AsObject(obj);
      NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedPath(base, &a->loc_params));
      NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, ExistingNode(base.file(), path));
      if (a->statbuf != nullptr) {
        H5G_stat_t* st = a->statbuf;
        std::memset(st, 0, sizeof *st);
        st->fileno[0] = base.file().fileno();
        H5O_token_t token = TokenOf(path);
        static_assert(sizeof(st->objno) <= sizeof(token.__data));
        std::memcpy(st->objno, token.__data, sizeof(st->objno));
        st->nlink = 1;
        st->type = kind == NodeKind::kGroup ? H5G_GROUP : H5G_DATASET;
      }
      return Status::Ok();
    }
#endif
    return UnimplementedError("native-only group operation " + std::to_string(args->op_type) +
                              " is not supported by nimbus");
  });
}

herr_t GroupClose(void* grp, hid_t, void**) {
  return GuardStatus(__func__, {H5E_SYM, H5E_CLOSEERROR}, [&]() -> Status {
    delete &AsObject(grp);
    return Status::Ok();
  });
}

// ---------------------------------------------------------------------------------------------
// Link

namespace {

// H5Olink of an anonymous dataset (h5py's group[name] = data): its objects move from the staging
// store into the file under the new name, and the open handle now refers to them there.
Status LinkAnonymousDataset(Dataset& dataset, Object& base, const H5VL_loc_params_t* loc,
                            hid_t lcpl) {
  File& file = base.file();
  if (&dataset.file() != &file) {
    return InvalidArgumentError("an object can only be linked into its own file");
  }
  NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedPath(base, loc));
  NIMBUS_RETURN_IF_ERROR(file.CheckWritable("link '/" + path + "'"));
  if (path.empty()) return InvalidArgumentError("a dataset cannot replace the root group");
  NIMBUS_RETURN_IF_ERROR(CheckNodeName(LastComponent(path)));
  NIMBUS_ASSIGN_OR_RETURN(NodeKind existing, LookupNode(file, path));
  if (existing != NodeKind::kMissing) {
    return Status(ErrorKind::kPreconditionFailed, "name already exists: '/" + path + "'");
  }
  unsigned intermediate = 0;
  if (lcpl >= 0 && lcpl != H5P_DEFAULT) H5Pget_create_intermediate_group(lcpl, &intermediate);
  NIMBUS_RETURN_IF_ERROR(EnsureParent(file, path, intermediate != 0));
  store::ObjectStore& staging = *dataset.staging();
  NIMBUS_ASSIGN_OR_RETURN(store::ListResult listed, staging.ListSync(store::ListOptions{}));
  // Chunks first and zarr.json last, so a reader never finds the array before its data.
  std::vector<Future<Result<store::PutResult>>> puts;
  std::string metadata;
  for (const auto& object : listed.objects) {
    NIMBUS_ASSIGN_OR_RETURN(store::GetResult got, staging.GetSync(object.key));
    if (object.key == "zarr.json") {
      metadata = std::string(got.data.view());
      continue;
    }
    puts.push_back(file.store().Put(JoinPath(path, object.key), std::move(got.data)));
  }
  for (auto& p : puts) NIMBUS_RETURN_IF_ERROR(p.Get().status());
  store::PutOptions create_only;
  create_only.content_type = "application/json";
  create_only.if_none_match_any = file.store().Capabilities().conditional_put;
  NIMBUS_RETURN_IF_ERROR(
      file.store().PutSync(JoinPath(path, "zarr.json"), metadata, create_only).status());
  NIMBUS_ASSIGN_OR_RETURN(auto array, file.SharedArray(path));
  dataset.Bind(path, std::move(array));
  return Status::Ok();
}

}  // namespace

herr_t LinkCreate(H5VL_link_create_args_t* args, void* obj, const H5VL_loc_params_t* loc,
                  hid_t lcpl_id, hid_t, hid_t, void**) {
  return GuardStatus(__func__, {H5E_LINK, H5E_CANTCREATE}, [&]() -> Status {
    if (args->op_type == H5VL_LINK_CREATE_HARD && args->args.hard.curr_obj != nullptr &&
        args->args.hard.curr_loc_params.type == H5VL_OBJECT_BY_SELF) {
      Object& target = AsObject(args->args.hard.curr_obj);
      if (target.kind() == Object::Kind::kDataset && static_cast<Dataset&>(target).anonymous()) {
        return LinkAnonymousDataset(static_cast<Dataset&>(target), AsObject(obj), loc, lcpl_id);
      }
    }
    const char* kind = args->op_type == H5VL_LINK_CREATE_HARD   ? "additional hard links"
                       : args->op_type == H5VL_LINK_CREATE_SOFT ? "soft links"
                                                                : "external and user-defined links";
    return UnimplementedError(std::string(kind) + " are not supported by nimbus yet (every object "
                                                  "has the one link it was created with)");
  });
}

herr_t LinkCopy(void*, const H5VL_loc_params_t*, void*, const H5VL_loc_params_t*, hid_t, hid_t,
                hid_t, void**) {
  return GuardStatus(__func__, {H5E_LINK, H5E_CANTCOPY}, [&]() -> Status {
    return UnimplementedError("H5Lcopy is not supported by nimbus yet");
  });
}

herr_t LinkMove(void*, const H5VL_loc_params_t*, void*, const H5VL_loc_params_t*, hid_t, hid_t,
                hid_t, void**) {
  return GuardStatus(__func__, {H5E_LINK, H5E_CANTMOVE}, [&]() -> Status {
    return UnimplementedError("H5Lmove (move/rename) is not supported by nimbus yet");
  });
}

herr_t LinkGet(void* obj, const H5VL_loc_params_t* loc, H5VL_link_get_args_t* args, hid_t,
               void**) {
  return GuardStatus(__func__, {H5E_LINK, H5E_CANTGET}, [&]() -> Status {
    Object& base = AsObject(obj);
    NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedPath(base, loc));
    switch (args->op_type) {
      case H5VL_LINK_GET_INFO: {
        NIMBUS_RETURN_IF_ERROR(ExistingNode(base.file(), path).status());
        *args->args.get_info.linfo = LinkInfo(path);
        return Status::Ok();
      }
      case H5VL_LINK_GET_NAME: {
        auto& a = args->args.get_name;
        CopyName(LastComponent(path), a.name, a.name_size, a.name_len);
        return Status::Ok();
      }
      case H5VL_LINK_GET_VAL:
        return InvalidArgumentError("'/" + path + "' is a hard link, which has no link value");
    }
    return UnimplementedError("link get operation not supported by nimbus");
  });
}

herr_t LinkSpecific(void* obj, const H5VL_loc_params_t* loc, H5VL_link_specific_args_t* args,
                    hid_t, void**) {
  Object& base = AsObject(obj);
  if (args->op_type == H5VL_LINK_ITER) {
    // The operator's own return value must come back unchanged, so only listing is guarded.
    auto& it = args->args.iterate;
    std::vector<VisitEntry> entries;
    std::string start;
    hid_t group_id = H5I_INVALID_HID;
    herr_t listed = GuardStatus(__func__, {H5E_LINK, H5E_BADITER}, [&]() -> Status {
      NIMBUS_RETURN_IF_ERROR(CheckIndex(it.idx_type));
      NIMBUS_ASSIGN_OR_RETURN(start, LocatedPath(base, loc));
      NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, ExistingNode(base.file(), start));
      if (kind != NodeKind::kGroup) return InvalidArgumentError("'/" + start + "' is not a group");
      if (it.recursive) {
        NIMBUS_RETURN_IF_ERROR(CollectSubtree(base.file(), start, "", it.order, &entries));
      } else {
        NIMBUS_ASSIGN_OR_RETURN(auto names,
                                ChildNames(base.file(), start, it.idx_type, it.order));
        for (auto& n : names) entries.push_back({n, JoinPath(start, n), NodeKind::kGroup});
      }
      NIMBUS_ASSIGN_OR_RETURN(group_id, RegisterNodeId(base.file(), start));
      return Status::Ok();
    });
    if (listed < 0) return listed;
    hsize_t first = (!it.recursive && it.idx_p != nullptr) ? *it.idx_p : 0;
    herr_t ret = IterateEntries(entries, first, it.recursive ? nullptr : it.idx_p,
                                [&](const VisitEntry& e) {
                                  H5L_info2_t info = LinkInfo(e.path);
                                  return it.op(group_id, e.relative.c_str(), &info, it.op_data);
                                });
    H5Idec_ref(group_id);
    return ret;
  }
  return GuardStatus(__func__, {H5E_LINK, H5E_CANTGET}, [&]() -> Status {
    File& file = base.file();
    switch (args->op_type) {
      case H5VL_LINK_EXISTS: {
        NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedPath(base, loc));
        NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, LookupNode(file, path));
        *args->args.exists.exists = kind != NodeKind::kMissing;
        return Status::Ok();
      }
      case H5VL_LINK_DELETE: {
        NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedPath(base, loc));
        NIMBUS_RETURN_IF_ERROR(file.CheckWritable("delete '/" + path + "'"));
        if (path.empty()) return InvalidArgumentError("the root group cannot be deleted");
        NIMBUS_RETURN_IF_ERROR(ExistingNode(file, path).status());
        // The object had only this link: it and everything below it go.
        file.ForgetArrays(path);
        return zarr::DeleteNode(file.store(), path)
            .WithContext("deleting '/" + path + "' from " + file.Describe(path));
      }
      case H5VL_LINK_ITER:
        break;
    }
    return UnimplementedError("link operation not supported by nimbus");
  });
}

herr_t LinkOptional(void*, const H5VL_loc_params_t*, H5VL_optional_args_t* args, hid_t, void**) {
  return GuardStatus(__func__, {H5E_LINK, H5E_UNSUPPORTED}, [&]() -> Status {
    return UnimplementedError("native-only link operation " + std::to_string(args->op_type) +
                              " is not supported by nimbus");
  });
}

// ---------------------------------------------------------------------------------------------
// Object

void* ObjectOpen(void* obj, const H5VL_loc_params_t* loc, H5I_type_t* opened_type, hid_t,
                 void**) {
  return GuardPointer<Object>(__func__, {H5E_OHDR, H5E_CANTOPENOBJ}, [&]() -> Result<Object*> {
    Object& base = AsObject(obj);
    NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedPath(base, loc));
    NIMBUS_ASSIGN_OR_RETURN(Object * opened, OpenNode(base.file(), path));
    *opened_type = opened->id_type();
    return opened;
  });
}

herr_t ObjectCopy(void*, const H5VL_loc_params_t*, const char*, void*, const H5VL_loc_params_t*,
                  const char*, hid_t, hid_t, hid_t, void**) {
  return GuardStatus(__func__, {H5E_OHDR, H5E_CANTCOPY}, [&]() -> Status {
    return UnimplementedError("H5Ocopy is not supported by nimbus yet");
  });
}

herr_t ObjectGet(void* obj, const H5VL_loc_params_t* loc, H5VL_object_get_args_t* args, hid_t,
                 void**) {
  return GuardStatus(__func__, {H5E_OHDR, H5E_CANTGET}, [&]() -> Status {
    Object& base = AsObject(obj);
    File& file = base.file();
    switch (args->op_type) {
      case H5VL_OBJECT_GET_FILE: {
        // The very pointer file create/open returned; when no file ID refers to it any more the
        // library registers a new one, whose close will come back to us (see objects.h).
        if (file.id_references() == 0) file.AddIdReference();
        *args->args.get_file.file = static_cast<Object*>(&file);
        return Status::Ok();
      }
      case H5VL_OBJECT_GET_NAME: {
        NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedPath(base, loc));
        auto& a = args->args.get_name;
        CopyName("/" + path, a.buf, a.buf_size, a.name_len);
        return Status::Ok();
      }
      case H5VL_OBJECT_GET_TYPE: {
        NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedPath(base, loc));
        NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, ExistingNode(file, path));
        *args->args.get_type.obj_type = ObjectTypeOf(kind);
        return Status::Ok();
      }
      case H5VL_OBJECT_GET_INFO: {
        NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedPath(base, loc));
        NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, ExistingNode(file, path));
        NIMBUS_ASSIGN_OR_RETURN(*args->args.get_info.oinfo,
                                ObjectInfo(file, path, kind, args->args.get_info.fields));
        return Status::Ok();
      }
    }
    return UnimplementedError("object get operation not supported by nimbus");
  });
}

herr_t ObjectSpecific(void* obj, const H5VL_loc_params_t* loc, H5VL_object_specific_args_t* args,
                      hid_t, void**) {
  Object& base = AsObject(obj);
  if (args->op_type == H5VL_OBJECT_VISIT) {
    auto& v = args->args.visit;
    std::vector<VisitEntry> entries;
    hid_t start_id = H5I_INVALID_HID;
    herr_t listed = GuardStatus(__func__, {H5E_OHDR, H5E_BADITER}, [&]() -> Status {
      NIMBUS_RETURN_IF_ERROR(CheckIndex(v.idx_type));
      NIMBUS_ASSIGN_OR_RETURN(std::string start, LocatedPath(base, loc));
      NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, ExistingNode(base.file(), start));
      entries.push_back({".", start, kind});
      if (kind == NodeKind::kGroup) {
        NIMBUS_RETURN_IF_ERROR(CollectSubtree(base.file(), start, "", v.order, &entries));
      }
      NIMBUS_ASSIGN_OR_RETURN(start_id, RegisterNodeId(base.file(), start));
      return Status::Ok();
    });
    if (listed < 0) return listed;
    herr_t ret = 0;
    for (const VisitEntry& e : entries) {
      auto info = ObjectInfo(base.file(), e.path, e.kind, v.fields);
      if (!info.ok()) {
        PushError(__func__, {H5E_OHDR, H5E_BADITER}, info.status());
        ret = -1;
        break;
      }
      ret = v.op(start_id, e.relative.c_str(), &info.value(), v.op_data);
      if (ret != 0) break;
    }
    H5Idec_ref(start_id);
    return ret;
  }
  return GuardStatus(__func__, {H5E_OHDR, H5E_CANTGET}, [&]() -> Status {
    File& file = base.file();
    switch (args->op_type) {
      case H5VL_OBJECT_EXISTS: {
        NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedPath(base, loc));
        NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, LookupNode(file, path));
        *args->args.exists.exists = kind != NodeKind::kMissing;
        return Status::Ok();
      }
      case H5VL_OBJECT_LOOKUP: {
        NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedPath(base, loc));
        NIMBUS_RETURN_IF_ERROR(ExistingNode(file, path).status());
        *args->args.lookup.token_ptr = TokenOf(path);
        return Status::Ok();
      }
      case H5VL_OBJECT_FLUSH:
        return Status::Ok();
      case H5VL_OBJECT_REFRESH: {
        if (base.kind() == Object::Kind::kDataset) {
          return static_cast<Dataset&>(base).array().Refresh();
        }
        return Status::Ok();
      }
      case H5VL_OBJECT_CHANGE_REF_COUNT:
        return UnimplementedError("object reference counts are not supported by nimbus (every "
                                  "object has exactly one link)");
      case H5VL_OBJECT_VISIT:
        break;
    }
    return UnimplementedError("object operation not supported by nimbus");
  });
}

herr_t ObjectOptional(void*, const H5VL_loc_params_t*, H5VL_optional_args_t* args, hid_t,
                      void**) {
  return GuardStatus(__func__, {H5E_OHDR, H5E_UNSUPPORTED}, [&]() -> Status {
    return UnimplementedError("native-only object operation " + std::to_string(args->op_type) +
                              " is not supported by nimbus");
  });
}

}  // namespace nimbus::vol
