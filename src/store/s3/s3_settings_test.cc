#include "store/s3/s3_settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace nimbus::s3 {
namespace {

namespace fs = std::filesystem;
using Addressing = S3Settings::Addressing;
using ::testing::HasSubstr;

S3Settings Resolve(const ConfigMap& config, const ConfigMap& env) {
  Result<S3Settings> settings = ResolveS3Settings(config, MapEnv(env));
  EXPECT_TRUE(settings.ok()) << settings.status().ToString();
  return settings.ok() ? std::move(settings).value() : S3Settings{};
}

Status ResolveError(const ConfigMap& config, const ConfigMap& env) {
  Result<S3Settings> settings = ResolveS3Settings(config, MapEnv(env));
  EXPECT_FALSE(settings.ok()) << "expected an error";
  return settings.status();
}

// The environment of the seed report (a Garage server reached through env variables only).
ConfigMap SeedEnvironment() {
  return {
      {"STORAGE_PLATFORM", "S3"},
      {"BUCKET_NAME", "playgrounds"},
      {"AWS_ENDPOINT_URL_S3", "garage-s3-endpoint"},
      {"AWS_S3_ADDRESSING_STYLE", "path"},
      {"AWS_ACCESS_KEY_ID", "garage-access-key"},
      {"AWS_SECRET_ACCESS_KEY", "secret-access-key"},
      {"AWS_REGION", "garage"},
      {"AWS_USE_TLS", "true"},
      {"AWS_SIGNED_PAYLOADS", "true"},
      {"HDF5_VOL_CONNECTOR", "arraymorph"},
      {"HDF5_PLUGIN_PATH", "path-to-libarraymorph"},
  };
}

// ---------------------------------------------------------------------------------------------
// Defaults and the seed.

TEST(S3SettingsTest, DefaultsWithNothingConfigured) {
  S3Settings s = Resolve({}, {});
  EXPECT_EQ(s.endpoint, "");
  EXPECT_EQ(s.region, "us-east-1");
  EXPECT_EQ(s.addressing, Addressing::kAuto);
  EXPECT_TRUE(s.use_tls);
  EXPECT_FALSE(s.signed_payloads);
  EXPECT_TRUE(s.credentials.anonymous());
  EXPECT_EQ(s.credentials_source, "anonymous");
  EXPECT_EQ(s.profile, "default");
  EXPECT_EQ(s.max_connections, 32);
  EXPECT_EQ(s.connect_timeout_ms, 10000);
  EXPECT_EQ(s.stall_timeout_ms, 30000);
  EXPECT_EQ(s.ca_bundle, "");
  EXPECT_TRUE(s.verify_tls);
  EXPECT_EQ(s.retry_max_attempts, 5);
  EXPECT_EQ(s.retry_initial_backoff_ms, 100);
  EXPECT_EQ(s.retry_max_backoff_ms, 5000);
  EXPECT_EQ(s.deadline_ms, 120000);
  EXPECT_EQ(s.multipart_threshold, 64u << 20);
  EXPECT_EQ(s.multipart_part_size, 16u << 20);
}

TEST(S3SettingsTest, SeedEnvironment) {
  S3Settings s = Resolve({}, SeedEnvironment());
  EXPECT_EQ(s.endpoint, "https://garage-s3-endpoint");
  EXPECT_TRUE(s.use_tls);
  EXPECT_EQ(s.region, "garage");
  EXPECT_EQ(s.addressing, Addressing::kPath);
  EXPECT_TRUE(s.signed_payloads);
  EXPECT_EQ(s.credentials.access_key_id, "garage-access-key");
  EXPECT_EQ(s.credentials.secret_access_key, "secret-access-key");
  EXPECT_EQ(s.credentials.session_token, "");
  EXPECT_EQ(s.credentials_source, "environment");
}

TEST(S3SettingsTest, SeedEnvironmentWithQuotesKeptByTheLoader) {
  // The seed's env file writes AWS_S3_ADDRESSING_STYLE="path"; docker --env-file keeps quotes.
  ConfigMap env = SeedEnvironment();
  env["AWS_S3_ADDRESSING_STYLE"] = "\"path\"";
  env["AWS_USE_TLS"] = "'true'";
  S3Settings s = Resolve({}, env);
  EXPECT_EQ(s.addressing, Addressing::kPath);
  EXPECT_TRUE(s.use_tls);
}

TEST(S3SettingsTest, SeedWithLocalGarageOverPlainHttp) {
  ConfigMap env = SeedEnvironment();
  env["AWS_ENDPOINT_URL_S3"] = "localhost:3900";
  env["AWS_USE_TLS"] = "false";
  S3Settings s = Resolve({}, env);
  EXPECT_EQ(s.endpoint, "http://localhost:3900");
  EXPECT_FALSE(s.use_tls);
}

TEST(S3SettingsTest, ConditionalWritesAreOffForGarageByDefault) {
  // Garage 2.x ignores If-None-Match / If-Match on PUT; the seed's region names it.
  EXPECT_TRUE(Resolve({}, {}).conditional_writes);
  EXPECT_FALSE(Resolve({}, SeedEnvironment()).conditional_writes);  // AWS_REGION=garage
  EXPECT_FALSE(Resolve({{"region", "garage"}}, {}).conditional_writes);
  EXPECT_TRUE(Resolve({{"region", "eu-west-1"}}, {}).conditional_writes);
  // Explicit values win over the region rule, from config or NIMBUS_S3_CONDITIONAL_WRITES.
  EXPECT_TRUE(Resolve({{"conditional_writes", "true"}}, SeedEnvironment()).conditional_writes);
  EXPECT_FALSE(Resolve({{"conditional_writes", "off"}}, {}).conditional_writes);
  EXPECT_FALSE(Resolve({}, {{"NIMBUS_S3_CONDITIONAL_WRITES", "false"}}).conditional_writes);
  EXPECT_TRUE(Resolve({{"conditional_writes", "auto"}}, {}).conditional_writes);
  EXPECT_FALSE(
      Resolve({{"conditional_writes", " Auto "}, {"region", "garage"}}, {}).conditional_writes);
  EXPECT_THAT(ResolveError({{"conditional_writes", "sometimes"}}, {}).message(),
              HasSubstr("conditional_writes: expected true or false, got 'sometimes'"));
}

TEST(S3SettingsTest, SchemeInEndpointBeatsUseTls) {
  ConfigMap env = SeedEnvironment();
  env["AWS_ENDPOINT_URL_S3"] = "http://localhost:3900/";
  env["AWS_USE_TLS"] = "true";
  S3Settings s = Resolve({}, env);
  EXPECT_EQ(s.endpoint, "http://localhost:3900");
  EXPECT_FALSE(s.use_tls);

  s = Resolve({{"endpoint", "https://minio:9000"}, {"tls", "false"}}, {});
  EXPECT_EQ(s.endpoint, "https://minio:9000");
  EXPECT_TRUE(s.use_tls);
}

TEST(S3SettingsTest, UseTlsWithoutEndpointIsKept) {
  EXPECT_FALSE(Resolve({{"tls", "false"}}, {}).use_tls);
  EXPECT_FALSE(Resolve({}, {{"AWS_USE_TLS", "0"}}).use_tls);
  EXPECT_EQ(Resolve({{"tls", "off"}}, {}).endpoint, "");
}

// ---------------------------------------------------------------------------------------------
// Precedence: explicit > environment.

TEST(S3SettingsTest, ExplicitConfigBeatsEnvironment) {
  ConfigMap config = {
      {"endpoint", "minio.local:9000"},
      {"region", "eu-west-1"},
      {"addressing", "virtual"},
      {"tls", "false"},
      {"signed_payloads", "false"},
      {"access_key_id", "explicit-key"},
      {"secret_access_key", "explicit-secret"},
      {"ca_bundle", "/etc/ca.pem"},
  };
  ConfigMap env = SeedEnvironment();
  env["AWS_CA_BUNDLE"] = "/env/ca.pem";
  S3Settings s = Resolve(config, env);
  EXPECT_EQ(s.endpoint, "http://minio.local:9000");
  EXPECT_EQ(s.region, "eu-west-1");
  EXPECT_EQ(s.addressing, Addressing::kVirtual);
  EXPECT_FALSE(s.use_tls);
  EXPECT_FALSE(s.signed_payloads);
  EXPECT_EQ(s.credentials.access_key_id, "explicit-key");
  EXPECT_EQ(s.credentials.secret_access_key, "explicit-secret");
  EXPECT_EQ(s.credentials_source, "explicit config");
  EXPECT_EQ(s.ca_bundle, "/etc/ca.pem");
}

TEST(S3SettingsTest, EmptyExplicitValueCountsAsUnset) {
  S3Settings s = Resolve({{"region", ""}, {"endpoint", "  "}}, SeedEnvironment());
  EXPECT_EQ(s.region, "garage");
  EXPECT_EQ(s.endpoint, "https://garage-s3-endpoint");
}

TEST(S3SettingsTest, CredentialsComeAsOneSet) {
  // An explicit key pair must not pick up a session token from the environment.
  ConfigMap env = {{"AWS_ACCESS_KEY_ID", "env-key"},
                   {"AWS_SECRET_ACCESS_KEY", "env-secret"},
                   {"AWS_SESSION_TOKEN", "env-token"}};
  S3Settings s = Resolve({{"access_key_id", "k"}, {"secret_access_key", "s"}}, env);
  EXPECT_EQ(s.credentials.access_key_id, "k");
  EXPECT_EQ(s.credentials.session_token, "");

  s = Resolve({}, env);
  EXPECT_EQ(s.credentials.access_key_id, "env-key");
  EXPECT_EQ(s.credentials.secret_access_key, "env-secret");
  EXPECT_EQ(s.credentials.session_token, "env-token");

  s = Resolve({{"access_key_id", "k"}, {"secret_access_key", "s"}, {"session_token", "t"}}, env);
  EXPECT_EQ(s.credentials.session_token, "t");
}

TEST(S3SettingsTest, LoneSessionTokenInEnvironmentIsIgnored) {
  S3Settings s = Resolve({}, {{"AWS_SESSION_TOKEN", "stale"}});
  EXPECT_TRUE(s.credentials.anonymous());
  EXPECT_EQ(s.credentials.session_token, "");
}

TEST(S3SettingsTest, ExplicitAnonymousIgnoresCredentials) {
  S3Settings s = Resolve({{"anonymous", "true"}}, SeedEnvironment());
  EXPECT_TRUE(s.credentials.anonymous());
  EXPECT_THAT(s.credentials_source, HasSubstr("anonymous"));
  EXPECT_EQ(s.region, "garage");  // everything else still resolves

  s = Resolve({{"anonymous", "false"}}, SeedEnvironment());
  EXPECT_EQ(s.credentials.access_key_id, "garage-access-key");
}

TEST(S3SettingsTest, RegionVariables) {
  EXPECT_EQ(Resolve({}, {{"AWS_DEFAULT_REGION", "ap-south-1"}}).region, "ap-south-1");
  EXPECT_EQ(
      Resolve({}, {{"AWS_REGION", "eu-north-1"}, {"AWS_DEFAULT_REGION", "ap-south-1"}}).region,
      "eu-north-1");
}

TEST(S3SettingsTest, EndpointVariables) {
  EXPECT_EQ(Resolve({}, {{"AWS_ENDPOINT_URL", "https://all.example"}}).endpoint,
            "https://all.example");
  EXPECT_EQ(Resolve({}, {{"AWS_ENDPOINT_URL", "https://all.example"},
                         {"AWS_ENDPOINT_URL_S3", "https://s3.example"}})
                .endpoint,
            "https://s3.example");
}

TEST(S3SettingsTest, OtherEnvironmentVariables) {
  S3Settings s = Resolve({}, {{"AWS_CA_BUNDLE", "/etc/ssl/custom.pem"},
                              {"AWS_SIGNED_PAYLOADS", "false"},
                              {"AWS_S3_ADDRESSING_STYLE", "Virtual"},
                              {"AWS_MAX_ATTEMPTS", "9"}});
  EXPECT_EQ(s.ca_bundle, "/etc/ssl/custom.pem");
  EXPECT_FALSE(s.signed_payloads);
  EXPECT_EQ(s.addressing, Addressing::kVirtual);
  EXPECT_EQ(s.retry_max_attempts, 9);
  EXPECT_EQ(Resolve({{"retry_max_attempts", "2"}}, {{"AWS_MAX_ATTEMPTS", "9"}}).retry_max_attempts,
            2);
}

TEST(S3SettingsTest, NumericSettings) {
  S3Settings s = Resolve(
      {
          {"max_connections", "8"},
          {"connect_timeout_ms", "250"},
          {"stall_timeout_ms", "1000"},
          {"verify_tls", "no"},
          {"retry_max_attempts", "3"},
          {"retry_initial_backoff_ms", "10"},
          {"retry_max_backoff_ms", "20"},
          {"deadline_ms", "5000"},
          {"multipart_threshold", "1GiB"},
          {"multipart_part_size", "8M"},
      },
      {});
  EXPECT_EQ(s.max_connections, 8);
  EXPECT_EQ(s.connect_timeout_ms, 250);
  EXPECT_EQ(s.stall_timeout_ms, 1000);
  EXPECT_FALSE(s.verify_tls);
  EXPECT_EQ(s.retry_max_attempts, 3);
  EXPECT_EQ(s.retry_initial_backoff_ms, 10);
  EXPECT_EQ(s.retry_max_backoff_ms, 20);
  EXPECT_EQ(s.deadline_ms, 5000);
  EXPECT_EQ(s.multipart_threshold, uint64_t{1} << 30);
  EXPECT_EQ(s.multipart_part_size, uint64_t{8} << 20);

  EXPECT_EQ(Resolve({{"multipart_part_size", "1048576"}}, {}).multipart_part_size, 1u << 20);
  EXPECT_EQ(Resolve({{"multipart_part_size", "64 KiB"}}, {}).multipart_part_size, 64u << 10);
  EXPECT_EQ(Resolve({{"multipart_threshold", "5g"}}, {}).multipart_threshold, uint64_t{5} << 30);
}

TEST(S3SettingsTest, UnknownKeysAreIgnored) {
  S3Settings s =
      Resolve({{"azure_account", "x"}, {"cache_size", "whatever"}, {"Region", "no"}}, {});
  EXPECT_EQ(s.region, "us-east-1");
}

TEST(S3SettingsTest, AddressingNames) {
  EXPECT_EQ(AddressingName(Addressing::kAuto), "auto");
  EXPECT_EQ(AddressingName(Addressing::kPath), "path");
  EXPECT_EQ(AddressingName(Addressing::kVirtual), "virtual");
  EXPECT_EQ(Resolve({{"addressing", "auto"}}, {{"AWS_S3_ADDRESSING_STYLE", "path"}}).addressing,
            Addressing::kAuto);
}

// ---------------------------------------------------------------------------------------------
// Endpoint normalisation.

TEST(S3SettingsTest, EndpointNormalisation) {
  EXPECT_EQ(Resolve({{"endpoint", "https://s3.example.com/"}}, {}).endpoint,
            "https://s3.example.com");
  EXPECT_EQ(Resolve({{"endpoint", "HTTP://MinIO:9000//"}}, {}).endpoint, "http://MinIO:9000");
  EXPECT_EQ(Resolve({{"endpoint", "  storage.example  "}}, {}).endpoint, "https://storage.example");
  EXPECT_EQ(Resolve({{"endpoint", "[::1]:9000"}, {"tls", "false"}}, {}).endpoint,
            "http://[::1]:9000");
  EXPECT_EQ(Resolve({{"endpoint", "http://[fd00::1]"}}, {}).endpoint, "http://[fd00::1]");
}

TEST(S3SettingsTest, EndpointErrors) {
  Status status = ResolveError({{"endpoint", "ftp://files.example"}}, {});
  EXPECT_EQ(status.kind(), ErrorKind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("endpoint: unsupported scheme 'ftp'"));

  status = ResolveError({}, {{"AWS_ENDPOINT_URL_S3", "s3://bucket"}});
  EXPECT_THAT(status.message(), HasSubstr("AWS_ENDPOINT_URL_S3: unsupported scheme 's3'"));

  status = ResolveError({{"endpoint", "http://host:9000/prefix"}}, {});
  EXPECT_THAT(status.message(), HasSubstr("endpoint: expected [http[s]://]host[:port]"));
  EXPECT_THAT(status.message(), HasSubstr("'http://host:9000/prefix'"));

  EXPECT_THAT(ResolveError({{"endpoint", "http://"}}, {}).message(), HasSubstr("no host"));
  EXPECT_THAT(ResolveError({{"endpoint", "host:99999"}}, {}).message(), HasSubstr("invalid port"));
  EXPECT_THAT(ResolveError({{"endpoint", "host:"}}, {}).message(), HasSubstr("invalid port"));
  EXPECT_THAT(ResolveError({{"endpoint", "host:http"}}, {}).message(), HasSubstr("invalid port"));
  EXPECT_THAT(ResolveError({{"endpoint", "user@host"}}, {}).message(),
              HasSubstr("is not supported"));
}

// ---------------------------------------------------------------------------------------------
// Invalid values name the key (or variable) and the value.

TEST(S3SettingsTest, InvalidValuesNameTheirSource) {
  struct Case {
    ConfigMap config;
    ConfigMap env;
    std::string message;
  };
  const Case cases[] = {
      {{{"addressing", "diagonal"}},
       {},
       "addressing: expected path, virtual or auto, got 'diagonal'"},
      {{},
       {{"AWS_S3_ADDRESSING_STYLE", "diagonal"}},
       "AWS_S3_ADDRESSING_STYLE: expected path, virtual or auto, got 'diagonal'"},
      {{{"tls", "maybe"}}, {}, "tls: expected true or false, got 'maybe'"},
      {{}, {{"AWS_USE_TLS", "maybe"}}, "AWS_USE_TLS: expected true or false, got 'maybe'"},
      {{},
       {{"AWS_SIGNED_PAYLOADS", "sometimes"}},
       "AWS_SIGNED_PAYLOADS: expected true or false, got 'sometimes'"},
      {{{"signed_payloads", "2"}}, {}, "signed_payloads: expected true or false, got '2'"},
      {{{"verify_tls", "nope"}}, {}, "verify_tls: expected true or false, got 'nope'"},
      {{{"anonymous", "please"}}, {}, "anonymous: expected true or false, got 'please'"},
      {{{"max_connections", "many"}}, {}, "max_connections: expected an integer, got 'many'"},
      {{{"max_connections", "0"}}, {}, "max_connections: expected a positive integer, got '0'"},
      {{{"connect_timeout_ms", "-5"}},
       {},
       "connect_timeout_ms: expected a positive integer, got '-5'"},
      {{{"deadline_ms", "99999999999"}},
       {},
       "deadline_ms: expected a positive integer, got '99999999999'"},
      {{}, {{"AWS_MAX_ATTEMPTS", "x"}}, "AWS_MAX_ATTEMPTS: expected an integer, got 'x'"},
      {{{"multipart_part_size", "5X"}}, {}, "multipart_part_size: expected a positive size"},
      {{{"multipart_threshold", "0"}}, {}, "multipart_threshold: expected a positive size"},
      {{{"multipart_threshold", "M"}}, {}, "multipart_threshold: expected a positive size"},
      {{{"multipart_threshold", "99999999999999999G"}},
       {},
       "multipart_threshold: expected a positive size"},
      {{{"retry_initial_backoff_ms", "900"}, {"retry_max_backoff_ms", "100"}},
       {},
       "retry_initial_backoff_ms (900) must not exceed retry_max_backoff_ms (100)"},
  };
  for (const Case& c : cases) {
    Status status = ResolveError(c.config, c.env);
    EXPECT_EQ(status.kind(), ErrorKind::kInvalidArgument) << c.message;
    EXPECT_THAT(status.message(), HasSubstr(c.message));
  }
}

TEST(S3SettingsTest, IncompleteCredentialsNameTheirSource) {
  EXPECT_EQ(ResolveError({{"access_key_id", "k"}}, {}).message(),
            "access_key_id is set but secret_access_key is not (explicit config)");
  EXPECT_EQ(ResolveError({{"secret_access_key", "s"}}, {}).message(),
            "secret_access_key is set but access_key_id is not (explicit config)");
  EXPECT_EQ(ResolveError({{"session_token", "t"}}, {}).message(),
            "session_token is set but access_key_id is not (explicit config)");
  EXPECT_EQ(ResolveError({}, {{"AWS_ACCESS_KEY_ID", "k"}}).message(),
            "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not (environment)");
  EXPECT_EQ(ResolveError({}, {{"AWS_SECRET_ACCESS_KEY", "s"}}).message(),
            "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not (environment)");
  // An incomplete explicit set is an error even when the environment has a full one.
  EXPECT_EQ(ResolveError({{"access_key_id", "k"}}, SeedEnvironment()).kind(),
            ErrorKind::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Shared config and credentials files.

class S3SettingsFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nimbus_s3_settings_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / ".aws");
    env_ = {{"HOME", dir_.string()}};
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Write(const std::string& relative, const std::string& text) {
    fs::path path = dir_ / relative;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }
  std::string WriteCredentials(const std::string& text) { return Write(".aws/credentials", text); }
  std::string WriteConfig(const std::string& text) { return Write(".aws/config", text); }

  fs::path dir_;
  ConfigMap env_;
};

constexpr char kCredentials[] = R"(# shared credentials
[default]
aws_access_key_id = default-key
aws_secret_access_key = default-secret

; a temporary profile
[dev]
aws_access_key_id=dev-key
aws_secret_access_key=dev-secret
aws_session_token = dev-token
)";

