#include "zarr/selection.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace nimbus::zarr {

// --- DimSelection ---------------------------------------------------------------------------

void DimSelection::Add(Segment s) {
  if (s.count == 0) return;
  if (s.count == 1) s.stride = 1;
  // Merge with the previous segment when they continue each other (keeps runs long).
  if (!segments_.empty()) {
    Segment& p = segments_.back();
    bool unit = p.stride == 1 && s.stride == 1;
    if (unit && p.last() + 1 == s.start) {
      p.count += s.count;
      total_ += s.count;
      return;
    }
  }
  rank_.push_back(total_);
  segments_.push_back(s);
  total_ += s.count;
}

DimSelection DimSelection::Range(uint64_t start, uint64_t count) {
  DimSelection d;
  d.Add(Segment{start, 1, count});
  return d;
}

DimSelection DimSelection::Hyperslab(uint64_t start, uint64_t stride, uint64_t count,
                                     uint64_t block) {
  DimSelection d;
  if (count == 0 || block == 0) return d;
  if (block == 1) {
    d.Add(Segment{start, std::max<uint64_t>(stride, 1), count});
  } else if (stride <= block) {
    // Blocks touch or overlap: one contiguous range.
    d.Add(Segment{start, 1, (count - 1) * stride + block});
  } else {
    for (uint64_t k = 0; k < count; ++k) d.Add(Segment{start + k * stride, 1, block});
  }
  return d;
}

DimSelection DimSelection::Indices(std::vector<uint64_t> indices) {
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  DimSelection d;
  for (size_t i = 0; i < indices.size();) {
    // Greedily take the longest arithmetic run starting at i.
    size_t j = i + 1;
    uint64_t stride = j < indices.size() ? indices[j] - indices[i] : 1;
    while (j < indices.size() && indices[j] - indices[j - 1] == stride) ++j;
    if (j - i == 1) stride = 1;
    d.Add(Segment{indices[i], stride, j - i});
    i = j;
  }
  return d;
}

// --- Selection ------------------------------------------------------------------------------

Selection Selection::All(std::span<const uint64_t> shape) {
  std::vector<DimSelection> dims;
  for (uint64_t n : shape) dims.push_back(DimSelection::Range(0, n));
  return Orthogonal(std::move(dims));
}

Selection Selection::Box(std::span<const uint64_t> start, std::span<const uint64_t> count) {
  std::vector<DimSelection> dims;
  for (size_t d = 0; d < start.size(); ++d) dims.push_back(DimSelection::Range(start[d], count[d]));
  return Orthogonal(std::move(dims));
}

Selection Selection::Orthogonal(std::vector<DimSelection> dims) {
  Selection s;
  s.rank_ = dims.size();
  s.dims_ = std::move(dims);
  return s;
}

Selection Selection::Points(size_t rank, std::vector<uint64_t> flat_coordinates) {
  Selection s;
  s.points_ = true;
  s.rank_ = rank;
  s.coords_ = std::move(flat_coordinates);
  return s;
}

uint64_t Selection::num_elements() const {
  if (points_) return rank_ == 0 ? 0 : coords_.size() / rank_;
  uint64_t n = 1;
  for (const auto& d : dims_) n *= d.size();
  return n;
}

std::vector<uint64_t> Selection::shape() const {
  std::vector<uint64_t> out;
  for (const auto& d : dims_) out.push_back(d.size());
  return out;
}

Status Selection::Validate(std::span<const uint64_t> array_shape) const {
  if (rank_ != array_shape.size()) {
    return InvalidArgumentError("selection has rank " + std::to_string(rank_) +
                                " but the array has rank " + std::to_string(array_shape.size()));
  }
  if (points_) {
    if (rank_ > 0 && coords_.size() % rank_ != 0) {
      return InvalidArgumentError("point coordinates are not a multiple of the rank");
    }
    for (size_t i = 0; i < coords_.size(); ++i) {
      size_t d = i % rank_;
      if (coords_[i] >= array_shape[d]) {
        return InvalidArgumentError("point " + std::to_string(i / rank_) + " has index " +
                                    std::to_string(coords_[i]) + " in dimension " +
                                    std::to_string(d) + " of extent " +
                                    std::to_string(array_shape[d]));
      }
    }
    return Status::Ok();
  }
  for (size_t d = 0; d < rank_; ++d) {
    if (!dims_[d].empty() && dims_[d].max_index() >= array_shape[d]) {
      return InvalidArgumentError("selection reaches index " +
                                  std::to_string(dims_[d].max_index()) + " in dimension " +
                                  std::to_string(d) + " of extent " +
                                  std::to_string(array_shape[d]));
    }
  }
  return Status::Ok();
}

// --- Splitting by chunk ----------------------------------------------------------------------

