#include "vol/objects.h"

#include <cstring>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "store/store_factory.h"
#include "vol/errors.h"
#include "zarr/metadata.h"

namespace nimbus::vol {
namespace {

using nlohmann::json;

// Live objects, so that IDs found by H5Iiterate are only dereferenced when they are ours.
std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}
std::unordered_set<const Object*>& Registry() {
  static std::unordered_set<const Object*> live;
  return live;
}

// Token -> path, for H5Oopen_by_token: tokens are hashes, so remember what they were hashed from.
std::mutex& TokenMutex() {
  static std::mutex mu;
  return mu;
}
std::unordered_map<std::string, std::string>& TokenPaths() {
  static std::unordered_map<std::string, std::string> paths;
  return paths;
}

uint64_t Fnv1a(const std::string& s, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string MetadataKey(const std::string& path) {
  return path.empty() ? "zarr.json" : path + "/zarr.json";
}

// The connector info attached to a FAPL (null when none: configuration then comes from the
// environment). The library hands out a copy made by our info `copy` callback.
std::unique_ptr<ConnectorInfo> InfoOf(hid_t fapl) {
  void* info = nullptr;
  if (fapl < 0 || H5Pget_vol_info(fapl, &info) < 0) return nullptr;
  return std::unique_ptr<ConnectorInfo>(static_cast<ConnectorInfo*>(info));
}

struct Connection {
  FileLocation location;
  std::shared_ptr<store::ObjectStore> store;
};

Result<Connection> Connect(const char* name, hid_t fapl, bool local_only = false) {
  std::unique_ptr<ConnectorInfo> info = InfoOf(fapl);
  auto location = ResolveFileLocation(name == nullptr ? "" : name, info.get(), ProcessEnv());
  if (!location.ok()) return location.status().WithContext(std::string("file '") + name + "'");
  if (local_only) {
    auto url = store::StoreUrl::Parse(location->store_url);
    if (!url.ok() || url->scheme != "file") {
      return InvalidArgumentError("'" + location->store_url + "' is not a local directory");
    }
  }
  auto store = store::OpenStore(location->store_url, location->settings, ProcessEnv());
  if (!store.ok()) return store.status().WithContext(std::string("file '") + name + "'");
  return Connection{std::move(location).value(), std::move(store).value()};
}

json RootGroupAttributes() {
  return json{{kReservedAttribute, {{"format_version", kFormatVersion}, {"kind", "file"}}}};
}

Status CheckFormatVersion(const json& attributes, const std::string& where) {
  auto it = attributes.find(kReservedAttribute);
  if (it == attributes.end() || !it->is_object()) return Status::Ok();
  int version = it->value("format_version", 1);
  if (version > kFormatVersion) {
    return UnimplementedError(where + " was written in nimbus format version " +
                              std::to_string(version) + "; this connector reads up to " +
                              std::to_string(kFormatVersion));
  }
  return Status::Ok();
}

// The endianness of an array's "bytes" codec (also inside sharding), "" when none is given.
std::string EndianOf(const json& codecs) {
  for (const json& c : codecs) {
    if (!c.is_object()) continue;
    std::string name = c.value("name", "");
    if (name == "bytes") {
      auto conf = c.find("configuration");
      if (conf != c.end() && conf->is_object()) return conf->value("endian", "");
      return "";
    }
    if (name == "sharding_indexed") {
      auto conf = c.find("configuration");
      if (conf != c.end() && conf->contains("codecs")) return EndianOf((*conf)["codecs"]);
    }
  }
  return "";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Object

Object::Object(Kind kind, std::shared_ptr<File> file, std::string path)
    : kind_(kind), file_(std::move(file)), path_(std::move(path)) {
  std::lock_guard lock(RegistryMutex());
  Registry().insert(this);
}

Object::~Object() {
  std::lock_guard lock(RegistryMutex());
  Registry().erase(this);
}

File& Object::file() { return file_ ? *file_ : static_cast<File&>(*this); }

std::shared_ptr<File> Object::shared_file() {
  return file_ ? file_ : static_cast<File&>(*this).shared_from_this();
}

H5I_type_t Object::id_type() const {
  switch (kind_) {
    case Kind::kFile: return H5I_FILE;
    case Kind::kGroup: return H5I_GROUP;
    case Kind::kDataset: return H5I_DATASET;
    case Kind::kAttribute: return H5I_ATTR;
  }
  return H5I_BADID;
}

bool Object::IsLive(const void* p) {
  std::lock_guard lock(RegistryMutex());
  return Registry().count(static_cast<const Object*>(p)) > 0;
}

std::vector<Object*> Object::LiveObjects() {
  std::lock_guard lock(RegistryMutex());
  std::vector<Object*> out;
  for (const Object* o : Registry()) out.push_back(const_cast<Object*>(o));
  return out;
}

// ---------------------------------------------------------------------------------------------
// File

File::File(std::string name, std::string url, std::shared_ptr<store::ObjectStore> store,
           unsigned intent)
    : Object(Kind::kFile, nullptr, ""),
      name_(std::move(name)),
      url_(std::move(url)),
      store_(std::move(store)),
      intent_(intent) {
  // The same container opened twice gets the same number, so h5py compares its objects as equal.
  fileno_ = static_cast<unsigned long>(Fnv1a(url_, 0xcbf29ce484222325ull) | 1u);
}

std::string File::Describe(const std::string& path) const {
  std::string where = store_->Describe();
  if (!path.empty()) where += (where.ends_with("/") ? "" : "/") + path;
  return where;
}

Status File::CheckWritable(const std::string& what) const {
  if (intent_ & H5F_ACC_RDWR) return Status::Ok();
  return Status(ErrorKind::kAccessDenied,
                "cannot " + what + ": file '" + name_ + "' is open read-only");
}

void File::AddIdReference() {
  if (id_references_++ == 0) self_ = shared_from_this();
}

void File::ReleaseIdReference() {
  if (id_references_ > 0 && --id_references_ == 0) {
    std::shared_ptr<File> keep = std::move(self_);  // destroys this if no child holds it
  }
}

Result<std::shared_ptr<zarr::ZarrArray>> File::SharedArray(const std::string& path) {
  if (auto it = arrays_.find(path); it != arrays_.end()) {
    if (auto array = it->second.lock()) return array;
  }
  NIMBUS_ASSIGN_OR_RETURN(std::shared_ptr<zarr::ZarrArray> array,
                          zarr::ZarrArray::Open(store_, path));
  arrays_[path] = array;
  return array;
}

void File::AdoptArray(const std::string& path, const std::shared_ptr<zarr::ZarrArray>& array) {
  arrays_[path] = array;
}

void File::ForgetArrays(const std::string& path) {
  for (auto it = arrays_.begin(); it != arrays_.end();) {
    bool below = path.empty() || it->first == path || it->first.starts_with(path + "/");
    it = below ? arrays_.erase(it) : std::next(it);
  }
}

Result<File*> File::Create(const char* name, unsigned flags, hid_t fcpl, hid_t fapl) {
  NIMBUS_ASSIGN_OR_RETURN(Connection c, Connect(name, fapl));
  auto file = std::make_shared<File>(name, c.location.store_url, c.store, H5F_ACC_RDWR);
  store::ObjectStore& store = *c.store;
  auto root = store.HeadSync("zarr.json");
  if (!root.ok() && root.status().kind() != ErrorKind::kNotFound) {
    return root.status().WithContext("creating file '" + std::string(name) + "'");
  }
  const bool exists = root.ok();
  // H5Fcreate ORs RDWR|CREAT into the flags: test bits. Without TRUNC a create is exclusive.
  if (exists && !(flags & H5F_ACC_TRUNC)) {
    return Status(ErrorKind::kPreconditionFailed,
                  "file '" + std::string(name) + "' already exists at " + store.Describe());
  }
  if (flags & H5F_ACC_TRUNC) {
    auto listed = store.ListSync(store::ListOptions{"", "/", 1000});
    if (!listed.ok()) return listed.status().WithContext("truncating file '" + std::string(name) + "'");
    bool has_content = !listed->objects.empty() || !listed->common_prefixes.empty();
    if (has_content && !exists) {
      // Never wipe a location that is not a Zarr hierarchy (a typo'd directory, a bucket root).
      return InvalidArgumentError("refusing to truncate " + store.Describe() +
                                  ": it holds objects but no zarr.json, so it is not a nimbus "
                                  "file; remove them or choose another name");
    }
    if (has_content) {
      NIMBUS_RETURN_IF_ERROR(
          zarr::DeleteNode(store, "").WithContext("truncating file '" + std::string(name) + "'"));
    }
  }
  Status created = zarr::CreateGroup(store, "", RootGroupAttributes(), /*exclusive=*/true);
  if (!created.ok()) return created.WithContext("creating file '" + std::string(name) + "'");
  if (fcpl >= 0) file->fcpl_ = Hid(H5Pcopy(fcpl));
  if (fapl >= 0) file->fapl_ = Hid(H5Pcopy(fapl));
  file->AddIdReference();
  return file.get();
}

Result<File*> File::Open(const char* name, unsigned flags, hid_t fapl) {
  NIMBUS_ASSIGN_OR_RETURN(Connection c, Connect(name, fapl));
  auto root = zarr::ReadNode(*c.store, "");
  if (!root.ok()) {
    if (root.status().kind() == ErrorKind::kNotFound) {
      return Status(ErrorKind::kNotFound, "no nimbus file '" + std::string(name) + "' at " +
                                              c.store->Describe() + " (no zarr.json)");
    }
    return root.status().WithContext("opening file '" + std::string(name) + "'");
  }
  if (!std::holds_alternative<zarr::GroupMetadata>(*root)) {
    return InvalidArgumentError(c.store->Describe() +
                                " is a Zarr array, not a group, so it is not a nimbus file");
  }
  NIMBUS_RETURN_IF_ERROR(CheckFormatVersion(std::get<zarr::GroupMetadata>(*root).attributes,
                                            "file '" + std::string(name) + "'"));
  auto file = std::make_shared<File>(name, c.location.store_url, c.store,
                                     (flags & H5F_ACC_RDWR) ? H5F_ACC_RDWR : H5F_ACC_RDONLY);
  if (fapl >= 0) file->fapl_ = Hid(H5Pcopy(fapl));
  file->fcpl_ = Hid(H5Pcreate(H5P_FILE_CREATE));
  file->AddIdReference();
  return file.get();
}

Result<bool> File::Exists(const char* name, hid_t fapl, bool local_only) {
  auto c = Connect(name, fapl, local_only);
  if (!c.ok()) return false;  // not a name nimbus can place: not ours
  auto root = zarr::ReadNode(*c->store, "");
  if (!root.ok()) {
    if (root.status().kind() == ErrorKind::kNotFound ||
        root.status().kind() == ErrorKind::kInvalidArgument) {
      return false;
    }
    return root.status();
  }
  return std::holds_alternative<zarr::GroupMetadata>(*root);
}

Status File::Delete(const char* name, hid_t fapl) {
  NIMBUS_ASSIGN_OR_RETURN(Connection c, Connect(name, fapl));
  auto root = c.store->HeadSync("zarr.json");
  if (!root.ok()) {
    if (root.status().kind() == ErrorKind::kNotFound) {
      return Status(ErrorKind::kNotFound, "no nimbus file '" + std::string(name) + "' at " +
                                              c.store->Describe() + " to delete");
    }
    return root.status();
  }
  return zarr::DeleteNode(*c.store, "");
}

// ---------------------------------------------------------------------------------------------
// Dataset facts

json DatasetFacts::ToJson() const {
  json maxshape_json = json::array();
  for (const auto& m : maxshape) maxshape_json.push_back(m ? json(*m) : json(nullptr));
  return json{{"format_version", kFormatVersion}, {"hdf5_type", type_description},
              {"maxshape", maxshape_json},        {"layout", layout},
              {"filters", filters},               {"fill_value", fill_value}};
}

Result<DatasetFacts> DatasetFacts::FromJson(const json& j) {
  DatasetFacts f;
  if (!j.is_object() || !j.contains("hdf5_type")) {
    return InvalidArgumentError("'_nimbus' entry without hdf5_type");
  }
  f.type_description = j.at("hdf5_type");
  if (auto it = j.find("maxshape"); it != j.end() && it->is_array()) {
    for (const json& m : *it) {
      f.maxshape.push_back(m.is_null() ? std::nullopt : std::optional<uint64_t>(m.get<uint64_t>()));
    }
  }
  f.layout = j.value("layout", "chunked");
  if (auto it = j.find("filters"); it != j.end()) f.filters = *it;
  f.fill_value = j.value("fill_value", "default");
  return f;
}

// ---------------------------------------------------------------------------------------------
// Paths and nodes

Result<std::string> ResolvePath(const std::string& base, const char* name) {
  if (name == nullptr) return InvalidArgumentError("null object name");
  std::string_view n(name);
  std::string out = n.starts_with("/") ? "" : base;
  size_t pos = 0;
  while (pos <= n.size()) {
    size_t slash = n.find('/', pos);
    std::string_view part =
        n.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (part == "..") {
      return InvalidArgumentError("name '" + std::string(n) + "': '..' is not supported");
    }
    if (!part.empty() && part != ".") out = JoinPath(out, std::string(part));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return out;
}

std::string ParentPath(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string LastComponent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string JoinPath(const std::string& parent, const std::string& child) {
  return parent.empty() ? child : parent + "/" + child;
}

Status CheckNodeName(const std::string& name) {
  if (name.starts_with("__")) {
    return InvalidArgumentError("name '" + name +
                                "' starts with '__', which Zarr v3 reserves for itself");
  }
  if (name == "zarr.json") {
    return InvalidArgumentError("'zarr.json' cannot be an object name (it is Zarr's metadata key)");
  }
  return Status::Ok();
}

Result<NodeKind> LookupNode(File& file, const std::string& path) {
  auto node = zarr::ReadNode(file.store(), path);
  if (!node.ok()) {
    if (node.status().kind() == ErrorKind::kNotFound) return NodeKind::kMissing;
    return node.status();
  }
  return std::holds_alternative<zarr::GroupMetadata>(*node) ? NodeKind::kGroup : NodeKind::kArray;
}

Result<json> ReadNodeAttributes(File& file, const std::string& path) {
  auto node = zarr::ReadNode(file.store(), path);
  if (!node.ok()) return node.status();
  if (auto* group = std::get_if<zarr::GroupMetadata>(&*node)) return group->attributes;
  // Arrays: the shared handle holds what this process last wrote.
  NIMBUS_ASSIGN_OR_RETURN(auto array, file.SharedArray(path));
  return array->metadata().attributes;
}

Status UpdateNodeAttributes(File& file, const std::string& path,
                            const std::function<Status(json&)>& change) {
  store::ObjectStore& store = file.store();
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto got = store.GetSync(MetadataKey(path));
    if (!got.ok()) {
      if (got.status().kind() == ErrorKind::kNotFound) {
        return Status(ErrorKind::kNotFound, "object '/" + path + "' no longer exists at " +
                                                file.Describe(path));
      }
      return got.status();
    }
    auto node = zarr::ParseNodeMetadata(got->data.view());
    if (!node.ok()) return node.status().WithContext(file.Describe(path) + "/zarr.json");
    if (std::holds_alternative<zarr::ArrayMetadata>(*node)) {
      NIMBUS_ASSIGN_OR_RETURN(auto array, file.SharedArray(path));
      json attributes = array->metadata().attributes;
      NIMBUS_RETURN_IF_ERROR(change(attributes));
      return array->SetAttributes(std::move(attributes));
    }
    auto& group = std::get<zarr::GroupMetadata>(*node);
    NIMBUS_RETURN_IF_ERROR(change(group.attributes));
    store::PutOptions put;
    put.content_type = "application/json";
    if (store.Capabilities().conditional_put && !got->info.etag.empty()) {
      put.if_match = got->info.etag;
    }
    auto r = store.PutSync(MetadataKey(path), group.Serialize(), put);
    if (r.ok()) return Status::Ok();
    if (r.status().kind() != ErrorKind::kPreconditionFailed) return r.status();
  }
  return Status(ErrorKind::kPreconditionFailed,
                "attributes of '/" + path + "' keep changing under concurrent writers");
}

Status EnsureParent(File& file, const std::string& path, bool intermediate) {
  if (path.empty()) return Status::Ok();
  std::string parent = ParentPath(path);
  NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, LookupNode(file, parent));
  if (kind == NodeKind::kGroup) return Status::Ok();
  if (kind == NodeKind::kArray) {
    return InvalidArgumentError("'/" + parent + "' is a dataset, so it cannot hold '" +
                                LastComponent(path) + "'");
  }
  if (!intermediate) {
    return Status(ErrorKind::kNotFound, "parent group '/" + parent + "' does not exist");
  }
  return CreateGroupNode(file, parent, true);
}

Status CreateGroupNode(File& file, const std::string& path, bool intermediate) {
  if (path.empty()) return Status(ErrorKind::kPreconditionFailed, "the root group already exists");
  NIMBUS_RETURN_IF_ERROR(CheckNodeName(LastComponent(path)));
  NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, LookupNode(file, path));
  if (kind != NodeKind::kMissing) {
    return Status(ErrorKind::kPreconditionFailed, "name already exists: '/" + path + "'");
  }
  NIMBUS_RETURN_IF_ERROR(EnsureParent(file, path, intermediate));
  json attributes = {{kReservedAttribute, {{"format_version", kFormatVersion}}}};
  Status s = zarr::CreateGroup(file.store(), path, attributes, /*exclusive=*/true);
  if (s.kind() == ErrorKind::kPreconditionFailed) {
    return Status(ErrorKind::kPreconditionFailed, "name already exists: '/" + path + "'");
  }
  return s;
}

Result<Dataset*> OpenDataset(File& file, const std::string& path) {
  NIMBUS_ASSIGN_OR_RETURN(auto array, file.SharedArray(path));
  const json& attributes = array->metadata().attributes;
  NIMBUS_RETURN_IF_ERROR(CheckFormatVersion(attributes, "dataset '/" + path + "'"));
  DatasetFacts facts;
  auto reserved = attributes.find(kReservedAttribute);
  if (reserved != attributes.end() && reserved->contains("hdf5_type")) {
    NIMBUS_ASSIGN_OR_RETURN(facts, DatasetFacts::FromJson(*reserved));
  } else {
    // Written by another Zarr tool: present it as a chunked dataset of the equivalent type.
    NIMBUS_ASSIGN_OR_RETURN(
        facts.type_description,
        DescriptionFromZarr(array->data_type(), EndianOf(array->metadata().codecs)));
    for (uint64_t d : array->shape()) facts.maxshape.push_back(d);
    facts.fill_value = "user";  // Zarr always defines one
  }
  if (facts.maxshape.size() != array->shape().size()) {
    facts.maxshape.assign(array->shape().begin(), array->shape().end());
  }
  NIMBUS_ASSIGN_OR_RETURN(StoredType type, MakeStoredType(facts.type_description));
  if (type.size != array->data_type().item_size && !type.variable_string) {
    return InvalidArgumentError("dataset '/" + path + "': recorded HDF5 type (" +
                                TypeSummary(facts.type_description) + ") does not match the Zarr "
                                "data type '" + array->data_type().name + "'");
  }
  return new Dataset(file.shared_file(), path, std::move(array), std::move(type),
                     std::move(facts));
}

Result<Object*> OpenNode(File& file, const std::string& path) {
  NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, LookupNode(file, path));
  switch (kind) {
    case NodeKind::kMissing:
      return Status(ErrorKind::kNotFound, "object '/" + path + "' doesn't exist");
    case NodeKind::kGroup:
      return static_cast<Object*>(new Group(file.shared_file(), path));
    case NodeKind::kArray: {
      NIMBUS_ASSIGN_OR_RETURN(Dataset * d, OpenDataset(file, path));
      return static_cast<Object*>(d);
    }
  }
  return Status(ErrorKind::kPermanent, "unreachable");
}

H5O_token_t TokenOf(const std::string& path) {
  H5O_token_t token;
  uint64_t a = Fnv1a(path, 0xcbf29ce484222325ull);
  uint64_t b = Fnv1a(path, 0x84222325cbf29ce4ull);
  static_assert(sizeof(token.__data) == 16);
  std::memcpy(token.__data, &a, 8);
  std::memcpy(token.__data + 8, &b, 8);
  std::lock_guard lock(TokenMutex());
  TokenPaths()[std::string(reinterpret_cast<const char*>(token.__data), 16)] = path;
  return token;
}

Result<std::string> PathOfToken(const H5O_token_t& token) {
  std::lock_guard lock(TokenMutex());
  auto it = TokenPaths().find(std::string(reinterpret_cast<const char*>(token.__data), 16));
  if (it == TokenPaths().end()) {
    return Status(ErrorKind::kNotFound, "unknown object token (not handed out by this process)");
  }
  return it->second;
}

}  // namespace nimbus::vol
