// Element types of the active storage API. Reductionist knows six (int32, int64, uint32, uint64,
// float32, float64); nimbus adds int8, int16, uint8, uint16 and float16 (an extension, documented
// in docs/active.md). float16 is computed in float32 and rounded back, so it costs one widening
// pass but needs no kernels of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nimbus::active {

enum class DType { kInt8, kInt16, kInt32, kInt64, kUint8, kUint16, kUint32, kUint64, kFloat16,
                   kFloat32, kFloat64 };

inline constexpr DType kAllDTypes[] = {DType::kInt8,    DType::kInt16,   DType::kInt32,
                                       DType::kInt64,   DType::kUint8,   DType::kUint16,
                                       DType::kUint32,  DType::kUint64,  DType::kFloat16,
                                       DType::kFloat32, DType::kFloat64};

std::string_view DTypeName(DType dtype);
std::optional<DType> ParseDType(std::string_view name);
size_t DTypeSize(DType dtype);
bool IsFloat(DType dtype);
bool IsSigned(DType dtype);  // signed integers (floats are not "signed" here)
// "`int8`, `int16`, ..." for error messages.
std::string DTypeList();

// IEEE 754 binary16 <-> binary32, round to nearest even; NaN and infinities preserved.
float HalfToFloat(uint16_t half);
uint16_t FloatToHalf(float value);

// Calls fn(T{}) with the C++ type of dtype (float16 maps to uint16_t storage: callers that compute
// widen it first).
template <typename Fn>
decltype(auto) VisitDType(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kInt8: return fn(int8_t{});
    case DType::kInt16: return fn(int16_t{});
    case DType::kInt32: return fn(int32_t{});
    case DType::kInt64: return fn(int64_t{});
    case DType::kUint8: return fn(uint8_t{});
    case DType::kUint16: return fn(uint16_t{});
    case DType::kUint32: return fn(uint32_t{});
    case DType::kUint64: return fn(uint64_t{});
    case DType::kFloat16: return fn(uint16_t{});
    case DType::kFloat32: return fn(float{});
    case DType::kFloat64: return fn(double{});
  }
  return fn(uint8_t{});
}

}  // namespace nimbus::active
