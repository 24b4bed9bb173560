// Helpers for the codec tests (header only; not part of the library).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/buffer.h"
#include "zarr/chunk.h"
#include "zarr/codec.h"
#include "zarr/data_type.h"

namespace nimbus::zarr::codec_testing {

inline std::string FromHex(std::string_view hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  return out;
}

inline DataType Type(const nlohmann::json& j) {
  auto t = DataType::FromJson(j);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : DataType();
}

// A spec with the type's default (zero / empty) fill unless one is given.
inline ChunkSpec Spec(const nlohmann::json& type, std::vector<uint64_t> shape,
                      const nlohmann::json& fill = nullptr) {
  ChunkSpec spec;
  spec.shape = std::move(shape);
  spec.data_type = Type(type);
  auto f = ParseFillValue(spec.data_type, fill);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  if (f.ok()) spec.fill_value = *f;
  return spec;
}

inline CodecChain Chain(const nlohmann::json& codecs, const ChunkSpec& spec) {
  auto chain = CodecChain::FromJson(codecs, spec);
  EXPECT_TRUE(chain.ok()) << chain.status().ToString();
  return chain.ok() ? std::move(chain).value() : CodecChain();
}

template <typename T>
ChunkArray ArrayOf(std::vector<uint64_t> shape, const std::vector<T>& values) {
  ChunkArray chunk;
  chunk.shape = std::move(shape);
  chunk.data = Buffer::CopyOf(
      std::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
  return chunk;
}

inline ChunkArray StringsOf(std::vector<uint64_t> shape, std::vector<std::string> values) {
  ChunkArray chunk;
  chunk.shape = std::move(shape);
  chunk.values = std::move(values);
  return chunk;
}

template <typename T>
std::vector<T> ValuesOf(const ChunkArray& chunk) {
  std::vector<T> out(chunk.data.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), chunk.data.data(), out.size() * sizeof(T));
  return out;
}

inline ChunkArray RandomBytes(std::vector<uint64_t> shape, size_t item_size, uint32_t seed) {
  uint64_t n = item_size;
  for (uint64_t d : shape) n *= d;
  std::mt19937 rng(seed);
  ChunkArray chunk;
  chunk.shape = std::move(shape);
  chunk.data = Buffer::Allocate(n);
  for (uint64_t i = 0; i < n; ++i) chunk.data.data()[i] = static_cast<char>(rng() & 0xFF);
  return chunk;
}

inline ChunkArray Copy(const ChunkArray& c) {
  return ChunkArray{c.shape, Buffer::CopyOf(c.data.view()), c.values};
}

// Encodes then decodes `chunk` with `chain` and checks the result equals the input.
inline void ExpectRoundTrip(const CodecChain& chain, const ChunkArray& chunk) {
  auto encoded = chain.Encode(Copy(chunk));
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  auto decoded = chain.Decode(std::move(encoded).value());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->shape, chunk.shape);
  EXPECT_EQ(decoded->values, chunk.values);
  EXPECT_TRUE(decoded->data.view() == chunk.data.view()) << "decoded bytes differ";
}

}  // namespace nimbus::zarr::codec_testing
