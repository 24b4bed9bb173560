#include "zarr/array.h"

#include <chrono>
#include <cstring>
#include <deque>
#include <bit>
#include <map>

#include "core/thread_pool.h"

namespace nimbus::zarr {

using store::ByteRange;
using store::GetResult;

namespace {

std::string Join(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "/" + name;
}

ChunkSpec SpecOf(const ArrayMetadata& m, const std::vector<uint64_t>& shape) {
  return ChunkSpec{shape, m.data_type, m.fill_value};
}

// Copies `part` between a decoded chunk and the caller's elements.
void CopyOut(const ChunkArray& chunk, const ChunkPart& part, size_t item,
             ZarrArray::Elements out) {
  if (out.values != nullptr) {
    CopyToBuffer(chunk.values.data(), out.values, part.runs);
  } else {
    CopyToBuffer(chunk.data.data(), out.fixed, item, part.runs);
  }
}

void CopyIn(ZarrArray::Elements in, const ChunkPart& part, size_t item, ChunkArray& chunk) {
  if (in.values != nullptr) {
    CopyFromBuffer(in.values, chunk.values.data(), part.runs);
  } else {
    CopyFromBuffer(in.fixed, chunk.data.data(), item, part.runs);
  }
}

ChunkArray CloneChunk(const ChunkArray& c) {
  ChunkArray out;
  out.shape = c.shape;
  out.data = Buffer::CopyOf(c.data.view());
  out.values = c.values;
  return out;
}

template <typename T>
Future<Status> ToStatus(Future<Result<T>> f) {
  Promise<Status> p;
  auto out = p.future();
  f.Then([p](Result<T>& r) { p.Set(r.status()); });
  return out;
}

}  // namespace

// --- Opening and metadata ------------------------------------------------------------------------

ZarrArray::ZarrArray(std::shared_ptr<store::ObjectStore> store, std::string path,
                     ArrayOptions options)
    : store_(std::move(store)), path_(std::move(path)), options_(std::move(options)) {
  if (!options_.model) options_.model = std::make_shared<TransferModel>();
  if (options_.max_in_flight == 0) options_.max_in_flight = 1;
}

std::string ZarrArray::Describe() const {
  std::string where = store_->Describe();
  if (!path_.empty()) where += (where.ends_with("/") ? "" : "/") + path_;
  return where;
}

Status ZarrArray::Adopt(ArrayMetadata metadata, std::string etag) {
  ChunkSpec spec = SpecOf(metadata, metadata.chunk_shape);
  auto chain = CodecChain::FromJson(metadata.codecs, spec);
  if (!chain.ok()) return chain.status().WithContext("array " + Describe());
  chain_ = std::make_shared<const CodecChain>(std::move(chain).value());
  remote_plan_ = PlanRemoteCodecs(chain_->sharding() ? chain_->sharding()->inner_chain() : *chain_,
                                  metadata.data_type);
  metadata_ = std::move(metadata);
  etag_ = std::move(etag);
  std::lock_guard lock(fill_mu_);
  fill_chunk_.reset();
  return Status::Ok();
}

Result<std::shared_ptr<ZarrArray>> ZarrArray::Open(std::shared_ptr<store::ObjectStore> store,
                                                   std::string path, ArrayOptions options) {
  std::shared_ptr<ZarrArray> array(new ZarrArray(std::move(store), std::move(path), options));
  NIMBUS_RETURN_IF_ERROR(array->Refresh());
  return array;
}

Status ZarrArray::Refresh() {
  auto got = store_->GetSync(Join(path_, "zarr.json"));
  if (!got.ok()) {
    if (got.status().kind() == ErrorKind::kNotFound) {
      return Status(ErrorKind::kNotFound, "no Zarr array at " + Describe() + " (no zarr.json)");
    }
    return got.status();
  }
  auto node = ParseNodeMetadata(got->data.view());
  if (!node.ok()) return node.status().WithContext(Describe() + "/zarr.json");
  if (!std::holds_alternative<ArrayMetadata>(*node)) {
    return InvalidArgumentError(Describe() + " is a group, not an array");
  }
  return Adopt(std::get<ArrayMetadata>(std::move(*node)), got->info.etag);
}

Result<std::shared_ptr<ZarrArray>> ZarrArray::Create(std::shared_ptr<store::ObjectStore> store,
                                                     std::string path, ArrayMetadata metadata,
                                                     CreateMode mode, ArrayOptions options) {
  if (metadata.shape.size() != metadata.chunk_shape.size()) {
    return InvalidArgumentError("chunk shape rank differs from the array's rank");
  }
  for (uint64_t c : metadata.chunk_shape) {
    if (c == 0) return InvalidArgumentError("chunk dimensions must be positive");
  }
  std::shared_ptr<ZarrArray> array(new ZarrArray(store, path, options));
  NIMBUS_RETURN_IF_ERROR(array->Adopt(std::move(metadata), ""));
  if (mode == CreateMode::kOverwrite) {
    NIMBUS_RETURN_IF_ERROR(DeleteNode(*store, path));
    if (options.cache) options.cache->EraseWithPrefix(array->CacheKey(Join(path, "")));
  }
  NIMBUS_RETURN_IF_ERROR(array->WriteMetadata(/*create_only=*/mode == CreateMode::kExclusive));
  return array;
}

Status ZarrArray::WriteMetadata(bool create_only) {
  store::PutOptions put;
  put.content_type = "application/json";
  bool conditional = store_->Capabilities().conditional_put;
  if (create_only) {
    if (conditional) {
      put.if_none_match_any = true;
    } else if (store_->HeadSync(Join(path_, "zarr.json")).ok()) {
      return Status(ErrorKind::kPreconditionFailed, Describe() + " already exists");
    }
  } else if (conditional && !etag_.empty()) {
    put.if_match = etag_;
  }
  auto r = store_->PutSync(Join(path_, "zarr.json"), metadata_.Serialize(), put);
  if (!r.ok()) {
    if (r.status().kind() == ErrorKind::kPreconditionFailed) {
      return Status(ErrorKind::kPreconditionFailed,
                    create_only ? Describe() + " already exists"
                                : "zarr.json of " + Describe() +
                                      " was changed by another writer; refresh and retry");
    }
    return r.status();
  }
  etag_ = r->etag;
  puts_++;
  return Status::Ok();
}

// Applies `change` to the current metadata and writes it conditionally; when another writer got
// there first, reloads and re-applies (a few times) rather than overwriting their change.
Status ZarrArray::UpdateMetadata(const std::function<void(ArrayMetadata&)>& change) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    ArrayMetadata updated = metadata_;
    change(updated);
    ArrayMetadata previous = metadata_;
    metadata_ = updated;
    Status s = WriteMetadata(false);
    if (s.ok()) return Adopt(std::move(updated), etag_);
    metadata_ = std::move(previous);
    if (s.kind() != ErrorKind::kPreconditionFailed) return s;
    NIMBUS_RETURN_IF_ERROR(Refresh());
  }
  return Status(ErrorKind::kPreconditionFailed,
                "zarr.json of " + Describe() + " keeps changing under concurrent writers");
}

