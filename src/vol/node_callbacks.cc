// Group, link and object callbacks: the hierarchy. Groups are Zarr groups and every object has
// exactly one hard link, its place in the Zarr hierarchy; soft links and the link creation order of
// a group live in the group's "_nimbus" entry (docs/format.md "Links"). Link and object operations
// are therefore operations on node paths, after following soft links where HDF5 would.
#include <hdf5.h>  // before H5VLnative.h, which is not self-contained
#include <H5VLnative.h>

#include <algorithm>
#include <cstring>
#include <optional>

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

// The link at `path` (its parent resolved), which must exist.
Result<LinkTarget> ExistingLink(File& file, const std::string& path) {
  NIMBUS_ASSIGN_OR_RETURN(LinkTarget link, LookupLink(file, path));
  if (link.kind == LinkTarget::Kind::kMissing) {
    return Status(ErrorKind::kNotFound, "link '/" + path + "' doesn't exist in file '" +
                                            file.name() + "'");
  }
  return link;
}

bool CreatesIntermediateGroups(hid_t lcpl) {
  unsigned intermediate = 0;
  if (lcpl >= 0 && lcpl != H5P_DEFAULT) H5Pget_create_intermediate_group(lcpl, &intermediate);
  return intermediate != 0;
}

bool IsAtOrBelow(const std::string& path, const std::string& ancestor) {
  return ancestor.empty() || path == ancestor || path.starts_with(ancestor + "/");
}

// One link of a group, as iteration and by-index access present it.
struct ChildLink {
  std::string name;
  bool soft = false;
  std::string target;              // soft links: the value
  std::optional<int64_t> corder;   // when the group tracks creation order
};

H5L_info2_t LinkInfoOf(const std::string& path, const ChildLink& link) {
  H5L_info2_t info;
  std::memset(&info, 0, sizeof info);
  info.cset = H5T_CSET_UTF8;
  info.corder_valid = link.corder.has_value();
  info.corder = link.corder.value_or(0);
  if (link.soft) {
    info.type = H5L_TYPE_SOFT;
    info.u.val_size = link.target.size() + 1;  // with the terminating NUL, as HDF5 counts it
  } else {
    info.type = H5L_TYPE_HARD;
    info.u.token = TokenOf(path);
  }
  return info;
}

// What to do when creation order is asked of a group that does not track it: HDF5 fails for
// iteration and by-index access, and falls back to names for visits.
enum class UntrackedOrder { kFail, kUseNames };

// The links of a group in index order. The group's own zarr.json is read only when it can matter:
// when the file may hold soft links, or for creation order.
Result<std::vector<ChildLink>> ListLinks(File& file, const std::string& group, H5_index_t index,
                                         H5_iter_order_t order, UntrackedOrder untracked,
                                         GroupLinks* links_out = nullptr) {
  NIMBUS_ASSIGN_OR_RETURN(auto names, zarr::ListChildren(file.store(), group));
  GroupLinks links;
  if (file.may_have_soft_links() || index == H5_INDEX_CRT_ORDER || links_out != nullptr) {
    NIMBUS_ASSIGN_OR_RETURN(links, ReadGroupLinks(file, group));
  }
  if (index == H5_INDEX_CRT_ORDER && !links.order_tracked) {
    if (untracked == UntrackedOrder::kFail) {
      return Status(ErrorKind::kNotFound,
                    "creation order is not tracked for links in group '/" + group +
                        "' (create it with H5Pset_link_creation_order, h5py track_order=True)");
    }
    index = H5_INDEX_NAME;
  }
  std::vector<ChildLink> out;
  for (const std::string& name : names) out.push_back({name, false, "", std::nullopt});
  for (const auto& [name, target] : links.soft) {
    if (!std::binary_search(names.begin(), names.end(), name)) {
      out.push_back({name, true, target, std::nullopt});
    }
  }
  if (links.order_tracked) {
    for (ChildLink& link : out) {
      if (auto it = links.order.find(link.name); it != links.order.end()) link.corder = it->second;
    }
  }
  if (index == H5_INDEX_CRT_ORDER) {
    // Links without a number (made by another Zarr tool) come last, by name.
    std::sort(out.begin(), out.end(), [](const ChildLink& a, const ChildLink& b) {
      if (a.corder.has_value() != b.corder.has_value()) return a.corder.has_value();
      if (a.corder != b.corder) return *a.corder < *b.corder;
      return a.name < b.name;
    });
  } else {
    std::sort(out.begin(), out.end(),
              [](const ChildLink& a, const ChildLink& b) { return a.name < b.name; });
  }
  if (order == H5_ITER_DEC) std::reverse(out.begin(), out.end());
  if (links_out != nullptr) *links_out = std::move(links);
  return out;
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
  std::string path;      // node path in the file (soft links: the link's location)
  NodeKind kind;         // kMissing for soft links
  ChildLink link;
};

