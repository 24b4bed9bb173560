#include "vol/objects.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "store/store_factory.h"
#include "vol/array_options.h"
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

// URLs of files in which this process made soft links: another handle on the same file, opened
// before the link existed, then resolves names through links too.
std::mutex& SoftLinkUrlMutex() {
  static std::mutex mu;
  return mu;
}
std::unordered_set<std::string>& SoftLinkUrls() {
  static std::unordered_set<std::string> urls;
  return urls;
}

// The root group's attributes; the file's creation property list may ask for link creation order.
json RootGroupAttributes(hid_t fcpl) {
  json reserved = {{"format_version", kFormatVersion}, {"kind", "file"}};
  unsigned crt_order = 0;
  if (fcpl >= 0 && fcpl != H5P_DEFAULT && H5Pget_link_creation_order(fcpl, &crt_order) >= 0) {
    if (json order = LinkOrderJson(crt_order); !order.is_null()) {
      reserved["link_creation_order"] = order;
    }
  }
  return json{{kReservedAttribute, reserved}};
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
                          zarr::ZarrArray::Open(store_, path, array_options_));
  arrays_[path] = array;
  return array;
}

void File::AdoptArray(const std::string& path, const std::shared_ptr<zarr::ZarrArray>& array) {
  arrays_[path] = array;
}

bool File::may_have_soft_links() const {
  if (soft_link_marker_) return true;
  std::lock_guard lock(SoftLinkUrlMutex());
  return SoftLinkUrls().count(url_) > 0;
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
  NIMBUS_ASSIGN_OR_RETURN(file->array_options_,
                          FileArrayOptions(c.location.settings, ProcessEnv(), c.store));
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
          DeleteNodeTree(store, "").WithContext("truncating file '" + std::string(name) + "'"));
    }
  }
  Status created = zarr::CreateGroup(store, "", RootGroupAttributes(fcpl), /*exclusive=*/true);
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
  const json& root_attributes = std::get<zarr::GroupMetadata>(*root).attributes;
  NIMBUS_RETURN_IF_ERROR(CheckFormatVersion(root_attributes, "file '" + std::string(name) + "'"));
  auto file = std::make_shared<File>(name, c.location.store_url, c.store,
                                     (flags & H5F_ACC_RDWR) ? H5F_ACC_RDWR : H5F_ACC_RDONLY);
  NIMBUS_ASSIGN_OR_RETURN(file->array_options_,
                          FileArrayOptions(c.location.settings, ProcessEnv(), c.store));
  if (fapl >= 0) file->fapl_ = Hid(H5Pcopy(fapl));
  file->fcpl_ = Hid(H5Pcreate(H5P_FILE_CREATE));
  if (auto reserved = root_attributes.find(kReservedAttribute);
      reserved != root_attributes.end() && reserved->is_object()) {
    file->soft_link_marker_ = reserved->value("has_soft_links", false);
  }
  if (unsigned crt_order = LinkOrderFlags(GroupLinksOf(root_attributes)); crt_order != 0) {
    H5Pset_link_creation_order(file->fcpl_.get(), crt_order);
  }
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
  return DeleteNodeTree(*c.store, "");
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

// The node exactly at `path`, no soft link followed.
static Result<NodeKind> LookupNodeExact(File& file, const std::string& path) {
  auto node = zarr::ReadNode(file.store(), path);
  if (!node.ok()) {
    if (node.status().kind() == ErrorKind::kNotFound) return NodeKind::kMissing;
    return node.status();
  }
  return std::holds_alternative<zarr::GroupMetadata>(*node) ? NodeKind::kGroup : NodeKind::kArray;
}

