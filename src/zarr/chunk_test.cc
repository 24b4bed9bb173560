// ChunkArray::Filled / IsAllFill for every element size the data types produce, including sizes
// that do not divide the comparison block, NaN fills (bitwise equality) and variable-length types.
#include "zarr/chunk.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace nimbus::zarr {
namespace {

using nlohmann::json;

ChunkSpec Spec(const json& data_type, const json& fill, std::vector<uint64_t> shape) {
  ChunkSpec spec;
  spec.shape = std::move(shape);
  spec.data_type = DataType::FromJson(data_type).value();
  spec.fill_value = ParseFillValue(spec.data_type, fill).value();
  return spec;
}

TEST(ChunkArrayTest, FilledRepeatsTheFillElement) {
  const ChunkSpec specs[] = {
      Spec("uint8", 7, {5, 3}),
      Spec("int16", -2, {1000}),
      Spec("float32", "NaN", {17, 31}),
      Spec("float64", 0, {8, 8}),
      Spec("complex128", json::parse("[1.5, -2]"), {3, 3, 3}),
      Spec(json::parse(R"({"name": "raw_bytes", "configuration": {"length_bytes": 7}})"),
           "AQIDBAUGBw==", {999}),
      Spec(
          json::parse(R"({"name": "fixed_length_utf32", "configuration": {"length_bytes": 4100}})"),
          "ab", {3}),
      Spec("r24", json::parse("[1, 2, 3]"), {}),
  };
  for (const ChunkSpec& spec : specs) {
    SCOPED_TRACE(spec.data_type.name);
    const ChunkArray chunk = ChunkArray::Filled(spec);
    EXPECT_EQ(chunk.shape, spec.shape);
    ASSERT_EQ(chunk.data.size(), spec.num_bytes());
    const size_t item = spec.data_type.item_size;
    for (uint64_t i = 0; i < spec.num_elements(); ++i) {
      ASSERT_EQ(std::memcmp(chunk.data.data() + i * item, spec.fill_value.data(), item), 0) << i;
    }
    EXPECT_TRUE(chunk.IsAllFill(spec));
  }
}

TEST(ChunkArrayTest, IsAllFillFindsAnyDifferentByte) {
  // 3-byte elements: the comparison block (4095 bytes) ends mid-chunk at element boundaries.
  const ChunkSpec spec = Spec("r24", json::parse("[9, 8, 7]"), {5000});
  ChunkArray chunk = ChunkArray::Filled(spec);
  ASSERT_TRUE(chunk.IsAllFill(spec));
  for (size_t pos :
       {size_t{0}, size_t{1}, size_t{4094}, size_t{4095}, size_t{8190}, chunk.data.size() - 1}) {
    SCOPED_TRACE(pos);
    const char saved = chunk.data.data()[pos];
    chunk.data.data()[pos] = static_cast<char>(saved ^ 1);
    EXPECT_FALSE(chunk.IsAllFill(spec));
    chunk.data.data()[pos] = saved;
  }
  EXPECT_TRUE(chunk.IsAllFill(spec));
}

TEST(ChunkArrayTest, NanFillComparesBitwise) {
  const ChunkSpec spec = Spec("float32", "NaN", {64});
  ChunkArray chunk = ChunkArray::Filled(spec);
  EXPECT_TRUE(chunk.IsAllFill(spec));
  const uint32_t other_nan = 0x7fc00001;
  std::memcpy(chunk.data.data() + 4 * 10, &other_nan, 4);
  EXPECT_FALSE(chunk.IsAllFill(spec));
}

TEST(ChunkArrayTest, WrongSizeIsNotFill) {
  const ChunkSpec spec = Spec("int32", 0, {4});
  ChunkArray chunk = ChunkArray::Filled(spec);
  chunk.data.Resize(12);
  EXPECT_FALSE(chunk.IsAllFill(spec));
}

TEST(ChunkArrayTest, EmptyChunk) {
  const ChunkSpec spec = Spec("int32", 5, {0, 4});
  const ChunkArray chunk = ChunkArray::Filled(spec);
  EXPECT_EQ(chunk.data.size(), 0u);
  EXPECT_TRUE(chunk.IsAllFill(spec));
}

TEST(ChunkArrayTest, VariableLength) {
  const ChunkSpec spec = Spec("string", "n/a", {2, 3});
  ChunkArray chunk = ChunkArray::Filled(spec);
  EXPECT_TRUE(chunk.data.empty());
  ASSERT_EQ(chunk.values.size(), 6u);
  EXPECT_EQ(chunk.values[5], "n/a");
  EXPECT_TRUE(chunk.IsAllFill(spec));
  chunk.values[3] = "x";
  EXPECT_FALSE(chunk.IsAllFill(spec));
  chunk.values.pop_back();
  chunk.values[3] = "n/a";
  EXPECT_FALSE(chunk.IsAllFill(spec));

  const ChunkSpec bytes_spec = Spec("variable_length_bytes", "AA==", {3});
  const ChunkArray bytes_chunk = ChunkArray::Filled(bytes_spec);
  EXPECT_EQ(bytes_chunk.values, std::vector<std::string>(3, std::string(1, '\0')));
  EXPECT_TRUE(bytes_chunk.IsAllFill(bytes_spec));
}

}  // namespace
}  // namespace nimbus::zarr
