// The objects nimbus hands to HDF5 as `void*`: files, groups, datasets and attributes.
//
// A File is shared: HDF5 may close the file ID while datasets or groups of it are still open
// (children keep it alive), and H5Iget_file_id must get back the very pointer file create/open
// returned (notes §9.6), so the File counts the HDF5 file IDs that refer to it and lives while
// either that count or a child needs it. Every other object is owned by its one HDF5 ID and deleted
// by the matching close callback.
//
// Paths inside a file are Zarr node paths relative to the file's root group: "" is the root,
// "a/b" is HDF5's "/a/b".
#pragma once

#include <hdf5.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "store/object_store.h"
#include "vol/attribute_values.h"
#include "vol/hid.h"
#include "vol/location.h"
#include "vol/types.h"
#include "zarr/array.h"

namespace nimbus::vol {

// The reserved attribute holding the HDF5 facts Zarr has no place for (docs/format.md).
inline constexpr const char* kReservedAttribute = "_nimbus";
inline constexpr int kFormatVersion = 1;

class File;

class Object {
 public:
  enum class Kind { kFile, kGroup, kDataset, kAttribute };
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;
  virtual ~Object();

  Kind kind() const { return kind_; }
  File& file();
  std::shared_ptr<File> shared_file();
  // The node this object is or (for attributes) belongs to.
  const std::string& path() const { return path_; }
  // HDF5's name of the object (H5Iget_name): the path it was opened by, which differs from "/" +
  // path() when that path went through a soft link.
  std::string hdf5_name() const { return "/" + (opened_as_.empty() ? path_ : opened_as_); }
  void set_opened_as(std::string path) { opened_as_ = path == path_ ? "" : std::move(path); }
  H5I_type_t id_type() const;

  // Whether `p` is a live nimbus object (checked before trusting H5VLobject results).
  static bool IsLive(const void* p);
  static std::vector<Object*> LiveObjects();

  // After H5Lmove renamed the node this handle refers to: open handles follow the object, as in
  // HDF5. (Datasets also need their array rebound, see RebindMovedHandles.)
  void FollowMove(std::string new_path) {
    path_ = std::move(new_path);
    opened_as_.clear();
  }

 protected:
  Object(Kind kind, std::shared_ptr<File> file, std::string path);
  void set_path(std::string path) {
    path_ = std::move(path);
    opened_as_.clear();
  }

 private:
  Kind kind_;
  std::shared_ptr<File> file_;  // null for File itself
  std::string path_;
  std::string opened_as_;  // node path as named by the application, when it differs from path_
};

class File final : public Object, public std::enable_shared_from_this<File> {
 public:
  // flags as H5Fcreate/H5Fopen pass them (H5F_ACC_*). The result is owned by one HDF5 file ID.
  static Result<File*> Create(const char* name, unsigned flags, hid_t fcpl, hid_t fapl);
  static Result<File*> Open(const char* name, unsigned flags, hid_t fapl);
  // Whether a nimbus file exists under `name` (H5Fis_accessible); no error for foreign names.
  // local_only: answer false without any I/O unless the name resolves to a local directory.
  static Result<bool> Exists(const char* name, hid_t fapl, bool local_only);
  static Status Delete(const char* name, hid_t fapl);

  store::ObjectStore& store() { return *store_; }
  const std::shared_ptr<store::ObjectStore>& store_ptr() const { return store_; }
  const std::string& name() const { return name_; }
  const std::string& url() const { return url_; }
  unsigned intent() const { return intent_; }
  unsigned long fileno() const { return fileno_; }
  hid_t fapl() const { return fapl_.get(); }
  hid_t fcpl() const { return fcpl_.get(); }
  // "<url>/<path>" for messages.
  std::string Describe(const std::string& path) const;
  Status CheckWritable(const std::string& what) const;

  // HDF5 file-ID bookkeeping (see the header comment).
  void AddIdReference();
  void ReleaseIdReference();  // may destroy this object
  int id_references() const { return id_references_; }

  // One ZarrArray per dataset path, shared by every open handle in the process, so that they see
  // each other's resizes and attribute changes.
  Result<std::shared_ptr<zarr::ZarrArray>> SharedArray(const std::string& path);
  void AdoptArray(const std::string& path, const std::shared_ptr<zarr::ZarrArray>& array);
  // Options every array of the file is opened with (connector settings: cache_size,
  // active_storage, ...).
  const zarr::ArrayOptions& array_options() const { return array_options_; }
  // After a delete: handles of nodes at or below `path` must not be reused.
  void ForgetArrays(const std::string& path);

  // Whether any group of the file may hold soft links (the root's "has_soft_links" marker, read at
  // open, or a soft link made by this process). While false, names resolve without looking for
  // links, so files without soft links pay nothing for them (docs/format.md "Links").
  bool may_have_soft_links() const;
  void set_has_soft_links_marker(bool stored) { soft_link_marker_ = stored; }
  bool has_soft_links_marker() const { return soft_link_marker_; }

