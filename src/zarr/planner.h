// Read planning: which bytes of which objects to fetch, and how.
//
// TransferModel learns, from the requests actually made, the per-request latency and per-stream
// bandwidth of a store. CoalesceRanges merges the byte ranges wanted from one object when the gap
// between them is cheaper to transfer than a separate request, and ChooseWholeObject decides
// between one GET of the whole object and ranged GETs (ArrayMorph's idea, with measured rather
// than hard-coded parameters and a cap on wasted bytes).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace nimbus::zarr {

class TransferModel {
 public:
  // Defaults until measured: 5 ms first byte, 100 MB/s per stream (typical S3 in-region).
  TransferModel() = default;
  TransferModel(double latency_s, double bandwidth_bps) : latency_s_(latency_s), bandwidth_(bandwidth_bps) {}

  // One completed request of `bytes` that took `seconds` from send to last byte.
  void Observe(uint64_t bytes, double seconds);
  double latency_s() const;
  double bandwidth_bps() const;
  // Bytes one request's latency is worth: merging across a smaller gap is cheaper than a request.
  uint64_t BreakEvenGap() const;

 private:
  mutable std::mutex mu_;
  double latency_s_ = 0.005;
  double bandwidth_ = 100e6;
  int latency_samples_ = 0;
  int bandwidth_samples_ = 0;
};

struct ByteSpan {
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t end() const { return offset + length; }
};

struct CoalesceOptions {
  uint64_t max_gap = 4096;             // merge when the hole between ranges is at most this
  uint64_t max_merged = 16ull << 20;   // never build a request larger than this (parallelism)
};

// A merged request and which input ranges it serves.
struct MergedRange {
  ByteSpan span;
  std::vector<size_t> members;  // indices into the input
};

// Sorts by offset and merges; overlapping or adjacent ranges always merge.
std::vector<MergedRange> CoalesceRanges(const std::vector<ByteSpan>& ranges,
                                        const CoalesceOptions& options);

// The gap the planner uses when merging `ranges` wanted ranges holding `useful_bytes`: the
// break-even gap of the model, but small enough that all the gaps together add at most 10% to
// the useful bytes (sparse reads stay within 1.1x of the minimum). 0 means: never merge across
// a gap.
uint64_t PlannedGap(const TransferModel& model, uint64_t useful_bytes, size_t ranges);

// True when fetching the whole object is expected to be at least as fast as the ranged requests,
// which run up to `parallelism` at a time (so n ranges cost about n / parallelism latencies).
bool ChooseWholeObject(const TransferModel& model, uint64_t object_size, uint64_t ranged_bytes,
                       size_t ranged_requests, size_t parallelism);

// Selection push-down (remote.h): whether to ask an active storage server for the selected
// elements of a stored chunk instead of fetching the chunk. The promise is fewer bytes moved to
// the client, so the rule is about bytes: push when what comes back (the selected elements plus
// a fixed allowance for the CBOR envelope and headers) is at most (1 - min_saving) of the stored
// (compressed) bytes the normal path would fetch. min_saving = 0.5: push only when at least half
// the bytes are saved, which also pays for the extra hop (client -> server -> store). A
// min_saving >= 1 never pushes; <= 0 pushes whenever it is not a loss.
inline constexpr uint64_t kPushdownResponseOverhead = 256;
bool ChoosePushdown(uint64_t selected_bytes, uint64_t stored_bytes, double min_saving);

// The stored size of a chunk the planner has not seen, from what it has seen: chunk_bytes times
// the ratio of stored to decoded bytes observed so far, or times `prior_ratio` before anything
// was observed (or when less than one chunk's worth was).
class CompressionEstimate {
 public:
  void Observe(uint64_t stored_bytes, uint64_t decoded_bytes);
  bool observed() const;
  uint64_t Estimate(uint64_t decoded_bytes, double prior_ratio = 0.5) const;

 private:
  mutable std::mutex mu_;
  uint64_t stored_ = 0;
  uint64_t decoded_ = 0;
};

}  // namespace nimbus::zarr
