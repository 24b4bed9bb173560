// ChunkCache: decoded chunks by key, least recently used evicted first, within a byte budget.
// Shared by all arrays of a store (pass one cache to their ArrayOptions). A budget of 0 disables
// it. Writes through this process update or drop entries; changes by other writers are not seen
// until an entry is evicted or the cache is cleared (see docs/consistency.md).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "zarr/chunk.h"

namespace nimbus::zarr {

class ChunkCache {
 public:
  explicit ChunkCache(uint64_t budget_bytes) : budget_(budget_bytes) {}

  std::shared_ptr<const ChunkArray> Find(const std::string& key);
  void Insert(const std::string& key, std::shared_ptr<const ChunkArray> chunk);
  void Erase(const std::string& key);
  // Drops every entry whose key starts with `prefix` (an array being deleted or resized).
  void EraseWithPrefix(const std::string& prefix);
  void Clear();

  struct Stats {
    uint64_t hits = 0, misses = 0, evictions = 0, bytes = 0, entries = 0;
  };
  Stats stats() const;
  uint64_t budget() const { return budget_; }

 private:
  static uint64_t SizeOf(const ChunkArray& c);
  void EvictLocked();

  const uint64_t budget_;
  mutable std::mutex mu_;
  using Entry = std::pair<std::string, std::shared_ptr<const ChunkArray>>;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  Stats stats_;
};

}  // namespace nimbus::zarr