  File(std::string name, std::string url, std::shared_ptr<store::ObjectStore> store,
       unsigned intent);

 private:
  std::string name_;
  std::string url_;
  std::shared_ptr<store::ObjectStore> store_;
  unsigned intent_;
  unsigned long fileno_;
  Hid fapl_, fcpl_;
  int id_references_ = 0;
  bool soft_link_marker_ = false;
  std::shared_ptr<File> self_;  // set while id_references_ > 0
  std::map<std::string, std::weak_ptr<zarr::ZarrArray>> arrays_;
  zarr::ArrayOptions array_options_;  // cache and active storage (vol/array_options.h)
};

class Group final : public Object {
 public:
  Group(std::shared_ptr<File> file, std::string path)
      : Object(Kind::kGroup, std::move(file), std::move(path)) {}
};

// HDF5 facts of a dataset that Zarr lacks: its "_nimbus" entry (docs/format.md "Datasets").
struct DatasetFacts {
  nlohmann::json type_description;
  std::vector<std::optional<uint64_t>> maxshape;  // nullopt = unlimited
  std::string layout = "chunked";                 // as requested: chunked, contiguous, compact
  nlohmann::json filters = nlohmann::json::array();  // [{"id": 1, "name": "deflate", ...}]
  std::string fill_value = "default";            // default | user | undefined
  nlohmann::json ToJson() const;
  static Result<DatasetFacts> FromJson(const nlohmann::json& j);
};

class Dataset final : public Object {
 public:
  Dataset(std::shared_ptr<File> file, std::string path, std::shared_ptr<zarr::ZarrArray> array,
          StoredType type, DatasetFacts facts, bool anonymous = false)
      : Object(Kind::kDataset, std::move(file), std::move(path)),
        array_(std::move(array)),
        type_(std::move(type)),
        facts_(std::move(facts)),
        anonymous_(anonymous) {}
  zarr::ZarrArray& array() { return *array_; }
  const std::shared_ptr<zarr::ZarrArray>& shared_array() const { return array_; }
  // An anonymous dataset (H5Dcreate_anon) lives in a private in-memory store until it is linked
  // into the file; unlinked, it disappears with its last handle, as in HDF5.
  bool anonymous() const { return anonymous_; }
  void Bind(std::string path, std::shared_ptr<zarr::ZarrArray> array) {
    set_path(std::move(path));
    array_ = std::move(array);
    anonymous_ = false;
    staging_.reset();
  }
  // The in-memory store of an anonymous dataset.
  const std::shared_ptr<store::ObjectStore>& staging() const { return staging_; }
  void set_staging(std::shared_ptr<store::ObjectStore> s) { staging_ = std::move(s); }
  const StoredType& type() const { return type_; }
  const DatasetFacts& facts() const { return facts_; }
  bool scalar() const { return array_->shape().empty(); }
  // The dataset access property list this handle was created or opened with (a copy; invalid
  // for H5P_DEFAULT), for H5Dget_access_plist.
  hid_t dapl() const { return dapl_.get(); }
  void set_dapl(Hid dapl) { dapl_ = std::move(dapl); }

 private:
  std::shared_ptr<zarr::ZarrArray> array_;
  Hid dapl_;
  StoredType type_;
  DatasetFacts facts_;
  bool anonymous_;
  std::shared_ptr<store::ObjectStore> staging_;
};

class Attribute final : public Object {
 public:
  Attribute(std::shared_ptr<File> file, std::string owner_path, std::string name, StoredType type,
            AttributeShape shape)
      : Object(Kind::kAttribute, std::move(file), std::move(owner_path)),
        name_(std::move(name)),
        type_(std::move(type)),
        shape_(std::move(shape)) {}
  const std::string& name() const { return name_; }
  const StoredType& type() const { return type_; }
  const AttributeShape& shape() const { return shape_; }
  // The character set of the name as created (H5Pset_char_encoding of the ACPL): ASCII unless
  // UTF-8 was asked for or the name is not ASCII.
  H5T_cset_t name_cset() const { return name_cset_; }
  void set_name_cset(H5T_cset_t cset) { name_cset_ = cset; }

