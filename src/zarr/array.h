// ZarrArray: a Zarr v3 array on an ObjectStore. Reads and writes any selection (see
// selection.h) into caller buffers, chunk by chunk, with a bounded window of store operations in
// flight. Knows nothing of HDF5.
//
// Reads: missing chunks read as the fill value; uncompressed chunks and shards are read with
// ranged GETs when the planner (planner.h) expects that to be cheaper than whole objects.
// Writes: fully covered chunks are encoded straight from the caller's buffer; partial ones are
// read, modified and written back; chunks that end up all fill are deleted (not stored), unless
// ArrayOptions::write_empty_chunks. A shard is always written whole, once per Write call.
// Metadata changes (resize, attributes) are conditional on the zarr.json ETag when the store
// supports it, so concurrent writers never silently overwrite each other's metadata.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/object_store.h"
#include "zarr/chunk_cache.h"
#include "zarr/codec.h"
#include "zarr/metadata.h"
#include "zarr/planner.h"
#include "zarr/remote.h"
#include "zarr/selection.h"

namespace nimbus::zarr {

struct ArrayOptions {
  std::shared_ptr<ChunkCache> cache;      // decoded chunks; null = no cache
  std::shared_ptr<TransferModel> model;   // shared per store; null = a private one
  size_t max_in_flight = 64;              // chunk or shard operations outstanding at once
  bool write_empty_chunks = false;        // store chunks that are entirely fill
  uint64_t max_merged_request = 16ull << 20;
  // Active storage (remote.h): when set, reads of sparse selections in compressed chunks ask it
  // for the selected elements (planner.h ChoosePushdown, with this min_saving), and Reduce sends
  // it per-chunk reductions. Null = everything is fetched and computed here.
  std::shared_ptr<RemoteSelector> remote;
  double remote_min_saving = 0.5;
};

struct IoStats {
  uint64_t bytes_read = 0;     // payload bytes received from the store
  uint64_t bytes_written = 0;  // payload bytes sent
  uint64_t get_requests = 0;
  uint64_t put_requests = 0;
  uint64_t delete_requests = 0;
  // Active storage: requests answered, result payload bytes received from the server, requests
  // that failed and were done here instead (fallbacks), and the chunks' stored bytes those
  // answers stood in for when known (shards' inner chunks; estimated for unsharded chunks).
  uint64_t remote_requests = 0;
  uint64_t remote_bytes = 0;
  uint64_t remote_fallbacks = 0;
  uint64_t remote_stored_bytes = 0;
};

enum class ReduceOp { kSum, kMin, kMax, kCount };

// The result of ZarrArray::Reduce, numpy's: `values` holds shape's elements in C order, native
// endianness, of the array's type (int64 for count); `count` how many elements contributed to each.
struct ReduceResult {
  std::vector<uint64_t> shape;
  std::string dtype;
  Buffer values;
  std::vector<int64_t> count;
  // How the chunks were computed: by the active storage server, here (no server, unsupported
  // codecs or a fallback), or from the fill value (chunks that are not stored).
  uint64_t remote_chunks = 0;
  uint64_t local_chunks = 0;
  uint64_t fill_chunks = 0;
};

class ZarrArray {
 public:
  enum class CreateMode { kExclusive, kOverwrite };

  // path: the array's key prefix in the store ("" = the store root), without a trailing '/'.
  static Result<std::shared_ptr<ZarrArray>> Open(std::shared_ptr<store::ObjectStore> store,
                                                 std::string path, ArrayOptions options = {});
  static Result<std::shared_ptr<ZarrArray>> Create(std::shared_ptr<store::ObjectStore> store,
                                                   std::string path, ArrayMetadata metadata,
                                                   CreateMode mode = CreateMode::kExclusive,
                                                   ArrayOptions options = {});

  const ArrayMetadata& metadata() const { return metadata_; }
  const std::vector<uint64_t>& shape() const { return metadata_.shape; }
  const DataType& data_type() const { return metadata_.data_type; }
  const std::string& path() const { return path_; }
  std::string Describe() const;  // "s3://bucket/prefix/path" for messages

  // Fixed-size types: `out` holds selection.num_elements() elements of item_size bytes.
  Status Read(const Selection& selection, void* out, Layout layout = Layout::kC);
  Status Write(const Selection& selection, const void* in, Layout layout = Layout::kC);
  // Variable-length types (string, variable_length_bytes).
  Status ReadValues(const Selection& selection, std::string* out, Layout layout = Layout::kC);
  Status WriteValues(const Selection& selection, const std::string* in,
                     Layout layout = Layout::kC);

  // Changes the shape; chunks wholly outside the new shape are deleted, and elements of boundary
  // chunks that fall outside it are reset to the fill value (so growing again shows fill).
  Status Resize(std::vector<uint64_t> new_shape);
  Status SetAttributes(nlohmann::json attributes);
  // Re-reads zarr.json (another writer may have changed it).
  Status Refresh();

