// zarr.json for arrays and groups: documents written by zarr-python 3.1.6 parse, keep their
// meaning, and serialise back to the same JSON in zarr-python's member order; bad documents fail
// with messages naming the member.
#include "zarr/metadata.h"

#include <gtest/gtest.h>

#include <bit>
#include <functional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace nimbus::zarr {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

struct Fixture {
  const char* name;
  const char* text;
};

// zarr.json files written by zarr-python 3.1.6 (zarr.create_array / open_group /
// consolidate_metadata), verbatim.
const Fixture kFixtures[] = {
    {"sharded_blosc", R"json({
  "shape": [
    100,
    80
  ],
  "data_type": "float32",
  "chunk_grid": {
    "name": "regular",
    "configuration": {
      "chunk_shape": [
        50,
        40
      ]
    }
  },
  "chunk_key_encoding": {
    "name": "default",
    "configuration": {
      "separator": "/"
    }
  },
  "fill_value": "NaN",
  "codecs": [
    {
      "name": "sharding_indexed",
      "configuration": {
        "chunk_shape": [
          10,
          20
        ],
        "codecs": [
          {
            "name": "bytes",
            "configuration": {
              "endian": "little"
            }
          },
          {
            "name": "blosc",
            "configuration": {
              "typesize": 4,
              "cname": "zstd",
              "clevel": 5,
              "shuffle": "bitshuffle",
              "blocksize": 0
            }
          }
        ],
        "index_codecs": [
          {
            "name": "bytes",
            "configuration": {
              "endian": "little"
            }
          },
          {
            "name": "crc32c"
          }
        ],
        "index_location": "end"
      }
    }
  ],
  "attributes": {},
  "dimension_names": [
    "y",
    null
  ],
  "zarr_format": 3,
  "node_type": "array",
  "storage_transformers": []
})json"},
    {"v2_key_encoding", R"json({
  "shape": [
    6,
    7
  ],
  "data_type": "int16",
  "chunk_grid": {
    "name": "regular",
    "configuration": {
      "chunk_shape": [
        3,
        3
      ]
    }
  },
  "chunk_key_encoding": {
    "name": "v2",
    "configuration": {
      "separator": "."
    }
  },
  "fill_value": -1,
  "codecs": [
    {
      "name": "bytes",
      "configuration": {
        "endian": "little"
      }
    }
  ],
  "attributes": {
    "nested": {
      "a": [
        1,
        2.5,
        null
      ]
    },
    "units": "m"
  },
  "zarr_format": 3,
  "node_type": "array",
  "storage_transformers": []
})json"},
    {"scalar_complex128", R"json({
  "shape": [],
  "data_type": "complex128",
  "chunk_grid": {
    "name": "regular",
    "configuration": {
      "chunk_shape": []
    }
  },
  "chunk_key_encoding": {
    "name": "default",
    "configuration": {
      "separator": "/"
    }
  },
  "fill_value": [
    1.0,
    2.0
  ],
  "codecs": [
    {
      "name": "bytes",
      "configuration": {
        "endian": "little"
      }
    },
    {
      "name": "zstd",
      "configuration": {
        "level": 0,
        "checksum": false
      }
    }
  ],
  "attributes": {},
  "zarr_format": 3,
  "node_type": "array",
  "storage_transformers": []
})json"},
    {"group", R"json({
  "attributes": {
    "list": [
      1,
      "x",
      null,
      true
    ],
    "title": "d\u00e9mo",
    "version": 2
  },
  "zarr_format": 3,
  "node_type": "group"
})json"},
    {"dot_separator_uint64", R"json({
  "shape": [
    5,
    0,
    3
  ],
  "data_type": "uint64",
  "chunk_grid": {
    "name": "regular",
    "configuration": {
      "chunk_shape": [
        2,
        1,
        3
      ]
    }
  },
  "chunk_key_encoding": {
    "name": "default",
    "configuration": {
      "separator": "."
    }
  },
  "fill_value": 18446744073709551615,
  "codecs": [
    {
      "name": "transpose",
      "configuration": {
        "order": [
          2,
          0,
          1
        ]
      }
    },
    {
      "name": "bytes",
      "configuration": {
        "endian": "big"
      }
    },
    {
      "name": "gzip",
      "configuration": {
        "level": 3
      }
    }
  ],
  "attributes": {},
  "zarr_format": 3,
  "node_type": "array",
  "storage_transformers": []
})json"},
    {"vlen_string", R"json({
  "shape": [
    3
  ],
  "data_type": "string",
  "chunk_grid": {
    "name": "regular",
    "configuration": {
      "chunk_shape": [
        3
      ]
    }
  },
  "chunk_key_encoding": {
    "name": "default",
    "configuration": {
      "separator": "/"
    }
  },
  "fill_value": "n/a",
  "codecs": [
    {
      "name": "vlen-utf8",
      "configuration": {}
    },
    {
      "name": "zstd",
      "configuration": {
        "level": 0,
        "checksum": false
      }
    }
  ],
  "attributes": {},
  "dimension_names": [
    "name"
  ],
  "zarr_format": 3,
  "node_type": "array",
  "storage_transformers": []
})json"},
    {"vlen_bytes", R"json({
  "shape": [
    3
  ],
  "data_type": "variable_length_bytes",
  "chunk_grid": {
    "name": "regular",
    "configuration": {
      "chunk_shape": [
        3
      ]
    }
  },
  "chunk_key_encoding": {
    "name": "default",
    "configuration": {
      "separator": "/"
    }
  },
  "fill_value": "YWIAYw==",
  "codecs": [
    {
      "name": "vlen-bytes",
      "configuration": {}
    }
  ],
  "attributes": {},
  "zarr_format": 3,
  "node_type": "array",
  "storage_transformers": []
})json"},
    {"fixed_utf32", R"json({
  "shape": [
    3
  ],
  "data_type": {
    "name": "fixed_length_utf32",
    "configuration": {
      "length_bytes": 16
    }
  },
  "chunk_grid": {
    "name": "regular",
    "configuration": {
      "chunk_shape": [
        3
      ]
    }
  },
  "chunk_key_encoding": {
    "name": "default",
    "configuration": {
      "separator": "/"
    }
  },
  "fill_value": "h\u00e9",
  "codecs": [
    {
      "name": "bytes",
      "configuration": {
        "endian": "little"
      }
    }
  ],
  "attributes": {},
  "zarr_format": 3,
  "node_type": "array",
  "storage_transformers": []
})json"},
    {"fixed_bytes", R"json({
  "shape": [
    3
  ],
  "data_type": {
    "name": "null_terminated_bytes",
    "configuration": {
      "length_bytes": 4
    }
  },
  "chunk_grid": {
    "name": "regular",
    "configuration": {
      "chunk_shape": [
        3
      ]
    }
  },
  "chunk_key_encoding": {
    "name": "default",
    "configuration": {
      "separator": "/"
    }
  },
  "fill_value": "YWI=",
  "codecs": [
    {
      "name": "bytes"
    }
  ],
  "attributes": {},
  "zarr_format": 3,
  "node_type": "array",
  "storage_transformers": []
})json"},
    {"raw_bytes", R"json({
  "shape": [
    3
  ],
  "data_type": {
    "name": "raw_bytes",
    "configuration": {
      "length_bytes": 3
    }
  },
  "chunk_grid": {
    "name": "regular",
    "configuration": {
      "chunk_shape": [
        3
      ]
    }
  },
  "chunk_key_encoding": {
    "name": "default",
    "configuration": {
      "separator": "/"
    }
  },
  "fill_value": "AAAA",
  "codecs": [
    {
      "name": "bytes"
    }
  ],
  "attributes": {},
  "zarr_format": 3,
  "node_type": "array",
  "storage_transformers": []
})json"},
    {"datetime_ns", R"json({
  "shape": [
    3
  ],
  "data_type": {
    "name": "numpy.datetime64",
    "configuration": {
      "unit": "ns",
      "scale_factor": 1
    }
  },
  "chunk_grid": {
    "name": "regular",
    "configuration": {
      "chunk_shape": [
        3
      ]
    }
  },
  "chunk_key_encoding": {
    "name": "default",
    "configuration": {
      "separator": "/"
    }
  },
  "fill_value": -9223372036854775808,
  "codecs": [
    {
      "name": "bytes",
      "configuration": {
        "endian": "little"
      }
    },
    {
      "name": "crc32c"
    }
  ],
  "attributes": {},
  "zarr_format": 3,
  "node_type": "array",
  "storage_transformers": []
})json"},
    {"timedelta_10s", R"json({
  "shape": [
    3
  ],
  "data_type": {
    "name": "numpy.timedelta64",
    "configuration": {
      "unit": "s",
      "scale_factor": 10
    }
  },
  "chunk_grid": {
    "name": "regular",
    "configuration": {
      "chunk_shape": [
        3
      ]
    }
  },
  "chunk_key_encoding": {
    "name": "default",
    "configuration": {
      "separator": "/"
    }
  },
  "fill_value": 7,
  "codecs": [
    {
      "name": "bytes",
      "configuration": {
        "endian": "little"
      }
    }
  ],
  "attributes": {},
  "zarr_format": 3,
  "node_type": "array",
  "storage_transformers": []
})json"},
    {"float16_neg_inf", R"json({
  "shape": [
    3
  ],
  "data_type": "float16",
  "chunk_grid": {
    "name": "regular",
    "configuration": {
      "chunk_shape": [
        3
      ]
    }
  },
  "chunk_key_encoding": {
    "name": "default",
    "configuration": {
      "separator": "/"
    }
  },
  "fill_value": "-Infinity",
  "codecs": [
    {
      "name": "bytes",
      "configuration": {
        "endian": "little"
      }
    }
  ],
  "attributes": {},
  "zarr_format": 3,
  "node_type": "array",
  "storage_transformers": []
})json"},
    {"bool_true", R"json({
  "shape": [
    2,
    2
  ],
  "data_type": "bool",
  "chunk_grid": {
    "name": "regular",
    "configuration": {
      "chunk_shape": [
        1,
        2
      ]
    }
  },
  "chunk_key_encoding": {
    "name": "default",
    "configuration": {
      "separator": "/"
    }
  },
  "fill_value": true,
  "codecs": [
    {
      "name": "bytes"
    }
  ],
  "attributes": {},
  "zarr_format": 3,
  "node_type": "array",
  "storage_transformers": []
})json"},
    {"complex64_nan_inf", R"json({
  "shape": [
    4
  ],
  "data_type": "complex64",
  "chunk_grid": {
    "name": "regular",
    "configuration": {
      "chunk_shape": [
        4
      ]
    }
  },
  "chunk_key_encoding": {
    "name": "default",
    "configuration": {
      "separator": "/"
    }
  },
  "fill_value": [
    "NaN",
    "Infinity"
  ],
  "codecs": [
    {
      "name": "bytes",
      "configuration": {
        "endian": "little"
      }
    }
  ],
  "attributes": {},
  "zarr_format": 3,
  "node_type": "array",
  "storage_transformers": []
})json"},
    {"consolidated", R"json({
  "attributes": {
    "a": 1
  },
  "zarr_format": 3,
  "consolidated_metadata": {
    "kind": "inline",
    "must_understand": false,
    "metadata": {
      "x": {
        "shape": [
          2
        ],
        "data_type": "int32",
        "chunk_grid": {
          "name": "regular",
          "configuration": {
            "chunk_shape": [
              2
            ]
          }
        },
        "chunk_key_encoding": {
          "name": "default",
          "configuration": {
            "separator": "/"
          }
        },
        "fill_value": 0,
        "codecs": [
          {
            "name": "bytes",
            "configuration": {
              "endian": "little"
            }
          }
        ],
        "attributes": {},
        "zarr_format": 3,
        "node_type": "array",
        "storage_transformers": []
      }
    }
  },
  "node_type": "group"
})json"},
};

