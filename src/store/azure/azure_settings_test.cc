#include "store/azure/azure_settings.h"

#include <gtest/gtest.h>

namespace nimbus::store {
namespace {

using azure_internal::Base64Decode;
using azure_internal::Base64Encode;

// A made-up key (base64 of "not a real key, only a test one!").
constexpr char kKey[] = "bm90IGEgcmVhbCBrZXksIG9ubHkgYSB0ZXN0IG9uZSE=";
constexpr char kSas[] =
    "sv=2021-08-06&ss=b&srt=sco&sp=rwdlac&se=2030-01-01T00:00:00Z&sig=abc%2Bdef%3D";

// --- base64 ------------------------------------------------------------------------------------

TEST(AzureBase64, RoundTripsEveryPaddingLength) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode(std::string("\xff\xfe\x00", 3)), "//4A");
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto decoded = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(decoded.ok()) << s;
    EXPECT_EQ(*decoded, s);
  }
}

TEST(AzureBase64, RejectsMalformedText) {
  EXPECT_FALSE(Base64Decode("abc").ok());       // length
  EXPECT_FALSE(Base64Decode("ab!d").ok());      // alphabet
  EXPECT_FALSE(Base64Decode("a===").ok());      // too much padding
  EXPECT_FALSE(Base64Decode("ab=d").ok());      // data after padding
  EXPECT_FALSE(Base64Decode("ab==Zm9v").ok());  // padding before the end
  EXPECT_FALSE(Base64Decode("Zm9 v").ok());     // whitespace
}

// --- connection strings ------------------------------------------------------------------------

TEST(AzureConnectionString, AccountKeyAndSuffix) {
  auto cs = ParseAzureConnectionString(
      std::string("DefaultEndpointsProtocol=https;AccountName=myacct;AccountKey=") + kKey +
      ";EndpointSuffix=core.chinacloudapi.cn");
  ASSERT_TRUE(cs.ok()) << cs.status().ToString();
  EXPECT_EQ(cs->account_name, "myacct");
  EXPECT_EQ(cs->account_key, kKey);  // '=' inside the value survives
  EXPECT_EQ(cs->blob_endpoint, "https://myacct.blob.core.chinacloudapi.cn");
  EXPECT_TRUE(cs->sas_token.empty());
}

TEST(AzureConnectionString, DefaultsToHttpsAndPublicCloud) {
  auto cs = ParseAzureConnectionString(std::string("AccountName=a1;AccountKey=") + kKey);
  ASSERT_TRUE(cs.ok()) << cs.status().ToString();
  EXPECT_EQ(cs->blob_endpoint, "https://a1.blob.core.windows.net");
  auto http = ParseAzureConnectionString("DefaultEndpointsProtocol=http;AccountName=a1");
  ASSERT_TRUE(http.ok());
  EXPECT_EQ(http->blob_endpoint, "http://a1.blob.core.windows.net");
}

