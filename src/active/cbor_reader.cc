#include "active/cbor_reader.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace nimbus::active {
namespace {

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  Result<CborValue> Item(int depth) {
    if (depth > 32) return Fail("nesting deeper than 32 levels");
    if (pos_ >= data_.size()) return Fail("truncated item");
    const uint8_t initial = static_cast<uint8_t>(data_[pos_++]);
    const uint8_t major = initial >> 5;
    const uint8_t info = initial & 0x1F;
    CborValue v;
    if (major == 7) return Simple(info);
    if (info == 31) return Fail("indefinite-length items are not supported");
    NIMBUS_ASSIGN_OR_RETURN(uint64_t arg, Argument(info));
    switch (major) {
      case 0:
        v.type = CborValue::Type::kUnsigned;
        v.uint = arg;
        return v;
      case 1:
        v.type = CborValue::Type::kNegative;
        v.uint = arg;
        return v;
      case 2:
      case 3: {
        if (arg > data_.size() - pos_) return Fail("string longer than the data");
        v.type = major == 2 ? CborValue::Type::kBytes : CborValue::Type::kText;
        v.string.assign(data_.substr(pos_, arg));
        pos_ += arg;
        return v;
      }
      case 4: {
        // Every item takes at least one byte: a count beyond the rest is malformed (and would
        // otherwise reserve unbounded memory).
        if (arg > data_.size() - pos_) return Fail("array longer than the data");
        v.type = CborValue::Type::kArray;
        v.items.reserve(arg);
        for (uint64_t i = 0; i < arg; ++i) {
          NIMBUS_ASSIGN_OR_RETURN(CborValue item, Item(depth + 1));
          v.items.push_back(std::move(item));
        }
        return v;
      }
      case 5: {
        if (arg > (data_.size() - pos_) / 2) return Fail("map longer than the data");
        v.type = CborValue::Type::kMap;
        for (uint64_t i = 0; i < arg; ++i) {
          NIMBUS_ASSIGN_OR_RETURN(CborValue key, Item(depth + 1));
          NIMBUS_ASSIGN_OR_RETURN(CborValue value, Item(depth + 1));
          v.entries.emplace_back(std::move(key), std::move(value));
        }
        return v;
      }
      case 6:  // a tag: its content is the value
        return Item(depth + 1);
    }
    return Fail("unknown major type");
  }

  size_t pos() const { return pos_; }

 private:
  Status Fail(const std::string& what) const {
    return PermanentError("invalid CBOR at byte " + std::to_string(pos_) + ": " + what);
  }

  Result<uint64_t> Argument(uint8_t info) {
    if (info < 24) return static_cast<uint64_t>(info);
    int bytes = info == 24 ? 1 : info == 25 ? 2 : info == 26 ? 4 : info == 27 ? 8 : 0;
    if (bytes == 0) return Fail("reserved additional information " + std::to_string(info));
    if (data_.size() - pos_ < static_cast<size_t>(bytes)) return Fail("truncated argument");
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(data_[pos_++]);
    return v;
  }

  Result<CborValue> Simple(uint8_t info) {
    CborValue v;
    switch (info) {
      case 20:
      case 21:
        v.type = CborValue::Type::kBool;
        v.boolean = info == 21;
        return v;
      case 22:
      case 23:
        v.type = CborValue::Type::kNull;
        return v;
      case 25: {  // half
        NIMBUS_ASSIGN_OR_RETURN(uint64_t h, Argument(25));
        const int exp = (h >> 10) & 0x1F;
        const double mant = static_cast<double>(h & 0x3FF);
        double value = exp == 0    ? std::ldexp(mant, -24)
                       : exp == 31 ? (mant == 0 ? std::numeric_limits<double>::infinity()
                                                : std::numeric_limits<double>::quiet_NaN())
                                   : std::ldexp(mant + 1024, exp - 25);
        v.type = CborValue::Type::kFloat;
        v.number = (h & 0x8000) ? -value : value;
        return v;
      }
      case 26: {
        NIMBUS_ASSIGN_OR_RETURN(uint64_t bits, Argument(26));
        const auto b32 = static_cast<uint32_t>(bits);
        float f;
        std::memcpy(&f, &b32, 4);
        v.type = CborValue::Type::kFloat;
        v.number = f;
        return v;
      }
      case 27: {
        NIMBUS_ASSIGN_OR_RETURN(uint64_t bits, Argument(27));
        double d;
        std::memcpy(&d, &bits, 8);
        v.type = CborValue::Type::kFloat;
        v.number = d;
        return v;
      }
      default:
        return Fail("unsupported simple value " + std::to_string(info));
    }
  }

  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace

Result<int64_t> CborValue::AsInt64() const {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (type == Type::kUnsigned && uint <= kMax) return static_cast<int64_t>(uint);
  if (type == Type::kNegative && uint <= kMax) return -1 - static_cast<int64_t>(uint);
  return PermanentError("CBOR value is not an int64");
}

const CborValue* CborValue::Find(std::string_view key) const {
  if (type != Type::kMap) return nullptr;
  for (const auto& [k, v] : entries) {
    if (k.type == Type::kText && k.string == key) return &v;
  }
  return nullptr;
}

Result<CborValue> DecodeCbor(std::string_view data) {
  Reader reader(data);
  NIMBUS_ASSIGN_OR_RETURN(CborValue value, reader.Item(0));
  if (reader.pos() != data.size()) {
    return PermanentError("invalid CBOR: " + std::to_string(data.size() - reader.pos()) +
                          " bytes after the item");
  }
  return value;
}

}  // namespace nimbus::active