const char* FixtureText(std::string_view name) {
  for (const Fixture& f : kFixtures) {
    if (f.name == name) return f.text;
  }
  ADD_FAILURE() << "no fixture " << name;
  return "{}";
}

ArrayMetadata ParseArray(std::string_view text) {
  Result<ArrayMetadata> m = ArrayMetadata::Parse(text);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : ArrayMetadata{};
}

std::vector<std::string> TopLevelKeys(std::string_view text) {
  std::vector<std::string> keys;
  const ordered_json doc = ordered_json::parse(text);  // outlives the items() view
  for (const auto& item : doc.items()) keys.push_back(item.key());
  return keys;
}

// Collects the error of parsing `doc` (a fixture edited by the test).
Status ArrayError(const json& doc) {
  Result<ArrayMetadata> m = ArrayMetadata::FromJson(doc);
  return m.ok() ? Status::Ok() : m.status();
}

TEST(MetadataTest, ZarrPythonDocumentsRoundTrip) {
  for (const Fixture& f : kFixtures) {
    SCOPED_TRACE(f.name);
    Result<NodeMetadata> node = ParseNodeMetadata(f.text);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    const json original = json::parse(f.text);
    std::string serialized;
    if (const auto* array = std::get_if<ArrayMetadata>(&*node)) {
      EXPECT_EQ(array->ToJson(), original);
      serialized = array->Serialize();
    } else {
      const auto& group = std::get<GroupMetadata>(*node);
      EXPECT_EQ(group.ToJson(), original);
      serialized = group.Serialize();
    }
    EXPECT_EQ(json::parse(serialized), original);
    EXPECT_EQ(TopLevelKeys(serialized), TopLevelKeys(f.text));
  }
}