constexpr char kConfig[] = R"([default]
region = eu-central-1

[profile dev]
region = us-west-2
s3 =
  addressing_style = path
  endpoint_url = http://dev-s3:9000
ca_bundle = /etc/dev-ca.pem
max_attempts = 7

[dev]
region = ignored-in-config-files
)";

TEST_F(S3SettingsFilesTest, DefaultProfileFromHome) {
  WriteCredentials(kCredentials);
  WriteConfig(kConfig);
  S3Settings s = Resolve({}, env_);
  EXPECT_EQ(s.profile, "default");
  EXPECT_EQ(s.credentials.access_key_id, "default-key");
  EXPECT_EQ(s.credentials.secret_access_key, "default-secret");
  EXPECT_EQ(s.credentials.session_token, "");
  EXPECT_THAT(s.credentials_source, HasSubstr("profile 'default'"));
  EXPECT_THAT(s.credentials_source, HasSubstr(".aws/credentials"));
  EXPECT_EQ(s.region, "eu-central-1");
  EXPECT_EQ(s.endpoint, "");
  EXPECT_EQ(s.addressing, Addressing::kAuto);
}

TEST_F(S3SettingsFilesTest, NamedProfileFromEnvironment) {
  WriteCredentials(kCredentials);
  WriteConfig(kConfig);
  env_["AWS_PROFILE"] = "dev";
  S3Settings s = Resolve({}, env_);
  EXPECT_EQ(s.profile, "dev");
  EXPECT_EQ(s.credentials.access_key_id, "dev-key");
  EXPECT_EQ(s.credentials.secret_access_key, "dev-secret");
  EXPECT_EQ(s.credentials.session_token, "dev-token");
  EXPECT_EQ(s.region, "us-west-2");
  EXPECT_EQ(s.addressing, Addressing::kPath);
  EXPECT_EQ(s.endpoint, "http://dev-s3:9000");
  EXPECT_FALSE(s.use_tls);
  EXPECT_EQ(s.ca_bundle, "/etc/dev-ca.pem");
  EXPECT_EQ(s.retry_max_attempts, 7);
}

