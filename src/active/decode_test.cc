#include "active/decode.h"

#include <gtest/gtest.h>
#include <libdeflate.h>

#include <cstring>

#include "active/fetch.h"
#include "active/pipeline.h"
#include "active/problem.h"

namespace nimbus::active {
namespace {

Buffer Deflate(const Buffer& in, bool gzip) {
  libdeflate_compressor* c = libdeflate_alloc_compressor(6);
  Buffer out = Buffer::Allocate(libdeflate_gzip_compress_bound(c, in.size()) + 64);
  size_t n = gzip ? libdeflate_gzip_compress(c, in.data(), in.size(), out.data(), out.size())
                  : libdeflate_zlib_compress(c, in.data(), in.size(), out.data(), out.size());
  libdeflate_free_compressor(c);
  out.Resize(n);
  return out;
}

Buffer Int64s(std::vector<int64_t> v) {
  return Buffer::CopyOf(std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * 8));
}

TEST(ActiveDecodeTest, GzipAndZlibRoundTrip) {
  Buffer plain = Int64s({1, 2, 3, 4, 5, 6, 7, 8});
  for (bool gzip : {true, false}) {
    auto out = Decompress(gzip ? Compression::kGzip : Compression::kZlib, Deflate(plain, gzip),
                          std::nullopt, 1 << 20);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->view(), plain.view());
    auto exact = Decompress(gzip ? Compression::kGzip : Compression::kZlib, Deflate(plain, gzip),
                            plain.size(), 1 << 20);
    ASSERT_TRUE(exact.ok());
    EXPECT_EQ(exact->view(), plain.view());
  }
}

TEST(ActiveDecodeTest, CorruptAndOversizedDataAre400) {
  auto bad = Decompress(Compression::kZlib, Buffer::CopyOf("not zlib at all"), std::nullopt, 1 << 20);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(ToProblem(bad.status()).http_status, 400);
  EXPECT_EQ(ToProblem(bad.status()).message, "failed to decompress data");
  Buffer zeros = Buffer::Allocate(1 << 20);
  std::memset(zeros.data(), 0, zeros.size());
  auto bomb = Decompress(Compression::kGzip, Deflate(zeros, true), std::nullopt, 4096);
  ASSERT_FALSE(bomb.ok());
  EXPECT_NE(ToProblem(bomb.status()).caused_by.at(0).find("memory limit"), std::string::npos);
}

TEST(ActiveDecodeTest, UnshuffleEveryWidthAcrossBlocks) {
  // Word-assembling paths (2, 4, 8) and the byte path (1, 3, 16), over several blocks and a
  // partial last block, against an element-by-element reference.
  for (uint64_t width : {1u, 2u, 3u, 4u, 8u, 16u}) {
    const size_t count = 5000 + 3;
    std::string bytes(count * width, '\0');
    for (size_t i = 0; i < bytes.size(); ++i) {
      bytes[i] = static_cast<char>((i * 131 + i / 7) & 0xFF);
    }
    Buffer plain = Buffer::CopyOf(bytes);
    std::string shuffled(bytes.size(), '\0');
    for (size_t i = 0; i < count; ++i) {
      for (size_t j = 0; j < width; ++j) shuffled[j * count + i] = bytes[i * width + j];
    }
    auto back = Unshuffle(Buffer::CopyOf(shuffled), width);
    ASSERT_TRUE(back.ok()) << width;
    EXPECT_EQ(back->view(), plain.view()) << width;
    EXPECT_EQ(Shuffle(plain, width).view(), std::string_view(shuffled)) << width;
  }
}

TEST(ActiveDecodeTest, ShuffleRoundTripAndBadLength) {
  Buffer plain = Int64s({0x0102030405060708, 0x1112131415161718, 3});
  Buffer shuffled = Shuffle(plain, 8);
  EXPECT_NE(shuffled.view(), plain.view());
  auto back = Unshuffle(std::move(shuffled), 8);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->view(), plain.view());
  auto bad = Unshuffle(Buffer::CopyOf("12345"), 4);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(ToProblem(bad.status()).http_status, 400);
}

TEST(ActiveDecodeTest, ByteSwap) {
  Buffer b = Int64s({0x0102030405060708});
  ByteSwapInPlace(b, 8);
  int64_t v;
  std::memcpy(&v, b.data(), 8);
  EXPECT_EQ(v, 0x0807060504030201);
}

TEST(ActiveFetchTest, S3UrlParsingKeepsPlusAndRawCharacters) {
  auto loc = ParseS3Url("http://localhost:9000/bucket/dir/data-shape-[20, 5]-x=(1)+y%20z.bin");
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  EXPECT_EQ(loc->endpoint, "http://localhost:9000");
  EXPECT_EQ(loc->bucket, "bucket");
  EXPECT_EQ(loc->key, "dir/data-shape-[20, 5]-x=(1)+y z.bin");
  auto none = ParseS3Url("http://localhost:9000/bucket");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(ToProblem(none.status()).caused_by.at(0), "S3 URL must have bucket/object");
}

