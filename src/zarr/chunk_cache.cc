#include "zarr/chunk_cache.h"

namespace nimbus::zarr {

uint64_t ChunkCache::SizeOf(const ChunkArray& c) {
  uint64_t n = c.data.size() + 64;
  for (const auto& v : c.values) n += v.size() + sizeof(std::string);
  return n;
}

std::shared_ptr<const ChunkArray> ChunkCache::Find(const std::string& key) {
  if (budget_ == 0) return nullptr;
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++stats_.misses;
    return nullptr;
  }
  ++stats_.hits;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void ChunkCache::Insert(const std::string& key, std::shared_ptr<const ChunkArray> chunk) {
  if (budget_ == 0 || !chunk) return;
  uint64_t size = SizeOf(*chunk);
  if (size > budget_) return;  // would evict everything for one entry
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it != index_.end()) {
    stats_.bytes -= SizeOf(*it->second->second);
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.emplace_front(key, std::move(chunk));
  index_[key] = lru_.begin();
  stats_.bytes += size;
  EvictLocked();
}

void ChunkCache::EvictLocked() {
  while (stats_.bytes > budget_ && !lru_.empty()) {
    auto& [key, chunk] = lru_.back();
    stats_.bytes -= SizeOf(*chunk);
    index_.erase(key);
    lru_.pop_back();
    ++stats_.evictions;
  }
  stats_.entries = index_.size();
}

void ChunkCache::Erase(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return;
  stats_.bytes -= SizeOf(*it->second->second);
  lru_.erase(it->second);
  index_.erase(it);
  stats_.entries = index_.size();
}

void ChunkCache::EraseWithPrefix(const std::string& prefix) {
  std::lock_guard lock(mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->first.compare(0, prefix.size(), prefix) == 0) {
      stats_.bytes -= SizeOf(*it->second);
      index_.erase(it->first);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
  stats_.entries = index_.size();
}

void ChunkCache::Clear() {
  std::lock_guard lock(mu_);
  lru_.clear();
  index_.clear();
  stats_.bytes = 0;
  stats_.entries = 0;
}

ChunkCache::Stats ChunkCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace nimbus::zarr
