#include "active/request.h"

#include <bit>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "active/problem.h"

namespace nimbus::active {

static_assert(std::endian::native == std::endian::little,
              "nimbus-active reports and computes in little-endian native order");

using Json = nlohmann::json;

std::optional<Operation> ParseOperation(std::string_view name) {
  if (name == "count") return Operation::kCount;
  if (name == "min") return Operation::kMin;
  if (name == "max") return Operation::kMax;
  if (name == "sum") return Operation::kSum;
  if (name == "select") return Operation::kSelect;
  return std::nullopt;
}

std::string_view OperationName(Operation op) {
  switch (op) {
    case Operation::kCount: return "count";
    case Operation::kMin: return "min";
    case Operation::kMax: return "max";
    case Operation::kSum: return "sum";
    case Operation::kSelect: return "select";
  }
  return "?";
}

std::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone: return "none";
    case Compression::kGzip: return "gzip";
    case Compression::kZlib: return "zlib";
    case Compression::kBlosc2: return "blosc2";
    case Compression::kZstd: return "zstd";
    case Compression::kBlosc: return "blosc";
  }
  return "?";
}

std::string_view ByteOrderName(ByteOrder order) {
  return order == ByteOrder::kLittle ? "little" : "big";
}

DimSelection NormalizeSlice(const SliceSpec& slice, int64_t length) {
  // CPython's PySlice_AdjustIndices, which NumPy basic slicing follows.
  int64_t start = slice.start;
  int64_t stop = slice.end;
  const int64_t step = slice.stride;
  auto adjust = [length, step](int64_t index) {
    if (index < 0) {
      index += length;
      if (index < 0) index = step < 0 ? -1 : 0;
    } else if (index >= length) {
      index = step < 0 ? length - 1 : length;
    }
    return index;
  };
  start = adjust(start);
  stop = adjust(stop);
  DimSelection out;
  out.first = start;
  out.step = step;
  if (step > 0) {
    out.count = stop > start ? (stop - start - 1) / step + 1 : 0;
  } else {
    out.count = stop < start ? (start - stop - 1) / (-step) + 1 : 0;
  }
  return out;
}

std::optional<uint64_t> ActiveRequest::ExpectedDecodedSize() const {
  if (!shape) return std::nullopt;
  uint64_t n = DTypeSize(dtype);
  for (uint64_t d : *shape) n *= d;  // validated not to overflow
  return n;
}

namespace {

std::string TypeName(const Json& v) {
  if (v.is_number_float()) return "floating point `" + v.dump() + "`";
  if (v.is_number_integer()) return "integer `" + v.dump() + "`";
  if (v.is_string()) return "string " + v.dump();
  if (v.is_boolean()) return "boolean `" + v.dump() + "`";
  if (v.is_array()) return "sequence";
  if (v.is_object()) return "map";
  return "null";
}

// Collects every violation; fields are checked independently, then the cross-field rules run on
// the fields that parsed.
class Validator {
 public:
  void Fail(std::string_view field, std::string message) {
    errors_.push_back(std::string(field) + ": " + message);
  }
  bool ok() const { return errors_.empty(); }
  const std::vector<std::string>& errors() const { return errors_; }

  std::optional<uint64_t> Uint(std::string_view field, const Json& v) {
    if (v.is_number_unsigned()) return v.get<uint64_t>();
    if (v.is_number_integer()) {
      Fail(field, "invalid value: " + TypeName(v) + ", expected a non-negative integer");
    } else {
      Fail(field, "invalid type: " + TypeName(v) + ", expected a non-negative integer");
    }
    return std::nullopt;
  }

  std::optional<int64_t> Int(std::string_view field, const Json& v) {
    if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<int64_t>();
    if (v.is_number_unsigned()) {
      if (v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return static_cast<int64_t>(v.get<uint64_t>());
      }
      Fail(field, "invalid value: " + TypeName(v) + ", expected a 64-bit signed integer");
      return std::nullopt;
    }
    Fail(field, "invalid type: " + TypeName(v) + ", expected an integer");
    return std::nullopt;
  }

