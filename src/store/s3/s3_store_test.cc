// S3 driver: pure tests of the XML and error mapping, and the store conformance suite on a real
// S3 server (MinIO in `make test`) when NIMBUS_TEST_S3_* is set.
#include "store/s3/s3_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <cstdlib>
#include <random>

#include "store/s3/s3_xml.h"
#include "store/testing/conformance.h"

namespace nimbus::s3 {
namespace {

TEST(S3Xml, ParsesErrorBody) {
  S3Error e = ParseError(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code><Message>The "
      "specified key does not exist.</Message><RequestId>R1</RequestId></Error>");
  EXPECT_EQ(e.code, "NoSuchKey");
  EXPECT_EQ(e.message, "The specified key does not exist.");
  EXPECT_EQ(e.request_id, "R1");
  EXPECT_EQ(ParseError("not xml").code, "");
  EXPECT_EQ(ParseError("").code, "");
}

TEST(S3Xml, ParsesListPage) {
  auto page = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>tok"
      "</NextContinuationToken><Contents><Key>p/a b</Key><Size>12</Size><ETag>\"e1\"</ETag>"
      "<LastModified>2024-01-02T03:04:05.000Z</LastModified></Contents>"
      "<CommonPrefixes><Prefix>p/d/</Prefix></CommonPrefixes></ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "p/a b");
  EXPECT_EQ(page->objects[0].size, 12u);
  EXPECT_EQ(page->objects[0].etag, "\"e1\"");
  EXPECT_EQ(page->objects[0].last_modified, 1704164645);
  EXPECT_EQ(page->common_prefixes, std::vector<std::string>{"p/d/"});
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "tok");
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                                  "</ListBucketResult>").ok());
  EXPECT_FALSE(ParseListObjectsV2("garbage").ok());
}

TEST(S3Xml, BuildsEscapedDeleteAndComplete) {
  std::string xml = BuildDeleteObjects({"a&b", "<c>"});
  EXPECT_NE(xml.find("<Key>a&amp;b</Key>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<Key>&lt;c&gt;</Key>"), std::string::npos) << xml;
  std::string done = BuildCompleteMultipartUpload({{1, "\"x\""}, {2, "\"y\""}});
  EXPECT_NE(done.find("<Part><PartNumber>1</PartNumber><ETag>"), std::string::npos) << done;
  auto errs = ParseDeleteObjectsErrors(
      "<DeleteResult><Error><Key>k</Key><Code>AccessDenied</Code><Message>no</Message></Error>"
      "</DeleteResult>");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].first, "k");
  EXPECT_EQ(errs[0].second, "AccessDenied: no");
}

TEST(S3Errors, CodeDecidesOverStatus) {
  EXPECT_EQ(ClassifyS3Error(503, "SlowDown"), ErrorKind::kThrottled);
  EXPECT_EQ(ClassifyS3Error(500, "InternalError"), ErrorKind::kTransient);
  EXPECT_EQ(ClassifyS3Error(404, "NoSuchBucket"), ErrorKind::kNotFound);
  EXPECT_EQ(ClassifyS3Error(403, "SignatureDoesNotMatch"), ErrorKind::kAccessDenied);
  EXPECT_EQ(ClassifyS3Error(409, "ConditionalRequestConflict"), ErrorKind::kPreconditionFailed);
  EXPECT_EQ(ClassifyS3Error(400, "InvalidArgument"), ErrorKind::kPermanent);
  EXPECT_EQ(ClassifyS3Error(429, ""), ErrorKind::kThrottled);
  EXPECT_EQ(ClassifyS3Error(502, ""), ErrorKind::kTransient);
  EXPECT_EQ(ClassifyS3Error(412, ""), ErrorKind::kPreconditionFailed);
  EXPECT_EQ(ClassifyS3Error(404, ""), ErrorKind::kNotFound);
  EXPECT_EQ(ClassifyS3Error(400, ""), ErrorKind::kPermanent);
}

TEST(S3Addressing, DnsCompatibleBuckets) {
  EXPECT_TRUE(IsDnsCompatibleBucket("my-bucket-1"));
  EXPECT_FALSE(IsDnsCompatibleBucket("my.bucket"));
  EXPECT_FALSE(IsDnsCompatibleBucket("My_Bucket"));
  EXPECT_FALSE(IsDnsCompatibleBucket("ab"));
  EXPECT_FALSE(IsDnsCompatibleBucket("-abc"));
}