// Depth first, in index order at each level (H5Lvisit/H5Ovisit order). Soft links are listed (for
// link visits) but never descended into, as in HDF5.
Status CollectSubtree(File& file, const std::string& start, const std::string& prefix,
                      H5_index_t index, H5_iter_order_t order, bool with_soft_links,
                      std::vector<VisitEntry>* out) {
  NIMBUS_ASSIGN_OR_RETURN(auto links,
                          ListLinks(file, start, index, order, UntrackedOrder::kUseNames));
  for (ChildLink& link : links) {
    std::string path = JoinPath(start, link.name);
    std::string relative = prefix.empty() ? link.name : prefix + "/" + link.name;
    if (link.soft) {
      if (with_soft_links) out->push_back({relative, path, NodeKind::kMissing, std::move(link)});
      continue;
    }
    NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, LookupNode(file, path));
    if (kind == NodeKind::kMissing) continue;  // deleted meanwhile
    out->push_back({relative, path, kind, std::move(link)});
    if (kind == NodeKind::kGroup) {
      NIMBUS_RETURN_IF_ERROR(
          CollectSubtree(file, path, relative, index, order, with_soft_links, out));
    }
  }
  return Status::Ok();
}

// The node path or link path a location designates. Objects are reached through soft links
// (follow_last); link operations act on the last link itself.
Result<std::string> Located(Object& obj, const H5VL_loc_params_t* loc, bool follow_last) {
  if (obj.kind() == Object::Kind::kDataset && static_cast<Dataset&>(obj).anonymous()) {
    return InvalidArgumentError("an anonymous dataset has no place in the file until it is linked");
  }
  File& file = obj.file();
  switch (loc->type) {
    case H5VL_OBJECT_BY_SELF:
      return obj.path();
    case H5VL_OBJECT_BY_NAME:
      NIMBUS_RETURN_IF_ERROR(CheckAccessList(loc->loc_data.loc_by_name.lapl_id, "link access"));
      return follow_last ? ResolveObjectPath(file, obj.path(), loc->loc_data.loc_by_name.name)
                         : ResolveLinkPath(file, obj.path(), loc->loc_data.loc_by_name.name);
    case H5VL_OBJECT_BY_IDX: {
      const auto& by_idx = loc->loc_data.loc_by_idx;
      NIMBUS_RETURN_IF_ERROR(CheckAccessList(by_idx.lapl_id, "link access"));
      NIMBUS_ASSIGN_OR_RETURN(std::string group, ResolveObjectPath(file, obj.path(), by_idx.name));
      NIMBUS_ASSIGN_OR_RETURN(auto links, ListLinks(file, group, by_idx.idx_type, by_idx.order,
                                                    UntrackedOrder::kFail));
      if (by_idx.n >= links.size()) {
        return InvalidArgumentError("index " + std::to_string(by_idx.n) + " is out of range: '/" +
                                    group + "' holds " + std::to_string(links.size()) + " links");
      }
      std::string path = JoinPath(group, links[by_idx.n].name);
      return follow_last ? ResolveLinks(file, path, true) : Result<std::string>(path);
    }
    case H5VL_OBJECT_BY_TOKEN:
      return PathOfToken(*loc->loc_data.loc_by_token.token);
  }
  return InvalidArgumentError("unknown location type");
}

Result<std::string> LocatedLinkPath(Object& obj, const H5VL_loc_params_t* loc) {
  return Located(obj, loc, /*follow_last=*/false);
}