 private:
  std::string name_;
  H5T_cset_t name_cset_ = H5T_CSET_ASCII;
  StoredType type_;
  AttributeShape shape_;
};

// ---------------------------------------------------------------------------------------------
// Nodes in the store.

enum class NodeKind { kMissing, kGroup, kArray };

// Resolves an HDF5 name relative to `base` ("" = root): absolute names start at the root, "." and
// empty components are skipped, ".." is refused.
Result<std::string> ResolvePath(const std::string& base, const char* name);
std::string ParentPath(const std::string& path);
std::string LastComponent(const std::string& path);
std::string JoinPath(const std::string& parent, const std::string& child);
// Checks a new link name can be a Zarr node name (docs/format.md "Names").
Status CheckNodeName(const std::string& name);

// What the name `path` leads to: the node there, or when there is none the node its soft links
// lead to (ResolveLinks), so that callers holding a name need not resolve it first.
Result<NodeKind> LookupNode(File& file, const std::string& path);
// zarr.json "attributes" of the node at `path` (kNotFound when there is none).
Result<nlohmann::json> ReadNodeAttributes(File& file, const std::string& path);
// Read-modify-write of a node's attributes; conditional on the stored generation, re-applied when
// another writer got there first.
Status UpdateNodeAttributes(File& file, const std::string& path,
                            const std::function<Status(nlohmann::json&)>& change);
// Creates the group, and with `intermediate` its missing ancestors. `reserved` is merged into the
// new group's "_nimbus" entry (e.g. its link creation order, see LinkOrderJson).
Status CreateGroupNode(File& file, const std::string& path, bool intermediate,
                       const nlohmann::json& reserved = nlohmann::json::object());
// Makes sure the parent of `path` exists (creating it when `intermediate`) and that the name is
// free there: a soft link of that name is "name already exists". When the parent tracks link
// creation order, the name gets the parent's next creation-order number.
Status EnsureParent(File& file, const std::string& path, bool intermediate);

// ---------------------------------------------------------------------------------------------
// Links (docs/format.md "Links"). Hard links are the hierarchy itself; soft links and the link
// creation order of a group live in that group's "_nimbus" entry:
//   "links": {"<name>": {"class": "soft", "target": "<HDF5 path>"}}
//   "link_creation_order": {"indexed": bool, "next": N, "order": {"<name>": n, ...}}

struct GroupLinks {
  std::map<std::string, std::string> soft;  // link name -> target path, as given (may be relative)
  bool order_tracked = false;
  bool order_indexed = false;
  int64_t next_order = 0;
  std::map<std::string, int64_t> order;     // link name -> creation order
};
GroupLinks GroupLinksOf(const nlohmann::json& group_attributes);
// The link facts of the group at `path`: kNotFound when there is no node, kInvalidArgument when it
// is a dataset.
Result<GroupLinks> ReadGroupLinks(File& file, const std::string& path);
// The "link_creation_order" entry for a new group created with these H5P_CRT_ORDER_* flags (null
// when creation order is not tracked).
nlohmann::json LinkOrderJson(unsigned crt_order_flags);
// H5P_CRT_ORDER_* flags of a group's links.
unsigned LinkOrderFlags(const GroupLinks& links);

// Follows soft links in a node path (HDF5 traversal: every component but the last is followed;
// the last one only with `follow_last`). Returns the node path reached, or with !follow_last the
// path of the last link's location (its resolved parent + its name). Components that do not
// exist are kept as they are (the caller reports the name as missing, or creates the missing
// groups). At most 16 soft links are followed per name (HDF5's default H5Pset_nlinks).
Result<std::string> ResolveLinks(File& file, const std::string& path, bool follow_last);
// ResolvePath + ResolveLinks following the last link: where an object name leads.
Result<std::string> ResolveObjectPath(File& file, const std::string& base, const char* name);
// ResolvePath + ResolveLinks up to the last component: where a new link of that name goes.
Result<std::string> ResolveLinkPath(File& file, const std::string& base, const char* name);

// What a link path names: nothing, a hard link (a node), or a soft link (with its target).
struct LinkTarget {
  enum class Kind { kMissing, kHard, kSoft } kind = Kind::kMissing;
  NodeKind node = NodeKind::kMissing;  // for kHard
  std::string soft_target;             // for kSoft
};
// `path` as ResolveLinkPath returns it (its parent already resolved).
Result<LinkTarget> LookupLink(File& file, const std::string& path);
// Records that `file` holds soft links (the root's "has_soft_links" marker), once per file.
Status MarkSoftLinks(File& file);

// Copies the node at `src_path` of `src` and everything below it to `dst_path` of `dst` (same or
// another file, same or another store): every chunk and child first, the copied node's zarr.json
// last and create-only, so a reader never sees a half-copied object under the new name. The parent
// of `dst_path` must exist. Options are H5Ocopy's H5O_COPY_* flags.
Status CopyNode(File& src, const std::string& src_path, File& dst, const std::string& dst_path,
                unsigned copy_flags);
// Open handles at or below `from` (in any File of the same store location) now refer to `to`.
Status RebindMovedHandles(File& file, const std::string& from, const std::string& to);

// Deletes the node at `path` ("" = the whole file) and everything below it: data first, then the
// zarr.json documents deepest first (docs/consistency.md "Deleting").
Status DeleteNodeTree(store::ObjectStore& store, const std::string& path);

// Opens the node at `path` as an HDF5 object (group or dataset). OpenDataset also accepts a name
// that reaches the dataset through soft links; the handle refers to the dataset's own path.
Result<Object*> OpenNode(File& file, const std::string& path);
Result<Dataset*> OpenDataset(File& file, const std::string& name_path);

// 16-byte object token: a hash of the node path (stable across opens and processes).
H5O_token_t TokenOf(const std::string& path);
// The path a token was made from (kNotFound for tokens this process never handed out).
Result<std::string> PathOfToken(const H5O_token_t& token);

}  // namespace nimbus::vol
