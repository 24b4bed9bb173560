#include "store/memory/memory_store.h"

#include <chrono>
#include <utility>

namespace nimbus::store {

namespace {

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status CheckKey(const std::string& key) {
  if (key.empty()) return InvalidArgumentError("empty object key");
  return Status::Ok();
}

}  // namespace

MemoryStore::MemoryStore(std::string name) : name_(std::move(name)) {}

std::string MemoryStore::Describe() const { return "memory://" + name_; }

size_t MemoryStore::size() const {
  std::lock_guard lock(mu_);
  return objects_.size();
}

ObjectInfo MemoryStore::InfoOf(const std::string& key, const Object& object) const {
  return ObjectInfo{key, object.data->size(), object.etag, object.last_modified};
}

Future<Result<GetResult>> MemoryStore::Get(std::string key, ByteRange range) {
  using R = Result<GetResult>;
  if (Status s = CheckKey(key); !s.ok()) return ReadyFuture(R(std::move(s)));
  std::shared_ptr<const Buffer> data;
  ObjectInfo info;
  {
    std::lock_guard lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) {
      return ReadyFuture(R(NotFoundError(Describe() + ": no object '" + key + "'")));
    }
    data = it->second.data;
    info = InfoOf(key, it->second);
  }
  auto [begin, end] = range.Resolve(data->size());
  GetResult out;
  out.data = Buffer::CopyOf(data->view().substr(begin, end - begin));
  out.info = std::move(info);
  return ReadyFuture(R(std::move(out)));
}

Result<PutResult> MemoryStore::PutLocked(const std::string& key, std::shared_ptr<const Buffer> data,
                                         const PutOptions& options) {
  auto it = objects_.find(key);
  if (options.if_none_match_any && it != objects_.end()) {
    return Status(ErrorKind::kPreconditionFailed,
                  Describe() + ": object '" + key + "' already exists (If-None-Match: *)");
  }
  if (!options.if_match.empty() && (it == objects_.end() || it->second.etag != options.if_match)) {
    return Status(ErrorKind::kPreconditionFailed,
                  Describe() + ": object '" + key + "' is not at generation " + options.if_match);
  }
  // Quoted like an HTTP entity tag so callers never rely on etags being bare numbers.
  // Appended piecewise: GCC 12 at -O3 reports a false -Wrestrict for "\"" + std::string.
  std::string etag(1, '"');
  etag += std::to_string(++generation_);
  etag += '"';
  objects_[key] = Object{std::move(data), etag, NowSeconds()};
  return PutResult{std::move(etag)};
}

Future<Result<PutResult>> MemoryStore::Put(std::string key, Buffer data, PutOptions options) {
  using R = Result<PutResult>;
  if (Status s = CheckKey(key); !s.ok()) return ReadyFuture(R(std::move(s)));
  if (options.if_none_match_any && !options.if_match.empty()) {
    return ReadyFuture(R(InvalidArgumentError("If-None-Match and If-Match are exclusive")));
  }
  auto shared = std::make_shared<const Buffer>(std::move(data));
  std::lock_guard lock(mu_);
  return ReadyFuture(PutLocked(key, std::move(shared), options));
}

Future<Result<ObjectInfo>> MemoryStore::Head(std::string key) {
  using R = Result<ObjectInfo>;
  if (Status s = CheckKey(key); !s.ok()) return ReadyFuture(R(std::move(s)));
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    return ReadyFuture(R(NotFoundError(Describe() + ": no object '" + key + "'")));
  }
  return ReadyFuture(R(InfoOf(key, it->second)));
}

Future<Status> MemoryStore::Delete(std::string key) {
  if (Status s = CheckKey(key); !s.ok()) return ReadyFuture(std::move(s));
  std::shared_ptr<const Buffer> doomed;  // freed after unlocking
  {
    std::lock_guard lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return ReadyFuture(Status::Ok());
    doomed = std::move(it->second.data);
    objects_.erase(it);
  }
  return ReadyFuture(Status::Ok());
}

Future<Result<ListResult>> MemoryStore::List(ListOptions options) {
  using R = Result<ListResult>;
  if (options.page_size < 1) {
    return ReadyFuture(R(InvalidArgumentError("list page_size must be at least 1, got " +
                                              std::to_string(options.page_size))));
  }
  const std::string& prefix = options.prefix;
  const std::string& delimiter = options.delimiter;
  ListResult out;
  std::lock_guard lock(mu_);
  for (auto it = objects_.lower_bound(prefix);
       it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    const std::string& key = it->first;
    size_t cut = delimiter.empty() ? std::string::npos : key.find(delimiter, prefix.size());
    if (cut == std::string::npos) {
      out.objects.push_back(InfoOf(key, it->second));
      continue;
    }
    // Keys sharing a common prefix are adjacent in the sorted map, so comparing with the last
    // one deduplicates.
    std::string common = key.substr(0, cut + delimiter.size());
    if (out.common_prefixes.empty() || out.common_prefixes.back() != common) {
      out.common_prefixes.push_back(std::move(common));
    }
  }
  return ReadyFuture(R(std::move(out)));
}

}  // namespace nimbus::store
