// MemoryStore: an ObjectStore in a process-local map, for tests and scratch data. Operations
// complete before they return (ready futures); a mutex makes the store safe to share.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "store/object_store.h"

namespace nimbus::store {

class MemoryStore final : public ObjectStore {
 public:
  // `name` only labels the store in Describe() ("memory://name").
  explicit MemoryStore(std::string name = "default");

  std::string Describe() const override;

  Future<Result<GetResult>> Get(std::string key, ByteRange range = ByteRange::All()) override;
  Future<Result<PutResult>> Put(std::string key, Buffer data, PutOptions options = {}) override;
  Future<Result<ObjectInfo>> Head(std::string key) override;
  Future<Status> Delete(std::string key) override;
  Future<Result<ListResult>> List(ListOptions options) override;

  // Number of objects stored (tests).
  size_t size() const;

 private:
  struct Object {
    // Shared so a reader can copy its range outside the lock while a writer replaces the object.
    std::shared_ptr<const Buffer> data;
    std::string etag;
    int64_t last_modified = 0;
  };

  Result<PutResult> PutLocked(const std::string& key, std::shared_ptr<const Buffer> data,
                              const PutOptions& options);
  ObjectInfo InfoOf(const std::string& key, const Object& object) const;

  const std::string name_;
  mutable std::mutex mu_;
  std::map<std::string, Object> objects_;  // sorted: List walks it in key order
  uint64_t generation_ = 0;                // source of etags; never reused within a store
};

}  // namespace nimbus::store