Status ZarrArray::SetAttributes(nlohmann::json attributes) {
  if (!attributes.is_object()) return InvalidArgumentError("attributes must be a JSON object");
  return UpdateMetadata([&](ArrayMetadata& m) { m.attributes = attributes; });
}

std::string ZarrArray::ChunkKey(std::span<const uint64_t> grid_coords) const {
  return Join(path_, metadata_.chunk_key_encoding.Key(grid_coords));
}

std::string ZarrArray::CacheKey(const std::string& key) const {
  return store_->Describe() + "|" + key;
}

IoStats ZarrArray::stats() const {
  IoStats s{bytes_read_.load(), bytes_written_.load(), gets_.load(), puts_.load(),
             deletes_.load()};
  s.remote_requests = remote_requests_.load();
  s.remote_bytes = remote_bytes_.load();
  s.remote_fallbacks = remote_fallbacks_.load();
  s.remote_stored_bytes = remote_stored_bytes_.load();
  return s;
}

// The starting contents of a chunk the write covers entirely: interior chunks are overwritten
// completely, so their bytes need no initialisation; edge chunks keep fill beyond the array.
ChunkArray ZarrArray::CoveredChunkBase(std::span<const uint64_t> chunk_coords) {
  bool interior = true;
  for (size_t d = 0; d < chunk_coords.size(); ++d) {
    if ((chunk_coords[d] + 1) * metadata_.chunk_shape[d] > metadata_.shape[d]) interior = false;
  }
  if (!interior || metadata_.data_type.variable_length()) return CloneChunk(*FillChunk());
  ChunkArray chunk;
  chunk.shape = metadata_.chunk_shape;
  chunk.data = Buffer::Allocate(SpecOf(metadata_, metadata_.chunk_shape).num_bytes());
  return chunk;
}

std::shared_ptr<const ChunkArray> ZarrArray::FillChunk() {
  std::lock_guard lock(fill_mu_);
  if (!fill_chunk_) {
    fill_chunk_ = std::make_shared<const ChunkArray>(
        ChunkArray::Filled(SpecOf(metadata_, metadata_.chunk_shape)));
  }
  return fill_chunk_;
}

// --- Store access --------------------------------------------------------------------------------

Future<Result<GetResult>> ZarrArray::TimedGet(const std::string& key, ByteRange range) {
  gets_++;
  auto start = std::chrono::steady_clock::now();
  // A chained future: the measurement is taken here, and the caller may attach its own
  // continuation to what this returns.
  Promise<Result<GetResult>> promise;
  auto out = promise.future();
  auto model = options_.model;
  store_->Get(key, range).Then([this, model, start, promise](Result<GetResult>& r) {
    if (r.ok()) {
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      model->Observe(r->data.size(), s);
      bytes_read_ += r->data.size();
    }
    promise.Set(std::move(r));
  });
  return out;
}

Future<Status> ZarrArray::StoreChunk(const std::string& key, Buffer encoded, bool all_fill) {
  if (options_.cache) options_.cache->Erase(CacheKey(key));
  if ((all_fill && !options_.write_empty_chunks) || encoded.empty()) {
    deletes_++;
    return store_->Delete(key);
  }
  puts_++;
  bytes_written_ += encoded.size();
  return ToStatus(store_->Put(key, std::move(encoded)));
}

// --- Reads ---------------------------------------------------------------------------------------

Status ZarrArray::Read(const Selection& selection, void* out, Layout layout) {
  if (metadata_.data_type.variable_length()) {
    return InvalidArgumentError(Describe() + " holds variable-length " +
                                metadata_.data_type.name + " values: use ReadValues");
  }
  return ReadImpl(selection, Elements{static_cast<char*>(out), nullptr}, layout);
}

Status ZarrArray::ReadValues(const Selection& selection, std::string* out, Layout layout) {
  if (!metadata_.data_type.variable_length()) {
    return InvalidArgumentError(Describe() + " holds fixed-size values: use Read");
  }
  return ReadImpl(selection, Elements{nullptr, out}, layout);
}

// The selection split over the grid the I/O works on: shards' inner chunks, or chunks.
std::vector<ChunkPart> ZarrArray::SplitForIo(const Selection& selection, Layout layout) const {
  const ShardingCodec* sharding = chain_->sharding();
  return SplitByChunk(selection, metadata_.shape,
                      sharding ? sharding->inner_chunk_shape() : metadata_.chunk_shape, layout);
}

Status ZarrArray::ReadImpl(const Selection& selection, Elements out, Layout layout,
                           bool allow_remote) {
  NIMBUS_RETURN_IF_ERROR(selection.Validate(metadata_.shape).WithContext("reading " + Describe()));
  if (selection.num_elements() == 0) return Status::Ok();
  auto parts = SplitForIo(selection, layout);
  // Selection push-down is for compressed chunks (uncompressed ones are already read by ranges)
  // of types the server knows, and orthogonal selections (one strided slice per dimension and
  // chunk is what the API can express).
  PartSegments segments;
  if (allow_remote && options_.remote && remote_plan_.supported &&
      !remote_plan_.compression.empty() &&
      out.fixed != nullptr && !selection.is_points()) {
    const ShardingCodec* sharding = chain_->sharding();
    segments = RemoteSegments(selection, parts,
                              sharding ? sharding->inner_chunk_shape() : metadata_.chunk_shape);
  }
  return chain_->sharding() ? ReadSharded(parts, segments, out)
                            : ReadUnsharded(parts, segments, out);
}

