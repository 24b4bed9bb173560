// Test helper: the zarr.json of a regular-grid array with "/" chunk keys, as ArrayMetadata.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "zarr/metadata.h"

namespace nimbus::zarr::test_util {

inline ArrayMetadata Meta(std::vector<uint64_t> shape, std::vector<uint64_t> chunks,
                          const nlohmann::json& codecs, const std::string& dtype = "float32",
                          nlohmann::json fill = 0) {
  nlohmann::json j = {
      {"zarr_format", 3},
      {"node_type", "array"},
      {"shape", shape},
      {"data_type", dtype},
      {"chunk_grid", {{"name", "regular"}, {"configuration", {{"chunk_shape", chunks}}}}},
      {"chunk_key_encoding", {{"name", "default"}, {"configuration", {{"separator", "/"}}}}},
      {"fill_value", fill},
      {"codecs", codecs},
      {"attributes", nlohmann::json::object()}};
  auto m = ArrayMetadata::FromJson(j);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return *m;
}

// The codec list as JSON text.
inline ArrayMetadata Meta(std::vector<uint64_t> shape, std::vector<uint64_t> chunks,
                          const char* codecs_json, const std::string& dtype = "float32",
                          nlohmann::json fill = 0) {
  return Meta(std::move(shape), std::move(chunks), nlohmann::json::parse(codecs_json), dtype,
              std::move(fill));
}
inline ArrayMetadata Meta(std::vector<uint64_t> shape, std::vector<uint64_t> chunks,
                          const std::string& codecs_json, const std::string& dtype = "float32",
                          nlohmann::json fill = 0) {
  return Meta(std::move(shape), std::move(chunks), codecs_json.c_str(), dtype, std::move(fill));
}

}  // namespace nimbus::zarr::test_util