// The path an application named an object by (soft links not followed), for H5Iget_name; the node
// path when the location is not a name.
std::string NamedPath(Object& base, const H5VL_loc_params_t* loc) {
  if (loc->type == H5VL_OBJECT_BY_NAME) {
    auto named = ResolvePath(base.hdf5_name().substr(1), loc->loc_data.loc_by_name.name);
    if (named.ok()) return *named;
  }
  return "";
}

// Adds the soft link `path` -> `target` (the name must be free; the parent is created when
// `intermediate`).
Status CreateSoftLink(File& file, const std::string& path, const std::string& target,
                      bool intermediate) {
  NIMBUS_RETURN_IF_ERROR(file.CheckWritable("create the soft link '/" + path + "'"));
  if (path.empty()) return InvalidArgumentError("a soft link cannot replace the root group");
  if (target.empty()) return InvalidArgumentError("soft link '/" + path + "' has an empty target");
  NIMBUS_ASSIGN_OR_RETURN(LinkTarget existing, LookupLink(file, path));
  if (existing.kind != LinkTarget::Kind::kMissing) {
    return Status(ErrorKind::kPreconditionFailed, "name already exists: '/" + path + "'");
  }
  NIMBUS_RETURN_IF_ERROR(EnsureParent(file, path, intermediate));
  // The marker first: a crash in between leaves a marker without links, which only costs lookups.
  NIMBUS_RETURN_IF_ERROR(MarkSoftLinks(file));
  const std::string name = LastComponent(path);
  return UpdateNodeAttributes(file, ParentPath(path), [&](json& attributes) -> Status {
    json& links = attributes[kReservedAttribute]["links"];
    if (links.is_object() && links.contains(name)) {
      return Status(ErrorKind::kPreconditionFailed, "name already exists: '/" + path + "'");
    }
    links[name] = {{"class", "soft"}, {"target", target}};
    return Status::Ok();
  });
}

// Removes the soft link `path` from its parent's link table.
Status RemoveSoftLink(File& file, const std::string& path) {
  const std::string name = LastComponent(path);
  return UpdateNodeAttributes(file, ParentPath(path), [&](json& attributes) -> Status {
    json& reserved = attributes[kReservedAttribute];
    if (!reserved.contains("links") || !reserved["links"].contains(name)) {
      return Status(ErrorKind::kNotFound, "link '/" + path + "' doesn't exist");
    }
    reserved["links"].erase(name);
    if (reserved["links"].empty()) reserved.erase("links");
    if (reserved.contains("link_creation_order") &&
        reserved["link_creation_order"].contains("order")) {
      reserved["link_creation_order"]["order"].erase(name);
    }
    return Status::Ok();
  });
}

