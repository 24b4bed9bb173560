#include "active/cbor.h"

#include <gtest/gtest.h>

namespace nimbus::active {
namespace {

// Expected encodings from RFC 8949 Appendix A.
TEST(ActiveCborTest, RfcExamples) {
  auto enc = [](auto fn) {
    CborWriter w;
    fn(w);
    return w.Take();
  };
  EXPECT_EQ(enc([](CborWriter& w) { w.Uint(0); }), std::string("\x00", 1));
  EXPECT_EQ(enc([](CborWriter& w) { w.Uint(23); }), "\x17");
  EXPECT_EQ(enc([](CborWriter& w) { w.Uint(24); }), "\x18\x18");
  EXPECT_EQ(enc([](CborWriter& w) { w.Uint(1000); }), "\x19\x03\xe8");
  EXPECT_EQ(enc([](CborWriter& w) { w.Uint(1000000); }), std::string("\x1a\x00\x0f\x42\x40", 5));
  EXPECT_EQ(enc([](CborWriter& w) { w.Uint(1000000000000); }),
            std::string("\x1b\x00\x00\x00\xe8\xd4\xa5\x10\x00", 9));
  EXPECT_EQ(enc([](CborWriter& w) { w.Int(-1); }), "\x20");
  EXPECT_EQ(enc([](CborWriter& w) { w.Int(-1000); }), "\x39\x03\xe7");
  EXPECT_EQ(enc([](CborWriter& w) { w.Int(INT64_MIN); }),
            std::string("\x3b\x7f\xff\xff\xff\xff\xff\xff\xff", 9));
  EXPECT_EQ(enc([](CborWriter& w) { w.Text("IETF"); }), "\x64IETF");
  EXPECT_EQ(enc([](CborWriter& w) { w.Bytes(std::string("\x01\x02\x03\x04", 4)); }),
            "\x44\x01\x02\x03\x04");
  EXPECT_EQ(enc([](CborWriter& w) { w.Bytes(""); }), "\x40");
  EXPECT_EQ(enc([](CborWriter& w) {
              w.Array(3);
              w.Uint(1);
              w.Uint(2);
              w.Uint(3);
            }),
            "\x83\x01\x02\x03");
  EXPECT_EQ(enc([](CborWriter& w) {
              w.Map(2);
              w.Text("a");
              w.Uint(1);
              w.Text("b");
              w.Array(0);
            }),
            "\xa2\x61\x61\x01\x61\x62\x80");
}

}  // namespace
}  // namespace nimbus::active
