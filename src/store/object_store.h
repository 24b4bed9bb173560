// ObjectStore: the one interface nimbus uses for S3, Azure Blob, a local directory and memory.
// It knows nothing of HDF5 or Zarr. Keys are plain strings ("a/b/c"); drivers encode them for
// their protocol. Every operation returns a Future of a Result; drivers bound their own
// concurrency, so callers may issue many operations at once and wait for them together.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/buffer.h"
#include "core/future.h"
#include "core/status.h"

namespace nimbus::store {

// Which bytes of an object to read: all, [offset, offset+length), from offset to the end, or the
// last `length` bytes (suffix; e.g. a shard index).
struct ByteRange {
  enum class Kind { kAll, kRange, kFrom, kSuffix };
  Kind kind = Kind::kAll;
  uint64_t offset = 0;
  uint64_t length = 0;

  static ByteRange All() { return {}; }
  static ByteRange Range(uint64_t offset, uint64_t length) {
    return {Kind::kRange, offset, length};
  }
  static ByteRange From(uint64_t offset) { return {Kind::kFrom, offset, 0}; }
  static ByteRange Suffix(uint64_t length) { return {Kind::kSuffix, 0, length}; }

  // Clamps to an object of `size` bytes: returns [begin, end). A range starting past the end of the
  // object yields an empty interval (begin == end == size), never an error.
  std::pair<uint64_t, uint64_t> Resolve(uint64_t size) const;
  std::string ToString() const;
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;           // opaque generation; compare only for equality
  int64_t last_modified = 0;  // seconds since the epoch, 0 when unknown
};

struct GetResult {
  Buffer data;      // the requested bytes (clamped to the object)
  ObjectInfo info;  // info.size is the whole object's size when the store reports it
};

struct PutOptions {
  std::string content_type = "application/octet-stream";
  // Conditional write: fails with kPreconditionFailed when not met.
  bool if_none_match_any = false;  // create only (If-None-Match: *)
  std::string if_match;            // replace only this generation (If-Match: <etag>)
};

struct PutResult {
  std::string etag;
};

struct ListOptions {
  std::string prefix;
  std::string delimiter;  // "" lists recursively; "/" groups by the next path segment
  int page_size = 1000;   // keys per request (the store may cap it)
};

struct ListResult {
  std::vector<ObjectInfo> objects;          // sorted by key
  std::vector<std::string> common_prefixes; // with the delimiter; sorted
};

// What a store can do; callers adapt (e.g. metadata writes use If-Match only when supported).
struct StoreCapabilities {
  bool conditional_put = true;  // If-None-Match: * and If-Match honoured
  bool atomic_put = true;       // a reader sees the old or the new object, never a mix
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // "s3://bucket/prefix", "file:///dir", ... : for error messages.
  virtual std::string Describe() const = 0;
  virtual StoreCapabilities Capabilities() const { return {}; }

  // Missing key: kNotFound.
  virtual Future<Result<GetResult>> Get(std::string key, ByteRange range = ByteRange::All()) = 0;
  virtual Future<Result<PutResult>> Put(std::string key, Buffer data, PutOptions options = {}) = 0;
  // Missing key: kNotFound.
  virtual Future<Result<ObjectInfo>> Head(std::string key) = 0;
  // Deleting a missing key succeeds (S3 semantics).
  virtual Future<Status> Delete(std::string key) = 0;
  // Lists every page (follows continuation tokens / markers).
  virtual Future<Result<ListResult>> List(ListOptions options) = 0;

  // Deletes many keys; the default issues single deletes concurrently. Returns the first error.
  virtual Future<Status> DeleteMany(std::vector<std::string> keys);
  // Reads several ranges of one object; results are in request order. The default issues the
  // ranged reads concurrently; drivers may coalesce.
  virtual Future<Result<std::vector<Buffer>>> GetRanges(std::string key,
                                                        std::vector<ByteRange> ranges);

  // Blocking conveniences for tests, tools and simple callers.
  Result<GetResult> GetSync(std::string key, ByteRange range = ByteRange::All()) {
    return Get(std::move(key), range).Get();
  }
  Result<PutResult> PutSync(std::string key, std::string_view data, PutOptions options = {}) {
    return Put(std::move(key), Buffer::CopyOf(data), std::move(options)).Get();
  }
  Result<ObjectInfo> HeadSync(std::string key) { return Head(std::move(key)).Get(); }
  Status DeleteSync(std::string key) { return Delete(std::move(key)).Get(); }
  Result<ListResult> ListSync(ListOptions options) { return List(std::move(options)).Get(); }
};

// Which driver a URL names and where: s3://bucket/prefix, az://container/prefix, file:///abs/dir,
// memory://name, or a plain path (file driver).
struct StoreUrl {
  std::string scheme;     // "s3", "az", "file", "memory"
  std::string bucket;     // bucket / container / memory store name; empty for file
  std::string prefix;     // key prefix inside the bucket, no leading or trailing '/'; for file:
                          // the absolute directory
  static Result<StoreUrl> Parse(std::string_view url);
  std::string ToString() const;
};

}  // namespace nimbus::store
