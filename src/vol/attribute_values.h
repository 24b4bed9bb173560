// Attribute values as plain JSON (what zarr users see in zarr.json "attributes"): numbers, booleans
// and strings, nested lists for multi-dimensional shapes, a bare value for scalars, null for an
// HDF5 null dataspace. The exact HDF5 type and shape live beside them in the reserved "_nimbus"
// attribute (docs/format.md), so decoding restores exactly what was written.
#pragma once

#include <hdf5.h>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "vol/types.h"

namespace nimbus::vol {

// An attribute's dataspace: nullopt = H5S_NULL (no elements), {} = scalar, else the dimensions.
using AttributeShape = std::optional<std::vector<hsize_t>>;

uint64_t NumElements(const AttributeShape& shape);

// Values in `type`'s engine form (native order; vlen strings as char* possibly null) -> JSON.
Result<nlohmann::json> EncodeAttributeValue(const StoredType& type, const AttributeShape& shape,
                                            const void* values);

// JSON -> values in engine form. For vlen strings the char* are allocated with
// H5allocate_memory (the caller owns them: hand them to the application or H5free_memory them).
Status DecodeAttributeValue(const nlohmann::json& value, const StoredType& type,
                            const AttributeShape& shape, void* values);

// The type and shape under which an attribute that has no "_nimbus" entry (written by another Zarr
// tool) is presented; kUnimplemented when the value has no HDF5 form (objects, nulls, ragged lists).
struct InferredAttribute {
  nlohmann::json type_description;
  AttributeShape shape;
};
Result<InferredAttribute> InferAttribute(const nlohmann::json& value);

bool IsValidUtf8(const std::string& s);

}  // namespace nimbus::vol
