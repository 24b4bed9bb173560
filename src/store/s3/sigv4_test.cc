#include "store/s3/sigv4.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace nimbus::s3 {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Helpers for the AWS vectors (request.txt is raw HTTP with an unencoded path).

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Expected-value files have no meaningful trailing newline.
std::string ReadExpected(const fs::path& path) {
  std::string text = ReadText(path);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

QueryParams ParseQuery(std::string_view query) {
  QueryParams params;
  while (!query.empty()) {
    size_t end = std::min(query.find('&'), query.size());
    std::string_view item = query.substr(0, end);
    query = end == query.size() ? std::string_view() : query.substr(end + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      params.emplace_back(PercentDecode(item), "");
    } else {
      params.emplace_back(PercentDecode(item.substr(0, eq)), PercentDecode(item.substr(eq + 1)));
    }
  }
  return params;
}

struct RawRequest {
  std::string method;
  std::string path;   // raw, as written in the file
  std::string query;  // raw, without '?'
  http::Headers headers;
  std::string body;
};

RawRequest ParseRawRequest(std::string_view text) {
  RawRequest request;
  auto next_line = [&]() -> std::optional<std::string_view> {
    if (text.empty()) return std::nullopt;
    size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text = end == text.size() ? std::string_view() : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  // "GET /example space/?a=b HTTP/1.1": the target may contain spaces.
  std::string_view request_line = next_line().value_or("");
  size_t first_space = request_line.find(' ');
  size_t last_space = request_line.rfind(' ');
  request.method = std::string(request_line.substr(0, first_space));
  std::string_view target = request_line.substr(first_space + 1, last_space - first_space - 1);
  size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));

  while (auto line = next_line()) {
    if (line->empty()) {
      request.body = std::string(text);
      break;
    }
    if ((line->front() == ' ' || line->front() == '\t') && !request.headers.empty()) {
      // Folded continuation line (obsolete HTTP syntax, still in the vectors).
      request.headers.back().second += " " + std::string(*line);
      continue;
    }
    size_t colon = line->find(':');
    request.headers.emplace_back(std::string(line->substr(0, colon)),
                                 std::string(line->substr(colon + 1)));
  }
  return request;
}

std::string CollapseBlanks(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool blank = c == ' ' || c == '\t';
    if (blank && (out.empty() || out.back() == ' ')) continue;
    out.push_back(blank ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Headers as a sorted multiset of (lower-case name, collapsed value), for order-free comparison.
std::vector<std::pair<std::string, std::string>> Normalized(const http::Headers& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.emplace_back(lower, CollapseBlanks(value));
  }
  std::sort(out.begin(), out.end());
  return out;
}

QueryParams Sorted(QueryParams params) {
  std::sort(params.begin(), params.end());
  return params;
}

std::time_t ParseTimestamp(const std::string& text) {
  std::tm tm{};
  std::istringstream in(text);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  return timegm(&tm);
}

// ---------------------------------------------------------------------------------------------
// The AWS signing test suite, one parameterised test per case folder.

const fs::path kVectorsDir = NIMBUS_SIGV4_VECTORS_DIR;

std::vector<std::string> VectorCases() {
  std::vector<std::string> cases;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(kVectorsDir, ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / "request.txt")) {
      cases.push_back(entry.path().filename().string());
    }
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

TEST(SigV4VectorsTest, VectorsArePresent) {
  EXPECT_GE(VectorCases().size(), 30u) << "no SigV4 vectors found in " << kVectorsDir;
}

class SigV4VectorTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = kVectorsDir / GetParam();
    nlohmann::json context = nlohmann::json::parse(ReadText(dir_ / "context.json"));
    credentials_.access_key_id = context["credentials"]["access_key_id"];
    credentials_.secret_access_key = context["credentials"]["secret_access_key"];
    credentials_.session_token = context["credentials"].value("token", "");
    params_.region = context["region"];
    params_.service = context["service"];
    params_.time = ParseTimestamp(context["timestamp"]);
    params_.add_content_sha256_header = context.value("sign_body", false);
    params_.sign_session_token = !context.value("omit_session_token", false);
    params_.expires_seconds = context.value("expiration_in_seconds", 3600);

    raw_ = ParseRawRequest(ReadText(dir_ / "request.txt"));
    request_.method = raw_.method;
    // On the wire the path is percent-encoded once; that is what S3 signs.
    request_.path = SigV4Encode(raw_.path, /*keep_slash=*/true);
    request_.query = ParseQuery(raw_.query);
    request_.headers = raw_.headers;
    request_.payload_hash = Sha256Hex(raw_.body);
    request_.normalize_path = context.value("normalize", false);
  }

  fs::path dir_;
  Credentials credentials_;
  SigningParams params_;
  RawRequest raw_;
  SigningRequest request_;
  Signer signer_;
};