// Deletes a node and everything below it (objects.h DeleteNodeTree).
Status DeleteSubtree(File& file, const std::string& path) {
  file.ForgetArrays(path);
  return DeleteNodeTree(file.store(), path);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shared helpers

Result<std::vector<std::string>> ChildNames(File& file, const std::string& path, H5_index_t index,
                                            H5_iter_order_t order) {
  NIMBUS_ASSIGN_OR_RETURN(auto links, ListLinks(file, path, index, order, UntrackedOrder::kFail));
  std::vector<std::string> names;
  for (ChildLink& link : links) names.push_back(std::move(link.name));
  return names;
}

Status CheckAccessList(hid_t plist, const char* what) {
  if (plist == H5P_DEFAULT || (plist > 0 && H5Iget_type(plist) == H5I_GENPROP_LST)) {
    return Status::Ok();
  }
  return InvalidArgumentError(std::string("invalid ") + what + " property list");
}

Status CheckPropertyList(hid_t plist, hid_t plist_class, const char* what) {
  NIMBUS_RETURN_IF_ERROR(CheckAccessList(plist, what));
  if (plist != H5P_DEFAULT && H5Pisa_class(plist, plist_class) <= 0) {
    return InvalidArgumentError(std::string("not a ") + what + " property list");
  }
  return Status::Ok();
}

Result<std::string> LocatedPath(Object& obj, const H5VL_loc_params_t* loc) {
  return Located(obj, loc, /*follow_last=*/true);
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

void* GroupCreate(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t lcpl_id,
                  hid_t gcpl_id, hid_t gapl_id, hid_t, void**) {
  return GuardPointer<Object>(__func__, {H5E_SYM, H5E_CANTCREATE}, [&]() -> Result<Object*> {
    Object& base = AsObject(obj);
    File& file = base.file();
    NIMBUS_RETURN_IF_ERROR(CheckAccessList(gapl_id, "group access"));
    if (name == nullptr) {
      return UnimplementedError("anonymous groups (H5Gcreate_anon) are not supported by nimbus; "
                                "create the group under its name");
    }
    NIMBUS_RETURN_IF_ERROR(file.CheckWritable("create group '" + std::string(name) + "'"));
    NIMBUS_ASSIGN_OR_RETURN(std::string where, LocatedPath(base, loc));
    NIMBUS_ASSIGN_OR_RETURN(std::string path, ResolveLinkPath(file, where, name));
    json reserved = json::object();
    unsigned crt_order = 0;
    if (gcpl_id >= 0 && gcpl_id != H5P_DEFAULT &&
        H5Pget_link_creation_order(gcpl_id, &crt_order) >= 0) {
      if (json order = LinkOrderJson(crt_order); !order.is_null()) {
        reserved["link_creation_order"] = order;
      }
    }
    NIMBUS_RETURN_IF_ERROR(CreateGroupNode(file, path, CreatesIntermediateGroups(lcpl_id), reserved)
                               .WithContext("creating group in file '" + file.name() + "'"));
    return static_cast<Object*>(new Group(file.shared_file(), path));
  });
}

void* GroupOpen(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t gapl_id, hid_t,
                void**) {
  return GuardPointer<Object>(__func__, {H5E_SYM, H5E_CANTOPENOBJ}, [&]() -> Result<Object*> {
    Object& base = AsObject(obj);
    NIMBUS_RETURN_IF_ERROR(CheckAccessList(gapl_id, "group access"));
    File& file = base.file();
    NIMBUS_ASSIGN_OR_RETURN(std::string where, LocatedPath(base, loc));
    NIMBUS_ASSIGN_OR_RETURN(std::string path, ResolveObjectPath(file, where, name));
    NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, ExistingNode(file, path));
    if (kind != NodeKind::kGroup) {
      return InvalidArgumentError("'/" + path + "' is a dataset, not a group");
    }
    auto* group = new Group(file.shared_file(), path);
    if (auto named = ResolvePath(base.hdf5_name().substr(1), name); named.ok()) {
      group->set_opened_as(*named);
    }
    return static_cast<Object*>(group);
  });
}

herr_t GroupGet(void* obj, H5VL_group_get_args_t* args, hid_t, void**) {
  return GuardStatus(__func__, {H5E_SYM, H5E_CANTGET}, [&]() -> Status {
    Object& base = AsObject(obj);
    switch (args->op_type) {
      case H5VL_GROUP_GET_GCPL: {
        // Reports whether the group tracks link creation order (h5py iterates in that order then).
        NIMBUS_ASSIGN_OR_RETURN(GroupLinks links, ReadGroupLinks(base.file(), base.path()));
        Hid gcpl(H5Pcreate(H5P_GROUP_CREATE));
        if (!gcpl.valid()) return Hdf5CallFailed("creating a group creation property list");
        if (unsigned flags = LinkOrderFlags(links);
            flags != 0 && H5Pset_link_creation_order(gcpl.get(), flags) < 0) {
          return Hdf5CallFailed("setting the link creation order of a property list");
        }
        args->args.get_gcpl.gcpl_id = gcpl.release();
        return Status::Ok();
      }
      case H5VL_GROUP_GET_INFO: {
        auto& a = args->args.get_info;
        NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedPath(base, &a.loc_params));
        NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, ExistingNode(base.file(), path));
        if (kind != NodeKind::kGroup) return InvalidArgumentError("'/" + path + "' is not a group");
        GroupLinks links;
        NIMBUS_ASSIGN_OR_RETURN(auto listed, ListLinks(base.file(), path, H5_INDEX_NAME,
                                                       H5_ITER_INC, UntrackedOrder::kUseNames,
                                                       &links));
        a.ginfo->storage_type = H5G_STORAGE_TYPE_COMPACT;
        a.ginfo->nlinks = listed.size();
        a.ginfo->max_corder = links.next_order;
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
  NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedLinkPath(base, loc));
  NIMBUS_RETURN_IF_ERROR(file.CheckWritable("link '/" + path + "'"));
  if (path.empty()) return InvalidArgumentError("a dataset cannot replace the root group");
  NIMBUS_RETURN_IF_ERROR(CheckNodeName(LastComponent(path)));
  NIMBUS_ASSIGN_OR_RETURN(LinkTarget existing, LookupLink(file, path));
  if (existing.kind != LinkTarget::Kind::kMissing) {
    return Status(ErrorKind::kPreconditionFailed, "name already exists: '/" + path + "'");
  }
  NIMBUS_RETURN_IF_ERROR(EnsureParent(file, path, CreatesIntermediateGroups(lcpl)));
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
    // H5Lcreate_hard with H5L_SAME_LOC passes no object for that side: it is the other one.
    void* hard_target =
        args->op_type == H5VL_LINK_CREATE_HARD ? args->args.hard.curr_obj : nullptr;
    if (obj == nullptr && hard_target == nullptr) {
      return InvalidArgumentError("link creation without a location");
    }
    Object& base = AsObject(obj != nullptr ? obj : hard_target);
    switch (args->op_type) {
      case H5VL_LINK_CREATE_HARD: {
        auto& hard = args->args.hard;
        Object& target = hard.curr_obj != nullptr ? AsObject(hard.curr_obj) : base;
        if (target.kind() == Object::Kind::kDataset && static_cast<Dataset&>(target).anonymous() &&
            hard.curr_loc_params.type == H5VL_OBJECT_BY_SELF) {
          return LinkAnonymousDataset(static_cast<Dataset&>(target), base, loc, lcpl_id);
        }
        NIMBUS_ASSIGN_OR_RETURN(std::string object, LocatedPath(target, &hard.curr_loc_params));
        NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedLinkPath(base, loc));
        return UnimplementedError(
            "cannot create the hard link '/" + path + "' to '/" + object +
            "': every nimbus object has exactly one hard link (its place in the Zarr hierarchy); "
            "use a soft link (H5Lcreate_soft, h5py.SoftLink) or copy the object (H5Ocopy)");
      }
      case H5VL_LINK_CREATE_SOFT: {
        NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedLinkPath(base, loc));
        const char* target = args->args.soft.target;
        return CreateSoftLink(base.file(), path, target == nullptr ? "" : target,
                              CreatesIntermediateGroups(lcpl_id));
      }
      case H5VL_LINK_CREATE_UD:
        break;
    }
    return UnimplementedError(
        args->args.ud.type == H5L_TYPE_EXTERNAL
            ? "external links are not supported by nimbus (they would open another file from "
              "inside an operation); use a soft link within the file, or open the other file"
            : "user-defined links are not supported by nimbus");
  });
}

