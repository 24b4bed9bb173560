#include "zarr/remote.h"

#include <cstdio>

namespace nimbus::zarr {

const char* RemoteOpName(RemoteOp op) {
  switch (op) {
    case RemoteOp::kSelect: return "select";
    case RemoteOp::kSum: return "sum";
    case RemoteOp::kMin: return "min";
    case RemoteOp::kMax: return "max";
    case RemoteOp::kCount: return "count";
  }
  return "select";
}

void RemoteSelector::ReportFallback(const Status& status) {
  fallbacks_++;
  bool expected = false;
  if (logged_.compare_exchange_strong(expected, true)) {
    std::fprintf(stderr,
                 "nimbus: %s failed, reading the bytes directly instead (further failures are "
                 "counted, not logged): %s\n",
                 Describe().c_str(), status.ToString().c_str());
  }
}

namespace {

RemoteCodecPlan Unsupported(std::string why) {
  RemoteCodecPlan plan;
  plan.reason = std::move(why);
  return plan;
}

}  // namespace

RemoteCodecPlan PlanRemoteCodecs(const CodecChain& chain, const DataType& type) {
  // The element types the active storage API knows (Reductionist's six plus nimbus-active's
  // 8/16-bit integers and float16).
  static const char* const kTypes[] = {"int8",   "int16",  "int32",   "int64",   "uint8",  "uint16",
                                       "uint32", "uint64", "float16", "float32", "float64"};
  bool known = false;
  for (const char* t : kTypes) known = known || type.name == t;
  if (!known || !(type.type_class == TypeClass::kInt || type.type_class == TypeClass::kUInt ||
                  type.type_class == TypeClass::kFloat)) {
    return Unsupported("data type " + type.name + " is not one the active storage API knows");
  }
  RemoteCodecPlan plan;
  plan.dtype = type.name;
  const nlohmann::json codecs = chain.ToJson();
  enum class Stage { kArray, kBytes, kFilters, kAfterCompressor, kDone } stage = Stage::kArray;
  for (const nlohmann::json& c : codecs) {
    const std::string name = c.value("name", "");
    const nlohmann::json conf = c.contains("configuration") ? c["configuration"] : nlohmann::json::object();
    if (name == "transpose") {
      if (stage != Stage::kArray || !plan.transpose.empty()) return Unsupported("more than one transpose");
      if (!conf.contains("order") || !conf["order"].is_array()) return Unsupported("transpose without an order list");
      for (const auto& o : conf["order"]) plan.transpose.push_back(o.get<size_t>());
      continue;
    }
    if (name == "bytes") {
      if (stage != Stage::kArray) return Unsupported("unexpected codec order");
      plan.big_endian = conf.is_object() && conf.value("endian", "little") == "big";
      stage = Stage::kBytes;
      continue;
    }
    if (stage == Stage::kArray) return Unsupported("array->bytes codec " + name);
    if (name == "numcodecs.shuffle") {
      // The server undoes shuffles after decompressing: only shuffles before the compressor.
      if (stage != Stage::kBytes && stage != Stage::kFilters) {
        return Unsupported("shuffle after the compressor");
      }
      plan.shuffle.push_back(conf.value("elementsize", static_cast<uint64_t>(type.item_size)));
      stage = Stage::kFilters;
      continue;
    }
    if (name == "gzip" || name == "zstd" || name == "blosc") {
      if (stage != Stage::kBytes && stage != Stage::kFilters) return Unsupported("two compressors");
      plan.compression = name;
      stage = Stage::kAfterCompressor;
      continue;
    }
    if (name == "crc32c") {
      // Last codec only: its 4 bytes are cut off the range the server reads (the checksum is then
      // not verified for those reads).
      if (stage == Stage::kDone) return Unsupported("two checksums");
      plan.trailing_bytes = 4;
      stage = Stage::kDone;
      continue;
    }
    return Unsupported("codec " + name + " is not one the active storage API decodes");
  }
  if (stage == Stage::kArray) return Unsupported("no bytes codec");
  // An identity transpose is no transpose.
  bool identity = true;
  for (size_t i = 0; i < plan.transpose.size(); ++i) identity = identity && plan.transpose[i] == i;
  if (identity) plan.transpose.clear();
  plan.supported = true;
  return plan;
}

}  // namespace nimbus::zarr
