// Placeholder until the drivers land; replaced by the real factory.
#include "store/store_factory.h"

namespace nimbus::store {
Result<std::shared_ptr<ObjectStore>> OpenStore(std::string_view url, const ConfigMap&,
                                               const EnvFn&) {
  return UnimplementedError("no store driver for '" + std::string(url) + "' yet");
}
}  // namespace nimbus::store