herr_t LinkCopy(void* src_obj, const H5VL_loc_params_t* loc1, void* dst_obj,
                const H5VL_loc_params_t* loc2, hid_t lcpl_id, hid_t, hid_t, void**) {
  return GuardStatus(__func__, {H5E_LINK, H5E_CANTCOPY}, [&]() -> Status {
    if (src_obj == nullptr && dst_obj == nullptr) return InvalidArgumentError("no location");
    Object& src = AsObject(src_obj != nullptr ? src_obj : dst_obj);
    Object& dst = AsObject(dst_obj != nullptr ? dst_obj : src_obj);
    File& file = src.file();
    if (dst.file().url() != file.url()) {
      return InvalidArgumentError("H5Lcopy cannot copy a link into another file");
    }
    NIMBUS_ASSIGN_OR_RETURN(std::string from, LocatedLinkPath(src, loc1));
    NIMBUS_ASSIGN_OR_RETURN(std::string to, LocatedLinkPath(dst, loc2));
    NIMBUS_ASSIGN_OR_RETURN(LinkTarget link, ExistingLink(file, from));
    if (link.kind == LinkTarget::Kind::kHard) {
      return UnimplementedError("H5Lcopy of the hard link '/" + from + "' would give the object a "
                                "second hard link, which nimbus does not support; copy the object "
                                "itself with H5Ocopy (h5py Group.copy)");
    }
    return CreateSoftLink(dst.file(), to, link.soft_target, CreatesIntermediateGroups(lcpl_id));
  });
}