// Byte for byte: same member order, indentation, float spelling and \u escapes. (Attributes
// come back in sorted order, so the fixtures' attributes are sorted; the consolidated group's
// nested documents are sorted too, so it only round-trips as JSON.)
TEST(MetadataTest, SerializeMatchesZarrPythonText) {
  for (const Fixture& f : kFixtures) {
    const std::string_view name = f.name;
    if (name == "consolidated") continue;
    SCOPED_TRACE(name);
    Result<NodeMetadata> node = ParseNodeMetadata(FixtureText(name));
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    const std::string serialized = std::holds_alternative<ArrayMetadata>(*node)
                                       ? std::get<ArrayMetadata>(*node).Serialize()
                                       : std::get<GroupMetadata>(*node).Serialize();
    EXPECT_EQ(serialized, FixtureText(name));
  }
}

TEST(MetadataTest, ShardedBloscWithDimensionNames) {
  const ArrayMetadata m = ParseArray(FixtureText("sharded_blosc"));
  EXPECT_EQ(m.shape, (std::vector<uint64_t>{100, 80}));
  EXPECT_EQ(m.chunk_shape, (std::vector<uint64_t>{50, 40}));  // the shard shape
  EXPECT_EQ(m.GridShape(), (std::vector<uint64_t>{2, 2}));
  EXPECT_EQ(m.data_type.name, "float32");
  EXPECT_EQ(m.fill_value, std::string("\x00\x00\xc0\x7f", 4));
  ASSERT_TRUE(m.dimension_names.has_value());
  ASSERT_EQ(m.dimension_names->size(), 2u);
  EXPECT_EQ((*m.dimension_names)[0], "y");
  EXPECT_FALSE((*m.dimension_names)[1].has_value());
  ASSERT_EQ(m.codecs.size(), 1u);
  EXPECT_EQ(m.codecs[0]["name"], "sharding_indexed");
  EXPECT_EQ(m.codecs[0]["configuration"]["codecs"][1]["configuration"]["cname"], "zstd");
  EXPECT_FALSE(m.chunk_key_encoding.v2);
  EXPECT_EQ(m.chunk_key_encoding.separator, '/');
}

