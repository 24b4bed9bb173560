// S3Store: the ObjectStore on any S3-compatible service (AWS, MinIO, Garage, Ceph), over our
// event-driven HTTP client and our SigV4 signer. One store = one bucket + key prefix.
#pragma once

#include <memory>
#include <string>

#include "store/http/http_client.h"
#include "store/object_store.h"
#include "store/s3/s3_settings.h"
#include "store/s3/sigv4.h"

namespace nimbus::s3 {

class S3Store : public store::ObjectStore {
 public:
  // `client` may be shared between stores on the same endpoint (one connection pool); when null,
  // the store makes its own from the settings.
  S3Store(S3Settings settings, std::string bucket, std::string prefix,
          std::shared_ptr<http::Client> client = nullptr);

  std::string Describe() const override;
  store::StoreCapabilities Capabilities() const override;

  Future<Result<store::GetResult>> Get(std::string key, store::ByteRange range) override;
  Future<Result<store::PutResult>> Put(std::string key, Buffer data,
                                       store::PutOptions options) override;
  Future<Result<store::ObjectInfo>> Head(std::string key) override;
  Future<Status> Delete(std::string key) override;
  Future<Result<store::ListResult>> List(store::ListOptions options) override;
  Future<Status> DeleteMany(std::vector<std::string> keys) override;

  // Creates the bucket (tests, tools); an existing bucket owned by us is success.
  Status CreateBucketIfMissing();

  const S3Settings& settings() const { return settings_; }
  http::Client& client() { return *client_; }

 private:
  struct Call;  // one S3 operation: what to sign and send, and how to judge the response
  Future<Result<http::Response>> Send(std::shared_ptr<const Call> call);
  Result<http::Request> Build(const Call& call) const;
  std::string FullKey(std::string_view key) const;
  std::string Where(std::string_view full_key) const;  // "s3://bucket/key" for messages
  // kUnimplemented when `options` asks for a conditional write and conditional_writes is off.
  Status CheckConditionalAllowed(const store::PutOptions& options, std::string_view full_key) const;

  Future<Result<store::PutResult>> PutMultipart(std::string full_key, Buffer data,
                                                store::PutOptions options);

  S3Settings settings_;
  std::string bucket_;
  std::string prefix_;
  bool path_style_ = true;
  std::string scheme_;  // "http" / "https"
  std::string host_;    // host[:port] of the endpoint (without the bucket)
  std::shared_ptr<http::Client> client_;
  Signer signer_;
  http::RetryPolicy retry_;
};

// Maps an S3 response (status + XML error code) to an ErrorKind; the code decides when present.
ErrorKind ClassifyS3Error(int http_status, std::string_view code);

// Returns true when `bucket` can be a DNS label (virtual-hosted addressing possible).
bool IsDnsCompatibleBucket(std::string_view bucket);

}  // namespace nimbus::s3