namespace {

// Chunk indices along one dimension touched by a dimension selection, sorted and unique.
std::vector<uint64_t> TouchedChunks(const DimSelection& dim, uint64_t chunk) {
  std::vector<uint64_t> out;
  for (const Segment& s : dim.segments()) {
    if (s.stride >= chunk) {
      for (uint64_t k = 0; k < s.count; ++k) {
        uint64_t c = (s.start + k * s.stride) / chunk;
        if (out.empty() || out.back() != c) out.push_back(c);
      }
    } else {
      for (uint64_t c = s.start / chunk; c <= s.last() / chunk; ++c) {
        if (out.empty() || out.back() < c) out.push_back(c);
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

struct Piece {
  Segment seg;
  uint64_t rank;
};

// Joins runs that continue each other in both the chunk and the buffer.
void MergeRuns(std::vector<CopyRun>& runs) {
  if (runs.size() < 2) return;
  size_t w = 0;
  for (size_t r = 1; r < runs.size(); ++r) {
    CopyRun& p = runs[w];
    const CopyRun& n = runs[r];
    bool unit = (p.chunk_stride == 1 || p.length == 1) && (p.buffer_stride == 1 || p.length == 1) &&
                (n.chunk_stride == 1 || n.length == 1) && (n.buffer_stride == 1 || n.length == 1);
    if (unit && p.chunk_elem + p.length == n.chunk_elem &&
        p.buffer_elem + p.length == n.buffer_elem) {
      p.length += n.length;
      p.chunk_stride = 1;
      p.buffer_stride = 1;
    } else {
      runs[++w] = n;
    }
  }
  runs.resize(w + 1);
}

void OrthogonalPart(const Selection& sel, std::span<const uint64_t> array_shape,
                    std::span<const uint64_t> chunk_shape, const std::vector<uint64_t>& chunk_idx,
                    const std::vector<uint64_t>& buffer_strides, ChunkPart& part) {
  const size_t rank = array_shape.size();
  std::vector<std::vector<Piece>> pieces(rank);
  std::vector<uint64_t> chunk_strides(rank, 1);
  for (size_t d = rank; d-- > 1;) chunk_strides[d - 1] = chunk_strides[d] * chunk_shape[d];
  part.covers_chunk = true;
  part.num_elements = 1;
  for (size_t d = 0; d < rank; ++d) {
    uint64_t lo = chunk_idx[d] * chunk_shape[d];
    uint64_t hi = std::min(lo + chunk_shape[d], array_shape[d]);
    uint64_t n = 0;
    sel.dims()[d].ForEachIn(lo, hi, [&](Segment s, uint64_t rank_of_first) {
      pieces[d].push_back(Piece{s, rank_of_first});
      n += s.count;
    });
    part.num_elements *= n;
    if (n != hi - lo) part.covers_chunk = false;
  }
  if (part.num_elements == 0) return;

  // Walk the leading dimensions index by index; the last dimension contributes one run per piece.
  const size_t last = rank - 1;
  std::vector<size_t> piece_at(rank, 0);
  std::vector<uint64_t> k_at(rank, 0);
  while (true) {
    uint64_t chunk_base = 0, buffer_base = 0;
    for (size_t d = 0; d < last; ++d) {
      const Piece& p = pieces[d][piece_at[d]];
      uint64_t index = p.seg.start + k_at[d] * p.seg.stride;
      chunk_base += (index - chunk_idx[d] * chunk_shape[d]) * chunk_strides[d];
      buffer_base += (p.rank + k_at[d]) * buffer_strides[d];
    }
    for (const Piece& p : pieces[last]) {
      part.runs.push_back(CopyRun{
          chunk_base + (p.seg.start - chunk_idx[last] * chunk_shape[last]) * chunk_strides[last],
          p.seg.stride * chunk_strides[last], buffer_base + p.rank * buffer_strides[last],
          static_cast<int64_t>(buffer_strides[last]), p.seg.count});
    }
    // Advance the odometer over dimensions [0, last).
    size_t d = last;
    while (d-- > 0) {
      if (++k_at[d] < pieces[d][piece_at[d]].seg.count) break;
      k_at[d] = 0;
      if (++piece_at[d] < pieces[d].size()) break;
      piece_at[d] = 0;
      if (d == 0) {
        MergeRuns(part.runs);
        return;
      }
    }
    if (last == 0) break;
  }
  MergeRuns(part.runs);
}

}  // namespace

std::vector<ChunkPart> SplitByChunk(const Selection& sel, std::span<const uint64_t> array_shape,
                                    std::span<const uint64_t> chunk_shape, Layout layout) {
  const size_t rank = array_shape.size();
  std::vector<ChunkPart> parts;
  if (rank == 0) {
    // A 0-d array has one element in one chunk.
    if (sel.num_elements() == 0 && sel.is_points()) return parts;
    ChunkPart part;
    part.runs.push_back(CopyRun{0, 1, 0, 1, 1});
    part.num_elements = 1;
    part.covers_chunk = true;
    parts.push_back(std::move(part));
    return parts;
  }

  if (sel.is_points()) {
    std::map<std::vector<uint64_t>, ChunkPart> by_chunk;
    const auto& coords = sel.coordinates();
    uint64_t n = sel.num_elements();
    std::vector<uint64_t> chunk_idx(rank);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t within = 0;
      for (size_t d = 0; d < rank; ++d) {
        uint64_t x = coords[i * rank + d];
        chunk_idx[d] = x / chunk_shape[d];
        within = within * chunk_shape[d] + (x % chunk_shape[d]);
      }
      ChunkPart& part = by_chunk[chunk_idx];
      part.chunk_coords = chunk_idx;
      part.runs.push_back(CopyRun{within, 1, i, 1, 1});
      part.num_elements++;
    }
    for (auto& [idx, part] : by_chunk) parts.push_back(std::move(part));
    return parts;
  }

  // Dense strides of the caller's buffer over the selection's shape.
  std::vector<uint64_t> sel_shape = sel.shape();
  std::vector<uint64_t> buffer_strides(rank, 1);
  if (layout == Layout::kC) {
    for (size_t d = rank; d-- > 1;) buffer_strides[d - 1] = buffer_strides[d] * sel_shape[d];
  } else {
    for (size_t d = 1; d < rank; ++d) buffer_strides[d] = buffer_strides[d - 1] * sel_shape[d - 1];
  }
  if (sel.num_elements() == 0) return parts;

  std::vector<std::vector<uint64_t>> touched(rank);
  for (size_t d = 0; d < rank; ++d) touched[d] = TouchedChunks(sel.dims()[d], chunk_shape[d]);
  std::vector<size_t> at(rank, 0);
  while (true) {
    ChunkPart part;
    part.chunk_coords.resize(rank);
    for (size_t d = 0; d < rank; ++d) part.chunk_coords[d] = touched[d][at[d]];
    OrthogonalPart(sel, array_shape, chunk_shape, part.chunk_coords, buffer_strides, part);
    if (part.num_elements > 0) parts.push_back(std::move(part));
    size_t d = rank;
    while (d-- > 0) {
      if (++at[d] < touched[d].size()) break;
      at[d] = 0;
      if (d == 0) return parts;
    }
  }
}

// --- Copy kernels ----------------------------------------------------------------------------

namespace {

template <typename T>
void StridedCopy(const char* src, int64_t src_stride, char* dst, int64_t dst_stride, uint64_t n) {
  const T* s = reinterpret_cast<const T*>(src);
  T* t = reinterpret_cast<T*>(dst);
  for (uint64_t i = 0; i < n; ++i) {
    std::memcpy(t + i * dst_stride, s + i * src_stride, sizeof(T));
  }
}

void CopyElements(const char* src, int64_t src_stride, char* dst, int64_t dst_stride,
                  uint64_t n, size_t item) {
  if (src_stride == 1 && dst_stride == 1) {
    std::memcpy(dst, src, n * item);
    return;
  }
  switch (item) {
    case 1: return StridedCopy<uint8_t>(src, src_stride, dst, dst_stride, n);
    case 2: return StridedCopy<uint16_t>(src, src_stride, dst, dst_stride, n);
    case 4: return StridedCopy<uint32_t>(src, src_stride, dst, dst_stride, n);
    case 8: return StridedCopy<uint64_t>(src, src_stride, dst, dst_stride, n);
    default:
      for (uint64_t i = 0; i < n; ++i) {
        std::memcpy(dst + i * dst_stride * static_cast<int64_t>(item),
                    src + i * src_stride * static_cast<int64_t>(item), item);
      }
  }
}

}  // namespace

void CopyToBuffer(const char* chunk, char* buffer, size_t item, const std::vector<CopyRun>& runs) {
  for (const CopyRun& r : runs) {
    CopyElements(chunk + r.chunk_elem * item, static_cast<int64_t>(r.chunk_stride),
                 buffer + r.buffer_elem * item, r.buffer_stride, r.length, item);
  }
}

void CopyFromBuffer(const char* buffer, char* chunk, size_t item,
                    const std::vector<CopyRun>& runs) {
  for (const CopyRun& r : runs) {
    CopyElements(buffer + r.buffer_elem * item, r.buffer_stride, chunk + r.chunk_elem * item,
                 static_cast<int64_t>(r.chunk_stride), r.length, item);
  }
}

void CopyToBuffer(const std::string* chunk, std::string* buffer, const std::vector<CopyRun>& runs) {
  for (const CopyRun& r : runs) {
    for (uint64_t i = 0; i < r.length; ++i) {
      buffer[r.buffer_elem + i * r.buffer_stride] = chunk[r.chunk_elem + i * r.chunk_stride];
    }
  }
}

void CopyFromBuffer(const std::string* buffer, std::string* chunk,
                    const std::vector<CopyRun>& runs) {
  for (const CopyRun& r : runs) {
    for (uint64_t i = 0; i < r.length; ++i) {
      chunk[r.chunk_elem + i * r.chunk_stride] = buffer[r.buffer_elem + i * r.buffer_stride];
    }
  }
}

}  // namespace nimbus::zarr
