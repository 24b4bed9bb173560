// SplitByChunk + copy kernels against a brute-force model: for random shapes, chunkings and
// selections, reading through chunks must give exactly the elements the selection names, in the
// order HDF5/numpy define (row-major over the selection, C or F buffer layout; points in order).
#include "zarr/selection.h"

#include <gtest/gtest.h>

#include <random>

namespace nimbus::zarr {
namespace {

// The value stored at an array coordinate: its linear index (unique, so misplacements show).
uint32_t ValueAt(const std::vector<uint64_t>& coord, const std::vector<uint64_t>& shape) {
  uint64_t v = 0;
  for (size_t d = 0; d < shape.size(); ++d) v = v * shape[d] + coord[d];
  return static_cast<uint32_t>(v);
}

// Materialises one chunk (full chunk shape; elements past the array edge hold a sentinel).
std::vector<uint32_t> MakeChunk(const std::vector<uint64_t>& idx, const std::vector<uint64_t>& shape,
                                const std::vector<uint64_t>& chunk) {
  size_t rank = shape.size();
  uint64_t n = 1;
  for (uint64_t c : chunk) n *= c;
  std::vector<uint32_t> out(n);
  std::vector<uint64_t> local(rank, 0), coord(rank);
  for (uint64_t e = 0; e < n; ++e) {
    uint64_t rem = e;
    bool inside = true;
    for (size_t d = rank; d-- > 0;) {
      local[d] = rem % chunk[d];
      rem /= chunk[d];
      coord[d] = idx[d] * chunk[d] + local[d];
      if (coord[d] >= shape[d]) inside = false;
    }
    out[e] = inside ? ValueAt(coord, shape) : 0xFFFFFFFFu;
  }
  return out;
}

std::vector<uint32_t> ReadThroughChunks(const Selection& sel, const std::vector<uint64_t>& shape,
                                        const std::vector<uint64_t>& chunk, Layout layout,
                                        bool* covers_ok) {
  std::vector<uint32_t> buffer(sel.num_elements(), 0xDEADBEEFu);
  *covers_ok = true;
  for (const ChunkPart& part : SplitByChunk(sel, shape, chunk, layout)) {
    auto data = MakeChunk(part.chunk_coords, shape, chunk);
    CopyToBuffer(reinterpret_cast<const char*>(data.data()), reinterpret_cast<char*>(buffer.data()),
                 4, part.runs);
    uint64_t n = 0;
    for (const auto& r : part.runs) n += r.length;
    if (n != part.num_elements) *covers_ok = false;
  }
  return buffer;
}

std::vector<uint32_t> Expected(const Selection& sel, const std::vector<uint64_t>& shape,
                               Layout layout) {
  size_t rank = shape.size();
  std::vector<uint32_t> out;
  if (sel.is_points()) {
    const auto& c = sel.coordinates();
    for (size_t i = 0; i < c.size(); i += rank) {
      out.push_back(ValueAt(std::vector<uint64_t>(c.begin() + i, c.begin() + i + rank), shape));
    }
    return out;
  }
  std::vector<std::vector<uint64_t>> idx(rank);
  for (size_t d = 0; d < rank; ++d) {
    for (const Segment& s : sel.dims()[d].segments()) {
      for (uint64_t k = 0; k < s.count; ++k) idx[d].push_back(s.start + k * s.stride);
    }
  }
  std::vector<uint64_t> sshape = sel.shape();
  uint64_t n = sel.num_elements();
  out.assign(n, 0);
  std::vector<uint64_t> pos(rank, 0), coord(rank);
  for (uint64_t e = 0; e < n; ++e) {
    uint64_t rem = e;
    for (size_t d = rank; d-- > 0;) {
      pos[d] = rem % sshape[d];
      rem /= sshape[d];
      coord[d] = idx[d][pos[d]];
    }
    uint64_t where = 0;
    if (layout == Layout::kC) {
      where = e;
    } else {
      uint64_t stride = 1;
      for (size_t d = 0; d < rank; ++d) {
        where += pos[d] * stride;
        stride *= sshape[d];
      }
    }
    out[where] = ValueAt(coord, shape);
  }
  return out;
}

TEST(Selection, RandomOrthogonalAndPointSelectionsMatchModel) {
  std::mt19937_64 rng(42);
  auto uniform = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  for (int iter = 0; iter < 400; ++iter) {
    size_t rank = uniform(1, 4);
    std::vector<uint64_t> shape(rank), chunk(rank);
    for (size_t d = 0; d < rank; ++d) {
      shape[d] = uniform(1, rank > 2 ? 9 : 40);
      chunk[d] = uniform(1, shape[d] + 3);
    }
    Selection sel;
    int kind = static_cast<int>(uniform(0, 3));
    if (kind == 3) {
      std::vector<uint64_t> coords;
      uint64_t npts = uniform(0, 30);
      for (uint64_t p = 0; p < npts; ++p) {
        for (size_t d = 0; d < rank; ++d) coords.push_back(uniform(0, shape[d] - 1));
      }
      sel = Selection::Points(rank, coords);
    } else {
      std::vector<DimSelection> dims;
      for (size_t d = 0; d < rank; ++d) {
        if (kind == 0) {
          uint64_t start = uniform(0, shape[d] - 1);
          dims.push_back(DimSelection::Range(start, uniform(1, shape[d] - start)));
        } else if (kind == 1) {
          uint64_t start = uniform(0, shape[d] - 1);
          uint64_t block = uniform(1, 3), stride = uniform(1, 5);
          uint64_t room = shape[d] - start;
          if (block > room) block = room;
          uint64_t count = stride >= block ? 1 + (room - block) / stride : 1;
          count = uniform(1, count);
          dims.push_back(DimSelection::Hyperslab(start, stride, count, block));
        } else {
          std::vector<uint64_t> ix;
          uint64_t m = uniform(1, 6);
          for (uint64_t k = 0; k < m; ++k) ix.push_back(uniform(0, shape[d] - 1));
          dims.push_back(DimSelection::Indices(ix));
        }
      }
      sel = Selection::Orthogonal(std::move(dims));
    }
    ASSERT_TRUE(sel.Validate(shape).ok()) << sel.Validate(shape).ToString();
    for (Layout layout : {Layout::kC, Layout::kF}) {
      bool counts_ok = false;
      auto got = ReadThroughChunks(sel, shape, chunk, layout, &counts_ok);
      auto want = Expected(sel, shape, layout);
      ASSERT_EQ(got, want) << "iteration " << iter << " kind " << kind << " rank " << rank;
      ASSERT_TRUE(counts_ok);
      if (sel.is_points()) break;
    }
  }
}

TEST(Selection, CoversChunkOnlyWhenEveryElementSelected) {
  std::vector<uint64_t> shape{10, 10}, chunk{4, 4};
  auto parts = SplitByChunk(Selection::All(shape), shape, chunk, Layout::kC);
  ASSERT_EQ(parts.size(), 9u);
  for (const auto& p : parts) EXPECT_TRUE(p.covers_chunk);
  EXPECT_EQ(parts.back().num_elements, 4u);  // the clipped corner chunk
  auto some = SplitByChunk(Selection::Box(std::vector<uint64_t>{0, 0}, std::vector<uint64_t>{4, 3}),
                           shape, chunk, Layout::kC);
  ASSERT_EQ(some.size(), 1u);
  EXPECT_FALSE(some[0].covers_chunk);
}

TEST(Selection, WholeChunkReadIsOneRun) {
  std::vector<uint64_t> shape{8, 8}, chunk{4, 8};
  auto parts = SplitByChunk(Selection::All(shape), shape, chunk, Layout::kC);
  ASSERT_EQ(parts.size(), 2u);
  ASSERT_EQ(parts[0].runs.size(), 1u) << "contiguous rows merge into one memcpy";
  EXPECT_EQ(parts[0].runs[0].length, 32u);
}

TEST(Selection, ValidateNamesTheDimension) {
  std::vector<uint64_t> shape{5, 5};
  Status s = Selection::Box(std::vector<uint64_t>{0, 3}, std::vector<uint64_t>{1, 3}).Validate(shape);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("dimension 1"), std::string::npos) << s.message();
  EXPECT_FALSE(Selection::Points(2, {1, 7}).Validate(shape).ok());
  EXPECT_FALSE(Selection::All(std::vector<uint64_t>{5}).Validate(shape).ok());
}

TEST(Selection, ZeroDimensionalArray) {
  std::vector<uint64_t> shape{}, chunk{};
  auto parts = SplitByChunk(Selection::All(shape), shape, chunk, Layout::kC);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].num_elements, 1u);
}

}  // namespace
}  // namespace nimbus::zarr