TEST(MetadataTest, V2KeyEncodingAndAttributes) {
  const ArrayMetadata m = ParseArray(FixtureText("v2_key_encoding"));
  EXPECT_TRUE(m.chunk_key_encoding.v2);
  EXPECT_EQ(m.chunk_key_encoding.separator, '.');
  EXPECT_EQ(m.GridShape(), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(m.attributes["units"], "m");
  EXPECT_EQ(m.attributes["nested"]["a"][1], 2.5);
  EXPECT_EQ(FillValueToJson(m.data_type, m.fill_value), json(-1));
  EXPECT_FALSE(m.dimension_names.has_value());
  const uint64_t coords[] = {1, 2};
  EXPECT_EQ(m.chunk_key_encoding.Key(coords), "1.2");
}

TEST(MetadataTest, ScalarArray) {
  const ArrayMetadata m = ParseArray(FixtureText("scalar_complex128"));
  EXPECT_EQ(m.rank(), 0u);
  EXPECT_TRUE(m.chunk_shape.empty());
  EXPECT_TRUE(m.GridShape().empty());
  EXPECT_EQ(m.chunk_key_encoding.Key({}), "c");
  EXPECT_EQ(m.fill_value.size(), 16u);
}

TEST(MetadataTest, ZeroSizedDimensionAndDotSeparator) {
  const ArrayMetadata m = ParseArray(FixtureText("dot_separator_uint64"));
  EXPECT_EQ(m.shape, (std::vector<uint64_t>{5, 0, 3}));
  EXPECT_EQ(m.GridShape(), (std::vector<uint64_t>{3, 0, 1}));
  EXPECT_EQ(m.fill_value, std::string(8, '\xff'));
  EXPECT_EQ(m.codecs[0]["name"], "transpose");
  const uint64_t coords[] = {2, 0, 0};
  EXPECT_EQ(m.chunk_key_encoding.Key(coords), "c.2.0.0");
}

TEST(MetadataTest, GroupWithAttributes) {
  Result<NodeMetadata> node = ParseNodeMetadata(FixtureText("group"));
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  const auto* group = std::get_if<GroupMetadata>(&*node);
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->attributes["title"], "d\xc3\xa9mo");
  EXPECT_EQ(group->attributes["list"], json::parse(R"([1, "x", null, true])"));
  EXPECT_TRUE(group->extra.empty());
}