Result<NodeKind> LookupNode(File& file, const std::string& path) {
  NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, LookupNodeExact(file, path));
  if (kind != NodeKind::kMissing || path.empty() || !file.may_have_soft_links()) return kind;
  // Not a node: the name may lead to one through soft links.
  NIMBUS_ASSIGN_OR_RETURN(std::string resolved, ResolveLinks(file, path, /*follow_last=*/true));
  if (resolved == path) return kind;
  return LookupNodeExact(file, resolved);
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
  const std::string parent = ParentPath(path);
  const std::string name = LastComponent(path);
  // One read of the parent answers all three questions: is it a group, is the name a soft link
  // there, does it track creation order.
  auto node = zarr::ReadNode(file.store(), parent);
  if (!node.ok()) {
    if (node.status().kind() != ErrorKind::kNotFound) return node.status();
    if (!intermediate) {
      return Status(ErrorKind::kNotFound, "parent group '/" + parent + "' does not exist");
    }
    return CreateGroupNode(file, parent, true);
  }
  const auto* group = std::get_if<zarr::GroupMetadata>(&*node);
  if (group == nullptr) {
    return InvalidArgumentError("'/" + parent + "' is a dataset, so it cannot hold '" + name + "'");
  }
  GroupLinks links = GroupLinksOf(group->attributes);
  if (auto soft = links.soft.find(name); soft != links.soft.end()) {
    return Status(ErrorKind::kPreconditionFailed, "name already exists: '/" + path +
                                                      "' is a soft link to '" + soft->second + "'");
  }
  if (!links.order_tracked) return Status::Ok();
  // Numbered before the object exists: a creation that then fails leaves an unused number, which
  // HDF5 tolerates too (numbers are never reused); listing ignores names without a link.
  return UpdateNodeAttributes(file, parent, [&](json& attributes) -> Status {
    json& order = attributes[kReservedAttribute]["link_creation_order"];
    int64_t next = order.value("next", int64_t{0});
    order["order"][name] = next;
    order["next"] = next + 1;
    return Status::Ok();
  });
}

Status CreateGroupNode(File& file, const std::string& path, bool intermediate,
                       const json& reserved) {
  if (path.empty()) return Status(ErrorKind::kPreconditionFailed, "the root group already exists");
  NIMBUS_RETURN_IF_ERROR(CheckNodeName(LastComponent(path)));
  NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, LookupNode(file, path));
  if (kind != NodeKind::kMissing) {
    return Status(ErrorKind::kPreconditionFailed, "name already exists: '/" + path + "'");
  }
  NIMBUS_RETURN_IF_ERROR(EnsureParent(file, path, intermediate));
  json attributes = {{kReservedAttribute, {{"format_version", kFormatVersion}}}};
  for (const auto& [key, value] : reserved.items()) attributes[kReservedAttribute][key] = value;
  Status s = zarr::CreateGroup(file.store(), path, attributes, /*exclusive=*/true);
  if (s.kind() == ErrorKind::kPreconditionFailed) {
    return Status(ErrorKind::kPreconditionFailed, "name already exists: '/" + path + "'");
  }
  return s;
}