ZarrArray::PartSegments ZarrArray::RemoteSegments(const Selection& selection,
                                                  const std::vector<ChunkPart>& parts,
                                                  const std::vector<uint64_t>& chunk_shape) const {
  PartSegments out(parts.size());
  const size_t rank = metadata_.rank();
  for (size_t i = 0; i < parts.size(); ++i) {
    std::vector<Segment> segs(rank);
    bool single = true;
    for (size_t d = 0; d < rank && single; ++d) {
      const uint64_t lo = parts[i].chunk_coords[d] * chunk_shape[d];
      const uint64_t hi = std::min(lo + chunk_shape[d], metadata_.shape[d]);
      int n = 0;
      selection.dims()[d].ForEachIn(lo, hi, [&](Segment s, uint64_t) {
        if (n++ == 0) segs[d] = Segment{s.start - lo, s.count > 1 ? s.stride : 1, s.count};
      });
      single = n == 1;
    }
    if (single) out[i] = std::move(segs);
  }
  return out;
}

RemoteRequest ZarrArray::SelectRequest(const std::string& key, const std::vector<Segment>& segments,
                                       const std::vector<uint64_t>& chunk_shape) const {
  RemoteRequest r;
  r.op = RemoteOp::kSelect;
  r.key = key;
  r.dtype = remote_plan_.dtype;
  r.big_endian = remote_plan_.big_endian;
  r.compression = remote_plan_.compression;
  r.shuffle = remote_plan_.shuffle;
  const size_t rank = chunk_shape.size();
  for (size_t i = 0; i < rank; ++i) {
    // The stored array is the transposed chunk: describe it as it is stored, in C order.
    const size_t d = remote_plan_.transpose.empty() ? i : remote_plan_.transpose[i];
    const Segment& s = segments[d];
    r.shape.push_back(chunk_shape[d]);
    r.selection.push_back(RemoteSlice{static_cast<int64_t>(s.start),
                                      static_cast<int64_t>(s.start + (s.count - 1) * s.stride + 1),
                                      static_cast<int64_t>(s.stride)});
  }
  return r;
}

Status ZarrArray::ScatterRemote(const RemoteResult& result, const std::vector<Segment>& segments,
                                const std::vector<uint64_t>& chunk_shape, const ChunkPart& part,
                                Elements out) {
  const size_t item = metadata_.data_type.item_size;
  const size_t rank = chunk_shape.size();
  if (std::endian::native != std::endian::little) {
    return UnimplementedError("active storage answers are little-endian; this host is not");
  }
  // Checked before anything is copied: an answer of the wrong size or type is a failure (the
  // caller falls back), never elements in the wrong places.
  uint64_t n = 1;
  std::vector<uint64_t> expected_shape;
  for (size_t i = 0; i < rank; ++i) {
    const size_t d = remote_plan_.transpose.empty() ? i : remote_plan_.transpose[i];
    n *= segments[d].count;
    expected_shape.push_back(segments[d].count);
  }
  if (result.dtype != remote_plan_.dtype || result.bytes.size() != n * item ||
      (result.shape != expected_shape && !(rank == 0 && result.shape.empty()))) {
    return PermanentError("active storage answered " + std::to_string(result.bytes.size()) +
                          " bytes of " + result.dtype + " for " + std::to_string(n) +
                          " elements of " + remote_plan_.dtype);
  }
  std::vector<uint64_t> cstride(rank, 1);
  for (size_t d = rank; d-- > 1;) cstride[d - 1] = cstride[d] * chunk_shape[d];
  // Per answer dimension i (C order of the answer): first chunk element and step.
  std::vector<uint64_t> base(rank), step(rank), count(rank), idx(rank, 0);
  uint64_t pos = 0;
  for (size_t i = 0; i < rank; ++i) {
    const size_t d = remote_plan_.transpose.empty() ? i : remote_plan_.transpose[i];
    base[i] = segments[d].start * cstride[d];
    step[i] = segments[d].stride * cstride[d];
    count[i] = segments[d].count;
    pos += base[i];
  }
  ChunkArray scratch;
  scratch.shape = chunk_shape;
  uint64_t chunk_elements = 1;
  for (uint64_t c : chunk_shape) chunk_elements *= c;
  scratch.data = Buffer::Allocate(chunk_elements * item);
  const char* src = result.bytes.data();
  char* dst = scratch.data.data();
  for (uint64_t e = 0; e < n; ++e) {
    std::memcpy(dst + pos * item, src + e * item, item);
    // Odometer over the answer's dimensions, last fastest.
    for (size_t i = rank; i-- > 0;) {
      if (++idx[i] < count[i]) {
        pos += step[i];
        break;
      }
      pos -= step[i] * (count[i] - 1);
      idx[i] = 0;
    }
  }
  CopyOut(scratch, part, item, out);
  return Status::Ok();
}

void ZarrArray::CountRemote(const RemoteResult& result, uint64_t stored_bytes) {
  remote_requests_++;
  remote_bytes_ += result.wire_bytes != 0 ? result.wire_bytes : result.bytes.size();
  remote_stored_bytes_ += stored_bytes;
}