TEST(ActiveFetchTest, BasicAuth) {
  auto creds = ParseBasicAuthorization("Basic " + Base64Encode("minioadmin:secret:with:colons"));
  ASSERT_TRUE(creds.ok());
  ASSERT_TRUE(creds->has_value());
  EXPECT_EQ((*creds)->username, "minioadmin");
  EXPECT_EQ((*creds)->password, "secret:with:colons");
  auto none = ParseBasicAuthorization("");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(Base64Encode("abc"), "YWJj");
  EXPECT_EQ(Base64Encode("a"), "YQ==");
}

TEST(ActivePipelineTest, ComputeAndEncodeV2) {
  auto request = ParseRequest(
      R"({"interface_type":"s3","url":"http://h/b/k","dtype":"int64","shape":[2,2],)"
      R"("compression":{"id":"zlib"},"filters":[{"id":"shuffle","element_size":8}],"axis":0})",
      ApiVersion::kV2, Operation::kSum);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  Buffer plain = Int64s({1, 2, 3, 4});
  Buffer stored = Deflate(Shuffle(plain, 8), false);
  auto budget = std::make_shared<MemoryBudget>(1 << 20);
  MemoryReservation reservation(budget, 0);
  auto result = Compute(*request, std::move(stored), reservation, 1 << 20, nullptr);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->shape, std::vector<uint64_t>{2});
  EXPECT_EQ(result->counts, (std::vector<int64_t>{2, 2}));
  HttpAnswer answer = EncodeResult(*request, *result);
  EXPECT_EQ(answer.content_type, "application/cbor");
  // map(7), "bytes": bytes(16) 4,0..,6,0..
  std::string expected_start = "\xa7\x65" "bytes" "\x50";
  EXPECT_EQ(answer.body.substr(0, expected_start.size()), expected_start);
  EXPECT_NE(answer.body.find("\x6a" "byte_order" "\x66" "little"), std::string::npos);
  EXPECT_NE(answer.body.find("\x65" "count" "\x82\x02\x02"), std::string::npos);
}

TEST(ActivePipelineTest, V1CountHeaderListOrScalar) {
  auto header = [](const HttpAnswer& answer) {
    for (const auto& [name, value] : answer.headers) {
      if (name == "x-activestorage-count") return value;
    }
    return std::string("(absent)");
  };
  auto request = ParseRequest(R"({"source":"http://h","bucket":"b","object":"k","dtype":"int64"})",
                              ApiVersion::kV1, Operation::kSum);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  ReductionResult one;
  one.counts = {42};
  one.bytes = Int64s({7});
  ReductionResult several;
  several.counts = {10, 10};
  several.shape = {2};
  several.bytes = Int64s({1, 2});
  EXPECT_EQ(header(EncodeResult(*request, one)), "[42]");  // default: 0.11's list
  EXPECT_EQ(header(EncodeResult(*request, one, V1CountHeader::kList)), "[42]");
  EXPECT_EQ(header(EncodeResult(*request, one, V1CountHeader::kScalar)), "42");
  // Several counts (axis reductions, which 0.10 clients cannot ask for) stay a list.
  EXPECT_EQ(header(EncodeResult(*request, several, V1CountHeader::kScalar)), "[10,10]");
  EXPECT_EQ(ParseV1CountHeader("scalar"), V1CountHeader::kScalar);
  EXPECT_EQ(ParseV1CountHeader("list"), V1CountHeader::kList);
  EXPECT_FALSE(ParseV1CountHeader("int").has_value());
}

TEST(ActiveMemoryBudgetTest, QueuesAndRefuses) {
  auto budget = std::make_shared<MemoryBudget>(100);
  int refused_status = 0;
  budget->Acquire(101, MemoryBudget::Clock::now(), [&](Result<MemoryReservation> r) {
    refused_status = ToProblem(r.status()).http_status;
  });
  EXPECT_EQ(refused_status, 400);
  std::optional<MemoryReservation> first;
  budget->Acquire(80, MemoryBudget::Clock::now(), [&](Result<MemoryReservation> r) {
    first.emplace(std::move(*r));
  });
  ASSERT_TRUE(first.has_value());
  bool second_granted = false;
  std::optional<MemoryReservation> second;
  budget->Acquire(50, MemoryBudget::Clock::now() + std::chrono::hours(1),
                  [&](Result<MemoryReservation> r) {
                    second_granted = r.ok();
                    second.emplace(std::move(*r));
                  });
  EXPECT_FALSE(second_granted);
  EXPECT_EQ(budget->waiting(), 1u);
  first.reset();
  EXPECT_TRUE(second_granted);
  EXPECT_EQ(budget->reserved(), 50u);
  int expired_status = 0;
  budget->Acquire(100, MemoryBudget::Clock::now(), [&](Result<MemoryReservation> r) {
    expired_status = r.ok() ? 200 : ToProblem(r.status()).http_status;
  });
  budget->ExpireWaiters(MemoryBudget::Clock::now() + std::chrono::seconds(1));
  EXPECT_EQ(expired_status, 503);
}

}  // namespace
}  // namespace nimbus::active
