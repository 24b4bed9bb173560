#include "active/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

namespace nimbus::active {
namespace {

template <typename T>
std::vector<T> Values(const ReductionResult& r) {
  std::vector<T> out(r.bytes.size() / sizeof(T));
  std::memcpy(out.data(), r.bytes.data(), r.bytes.size());
  return out;
}

template <typename T>
ReductionResult Reduced(Operation op, const std::vector<T>& data, std::vector<uint64_t> shape,
                    bool fortran = false, std::optional<std::vector<SliceSpec>> selection = {},
                    std::optional<std::vector<size_t>> axis = {}, MissingSpec missing = {},
                    DType dtype = DType::kInt64) {
  auto view = MakeView(shape, fortran, selection);
  auto r = Reduce(op, dtype, reinterpret_cast<const char*>(data.data()), data.size(), view, axis,
                  fortran, missing);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(*r);
}

std::vector<int64_t> Iota(size_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(ActiveKernelsTest, FullReductions) {
  auto data = Iota(100);
  EXPECT_EQ(Values<int64_t>(Reduced(Operation::kSum, data, {100}))[0], 4950);
  EXPECT_EQ(Values<int64_t>(Reduced(Operation::kMin, data, {100}))[0], 0);
  EXPECT_EQ(Values<int64_t>(Reduced(Operation::kMax, data, {100}))[0], 99);
  auto count = Reduced(Operation::kCount, data, {100});
  EXPECT_EQ(count.dtype, DType::kInt64);
  EXPECT_EQ(Values<int64_t>(count)[0], 100);
  EXPECT_EQ(count.counts, std::vector<int64_t>{100});
  EXPECT_TRUE(count.shape.empty());
}

TEST(ActiveKernelsTest, NegativeStrideSelection) {
  auto data = Iota(100);
  // [[-10,-50,-4]] selects 90, 86, ..., 54.
  auto r = Reduced(Operation::kSelect, data, {100}, false, std::vector<SliceSpec>{{-10, -50, -4}});
  auto v = Values<int64_t>(r);
  ASSERT_EQ(v.size(), 10u);
  EXPECT_EQ(v.front(), 90);
  EXPECT_EQ(v.back(), 54);
  EXPECT_EQ(r.shape, std::vector<uint64_t>{10});
  EXPECT_EQ(Values<int64_t>(Reduced(Operation::kSum, data, {100}, false,
                                std::vector<SliceSpec>{{-10, -50, -4}}))[0],
            (90 + 54) * 10 / 2);
}

TEST(ActiveKernelsTest, TwoDimensionalAxesInBothOrders) {
  // Logical array a[i][j] = 10*i + j, shape [4, 3].
  std::vector<int64_t> c_data, f_data;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) c_data.push_back(10 * i + j);
  for (int j = 0; j < 3; ++j)
    for (int i = 0; i < 4; ++i) f_data.push_back(10 * i + j);
  for (bool fortran : {false, true}) {
    const auto& data = fortran ? f_data : c_data;
    auto axis0 = Reduced(Operation::kSum, data, {4, 3}, fortran, {}, std::vector<size_t>{0});
    EXPECT_EQ(Values<int64_t>(axis0), (std::vector<int64_t>{60, 64, 68})) << fortran;
    EXPECT_EQ(axis0.counts, (std::vector<int64_t>{4, 4, 4}));
    auto axis1 = Reduced(Operation::kMax, data, {4, 3}, fortran, {}, std::vector<size_t>{1});
    EXPECT_EQ(Values<int64_t>(axis1), (std::vector<int64_t>{2, 12, 22, 32})) << fortran;
    // Selection rows 0:4:2, cols 1:3 -> [[1,2],[21,22]].
    std::vector<SliceSpec> sel = {{0, 4, 2}, {1, 3, 1}};
    auto select = Reduced(Operation::kSelect, data, {4, 3}, fortran, sel);
    EXPECT_EQ(select.shape, (std::vector<uint64_t>{2, 2}));
    const std::vector<int64_t> expected =
        fortran ? std::vector<int64_t>{1, 21, 2, 22} : std::vector<int64_t>{1, 2, 21, 22};
    EXPECT_EQ(Values<int64_t>(select), expected);
    EXPECT_EQ(select.counts, std::vector<int64_t>{4});
    // axis=() keeps the selection, counts per element in C order.
    auto none = Reduced(Operation::kMin, data, {4, 3}, fortran, sel, std::vector<size_t>{});
    EXPECT_EQ(Values<int64_t>(none), Values<int64_t>(select));
    EXPECT_EQ(none.counts, (std::vector<int64_t>{1, 1, 1, 1}));
    // Every axis listed is a full reduction.
    auto all = Reduced(Operation::kSum, data, {4, 3}, fortran, sel, std::vector<size_t>{0, 1});
    EXPECT_TRUE(all.shape.empty());
    EXPECT_EQ(Values<int64_t>(all)[0], 46);
  }
}

TEST(ActiveKernelsTest, ThreeDimensionalPartialReductionFollowsRequestOrder) {
  // shape [2,3,4], reduce axis 1 -> [2,4]; in F order the result bytes are F-ordered.
  std::vector<int64_t> c_data = Iota(24);
  auto c = Reduced(Operation::kSum, c_data, {2, 3, 4}, false, {}, std::vector<size_t>{1});
  // a[i][j][k] = 12i + 4j + k; sum over j = 36i + 12 + 3k.
  EXPECT_EQ(Values<int64_t>(c), (std::vector<int64_t>{12, 15, 18, 21, 48, 51, 54, 57}));
  std::vector<int64_t> f_data(24);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) f_data[i + 2 * j + 6 * k] = 12 * i + 4 * j + k;
  auto f = Reduced(Operation::kSum, f_data, {2, 3, 4}, true, {}, std::vector<size_t>{1});
  EXPECT_EQ(Values<int64_t>(f), (std::vector<int64_t>{12, 48, 15, 51, 18, 54, 21, 57}));
  EXPECT_EQ(f.counts, (std::vector<int64_t>{3, 3, 3, 3, 3, 3, 3, 3}));
}

TEST(ActiveKernelsTest, MissingData) {
  std::vector<int32_t> data = {1, -999, 3, 4, -999, 6};
  MissingSpec m;
  m.kind = MissingSpec::Kind::kValue;
  m.ints = {-999};
  auto sum = Reduced(Operation::kSum, data, {6}, false, {}, {}, m, DType::kInt32);
  EXPECT_EQ(Values<int32_t>(sum)[0], 14);
  EXPECT_EQ(sum.counts, std::vector<int64_t>{4});
  auto sel = Reduced(Operation::kSelect, data, {6}, false, {}, {}, m, DType::kInt32);
  EXPECT_EQ(Values<int32_t>(sel), data);  // missing elements unchanged
  EXPECT_EQ(sel.counts, std::vector<int64_t>{4});
  MissingSpec range;
  range.kind = MissingSpec::Kind::kValidRange;
  range.ints = {2, 5};
  EXPECT_EQ(Values<int32_t>(Reduced(Operation::kMax, data, {6}, false, {}, {}, range, DType::kInt32))[0], 4);
  EXPECT_EQ(Values<int32_t>(Reduced(Operation::kMin, data, {6}, false, {}, {}, range, DType::kInt32))[0], 3);
  MissingSpec below;
  below.kind = MissingSpec::Kind::kValidMin;
  below.ints = {4};  // 4 itself is valid
  EXPECT_EQ(Reduced(Operation::kCount, data, {6}, false, {}, {}, below, DType::kInt32).counts,
            std::vector<int64_t>{2});
  MissingSpec any;
  any.kind = MissingSpec::Kind::kValues;
  any.ints = {1, 6};
  EXPECT_EQ(Values<int64_t>(Reduced(Operation::kCount, data, {6}, false, {}, {}, any, DType::kInt32))[0], 4);
}

TEST(ActiveKernelsTest, EmptyAndAllMissing) {
  std::vector<float> data = {1, 2, 3};
  auto empty_sel = std::vector<SliceSpec>{{2, 1, 1}};
  auto sum = Reduced(Operation::kSum, data, {3}, false, empty_sel, {}, {}, DType::kFloat32);
  EXPECT_EQ(Values<float>(sum)[0], 0.0f);
  EXPECT_EQ(sum.counts, std::vector<int64_t>{0});
  auto min = Reduced(Operation::kMin, data, {3}, false, empty_sel, {}, {}, DType::kFloat32);
  EXPECT_TRUE(std::isnan(Values<float>(min)[0]));
  EXPECT_EQ(min.counts, std::vector<int64_t>{0});
  auto select = Reduced(Operation::kSelect, data, {3}, false, empty_sel, {}, {}, DType::kFloat32);
  EXPECT_EQ(select.bytes.size(), 0u);
  EXPECT_EQ(select.shape, std::vector<uint64_t>{0});
  std::vector<int32_t> ints = {5, 5};
  MissingSpec m;
  m.kind = MissingSpec::Kind::kValue;
  m.ints = {5};
  auto imin = Reduced(Operation::kMin, ints, {2}, false, {}, {}, m, DType::kInt32);
  EXPECT_EQ(Values<int32_t>(imin)[0], std::numeric_limits<int32_t>::max());
  EXPECT_EQ(imin.counts, std::vector<int64_t>{0});
}

TEST(ActiveKernelsTest, SingleElementSelections) {
  // PyActiveStorage sends an integer index i as [i, i+1, 1].
  std::vector<int64_t> data = Iota(12);
  std::vector<SliceSpec> one = {{2, 3, 1}, {1, 2, 1}};
  auto select = Reduced(Operation::kSelect, data, {3, 4}, false, one);
  EXPECT_EQ(Values<int64_t>(select), std::vector<int64_t>{9});
  EXPECT_EQ(select.shape, (std::vector<uint64_t>{1, 1}));
  auto none = Reduced(Operation::kMax, data, {3, 4}, true, one, std::vector<size_t>{});
  EXPECT_EQ(Values<int64_t>(none), std::vector<int64_t>{5});  // F order: a[2][1] = 2 + 3*1
  EXPECT_EQ(Values<int64_t>(Reduced(Operation::kSum, data, {3, 4}, false, one,
                                    std::vector<size_t>{0})),
            std::vector<int64_t>{9});
  std::vector<int64_t> single = {42};
  EXPECT_EQ(Values<int64_t>(Reduced(Operation::kSelect, single, {1})), std::vector<int64_t>{42});
  EXPECT_EQ(Values<int64_t>(Reduced(Operation::kMin, single, {1})), std::vector<int64_t>{42});
}

TEST(ActiveKernelsTest, NaNPropagatesThroughMinMaxSum) {
  std::vector<double> data(100, 1.0);
  data[37] = std::nan("");
  for (Operation op : {Operation::kMin, Operation::kMax, Operation::kSum}) {
    auto r = Reduced(op, data, {100}, false, {}, {}, {}, DType::kFloat64);
    EXPECT_TRUE(std::isnan(Values<double>(r)[0]));
  }
  EXPECT_EQ(Reduced(Operation::kCount, data, {100}, false, {}, {}, {}, DType::kFloat64).counts[0], 100);
}

TEST(ActiveKernelsTest, IntegerSumWrapsLikeNumpy) {
  std::vector<int8_t> data(10, 100);  // 1000 mod 256 = 232 -> -24 as int8
  EXPECT_EQ(Values<int8_t>(Reduced(Operation::kSum, data, {10}, false, {}, {}, {}, DType::kInt8))[0], -24);
  std::vector<uint64_t> big = {std::numeric_limits<uint64_t>::max(), 2};
  EXPECT_EQ(Values<uint64_t>(Reduced(Operation::kSum, big, {2}, false, {}, {}, {}, DType::kUint64))[0], 1u);
}

TEST(ActiveKernelsTest, Float16) {
  std::vector<uint16_t> data;
  for (float f : {1.5f, -2.0f, 0.25f, 4.0f}) data.push_back(FloatToHalf(f));
  auto sum = Reduced(Operation::kSum, data, {4}, false, {}, {}, {}, DType::kFloat16);
  EXPECT_EQ(sum.dtype, DType::kFloat16);
  EXPECT_EQ(HalfToFloat(Values<uint16_t>(sum)[0]), 3.75f);
  auto min = Reduced(Operation::kMin, data, {4}, false, {}, {}, {}, DType::kFloat16);
  EXPECT_EQ(HalfToFloat(Values<uint16_t>(min)[0]), -2.0f);
  EXPECT_EQ(HalfToFloat(FloatToHalf(65504.0f)), 65504.0f);
  EXPECT_TRUE(std::isinf(HalfToFloat(FloatToHalf(1e6f))));
  EXPECT_EQ(HalfToFloat(FloatToHalf(5.960464477539063e-08f)), 5.960464477539063e-08f);
}

TEST(ActiveKernelsTest, LongContiguousRunsMatchScalarSums) {
  std::vector<float> data(10007);
  double expected = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<float>(i % 13) - 6.0f;
    expected += data[i];
  }
  auto r = Reduced(Operation::kSum, data, {10007}, false, {}, {}, {}, DType::kFloat32);
  EXPECT_EQ(Values<float>(r)[0], static_cast<float>(expected));
  auto mx = Reduced(Operation::kMax, data, {10007}, false, {}, {}, {}, DType::kFloat32);
  EXPECT_EQ(Values<float>(mx)[0], 6.0f);
}

