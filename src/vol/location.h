// Where an HDF5 file name lives: the connector's configuration (its info string, else the
// environment) plus the name passed to H5Fcreate/H5Fopen give a store URL and store settings.
// Pure functions of their inputs (the environment is injected), so every rule is unit-tested.
//
// Rules (docs/format.md "Configuration"):
//  - A name starting with s3://, az://, file:// or memory:// is the file's store URL itself.
//  - Otherwise the name is a key prefix under a base location, the first of:
//      the info string's `store=URL`; NIMBUS_STORE_URL; STORAGE_PLATFORM (S3 | Azure | File,
//      default File) with BUCKET_NAME (the bucket / container / directory).
//    With the File platform and no BUCKET_NAME the name is an ordinary path (relative names are
//    relative to the current directory), so `HDF5_VOL_CONNECTOR=nimbus` alone works.
//  - Every other info-string key is a store setting (README "Store configuration"), passed on.
#pragma once

#include <string>
#include <string_view>

#include "core/config.h"
#include "core/status.h"

namespace nimbus::vol {

// The connector's info: what came after "nimbus" in HDF5_VOL_CONNECTOR, or what a program passed
// to H5Pset_vol. Parsing errors are kept and reported at file create/open, never at load, because
// a failing from_str would break every HDF5 call in the process.
struct ConnectorInfo {
  std::string text;       // as given, for to_str and messages
  ConfigMap settings;     // parsed key=value pairs
  Status parse_status;    // non-ok: `text` is malformed

  static ConnectorInfo FromString(std::string_view text);
};

struct FileLocation {
  std::string store_url;  // the file's root: s3://bucket/prefix/name.h5, /abs/dir/name.h5, ...
  ConfigMap settings;     // store settings (the info string minus `store`)
};

// info may be null (no info string): everything then comes from `env`.
Result<FileLocation> ResolveFileLocation(std::string_view name, const ConnectorInfo* info,
                                         const EnvFn& env);

}  // namespace nimbus::vol
