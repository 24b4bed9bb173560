#include "store/store_factory.h"

#include <map>
#include <mutex>

#include "store/azure/azure_settings.h"
#include "store/azure/azure_store.h"
#include "store/file/file_store.h"
#include "store/memory/memory_store.h"
#include "store/s3/s3_settings.h"
#include "store/s3/s3_store.h"

namespace nimbus::store {
namespace {

// memory://name opens the same store every time within a process, like a bucket would.
std::shared_ptr<ObjectStore> NamedMemoryStore(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<ObjectStore>> stores;
  std::lock_guard lock(mu);
  auto existing = stores[name].lock();
  if (existing) return existing;
  auto fresh = std::make_shared<MemoryStore>(name);
  stores[name] = fresh;
  return fresh;
}

// Stores on the same S3 endpoint with the same connection settings share one HTTP client, so a
// program with many open files still holds one connection pool and one network thread.
std::shared_ptr<http::Client> SharedS3Client(const s3::S3Settings& s) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<http::Client>> clients;
  std::string key = s.endpoint + "|" + std::to_string(s.max_connections) + "|" +
                    std::to_string(s.connect_timeout_ms) + "|" +
                    std::to_string(s.stall_timeout_ms) + "|" + s.ca_bundle + "|" +
                    (s.verify_tls ? "v" : "n");
  std::lock_guard lock(mu);
  auto existing = clients[key].lock();
  if (existing) return existing;
  http::ClientOptions options;
  options.max_connections = s.max_connections;
  options.connect_timeout = std::chrono::milliseconds(s.connect_timeout_ms);
  options.stall_timeout = std::chrono::milliseconds(s.stall_timeout_ms);
  options.verify_tls = s.verify_tls;
  options.ca_bundle = s.ca_bundle;
  auto fresh = std::make_shared<http::Client>(options);
  clients[key] = fresh;
  return fresh;
}

}  // namespace

Result<std::shared_ptr<ObjectStore>> OpenStore(std::string_view url, const ConfigMap& config,
                                               const EnvFn& env) {
  NIMBUS_ASSIGN_OR_RETURN(StoreUrl parsed, StoreUrl::Parse(url));
  if (parsed.scheme == "memory") return NamedMemoryStore(parsed.bucket);
  if (parsed.scheme == "file") {
    return std::shared_ptr<ObjectStore>(std::make_shared<FileStore>(parsed.prefix));
  }
  if (parsed.scheme == "s3") {
    auto settings = s3::ResolveS3Settings(config, env);
    if (!settings.ok()) return settings.status().WithContext("opening " + parsed.ToString());
    auto client = SharedS3Client(*settings);
    return std::shared_ptr<ObjectStore>(std::make_shared<s3::S3Store>(
        std::move(settings).value(), parsed.bucket, parsed.prefix, std::move(client)));
  }
  if (parsed.scheme == "az") {
    auto settings = ResolveAzureSettings(config, env);
    if (!settings.ok()) return settings.status().WithContext("opening " + parsed.ToString());
    return std::shared_ptr<ObjectStore>(std::make_shared<AzureStore>(
        std::move(settings).value(), parsed.bucket, parsed.prefix));
  }
  return InvalidArgumentError("unsupported store URL scheme '" + parsed.scheme + "' in '" +
                              std::string(url) + "'");
}

}  // namespace nimbus::store