TEST(MetadataTest, ConsolidatedMetadataIsKept) {
  Result<NodeMetadata> node = ParseNodeMetadata(FixtureText("consolidated"));
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  const auto& group = std::get<GroupMetadata>(*node);
  ASSERT_TRUE(group.extra.contains("consolidated_metadata"));
  EXPECT_EQ(group.extra["consolidated_metadata"]["kind"], "inline");
  EXPECT_EQ(group.ToJson()["consolidated_metadata"],
            json::parse(FixtureText("consolidated"))["consolidated_metadata"]);
  // zarr-python 3.0 wrote "consolidated_metadata": null on plain groups.
  Result<GroupMetadata> with_null = GroupMetadata::FromJson(
      json::parse(R"({"zarr_format": 3, "node_type": "group", "consolidated_metadata": null})"));
  ASSERT_TRUE(with_null.ok()) << with_null.status().ToString();
  EXPECT_TRUE(with_null->ToJson()["consolidated_metadata"].is_null());
}

TEST(MetadataTest, FixtureFillValues) {
  struct Case {
    const char* fixture;
    std::string fill;
  };
  const Case kCases[] = {
      {"vlen_string", "n/a"},
      {"vlen_bytes", std::string("ab\0c", 4)},
      {"fixed_utf32", std::string("h\0\0\0\xe9\0\0\0\0\0\0\0\0\0\0\0", 16)},
      {"fixed_bytes", std::string("ab\0\0", 4)},
      {"raw_bytes", std::string(3, '\0')},
      {"datetime_ns", std::string("\0\0\0\0\0\0\0\x80", 8)},
      {"timedelta_10s", std::string("\x07\0\0\0\0\0\0\0", 8)},
      {"float16_neg_inf", std::string("\x00\xfc", 2)},
      {"bool_true", std::string("\x01", 1)},
      {"complex64_nan_inf", std::string("\x00\x00\xc0\x7f\x00\x00\x80\x7f", 8)},
  };
  if constexpr (std::endian::native != std::endian::little) GTEST_SKIP() << "little-endian bytes";
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.fixture);
    EXPECT_EQ(ParseArray(FixtureText(c.fixture)).fill_value, c.fill);
  }
  const ArrayMetadata string_array = ParseArray(FixtureText("vlen_string"));
  EXPECT_EQ(string_array.data_type.type_class, TypeClass::kString);
  ASSERT_TRUE(string_array.dimension_names.has_value());
  EXPECT_EQ((*string_array.dimension_names)[0], "name");
  const ArrayMetadata dt = ParseArray(FixtureText("timedelta_10s"));
  EXPECT_EQ(dt.data_type.configuration, json::parse(R"({"unit": "s", "scale_factor": 10})"));
}

