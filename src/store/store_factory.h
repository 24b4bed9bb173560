// OpenStore: URL + settings -> a driver. The single place that knows every driver.
#pragma once

#include <memory>
#include <string_view>

#include "core/config.h"
#include "store/object_store.h"

namespace nimbus::store {

// url: s3://bucket/prefix, az://container/prefix, file:///abs/dir, memory://name, or a plain path.
// config: explicit settings (highest precedence; keys documented in README "Store configuration").
// env: the environment to resolve the rest from (AWS_*, AZURE_STORAGE_CONNECTION_STRING, ...).
Result<std::shared_ptr<ObjectStore>> OpenStore(std::string_view url, const ConfigMap& config = {},
                                               const EnvFn& env = ProcessEnv());

}  // namespace nimbus::store
