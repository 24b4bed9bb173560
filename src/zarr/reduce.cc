// ZarrArray::Reduce: sum / min / max / count of a selection, per chunk on an active storage server
// when one is configured (remote.h), combined here exactly as numpy would over the whole
// selection; computed here otherwise.
//
// Every chunk's contribution is a "partial": an array over the chunk's part of the selection with
// the reduced axes removed, plus per element the number of elements that went into it. Partials
// land in one accumulator over the result's elements; where a partial lands follows from the
// chunk's position in the selection (its rank offset per dimension).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <map>

#include "zarr/array.h"

namespace nimbus::zarr {
namespace {

// IEEE binary16 <-> binary32, round to nearest even (the element type float16 is computed in
// float64 here and rounded once at the end, as nimbus-active computes it in float32).
float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  uint32_t mant = h & 0x3FF;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400) == 0);
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3FF) << 13);
    }
  } else if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}

uint16_t FloatToHalf(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t abs = x & 0x7FFFFFFF;
  if (abs > 0x7F800000u) return sign | 0x7E00;  // NaN
  if (abs >= 0x477FF000u) return sign | 0x7C00;  // rounds to or beyond infinity
  if (abs < 0x38800000u) {                        // subnormal or zero in half
    if (abs < 0x33000000u) return sign;           // below half the smallest subnormal
    const uint32_t e = abs >> 23;
    const uint32_t m = (abs & 0x7FFFFF) | 0x800000;
    // value = m * 2^(e-150) and the half subnormal unit is 2^-24, so q = m * 2^(e-126): drop
    // 126 - e bits (14..24 here), rounding to nearest even.
    const uint32_t s = 126 - e;
    uint32_t q = m >> s;
    const uint32_t rem = m & ((1u << s) - 1);
    const uint32_t half = 1u << (s - 1);
    if (rem > half || (rem == half && (q & 1))) ++q;
    return sign | static_cast<uint16_t>(q);
  }
  uint32_t q = ((abs >> 23) - 127 + 15) << 10 | ((abs >> 13) & 0x3FF);
  const uint32_t rem = abs & 0x1FFF;
  if (rem > 0x1000 || (rem == 0x1000 && (q & 1))) ++q;
  return sign | static_cast<uint16_t>(q);
}

enum class Kind { kSigned, kUnsigned, kFloat };

struct ElementType {
  Kind kind = Kind::kSigned;
  size_t size = 0;
  bool half = false;
};

Result<ElementType> ElementTypeOf(const DataType& t) {
  ElementType e;
  e.size = t.item_size;
  switch (t.type_class) {
    case TypeClass::kInt: e.kind = Kind::kSigned; break;
    case TypeClass::kUInt: e.kind = Kind::kUnsigned; break;
    case TypeClass::kFloat:
      e.kind = Kind::kFloat;
      e.half = t.item_size == 2;
      break;
    default:
      return InvalidArgumentError("cannot reduce values of type " + t.name +
                                  " (numbers only: int8..int64, uint8..uint64, float16..float64)");
  }
  if (e.size != 1 && e.size != 2 && e.size != 4 && e.size != 8) {
    return InvalidArgumentError("cannot reduce values of type " + t.name);
  }
  return e;
}

double LoadFloat(const char* p, const ElementType& t) {
  if (t.half) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return HalfToFloat(h);
  }
  if (t.size == 4) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  double d;
  std::memcpy(&d, p, 8);
  return d;
}

int64_t LoadSigned(const char* p, size_t size) {
  switch (size) {
    case 1: { int8_t v; std::memcpy(&v, p, 1); return v; }
    case 2: { int16_t v; std::memcpy(&v, p, 2); return v; }
    case 4: { int32_t v; std::memcpy(&v, p, 4); return v; }
    default: { int64_t v; std::memcpy(&v, p, 8); return v; }
  }
}

uint64_t LoadUnsigned(const char* p, size_t size) {
  uint64_t v = 0;
  std::memcpy(&v, p, size);  // little-endian host: the low bytes
  return v;
}