herr_t LinkMove(void* src_obj, const H5VL_loc_params_t* loc1, void* dst_obj,
                const H5VL_loc_params_t* loc2, hid_t lcpl_id, hid_t, hid_t, void**) {
  return GuardStatus(__func__, {H5E_LINK, H5E_CANTMOVE}, [&]() -> Status {
    if (src_obj == nullptr && dst_obj == nullptr) return InvalidArgumentError("no location");
    Object& src = AsObject(src_obj != nullptr ? src_obj : dst_obj);
    Object& dst = AsObject(dst_obj != nullptr ? dst_obj : src_obj);
    File& file = src.file();
    if (dst.file().url() != file.url()) {
      return InvalidArgumentError("H5Lmove cannot move a link into another file (" +
                                  dst.file().url() + "); copy the object with H5Ocopy instead");
    }
    NIMBUS_ASSIGN_OR_RETURN(std::string from, LocatedLinkPath(src, loc1));
    NIMBUS_ASSIGN_OR_RETURN(std::string to, LocatedLinkPath(dst, loc2));
    const std::string what = "moving '/" + from + "' to '/" + to + "' in file '" + file.name() + "'";
    NIMBUS_RETURN_IF_ERROR(file.CheckWritable("move '/" + from + "'"));
    if (from.empty()) return InvalidArgumentError("the root group cannot be moved");
    if (to.empty()) return InvalidArgumentError("nothing can be moved over the root group");
    if (from == to) return Status::Ok();
    NIMBUS_ASSIGN_OR_RETURN(LinkTarget link, ExistingLink(file, from));
    NIMBUS_ASSIGN_OR_RETURN(LinkTarget occupied, LookupLink(file, to));
    if (occupied.kind != LinkTarget::Kind::kMissing) {
      return Status(ErrorKind::kPreconditionFailed, "name already exists: '/" + to + "'");
    }
    const bool intermediate = CreatesIntermediateGroups(lcpl_id);
    if (link.kind == LinkTarget::Kind::kSoft) {
      // The link moves with its value unchanged (a relative target now resolves from the new
      // place, as in HDF5). Added before it is removed: a crash in between leaves two links.
      NIMBUS_RETURN_IF_ERROR(CreateSoftLink(file, to, link.soft_target, intermediate)
                                 .WithContext(what));
      return RemoveSoftLink(file, from).WithContext(what);
    }
    if (IsAtOrBelow(to, from)) {
      return InvalidArgumentError("cannot move '/" + from + "' into itself ('/" + to + "')");
    }
    NIMBUS_RETURN_IF_ERROR(CheckNodeName(LastComponent(to)));
    NIMBUS_RETURN_IF_ERROR(EnsureParent(file, to, intermediate).WithContext(what));
    // Object stores cannot rename: copy everything (the new zarr.json last), then delete the old
    // keys (the old zarr.json last). docs/consistency.md says what a crash in between leaves.
    NIMBUS_RETURN_IF_ERROR(CopyNode(file, from, file, to, 0));
    NIMBUS_RETURN_IF_ERROR(DeleteSubtree(file, from)
                               .WithContext(what + " (the copy at '/" + to + "' is complete; the "
                                            "old keys could not all be deleted)"));
    return RebindMovedHandles(file, from, to);
  });
}