TEST(S3Store, ConditionalWritesOffAreRefusedNotSent) {
  // Garage ignores If-None-Match/If-Match: with conditional_writes off the store says so in its
  // capabilities and refuses conditional options before any request (the endpoint is never used).
  ConfigMap config{{"endpoint", "http://127.0.0.1:9"}, {"region", "garage"}, {"anonymous", "true"}};
  auto settings = ResolveS3Settings(config, MapEnv({}));
  ASSERT_TRUE(settings.ok()) << settings.status().message();
  S3Store store(*settings, "bucket", "p");
  EXPECT_FALSE(store.Capabilities().conditional_put);
  auto created = store.PutSync("k", "v", {.if_none_match_any = true});
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().kind(), ErrorKind::kUnimplemented);
  EXPECT_THAT(created.status().message(), testing::HasSubstr("conditional_writes"));
  auto replaced = store.PutSync("k", "v", {.if_match = "\"etag\""});
  ASSERT_FALSE(replaced.ok());
  EXPECT_EQ(replaced.status().kind(), ErrorKind::kUnimplemented);

  config["conditional_writes"] = "true";
  auto trusting = ResolveS3Settings(config, MapEnv({}));
  ASSERT_TRUE(trusting.ok());
  EXPECT_TRUE(S3Store(*trusting, "bucket", "p").Capabilities().conditional_put);
}

// --- Conformance on a real server -------------------------------------------------------------

std::optional<std::string> Env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::string UniquePrefix() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return "conformance-" + std::to_string(rd()) + "-" + std::to_string(counter++);
}

// The test server from NIMBUS_TEST_S3_* (MinIO in `make test`, Garage in `make test-garage`, which
// also sets NIMBUS_TEST_S3_REGION=garage and NIMBUS_TEST_S3_SIGNED_PAYLOADS=true).
ConfigMap ServerConfig() {
  ConfigMap config{{"endpoint", Env("NIMBUS_TEST_S3_ENDPOINT").value_or("")},
                   {"access_key_id", Env("NIMBUS_TEST_S3_ACCESS_KEY").value_or("")},
                   {"secret_access_key", Env("NIMBUS_TEST_S3_SECRET_KEY").value_or("")},
                   {"region", Env("NIMBUS_TEST_S3_REGION").value_or("us-east-1")},
                   {"addressing", "path"}};
  if (auto signed_payloads = Env("NIMBUS_TEST_S3_SIGNED_PAYLOADS")) {
    config["signed_payloads"] = *signed_payloads;
  }
  return config;
}

store::ConformanceParam MinioParam() {
  store::ConformanceParam param;
  param.name = "s3";
  auto endpoint = Env("NIMBUS_TEST_S3_ENDPOINT");
  if (!endpoint) {
    param.skip_reason = "NIMBUS_TEST_S3_ENDPOINT not set (make test starts MinIO and sets it)";
    if (Env("NIMBUS_TEST_REQUIRE_SERVERS") == "1") param.skip_reason.clear();
    return param;
  }
  param.make_store = []() -> std::shared_ptr<store::ObjectStore> {
    auto settings = ResolveS3Settings(ServerConfig(), MapEnv({}));
    if (!settings.ok()) return nullptr;
    return std::make_shared<S3Store>(*settings, *Env("NIMBUS_TEST_S3_BUCKET"), UniquePrefix());
  };
  return param;
}

TEST(S3Server, CreateBucketIsIdempotentForItsOwner) {
  if (!Env("NIMBUS_TEST_S3_ENDPOINT")) {
    if (Env("NIMBUS_TEST_REQUIRE_SERVERS") == "1") FAIL() << "NIMBUS_TEST_S3_ENDPOINT not set";
    GTEST_SKIP() << "NIMBUS_TEST_S3_ENDPOINT not set (make test starts MinIO and sets it)";
  }
  auto settings = ResolveS3Settings(ServerConfig(), MapEnv({}));
  ASSERT_TRUE(settings.ok());
  std::string bucket = "created-" + std::to_string(std::random_device{}());
  S3Store store(*settings, bucket, "");
  ASSERT_TRUE(store.CreateBucketIfMissing().ok());
  ASSERT_TRUE(store.CreateBucketIfMissing().ok()) << "an existing bucket of ours is success";
  ASSERT_TRUE(store.PutSync("k", "v").ok()) << "the bucket is usable";
  EXPECT_EQ(store.GetSync("k")->data.ToString(), "v");
}

using store::StoreConformance;
INSTANTIATE_TEST_SUITE_P(S3, StoreConformance, testing::Values(MinioParam()),
                         store::ConformanceParamName);

}  // namespace
}  // namespace nimbus::s3