TEST_F(S3SettingsFilesTest, ExplicitProfileBeatsAwsProfile) {
  WriteCredentials(kCredentials);
  WriteConfig(kConfig);
  env_["AWS_PROFILE"] = "does-not-exist";
  S3Settings s = Resolve({{"profile", "dev"}}, env_);
  EXPECT_EQ(s.profile, "dev");
  EXPECT_EQ(s.credentials.access_key_id, "dev-key");
}

TEST_F(S3SettingsFilesTest, EnvironmentBeatsFiles) {
  WriteCredentials(kCredentials);
  WriteConfig(kConfig);
  env_["AWS_PROFILE"] = "dev";
  env_["AWS_ACCESS_KEY_ID"] = "env-key";
  env_["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  env_["AWS_REGION"] = "env-region";
  env_["AWS_S3_ADDRESSING_STYLE"] = "virtual";
  env_["AWS_ENDPOINT_URL"] = "https://env-endpoint";
  S3Settings s = Resolve({}, env_);
  EXPECT_EQ(s.credentials.access_key_id, "env-key");
  EXPECT_EQ(s.credentials.session_token, "");  // not mixed with the profile's token
  EXPECT_EQ(s.credentials_source, "environment");
  EXPECT_EQ(s.region, "env-region");
  EXPECT_EQ(s.addressing, Addressing::kVirtual);
  EXPECT_EQ(s.endpoint, "https://env-endpoint");
}

TEST_F(S3SettingsFilesTest, ExplicitBeatsEnvironmentBeatsFiles) {
  WriteConfig("[default]\nregion = file-region\n");
  EXPECT_EQ(Resolve({}, env_).region, "file-region");
  env_["AWS_DEFAULT_REGION"] = "env-region";
  EXPECT_EQ(Resolve({}, env_).region, "env-region");
  EXPECT_EQ(Resolve({{"region", "explicit-region"}}, env_).region, "explicit-region");
}

TEST_F(S3SettingsFilesTest, ExplicitFileLocations) {
  std::string credentials = Write("creds.ini",
                                  "[default]\naws_access_key_id = k\n"
                                  "aws_secret_access_key = s\n");
  std::string config = Write("conf.ini", "[default]\nregion = from-explicit-file\n");
  ConfigMap env = {{"AWS_SHARED_CREDENTIALS_FILE", credentials}, {"AWS_CONFIG_FILE", config}};
  S3Settings s = Resolve({}, env);  // no HOME at all
  EXPECT_EQ(s.credentials.access_key_id, "k");
  EXPECT_EQ(s.region, "from-explicit-file");
  EXPECT_THAT(s.credentials_source, HasSubstr("creds.ini"));
}

TEST_F(S3SettingsFilesTest, TildeInFileLocationMeansHome) {
  WriteCredentials("");
  Write("other-config", "[default]\nregion = tilde\n");
  env_["AWS_CONFIG_FILE"] = "~/other-config";
  EXPECT_EQ(Resolve({}, env_).region, "tilde");
}

TEST_F(S3SettingsFilesTest, CredentialsFileWinsOverConfigFile) {
  WriteConfig(
      "[default]\naws_access_key_id = config-key\naws_secret_access_key = config-secret\n"
      "region = r\n");
  S3Settings s = Resolve({}, env_);
  EXPECT_EQ(s.credentials.access_key_id, "config-key");  // config file may hold credentials
  EXPECT_EQ(s.region, "r");

  WriteCredentials(
      "[default]\naws_access_key_id = cred-key\naws_secret_access_key = cred-secret\n");
  s = Resolve({}, env_);
  EXPECT_EQ(s.credentials.access_key_id, "cred-key");
  EXPECT_EQ(s.credentials.secret_access_key, "cred-secret");
  EXPECT_EQ(s.region, "r");
}

TEST_F(S3SettingsFilesTest, CommentsWhitespaceAndLineEndings) {
  WriteCredentials(
      "\r\n# comment\r\n  ; indented comment\r\n[ default ]\r\n"
      "  aws_access_key_id   =   spaced-key   # trailing comment\r\n"
      "\taws_secret_access_key=tab-secret ; another\r\n\r\n");
  WriteConfig("[profile default]\nREGION = upper-key-region\n");
  S3Settings s = Resolve({}, env_);
  EXPECT_EQ(s.credentials.access_key_id, "spaced-key");
  EXPECT_EQ(s.credentials.secret_access_key, "tab-secret");
  EXPECT_EQ(s.region, "upper-key-region");
}

TEST_F(S3SettingsFilesTest, TopLevelEndpointUrlAndS3BlockPrecedence) {
  WriteConfig("[default]\nendpoint_url = https://general.example\n");
  EXPECT_EQ(Resolve({}, env_).endpoint, "https://general.example");
  WriteConfig(
      "[default]\nendpoint_url = https://general.example\n"
      "s3 =\n    endpoint_url = https://s3-only.example/\n    addressing_style = virtual\n"
      "region = after-block\n");
  S3Settings s = Resolve({}, env_);
  EXPECT_EQ(s.endpoint, "https://s3-only.example");
  EXPECT_EQ(s.addressing, Addressing::kVirtual);
  EXPECT_EQ(s.region, "after-block");
}

TEST_F(S3SettingsFilesTest, MissingNamedProfileIsAnError) {
  std::string credentials = WriteCredentials(kCredentials);
  std::string config = WriteConfig(kConfig);
  env_["AWS_PROFILE"] = "prod";
  Status status = ResolveError({}, env_);
  EXPECT_EQ(status.kind(), ErrorKind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("AWS_PROFILE: profile 'prod' not found in"));
  EXPECT_THAT(status.message(), HasSubstr(credentials));
  EXPECT_THAT(status.message(), HasSubstr(config));

  status = ResolveError({{"profile", "staging"}}, env_);
  EXPECT_THAT(status.message(), HasSubstr("profile: profile 'staging' not found"));

  // "[dev]" in the config file is not a profile section (it must be "[profile dev]").
  WriteCredentials("");
  WriteConfig("[dev]\nregion = x\n");
  env_["AWS_PROFILE"] = "dev";
  EXPECT_THAT(ResolveError({}, env_).message(), HasSubstr("profile 'dev' not found"));
}

TEST_F(S3SettingsFilesTest, NamedProfileWithoutAnyFiles) {
  Status status = ResolveError({{"profile", "dev"}}, {});
  EXPECT_THAT(status.message(), HasSubstr("profile 'dev' not found"));
  ConfigMap empty_home = {{"HOME", (dir_ / "empty-home").string()}, {"AWS_PROFILE", "dev"}};
  status = ResolveError({}, empty_home);
  EXPECT_THAT(status.message(), HasSubstr("empty-home/.aws/config"));
}

TEST_F(S3SettingsFilesTest, MissingDefaultProfileIsFine) {
  S3Settings s = Resolve({}, env_);  // no files at all
  EXPECT_TRUE(s.credentials.anonymous());
  WriteCredentials(kCredentials);
  s = Resolve({}, {{"HOME", dir_.string()}, {"AWS_PROFILE", "default"}});
  EXPECT_EQ(s.credentials.access_key_id, "default-key");
  WriteCredentials("[other]\naws_access_key_id = k\naws_secret_access_key = s\n");
  s = Resolve({{"profile", "default"}}, env_);
  EXPECT_TRUE(s.credentials.anonymous());
}

TEST_F(S3SettingsFilesTest, IncompleteFileCredentialsNameTheFile) {
  std::string path = WriteCredentials("[dev]\naws_access_key_id = k\n");
  env_["AWS_PROFILE"] = "dev";
  Status status = ResolveError({}, env_);
  EXPECT_EQ(status.kind(), ErrorKind::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("aws_access_key_id is set but aws_secret_access_key is not"));
  EXPECT_THAT(status.message(), HasSubstr("profile 'dev'"));
  EXPECT_THAT(status.message(), HasSubstr(path));
}

TEST_F(S3SettingsFilesTest, InvalidFileValuesNameTheFile) {
  std::string path = WriteConfig("[default]\ns3 =\n  addressing_style = diagonal\n");
  Status status = ResolveError({}, env_);
  EXPECT_THAT(status.message(), HasSubstr(path + " [default] s3.addressing_style: expected path, "
                                                 "virtual or auto, got 'diagonal'"));
}

TEST_F(S3SettingsFilesTest, MalformedFilesAreErrors) {
  std::string path = WriteConfig("[default\nregion = x\n");
  Status status = ResolveError({}, env_);
  EXPECT_EQ(status.kind(), ErrorKind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr(path + ":1: expected a section header"));

  path = WriteConfig("region = x\n");
  EXPECT_THAT(ResolveError({}, env_).message(),
              HasSubstr(path + ":1: expected a section header before the first key"));

  path = WriteConfig("[default]\n\njust words\n");
  EXPECT_THAT(ResolveError({}, env_).message(), HasSubstr(path + ":3: expected 'key = value'"));
}

TEST_F(S3SettingsFilesTest, UnreadableLocationIsAnError) {
  fs::create_directories(dir_ / "a-directory");
  env_["AWS_CONFIG_FILE"] = (dir_ / "a-directory").string();
  EXPECT_THAT(ResolveError({}, env_).message(), HasSubstr("is a directory"));
}

}  // namespace
}  // namespace nimbus::s3