// The combined result over every output element.
class Accumulator {
 public:
  Accumulator(ReduceOp op, ElementType type, uint64_t n)
      : op_(op), type_(type), count_(n, 0) {
    if (op == ReduceOp::kCount) return;
    if (type.kind == Kind::kFloat) f_.assign(n, 0.0);
    else if (type.kind == Kind::kSigned && op != ReduceOp::kSum) i_.assign(n, 0);
    else u_.assign(n, 0);
  }

  // `count` elements (count > 0) summarised by `value` (one element of the array's type: a single
  // element, or a partial sum / min / max) go into output element o.
  void Add(uint64_t o, const char* value, int64_t count) {
    if (count <= 0) return;  // a partial nothing contributed to (its value is a sentinel)
    const bool first = count_[o] == 0;
    count_[o] += count;
    if (op_ == ReduceOp::kCount) return;
    if (type_.kind == Kind::kFloat) {
      const double v = LoadFloat(value, type_);
      double& a = f_[o];
      switch (op_) {
        case ReduceOp::kSum: a += v; break;
        case ReduceOp::kMin:
          if (first || std::isnan(v) || (!std::isnan(a) && v < a)) a = v;
          break;
        case ReduceOp::kMax:
          if (first || std::isnan(v) || (!std::isnan(a) && v > a)) a = v;
          break;
        default: break;
      }
      return;
    }
    if (op_ == ReduceOp::kSum) {
      // Two's complement: the sum modulo 2^64 truncated to the type is the sum modulo 2^bits.
      u_[o] += type_.kind == Kind::kSigned ? static_cast<uint64_t>(LoadSigned(value, type_.size))
                                           : LoadUnsigned(value, type_.size);
      return;
    }
    if (type_.kind == Kind::kSigned) {
      const int64_t v = LoadSigned(value, type_.size);
      int64_t& a = i_[o];
      if (first || (op_ == ReduceOp::kMin ? v < a : v > a)) a = v;
    } else {
      const uint64_t v = LoadUnsigned(value, type_.size);
      uint64_t& a = u_[o];
      if (first || (op_ == ReduceOp::kMin ? v < a : v > a)) a = v;
    }
  }

  void AddCount(uint64_t o, int64_t count) { count_[o] += count; }

  const std::vector<int64_t>& counts() const { return count_; }

  Buffer Finish() const {
    const uint64_t n = count_.size();
    if (op_ == ReduceOp::kCount) {
      Buffer out = Buffer::Allocate(n * 8);
      if (n) std::memcpy(out.data(), count_.data(), n * 8);
      return out;
    }
    Buffer out = Buffer::Allocate(n * type_.size);
    char* p = out.data();
    for (uint64_t o = 0; o < n; ++o, p += type_.size) {
      if (type_.kind == Kind::kFloat) {
        const double v = f_[o];
        if (type_.half) {
          const uint16_t h = FloatToHalf(static_cast<float>(v));
          std::memcpy(p, &h, 2);
        } else if (type_.size == 4) {
          const float f = static_cast<float>(v);
          std::memcpy(p, &f, 4);
        } else {
          std::memcpy(p, &v, 8);
        }
      } else if (!i_.empty()) {
        const int64_t v = i_[o];
        std::memcpy(p, &v, type_.size);  // little-endian: low bytes hold the narrowed value
      } else {
        const uint64_t v = u_[o];
        std::memcpy(p, &v, type_.size);
      }
    }
    return out;
  }

 private:
  ReduceOp op_;
  ElementType type_;
  std::vector<int64_t> count_;
  std::vector<double> f_;
  std::vector<int64_t> i_;
  std::vector<uint64_t> u_;
};

// One dimension of an iteration: `count` positions, `stride` apart in the output.
struct Walk {
  uint64_t count;
  uint64_t stride;
};