herr_t LinkGet(void* obj, const H5VL_loc_params_t* loc, H5VL_link_get_args_t* args, hid_t,
               void**) {
  return GuardStatus(__func__, {H5E_LINK, H5E_CANTGET}, [&]() -> Status {
    Object& base = AsObject(obj);
    File& file = base.file();
    NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedLinkPath(base, loc));
    switch (args->op_type) {
      case H5VL_LINK_GET_INFO: {
        if (path.empty()) {
          // The root group has no link; HDF5 describes "/" as a hard link to it.
          *args->args.get_info.linfo = LinkInfoOf(path, ChildLink{});
          return Status::Ok();
        }
        NIMBUS_ASSIGN_OR_RETURN(LinkTarget link, ExistingLink(file, path));
        ChildLink entry{LastComponent(path), link.kind == LinkTarget::Kind::kSoft,
                        link.soft_target, std::nullopt};
        NIMBUS_ASSIGN_OR_RETURN(GroupLinks parent, ReadGroupLinks(file, ParentPath(path)));
        if (auto it = parent.order.find(entry.name); parent.order_tracked && it != parent.order.end()) {
          entry.corder = it->second;
        }
        *args->args.get_info.linfo = LinkInfoOf(path, entry);
        return Status::Ok();
      }
      case H5VL_LINK_GET_NAME: {
        auto& a = args->args.get_name;
        CopyName(LastComponent(path), a.name, a.name_size, a.name_len);
        return Status::Ok();
      }
      case H5VL_LINK_GET_VAL: {
        NIMBUS_ASSIGN_OR_RETURN(LinkTarget link, ExistingLink(file, path));
        if (link.kind != LinkTarget::Kind::kSoft) {
          return InvalidArgumentError("'/" + path + "' is a hard link, which has no link value");
        }
        auto& a = args->args.get_val;
        if (a.buf != nullptr && a.buf_size > 0) {
          size_t n = std::min(link.soft_target.size() + 1, a.buf_size);
          std::memcpy(a.buf, link.soft_target.c_str(), n);
          static_cast<char*>(a.buf)[n - 1] = '\0';
        }
        return Status::Ok();
      }
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
    hid_t group_id = H5I_INVALID_HID;
    herr_t listed = GuardStatus(__func__, {H5E_LINK, H5E_BADITER}, [&]() -> Status {
      NIMBUS_ASSIGN_OR_RETURN(std::string start, LocatedPath(base, loc));
      NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, ExistingNode(base.file(), start));
      if (kind != NodeKind::kGroup) return InvalidArgumentError("'/" + start + "' is not a group");
      if (it.recursive) {
        NIMBUS_RETURN_IF_ERROR(CollectSubtree(base.file(), start, "", it.idx_type, it.order,
                                              /*with_soft_links=*/true, &entries));
      } else {
        NIMBUS_ASSIGN_OR_RETURN(auto links, ListLinks(base.file(), start, it.idx_type, it.order,
                                                      UntrackedOrder::kFail));
        for (ChildLink& link : links) {
          std::string path = JoinPath(start, link.name);
          entries.push_back({link.name, path, NodeKind::kGroup, std::move(link)});
        }
      }
      NIMBUS_ASSIGN_OR_RETURN(group_id, RegisterNodeId(base.file(), start));
      return Status::Ok();
    });
    if (listed < 0) return listed;
    hsize_t first = (!it.recursive && it.idx_p != nullptr) ? *it.idx_p : 0;
    herr_t ret = IterateEntries(entries, first, it.recursive ? nullptr : it.idx_p,
                                [&](const VisitEntry& e) {
                                  H5L_info2_t info = LinkInfoOf(e.path, e.link);
                                  return it.op(group_id, e.relative.c_str(), &info, it.op_data);
                                });
    H5Idec_ref(group_id);
    return ret;
  }
  return GuardStatus(__func__, {H5E_LINK, H5E_CANTGET}, [&]() -> Status {
    File& file = base.file();
    switch (args->op_type) {
      case H5VL_LINK_EXISTS: {
        // HDF5 (1.10+): a missing intermediate component is "no", not an error; intermediate soft
        // links are followed; a dangling last soft link exists.
        NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedLinkPath(base, loc));
        NIMBUS_ASSIGN_OR_RETURN(LinkTarget link, LookupLink(file, path));
        *args->args.exists.exists = path.empty() || link.kind != LinkTarget::Kind::kMissing;
        return Status::Ok();
      }
      case H5VL_LINK_DELETE: {
        NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedLinkPath(base, loc));
        NIMBUS_RETURN_IF_ERROR(file.CheckWritable("delete '/" + path + "'"));
        if (path.empty()) return InvalidArgumentError("the root group cannot be deleted");
        NIMBUS_ASSIGN_OR_RETURN(LinkTarget link, ExistingLink(file, path));
        if (link.kind == LinkTarget::Kind::kSoft) {
          return RemoveSoftLink(file, path).WithContext("deleting the soft link '/" + path + "'");
        }
        // The object had only this link: it and everything below it go.
        return DeleteSubtree(file, path)
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
    opened->set_opened_as(NamedPath(base, loc));
    return opened;
  });
}

