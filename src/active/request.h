// The request model of both API versions and its validation. ParseRequest checks everything that
// can be checked without the data (every field, cross-field rules, missing values converted to the
// dtype) before anything is downloaded, and reports every violation, each naming its field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "active/dtype.h"
#include "core/status.h"

namespace nimbus::active {

enum class ApiVersion { kV1, kV2 };
enum class Operation { kCount, kMin, kMax, kSum, kSelect };
enum class ByteOrder { kLittle, kBig };
enum class Compression { kNone, kGzip, kZlib, kBlosc2, kZstd, kBlosc };
enum class InterfaceType { kS3, kHttp, kHttps };

std::optional<Operation> ParseOperation(std::string_view name);
std::string_view OperationName(Operation op);
std::string_view CompressionName(Compression compression);
std::string_view ByteOrderName(ByteOrder order);
constexpr ByteOrder kNativeByteOrder = ByteOrder::kLittle;  // x86-64 and aarch64 (checked in .cc)

// One [start, end, stride] item, exactly as sent (normalised by Normalize below).
struct SliceSpec {
  int64_t start = 0;
  int64_t end = 0;
  int64_t stride = 1;
};

// A dimension's selection after NumPy's slice rules: indices first, first + step, ... (count of
// them); step may be negative.
struct DimSelection {
  int64_t first = 0;
  int64_t step = 1;
  int64_t count = 0;
};
DimSelection NormalizeSlice(const SliceSpec& slice, int64_t length);

struct FilterSpec {
  enum class Kind { kShuffle };  // shuffle_simd is the same transform
  Kind kind = Kind::kShuffle;
  uint64_t element_size = 1;
};

// Missing-data descriptor, values already converted to the dtype: integer dtypes use `ints`
// (signed) or `uints` (unsigned), float dtypes `floats` (rounded to float32/float16 as the dtype).
struct MissingSpec {
  enum class Kind { kNone, kValue, kValues, kValidMin, kValidMax, kValidRange };
  Kind kind = Kind::kNone;
  std::vector<int64_t> ints;
  std::vector<uint64_t> uints;
  std::vector<double> floats;
};

struct ActiveRequest {
  ApiVersion version = ApiVersion::kV2;
  Operation operation = Operation::kSum;
  // v1 addressing.
  std::string source;  // S3 endpoint URL
  std::string bucket;
  std::string object;
  // v2 addressing.
  InterfaceType interface_type = InterfaceType::kS3;
  std::string url;
  bool option_disable_chunk_cache = false;  // accepted; nimbus-active has no chunk cache
  bool option_shape_as_bytes = false;
  bool option_count_as_bytes = false;

  DType dtype = DType::kInt32;
  ByteOrder byte_order = kNativeByteOrder;
  uint64_t offset = 0;
  std::optional<uint64_t> size;
  std::optional<std::vector<uint64_t>> shape;
  bool fortran_order = false;
  std::optional<std::vector<SliceSpec>> selection;
  // nullopt: reduce over every axis; empty: over none (numpy axis=()).
  std::optional<std::vector<size_t>> axis;
  Compression compression = Compression::kNone;
  std::vector<FilterSpec> filters;
  MissingSpec missing;

  // Bytes the decoded data must have when known before the download (shape given), else nullopt.
  std::optional<uint64_t> ExpectedDecodedSize() const;
};

// Parses and validates a JSON body for `operation` of `version`. Errors are MakeProblem statuses:
// 400 "request data is not valid" with one cause per violation ("<field>: <what is wrong>").
Result<ActiveRequest> ParseRequest(std::string_view body, ApiVersion version, Operation operation);

}  // namespace nimbus::active