// Calls fn(output position) for every element of the C-order product of `dims`, starting at base.
template <typename Fn>
void ForEachPosition(const std::vector<Walk>& dims, uint64_t base, Fn&& fn) {
  uint64_t total = 1;
  for (const Walk& w : dims) total *= w.count;
  if (total == 0) return;
  std::vector<uint64_t> idx(dims.size(), 0);
  uint64_t pos = base;
  for (uint64_t e = 0; e < total; ++e) {
    fn(e, pos);
    for (size_t i = dims.size(); i-- > 0;) {
      if (++idx[i] < dims[i].count) {
        pos += dims[i].stride;
        break;
      }
      pos -= dims[i].stride * (dims[i].count - 1);
      idx[i] = 0;
    }
  }
}

// The part of the selection in one chunk of the I/O grid.
struct ChunkTask {
  std::vector<uint64_t> coords;                 // grid coordinates
  std::vector<std::vector<Segment>> segments;   // per dimension, relative to the chunk origin
  std::vector<uint64_t> offset;                 // rank of the first selected index, per dimension
  std::vector<uint64_t> count;                  // selected indices per dimension
  bool single() const {
    for (const auto& s : segments) {
      if (s.size() != 1) return false;
    }
    return true;
  }
};

// Per dimension, the chunks the selection touches and what it selects in each.
struct DimChunk {
  uint64_t chunk;
  std::vector<Segment> segments;
  uint64_t offset;
  uint64_t count;
};

std::vector<DimChunk> SplitDim(const DimSelection& dim, uint64_t length, uint64_t chunk) {
  std::vector<DimChunk> out;
  if (dim.empty()) return out;
  const uint64_t first = dim.segments().front().start / chunk;
  const uint64_t last = dim.max_index() / chunk;
  for (uint64_t c = first; c <= last; ++c) {
    const uint64_t lo = c * chunk, hi = std::min(lo + chunk, length);
    DimChunk dc{c, {}, 0, 0};
    bool any = false;
    dim.ForEachIn(lo, hi, [&](Segment s, uint64_t rank) {
      if (!any) dc.offset = rank;
      any = true;
      dc.segments.push_back(Segment{s.start - lo, s.count > 1 ? s.stride : 1, s.count});
      dc.count += s.count;
    });
    if (any) out.push_back(std::move(dc));
  }
  return out;
}

}  // namespace