TEST(AzureConnectionString, AzuriteAsAzuriteDocumentsIt) {
  auto cs = ParseAzureConnectionString(
      "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
      "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
      "K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;");
  ASSERT_TRUE(cs.ok()) << cs.status().ToString();
  EXPECT_EQ(cs->account_name, "devstoreaccount1");
  EXPECT_EQ(cs->account_key, kAzuriteAccountKey);
  EXPECT_EQ(cs->blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");
}

TEST(AzureConnectionString, UseDevelopmentStorage) {
  auto cs = ParseAzureConnectionString("UseDevelopmentStorage=true");
  ASSERT_TRUE(cs.ok()) << cs.status().ToString();
  EXPECT_EQ(cs->account_name, "devstoreaccount1");
  EXPECT_EQ(cs->account_key, kAzuriteAccountKey);
  EXPECT_EQ(cs->blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");

  // Another port through BlobEndpoint; trailing slashes dropped.
  auto port = ParseAzureConnectionString(
      "UseDevelopmentStorage=true;BlobEndpoint=http://127.0.0.1:41234/devstoreaccount1/");
  ASSERT_TRUE(port.ok());
  EXPECT_EQ(port->blob_endpoint, "http://127.0.0.1:41234/devstoreaccount1");
  EXPECT_EQ(port->account_key, kAzuriteAccountKey);

  EXPECT_FALSE(ParseAzureConnectionString("UseDevelopmentStorage=maybe").ok());
  EXPECT_FALSE(
      ParseAzureConnectionString("UseDevelopmentStorage=true;DevelopmentStorageProxyUri=x").ok());
}

TEST(AzureConnectionString, SasWithBlobEndpoint) {
  auto cs = ParseAzureConnectionString(
      std::string("BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=?") +
      kSas);
  ASSERT_TRUE(cs.ok()) << cs.status().ToString();
  EXPECT_EQ(cs->sas_token, kSas);  // leading '?' dropped, '=' and '%' kept
  EXPECT_EQ(cs->blob_endpoint, "https://acct.blob.core.windows.net");
  EXPECT_TRUE(cs->account_key.empty());
}

TEST(AzureConnectionString, KeysAreCaseInsensitiveAndOtherServicesIgnored) {
  auto cs = ParseAzureConnectionString(
      "accountname=x;QueueEndpoint=https://x.queue.core.windows.net;;  ");
  ASSERT_TRUE(cs.ok()) << cs.status().ToString();
  EXPECT_EQ(cs->account_name, "x");
}

TEST(AzureConnectionString, ErrorsNameTheField) {
  auto expect_error = [](std::string_view text, std::string_view needle) {
    auto cs = ParseAzureConnectionString(text);
    ASSERT_FALSE(cs.ok()) << text;
    EXPECT_EQ(cs.status().kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(cs.status().message().find(needle), std::string::npos)
        << cs.status().message() << " should mention " << needle;
  };
  expect_error("AccountName=a;AccountKey=not-base64!", "AccountKey");
  expect_error("DefaultEndpointsProtocol=ftp;AccountName=a", "DefaultEndpointsProtocol");
  expect_error("AccountName=a;BlobEndpoint=127.0.0.1:10000", "BlobEndpoint");
  expect_error("AccountName=a;BlobEndpoint=http://", "BlobEndpoint");
  expect_error("AccountName=a;AccuontKey=abcd", "AccuontKey");
  expect_error("AccountName=a;oops", "oops");
  expect_error("AccountKey=" + std::string(kKey), "AccountName");
  expect_error("BlobEndpoint=https://h;SharedAccessSignature=sv=1&sp=r", "SharedAccessSignature");
  expect_error("AccountName=a;EndpointSuffix=x/y", "EndpointSuffix");
}

// --- resolution --------------------------------------------------------------------------------

TEST(AzureSettingsResolve, NothingConfiguredIsAClearError) {
  auto s = ResolveAzureSettings({}, MapEnv({}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(s.status().message().find("AZURE_STORAGE_CONNECTION_STRING"), std::string::npos);
}

TEST(AzureSettingsResolve, EnvironmentConnectionString) {
  auto s = ResolveAzureSettings(
      {}, MapEnv({{"AZURE_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true"},
                  {"AZURE_STORAGE_ACCOUNT", "ignored"}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->account_name, "devstoreaccount1");
  EXPECT_EQ(s->endpoint, "http://127.0.0.1:10000/devstoreaccount1");
  EXPECT_EQ(s->auth_mode(), AzureSettings::AuthMode::kSharedKey);
}

TEST(AzureSettingsResolve, EnvironmentAccountAndKey) {
  auto s = ResolveAzureSettings(
      {}, MapEnv({{"AZURE_STORAGE_ACCOUNT", "acct"}, {"AZURE_STORAGE_KEY", kKey}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->account_name, "acct");
  EXPECT_EQ(s->account_key, kKey);
  EXPECT_EQ(s->endpoint, "https://acct.blob.core.windows.net");
  // Defaults.
  EXPECT_EQ(s->max_connections, 32);
  EXPECT_EQ(s->block_size, 8u << 20);
  EXPECT_EQ(s->single_put_threshold, 32u << 20);
}

TEST(AzureSettingsResolve, EnvironmentSasOnly) {
  auto s = ResolveAzureSettings({}, MapEnv({{"AZURE_STORAGE_ACCOUNT", "acct"},
                                            {"AZURE_STORAGE_SAS_TOKEN", "?" + std::string(kSas)}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->auth_mode(), AzureSettings::AuthMode::kSas);
  EXPECT_EQ(s->sas_token, kSas);
}

TEST(AzureSettingsResolve, AnonymousWithAccountOnly) {
  auto s = ResolveAzureSettings({{"account_name", "public"}}, MapEnv({}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->auth_mode(), AzureSettings::AuthMode::kAnonymous);
  EXPECT_EQ(s->endpoint, "https://public.blob.core.windows.net");
}

TEST(AzureSettingsResolve, ExplicitConnectionStringReplacesEnvironment) {
  ConfigMap config{{"connection_string", "AccountName=mine;AccountKey=" + std::string(kKey) +
                                             ";BlobEndpoint=http://127.0.0.1:10001/mine"}};
  auto s = ResolveAzureSettings(
      config, MapEnv({{"AZURE_STORAGE_ACCOUNT", "theirs"}, {"AZURE_STORAGE_SAS_TOKEN", kSas}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->account_name, "mine");
  EXPECT_EQ(s->endpoint, "http://127.0.0.1:10001/mine");
  EXPECT_EQ(s->account_key, kKey);
  EXPECT_TRUE(s->sas_token.empty());
}

TEST(AzureSettingsResolve, ExplicitKeysOverrideTheExplicitConnectionString) {
  ConfigMap config{{"connection_string", "UseDevelopmentStorage=true"},
                   {"endpoint", "http://127.0.0.1:5555/devstoreaccount1/"},
                   {"sas_token", kSas}};
  auto s = ResolveAzureSettings(config, MapEnv({}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->endpoint, "http://127.0.0.1:5555/devstoreaccount1");
  EXPECT_EQ(s->auth_mode(), AzureSettings::AuthMode::kSas);  // the explicit SAS replaced the key
}

TEST(AzureSettingsResolve, ExplicitOtherAccountDropsEnvironmentCredentials) {
  auto s = ResolveAzureSettings(
      {{"account_name", "other"}},
      MapEnv({{"AZURE_STORAGE_ACCOUNT", "acct"}, {"AZURE_STORAGE_KEY", kKey}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->account_name, "other");
  EXPECT_EQ(s->auth_mode(), AzureSettings::AuthMode::kAnonymous);
  EXPECT_EQ(s->endpoint, "https://other.blob.core.windows.net");
}

TEST(AzureSettingsResolve, ExplicitEndpointKeepsEnvironmentCredentials) {
  auto s = ResolveAzureSettings(
      {{"endpoint", "http://127.0.0.1:10000/acct"}},
      MapEnv({{"AZURE_STORAGE_ACCOUNT", "acct"}, {"AZURE_STORAGE_KEY", kKey}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->endpoint, "http://127.0.0.1:10000/acct");
  EXPECT_EQ(s->account_key, kKey);
}

TEST(AzureSettingsResolve, ExplicitSasReplacesEnvironmentKey) {
  auto s = ResolveAzureSettings({{"sas_token", kSas}}, MapEnv({{"AZURE_STORAGE_ACCOUNT", "acct"},
                                                               {"AZURE_STORAGE_KEY", kKey}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->account_name, "acct");
  EXPECT_EQ(s->auth_mode(), AzureSettings::AuthMode::kSas);
}

TEST(AzureSettingsResolve, Tunables) {
  ConfigMap config{{"account_name", "a"},          {"max_connections", "7"},
                   {"connect_timeout_ms", "1500"}, {"deadline_ms", "60000"},
                   {"retry_max_attempts", "3"},    {"block_size", "65536"},
                   {"single_put_threshold", "0"}};
  auto s = ResolveAzureSettings(config, MapEnv({}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->max_connections, 7);
  EXPECT_EQ(s->connect_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(s->deadline, std::chrono::milliseconds(60000));
  EXPECT_EQ(s->retry_max_attempts, 3);
  EXPECT_EQ(s->block_size, 65536u);
  EXPECT_EQ(s->single_put_threshold, 0u);
}

TEST(AzureSettingsResolve, ErrorsNameTheSetting) {
  auto expect_error = [](ConfigMap config, ConfigMap env, std::string_view needle) {
    config.emplace("account_name", "a");
    auto s = ResolveAzureSettings(config, MapEnv(std::move(env)));
    ASSERT_FALSE(s.ok()) << needle;
    EXPECT_EQ(s.status().kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(s.status().message().find(needle), std::string::npos)
        << s.status().message() << " should mention " << needle;
  };
  expect_error({{"max_connections", "lots"}}, {}, "max_connections");
  expect_error({{"max_connections", "0"}}, {}, "max_connections");
  expect_error({{"block_size", "0"}}, {}, "block_size");
  expect_error({{"block_size", "5000000000"}}, {}, "block_size");
  expect_error({{"single_put_threshold", "-1"}}, {}, "single_put_threshold");
  expect_error({{"deadline_ms", "0"}}, {}, "deadline_ms");
  expect_error({{"connect_timeout_ms", "x"}}, {}, "connect_timeout_ms");
  expect_error({{"retry_max_attempts", "0"}}, {}, "retry_max_attempts");
  expect_error({{"account_key", "%%%%"}}, {}, "account_key");
  expect_error({{"sas_token", "sv=1&sp=r"}}, {}, "sas_token");
  expect_error({{"endpoint", "localhost:10000"}}, {}, "endpoint");
  expect_error({{"connection_string", "AccountName=a;Bogus=1"}}, {}, "connection_string");
  expect_error({}, {{"AZURE_STORAGE_CONNECTION_STRING", "Nope"}},
               "AZURE_STORAGE_CONNECTION_STRING");
  expect_error({}, {{"AZURE_STORAGE_KEY", "!!!!"}}, "AZURE_STORAGE_KEY");
}

TEST(AzureSettingsResolve, KeyWithoutAccountIsAnError) {
  auto s =
      ResolveAzureSettings({{"endpoint", "https://h.example"}, {"account_key", kKey}}, MapEnv({}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("account_name"), std::string::npos);
}

TEST(AzureSettingsResolve, UnrelatedKeysAreIgnored) {
  auto s = ResolveAzureSettings({{"account_name", "a"}, {"region", "us-east-1"}}, MapEnv({}));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
}

}  // namespace
}  // namespace nimbus::store