Status ZarrArray::ReadUnsharded(const std::vector<ChunkPart>& parts, const PartSegments& segments,
                                Elements out) {
  const size_t item = metadata_.data_type.item_size;
  const ChunkSpec spec = SpecOf(metadata_, metadata_.chunk_shape);
  const uint64_t chunk_bytes = spec.num_bytes();
  // Ranged reads only make sense when stored bytes are the elements themselves.
  const bool raw = chain_->IsRawNative() && !metadata_.data_type.variable_length();

  struct Pending {
    size_t part;
    std::string key;
    Future<Status> whole;  // fetched, decoded and copied (on the pool)
    Future<Result<std::vector<Buffer>>> ranged;
    std::vector<MergedRange> merged;  // for ranged reads
    Future<Result<RemoteResult>> remote;  // selection pushed to the active storage server
    uint64_t remote_stored = 0;           // estimated stored bytes it stands in for
  };
  std::deque<Pending> window;
  Status first_error;
  size_t next = 0;

  auto start_part = [&](size_t i) -> bool {
    const ChunkPart& part = parts[i];
    std::string key = ChunkKey(part.chunk_coords);
    if (options_.cache) {
      if (auto hit = options_.cache->Find(CacheKey(key))) {
        CopyOut(*hit, part, item, out);
        return false;
      }
    }
    Pending p{i, key, {}, {}, {}, {}, 0};
    // The unsharded chunk's stored size is unknown until fetched (a crc32c suffix would need it):
    // estimate it from the chunks seen so far, after one HEAD if none was seen yet.
    if (i < segments.size() && segments[i] && !part.covers_chunk &&
        remote_plan_.trailing_bytes == 0) {
      if (!compression_.observed() && size_samples_.fetch_add(1) < 3) {
        auto head = store_->HeadSync(key);
        if (head.ok()) compression_.Observe(head->size, chunk_bytes);
      }
      const uint64_t stored = compression_.Estimate(chunk_bytes);
      if (ChoosePushdown(part.num_elements * item, stored, options_.remote_min_saving)) {
        p.remote = options_.remote->Submit(SelectRequest(key, *segments[i], metadata_.chunk_shape));
        p.remote_stored = stored;
        window.push_back(std::move(p));
        return true;
      }
    }
    if (raw && !part.covers_chunk) {
      // The byte spans of the elements wanted; coalesced by the measured break-even gap.
      std::vector<ByteSpan> spans;
      uint64_t useful = 0;
      for (const CopyRun& r : part.runs) {
        uint64_t first = r.chunk_elem * item;
        uint64_t len = ((r.length - 1) * r.chunk_stride + 1) * item;
        if (r.chunk_stride > 1) {
          for (uint64_t k = 0; k < r.length; ++k) {
            spans.push_back(ByteSpan{(r.chunk_elem + k * r.chunk_stride) * item, item});
          }
        } else {
          spans.push_back(ByteSpan{first, len});
        }
        useful += r.length * item;
      }
      CoalesceOptions co;
      co.max_gap = PlannedGap(*options_.model, useful, spans.size());
      co.max_merged = options_.max_merged_request;
      auto merged = CoalesceRanges(spans, co);
      uint64_t ranged_bytes = 0;
      for (const auto& m : merged) ranged_bytes += m.span.length;
      // The chunks of one read share the request window, so each gets its share of parallelism:
      // many small ranges per chunk across many chunks cost more round trips than whole chunks.
      const size_t share = std::max<size_t>(1, options_.max_in_flight / parts.size());
      if (!ChooseWholeObject(*options_.model, chunk_bytes, ranged_bytes, merged.size(), share)) {
        std::vector<ByteRange> ranges;
        for (const auto& m : merged) ranges.push_back(ByteRange::Range(m.span.offset, m.span.length));
        gets_ += ranges.size();
        auto start = std::chrono::steady_clock::now();
        p.ranged = store_->GetRanges(key, std::move(ranges));
        auto model = options_.model;
        p.ranged.Then([this, model, start, n = merged.size()](Result<std::vector<Buffer>>& r) {
          if (!r.ok()) return;
          uint64_t bytes = 0;
          for (const auto& b : *r) bytes += b.size();
          bytes_read_ += bytes;
          double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          model->Observe(bytes / std::max<size_t>(n, 1), s);
        });
        p.merged = std::move(merged);
        window.push_back(std::move(p));
        return true;
      }
    }
    // Decoding and copying run on the worker pool as soon as the bytes arrive, so chunks decode in
    // parallel and the caller only waits. Parts write disjoint elements of `out`.
    Promise<Status> done;
    p.whole = done.future();
    TimedGet(key, ByteRange::All()).Then([this, done, &part, key, item, out](Result<GetResult>& r) {
      auto fetched = std::make_shared<Result<GetResult>>(std::move(r));
      ThreadPool::Shared().Submit([this, done, &part, key, item, out, fetched] {
        done.Set(DecodeInto(std::move(*fetched), part, key, item, out));
      });
    });
    window.push_back(std::move(p));
    return true;
  };

  auto finish = [&](Pending& p) -> Status {
    const ChunkPart& part = parts[p.part];
    if (p.remote.valid()) {
      auto r = p.remote.Get();
      Status failed;
      if (r.ok()) {
        failed = ScatterRemote(*r, *segments[p.part], metadata_.chunk_shape, part, out);
        if (failed.ok()) {
          CountRemote(*r, p.remote_stored);
          return Status::Ok();
        }
      } else if (r.status().kind() == ErrorKind::kNotFound) {
        CopyOut(*FillChunk(), part, item, out);
        return Status::Ok();
      } else {
        failed = r.status();
      }
      // Never a wrong answer and never a failed read because of the server: read it here.
      remote_fallbacks_++;
      options_.remote->ReportFallback(failed);
      return DecodeInto(TimedGet(p.key, ByteRange::All()).Get(), part, p.key, item, out);
    }
    if (p.ranged.valid()) {
      auto r = p.ranged.Get();
      if (!r.ok()) {
        if (r.status().kind() == ErrorKind::kNotFound) {
          CopyOut(*FillChunk(), part, item, out);
          return Status::Ok();
        }
        return r.status().WithContext("reading " + Describe());
      }
      // Place the fetched spans in a chunk-sized scratch buffer (only those bytes are touched),
      // then copy with the common kernel.
      ChunkArray scratch;
      scratch.shape = metadata_.chunk_shape;
      scratch.data = Buffer::Allocate(chunk_bytes);
      for (size_t m = 0; m < p.merged.size(); ++m) {
        const Buffer& b = (*r)[m];
        uint64_t off = p.merged[m].span.offset;
        if (off >= chunk_bytes) continue;
        uint64_t n = std::min<uint64_t>(b.size(), chunk_bytes - off);
        if (n < std::min<uint64_t>(p.merged[m].span.length, chunk_bytes - off)) {
          return PermanentError("chunk " + p.key + " of " + Describe() + " is shorter than " +
                                std::to_string(chunk_bytes) + " bytes: not a valid raw chunk");
        }
        std::memcpy(scratch.data.data() + off, b.data(), n);
      }
      CopyOut(scratch, part, item, out);
      return Status::Ok();
    }
    return p.whole.Get();
  };

  while (next < parts.size() || !window.empty()) {
    while (first_error.ok() && next < parts.size() && window.size() < options_.max_in_flight) {
      start_part(next++);
    }
    if (window.empty()) break;
    Pending p = std::move(window.front());
    window.pop_front();
    Status s = finish(p);
    if (!s.ok() && first_error.ok()) first_error = s;
    if (!first_error.ok()) next = parts.size();  // stop issuing; drain what is in flight
  }
  return first_error;
}

Status ZarrArray::DecodeInto(Result<GetResult> fetched, const ChunkPart& part,
                             const std::string& key, size_t item, Elements out) {
  if (!fetched.ok()) {
    if (fetched.status().kind() == ErrorKind::kNotFound) {
      CopyOut(*FillChunk(), part, item, out);
      return Status::Ok();
    }
    return fetched.status().WithContext("reading " + Describe());
  }
  const uint64_t stored = fetched->data.size();
  auto decoded = chain_->Decode(std::move(fetched->data));
  if (!decoded.ok()) return decoded.status().WithContext("decoding chunk " + key);
  if (!metadata_.data_type.variable_length()) {
    compression_.Observe(stored, SpecOf(metadata_, metadata_.chunk_shape).num_bytes());
  }
  CopyOut(*decoded, part, item, out);
  if (options_.cache) {
    options_.cache->Insert(CacheKey(key),
                           std::make_shared<const ChunkArray>(std::move(decoded).value()));
  }
  return Status::Ok();
}