Result<ReduceResult> ZarrArray::Reduce(ReduceOp op, const Selection& selection,
                                       std::optional<std::vector<size_t>> axis) {
  NIMBUS_ASSIGN_OR_RETURN(ElementType type, ElementTypeOf(metadata_.data_type));
  if (selection.is_points()) {
    return InvalidArgumentError("reduce takes an orthogonal selection (slices), not points");
  }
  NIMBUS_RETURN_IF_ERROR(selection.Validate(metadata_.shape).WithContext("reducing " + Describe()));
  const size_t rank = metadata_.rank();
  std::vector<bool> reduced(rank, !axis.has_value());
  if (axis) {
    for (size_t a : *axis) {
      if (a >= rank) {
        return InvalidArgumentError("axis " + std::to_string(a) + " is out of range for " +
                                    std::to_string(rank) + "-d array " + Describe());
      }
      if (reduced[a]) return InvalidArgumentError("axis " + std::to_string(a) + " is repeated");
      reduced[a] = true;
    }
  }
  // The result: the selection's shape without the reduced dimensions, C order.
  const std::vector<uint64_t> sel_shape = selection.shape();
  ReduceResult result;
  result.dtype = op == ReduceOp::kCount ? "int64" : metadata_.data_type.name;
  std::vector<uint64_t> gstride(rank, 0);
  uint64_t n_out = 1;
  for (size_t d = rank; d-- > 0;) {
    if (reduced[d]) continue;
    gstride[d] = n_out;
    n_out *= sel_shape[d];
  }
  for (size_t d = 0; d < rank; ++d) {
    if (!reduced[d]) result.shape.push_back(sel_shape[d]);
  }
  Accumulator acc(op, type, n_out);
  const size_t item = type.size;

  // A dense block of elements (C order over `counts`) at rank offsets `offset`, computed here.
  auto add_dense = [&](const char* data, const std::vector<uint64_t>& offset,
                       const std::vector<uint64_t>& counts) {
    std::vector<Walk> walk;
    uint64_t base = 0;
    for (size_t d = 0; d < rank; ++d) {
      walk.push_back(Walk{counts[d], gstride[d]});
      base += offset[d] * gstride[d];
    }
    ForEachPosition(walk, base, [&](uint64_t e, uint64_t pos) { acc.Add(pos, data + e * item, 1); });
  };
  auto add_fill = [&](const std::vector<uint64_t>& offset, const std::vector<uint64_t>& counts) {
    std::vector<Walk> walk;
    uint64_t base = 0;
    for (size_t d = 0; d < rank; ++d) {
      walk.push_back(Walk{counts[d], gstride[d]});
      base += offset[d] * gstride[d];
    }
    const char* fill = metadata_.fill_value.data();
    ForEachPosition(walk, base, [&](uint64_t, uint64_t pos) { acc.Add(pos, fill, 1); });
  };
  // Reads a selection here (never pushed down) and adds it.
  auto add_local = [&](const Selection& sel, const std::vector<uint64_t>& offset,
                       const std::vector<uint64_t>& counts) -> Status {
    uint64_t n = 1;
    for (uint64_t c : counts) n *= c;
    if (n == 0) return Status::Ok();
    Buffer data = Buffer::Allocate(n * item);
    NIMBUS_RETURN_IF_ERROR(ReadImpl(sel, Elements{data.data(), nullptr}, Layout::kC, false));
    add_dense(data.data(), offset, counts);
    return Status::Ok();
  };
  auto finish = [&]() -> Result<ReduceResult> {
    if (op == ReduceOp::kMin || op == ReduceOp::kMax) {
      for (int64_t c : acc.counts()) {
        if (c == 0) {
          return InvalidArgumentError(std::string("zero-size selection of ") + Describe() +
                                      ": " + (op == ReduceOp::kMin ? "min" : "max") +
                                      " has no identity (numpy raises ValueError)");
        }
      }
    }
    result.values = acc.Finish();
    result.count = acc.counts();
    return std::move(result);
  };

  const bool remote = options_.remote && remote_plan_.supported;
  // (A 0-d array has no shape the API can express: computed here.)
  if (!remote || selection.num_elements() == 0 || rank == 0) {
    // Everything here: one read of the whole selection (as numpy would hold a[sel]).
    std::vector<uint64_t> zero(rank, 0);
    NIMBUS_RETURN_IF_ERROR(add_local(selection, zero, sel_shape));
    if (selection.num_elements() > 0) result.local_chunks = 1;
    return finish();
  }

  // Per chunk of the I/O grid (a shard's inner chunks when sharded).
  const ShardingCodec* sharding = chain_->sharding();
  const std::vector<uint64_t>& chunk_shape =
      sharding ? sharding->inner_chunk_shape() : metadata_.chunk_shape;
  std::vector<std::vector<DimChunk>> per_dim(rank);
  uint64_t n_tasks = 1;
  for (size_t d = 0; d < rank; ++d) {
    per_dim[d] = SplitDim(selection.dims()[d], metadata_.shape[d], chunk_shape[d]);
    n_tasks *= per_dim[d].size();
  }
  std::vector<ChunkTask> tasks;
  tasks.reserve(n_tasks);
  {
    std::vector<size_t> idx(rank, 0);
    for (uint64_t t = 0; t < n_tasks; ++t) {
      ChunkTask task;
      for (size_t d = 0; d < rank; ++d) {
        const DimChunk& dc = per_dim[d][idx[d]];
        task.coords.push_back(dc.chunk);
        task.segments.push_back(dc.segments);
        task.offset.push_back(dc.offset);
        task.count.push_back(dc.count);
      }
      tasks.push_back(std::move(task));
      for (size_t d = rank; d-- > 0;) {
        if (++idx[d] < per_dim[d].size()) break;
        idx[d] = 0;
      }
    }
  }

  // The selection inside one task's chunk, in array coordinates (for local reads).
  auto task_selection = [&](const ChunkTask& task) {
    std::vector<DimSelection> dims;
    for (size_t d = 0; d < rank; ++d) {
      const uint64_t lo = task.coords[d] * chunk_shape[d];
      if (task.segments[d].size() == 1) {
        const Segment& s = task.segments[d][0];
        dims.push_back(DimSelection::Hyperslab(lo + s.start, s.stride, s.count, 1));
      } else {
        std::vector<uint64_t> indices;
        for (const Segment& s : task.segments[d]) {
          for (uint64_t k = 0; k < s.count; ++k) indices.push_back(lo + s.start + k * s.stride);
        }
        dims.push_back(DimSelection::Indices(std::move(indices)));
      }
    }
    return Selection::Orthogonal(std::move(dims));
  };

  // Shard indexes, read once per shard (in parallel batches) when sharded.
  std::map<std::vector<uint64_t>, std::optional<std::vector<ShardingCodec::IndexEntry>>> indexes;
  if (sharding) {
    const auto& grid = sharding->inner_grid();
    std::vector<std::vector<uint64_t>> shard_list;
    for (const ChunkTask& task : tasks) {
      std::vector<uint64_t> sc(rank);
      for (size_t d = 0; d < rank; ++d) sc[d] = task.coords[d] / grid[d];
      if (indexes.emplace(sc, std::nullopt).second) shard_list.push_back(sc);
    }
    const uint64_t index_size = sharding->encoded_index_size();
    for (size_t b = 0; b < shard_list.size(); b += options_.max_in_flight) {
      const size_t e = std::min(shard_list.size(), b + options_.max_in_flight);
      std::vector<Future<Result<store::GetResult>>> reads;
      for (size_t s = b; s < e; ++s) {
        reads.push_back(TimedGet(ChunkKey(shard_list[s]),
                                 sharding->index_location() == ShardingCodec::IndexLocation::kEnd
                                     ? store::ByteRange::Suffix(index_size)
                                     : store::ByteRange::Range(0, index_size)));
      }
      for (size_t s = b; s < e; ++s) {
        auto r = reads[s - b].Get();
        const std::string key = ChunkKey(shard_list[s]);
        if (!r.ok()) {
          if (r.status().kind() == ErrorKind::kNotFound) continue;  // no shard: all fill
          return r.status().WithContext("reading the shard index of " + key);
        }
        if (r->data.size() != index_size) {
          return PermanentError("shard " + key + " of " + Describe() + " is too short for its index");
        }
        auto entries = sharding->DecodeIndex(std::move(r->data));
        if (!entries.ok()) return entries.status().WithContext("shard " + key);
        indexes[shard_list[s]] = std::move(entries).value();
      }
    }
  }

  // The server's request for a task, or nullopt when the task is not stored (fill).
  // Encoded (stored) dimension i is logical dimension perm(i).
  auto perm = [&](size_t i) { return remote_plan_.transpose.empty() ? i : remote_plan_.transpose[i]; };
  struct Located {
    bool stored = true;
    std::string key;
    uint64_t offset = 0;
    std::optional<uint64_t> size;
  };
  auto locate = [&](const ChunkTask& task) -> Located {
    Located where;
    if (!sharding) {
      where.key = ChunkKey(task.coords);
      return where;
    }
    const auto& grid = sharding->inner_grid();
    std::vector<uint64_t> sc(rank);
    uint64_t inner = 0;
    for (size_t d = 0; d < rank; ++d) {
      sc[d] = task.coords[d] / grid[d];
      inner = inner * grid[d] + task.coords[d] % grid[d];
    }
    const auto& entries = indexes[sc];
    if (!entries || (*entries)[inner].missing()) {
      where.stored = false;
      return where;
    }
    where.key = ChunkKey(sc);
    where.offset = (*entries)[inner].offset;
    where.size = (*entries)[inner].nbytes;
    return where;
  };

  struct Pending {
    size_t task;
    Future<Result<RemoteResult>> result;
  };
  std::deque<Pending> window;
  const RemoteOp remote_op = op == ReduceOp::kSum   ? RemoteOp::kSum
                             : op == ReduceOp::kMin ? RemoteOp::kMin
                             : op == ReduceOp::kMax ? RemoteOp::kMax
                                                    : RemoteOp::kCount;

  // Adds a server's partial for `task`, after checking it has exactly the expected form.
  auto add_partial = [&](const ChunkTask& task, const RemoteResult& r) -> Status {
    std::vector<Walk> walk;
    std::vector<uint64_t> expected_shape;
    uint64_t base = 0, n = 1;
    for (size_t i = 0; i < rank; ++i) {
      const size_t d = perm(i);
      base += task.offset[d] * gstride[d];
      if (reduced[d]) continue;
      walk.push_back(Walk{task.count[d], gstride[d]});
      expected_shape.push_back(task.count[d]);
      n *= task.count[d];
    }
    const size_t result_item = op == ReduceOp::kCount ? 8 : item;
    if (r.dtype != result.dtype || r.bytes.size() != n * result_item || r.shape != expected_shape ||
        (r.count.size() != n && !(n == 1 && r.count.size() == 1))) {
      return PermanentError("active storage answered " + std::to_string(r.bytes.size()) +
                            " bytes of " + r.dtype + " with " + std::to_string(r.count.size()) +
                            " counts for a result of " + std::to_string(n) + " elements");
    }
    ForEachPosition(walk, base, [&](uint64_t e, uint64_t pos) {
      if (op == ReduceOp::kCount) acc.AddCount(pos, r.count[e]);
      else acc.Add(pos, r.bytes.data() + e * item, r.count[e]);
    });
    return Status::Ok();
  };

  auto settle = [&](Pending& p) -> Status {
    const ChunkTask& task = tasks[p.task];
    auto r = p.result.Get();
    Status failed = r.ok() ? add_partial(task, *r) : r.status();
    if (failed.ok()) {
      result.remote_chunks++;
      CountRemote(*r, 0);
      return Status::Ok();
    }
    if (failed.kind() == ErrorKind::kNotFound && !sharding) {
      result.fill_chunks++;
      add_fill(task.offset, task.count);
      return Status::Ok();
    }
    remote_fallbacks_++;
    options_.remote->ReportFallback(failed);
    result.local_chunks++;
    return add_local(task_selection(task), task.offset, task.count);
  };

  for (size_t t = 0; t < tasks.size(); ++t) {
    const ChunkTask& task = tasks[t];
    const Located where = locate(task);
    if (!where.stored) {
      result.fill_chunks++;
      add_fill(task.offset, task.count);
      continue;
    }
    // Several segments in a dimension cannot be one request; an unknown size cannot drop a
    // trailing checksum: those chunks are computed here.
    if (!task.single() || (remote_plan_.trailing_bytes > 0 && !where.size)) {
      result.local_chunks++;
      NIMBUS_RETURN_IF_ERROR(add_local(task_selection(task), task.offset, task.count));
      continue;
    }
    RemoteRequest req;
    req.op = remote_op;
    req.key = where.key;
    req.offset = where.offset;
    if (where.size) req.size = *where.size - remote_plan_.trailing_bytes;
    req.dtype = remote_plan_.dtype;
    req.big_endian = remote_plan_.big_endian;
    req.compression = remote_plan_.compression;
    req.shuffle = remote_plan_.shuffle;
    std::vector<size_t> axes;
    bool all = true;
    for (size_t i = 0; i < rank; ++i) {
      const size_t d = perm(i);
      const Segment& s = task.segments[d][0];
      req.shape.push_back(chunk_shape[d]);
      req.selection.push_back(RemoteSlice{static_cast<int64_t>(s.start),
                                          static_cast<int64_t>(s.start + (s.count - 1) * s.stride + 1),
                                          static_cast<int64_t>(s.stride)});
      if (reduced[d]) axes.push_back(i);
      else all = false;
    }
    if (!all) req.axis = std::move(axes);
    window.push_back(Pending{t, options_.remote->Submit(std::move(req))});
    while (window.size() >= options_.max_in_flight) {
      Pending p = std::move(window.front());
      window.pop_front();
      NIMBUS_RETURN_IF_ERROR(settle(p));
    }
  }
  while (!window.empty()) {
    Pending p = std::move(window.front());
    window.pop_front();
    NIMBUS_RETURN_IF_ERROR(settle(p));
  }
  return finish();
}

}  // namespace nimbus::zarr