TEST(ChunkKeyEncodingTest, Keys) {
  const uint64_t coords[] = {1, 23, 45};
  auto key = [&](const char* encoding_json, std::span<const uint64_t> c) {
    Result<ChunkKeyEncoding> encoding = ChunkKeyEncoding::FromJson(json::parse(encoding_json));
    EXPECT_TRUE(encoding.ok()) << encoding.status().ToString();
    return encoding.ok() ? encoding->Key(c) : "";
  };
  EXPECT_EQ(key(R"({"name": "default", "configuration": {"separator": "/"}})", coords),
            "c/1/23/45");
  EXPECT_EQ(key(R"({"name": "default", "configuration": {"separator": "."}})", coords),
            "c.1.23.45");
  EXPECT_EQ(key(R"({"name": "default"})", coords), "c/1/23/45");
  EXPECT_EQ(key(R"("default")", coords), "c/1/23/45");
  EXPECT_EQ(key(R"({"name": "v2", "configuration": {"separator": "."}})", coords), "1.23.45");
  EXPECT_EQ(key(R"({"name": "v2", "configuration": {"separator": "/"}})", coords), "1/23/45");
  EXPECT_EQ(key(R"({"name": "v2"})", coords), "1.23.45");
  EXPECT_EQ(key(R"({"name": "default"})", {}), "c");
  EXPECT_EQ(key(R"({"name": "v2"})", {}), "0");

  ChunkKeyEncoding v2;
  v2.v2 = true;
  v2.separator = '.';
  EXPECT_EQ(v2.ToJson(), json::parse(R"({"name": "v2", "configuration": {"separator": "."}})"));
  EXPECT_EQ(ChunkKeyEncoding{}.ToJson(),
            json::parse(R"({"name": "default", "configuration": {"separator": "/"}})"));

  Result<ChunkKeyEncoding> unknown = ChunkKeyEncoding::FromJson(json::parse(R"({"name": "n5"})"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().kind(), ErrorKind::kUnimplemented);
  EXPECT_EQ(unknown.status().message(), "chunk key encoding 'n5' is not supported");
  Result<ChunkKeyEncoding> bad_separator = ChunkKeyEncoding::FromJson(
      json::parse(R"({"name": "default", "configuration": {"separator": "-"}})"));
  ASSERT_FALSE(bad_separator.ok());
  EXPECT_EQ(bad_separator.status().message(),
            "zarr.json member 'chunk_key_encoding.configuration.separator' must be \"/\" or "
            "\".\", got \"-\"");
}

TEST(MetadataTest, GridShape) {
  ArrayMetadata m;
  m.shape = {10, 0, 7, ~uint64_t{0}};
  m.chunk_shape = {3, 4, 7, 2};
  EXPECT_EQ(m.GridShape(), (std::vector<uint64_t>{4, 0, 1, uint64_t{1} << 63}));
}

TEST(MetadataTest, BuiltInCode) {
  // Metadata made in C++ (not parsed) serialises in zarr-python's layout and parses back.
  ArrayMetadata m;
  m.shape = {4, 6};
  m.chunk_shape = {2, 3};
  m.data_type = DataType::FromName("int32").value();
  m.fill_value = ParseFillValue(m.data_type, 7).value();
  m.codecs = json::parse(R"([{"name": "bytes", "configuration": {"endian": "little"}}])");
  m.attributes = {{"k", "v"}};
  m.dimension_names = std::vector<std::optional<std::string>>{"x", std::nullopt};
  const std::string text = m.Serialize();
  EXPECT_EQ(TopLevelKeys(text),
            (std::vector<std::string>{"shape", "data_type", "chunk_grid", "chunk_key_encoding",
                                      "fill_value", "codecs", "attributes", "dimension_names",
                                      "zarr_format", "node_type", "storage_transformers"}));
  const ArrayMetadata back = ParseArray(text);
  EXPECT_EQ(back.ToJson(), m.ToJson());
  EXPECT_EQ(back.fill_value, m.fill_value);
  // C++-built JSON holds non-negative integers as signed; FromJson accepts that too.
  Result<ArrayMetadata> from_cpp = ArrayMetadata::FromJson(m.ToJson());
  ASSERT_TRUE(from_cpp.ok()) << from_cpp.status().ToString();
  EXPECT_EQ(from_cpp->shape, m.shape);

  GroupMetadata g;
  g.attributes = {{"a", 1}};
  EXPECT_EQ(g.Serialize(),
            "{\n  \"attributes\": {\n    \"a\": 1\n  },\n  \"zarr_format\": 3,\n"
            "  \"node_type\": \"group\"\n}");
}

TEST(MetadataTest, ExtensionMembers) {
  json doc = json::parse(FixtureText("v2_key_encoding"));
  doc["my_extension"] = json::parse(R"({"must_understand": false, "value": [1, 2]})");
  Result<ArrayMetadata> m = ArrayMetadata::FromJson(doc);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->extra["my_extension"]["value"], json::parse("[1, 2]"));
  EXPECT_EQ(m->ToJson(), doc);
  EXPECT_EQ(TopLevelKeys(m->Serialize()).back(), "my_extension");

  for (const char* value : {R"({"value": 1})", R"({"must_understand": true})", "1", "null",
                            R"("x")", R"({"must_understand": "false"})"}) {
    SCOPED_TRACE(value);
    json bad = json::parse(FixtureText("v2_key_encoding"));
    bad["my_extension"] = json::parse(value);
    const Status status = ArrayError(bad);
    EXPECT_EQ(status.kind(), ErrorKind::kUnimplemented);
    EXPECT_EQ(status.message(), "unsupported zarr.json member 'my_extension' (must_understand)");
  }

  json group = json::parse(FixtureText("group"));
  group["other"] = json::parse(R"({"must_understand": false})");
  Result<GroupMetadata> g = GroupMetadata::FromJson(group);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->ToJson(), group);
  group["other"] = 5;
  Result<GroupMetadata> bad_group = GroupMetadata::FromJson(group);
  ASSERT_FALSE(bad_group.ok());
  EXPECT_EQ(bad_group.status().message(), "unsupported zarr.json member 'other' (must_understand)");
}