herr_t ObjectCopy(void* src_obj, const H5VL_loc_params_t* loc1, const char* src_name,
                  void* dst_obj, const H5VL_loc_params_t* loc2, const char* dst_name,
                  hid_t ocpypl_id, hid_t lcpl_id, hid_t, void**) {
  return GuardStatus(__func__, {H5E_OHDR, H5E_CANTCOPY}, [&]() -> Status {
    Object& src = AsObject(src_obj);
    Object& dst = AsObject(dst_obj);
    File& from_file = src.file();
    File& to_file = dst.file();
    NIMBUS_ASSIGN_OR_RETURN(std::string src_base, LocatedPath(src, loc1));
    NIMBUS_ASSIGN_OR_RETURN(std::string from, ResolveObjectPath(from_file, src_base, src_name));
    NIMBUS_ASSIGN_OR_RETURN(std::string dst_base, LocatedPath(dst, loc2));
    NIMBUS_ASSIGN_OR_RETURN(std::string to, ResolveLinkPath(to_file, dst_base, dst_name));
    NIMBUS_RETURN_IF_ERROR(to_file.CheckWritable("copy '/" + from + "' to '/" + to + "'"));
    NIMBUS_RETURN_IF_ERROR(ExistingNode(from_file, from).status());
    NIMBUS_ASSIGN_OR_RETURN(LinkTarget occupied, LookupLink(to_file, to));
    if (to.empty() || occupied.kind != LinkTarget::Kind::kMissing) {
      return Status(ErrorKind::kPreconditionFailed, "name already exists: '/" + to + "'");
    }
    if (from_file.url() == to_file.url() && IsAtOrBelow(to, from)) {
      return InvalidArgumentError("cannot copy '/" + from + "' into itself ('/" + to + "')");
    }
    NIMBUS_RETURN_IF_ERROR(CheckNodeName(LastComponent(to)));
    unsigned flags = 0;
    if (ocpypl_id >= 0 && ocpypl_id != H5P_DEFAULT && H5Pget_copy_object(ocpypl_id, &flags) < 0) {
      return Hdf5CallFailed("reading the object copy property list");
    }
    // Without references, external links or committed datatypes, the flags about them change
    // nothing; shallow, without-attributes and expand-soft-links are honoured by CopyNode.
    NIMBUS_RETURN_IF_ERROR(EnsureParent(to_file, to, CreatesIntermediateGroups(lcpl_id)));
    return CopyNode(from_file, from, to_file, to, flags);
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
        auto& a = args->args.get_name;
        if (loc->type == H5VL_OBJECT_BY_SELF) {
          CopyName(base.hdf5_name(), a.buf, a.buf_size, a.name_len);
          return Status::Ok();
        }
        NIMBUS_ASSIGN_OR_RETURN(std::string path, LocatedPath(base, loc));
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
      NIMBUS_ASSIGN_OR_RETURN(std::string start, LocatedPath(base, loc));
      NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, ExistingNode(base.file(), start));
      entries.push_back({".", start, kind, ChildLink{}});
      if (kind == NodeKind::kGroup) {
        // Objects only: soft links lead to objects that have their own hard link elsewhere.
        NIMBUS_RETURN_IF_ERROR(CollectSubtree(base.file(), start, "", v.idx_type, v.order,
                                              /*with_soft_links=*/false, &entries));
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
        // Through every soft link: a dangling one names no object.
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
        return Status::Ok();  // every write reached the store before its call returned
      case H5VL_OBJECT_REFRESH: {
        if (base.kind() == Object::Kind::kDataset) {
          return static_cast<Dataset&>(base).array().Refresh();
        }
        return Status::Ok();  // groups hold nothing that could be stale
      }
      case H5VL_OBJECT_CHANGE_REF_COUNT:
        return UnimplementedError("object reference counts are not supported by nimbus (every "
                                  "object has exactly one hard link)");
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