Status ZarrArray::ReadSharded(const std::vector<ChunkPart>& parts, const PartSegments& segments,
                              Elements out) {
  const ShardingCodec& sharding = *chain_->sharding();
  const size_t item = metadata_.data_type.item_size;
  const size_t rank = metadata_.rank();
  const ChunkSpec inner_spec = SpecOf(metadata_, sharding.inner_chunk_shape());
  const auto& grid = sharding.inner_grid();

  // Group the inner-chunk parts by shard.
  struct ShardWork {
    std::vector<uint64_t> shard_coords;
    std::vector<std::pair<uint64_t, size_t>> inner;  // (inner index in shard, part index)
    std::string key;
  };
  std::map<std::vector<uint64_t>, ShardWork> shards;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::vector<uint64_t> sc(rank);
    uint64_t inner_index = 0;
    for (size_t d = 0; d < rank; ++d) {
      sc[d] = parts[i].chunk_coords[d] / grid[d];
      inner_index = inner_index * grid[d] + parts[i].chunk_coords[d] % grid[d];
    }
    ShardWork& w = shards[sc];
    w.shard_coords = sc;
    w.inner.emplace_back(inner_index, i);
  }
  std::vector<ShardWork> work;
  for (auto& [coords, w] : shards) {
    w.key = ChunkKey(w.shard_coords);
    work.push_back(std::move(w));
  }

  auto decode_inner = [&](std::string_view bytes, size_t part_index,
                          const std::string& key) -> Status {
    auto decoded = sharding.inner_chain().Decode(Buffer::CopyOf(bytes));
    if (!decoded.ok()) return decoded.status().WithContext("decoding an inner chunk of " + key);
    CopyOut(*decoded, parts[part_index], item, out);
    return Status::Ok();
  };
  auto fill_inner = [&](size_t part_index) {
    CopyOut(ChunkArray::Filled(inner_spec), parts[part_index], item, out);
  };

  // In batches: the indexes of a batch of shards in one parallel round, then their entries.
  const uint64_t index_size = sharding.encoded_index_size();
  for (size_t batch = 0; batch < work.size(); batch += options_.max_in_flight) {
    size_t end = std::min(work.size(), batch + options_.max_in_flight);
    std::vector<Future<Result<GetResult>>> index_reads;
    for (size_t s = batch; s < end; ++s) {
      ByteRange range = sharding.index_location() == ShardingCodec::IndexLocation::kEnd
                            ? ByteRange::Suffix(index_size)
                            : ByteRange::Range(0, index_size);
      index_reads.push_back(TimedGet(work[s].key, range));
    }
    struct EntryRead {
      size_t shard;
      std::vector<MergedRange> merged;
      std::vector<ByteSpan> spans;  // per wanted inner chunk (index into ShardWork::inner)
      Future<Result<std::vector<Buffer>>> data;
    };
    std::vector<EntryRead> entry_reads;
    // Inner chunks whose selected elements the active storage server sends instead.
    struct RemoteRead {
      size_t part;
      std::string key;
      ShardingCodec::IndexEntry entry;
      Future<Result<RemoteResult>> result;
    };
    std::vector<RemoteRead> remote_reads;
    for (size_t s = batch; s < end; ++s) {
      auto idx = index_reads[s - batch].Get();
      ShardWork& w = work[s];
      if (!idx.ok()) {
        if (idx.status().kind() != ErrorKind::kNotFound) {
          return idx.status().WithContext("reading the shard index of " + w.key);
        }
        for (auto& [inner, part] : w.inner) fill_inner(part);
        continue;
      }
      if (idx->data.size() != index_size) {
        return PermanentError("shard " + w.key + " of " + Describe() + " is too short (" +
                              std::to_string(idx->info.size) + " bytes) for its index");
      }
      auto entries = sharding.DecodeIndex(std::move(idx->data));
      if (!entries.ok()) return entries.status().WithContext("shard " + w.key);
      EntryRead er;
      er.shard = s;
      uint64_t useful = 0;
      std::vector<size_t> wanted;  // position in w.inner
      for (size_t k = 0; k < w.inner.size(); ++k) {
        const auto& e = (*entries)[w.inner[k].first];
        if (e.missing()) {
          fill_inner(w.inner[k].second);
          continue;
        }
        // The index gives the inner chunk's stored size exactly, so the push-down rule is exact.
        const size_t pi = w.inner[k].second;
        const uint64_t trailing = remote_plan_.trailing_bytes;
        if (pi < segments.size() && segments[pi] && !parts[pi].covers_chunk &&
            e.nbytes > trailing &&
            ChoosePushdown(parts[pi].num_elements * item, e.nbytes, options_.remote_min_saving)) {
          RemoteRequest req = SelectRequest(w.key, *segments[pi], sharding.inner_chunk_shape());
          req.offset = e.offset;
          req.size = e.nbytes - trailing;
          remote_reads.push_back(RemoteRead{pi, w.key, e, options_.remote->Submit(std::move(req))});
          continue;
        }
        er.spans.push_back(ByteSpan{e.offset, e.nbytes});
        wanted.push_back(k);
        useful += e.nbytes;
      }
      if (er.spans.empty()) continue;
      CoalesceOptions co;
      co.max_gap = PlannedGap(*options_.model, useful, er.spans.size());
      co.max_merged = options_.max_merged_request;
      er.merged = CoalesceRanges(er.spans, co);
      std::vector<ByteRange> ranges;
      for (const auto& m : er.merged) ranges.push_back(ByteRange::Range(m.span.offset, m.span.length));
      gets_ += ranges.size();
      er.data = store_->GetRanges(w.key, std::move(ranges));
      // Remember which part each span feeds: reuse `spans` order = `wanted` order.
      std::vector<std::pair<uint64_t, size_t>> kept;
      for (size_t k : wanted) kept.push_back(w.inner[k]);
      w.inner = std::move(kept);
      entry_reads.push_back(std::move(er));
    }
    for (auto& er : entry_reads) {
      ShardWork& w = work[er.shard];
      auto data = er.data.Get();
      if (!data.ok()) return data.status().WithContext("reading inner chunks of " + w.key);
      for (size_t m = 0; m < er.merged.size(); ++m) {
        const Buffer& b = (*data)[m];
        bytes_read_ += b.size();
        for (size_t member : er.merged[m].members) {
          const ByteSpan& span = er.spans[member];
          uint64_t rel = span.offset - er.merged[m].span.offset;
          if (rel + span.length > b.size()) {
            return PermanentError("shard " + w.key + " is shorter than its index says");
          }
          NIMBUS_RETURN_IF_ERROR(decode_inner(b.view().substr(rel, span.length),
                                              w.inner[member].second, w.key));
        }
      }
    }
    for (auto& rr : remote_reads) {
      auto r = rr.result.Get();
      Status failed = r.ok() ? ScatterRemote(*r, *segments[rr.part], sharding.inner_chunk_shape(),
                                             parts[rr.part], out)
                             : r.status();
      if (failed.ok()) {
        CountRemote(*r, rr.entry.nbytes);
        continue;
      }
      // The shard's index named this inner chunk, so even "not found" (a concurrent rewrite) is
      // settled by reading it here.
      remote_fallbacks_++;
      options_.remote->ReportFallback(failed);
      auto got = TimedGet(rr.key, ByteRange::Range(rr.entry.offset, rr.entry.nbytes)).Get();
      if (!got.ok()) return got.status().WithContext("reading an inner chunk of " + rr.key);
      if (got->data.size() != rr.entry.nbytes) {
        return PermanentError("shard " + rr.key + " is shorter than its index says");
      }
      NIMBUS_RETURN_IF_ERROR(decode_inner(got->data.view(), rr.part, rr.key));
    }
  }
  return Status::Ok();
}