TEST(MetadataTest, MustUnderstandFlagOnExtensionPoints) {
  // data_type, chunk_grid and chunk_key_encoding may carry the flag; they are still understood
  // (the spec does not let them be ignored) and are written back in zarr-python's form.
  json doc = json::parse(FixtureText("v2_key_encoding"));
  doc["data_type"] = json::parse(R"({"name": "int16", "must_understand": false})");
  doc["chunk_grid"]["must_understand"] = false;
  doc["chunk_key_encoding"]["must_understand"] = false;
  Result<ArrayMetadata> m = ArrayMetadata::FromJson(doc);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->ToJson(), json::parse(FixtureText("v2_key_encoding")));

  doc["chunk_grid"]["other"] = 1;
  EXPECT_EQ(ArrayError(doc).message(), "unsupported member 'other' in 'chunk_grid'");
}

TEST(MetadataTest, Errors) {
  struct Case {
    const char* what;
    std::function<void(json&)> edit;
    ErrorKind kind;
    std::string message;
  };
  const std::vector<Case> kCases = {
      {"zarr_format 2", [](json& d) { d["zarr_format"] = 2; }, ErrorKind::kInvalidArgument,
       "zarr.json member 'zarr_format' must be 3, got 2"},
      {"no zarr_format", [](json& d) { d.erase("zarr_format"); }, ErrorKind::kInvalidArgument,
       "zarr.json is missing member 'zarr_format'"},
      {"node_type group", [](json& d) { d["node_type"] = "group"; }, ErrorKind::kInvalidArgument,
       "zarr.json member 'node_type' must be 'array', got \"group\""},
      {"no codecs", [](json& d) { d.erase("codecs"); }, ErrorKind::kInvalidArgument,
       "zarr.json is missing member 'codecs'"},
      {"empty codecs", [](json& d) { d["codecs"] = json::array(); }, ErrorKind::kInvalidArgument,
       "zarr.json member 'codecs' must be a non-empty array (it needs an array->bytes codec), "
       "got []"},
      {"codec without name",
       [](json& d) {
         d["codecs"][0] = {{"configuration", json::object()}};
       },
       ErrorKind::kInvalidArgument,
       "zarr.json member 'codecs[0]' must be an object with a string 'name', got "
       "{\"configuration\":{}}"},
      {"codec configuration not an object", [](json& d) { d["codecs"][0]["configuration"] = 5; },
       ErrorKind::kInvalidArgument,
       "zarr.json member 'codecs[0].configuration' must be an object, got 5"},
      {"unknown data type", [](json& d) { d["data_type"] = "bfloat16"; }, ErrorKind::kUnimplemented,
       "data type 'bfloat16' is not supported"},
      {"bad fill for type", [](json& d) { d["fill_value"] = "NaN"; }, ErrorKind::kInvalidArgument,
       "fill_value \"NaN\" is not valid for data type 'int16': expected an integer"},
      {"fill out of range", [](json& d) { d["fill_value"] = 40000; }, ErrorKind::kInvalidArgument,
       "fill_value 40000 is out of range for data type 'int16' [-32768, 32767]"},
      {"no fill_value", [](json& d) { d.erase("fill_value"); }, ErrorKind::kInvalidArgument,
       "zarr.json is missing member 'fill_value'"},
      {"rank mismatch", [](json& d) { d["chunk_grid"]["configuration"]["chunk_shape"] = {3}; },
       ErrorKind::kInvalidArgument, "chunk_shape has rank 1 but shape has rank 2"},
      {"zero chunk",
       [](json& d) {
         d["chunk_grid"]["configuration"]["chunk_shape"] = {3, 0};
       },
       ErrorKind::kInvalidArgument,
       "zarr.json member 'chunk_shape' must be an array of positive integers, got [3,0]"},
      {"negative shape",
       [](json& d) {
         d["shape"] = {-1, 7};
       },
       ErrorKind::kInvalidArgument,
       "zarr.json member 'shape' must be an array of non-negative integers, got [-1,7]"},
      {"float shape",
       [](json& d) {
         d["shape"] = {6.5, 7};
       },
       ErrorKind::kInvalidArgument,
       "zarr.json member 'shape' must be an array of non-negative integers, got [6.5,7]"},
      {"rectilinear grid",
       [](json& d) {
         d["chunk_grid"] = {{"name", "rectilinear"}, {"configuration", json::object()}};
       },
       ErrorKind::kUnimplemented, "chunk grid 'rectilinear' is not supported"},
      {"regular grid without shape", [](json& d) { d["chunk_grid"] = "regular"; },
       ErrorKind::kInvalidArgument, "regular chunk_grid needs configuration.chunk_shape"},
      {"unknown key encoding",
       [](json& d) {
         d["chunk_key_encoding"] = {{"name", "n5"}};
       },
       ErrorKind::kUnimplemented, "chunk key encoding 'n5' is not supported"},
      {"storage transformer",
       [](json& d) { d["storage_transformers"] = json::parse(R"([{"name": "sharding"}])"); },
       ErrorKind::kUnimplemented, "storage transformer 'sharding' is not supported"},
      {"dimension_names length", [](json& d) { d["dimension_names"] = {"x"}; },
       ErrorKind::kInvalidArgument,
       "zarr.json member 'dimension_names' has 1 entries but the array has rank 2"},
      {"dimension_names type",
       [](json& d) {
         d["dimension_names"] = {"x", 1};
       },
       ErrorKind::kInvalidArgument,
       "zarr.json member 'dimension_names' must be an array of strings or nulls, one per "
       "dimension, got [\"x\",1]"},
      {"attributes type", [](json& d) { d["attributes"] = json::array(); },
       ErrorKind::kInvalidArgument, "zarr.json member 'attributes' must be an object, got []"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.what);
    json doc = json::parse(FixtureText("v2_key_encoding"));
    c.edit(doc);
    const Status status = ArrayError(doc);
    EXPECT_EQ(status.kind(), c.kind) << status.ToString();
    EXPECT_EQ(status.message(), c.message);
  }
}

TEST(MetadataTest, TextErrors) {
  Result<ArrayMetadata> not_json = ArrayMetadata::Parse("{\"shape\": [1,");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.status().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(not_json.status().message().rfind("zarr.json is not valid JSON: ", 0), 0u)
      << not_json.status().message();

  Result<NodeMetadata> list = ParseNodeMetadata("[1, 2]");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().message(), "zarr.json must be an object, got [1,2]");

  Result<NodeMetadata> v2 = ParseNodeMetadata(R"({"zarr_format": 2, "shape": [1]})");
  ASSERT_FALSE(v2.ok());
  EXPECT_EQ(v2.status().message(), "zarr.json member 'zarr_format' must be 3, got 2");

  Result<NodeMetadata> odd = ParseNodeMetadata(R"({"zarr_format": 3, "node_type": "link"})");
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().message(),
            "zarr.json member 'node_type' must be 'array' or 'group', got \"link\"");

  Result<NodeMetadata> group_as_array = ParseNodeMetadata(R"({"zarr_format": 3})");
  ASSERT_FALSE(group_as_array.ok());
  EXPECT_EQ(group_as_array.status().message(), "zarr.json is missing member 'node_type'");
}

}  // namespace
}  // namespace nimbus::zarr
