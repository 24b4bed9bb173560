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
  // HDF5's name of that node: "/" + path.
  std::string hdf5_name() const { return "/" + path_; }
  H5I_type_t id_type() const;

  // Whether `p` is a live nimbus object (checked before trusting H5VLobject results).
  static bool IsLive(const void* p);
  static std::vector<Object*> LiveObjects();

 protected:
  Object(Kind kind, std::shared_ptr<File> file, std::string path);
  void set_path(std::string path) { path_ = std::move(path); }

 private:
  Kind kind_;
  std::shared_ptr<File> file_;  // null for File itself
  std::string path_;
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
  // After a delete: handles of nodes at or below `path` must not be reused.
  void ForgetArrays(const std::string& path);

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
  std::shared_ptr<File> self_;  // set while id_references_ > 0
  std::map<std::string, std::weak_ptr<zarr::ZarrArray>> arrays_;
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

 private:
  std::shared_ptr<zarr::ZarrArray> array_;
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

 private:
  std::string name_;
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

Result<NodeKind> LookupNode(File& file, const std::string& path);
// zarr.json "attributes" of the node at `path` (kNotFound when there is none).
Result<nlohmann::json> ReadNodeAttributes(File& file, const std::string& path);
// Read-modify-write of a node's attributes; conditional on the stored generation, re-applied when
// another writer got there first.
Status UpdateNodeAttributes(File& file, const std::string& path,
                            const std::function<Status(nlohmann::json&)>& change);
// Creates the group, and with `intermediate` its missing ancestors.
Status CreateGroupNode(File& file, const std::string& path, bool intermediate);
// Makes sure the parent of `path` exists (creating it when `intermediate`).
Status EnsureParent(File& file, const std::string& path, bool intermediate);

// Opens the node at `path` as an HDF5 object (group or dataset).
Result<Object*> OpenNode(File& file, const std::string& path);
Result<Dataset*> OpenDataset(File& file, const std::string& path);

// 16-byte object token: a hash of the node path (stable across opens and processes).
H5O_token_t TokenOf(const std::string& path);
// The path a token was made from (kNotFound for tokens this process never handed out).
Result<std::string> PathOfToken(const H5O_token_t& token);

}  // namespace nimbus::vol
