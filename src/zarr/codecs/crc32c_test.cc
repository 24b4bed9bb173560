#include "zarr/codecs/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace nimbus::zarr {
namespace {

TEST(Crc32cTest, KnownVectors) {
  // RFC 3720 (iSCSI) appendix B.4 and the usual check value.
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(Crc32c("", 0), 0u);
  std::string zeros(32, '\0');
  EXPECT_EQ(Crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  std::string ones(32, '\xff');
  EXPECT_EQ(Crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  std::string ascending(32, '\0');
  for (int i = 0; i < 32; ++i) ascending[i] = static_cast<char>(i);
  EXPECT_EQ(Crc32c(ascending.data(), ascending.size()), 0x46DD794Eu);
}

TEST(Crc32cTest, PortableMatchesHardwareForAllLengthsAndAlignments) {
  std::mt19937 rng(7);
  std::string data(1100, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (size_t offset = 0; offset < 9; ++offset) {
    for (size_t length = 0; length + offset <= data.size(); length += 1 + length / 7) {
      ASSERT_EQ(Crc32c(data.data() + offset, length), Crc32cPortable(data.data() + offset, length))
          << "offset " << offset << " length " << length;
    }
  }
}

TEST(Crc32cTest, Continuation) {
  std::string data = "The quick brown fox jumps over the lazy dog";
  uint32_t whole = Crc32c(data.data(), data.size());
  for (size_t split = 0; split <= data.size(); ++split) {
    uint32_t first = Crc32c(data.data(), split);
    EXPECT_EQ(Crc32c(data.data() + split, data.size() - split, first), whole);
    EXPECT_EQ(Crc32cPortable(data.data() + split, data.size() - split, first), whole);
  }
}

TEST(Crc32cCodecTest, AppendsLittleEndianChecksumAndStripsIt) {
  auto codec = Crc32cCodec::FromJson(nlohmann::json::object());
  ASSERT_TRUE(codec.ok());
  auto encoded = (*codec)->Encode(Buffer::CopyOf("123456789"));
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->ToString(), std::string("123456789\x83\x92\x06\xe3", 13));
  EXPECT_EQ((*codec)->EncodedSize(9), 13u);
  auto decoded = (*codec)->Decode(std::move(encoded).value());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->ToString(), "123456789");
}

TEST(Crc32cCodecTest, MismatchAndShortInputAreErrors) {
  auto codec = Crc32cCodec::FromJson(nullptr);
  ASSERT_TRUE(codec.ok());
  auto bad = (*codec)->Decode(Buffer::CopyOf(std::string("123456789\x83\x92\x06\xe4", 13)));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().kind(), ErrorKind::kPermanent);
  EXPECT_EQ(bad.status().message(), "crc32c checksum mismatch");
  auto short_input = (*codec)->Decode(Buffer::CopyOf("abc"));
  ASSERT_FALSE(short_input.ok());
  EXPECT_EQ(short_input.status().kind(), ErrorKind::kPermanent);
  auto empty_payload = (*codec)->Decode(Buffer::CopyOf(std::string(4, '\0')));
  EXPECT_TRUE(empty_payload.ok());  // CRC of nothing is 0
}

TEST(Crc32cCodecTest, RejectsConfiguration) {
  auto codec = Crc32cCodec::FromJson({{"foo", 1}});
  ASSERT_FALSE(codec.ok());
  EXPECT_EQ(codec.status().kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(codec.status().message().find("'foo'"), std::string::npos);
}

}  // namespace
}  // namespace nimbus::zarr