TEST_P(SigV4VectorTest, HeaderSigning) {
  Result<SignedRequest> signed_request = signer_.SignHeaders(credentials_, request_, params_);
  ASSERT_TRUE(signed_request.ok()) << signed_request.status().ToString();
  EXPECT_EQ(signed_request->canonical_request, ReadExpected(dir_ / "header-canonical-request.txt"));
  EXPECT_EQ(signed_request->string_to_sign, ReadExpected(dir_ / "header-string-to-sign.txt"));
  EXPECT_EQ(signed_request->signature, ReadExpected(dir_ / "header-signature.txt"));

  RawRequest expected = ParseRawRequest(ReadText(dir_ / "header-signed-request.txt"));
  auto authorization =
      std::find_if(expected.headers.begin(), expected.headers.end(),
                   [](const auto& header) { return header.first == "Authorization"; });
  ASSERT_NE(authorization, expected.headers.end());
  EXPECT_EQ(signed_request->authorization, authorization->second);

  // The request after adding the auth headers is the expected signed request, header for header.
  http::Headers headers = request_.headers;
  signed_request->AddAuthHeaders(headers);
  EXPECT_EQ(Normalized(headers), Normalized(expected.headers));
}

TEST_P(SigV4VectorTest, QuerySigning) {
  Result<SignedRequest> signed_request = signer_.Presign(credentials_, request_, params_);
  ASSERT_TRUE(signed_request.ok()) << signed_request.status().ToString();
  EXPECT_EQ(signed_request->canonical_request, ReadExpected(dir_ / "query-canonical-request.txt"));
  EXPECT_EQ(signed_request->string_to_sign, ReadExpected(dir_ / "query-string-to-sign.txt"));
  EXPECT_EQ(signed_request->signature, ReadExpected(dir_ / "query-signature.txt"));
  EXPECT_TRUE(signed_request->authorization.empty());
  EXPECT_TRUE(signed_request->headers_to_add.empty());

  RawRequest expected = ParseRawRequest(ReadText(dir_ / "query-signed-request.txt"));
  EXPECT_EQ(Sorted(ParseQuery(signed_request->presigned_query)),
            Sorted(ParseQuery(expected.query)));
  EXPECT_EQ(Normalized(request_.headers), Normalized(expected.headers));
}

std::string CaseName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Aws, SigV4VectorTest, ::testing::ValuesIn(VectorCases()), CaseName);

// ---------------------------------------------------------------------------------------------
// Utilities.

TEST(SigV4UtilTest, Sha256Hex) {
  EXPECT_EQ(Sha256Hex(""), kEmptyPayloadSha256);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SigV4UtilTest, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SigV4UtilTest, HexEncode) {
  EXPECT_EQ(HexEncode(std::string("\x00\x7f\xff", 3)), "007fff");
  EXPECT_EQ(HexEncode(""), "");
}

TEST(SigV4UtilTest, AmzDateIsUtc) {
  EXPECT_EQ(AmzDate(1440938160), "20150830T123600Z");
  EXPECT_EQ(AmzDate(0), "19700101T000000Z");
}

TEST(SigV4UtilTest, Encode) {
  EXPECT_EQ(SigV4Encode("-._~azAZ09", false), "-._~azAZ09");
  EXPECT_EQ(SigV4Encode("a b/c+d=e*", false), "a%20b%2Fc%2Bd%3De%2A");
  EXPECT_EQ(SigV4Encode("a b/c", true), "a%20b/c");
  EXPECT_EQ(SigV4Encode("\xe1\x88\xb4", false), "%E1%88%B4");
}

TEST(SigV4UtilTest, NormalizePath) {
  EXPECT_EQ(NormalizePath(""), "/");
  EXPECT_EQ(NormalizePath("/"), "/");
  EXPECT_EQ(NormalizePath("//"), "/");
  EXPECT_EQ(NormalizePath("/./"), "/");
  EXPECT_EQ(NormalizePath("/example/.."), "/");
  EXPECT_EQ(NormalizePath("/a/b/../.."), "/");
  EXPECT_EQ(NormalizePath("/a/b/.."), "/a/");
  EXPECT_EQ(NormalizePath("/a/b/."), "/a/b/");
  EXPECT_EQ(NormalizePath("/./example"), "/example");
  EXPECT_EQ(NormalizePath("//example//"), "/example/");
  EXPECT_EQ(NormalizePath("/../a"), "/a");
  EXPECT_EQ(NormalizePath("/a/..b/c"), "/a/..b/c");
}

