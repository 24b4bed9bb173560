#include "vol/location.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

namespace nimbus::vol {
namespace {

using ::testing::HasSubstr;

FileLocation Resolve(std::string_view name, const ConnectorInfo* info, const ConfigMap& env) {
  auto r = ResolveFileLocation(name, info, MapEnv(env));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : FileLocation{};
}

TEST(LocationTest, NothingConfiguredMeansPathsRelativeToTheCurrentDirectory) {
  std::string cwd = std::filesystem::current_path().string();
  EXPECT_EQ(Resolve("data.h5", nullptr, {}).store_url, cwd + "/data.h5");
  EXPECT_EQ(Resolve("./sub/data.h5", nullptr, {}).store_url, cwd + "/sub/data.h5");
  EXPECT_EQ(Resolve("/tmp/x/data.h5", nullptr, {}).store_url, "/tmp/x/data.h5");
  EXPECT_EQ(Resolve("data.h5", nullptr, {{"STORAGE_PLATFORM", "File"}}).store_url,
            cwd + "/data.h5");
}

TEST(LocationTest, SeedEnvironmentPutsFilesUnderTheBucket) {
  ConfigMap env = {{"STORAGE_PLATFORM", "S3"}, {"BUCKET_NAME", "playgrounds"},
                   {"AWS_REGION", "garage"}};
  EXPECT_EQ(Resolve("demo.h5", nullptr, env).store_url, "s3://playgrounds/demo.h5");
  // A leading slash or ./ does not become part of the key (ArrayMorph kept "/data/x.h5" keys).
  EXPECT_EQ(Resolve("/runs/demo.h5", nullptr, env).store_url, "s3://playgrounds/runs/demo.h5");
  EXPECT_EQ(Resolve("./demo.h5", nullptr, env).store_url, "s3://playgrounds/demo.h5");
  EXPECT_EQ(Resolve("demo.h5", nullptr, {{"STORAGE_PLATFORM", "azure"}, {"BUCKET_NAME", "c"}})
                .store_url,
            "az://c/demo.h5");
  EXPECT_EQ(Resolve("demo.h5", nullptr, {{"BUCKET_NAME", "/data/files"}}).store_url,
            "/data/files/demo.h5");
}

TEST(LocationTest, BucketIsRequiredForObjectStores) {
  auto r = ResolveFileLocation("x.h5", nullptr, MapEnv({{"STORAGE_PLATFORM", "S3"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("BUCKET_NAME"));
  r = ResolveFileLocation("x.h5", nullptr, MapEnv({{"STORAGE_PLATFORM", "Google"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("not one of S3, Azure, File"));
}

TEST(LocationTest, StoreUrlsOverride) {
  ConfigMap env = {{"STORAGE_PLATFORM", "S3"}, {"BUCKET_NAME", "b"},
                   {"NIMBUS_STORE_URL", "s3://other/pre"}};
  EXPECT_EQ(Resolve("x.h5", nullptr, env).store_url, "s3://other/pre/x.h5");
  ConnectorInfo info = ConnectorInfo::FromString(" store=az://c/p/ ; endpoint=http://h:1 ");
  FileLocation l = Resolve("a/b.h5", &info, env);
  EXPECT_EQ(l.store_url, "az://c/p/a/b.h5");
  EXPECT_EQ(l.settings, (ConfigMap{{"endpoint", "http://h:1"}}));
  EXPECT_EQ(Resolve("s3://x/y.h5", &info, env).store_url, "s3://x/y.h5");
  EXPECT_EQ(Resolve("file:///tmp/y.h5", nullptr, env).store_url, "file:///tmp/y.h5");
}

TEST(LocationTest, BadNamesAndConfigurationAreErrorsAtOpenTime) {
  EXPECT_FALSE(ResolveFileLocation("", nullptr, MapEnv({})).ok());
  auto r = ResolveFileLocation("a/../b.h5", nullptr, MapEnv({{"BUCKET_NAME", "/d"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(".."));
  ConnectorInfo bad = ConnectorInfo::FromString("store");
  EXPECT_FALSE(bad.parse_status.ok());
  r = ResolveFileLocation("x.h5", &bad, MapEnv({}));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("nimbus connector configuration"));
}

}  // namespace
}  // namespace nimbus::vol
