// Computing next to the data: the interface the array layer uses to have an active storage server
// (nimbus-active, Reductionist) select or reduce part of a stored chunk and send back only the
// result. The array layer decides what to ask for (which chunk, which byte range, how it is
// encoded, which elements); an implementation decides how to ask (src/active/client.h speaks the
// Reductionist v2 HTTP API). The Zarr engine depends only on this header, never on HTTP or HDF5.
//
// Also here: which codec chains such a server can decode (RemoteCodecPlan), as a pure function of
// the chain, so the rule is unit-tested and shared by reads and reductions.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "core/future.h"
#include "core/status.h"
#include "zarr/codec.h"
#include "zarr/data_type.h"

namespace nimbus::zarr {

enum class RemoteOp { kSelect, kSum, kMin, kMax, kCount };
const char* RemoteOpName(RemoteOp op);

// numpy's a[start:end:stride] for one dimension (stride > 0 here).
struct RemoteSlice {
  int64_t start = 0;
  int64_t end = 0;
  int64_t stride = 1;
};

// One request: `op` over `selection` of the array stored in [offset, offset + size) of the object
// `key` (relative to the array's store). The stored bytes are `shape` elements of `dtype` in C
// order (a transposed chunk is described by its encoded shape), encoded by `shuffle` filters then
// `compression`.
struct RemoteRequest {
  RemoteOp op = RemoteOp::kSelect;
  std::string key;
  uint64_t offset = 0;
  std::optional<uint64_t> size;   // nullopt: to the end of the object
  std::string dtype;              // "int8" ... "uint64", "float16", "float32", "float64"
  bool big_endian = false;
  std::vector<uint64_t> shape;
  std::vector<RemoteSlice> selection;  // empty: everything
  std::string compression;             // "", "gzip", "zstd", "blosc"
  std::vector<uint64_t> shuffle;       // element sizes of byte-shuffle filters, in encode order
  std::optional<std::vector<size_t>> axis;  // reductions: nullopt = every axis
};

// The answer: `bytes` holds the result elements (request dtype, count: int64), little-endian, in C
// order of `shape`; `count` the number of elements that contributed, per result element for axis
// reductions (C order).
struct RemoteResult {
  Buffer bytes;
  std::string dtype;
  std::vector<uint64_t> shape;
  std::vector<int64_t> count;
  uint64_t wire_bytes = 0;  // size of the response body as received (for statistics)
};

class RemoteSelector {
 public:
  virtual ~RemoteSelector() = default;
  // kNotFound: the object does not exist (the caller reads fill). Any other error means "do it
  // yourself": the caller falls back to fetching the bytes, so an error is never a wrong answer.
  virtual Future<Result<RemoteResult>> Submit(RemoteRequest request) = 0;
  // "nimbus-active at http://host:port" for messages.
  virtual std::string Describe() const = 0;

  // Records a failure the caller recovered from by falling back. The first one is written to
  // stderr (a misconfigured server should be visible, but not once per chunk); all are counted.
  void ReportFallback(const Status& status);
  uint64_t fallbacks() const { return fallbacks_.load(); }

 private:
  std::atomic<uint64_t> fallbacks_{0};
  std::atomic<bool> logged_{false};
};

// How a chain's stored bytes look to an active storage server, or why it cannot decode them.
struct RemoteCodecPlan {
  bool supported = false;
  std::string reason;              // why not, when !supported
  std::string dtype;               // the server's name of the element type
  bool big_endian = false;
  std::vector<size_t> transpose;   // encoded dim i = decoded dim transpose[i]; empty = identity
  std::string compression;         // "" (none), "gzip", "zstd", "blosc"
  std::vector<uint64_t> shuffle;   // byte-shuffle element sizes, in encode order
  uint64_t trailing_bytes = 0;     // a final crc32c: 4 bytes the server must not see
};

// `chain` is the chain that encodes one unit of I/O (a chunk, or a shard's inner chunk).
RemoteCodecPlan PlanRemoteCodecs(const CodecChain& chain, const DataType& type);

}  // namespace nimbus::zarr