// --- Writes --------------------------------------------------------------------------------------

Status ZarrArray::Write(const Selection& selection, const void* in, Layout layout) {
  if (metadata_.data_type.variable_length()) {
    return InvalidArgumentError(Describe() + " holds variable-length " +
                                metadata_.data_type.name + " values: use WriteValues");
  }
  return WriteImpl(selection, Elements{const_cast<char*>(static_cast<const char*>(in)), nullptr},
                   layout);
}

Status ZarrArray::WriteValues(const Selection& selection, const std::string* in, Layout layout) {
  if (!metadata_.data_type.variable_length()) {
    return InvalidArgumentError(Describe() + " holds fixed-size values: use Write");
  }
  return WriteImpl(selection, Elements{nullptr, const_cast<std::string*>(in)}, layout);
}

Status ZarrArray::WriteImpl(const Selection& selection, Elements in, Layout layout) {
  NIMBUS_RETURN_IF_ERROR(selection.Validate(metadata_.shape).WithContext("writing " + Describe()));
  if (selection.num_elements() == 0) return Status::Ok();
  auto parts = SplitForIo(selection, layout);
  return chain_->sharding() ? WriteSharded(parts, in) : WriteUnsharded(parts, in);
}

Status ZarrArray::WriteUnsharded(const std::vector<ChunkPart>& parts, Elements in) {
  const size_t item = metadata_.data_type.item_size;
  const ChunkSpec spec = SpecOf(metadata_, metadata_.chunk_shape);

  struct Pending {
    size_t part;
    std::string key;
    Future<Result<GetResult>> read;  // valid while the old chunk is being fetched
    Future<Status> write;
  };
  std::deque<Pending> window;
  Status first_error;
  size_t next = 0;

  // Builds the new chunk from `base` (old contents or fill) plus the caller's elements, and
  // stores it (or deletes it when it became all fill).
  auto store_chunk = [&](Pending& p, ChunkArray chunk) -> Status {
    CopyIn(in, parts[p.part], item, chunk);
    bool all_fill = chunk.IsAllFill(spec);
    std::shared_ptr<const ChunkArray> cached;
    if (options_.cache && !all_fill) cached = std::make_shared<const ChunkArray>(CloneChunk(chunk));
    auto encoded = chain_->Encode(std::move(chunk));
    if (!encoded.ok()) return encoded.status().WithContext("encoding chunk " + p.key);
    p.write = StoreChunk(p.key, std::move(encoded).value(), all_fill);
    if (cached) options_.cache->Insert(CacheKey(p.key), std::move(cached));
    return Status::Ok();
  };

  while (next < parts.size() || !window.empty()) {
    while (first_error.ok() && next < parts.size() && window.size() < options_.max_in_flight) {
      const ChunkPart& part = parts[next];
      Pending p{next++, ChunkKey(part.chunk_coords), {}, {}};
      if (part.covers_chunk) {
        Status s = store_chunk(p, CoveredChunkBase(part.chunk_coords));
        if (!s.ok()) {
          first_error = s;
          break;
        }
      } else {
        std::shared_ptr<const ChunkArray> hit;
        if (options_.cache) hit = options_.cache->Find(CacheKey(p.key));
        if (hit) {
          Status s = store_chunk(p, CloneChunk(*hit));
          if (!s.ok()) {
            first_error = s;
            break;
          }
        } else {
          p.read = TimedGet(p.key, ByteRange::All());
        }
      }
      window.push_back(std::move(p));
    }
    if (window.empty()) break;
    Pending p = std::move(window.front());
    window.pop_front();
    if (p.read.valid()) {
      // Read-modify-write: the old chunk (or fill when absent) under the new elements.
      auto old = p.read.Get();
      ChunkArray base;
      if (old.ok()) {
        auto decoded = chain_->Decode(std::move(old->data));
        if (!decoded.ok()) {
          if (first_error.ok()) first_error = decoded.status().WithContext("decoding chunk " + p.key);
          continue;
        }
        base = std::move(decoded).value();
      } else if (old.status().kind() == ErrorKind::kNotFound) {
        base = CloneChunk(*FillChunk());
      } else {
        if (first_error.ok()) first_error = old.status().WithContext("writing " + Describe());
        continue;
      }
      p.read = {};
      Status s = store_chunk(p, std::move(base));
      if (!s.ok()) {
        if (first_error.ok()) first_error = s;
        continue;
      }
      window.push_back(std::move(p));  // now waiting for its write
      continue;
    }
    Status s = p.write.Get();
    if (!s.ok() && first_error.ok()) first_error = s.WithContext("writing " + Describe());
  }
  return first_error;
}

