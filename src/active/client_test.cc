// The active storage client's wire format: request bodies, object URLs, credentials, CBOR answers
// (built with the server's own encoder) and error mapping.
#include "active/client.h"

#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "active/cbor.h"
#include "active/cbor_reader.h"

namespace nimbus::active {
namespace {

ClientConfig Config() {
  ClientConfig c;
  c.server_url = "http://127.0.0.1:8080";
  c.s3_endpoint = "http://minio:9000";
  c.bucket = "data";
  c.prefix = "runs/file.h5";
  c.access_key_id = "AKID";
  c.secret_access_key = "secret";
  return c;
}

TEST(ActiveClientTest, RequestUrlAndObjectUrl) {
  EXPECT_EQ(RequestUrl(Config(), zarr::RemoteOp::kSelect), "http://127.0.0.1:8080/v2/select/");
  EXPECT_EQ(RequestUrl(Config(), zarr::RemoteOp::kCount), "http://127.0.0.1:8080/v2/count/");
  // Keys are percent-encoded (the server decodes them without turning '+' into ' ').
  EXPECT_EQ(ObjectUrl(Config(), "temp/c/0/1"), "http://minio:9000/data/runs/file.h5/temp/c/0/1");
  EXPECT_EQ(ObjectUrl(Config(), "a b+c%/c/0"),
            "http://minio:9000/data/runs/file.h5/a%20b%2Bc%25/c/0");
  ClientConfig root = Config();
  root.prefix = "";
  EXPECT_EQ(ObjectUrl(root, "x/zarr.json"), "http://minio:9000/data/x/zarr.json");
}

TEST(ActiveClientTest, AuthorizationIsBasicKeyAndSecret) {
  EXPECT_EQ(AuthorizationHeader(Config()), "Basic QUtJRDpzZWNyZXQ=");
  ClientConfig anonymous = Config();
  anonymous.access_key_id.clear();
  anonymous.secret_access_key.clear();
  EXPECT_EQ(AuthorizationHeader(anonymous), "");
}

TEST(ActiveClientTest, SelectBodyHasEveryField) {
  zarr::RemoteRequest r;
  r.op = zarr::RemoteOp::kSelect;
  r.key = "d/c/1/2";
  r.offset = 100;
  r.size = 250;
  r.dtype = "float32";
  r.big_endian = true;
  r.shape = {10, 20};
  r.selection = {{0, 10, 3}, {5, 6, 1}};
  r.compression = "gzip";
  r.shuffle = {4};
  auto body = nlohmann::json::parse(BuildRequestBody(Config(), r));
  EXPECT_EQ(body["interface_type"], "s3");
  EXPECT_EQ(body["url"], "http://minio:9000/data/runs/file.h5/d/c/1/2");
  EXPECT_EQ(body["offset"], 100);
  EXPECT_EQ(body["size"], 250);
  EXPECT_EQ(body["dtype"], "float32");
  EXPECT_EQ(body["byte_order"], "big");
  EXPECT_EQ(body["shape"], nlohmann::json({10, 20}));
  EXPECT_EQ(body["order"], "C");
  EXPECT_EQ(body["selection"], nlohmann::json::parse("[[0,10,3],[5,6,1]]"));
  EXPECT_EQ(body["compression"], nlohmann::json({{"id", "gzip"}}));
  EXPECT_EQ(body["filters"], nlohmann::json::parse(R"([{"id":"shuffle","element_size":4}])"));
  EXPECT_FALSE(body.contains("axis"));
}

TEST(ActiveClientTest, ReductionBodyOmitsWhatIsUnset) {
  zarr::RemoteRequest r;
  r.op = zarr::RemoteOp::kSum;
  r.key = "k";
  r.dtype = "int16";
  r.shape = {4, 4, 4};
  r.selection = {{0, 4, 1}, {1, 3, 1}, {0, 4, 2}};
  r.axis = std::vector<size_t>{0, 2};
  auto body = nlohmann::json::parse(BuildRequestBody(Config(), r));
  EXPECT_EQ(body["axis"], nlohmann::json({0, 2}));
  EXPECT_FALSE(body.contains("size"));
  EXPECT_FALSE(body.contains("compression"));
  EXPECT_FALSE(body.contains("filters"));
  EXPECT_EQ(body["byte_order"], "little");
  r.axis = std::vector<size_t>{};
  EXPECT_EQ(nlohmann::json::parse(BuildRequestBody(Config(), r))["axis"], nlohmann::json::array());
}

std::string Response(std::string_view bytes, std::string_view dtype, std::vector<uint64_t> shape,
                     std::vector<int64_t> count, std::string_view order = "little") {
  CborWriter w;
  w.Map(7);
  w.Text("bytes");
  w.Bytes(bytes);
  w.Text("dtype");
  w.Text(dtype);
  w.Text("shape");
  w.Array(shape.size());
  for (uint64_t s : shape) w.Uint(s);
  w.Text("shape_as_bytes");
  w.Bytes("");
  w.Text("count");
  w.Array(count.size());
  for (int64_t c : count) w.Int(c);
  w.Text("count_as_bytes");
  w.Bytes("");
  w.Text("byte_order");
  w.Text(order);
  return w.Take();
}

TEST(ActiveClientTest, DecodesTheV2Answer) {
  const int32_t values[] = {1, -2, 300000};
  std::string bytes(reinterpret_cast<const char*>(values), sizeof values);
  auto r = ParseResponse(Response(bytes, "int32", {3}, {3}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->dtype, "int32");
  EXPECT_EQ(r->shape, (std::vector<uint64_t>{3}));
  EXPECT_EQ(r->count, (std::vector<int64_t>{3}));
  ASSERT_EQ(r->bytes.size(), 12u);
  EXPECT_EQ(std::memcmp(r->bytes.data(), values, 12), 0);
  EXPECT_GT(r->wire_bytes, 12u);

  // A scalar with a negative count entry (CBOR major type 1) and a big-endian server.
  std::string be("\x00\x00\x00\x00\x00\x00\x01\x02", 8);
  auto s = ParseResponse(Response(be, "int64", {}, {-1}, "big"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  int64_t v;
  std::memcpy(&v, s->bytes.data(), 8);
  EXPECT_EQ(v, 0x0102);
  EXPECT_EQ(s->count, (std::vector<int64_t>{-1}));
  EXPECT_TRUE(s->shape.empty());
}

TEST(ActiveClientTest, DecodesPackedShapeAndCount) {
  CborWriter w;
  w.Map(7);
  w.Text("bytes");
  w.Bytes(std::string(16, '\0'));
  w.Text("dtype");
  w.Text("int64");
  w.Text("shape");
  w.Array(0);
  w.Text("shape_as_bytes");
  const uint64_t shape = 2;
  w.Bytes(std::string_view(reinterpret_cast<const char*>(&shape), 8));
  w.Text("count");
  w.Array(0);
  w.Text("count_as_bytes");
  const int64_t counts[] = {5, 6};
  w.Bytes(std::string_view(reinterpret_cast<const char*>(counts), 16));
  w.Text("byte_order");
  w.Text("little");
  auto r = ParseResponse(w.Take());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->shape, (std::vector<uint64_t>{2}));
  EXPECT_EQ(r->count, (std::vector<int64_t>{5, 6}));
}

TEST(ActiveClientTest, RejectsMalformedAnswers) {
  EXPECT_FALSE(ParseResponse("").ok());
  EXPECT_FALSE(ParseResponse("\xa1").ok());                                  // truncated map
  EXPECT_FALSE(ParseResponse(Response("abc", "int32", {1}, {1})).ok());       // not whole elements
  EXPECT_FALSE(ParseResponse(Response("abcd", "complex64", {1}, {1})).ok());  // unknown dtype
  std::string extra = Response("abcd", "int32", {1}, {1}) + "x";
  EXPECT_FALSE(ParseResponse(extra).ok());                                    // trailing bytes
  CborWriter w;
  w.Map(1);
  w.Text("bytes");
  w.Bytes("");
  EXPECT_FALSE(ParseResponse(w.Take()).ok());  // keys missing
}

TEST(ActiveClientTest, CborReaderHandlesEveryMajorType) {
  // {"a": [1, -10, h'0102', "x", true, null, 1.5]} with a float64 and a tag.
  std::string data = "\xa1\x61" "a" "\x87\x01\x29\x42\x01\x02\x61x\xf5\xf6\xfb";
  const double d = 1.5;
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  for (int i = 7; i >= 0; --i) data.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
  auto v = DecodeCbor(data);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const CborValue* a = v->Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items.size(), 7u);
  EXPECT_EQ(*a->items[0].AsInt64(), 1);
  EXPECT_EQ(*a->items[1].AsInt64(), -10);
  EXPECT_EQ(a->items[2].string, std::string("\x01\x02", 2));
  EXPECT_EQ(a->items[3].string, "x");
  EXPECT_TRUE(a->items[4].boolean);
  EXPECT_EQ(a->items[5].type, CborValue::Type::kNull);
  EXPECT_EQ(a->items[6].number, 1.5);
  // A huge declared array length is refused, not allocated.
  EXPECT_FALSE(DecodeCbor("\x9b\xff\xff\xff\xff\xff\xff\xff\xff").ok());
  EXPECT_FALSE(DecodeCbor("\x9f\x01\xff").ok());  // indefinite length
}

TEST(ActiveClientTest, ErrorsSayWhatToDo) {
  const std::string no_key = R"({"error": {"message": "error retrieving object from S3 storage",
      "caused_by": ["NoSuchKey: The specified key does not exist."]}})";
  Status s = ErrorFromResponse(400, no_key, "nimbus-active at http://x", "http://m/b/k");
  EXPECT_EQ(s.kind(), ErrorKind::kNotFound);
  EXPECT_NE(s.message().find("http://m/b/k"), std::string::npos);