// Narrow dtypes keep per-lane counters as wide as the data and flush them into 64-bit totals
// every 255 (1-byte) or 65535 (2-byte) steps: long runs with missing data must count exactly.
template <typename T>
void CheckLongRunAgainstScalar(DType dtype, MissingSpec missing, auto is_missing) {
  const size_t n = 300'000 + 5;  // > 65535 * 8 lanes, not a multiple of the lane count
  std::vector<T> data(n);
  for (size_t i = 0; i < n; ++i) data[i] = static_cast<T>((i * 7919) % 97);
  int64_t count = 0;
  T lo = std::numeric_limits<T>::max(), hi = std::numeric_limits<T>::lowest();
  for (T x : data) {
    if (is_missing(x)) continue;
    ++count;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  auto c = Reduced(Operation::kCount, data, {n}, false, {}, {}, missing, dtype);
  EXPECT_EQ(c.counts, std::vector<int64_t>{count});
  auto mn = Reduced(Operation::kMin, data, {n}, false, {}, {}, missing, dtype);
  EXPECT_EQ(mn.counts, std::vector<int64_t>{count});
  EXPECT_EQ(Values<T>(mn)[0], lo);
  auto mx = Reduced(Operation::kMax, data, {n}, false, {}, {}, missing, dtype);
  EXPECT_EQ(Values<T>(mx)[0], hi);
  EXPECT_EQ(Reduced(Operation::kSum, data, {n}, false, {}, {}, missing, dtype).counts,
            std::vector<int64_t>{count});
}

TEST(ActiveKernelsTest, LongRunsWithMissingCountExactlyForEveryWidth) {
  MissingSpec below;
  below.kind = MissingSpec::Kind::kValidMin;
  below.ints = {5};
  CheckLongRunAgainstScalar<int8_t>(DType::kInt8, below, [](int8_t x) { return x < 5; });
  CheckLongRunAgainstScalar<int16_t>(DType::kInt16, below, [](int16_t x) { return x < 5; });
  MissingSpec above;
  above.kind = MissingSpec::Kind::kValidMax;
  above.uints = {90};
  CheckLongRunAgainstScalar<uint8_t>(DType::kUint8, above, [](uint8_t x) { return x > 90; });
  CheckLongRunAgainstScalar<uint16_t>(DType::kUint16, above, [](uint16_t x) { return x > 90; });
  CheckLongRunAgainstScalar<uint64_t>(DType::kUint64, above, [](uint64_t x) { return x > 90; });
  MissingSpec value;
  value.kind = MissingSpec::Kind::kValue;
  value.floats = {13.0};
  CheckLongRunAgainstScalar<float>(DType::kFloat32, value, [](float x) { return x == 13.0f; });
  CheckLongRunAgainstScalar<double>(DType::kFloat64, value, [](double x) { return x == 13.0; });
}

TEST(ActiveKernelsTest, NaNAnywhereInALongRunPropagates) {
  for (size_t at : {size_t{0}, size_t{7}, size_t{8}, size_t{4093}, size_t{4099}}) {
    std::vector<float> data(4100, 1.0f);
    data[at] = std::numeric_limits<float>::quiet_NaN();
    for (Operation op : {Operation::kMin, Operation::kMax}) {
      auto r = Reduced(op, data, {data.size()}, false, {}, {}, {}, DType::kFloat32);
      EXPECT_TRUE(std::isnan(Values<float>(r)[0])) << at;
      EXPECT_EQ(r.counts, std::vector<int64_t>{4100});
    }
    // Declared missing values do not hide a NaN elsewhere; a NaN is never missing.
    MissingSpec m;
    m.kind = MissingSpec::Kind::kValue;
    m.floats = {1.0};
    auto r = Reduced(Operation::kMax, data, {data.size()}, false, {}, {}, m, DType::kFloat32);
    EXPECT_TRUE(std::isnan(Values<float>(r)[0])) << at;
    EXPECT_EQ(r.counts, std::vector<int64_t>{1});
  }
}

}  // namespace
}  // namespace nimbus::active