  std::optional<std::string> String(std::string_view field, const Json& v) {
    if (v.is_string()) return v.get<std::string>();
    Fail(field, "invalid type: " + TypeName(v) + ", expected a string");
    return std::nullopt;
  }

  std::optional<bool> Bool(std::string_view field, const Json& v) {
    if (v.is_boolean()) return v.get<bool>();
    Fail(field, "invalid type: " + TypeName(v) + ", expected a boolean");
    return std::nullopt;
  }

 private:
  std::vector<std::string> errors_;
};

bool IsAbsoluteUrl(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  for (char c : url.substr(0, sep)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.';
    if (!ok) return false;
  }
  std::string_view rest = url.substr(sep + 3);
  return !rest.empty() && rest.front() != '/';
}

// Converts one missing-data value to the dtype, exactly (no rounding for integers; float32 and
// float16 must stay finite after rounding). Appends to `spec`; false (and an error) when the value
// does not fit.
bool AddMissingValue(Validator& v, const Json& value, DType dtype, MissingSpec& spec) {
  auto incompatible = [&](std::string why) {
    v.Fail("missing", "Missing data descriptor is invalid: Incompatible value " +
                          (value.is_number() ? value.dump() : TypeName(value)) +
                          " for missing (dtype " + std::string(DTypeName(dtype)) + "): " + why);
    return false;
  };
  if (!value.is_number()) return incompatible("not a number");
  if (IsFloat(dtype)) {
    double d = value.get<double>();
    if (dtype == DType::kFloat32) {
      float f = static_cast<float>(d);
      if (!std::isfinite(f)) return incompatible("not finite as float32");
      d = f;
    } else if (dtype == DType::kFloat16) {
      float f = HalfToFloat(FloatToHalf(static_cast<float>(d)));
      if (!std::isfinite(f)) return incompatible("not finite as float16");
      d = f;
    } else if (!std::isfinite(d)) {
      return incompatible("not finite");
    }
    spec.floats.push_back(d);
    return true;
  }
  if (value.is_number_float()) return incompatible("an integer dtype needs an integer value");
  const size_t bits = DTypeSize(dtype) * 8;
  if (IsSigned(dtype)) {
    if (value.is_number_unsigned() &&
        value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return incompatible("out of range");
    }
    int64_t i = value.get<int64_t>();
    if (bits < 64) {
      int64_t lo = -(int64_t{1} << (bits - 1));
      int64_t hi = (int64_t{1} << (bits - 1)) - 1;
      if (i < lo || i > hi) return incompatible("out of range");
    }
    spec.ints.push_back(i);
    return true;
  }
  if (!value.is_number_unsigned()) return incompatible("out of range");
  uint64_t u = value.get<uint64_t>();
  if (bits < 64 && u > (uint64_t{1} << bits) - 1) return incompatible("out of range");
  spec.uints.push_back(u);
  return true;
}

// Is the first converted value strictly less than the second?
bool FirstLess(const MissingSpec& spec) {
  if (spec.floats.size() == 2) return spec.floats[0] < spec.floats[1];
  if (spec.ints.size() == 2) return spec.ints[0] < spec.ints[1];
  if (spec.uints.size() == 2) return spec.uints[0] < spec.uints[1];
  return false;
}

constexpr std::string_view kMissingVariants =
    "`missing_value`, `missing_values`, `valid_min`, `valid_max`, `valid_range`";

void ParseMissing(Validator& v, const Json& value, DType dtype, MissingSpec& spec) {
  if (!value.is_object()) {
    v.Fail("missing", "invalid type: " + TypeName(value) + ", expected a map with one of " +
                          std::string(kMissingVariants));
    return;
  }
  if (value.size() != 1) {
    v.Fail("missing", "expected exactly one of " + std::string(kMissingVariants) + ", got " +
                          std::to_string(value.size()) + " keys");
    return;
  }
  const std::string key = value.begin().key();
  const Json& item = value.begin().value();
  auto scalar = [&](MissingSpec::Kind kind) {
    spec.kind = kind;
    if (item.is_array()) {
      v.Fail("missing", "invalid type: sequence for `" + key + "`, expected a number");
      return;
    }
    AddMissingValue(v, item, dtype, spec);
  };
  if (key == "missing_value") return scalar(MissingSpec::Kind::kValue);
  if (key == "valid_min") return scalar(MissingSpec::Kind::kValidMin);
  if (key == "valid_max") return scalar(MissingSpec::Kind::kValidMax);
  if (key == "missing_values" || key == "valid_range") {
    spec.kind = key == "missing_values" ? MissingSpec::Kind::kValues : MissingSpec::Kind::kValidRange;
    if (!item.is_array()) {
      v.Fail("missing", "invalid type: " + TypeName(item) + " for `" + key + "`, expected a list");
      return;
    }
    if (key == "valid_range" && item.size() != 2) {
      v.Fail("missing", "valid_range must have exactly two values [min, max]");
      return;
    }
    bool all_ok = true;
    for (const auto& element : item) all_ok = AddMissingValue(v, element, dtype, spec) && all_ok;
    if (key == "valid_range" && all_ok && !FirstLess(spec)) {
      v.Fail("missing", "Missing data descriptor is invalid: Missing data valid range min must "
                        "be less than max");
    }
    return;
  }
  v.Fail("missing", "unknown variant `" + key + "`, expected one of " +
                        std::string(kMissingVariants));
}

std::optional<SliceSpec> ParseSlice(Validator& v, const Json& item) {
  SliceSpec s;
  if (item.is_array()) {
    if (item.size() != 3) {
      v.Fail("selection", "each item must be [start, end, stride], got " +
                              std::to_string(item.size()) + " values");
      return std::nullopt;
    }
    auto a = v.Int("selection", item[0]);
    auto b = v.Int("selection", item[1]);
    auto c = v.Int("selection", item[2]);
    if (!a || !b || !c) return std::nullopt;
    s = {*a, *b, *c};
  } else if (item.is_object()) {
    std::optional<int64_t> parts[3];
    static constexpr const char* kNames[3] = {"start", "end", "stride"};
    for (auto it = item.begin(); it != item.end(); ++it) {
      const std::string& key = it.key();
      const Json& value = it.value();
      int index = key == "start" ? 0 : key == "end" ? 1 : key == "stride" ? 2 : -1;
      if (index < 0) {
        v.Fail("selection", "unknown field `" + key + "`, expected `start`, `end` or `stride`");
        return std::nullopt;
      }
      parts[index] = v.Int("selection", value);
      if (!parts[index]) return std::nullopt;
    }
    for (int i = 0; i < 3; ++i) {
      if (!parts[i]) {
        v.Fail("selection", std::string("missing field `") + kNames[i] + "`");
        return std::nullopt;
      }
    }
    s = {*parts[0], *parts[1], *parts[2]};
  } else {
    v.Fail("selection", "invalid type: " + TypeName(item) + ", expected [start, end, stride]");
    return std::nullopt;
  }
  if (s.stride == 0) {
    v.Fail("selection", "Selection stride must not be equal to zero");
    return std::nullopt;
  }
  return s;
}

}  // namespace