Status ZarrArray::WriteSharded(const std::vector<ChunkPart>& parts, Elements in) {
  const ShardingCodec& sharding = *chain_->sharding();
  const size_t item = metadata_.data_type.item_size;
  const size_t rank = metadata_.rank();
  const ChunkSpec inner_spec = SpecOf(metadata_, sharding.inner_chunk_shape());
  const auto& grid = sharding.inner_grid();
  const auto& inner_shape = sharding.inner_chunk_shape();
  const uint64_t n_inner = sharding.num_inner_chunks();

  struct ShardWork {
    std::vector<uint64_t> shard_coords;
    std::map<uint64_t, size_t> parts;  // inner index -> part index
    std::string key;
    bool complete = true;  // every inner chunk inside the array is fully written
  };
  std::map<std::vector<uint64_t>, ShardWork> shards;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::vector<uint64_t> sc(rank);
    uint64_t inner_index = 0;
    for (size_t d = 0; d < rank; ++d) {
      sc[d] = parts[i].chunk_coords[d] / grid[d];
      inner_index = inner_index * grid[d] + parts[i].chunk_coords[d] % grid[d];
    }
    ShardWork& w = shards[sc];
    w.shard_coords = sc;
    w.parts[inner_index] = i;
  }

  // Inner chunks of a shard that intersect the array (the rest can never hold data).
  auto inner_in_array = [&](const std::vector<uint64_t>& shard_coords, uint64_t inner_index) {
    uint64_t rem = inner_index;
    for (size_t d = rank; d-- > 0;) {
      uint64_t k = rem % grid[d];
      rem /= grid[d];
      uint64_t origin = (shard_coords[d] * grid[d] + k) * inner_shape[d];
      if (origin >= metadata_.shape[d]) return false;
    }
    return true;
  };

  std::vector<ShardWork> work;
  for (auto& [coords, w] : shards) {
    w.key = ChunkKey(w.shard_coords);
    for (uint64_t i = 0; i < n_inner && w.complete; ++i) {
      if (!inner_in_array(w.shard_coords, i)) continue;
      auto it = w.parts.find(i);
      if (it == w.parts.end() || !parts[it->second].covers_chunk) w.complete = false;
    }
    work.push_back(std::move(w));
  }

  for (size_t batch = 0; batch < work.size(); batch += options_.max_in_flight) {
    size_t end = std::min(work.size(), batch + options_.max_in_flight);
    // Old shards for the incomplete ones, fetched whole in parallel.
    std::vector<Future<Result<GetResult>>> old(end - batch);
    for (size_t s = batch; s < end; ++s) {
      if (!work[s].complete) old[s - batch] = TimedGet(work[s].key, ByteRange::All());
    }
    std::vector<Future<Status>> writes;
    for (size_t s = batch; s < end; ++s) {
      ShardWork& w = work[s];
      std::vector<ShardingCodec::IndexEntry> entries(n_inner);
      Buffer old_bytes;
      if (!w.complete) {
        auto r = old[s - batch].Get();
        if (r.ok()) {
          old_bytes = std::move(r->data);
          uint64_t isz = sharding.encoded_index_size();
          if (old_bytes.size() < isz) {
            return PermanentError("shard " + w.key + " is too short for its index");
          }
          std::string_view index_view =
              sharding.index_location() == ShardingCodec::IndexLocation::kEnd
                  ? old_bytes.view().substr(old_bytes.size() - isz)
                  : old_bytes.view().substr(0, isz);
          auto decoded = sharding.DecodeIndex(Buffer::CopyOf(index_view));
          if (!decoded.ok()) return decoded.status().WithContext("shard " + w.key);
          entries = std::move(decoded).value();
        } else if (r.status().kind() != ErrorKind::kNotFound) {
          return r.status().WithContext("writing " + Describe());
        }
      }
      std::vector<std::optional<Buffer>> encoded(n_inner);
      for (uint64_t i = 0; i < n_inner; ++i) {
        auto it = w.parts.find(i);
        const auto& e = entries[i];
        if (it == w.parts.end()) {
          if (!e.missing()) {
            if (e.offset + e.nbytes > old_bytes.size()) {
              return PermanentError("shard " + w.key + " is shorter than its index says");
            }
            encoded[i] = Buffer::CopyOf(old_bytes.view().substr(e.offset, e.nbytes));
          }
          continue;
        }
        const ChunkPart& part = parts[it->second];
        ChunkArray chunk;
        if (!part.covers_chunk && !e.missing()) {
          if (e.offset + e.nbytes > old_bytes.size()) {
            return PermanentError("shard " + w.key + " is shorter than its index says");
          }
          auto dec = sharding.inner_chain().Decode(
              Buffer::CopyOf(old_bytes.view().substr(e.offset, e.nbytes)));
          if (!dec.ok()) return dec.status().WithContext("decoding an inner chunk of " + w.key);
          chunk = std::move(dec).value();
        } else {
          chunk = ChunkArray::Filled(inner_spec);
        }
        CopyIn(in, part, item, chunk);
        if (chunk.IsAllFill(inner_spec) && !options_.write_empty_chunks) continue;
        auto enc = sharding.inner_chain().Encode(std::move(chunk));
        if (!enc.ok()) return enc.status().WithContext("encoding an inner chunk of " + w.key);
        encoded[i] = std::move(enc).value();
      }
      bool any = false;
      for (const auto& e : encoded) any = any || e.has_value();
      if (!any) {
        writes.push_back(StoreChunk(w.key, Buffer(), true));
        continue;
      }
      auto shard = sharding.AssembleShard(encoded);
      if (!shard.ok()) return shard.status().WithContext("assembling shard " + w.key);
      writes.push_back(StoreChunk(w.key, std::move(shard).value(), false));
    }
    for (auto& f : writes) {
      Status s = f.Get();
      if (!s.ok()) return s.WithContext("writing " + Describe());
    }
  }
  return Status::Ok();
}

// --- Resize --------------------------------------------------------------------------------------