Result<Dataset*> OpenDataset(File& file, const std::string& name_path) {
  // Callers may pass a name that reaches the dataset through soft links.
  NIMBUS_ASSIGN_OR_RETURN(const std::string path, ResolveLinks(file, name_path, true));
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

Status DeleteNodeTree(store::ObjectStore& store, const std::string& path) {
  const std::string prefix = path.empty() ? "" : path + "/";
  NIMBUS_ASSIGN_OR_RETURN(store::ListResult listed,
                          store.ListSync(store::ListOptions{prefix, "", 1000}));
  // Data first, then the zarr.json documents deepest first: every node's zarr.json outlives
  // everything below it, so an interrupted delete leaves visible, deletable nodes, never keys
  // that no node owns.
  std::vector<std::string> data;
  std::map<size_t, std::vector<std::string>, std::greater<>> metadata_by_depth;
  for (auto& object : listed.objects) {
    if (object.key == prefix + "zarr.json" || object.key.ends_with("/zarr.json")) {
      size_t depth = std::count(object.key.begin(), object.key.end(), '/');
      metadata_by_depth[depth].push_back(std::move(object.key));
    } else {
      data.push_back(std::move(object.key));
    }
  }
  if (!data.empty()) NIMBUS_RETURN_IF_ERROR(store.DeleteMany(std::move(data)).Get());
  for (auto& [depth, keys] : metadata_by_depth) {
    NIMBUS_RETURN_IF_ERROR(store.DeleteMany(std::move(keys)).Get());
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Links

Result<NodeKind> LookupNodeOfLink(File& file, const std::string& path);

namespace {

// HDF5's default for H5Pset_nlinks: how many soft links one name may pass through.
constexpr int kMaxSoftLinkHops = 16;
// Chunks copied at once by CopyNode (each is read, then written): bounds memory for big datasets.
constexpr size_t kCopyWindow = 16;

// Follows links from the node path `path`; see ResolveLinks. `hops` counts soft links followed.
Result<std::string> ResolveWalk(File& file, const std::string& path, bool follow_last, int* hops) {
  if (path.empty()) return path;
  std::string parent = ParentPath(path);
  const std::string name = LastComponent(path);
  auto links = ReadGroupLinks(file, parent);
  if (!links.ok() && links.status().kind() == ErrorKind::kNotFound && !parent.empty()) {
    // The parent is no node of that name: it may be reached through a soft link itself.
    NIMBUS_ASSIGN_OR_RETURN(std::string resolved, ResolveWalk(file, parent, true, hops));
    if (resolved != parent) {
      parent = resolved;
      links = ReadGroupLinks(file, parent);
    }
  }
  if (!links.ok()) {
    // No group there (or a dataset): the name stays as it is. Callers then report it missing, or
    // create the missing groups (intermediate creation), or say the dataset cannot hold members.
    if (links.status().kind() == ErrorKind::kNotFound ||
        links.status().kind() == ErrorKind::kInvalidArgument) {
      return JoinPath(parent, name);
    }
    return links.status();
  }
  if (!follow_last) return JoinPath(parent, name);
  auto soft = links->soft.find(name);
  if (soft == links->soft.end()) return JoinPath(parent, name);
  if (--*hops < 0) {
    return InvalidArgumentError("too many soft links (more than " +
                                std::to_string(kMaxSoftLinkHops) + ") on the way to '/" + path +
                                "'; is there a cycle?");
  }
  // Relative targets are relative to the group holding the link, as in HDF5.
  NIMBUS_ASSIGN_OR_RETURN(
      std::string target,
      ResolvePath(soft->second.starts_with("/") ? "" : parent, soft->second.c_str()));
  return ResolveWalk(file, target, true, hops);
}

// The node `relative` ("" = the node itself) below `path`.
std::string Below(const std::string& path, const std::string& relative) {
  return relative.empty() ? path : JoinPath(path, relative);
}

bool IsAtOrBelow(const std::string& path, const std::string& ancestor) {
  return ancestor.empty() || path == ancestor || path.starts_with(ancestor + "/");
}

// Futures of a window of store operations, all waited for; the first failure is kept.
template <typename T>
Status FirstFailure(std::vector<Future<T>>& futures) {
  Status first = Status::Ok();
  for (auto& f : futures) {
    Status s;
    if constexpr (std::is_same_v<T, Status>) {
      s = f.Get();
    } else {
      s = f.Get().status();
    }
    if (first.ok() && !s.ok()) first = s;
  }
  futures.clear();
  return first;
}

}  // namespace

GroupLinks GroupLinksOf(const json& group_attributes) {
  GroupLinks out;
  auto reserved = group_attributes.find(kReservedAttribute);
  if (reserved == group_attributes.end() || !reserved->is_object()) return out;
  if (auto links = reserved->find("links"); links != reserved->end() && links->is_object()) {
    for (const auto& [name, link] : links->items()) {
      // Link classes this version does not know are not presented (format.md: ignore unknown).
      if (link.is_object() && link.value("class", "") == "soft" && link.contains("target") &&
          link["target"].is_string()) {
        out.soft[name] = link["target"].get<std::string>();
      }
    }
  }
  auto order = reserved->find("link_creation_order");
  if (order != reserved->end() && order->is_object()) {
    out.order_tracked = true;
    out.order_indexed = order->value("indexed", false);
    out.next_order = order->value("next", int64_t{0});
    if (auto numbers = order->find("order"); numbers != order->end() && numbers->is_object()) {
      for (const auto& [name, n] : numbers->items()) {
        if (n.is_number_integer()) out.order[name] = n.get<int64_t>();
      }
    }
  }
  return out;
}

Result<GroupLinks> ReadGroupLinks(File& file, const std::string& path) {
  NIMBUS_ASSIGN_OR_RETURN(zarr::NodeMetadata node, zarr::ReadNode(file.store(), path));
  const auto* group = std::get_if<zarr::GroupMetadata>(&node);
  if (group == nullptr) return InvalidArgumentError("'/" + path + "' is a dataset, not a group");
  return GroupLinksOf(group->attributes);
}

json LinkOrderJson(unsigned crt_order_flags) {
  if (!(crt_order_flags & H5P_CRT_ORDER_TRACKED)) return nullptr;
  return json{{"indexed", (crt_order_flags & H5P_CRT_ORDER_INDEXED) != 0},
              {"next", 0},
              {"order", json::object()}};
}

unsigned LinkOrderFlags(const GroupLinks& links) {
  if (!links.order_tracked) return 0;
  return H5P_CRT_ORDER_TRACKED | (links.order_indexed ? H5P_CRT_ORDER_INDEXED : 0u);
}

Result<std::string> ResolveLinks(File& file, const std::string& path, bool follow_last) {
  if (path.empty() || !file.may_have_soft_links()) return path;
  // A node at the path means every component is a hard link (a node's ancestors are groups, never
  // soft links: names are unique within a group), so the common case costs one lookup.
  NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, LookupNodeOfLink(file, path));
  if (kind != NodeKind::kMissing) return path;
  int hops = kMaxSoftLinkHops;
  return ResolveWalk(file, path, follow_last, &hops);
}

Result<std::string> ResolveObjectPath(File& file, const std::string& base, const char* name) {
  NIMBUS_ASSIGN_OR_RETURN(std::string path, ResolvePath(base, name));
  return ResolveLinks(file, path, /*follow_last=*/true);
}

Result<std::string> ResolveLinkPath(File& file, const std::string& base, const char* name) {
  NIMBUS_ASSIGN_OR_RETURN(std::string path, ResolvePath(base, name));
  return ResolveLinks(file, path, /*follow_last=*/false);
}

// LookupNode for names that may be soft links only: a name the store cannot hold as a key (a path
// segment over 255 bytes in a directory store) is no node, but can be a soft link, which lives in
// its group's zarr.json.
Result<NodeKind> LookupNodeOfLink(File& file, const std::string& path) {
  auto kind = LookupNodeExact(file, path);
  if (!kind.ok() && kind.status().kind() == ErrorKind::kInvalidArgument) return NodeKind::kMissing;
  return kind;
}

Result<LinkTarget> LookupLink(File& file, const std::string& path) {
  LinkTarget out;
  NIMBUS_ASSIGN_OR_RETURN(out.node, LookupNodeOfLink(file, path));
  if (out.node != NodeKind::kMissing) {
    out.kind = LinkTarget::Kind::kHard;
    return out;
  }
  if (path.empty() || !file.may_have_soft_links()) return out;
  auto links = ReadGroupLinks(file, ParentPath(path));
  if (!links.ok()) {
    if (links.status().kind() == ErrorKind::kNotFound ||
        links.status().kind() == ErrorKind::kInvalidArgument) {
      return out;
    }
    return links.status();
  }
  if (auto soft = links->soft.find(LastComponent(path)); soft != links->soft.end()) {
    out.kind = LinkTarget::Kind::kSoft;
    out.soft_target = soft->second;
  }
  return out;
}

Status MarkSoftLinks(File& file) {
  {
    std::lock_guard lock(SoftLinkUrlMutex());
    SoftLinkUrls().insert(file.url());
  }
  if (file.has_soft_links_marker()) return Status::Ok();
  NIMBUS_RETURN_IF_ERROR(UpdateNodeAttributes(file, "", [](json& attributes) -> Status {
    attributes[kReservedAttribute]["has_soft_links"] = true;
    return Status::Ok();
  }));
  file.set_has_soft_links_marker(true);
  return Status::Ok();
}

Status CopyNode(File& src, const std::string& src_path, File& dst, const std::string& dst_path,
                unsigned copy_flags) {
  store::ObjectStore& from = src.store();
  store::ObjectStore& to = dst.store();
  const std::string src_prefix = src_path.empty() ? "" : src_path + "/";
  const std::string dst_prefix = dst_path + "/";
  const bool shallow = copy_flags & H5O_COPY_SHALLOW_HIERARCHY_FLAG;
  const bool without_attributes = copy_flags & H5O_COPY_WITHOUT_ATTR_FLAG;
  const bool expand_soft = copy_flags & H5O_COPY_EXPAND_SOFT_LINK_FLAG;
  const std::string what = "copying '/" + src_path + "' of " + src.url() + " to '/" + dst_path +
                           "' of " + dst.url();

  // Keys under the destination that no node owns were left by an interrupted copy or move to this
  // name (docs/consistency.md); they would resurface in the copy, so they go first.
  auto leftovers = to.ListSync(store::ListOptions{dst_prefix, "", 1000});
  if (!leftovers.ok()) return leftovers.status().WithContext(what);
  if (!leftovers->objects.empty()) {
    std::vector<std::string> keys;
    for (const auto& object : leftovers->objects) {
      if (object.key == dst_prefix + "zarr.json") {
        return Status(ErrorKind::kPreconditionFailed, "name already exists: '/" + dst_path + "'");
      }
      keys.push_back(object.key);
    }
    NIMBUS_RETURN_IF_ERROR(to.DeleteMany(std::move(keys)).Get().WithContext(what));
  }

  auto listed = from.ListSync(store::ListOptions{src_prefix, "", 1000});
  if (!listed.ok()) return listed.status().WithContext(what);

  // Nodes of the subtree by their directory relative to the copied node ("" = the node itself).
  std::vector<std::string> node_dirs;
  std::vector<std::string> data_keys;  // relative keys of everything else
  for (const auto& object : listed->objects) {
    std::string rel = object.key.substr(src_prefix.size());
    if (rel == "zarr.json") {
      node_dirs.push_back("");
    } else if (rel.ends_with("/zarr.json")) {
      node_dirs.push_back(rel.substr(0, rel.size() - std::string_view("/zarr.json").size()));
    } else {
      data_keys.push_back(std::move(rel));
    }
  }
  std::vector<Future<Result<store::GetResult>>> reads;
  for (const std::string& dir : node_dirs) {
    reads.push_back(from.Get(src_prefix + (dir.empty() ? "" : dir + "/") + "zarr.json"));
  }
  std::map<std::string, json> nodes;  // dir -> zarr.json document
  for (size_t i = 0; i < node_dirs.size(); ++i) {
    auto got = reads[i].Get();
    if (!got.ok()) {
      if (got.status().kind() == ErrorKind::kNotFound) continue;  // deleted meanwhile
      return got.status().WithContext(what);
    }
    json doc = json::parse(got->data.view(), nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object()) {
      return InvalidArgumentError(what + ": " + src.Describe(Below(src_path, node_dirs[i])) +
                                  "/zarr.json is not valid JSON");
    }
    nodes[node_dirs[i]] = std::move(doc);
  }
  if (!nodes.count("")) {
    return Status(ErrorKind::kNotFound, what + ": '/" + src_path + "' doesn't exist");
  }

  // Which nodes are copied: those reachable through groups (debris of an interrupted move, a node
  // under a missing parent, is left behind), and with a shallow copy only the direct members.
  auto is_group = [](const json& doc) { return doc.value("node_type", "") == "group"; };
  std::set<std::string> included{""};
  std::set<std::string> arrays;
  for (const auto& [dir, doc] : nodes) {  // std::map: parents sort before their children
    if (!dir.empty()) {
      std::string parent = ParentPath(dir);
      bool depth_ok = !shallow || parent.empty();
      if (!included.count(parent) || !is_group(nodes[parent]) || !depth_ok) continue;
      included.insert(dir);
    }
    if (!is_group(doc)) arrays.insert(dir);
  }

  // zarr.json documents as they will be written.
  bool copies_soft_links = false;
  std::vector<std::pair<std::string, std::string>> expansions;  // (group dir, link name)
  for (const std::string& dir : included) {
    json& doc = nodes[dir];
    json& attributes = doc["attributes"];
    if (!attributes.is_object()) attributes = json::object();
    if (without_attributes) {
      json kept = json::object();
      if (attributes.contains(kReservedAttribute)) kept[kReservedAttribute] = attributes[kReservedAttribute];
      attributes = std::move(kept);
      if (attributes.contains(kReservedAttribute) && attributes[kReservedAttribute].is_object()) {
        attributes[kReservedAttribute].erase("attributes");
      }
    }
    if (!attributes.contains(kReservedAttribute) || !attributes[kReservedAttribute].is_object()) {
      continue;
    }
    json& reserved = attributes[kReservedAttribute];
    if (dir.empty()) {
      // A copied root group becomes an ordinary group.
      reserved.erase("kind");
      reserved.erase("has_soft_links");
    }
    if (shallow && !dir.empty() && is_group(doc)) {
      // Its members are not copied, so neither are its soft links nor their order.
      reserved.erase("links");
      if (reserved.contains("link_creation_order")) {
        reserved["link_creation_order"]["order"] = json::object();
      }
    }
    if (reserved.contains("links") && reserved["links"].is_object()) {
      if (expand_soft) {
        for (const auto& [name, link] : reserved["links"].items()) {
          if (link.is_object() && link.value("class", "") == "soft") expansions.emplace_back(dir, name);
        }
      }
      if (!reserved["links"].empty()) copies_soft_links = true;
    }
  }

  // Expanded soft links become copies of their targets (below); dangling ones stay links.
  std::vector<std::tuple<std::string, std::string, std::string>> expanded;  // (dir, name, target)
  for (const auto& [dir, name] : expansions) {
    json& links = nodes[dir]["attributes"][kReservedAttribute]["links"];
    std::string group_src = Below(src_path, dir);
    std::string target_text = links[name].value("target", "");
    auto target = ResolvePath(target_text.starts_with("/") ? "" : group_src, target_text.c_str());
    if (!target.ok()) continue;
    auto resolved = ResolveLinks(src, *target, true);
    if (!resolved.ok()) continue;
    NIMBUS_ASSIGN_OR_RETURN(NodeKind kind, LookupNode(src, *resolved));
    if (kind == NodeKind::kMissing) continue;
    if (IsAtOrBelow(group_src, *resolved)) {
      return InvalidArgumentError(what + ": the soft link '/" + JoinPath(group_src, name) +
                                  "' points to '/" + *resolved + "', which contains it; expanding "
                                  "it would copy forever");
    }
    expanded.emplace_back(dir, name, *resolved);
    links.erase(name);
  }
  if (copies_soft_links) NIMBUS_RETURN_IF_ERROR(MarkSoftLinks(dst).WithContext(what));

  // Data first, in windows: a key belongs to the innermost included array it lies in.
  std::vector<std::string> keys;
  for (std::string& rel : data_keys) {
    std::string dir = ParentPath(rel);
    bool owned = false;
    for (;;) {
      if (arrays.count(dir) && included.count(dir)) {
        owned = true;
        break;
      }
      if (dir.empty()) break;
      dir = ParentPath(dir);
    }
    if (owned) keys.push_back(std::move(rel));
  }
  for (size_t i = 0; i < keys.size(); i += kCopyWindow) {
    size_t end = std::min(keys.size(), i + kCopyWindow);
    std::vector<Future<Result<store::GetResult>>> gets;
    for (size_t j = i; j < end; ++j) gets.push_back(from.Get(src_prefix + keys[j]));
    std::vector<Future<Result<store::PutResult>>> puts;
    Status failed = Status::Ok();
    for (size_t j = i; j < end; ++j) {
      auto got = gets[j - i].Get();
      if (!got.ok()) {
        if (got.status().kind() != ErrorKind::kNotFound && failed.ok()) failed = got.status();
        continue;  // a chunk deleted meanwhile reads as fill in the copy too
      }
      puts.push_back(to.Put(dst_prefix + keys[j], std::move(got->data)));
    }
    Status written = FirstFailure(puts);
    if (!failed.ok()) return failed.WithContext(what);
    if (!written.ok()) return written.WithContext(what);
  }

  // Then the metadata of the members, then the copied node itself, create-only.
  store::PutOptions json_put;
  json_put.content_type = "application/json";
  std::vector<Future<Result<store::PutResult>>> puts;
  for (const std::string& dir : included) {
    if (dir.empty()) continue;
    puts.push_back(to.Put(dst_prefix + dir + "/zarr.json",
                          Buffer::CopyOf(nodes[dir].dump(2)), json_put));
  }
  NIMBUS_RETURN_IF_ERROR(FirstFailure(puts).WithContext(what));
  store::PutOptions create_only = json_put;
  if (to.Capabilities().conditional_put) {
    create_only.if_none_match_any = true;
  } else if (to.HeadSync(dst_prefix + "zarr.json").ok()) {
    return Status(ErrorKind::kPreconditionFailed, "name already exists: '/" + dst_path + "'");
  }
  auto top = to.PutSync(dst_prefix + "zarr.json", nodes[""].dump(2), create_only);
  if (!top.ok()) {
    if (top.status().kind() == ErrorKind::kPreconditionFailed) {
      return Status(ErrorKind::kPreconditionFailed, "name already exists: '/" + dst_path + "'");
    }
    return top.status().WithContext(what);
  }
  for (const auto& [dir, name, target] : expanded) {
    NIMBUS_RETURN_IF_ERROR(
        CopyNode(src, target, dst, JoinPath(Below(dst_path, dir), name), copy_flags));
  }
  return Status::Ok();
}

Status RebindMovedHandles(File& file, const std::string& from, const std::string& to) {
  file.ForgetArrays(from);
  for (Object* object : Object::LiveObjects()) {
    if (object->kind() == Object::Kind::kFile || object->file().url() != file.url()) continue;
    if (!IsAtOrBelow(object->path(), from) || from.empty()) continue;
    if (object->kind() == Object::Kind::kDataset) {
      auto& dataset = static_cast<Dataset&>(*object);
      if (dataset.anonymous()) continue;
    }
    std::string moved = to + object->path().substr(from.size());
    if (object->kind() == Object::Kind::kDataset) {
      object->file().ForgetArrays(from);
      NIMBUS_ASSIGN_OR_RETURN(auto array, object->file().SharedArray(moved));
      static_cast<Dataset&>(*object).Bind(moved, std::move(array));
    } else {
      object->FollowMove(std::move(moved));
    }
  }
  return Status::Ok();
}

}  // namespace nimbus::vol