Result<ActiveRequest> ParseRequest(std::string_view body, ApiVersion version,
                                   Operation operation) {
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return InvalidRequest({"body: not valid JSON"});
  if (!json.is_object()) {
    return InvalidRequest({"body: invalid type: " + TypeName(json) + ", expected a JSON object"});
  }

  ActiveRequest r;
  r.version = version;
  r.operation = operation;
  Validator v;

  static const std::set<std::string, std::less<>> kCommon = {
      "dtype", "byte_order", "offset", "size", "shape", "order", "selection", "axis",
      "compression", "filters", "missing"};
  static const std::set<std::string, std::less<>> kV1 = {"source", "bucket", "object"};
  static const std::set<std::string, std::less<>> kV2 = {
      "interface_type", "url", "option_disable_chunk_cache", "option_shape_as_bytes",
      "option_count_as_bytes"};
  const auto& own = version == ApiVersion::kV1 ? kV1 : kV2;

  bool have_dtype = false;
  std::set<std::string, std::less<>> seen_required;
  // Fields are read in a fixed order (dtype first), since missing values need the dtype.
  if (auto it = json.find("dtype"); it != json.end() && !it->is_null()) {
    if (auto s = v.String("dtype", *it)) {
      if (auto d = ParseDType(*s)) {
        r.dtype = *d;
        have_dtype = true;
      } else {
        v.Fail("dtype", "unknown variant `" + *s + "`, expected one of " + DTypeList());
      }
    }
  } else {
    v.Fail("dtype", "missing field `dtype`");
  }

  bool shape_ok = true;
  bool selection_ok = true;
  bool axis_ok = true;
  const Json* missing_json = nullptr;
  for (auto field = json.begin(); field != json.end(); ++field) {
    const std::string& key = field.key();
    const Json& value = field.value();
    if (!kCommon.count(key) && !own.count(key)) {
      std::string expected;
      for (const auto& name : kCommon) expected += (expected.empty() ? "`" : ", `") + name + "`";
      for (const auto& name : own) expected += ", `" + name + "`";
      v.Fail(key, "unknown field `" + key + "`, expected one of " + expected);
      continue;
    }
    if (value.is_null()) continue;  // every optional field may be null; required ones fail below
    if (key == "dtype") continue;
    if (key == "byte_order") {
      if (auto s = v.String(key, value)) {
        if (*s == "little") r.byte_order = ByteOrder::kLittle;
        else if (*s == "big") r.byte_order = ByteOrder::kBig;
        else v.Fail(key, "unknown variant `" + *s + "`, expected `big` or `little`");
      }
    } else if (key == "offset") {
      if (auto u = v.Uint(key, value)) r.offset = *u;
    } else if (key == "size") {
      if (auto u = v.Uint(key, value)) {
        if (*u == 0) v.Fail(key, "size must be greater than 0");
        else r.size = *u;
      }
    } else if (key == "shape") {
      if (!value.is_array()) {
        v.Fail(key, "invalid type: " + TypeName(value) + ", expected a list of dimension sizes");
        shape_ok = false;
        continue;
      }
      if (value.empty()) {
        v.Fail(key, "shape length must be greater than 0");
        shape_ok = false;
        continue;
      }
      std::vector<uint64_t> shape;
      for (const auto& d : value) {
        auto u = v.Uint(key, d);
        if (!u) { shape_ok = false; break; }
        if (*u == 0) {
          v.Fail(key, "shape indices must be greater than 0");
          shape_ok = false;
          break;
        }
        shape.push_back(*u);
      }
      if (shape_ok) r.shape = std::move(shape);
    } else if (key == "order") {
      if (auto s = v.String(key, value)) {
        if (*s == "C") r.fortran_order = false;
        else if (*s == "F") r.fortran_order = true;
        else v.Fail(key, "unknown variant `" + *s + "`, expected `C` or `F`");
      }
    } else if (key == "selection") {
      if (!value.is_array() || value.empty()) {
        v.Fail(key, value.is_array() ? "selection length must be greater than 0"
                                     : "invalid type: " + TypeName(value) + ", expected a list");
        selection_ok = false;
        continue;
      }
      std::vector<SliceSpec> selection;
      for (const auto& item : value) {
        auto s = ParseSlice(v, item);
        if (!s) { selection_ok = false; break; }
        selection.push_back(*s);
      }
      if (selection_ok) r.selection = std::move(selection);
    } else if (key == "axis") {
      std::vector<size_t> axes;
      if (value.is_array()) {
        for (const auto& a : value) {
          auto u = v.Uint(key, a);
          if (!u) { axis_ok = false; break; }
          axes.push_back(static_cast<size_t>(*u));
        }
      } else if (auto u = v.Uint(key, value)) {
        axes.push_back(static_cast<size_t>(*u));
      } else {
        axis_ok = false;
      }
      if (axis_ok) r.axis = std::move(axes);
    } else if (key == "compression") {
      if (!value.is_object()) {
        v.Fail(key, "invalid type: " + TypeName(value) + ", expected {\"id\": ...}");
        continue;
      }
      bool good = true;
      for (auto c = value.begin(); c != value.end(); ++c) {
        const std::string& ckey = c.key();
        const Json& cvalue = c.value();
        if (ckey != "id") {
          v.Fail(key, "unknown field `" + ckey + "`, expected `id`");
          good = false;
        } else if (!cvalue.is_string()) {
          v.Fail(key, "invalid type: " + TypeName(cvalue) + " for `id`, expected a string");
          good = false;
        }
      }
      if (!good) continue;
      if (!value.contains("id")) {
        v.Fail(key, "missing field `id`");
        continue;
      }
      std::string id = value["id"].get<std::string>();
      if (id == "gzip") r.compression = Compression::kGzip;
      else if (id == "zlib") r.compression = Compression::kZlib;
      else if (id == "blosc2") r.compression = Compression::kBlosc2;
      else if (id == "zstd") r.compression = Compression::kZstd;
      else if (id == "blosc") r.compression = Compression::kBlosc;
      else v.Fail(key, "unknown variant `" + id + "`, expected one of `gzip`, `zlib`, `blosc2`, "
                       "`zstd`, `blosc`");
    } else if (key == "filters") {
      if (!value.is_array()) {
        v.Fail(key, "invalid type: " + TypeName(value) + ", expected a list of filters");
        continue;
      }
      for (const auto& f : value) {
        if (!f.is_object()) {
          v.Fail(key, "invalid type: " + TypeName(f) + ", expected {\"id\", \"element_size\"}");
          continue;
        }
        FilterSpec filter;
        bool has_id = false;
        bool has_size = false;
        for (auto fi = f.begin(); fi != f.end(); ++fi) {
          const std::string& fkey = fi.key();
          const Json& fvalue = fi.value();
          if (fkey == "id") {
            auto id = v.String(key, fvalue);
            if (id && (*id == "shuffle" || *id == "shuffle_simd")) {
              has_id = true;
            } else if (id) {
              v.Fail(key, "unknown variant `" + *id + "`, expected `shuffle` or `shuffle_simd`");
            }
          } else if (fkey == "element_size") {
            if (auto u = v.Uint(key, fvalue)) {
              if (*u == 0) v.Fail(key, "element_size must be greater than 0");
              else { filter.element_size = *u; has_size = true; }
            }
          } else {
            v.Fail(key, "unknown field `" + fkey + "`, expected `id` or `element_size`");
          }
        }
        if (!f.contains("id")) v.Fail(key, "missing field `id`");
        if (!f.contains("element_size")) v.Fail(key, "missing field `element_size`");
        if (has_id && has_size) r.filters.push_back(filter);
      }
    } else if (key == "missing") {
      missing_json = &value;
    } else if (key == "source") {
      if (auto s = v.String(key, value)) {
        if (!IsAbsoluteUrl(*s)) v.Fail(key, "relative URL without a base: `" + *s + "`");
        r.source = *s;
      }
      seen_required.insert(key);
    } else if (key == "bucket") {
      if (auto s = v.String(key, value)) {
        if (s->empty()) v.Fail(key, "bucket must not be empty");
        r.bucket = *s;
      }
      seen_required.insert(key);
    } else if (key == "object") {
      if (auto s = v.String(key, value)) {
        if (s->empty()) v.Fail(key, "object must not be empty");
        r.object = *s;
      }
      seen_required.insert(key);
    } else if (key == "interface_type") {
      if (auto s = v.String(key, value)) {
        if (s->empty()) v.Fail(key, "interface type must not be empty");
        else if (*s == "s3") r.interface_type = InterfaceType::kS3;
        else if (*s == "http") r.interface_type = InterfaceType::kHttp;
        else if (*s == "https") r.interface_type = InterfaceType::kHttps;
        else v.Fail(key, "unsupported interface type " + *s + " (expected s3, http or https)");
      }
      seen_required.insert(key);
    } else if (key == "url") {
      if (auto s = v.String(key, value)) {
        if (!IsAbsoluteUrl(*s)) v.Fail(key, "relative URL without a base: `" + *s + "`");
        r.url = *s;
      }
      seen_required.insert(key);
    } else if (key == "option_disable_chunk_cache") {
      if (auto b = v.Bool(key, value)) r.option_disable_chunk_cache = *b;
    } else if (key == "option_shape_as_bytes") {
      if (auto b = v.Bool(key, value)) r.option_shape_as_bytes = *b;
    } else if (key == "option_count_as_bytes") {
      if (auto b = v.Bool(key, value)) r.option_count_as_bytes = *b;
    }
  }
  const std::vector<std::string> required =
      version == ApiVersion::kV1 ? std::vector<std::string>{"source", "bucket", "object"}
                                 : std::vector<std::string>{"interface_type", "url"};
  for (const auto& name : required) {
    if (!seen_required.count(name)) v.Fail(name, "missing field `" + name + "`");
  }
  if (missing_json != nullptr && have_dtype) ParseMissing(v, *missing_json, r.dtype, r.missing);

  // Cross-field rules.
  const uint64_t itemsize = DTypeSize(r.dtype);
  if (r.shape) {
    uint64_t n = itemsize;
    for (uint64_t d : *r.shape) {
      if (__builtin_mul_overflow(n, d, &n) || n > (uint64_t{1} << 60)) {
        v.Fail("shape", "the product of shape indices and dtype size overflows");
        r.shape.reset();
        shape_ok = false;
        break;
      }
    }
  }
  const bool shape_given = json.contains("shape") && !json["shape"].is_null();
  if (r.selection || (json.contains("selection") && !json["selection"].is_null() && !selection_ok)) {
    if (!shape_given) {
      v.Fail("selection", "Selection requires shape to be specified");
    } else if (r.shape && r.selection && r.selection->size() != r.shape->size()) {
      v.Fail("selection", "Shape and selection must have the same length (shape has " +
                              std::to_string(r.shape->size()) + ", selection " +
                              std::to_string(r.selection->size()) + ")");
    }
  }
  if (r.axis || (json.contains("axis") && !json["axis"].is_null() && !axis_ok)) {
    if (!shape_given) {
      v.Fail("axis", "Axis requires shape to be specified");
    } else if (r.shape && r.axis) {
      const size_t ndim = r.shape->size();
      for (size_t i = 0; i < r.axis->size(); ++i) {
        if ((*r.axis)[i] >= ndim) {
          v.Fail("axis", "Reduction axis must be within shape (axis " +
                             std::to_string((*r.axis)[i]) + ", " + std::to_string(ndim) +
                             " dimensions)");
          break;
        }
        if (i > 0 && (*r.axis)[i] <= (*r.axis)[i - 1]) {
          v.Fail("axis", "Reduction axes must be unique and in ascending order");
          break;
        }
      }
    }
  }
  if (r.size) {
    if (r.compression == Compression::kNone && r.shape && shape_ok) {
      if (*r.size != *r.ExpectedDecodedSize()) {
        v.Fail("size", "Raw data size must be equal to the product of shape indices and dtype "
                       "size in bytes (size " + std::to_string(*r.size) + ", expected " +
                       std::to_string(*r.ExpectedDecodedSize()) + ")");
      }
    } else if (r.compression == Compression::kNone && *r.size % itemsize != 0) {
      v.Fail("size", "Raw data size must be a multiple of the dtype size (" +
                         std::to_string(itemsize) + " bytes)");
    }
  }
  if (!v.ok()) return InvalidRequest(v.errors());
  return r;
}

}  // namespace nimbus::active