Status ZarrArray::Resize(std::vector<uint64_t> new_shape) {
  if (new_shape.size() != metadata_.rank()) {
    return InvalidArgumentError("resize of " + Describe() + " to rank " +
                                std::to_string(new_shape.size()) + " (the array has rank " +
                                std::to_string(metadata_.rank()) + ")");
  }
  const std::vector<uint64_t> old_shape = metadata_.shape;
  bool shrinks = false;
  for (size_t d = 0; d < new_shape.size(); ++d) shrinks = shrinks || new_shape[d] < old_shape[d];

  if (shrinks) {
    // Reset the region leaving the array to fill first (while the old shape is still valid), so
    // that a later grow shows fill there, as HDF5 does; chunks wholly outside are deleted.
    const auto& chunk = metadata_.chunk_shape;
    auto listed = store_->ListSync(store::ListOptions{Join(path_, ""), "", 1000});
    if (!listed.ok()) return listed.status().WithContext("resizing " + Describe());
    const std::string prefix = Join(path_, "");
    std::vector<std::string> doomed;
    for (const auto& obj : listed->objects) {
      std::string rel = obj.key.substr(prefix.size());
      if (rel == "zarr.json" || rel.find("zarr.json") != std::string::npos) continue;
      // Parse the chunk key back into grid coordinates.
      const auto& enc = metadata_.chunk_key_encoding;
      std::string body = rel;
      if (!enc.v2) {
        if (!body.starts_with("c")) continue;
        body = body.size() > 1 ? body.substr(2) : "";
      }
      std::vector<uint64_t> coords;
      size_t pos = 0;
      bool ok = true;
      while (pos <= body.size() && metadata_.rank() > 0) {
        size_t sep = body.find(enc.separator, pos);
        std::string part = body.substr(pos, sep == std::string::npos ? std::string::npos : sep - pos);
        if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos) {
          ok = false;
          break;
        }
        coords.push_back(std::stoull(part));
        if (sep == std::string::npos) break;
        pos = sep + 1;
      }
      if (!ok || coords.size() != metadata_.rank()) continue;  // not one of our chunks
      bool outside = false, straddles = false;
      for (size_t d = 0; d < coords.size(); ++d) {
        uint64_t lo = coords[d] * chunk[d];
        uint64_t hi = lo + chunk[d];
        if (lo >= new_shape[d]) outside = true;
        else if (hi > new_shape[d] && new_shape[d] < old_shape[d]) straddles = true;
      }
      if (outside) {
        doomed.push_back(obj.key);
      } else if (straddles) {
        // Keep the part inside the new shape; write fill over the rest within the old shape.
        std::vector<DimSelection> dims;
        for (size_t d = 0; d < coords.size(); ++d) {
          uint64_t lo = coords[d] * chunk[d];
          uint64_t hi = std::min(lo + chunk[d], old_shape[d]);
          dims.push_back(DimSelection::Range(lo, hi - lo));
        }
        // Only the elements beyond the new extent: overwrite them one dimension at a time.
        for (size_t d = 0; d < coords.size(); ++d) {
          uint64_t lo = coords[d] * chunk[d];
          uint64_t hi = std::min(lo + chunk[d], old_shape[d]);
          if (new_shape[d] >= hi || new_shape[d] >= old_shape[d]) continue;
          std::vector<DimSelection> region = dims;
          uint64_t from = std::max(lo, new_shape[d]);
          region[d] = DimSelection::Range(from, hi - from);
          Selection sel = Selection::Orthogonal(region);
          uint64_t n = sel.num_elements();
          if (metadata_.data_type.variable_length()) {
            std::vector<std::string> fill(n, metadata_.fill_value);
            NIMBUS_RETURN_IF_ERROR(WriteValues(sel, fill.data()));
          } else {
            size_t item = metadata_.data_type.item_size;
            Buffer fill = Buffer::Allocate(n * item);
            for (uint64_t e = 0; e < n; ++e) {
              std::memcpy(fill.data() + e * item, metadata_.fill_value.data(), item);
            }
            NIMBUS_RETURN_IF_ERROR(Write(sel, fill.data()));
          }
        }
      }
    }
    if (!doomed.empty()) {
      deletes_ += doomed.size();
      for (const auto& k : doomed) {
        if (options_.cache) options_.cache->Erase(CacheKey(k));
      }
      // DeleteMany takes keys relative to the store.
      NIMBUS_RETURN_IF_ERROR(store_->DeleteMany(doomed).Get().WithContext("resizing " + Describe()));
    }
  }
  return UpdateMetadata([&](ArrayMetadata& m) { m.shape = new_shape; });
}

// --- Groups and nodes ----------------------------------------------------------------------------

Status CreateGroup(store::ObjectStore& store, const std::string& path,
                   const nlohmann::json& attributes, bool exclusive) {
  GroupMetadata g;
  g.attributes = attributes;
  store::PutOptions put;
  put.content_type = "application/json";
  put.if_none_match_any = exclusive && store.Capabilities().conditional_put;
  auto r = store.PutSync(Join(path, "zarr.json"), g.Serialize(), put);
  if (!r.ok() && r.status().kind() == ErrorKind::kPreconditionFailed) {
    return Status(ErrorKind::kPreconditionFailed,
                  "a node already exists at " + store.Describe() + "/" + path);
  }
  return r.status();
}

Result<NodeMetadata> ReadNode(store::ObjectStore& store, const std::string& path) {
  auto got = store.GetSync(Join(path, "zarr.json"));
  if (!got.ok()) {
    if (got.status().kind() == ErrorKind::kNotFound) {
      return Status(ErrorKind::kNotFound,
                    "no Zarr node at " + store.Describe() + "/" + path + " (no zarr.json)");
    }
    return got.status();
  }
  return ParseNodeMetadata(got->data.view());
}

Result<std::vector<std::string>> ListChildren(store::ObjectStore& store, const std::string& path) {
  std::string prefix = path.empty() ? "" : path + "/";
  auto listed = store.ListSync(store::ListOptions{prefix, "/", 1000});
  if (!listed.ok()) return listed.status();
  // A child is a "directory" holding a zarr.json; check them all at once.
  std::vector<std::string> names;
  std::vector<Future<Result<store::ObjectInfo>>> heads;
  for (const auto& p : listed->common_prefixes) {
    std::string name = p.substr(prefix.size());
    if (!name.empty() && name.back() == '/') name.pop_back();
    names.push_back(name);
    heads.push_back(store.Head(prefix + name + "/zarr.json"));
  }
  std::vector<std::string> children;
  for (size_t i = 0; i < names.size(); ++i) {
    auto h = heads[i].Get();
    if (h.ok()) {
      children.push_back(names[i]);
    } else if (h.status().kind() != ErrorKind::kNotFound) {
      return h.status();
    }
  }
  std::sort(children.begin(), children.end());
  return children;
}

Status DeleteNode(store::ObjectStore& store, const std::string& path) {
  std::string prefix = path.empty() ? "" : path + "/";
  auto listed = store.ListSync(store::ListOptions{prefix, "", 1000});
  if (!listed.ok()) return listed.status();
  std::vector<std::string> keys;
  for (const auto& o : listed->objects) keys.push_back(o.key);
  if (keys.empty()) return Status::Ok();
  return store.DeleteMany(std::move(keys)).Get();
}

}  // namespace nimbus::zarr