// ---------------------------------------------------------------------------------------------
// S3 behaviour (examples from the Amazon S3 SigV4 documentation).

constexpr std::time_t k20130524 = 1369353600;

Credentials S3DocCredentials() {
  return {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
}

SigningParams S3DocParams() {
  SigningParams params;
  params.region = "us-east-1";
  params.service = "s3";
  params.time = k20130524;
  return params;
}

TEST(SigV4S3Test, GetObjectWithRange) {
  SigningRequest request;
  request.method = "GET";
  request.path = "/test.txt";
  request.headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}};
  request.payload_hash = std::string(kEmptyPayloadSha256);
  Signer signer;
  Result<SignedRequest> signed_request =
      signer.SignHeaders(S3DocCredentials(), request, S3DocParams());
  ASSERT_TRUE(signed_request.ok()) << signed_request.status().ToString();
  EXPECT_EQ(signed_request->signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(signed_request->signature,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(signed_request->authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_THAT(signed_request->headers_to_add,
              ::testing::ElementsAre(
                  ::testing::Pair("x-amz-date", "20130524T000000Z"),
                  ::testing::Pair("x-amz-content-sha256", std::string(kEmptyPayloadSha256)),
                  ::testing::Pair("authorization", signed_request->authorization)));
}

TEST(SigV4S3Test, PresignedGetObject) {
  SigningRequest request;
  request.path = "/test.txt";
  request.headers = {{"host", "examplebucket.s3.amazonaws.com"}};
  request.payload_hash = std::string(kUnsignedPayload);
  SigningParams params = S3DocParams();
  params.expires_seconds = 86400;
  Signer signer;
  Result<SignedRequest> signed_request = signer.Presign(S3DocCredentials(), request, params);
  ASSERT_TRUE(signed_request.ok()) << signed_request.status().ToString();
  EXPECT_EQ(signed_request->signature,
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_EQ(signed_request->presigned_query,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
            "X-Amz-SignedHeaders=host&X-Amz-Signature="
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4S3Test, PathIsSignedExactlyAsSent) {
  SigningRequest request;
  request.path = "/bucket/a/../b//c%20d";
  request.headers = {{"host", "s3.example.com"}};
  Signer signer;
  Result<SignedRequest> signed_request =
      signer.SignHeaders(S3DocCredentials(), request, S3DocParams());
  ASSERT_TRUE(signed_request.ok());
  EXPECT_THAT(signed_request->canonical_request,
              ::testing::StartsWith("GET\n/bucket/a/../b//c%20d\n\n"));
  EXPECT_THAT(signed_request->canonical_request, ::testing::EndsWith("\nUNSIGNED-PAYLOAD"));
}

TEST(SigV4S3Test, QueryIsEncodedAndSorted) {
  SigningRequest request;
  request.path = "/bucket";
  request.query = {{"prefix", "a b/c"}, {"list-type", "2"}, {"delimiter", "/"}, {"uploads", ""}};
  request.headers = {{"host", "s3.example.com"}};
  Signer signer;
  Result<SignedRequest> signed_request =
      signer.SignHeaders(S3DocCredentials(), request, S3DocParams());
  ASSERT_TRUE(signed_request.ok());
  EXPECT_THAT(
      signed_request->canonical_request,
      ::testing::StartsWith("GET\n/bucket\ndelimiter=%2F&list-type=2&prefix=a%20b%2Fc&uploads=\n"));
}

TEST(SigV4S3Test, HeadersAreCanonicalised) {
  SigningRequest request;
  request.headers = {
      {"Host", "h"},         {"X-Amz-Meta-B", "  two   words "}, {"x-amz-meta-a", "1"},
      {"X-AMZ-META-A", "2"}, {"User-Agent", "curl/8"},           {"Authorization", "stale"}};
  Signer signer;
  Result<SignedRequest> signed_request =
      signer.SignHeaders(S3DocCredentials(), request, S3DocParams());
  ASSERT_TRUE(signed_request.ok());
  EXPECT_EQ(signed_request->signed_headers,
            "host;x-amz-content-sha256;x-amz-date;x-amz-meta-a;x-amz-meta-b");
  EXPECT_THAT(signed_request->canonical_request,
              ::testing::HasSubstr("\nx-amz-meta-a:1,2\nx-amz-meta-b:two words\n"));
}

TEST(SigV4S3Test, SignerOwnedHeadersAreReplaced) {
  SigningRequest request;
  request.headers = {{"host", "h"}, {"X-Amz-Date", "19990101T000000Z"}};
  Signer signer;
  Result<SignedRequest> signed_request =
      signer.SignHeaders(S3DocCredentials(), request, S3DocParams());
  ASSERT_TRUE(signed_request.ok());
  EXPECT_THAT(signed_request->canonical_request,
              ::testing::HasSubstr("\nx-amz-date:20130524T000000Z\n"));
  EXPECT_THAT(signed_request->canonical_request, ::testing::Not(::testing::HasSubstr("1999")));

  http::Headers headers = {
      {"Host", "h"}, {"X-Amz-Date", "19990101T000000Z"}, {"Authorization", "stale"}};
  signed_request->AddAuthHeaders(headers);
  EXPECT_THAT(headers,
              ::testing::UnorderedElementsAre(
                  ::testing::Pair("Host", "h"), ::testing::Pair("x-amz-date", "20130524T000000Z"),
                  ::testing::Pair("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
                  ::testing::Pair("authorization", signed_request->authorization)));
}

TEST(SigV4S3Test, SessionTokenIsSignedAndSent) {
  Credentials credentials = S3DocCredentials();
  credentials.session_token = "token/with+chars";
  SigningRequest request;
  request.headers = {{"host", "h"}};
  Signer signer;
  Result<SignedRequest> by_header = signer.SignHeaders(credentials, request, S3DocParams());
  ASSERT_TRUE(by_header.ok());
  EXPECT_EQ(by_header->signed_headers, "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
  EXPECT_THAT(by_header->headers_to_add,
              ::testing::Contains(::testing::Pair("x-amz-security-token", "token/with+chars")));

  Result<SignedRequest> by_query = signer.Presign(credentials, request, S3DocParams());
  ASSERT_TRUE(by_query.ok());
  EXPECT_THAT(by_query->presigned_query,
              ::testing::HasSubstr("&X-Amz-Security-Token=token%2Fwith%2Bchars&"));
}

TEST(SigV4S3Test, AnonymousCredentialsSignNothing) {
  Credentials anonymous;
  EXPECT_TRUE(anonymous.anonymous());
  EXPECT_FALSE(S3DocCredentials().anonymous());
  SigningRequest request;
  request.headers = {{"host", "h"}};
  Signer signer;
  Result<SignedRequest> signed_request = signer.SignHeaders(anonymous, request, S3DocParams());
  ASSERT_TRUE(signed_request.ok());
  EXPECT_TRUE(signed_request->anonymous);
  EXPECT_TRUE(signed_request->authorization.empty());
  EXPECT_TRUE(signed_request->headers_to_add.empty());
  http::Headers headers = request.headers;
  signed_request->AddAuthHeaders(headers);
  EXPECT_EQ(headers, request.headers);

  Result<SignedRequest> presigned = signer.Presign(anonymous, request, S3DocParams());
  ASSERT_TRUE(presigned.ok());
  EXPECT_TRUE(presigned->anonymous);
  EXPECT_TRUE(presigned->presigned_query.empty());
  EXPECT_EQ(signer.cache_stats().misses, 0u);
}

TEST(SigV4S3Test, InvalidInputsAreErrors) {
  Signer signer;
  SigningRequest request;
  request.headers = {{"host", "h"}};

  Credentials key_only{"AKID", "", ""};
  EXPECT_EQ(signer.SignHeaders(key_only, request, S3DocParams()).status().kind(),
            ErrorKind::kInvalidArgument);
  Credentials secret_only{"", "secret", ""};
  EXPECT_EQ(signer.SignHeaders(secret_only, request, S3DocParams()).status().kind(),
            ErrorKind::kInvalidArgument);

  SigningRequest no_host;
  EXPECT_EQ(signer.SignHeaders(S3DocCredentials(), no_host, S3DocParams()).status().kind(),
            ErrorKind::kInvalidArgument);

  SigningRequest no_hash = request;
  no_hash.payload_hash.clear();
  EXPECT_EQ(signer.SignHeaders(S3DocCredentials(), no_hash, S3DocParams()).status().kind(),
            ErrorKind::kInvalidArgument);

  SigningParams no_expiry = S3DocParams();
  no_expiry.expires_seconds = 0;
  EXPECT_EQ(signer.Presign(S3DocCredentials(), request, no_expiry).status().kind(),
            ErrorKind::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Signing-key cache.

TEST(SigV4KeyCacheTest, ReusesKeyWithinADay) {
  Signer signer;
  SigningRequest request;
  request.headers = {{"host", "h"}};
  SigningParams params = S3DocParams();
  Result<SignedRequest> first = signer.SignHeaders(S3DocCredentials(), request, params);
  params.time += 3600;  // same day
  Result<SignedRequest> second = signer.SignHeaders(S3DocCredentials(), request, params);
  ASSERT_TRUE(first.ok() && second.ok());
  Signer::CacheStats stats = signer.cache_stats();
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.size, 1u);

  params.time += 86400;  // next day: a new key
  ASSERT_TRUE(signer.SignHeaders(S3DocCredentials(), request, params).ok());
  EXPECT_EQ(signer.cache_stats().misses, 2u);
  EXPECT_EQ(signer.cache_stats().size, 2u);
}

TEST(SigV4KeyCacheTest, CachedKeyGivesTheSameSignature) {
  Signer signer;
  SigningRequest request;
  request.headers = {{"host", "h"}};
  Result<SignedRequest> cold = signer.SignHeaders(S3DocCredentials(), request, S3DocParams());
  Result<SignedRequest> warm = signer.SignHeaders(S3DocCredentials(), request, S3DocParams());
  Signer fresh;
  Result<SignedRequest> other = fresh.SignHeaders(S3DocCredentials(), request, S3DocParams());
  ASSERT_TRUE(cold.ok() && warm.ok() && other.ok());
  EXPECT_EQ(cold->signature, warm->signature);
  EXPECT_EQ(cold->signature, other->signature);
}

TEST(SigV4KeyCacheTest, KeyDependsOnSecretRegionAndService) {
  Signer signer;
  SigningRequest request;
  request.headers = {{"host", "h"}};
  SigningParams params = S3DocParams();
  Credentials credentials = S3DocCredentials();
  std::vector<std::string> signatures;
  auto sign = [&] {
    Result<SignedRequest> r = signer.SignHeaders(credentials, request, params);
    ASSERT_TRUE(r.ok());
    signatures.push_back(r->signature);
  };
  sign();
  credentials.secret_access_key += "x";
  sign();
  params.region = "eu-west-1";
  sign();
  params.service = "s3-object-lambda";
  sign();
  EXPECT_EQ(signer.cache_stats().misses, 4u);
  EXPECT_EQ(signer.cache_stats().hits, 0u);
  std::sort(signatures.begin(), signatures.end());
  EXPECT_EQ(std::unique(signatures.begin(), signatures.end()), signatures.end());
}

TEST(SigV4KeyCacheTest, IsBoundedAndKeepsRecentlyUsed) {
  Signer signer(/*key_cache_capacity=*/2);
  SigningRequest request;
  request.headers = {{"host", "h"}};
  SigningParams params = S3DocParams();
  auto sign_in = [&](const char* region) {
    params.region = region;
    ASSERT_TRUE(signer.SignHeaders(S3DocCredentials(), request, params).ok());
  };
  sign_in("r1");  // miss: [r1]
  sign_in("r2");  // miss: [r2 r1]
  sign_in("r1");  // hit:  [r1 r2]
  sign_in("r3");  // miss: [r3 r1], r2 evicted
  EXPECT_EQ(signer.cache_stats().size, 2u);
  sign_in("r1");  // hit
  sign_in("r2");  // miss again
  Signer::CacheStats stats = signer.cache_stats();
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.misses, 4u);
  EXPECT_EQ(stats.size, 2u);
}

TEST(SigV4KeyCacheTest, ConcurrentSigningAgrees) {
  Signer signer(/*key_cache_capacity=*/2);
  SigningRequest request;
  request.headers = {{"host", "h"}};
  Result<SignedRequest> reference =
      Signer().SignHeaders(S3DocCredentials(), request, S3DocParams());
  ASSERT_TRUE(reference.ok());
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      SigningParams params = S3DocParams();
      for (int i = 0; i < 200; ++i) {
        // Alternate regions so the cache is also evicting under contention.
        params.region = (i + t) % 3 == 0 ? "us-east-1" : ((i + t) % 3 == 1 ? "r1" : "r2");
        Result<SignedRequest> r = signer.SignHeaders(S3DocCredentials(), request, params);
        if (!r.ok()) {
          ++mismatches;
        } else if (params.region == "us-east-1" && r->signature != reference->signature) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
  Signer::CacheStats stats = signer.cache_stats();
  EXPECT_EQ(stats.hits + stats.misses, 800u);
  EXPECT_LE(stats.size, 2u);
}

}  // namespace
}  // namespace nimbus::s3
