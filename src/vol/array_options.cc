#include "vol/array_options.h"

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>

#include "active/client.h"
#include "core/strings.h"

namespace nimbus::vol {
namespace {

std::optional<std::string> Setting(const ConfigMap& settings, const EnvFn& env,
                                   std::string_view key, std::string_view variable) {
  if (auto it = settings.find(key); it != settings.end() && !it->second.empty()) return it->second;
  return env(variable);
}

// One cache per budget for the whole process: files opened with the same cache_size share it
// (keys carry the store, so files never see each other's chunks).
std::shared_ptr<zarr::ChunkCache> SharedCache(uint64_t budget) {
  static std::mutex mu;
  static std::map<uint64_t, std::weak_ptr<zarr::ChunkCache>> caches;
  std::lock_guard lock(mu);
  if (auto existing = caches[budget].lock()) return existing;
  auto fresh = std::make_shared<zarr::ChunkCache>(budget);
  caches[budget] = fresh;
  return fresh;
}

}  // namespace

Result<uint64_t> ParseByteSize(std::string_view key, std::string_view text) {
  std::string t = AsciiLower(TrimWhitespace(text));
  uint64_t unit = 1;
  for (auto [suffix, mult] : {std::pair<std::string_view, uint64_t>{"kib", 1ull << 10},
                              {"mib", 1ull << 20}, {"gib", 1ull << 30}, {"k", 1ull << 10},
                              {"m", 1ull << 20}, {"g", 1ull << 30}, {"b", 1}}) {
    if (t.size() > suffix.size() && t.ends_with(suffix)) {
      unit = mult;
      t = t.substr(0, t.size() - suffix.size());
      break;
    }
  }
  if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgumentError(std::string(key) + ": expected a size such as 256M, got '" +
                                std::string(text) + "'");
  }
  return std::stoull(t) * unit;
}

Result<zarr::ArrayOptions> FileArrayOptions(const ConfigMap& settings, const EnvFn& env,
                                            const std::shared_ptr<store::ObjectStore>& store) {
  zarr::ArrayOptions options;
  if (auto size = Setting(settings, env, "cache_size", "NIMBUS_CACHE_SIZE")) {
    NIMBUS_ASSIGN_OR_RETURN(uint64_t budget, ParseByteSize("cache_size", *size));
    if (budget > 0) options.cache = SharedCache(budget);
  }
  auto url = Setting(settings, env, "active_storage", "NIMBUS_ACTIVE_STORAGE_URL");
  if (!url || *url == "none" || *url == "off") return options;
  if (auto saving = Setting(settings, env, "active_storage_min_saving",
                            "NIMBUS_ACTIVE_STORAGE_MIN_SAVING")) {
    char* end = nullptr;
    const double v = std::strtod(saving->c_str(), &end);
    if (end == saving->c_str() || *end != '\0' || !(v >= 0.0 && v <= 1.0)) {
      return InvalidArgumentError("active_storage_min_saving: expected a fraction 0..1, got '" +
                                  *saving + "'");
    }
    options.remote_min_saving = v;
  }
  active::ClientConfig defaults;
  if (auto it = settings.find("active_storage_endpoint"); it != settings.end()) {
    defaults.s3_endpoint = it->second;
  }
  if (auto it = settings.find("active_storage_max_in_flight"); it != settings.end()) {
    NIMBUS_ASSIGN_OR_RETURN(long long n, ParseInt("active_storage_max_in_flight", it->second));
    if (n <= 0) return InvalidArgumentError("active_storage_max_in_flight must be positive");
    defaults.max_in_flight = static_cast<int>(n);
  }
  auto client = active::ClientForStore(*url, *store, defaults);
  if (!client.ok()) {
    if (client.status().kind() == ErrorKind::kInvalidArgument) {
      return client.status().WithContext("active_storage");
    }
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true)) {
      std::fprintf(stderr, "nimbus: active_storage=%s is not used: %s\n", url->c_str(),
                   client.status().message().c_str());
    }
    return options;
  }
  options.remote = std::move(client).value();
  return options;
}

}  // namespace nimbus::vol
