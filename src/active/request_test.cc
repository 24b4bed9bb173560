#include "active/request.h"

#include <gtest/gtest.h>

#include "active/problem.h"

namespace nimbus::active {
namespace {

std::vector<std::string> Causes(const Status& status) { return ToProblem(status).caused_by; }

bool AnyCauseContains(const Status& status, std::string_view text) {
  for (const auto& c : Causes(status)) {
    if (c.find(text) != std::string::npos) return true;
  }
  return false;
}

Result<ActiveRequest> V2(std::string extra, Operation op = Operation::kSum) {
  std::string body = R"({"interface_type":"s3","url":"http://h:9000/b/k","dtype":"int64")" +
                     (extra.empty() ? "" : "," + extra) + "}";
  return ParseRequest(body, ApiVersion::kV2, op);
}

TEST(ActiveSliceTest, FollowsNumpy) {
  auto s = NormalizeSlice({-10, -50, -4}, 100);  // 90, 86, ..., 54
  EXPECT_EQ(s.first, 90);
  EXPECT_EQ(s.step, -4);
  EXPECT_EQ(s.count, 10);
  s = NormalizeSlice({0, 19, 2}, 20);
  EXPECT_EQ(s.count, 10);
  s = NormalizeSlice({5, 1000, 1}, 10);  // clamped
  EXPECT_EQ(s.first, 5);
  EXPECT_EQ(s.count, 5);
  s = NormalizeSlice({7, 3, 1}, 10);  // empty
  EXPECT_EQ(s.count, 0);
  s = NormalizeSlice({100, -100, -1}, 10);  // whole axis reversed
  EXPECT_EQ(s.first, 9);
  EXPECT_EQ(s.count, 10);
  s = NormalizeSlice({-3, 10, 1}, 10);
  EXPECT_EQ(s.first, 7);
  EXPECT_EQ(s.count, 3);
}

TEST(ActiveRequestTest, V2MinimalAndDefaults) {
  auto r = V2("");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->dtype, DType::kInt64);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_FALSE(r->size.has_value());
  EXPECT_FALSE(r->shape.has_value());
  EXPECT_FALSE(r->axis.has_value());
  EXPECT_EQ(r->byte_order, ByteOrder::kLittle);
}

TEST(ActiveRequestTest, NullsAreAcceptedForOptionalFields) {
  auto r = V2(R"("offset":null,"size":null,"shape":null,"selection":null,"axis":null,)"
              R"("order":null,"compression":null,"filters":null,"missing":null,"byte_order":null)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

TEST(ActiveRequestTest, FullV2Request) {
  auto r = V2(R"("offset":42,"size":400,"shape":[10,5],"order":"F",)"
              R"("selection":[[0,10,2],{"start":1,"end":3,"stride":1}],"axis":[1],)"
              R"("compression":{"id":"gzip"},"filters":[{"id":"shuffle","element_size":8}],)"
              R"("missing":{"valid_range":[-5,5]},"byte_order":"big",)"
              R"("option_shape_as_bytes":true,"option_count_as_bytes":true)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->offset, 42u);
  EXPECT_EQ(*r->size, 400u);
  EXPECT_TRUE(r->fortran_order);
  ASSERT_EQ(r->selection->size(), 2u);
  EXPECT_EQ((*r->selection)[1].end, 3);
  EXPECT_EQ(*r->axis, std::vector<size_t>{1});
  EXPECT_EQ(r->compression, Compression::kGzip);
  EXPECT_EQ(r->filters.at(0).element_size, 8u);
  EXPECT_EQ(r->missing.kind, MissingSpec::Kind::kValidRange);
  EXPECT_EQ(r->missing.ints, (std::vector<int64_t>{-5, 5}));
  EXPECT_EQ(r->byte_order, ByteOrder::kBig);
  EXPECT_TRUE(r->option_count_as_bytes);
}

TEST(ActiveRequestTest, ErrorsNameTheField) {
  struct Case {
    std::string extra;
    std::string field;
  };
  std::vector<Case> cases = {
      {R"("offset":-1)", "offset"},
      {R"("size":-123)", "size"},
      {R"("size":0)", "size"},
      {R"("shape":[0])", "shape"},
      {R"("shape":[])", "shape"},
      {R"("order":"nonexistent-ordering")", "order"},
      {R"("byte_order":"middle")", "byte_order"},
      {R"("shape":[10],"selection":[[10,100,1000],[2,3,4]])", "selection"},
      {R"("shape":[10],"selection":[[0,5,0]])", "selection"},
      {R"("shape":[10],"selection":[null])", "selection"},
      {R"("shape":[2,3],"axis":2)", "axis"},
      {R"("shape":[2,3],"axis":[1,0])", "axis"},
      {R"("axis":0)", "axis"},
      {R"("compression":{"id":"lzma"})", "compression"},
      {R"("filters":[{"id":"shuffle"}])", "filters"},
      {R"("missing":"string")", "missing"},
      {R"("missing":{"invalid_missing":42})", "missing"},
      {R"("missing":{"missing_value":1,"valid_min":0})", "missing"},
      {R"("unknown_field":1)", "unknown_field"},
      {R"("source":"http://x")", "source"},  // a v1 field in v2
      {R"("shape":[10],"size":79)", "size"},
  };
  for (const auto& c : cases) {
    auto r = V2(c.extra);
    ASSERT_FALSE(r.ok()) << c.extra;
    Problem p = ToProblem(r.status());
    EXPECT_EQ(p.http_status, 400) << c.extra;
    EXPECT_EQ(p.message, "request data is not valid");
    EXPECT_TRUE(AnyCauseContains(r.status(), c.field + ":")) << c.extra << " -> "
                                                             << r.status().message();
  }
  auto bad_dtype = ParseRequest(R"({"interface_type":"s3","url":"http://h/b/k","dtype":"fake-dtype-64"})",
                                ApiVersion::kV2, Operation::kSum);
  EXPECT_TRUE(AnyCauseContains(bad_dtype.status(), "dtype:"));
}

TEST(ActiveRequestTest, SelectionWithoutShapeNamesBoth) {
  auto r = V2(R"("selection":[[10,1,0]])");
  ASSERT_FALSE(r.ok());
  std::string all;
  for (const auto& c : Causes(r.status())) all += c + "\n";
  EXPECT_NE(all.find("selection"), std::string::npos);
  EXPECT_NE(all.find("shape"), std::string::npos);
}

TEST(ActiveRequestTest, MissingValuesMustFitTheDtype) {
  auto parse = [](std::string dtype, std::string missing) {
    return ParseRequest(R"({"interface_type":"s3","url":"http://h/b/k","dtype":")" + dtype +
                            R"(","missing":)" + missing + "}",
                        ApiVersion::kV2, Operation::kSum);
  };
  EXPECT_FALSE(parse("int32", R"({"missing_value":-2147483649})").ok());
  EXPECT_FALSE(parse("int32", R"({"missing_value":2147483648})").ok());
  EXPECT_FALSE(parse("int32", R"({"missing_value":-1.0})").ok());
  EXPECT_FALSE(parse("int64", R"({"missing_value":9223372036854775808})").ok());
  EXPECT_FALSE(parse("uint32", R"({"missing_values":[-1]})").ok());
  EXPECT_FALSE(parse("uint32", R"({"missing_values":[4294967296]})").ok());
  EXPECT_FALSE(parse("uint32", R"({"valid_min":1.0})").ok());
  EXPECT_FALSE(parse("uint64", R"({"valid_min":[18446744073709551616]})").ok());
  EXPECT_FALSE(parse("float32", R"({"valid_max":6.8e38})").ok());
  EXPECT_FALSE(parse("float32", R"({"valid_range":[1.0,0.0]})").ok());
  EXPECT_FALSE(parse("float64", R"({"valid_range":[1.0,1.0]})").ok());
  EXPECT_FALSE(parse("uint8", R"({"missing_value":256})").ok());
  auto ok = parse("uint64", R"({"missing_value":18446744073709551615})");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->missing.uints.at(0), 18446744073709551615ull);
  auto f = parse("float32", R"({"missing_value":1e20})");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->missing.floats.at(0), static_cast<double>(1e20f));
  EXPECT_TRUE(parse("float64", R"({"valid_range":[-1e20,1e20]})").ok());
  auto bad = parse("int32", R"({"missing_value":-1.0})");
  EXPECT_TRUE(AnyCauseContains(bad.status(), "Incompatible value"));
}

TEST(ActiveRequestTest, V1FieldsRequired) {
  auto r = ParseRequest(R"({"dtype":"int32","bucket":"","object":"o"})", ApiVersion::kV1,
                        Operation::kSum);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(AnyCauseContains(r.status(), "source: missing field"));
  EXPECT_TRUE(AnyCauseContains(r.status(), "bucket must not be empty"));
  auto good = ParseRequest(
      R"({"source":"http://localhost:9000","bucket":"b","object":"a b [1].bin","dtype":"int8"})",
      ApiVersion::kV1, Operation::kMax);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->object, "a b [1].bin");
  EXPECT_EQ(good->dtype, DType::kInt8);
  // v2 fields are unknown in v1.
  EXPECT_FALSE(ParseRequest(R"({"source":"http://l","bucket":"b","object":"o","dtype":"int8",)"
                            R"("url":"http://x/b/k"})",
                            ApiVersion::kV1, Operation::kMax)
                   .ok());
}

TEST(ActiveRequestTest, AxisAllAndEmptyAccepted) {
  auto all = V2(R"("shape":[2,3],"axis":[0,1])");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->axis->size(), 2u);
  auto none = V2(R"("shape":[2,3],"axis":[])");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->axis->empty());
}

TEST(ActiveProblemTest, BodyFormat) {
  Status s = MakeProblem(401, "error retrieving object from S3 storage",
                         {"AccessDenied: Access Denied.", "AccessDenied: Access Denied."});
  Problem p = ToProblem(s);
  EXPECT_EQ(p.http_status, 401);
  EXPECT_EQ(ProblemBody(p),
            "{\n  \"error\": {\n    \"caused_by\": [\n      \"AccessDenied: Access Denied.\"\n"
            "    ],\n    \"message\": \"error retrieving object from S3 storage\"\n  }\n}");
  Problem internal = ToProblem(PermanentError("boom"));
  EXPECT_EQ(internal.http_status, 500);
}

}  // namespace
}  // namespace nimbus::active
