// The options of a file's Zarr arrays, from the connector's settings (its info string, else the
// environment): the chunk cache and active storage (docs/format.md §1.3).
//
//   cache_size=256M                 decoded-chunk cache shared by the process' files (0 = off);
//                                   env NIMBUS_CACHE_SIZE
//   active_storage=http://host:port a nimbus-active / Reductionist server: sparse reads of
//                                   compressed chunks select there; env NIMBUS_ACTIVE_STORAGE_URL
//   active_storage_min_saving=0.5   push a chunk's selection only when it saves at least this
//                                   fraction of the bytes; env NIMBUS_ACTIVE_STORAGE_MIN_SAVING
//   active_storage_endpoint=URL     the S3 endpoint as the server reaches it (default: the
//                                   store's own endpoint)
//   active_storage_max_in_flight=16 requests to the server at once
#pragma once

#include <memory>

#include "core/config.h"
#include "core/status.h"
#include "store/object_store.h"
#include "zarr/array.h"

namespace nimbus::vol {

// Malformed values are errors (reported at file open). A server that cannot serve this store (not
// S3, temporary credentials) is not: it is reported once on stderr and the file reads as usual.
Result<zarr::ArrayOptions> FileArrayOptions(const ConfigMap& settings, const EnvFn& env,
                                            const std::shared_ptr<store::ObjectStore>& store);

// "256M", "1G", "4096", "64KiB" -> bytes (binary suffixes).
Result<uint64_t> ParseByteSize(std::string_view key, std::string_view text);

}  // namespace nimbus::vol
