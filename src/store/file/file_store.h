// FileStore: an ObjectStore over a local directory. Key "a/b/c" is the file <root>/a/b/c.
//
// Writes go to a temp file in the target's directory and are renamed into place, so readers see
// the old or the new object, never a mix (no fsync: durability against power loss is not
// promised). Temp files carry a reserved name prefix that List skips and keys may not use.
// The etag is derived from (device, inode, size, mtime ns); a rename installs a new inode, so
// every overwrite changes it. If-None-Match:* is atomic even across processes (link() refuses to
// replace); If-Match is checked under a per-store mutex, so it is atomic only among writers
// sharing this FileStore.
//
// Unlike S3, a key cannot be both an object and a prefix of other keys ("a" and "a/b"): such a
// put fails with kPermanent. Operations run synchronously and return ready futures.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

#include "store/object_store.h"

namespace nimbus::store {

class FileStore final : public ObjectStore {
 public:
  // The directory need not exist yet; it is created by the first put.
  explicit FileStore(std::string root_dir);

  std::string Describe() const override;

  Future<Result<GetResult>> Get(std::string key, ByteRange range = ByteRange::All()) override;
  Future<Result<PutResult>> Put(std::string key, Buffer data, PutOptions options = {}) override;
  Future<Result<ObjectInfo>> Head(std::string key) override;
  Future<Status> Delete(std::string key) override;
  Future<Result<ListResult>> List(ListOptions options) override;

  const std::string& root() const { return root_; }

  // Names starting with this are temp files of in-flight writes (or of writers that crashed).
  static constexpr std::string_view kTempPrefix = ".nimbus-tmp-";

 private:
  Result<GetResult> GetNow(const std::string& key, ByteRange range);
  Result<PutResult> PutNow(const std::string& key, const Buffer& data, const PutOptions& options);
  Result<ObjectInfo> HeadNow(const std::string& key);
  Status DeleteNow(const std::string& key);
  Result<ListResult> ListNow(const ListOptions& options);

  // <root>/<key> after checking that the key stays inside the root.
  Result<std::string> PathOf(std::string_view key) const;
  Status ErrnoStatus(int err, std::string_view what, std::string_view key) const;

  std::string root_;  // absolute, no trailing '/'
  // Serialises the final step of every write and delete (rename / link / unlink), so an If-Match
  // check and the rename that follows it cannot interleave with another commit.
  std::mutex commit_mu_;
};

}  // namespace nimbus::store