  // sum / min / max / count of an orthogonal selection over `axis` (nullopt: every axis; the listed
  // axes are removed from the result, as numpy with keepdims=False). Numeric types only (int and
  // uint 8-64 bits, float16/32/64). Semantics are numpy's with the active storage API's policy
  // (docs/active.md "Numerics"): integer sums wrap in the array's type (numpy.sum(a,
  // dtype=a.dtype)); float sums accumulate in float64 and are rounded to the type; min/max
  // propagate NaN; min/max of nothing is an error (numpy raises). With ArrayOptions::remote, each
  // chunk is reduced by the server (chunks that are not stored contribute the fill value, computed
  // here) and the partial results are combined here; any failure is computed here instead.
  Result<ReduceResult> Reduce(ReduceOp op, const Selection& selection,
                              std::optional<std::vector<size_t>> axis = std::nullopt);

  const ArrayOptions& options() const { return options_; }
  const std::shared_ptr<store::ObjectStore>& store() const { return store_; }

  // The store key of a chunk (or shard) at grid coordinates.
  std::string ChunkKey(std::span<const uint64_t> grid_coords) const;
  IoStats stats() const;

  // Internal (public for the implementation's helpers): the elements of one read or write.
  struct Elements {
    char* fixed = nullptr;             // fixed-size types
    std::string* values = nullptr;     // variable-length types
  };

 private:
  ZarrArray(std::shared_ptr<store::ObjectStore> store, std::string path, ArrayOptions options);
  Status Adopt(ArrayMetadata metadata, std::string etag);
  Status WriteMetadata(bool create_only);
  Status UpdateMetadata(const std::function<void(ArrayMetadata&)>& change);

  std::vector<ChunkPart> SplitForIo(const Selection& selection, Layout layout) const;
  Status ReadImpl(const Selection& selection, Elements out, Layout layout, bool allow_remote = true);
  Status WriteImpl(const Selection& selection, Elements in, Layout layout);
  // Per part, the selection inside its chunk as one strided segment per dimension (relative to the
  // chunk's origin), when push-down is possible at all; empty when not.
  using PartSegments = std::vector<std::optional<std::vector<Segment>>>;
  PartSegments RemoteSegments(const Selection& selection, const std::vector<ChunkPart>& parts,
                              const std::vector<uint64_t>& chunk_shape) const;
  Status ReadUnsharded(const std::vector<ChunkPart>& parts, const PartSegments& segments,
                       Elements out);
  Status ReadSharded(const std::vector<ChunkPart>& parts, const PartSegments& segments,
                     Elements out);
  // The request selecting `segments` of the unit of I/O at `key` (a chunk, or [offset, +size) of
  // a shard).
  RemoteRequest SelectRequest(const std::string& key, const std::vector<Segment>& segments,
                              const std::vector<uint64_t>& chunk_shape) const;
  // Places a select answer's elements at their positions in a chunk-sized buffer and copies the
  // part out of it.
  Status ScatterRemote(const RemoteResult& result, const std::vector<Segment>& segments,
                       const std::vector<uint64_t>& chunk_shape, const ChunkPart& part,
                       Elements out);
  void CountRemote(const RemoteResult& result, uint64_t stored_bytes);
  Status DecodeInto(Result<store::GetResult> fetched, const ChunkPart& part,
                    const std::string& key, size_t item, Elements out);
  Status WriteUnsharded(const std::vector<ChunkPart>& parts, Elements in);
  Status WriteSharded(const std::vector<ChunkPart>& parts, Elements in);

  Future<Result<store::GetResult>> TimedGet(const std::string& key, store::ByteRange range);
  Future<Status> StoreChunk(const std::string& key, Buffer encoded, bool all_fill);
  std::shared_ptr<const ChunkArray> FillChunk();
  ChunkArray CoveredChunkBase(std::span<const uint64_t> chunk_coords);
  std::string CacheKey(const std::string& key) const;

  std::shared_ptr<store::ObjectStore> store_;
  std::string path_;
  ArrayOptions options_;
  ArrayMetadata metadata_;
  std::string etag_;  // of zarr.json as last read or written
  std::shared_ptr<const CodecChain> chain_;
  std::shared_ptr<const ChunkArray> fill_chunk_;
  std::mutex fill_mu_;

  std::atomic<uint64_t> bytes_read_{0}, bytes_written_{0}, gets_{0}, puts_{0}, deletes_{0};
  std::atomic<uint64_t> remote_requests_{0}, remote_bytes_{0}, remote_fallbacks_{0},
      remote_stored_bytes_{0};
  // What the active storage server can decode of this array's unit of I/O (set by Adopt).
  RemoteCodecPlan remote_plan_;
  // Stored/decoded bytes of whole chunks fetched so far, to estimate unseen chunks' stored size.
  CompressionEstimate compression_;
  std::atomic<int> size_samples_{0};  // HEADs spent learning a chunk's stored size
};

// Writes a zarr.json for a group (creating intermediate groups is the caller's business).
Status CreateGroup(store::ObjectStore& store, const std::string& path,
                   const nlohmann::json& attributes = nlohmann::json::object(),
                   bool exclusive = false);
// Reads any node's zarr.json.
Result<NodeMetadata> ReadNode(store::ObjectStore& store, const std::string& path);
// Names of a group's direct children that are arrays or groups (have a zarr.json), sorted.
Result<std::vector<std::string>> ListChildren(store::ObjectStore& store, const std::string& path);
// Deletes a node and everything under it.
Status DeleteNode(store::ObjectStore& store, const std::string& path);

}  // namespace nimbus::zarr