  s = ErrorFromResponse(401, R"({"error": {"message": "error retrieving object from S3 storage",
      "caused_by": ["Access Denied."]}})", "srv", "u");
  EXPECT_EQ(s.kind(), ErrorKind::kAccessDenied);
  EXPECT_NE(s.message().find("Access Denied."), std::string::npos);
  EXPECT_NE(s.message().find("Basic"), std::string::npos);

  s = ErrorFromResponse(400, R"({"error": {"message": "request data is not valid",
      "caused_by": ["dtype: unknown variant"]}})", "srv", "u");
  EXPECT_EQ(s.kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(s.message().find("dtype: unknown variant"), std::string::npos);

  EXPECT_EQ(ErrorFromResponse(503, "{}", "srv", "u").kind(), ErrorKind::kThrottled);
  EXPECT_EQ(ErrorFromResponse(500, "not json", "srv", "u").kind(), ErrorKind::kTransient);
  EXPECT_EQ(ErrorFromResponse(404, "", "srv", "u").kind(), ErrorKind::kUnimplemented);
}

TEST(ActiveClientTest, CreateChecksTheServerUrl) {
  ClientConfig c = Config();
  c.server_url = "localhost:8080";
  EXPECT_EQ(ActiveClient::Create(c).status().kind(), ErrorKind::kInvalidArgument);
  c.server_url = "http://localhost:8080/";
  auto client = ActiveClient::Create(c);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Describe(), "nimbus-active at http://localhost:8080");
}

TEST(ActiveClientTest, UnreachableServerFailsFastAfterTheFirstFailure) {
  ClientConfig c = Config();
  c.server_url = "http://127.0.0.1:1";  // nothing listens on port 1
  auto client = ActiveClient::Create(c);
  ASSERT_TRUE(client.ok());
  zarr::RemoteRequest r;
  r.key = "k";
  r.dtype = "int32";
  auto first = (*client)->Submit(r).Get();
  EXPECT_FALSE(first.ok());
  EXPECT_NE(first.status().message().find("cannot reach"), std::string::npos);
  auto second = (*client)->Submit(r);
  EXPECT_TRUE(second.ready());  // no request made: the server was just found down
  EXPECT_FALSE(second.Get().ok());
}


}  // namespace
}  // namespace nimbus::active
