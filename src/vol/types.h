// HDF5 datatypes as nimbus stores them: a JSON description (docs/format.md "Datatypes") that any
// implementation can read, the HDF5 type it stands for, and the Zarr data type of arrays holding it.
//
// Values inside the connector are always in the type's "engine" form, which is how the Zarr engine
// holds decoded chunks: numbers, enums and strings as the same type in native byte order; compound,
// array and opaque types as the bytes of zarr-python's "structured" / "raw_bytes" records (members
// packed in order, numbers little-endian), because those types have no byte order of their own in
// Zarr. Conversion to and from the application's memory type is HDF5's (H5Tconvert), so its
// conversion rules (members matched by name, int<->float, subsets of fields) apply unchanged.
#pragma once

#include <hdf5.h>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "vol/hid.h"
#include "zarr/data_type.h"

namespace nimbus::vol {

struct StoredType {
  nlohmann::json description;  // {"class": "integer", "size": 4, ...}
  Hid file_type;               // as the application declared it (what H5Dget_type returns)
  Hid engine_type;             // the same in native byte order: how values sit in our buffers
  size_t size = 0;             // bytes per element of engine_type (sizeof(char*) for vlen strings)
  bool variable_string = false;
  // engine_type holds a compound: H5Tconvert needs a background buffer (HDF5 copies members the
  // source lacks from it).
  bool has_compound = false;
};

// The description of `type`; kUnimplemented naming the class for types nimbus cannot store yet.
Result<nlohmann::json> DescribeType(hid_t type);
// The HDF5 types a description stands for.
Result<StoredType> MakeStoredType(const nlohmann::json& description);
inline Result<StoredType> StoredTypeOf(hid_t type) {
  NIMBUS_ASSIGN_OR_RETURN(nlohmann::json d, DescribeType(type));
  return MakeStoredType(d);
}

// How arrays hold a type: the Zarr data type and the "bytes" codec's endian ("" for one-byte and
// byte-string types, which have none).
struct ZarrEncoding {
  zarr::DataType data_type;
  std::string endian;
};
Result<ZarrEncoding> ZarrEncodingOf(const nlohmann::json& description);
// For arrays written by other Zarr tools (no nimbus metadata): the HDF5 type that reads them.
Result<nlohmann::json> DescriptionFromZarr(const zarr::DataType& type, std::string_view endian);

// Whether converting from `from` to `to` must start from the destination's current values: `to`
// (or a compound inside it) has members `from` lacks, e.g. h5py writing one field of a record.
bool ConversionNeedsOldValues(hid_t from, hid_t to);

// True for h5py's boolean: an enum over a one-byte integer with exactly FALSE=0 and TRUE=1.
bool IsBoolEnum(const nlohmann::json& description);

// Short human text for messages ("32-bit little-endian signed integer").
std::string TypeSummary(const nlohmann::json& description);

}  // namespace nimbus::vol
