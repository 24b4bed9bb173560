#include "store/s3/s3_store.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <mutex>

#include "store/s3/s3_xml.h"

namespace nimbus::s3 {

using store::ByteRange;
using store::GetResult;
using store::ListOptions;
using store::ListResult;
using store::ObjectInfo;
using store::PutOptions;
using store::PutResult;

// One S3 operation. Immutable once built, so every retry signs and sends exactly the same thing.
struct S3Store::Call {
  std::string method = "GET";
  std::string full_key;  // empty: the bucket itself
  QueryParams query;
  http::Headers headers;  // besides host and the signer's own
  std::shared_ptr<const Buffer> body;
  size_t body_offset = 0;
  size_t body_length = std::string::npos;
  std::string payload_hash;  // computed once, before the first attempt
  bool no_body = false;
  size_t expected_size = 0;
  bool idempotent = true;
  // Non-2xx statuses this operation handles itself (e.g. 404 for DELETE, 416 for GET).
  std::vector<int> accepted_statuses;
};

namespace {

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Md5Base64(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  return Base64(std::string_view(reinterpret_cast<const char*>(digest), len));
}

std::string PayloadHash(bool signed_payloads, std::string_view body) {
  if (body.empty()) return std::string(kEmptyPayloadSha256);
  return signed_payloads ? Sha256Hex(body) : std::string(kUnsignedPayload);
}

// Transforms the future of a response into the future of an operation's result.
template <typename T, typename Fn>
Future<T> Then(Future<Result<http::Response>> response, Fn fn) {
  Promise<T> promise;
  Future<T> future = promise.future();
  response.Then([promise, fn = std::move(fn)](Result<http::Response>& r) { promise.Set(fn(r)); });
  return future;
}

ObjectInfo InfoFromHeaders(const http::Response& r, std::string key) {
  ObjectInfo info;
  info.key = std::move(key);
  info.etag = std::string(r.Header("etag"));
  info.last_modified = ParseHttpTime(r.Header("last-modified"));
  std::string_view range = r.Header("content-range");  // "bytes a-b/N" or "bytes */N"
  size_t slash = range.rfind('/');
  if (slash != std::string_view::npos && range.substr(slash + 1) != "*") {
    info.size = std::strtoull(std::string(range.substr(slash + 1)).c_str(), nullptr, 10);
  } else {
    info.size = std::strtoull(std::string(r.Header("content-length")).c_str(), nullptr, 10);
  }
  return info;
}

}  // namespace

ErrorKind ClassifyS3Error(int http_status, std::string_view code) {
  if (!code.empty()) {
    if (code == "SlowDown" || code == "Throttling" || code == "ThrottlingException" ||
        code == "RequestLimitExceeded" || code == "TooManyRequests" ||
        code == "RequestThrottled" || code == "BandwidthLimitExceeded") {
      return ErrorKind::kThrottled;
    }
    if (code == "InternalError" || code == "ServiceUnavailable" || code == "RequestTimeout" ||
        code == "XMinioServerNotInitialized" || code == "XMinioStorageFull" ||
        code == "IncompleteBody" || code == "OperationAborted") {
      return code == "XMinioStorageFull" ? ErrorKind::kPermanent : ErrorKind::kTransient;
    }
    if (code == "NoSuchKey" || code == "NoSuchBucket" || code == "NoSuchUpload" ||
        code == "NotFound") {
      return ErrorKind::kNotFound;
    }
    if (code == "AccessDenied" || code == "InvalidAccessKeyId" ||
        code == "SignatureDoesNotMatch" || code == "ExpiredToken" ||
        code == "InvalidToken" || code == "AllAccessDisabled") {
      return ErrorKind::kAccessDenied;
    }
    if (code == "PreconditionFailed" || code == "ConditionalRequestConflict") {
      return ErrorKind::kPreconditionFailed;
    }
  }
  if (http_status == 429) return ErrorKind::kThrottled;
  if (http_status == 503) return ErrorKind::kThrottled;
  if (http_status >= 500) return ErrorKind::kTransient;
  if (http_status == 404) return ErrorKind::kNotFound;
  if (http_status == 401 || http_status == 403) return ErrorKind::kAccessDenied;
  if (http_status == 412) return ErrorKind::kPreconditionFailed;
  if (http_status == 408) return ErrorKind::kTransient;
  return ErrorKind::kPermanent;
}

bool IsDnsCompatibleBucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;  // dots break TLS wildcard certificates, so they count as incompatible
  }
  return bucket.front() != '-' && bucket.back() != '-';
}

S3Store::S3Store(S3Settings settings, std::string bucket, std::string prefix,
                 std::shared_ptr<http::Client> client)
    : settings_(std::move(settings)), bucket_(std::move(bucket)), prefix_(std::move(prefix)) {
  std::string endpoint = settings_.endpoint;
  bool custom_endpoint = !endpoint.empty();
  if (!custom_endpoint) {
    endpoint = std::string(settings_.use_tls ? "https" : "http") + "://s3." + settings_.region +
               ".amazonaws.com";
  }
  size_t sep = endpoint.find("://");
  scheme_ = endpoint.substr(0, sep);
  host_ = endpoint.substr(sep + 3);
  switch (settings_.addressing) {
    case S3Settings::Addressing::kPath: path_style_ = true; break;
    case S3Settings::Addressing::kVirtual: path_style_ = false; break;
    case S3Settings::Addressing::kAuto:
      path_style_ = custom_endpoint || !IsDnsCompatibleBucket(bucket_);
      break;
  }
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  if (!client) {
    http::ClientOptions options;
    options.max_connections = settings_.max_connections;
    options.connect_timeout = std::chrono::milliseconds(settings_.connect_timeout_ms);
    options.stall_timeout = std::chrono::milliseconds(settings_.stall_timeout_ms);
    options.verify_tls = settings_.verify_tls;
    options.ca_bundle = settings_.ca_bundle;
    client = std::make_shared<http::Client>(options);
  }
  client_ = std::move(client);
  retry_.max_attempts = settings_.retry_max_attempts;
  retry_.initial_backoff = std::chrono::milliseconds(settings_.retry_initial_backoff_ms);
  retry_.max_backoff = std::chrono::milliseconds(settings_.retry_max_backoff_ms);
  retry_.deadline = std::chrono::milliseconds(settings_.deadline_ms);
}

std::string S3Store::Describe() const {
  return "s3://" + bucket_ + (prefix_.empty() ? "" : "/" + prefix_);
}

store::StoreCapabilities S3Store::Capabilities() const {
  store::StoreCapabilities caps;
  caps.conditional_put = settings_.conditional_writes;
  return caps;
}

Status S3Store::CheckConditionalAllowed(const PutOptions& options,
                                        std::string_view full_key) const {
  if (settings_.conditional_writes || (!options.if_none_match_any && options.if_match.empty())) {
    return Status::Ok();
  }
  // Sending the header to a server that ignores it would silently overwrite.
  return Status(
      ErrorKind::kUnimplemented,
      "S3 PUT " + Where(full_key) + ": conditional writes (If-None-Match/If-Match) are off " +
          "for this endpoint (conditional_writes=false, the default for region 'garage', " +
          "whose server ignores them); set conditional_writes=true if the server honours them");
}

std::string S3Store::FullKey(std::string_view key) const {
  if (prefix_.empty()) return std::string(key);
  return prefix_ + "/" + std::string(key);
}

std::string S3Store::Where(std::string_view full_key) const {
  std::string where = "s3://" + bucket_ + "/" + std::string(full_key);
  if (!settings_.endpoint.empty()) where += " at " + settings_.endpoint;
  return where;
}

Result<http::Request> S3Store::Build(const Call& call) const {
  std::string key_path = SigV4Encode(call.full_key, /*keep_slash=*/true);
  SigningRequest signing;
  signing.method = call.method;
  std::string host = path_style_ ? host_ : bucket_ + "." + host_;
  signing.path = path_style_ ? "/" + bucket_ + "/" + key_path : "/" + key_path;
  signing.query = call.query;
  signing.headers = call.headers;
  signing.headers.emplace_back("host", host);
  signing.payload_hash = call.payload_hash;

  SigningParams params;
  params.region = settings_.region;
  params.time = std::time(nullptr);
  NIMBUS_ASSIGN_OR_RETURN(SignedRequest signed_request,
                          signer_.SignHeaders(settings_.credentials, signing, params));

  http::Request request;
  request.method = call.method;
  request.url = scheme_ + "://" + host + signing.path;
  if (!call.query.empty()) {
    // Same encoding as the signer's canonical query, so the server recomputes the same string.
    auto sorted = call.query;
    for (auto& [name, value] : sorted) {
      name = SigV4Encode(name, false);
      value = SigV4Encode(value, false);
    }
    std::sort(sorted.begin(), sorted.end());
    char sep = '?';
    for (const auto& [name, value] : sorted) {
      request.url += sep + name + "=" + value;
      sep = '&';
    }
  }
  request.headers = std::move(signing.headers);
  signed_request.AddAuthHeaders(request.headers);
  request.body = call.body;
  request.body_offset = call.body_offset;
  request.body_length = call.body_length;
  request.no_body = call.no_body;
  request.expected_response_size = call.expected_size;
  return request;
}

Future<Result<http::Response>> S3Store::Send(std::shared_ptr<const Call> call) {
  auto build = [this, call]() { return Build(*call); };
  auto classify = [this, call](const http::Response& r) -> Status {
    if (r.status >= 200 && r.status < 300) return Status::Ok();
    for (int s : call->accepted_statuses) {
      if (r.status == s) return Status::Ok();
    }
    S3Error e = ParseError(r.body.view());
    std::string msg = "S3 " + call->method + " " + Where(call->full_key) + ": HTTP " +
                      std::to_string(r.status);
    if (!e.code.empty()) msg += " " + e.code;
    if (!e.message.empty()) msg += ": " + e.message;
    if (e.code.empty() && r.status == 404) msg += ": not found";
    if (e.code.empty() && (r.status == 403 || r.status == 401)) {
      msg += ": access denied (check credentials, region '" + settings_.region + "')";
    }
    if (!e.request_id.empty()) msg += " [request id " + e.request_id + "]";
    return Status(ClassifyS3Error(r.status, e.code), std::move(msg), r.status);
  };
  return client_->SendWithRetry(std::move(build), std::move(classify), retry_, call->idempotent);
}

Future<Result<GetResult>> S3Store::Get(std::string key, ByteRange range) {
  auto call = std::make_shared<Call>();
  call->full_key = FullKey(key);
  call->payload_hash = std::string(kEmptyPayloadSha256);
  bool empty_request = false;
  switch (range.kind) {
    case ByteRange::Kind::kAll: break;
    case ByteRange::Kind::kRange:
      if (range.length == 0) {
        empty_request = true;
        break;
      }
      call->headers.emplace_back("range", "bytes=" + std::to_string(range.offset) + "-" +
                                              std::to_string(range.offset + range.length - 1));
      call->expected_size = range.length;
      break;
    case ByteRange::Kind::kFrom:
      call->headers.emplace_back("range", "bytes=" + std::to_string(range.offset) + "-");
      break;
    case ByteRange::Kind::kSuffix:
      if (range.length == 0) {
        empty_request = true;
        break;
      }
      call->headers.emplace_back("range", "bytes=-" + std::to_string(range.length));
      call->expected_size = range.length;
      break;
  }
  if (empty_request) {
    // Zero bytes asked for: S3 cannot express it, but a missing object must still be reported.
    Promise<Result<GetResult>> promise;
    auto future = promise.future();
    Head(std::move(key)).Then([promise](Result<ObjectInfo>& info) {
      if (!info.ok()) return promise.Set(info.status());
      promise.Set(GetResult{Buffer(), std::move(*info)});
    });
    return future;
  }
  call->accepted_statuses = {416};  // range starts past the end: empty result, not an error
  Promise<Result<GetResult>> promise;
  auto future = promise.future();
  Send(call).Then([this, promise, key](Result<http::Response>& r) {
    if (!r.ok()) return promise.Set(r.status());
    if (r->status == 416 && r->Header("content-range").empty()) {
      // Some servers omit "bytes */size" on 416; the size then comes from a HEAD.
      Head(key).Then([promise](Result<ObjectInfo>& info) {
        if (!info.ok()) return promise.Set(info.status());
        promise.Set(GetResult{Buffer(), std::move(*info)});
      });
      return;
    }
    GetResult result;
    result.info = InfoFromHeaders(*r, key);
    if (r->status != 416) result.data = std::move(r->body);
    promise.Set(std::move(result));
  });
  return future;
}

Future<Result<PutResult>> S3Store::Put(std::string key, Buffer data, PutOptions options) {
  if (Status allowed = CheckConditionalAllowed(options, FullKey(key)); !allowed.ok()) {
    return ReadyFuture(Result<PutResult>(std::move(allowed)));
  }
  if (data.size() > settings_.multipart_threshold) {
    return PutMultipart(FullKey(key), std::move(data), std::move(options));
  }
  auto call = std::make_shared<Call>();
  call->method = "PUT";
  call->full_key = FullKey(key);
  call->payload_hash = PayloadHash(settings_.signed_payloads, data.view());
  call->headers.emplace_back("content-type", options.content_type);
  if (options.if_none_match_any) call->headers.emplace_back("if-none-match", "*");
  if (!options.if_match.empty()) call->headers.emplace_back("if-match", options.if_match);
  call->body = std::make_shared<const Buffer>(std::move(data));
  return Then<Result<PutResult>>(Send(call), [](Result<http::Response>& r) -> Result<PutResult> {
    if (!r.ok()) return r.status();
    return PutResult{std::string(r->Header("etag"))};
  });
}

Future<Result<PutResult>> S3Store::PutMultipart(std::string full_key, Buffer data,
                                                PutOptions options) {
  struct Upload {
    std::shared_ptr<const Buffer> data;
    std::string full_key;
    PutOptions options;
    std::string upload_id;
    std::vector<std::string> part_hashes;
    std::vector<std::string> part_etags;
    std::atomic<size_t> remaining{0};
    std::mutex mu;
    Status first_error;
    Promise<Result<PutResult>> promise;
  };
  auto up = std::make_shared<Upload>();
  up->data = std::make_shared<const Buffer>(std::move(data));
  up->full_key = std::move(full_key);
  up->options = std::move(options);
  const uint64_t part_size = std::max<uint64_t>(settings_.multipart_part_size, 1);
  const size_t parts = static_cast<size_t>((up->data->size() + part_size - 1) / part_size);
  if (parts > 10000) {
    return ReadyFuture(Result<PutResult>(InvalidArgumentError(
        "S3 PUT " + Where(up->full_key) + ": " + std::to_string(up->data->size()) +
        " bytes need " + std::to_string(parts) +
        " parts of multipart_part_size; S3 allows 10000: raise multipart_part_size")));
  }
  // Hash parts here, on the caller's thread, not on the network loop.
  for (size_t i = 0; i < parts; ++i) {
    std::string_view part = up->data->view().substr(i * part_size, part_size);
    up->part_hashes.push_back(PayloadHash(settings_.signed_payloads, part));
  }
  up->part_etags.resize(parts);
  up->remaining = parts;
  auto future = up->promise.future();

  auto abort_with = [this, up](Status error) {
    auto abort = std::make_shared<Call>();
    abort->method = "DELETE";
    abort->full_key = up->full_key;
    abort->query = {{"uploadId", up->upload_id}};
    abort->payload_hash = std::string(kEmptyPayloadSha256);
    abort->accepted_statuses = {404};
    // The error that failed the upload is what the caller sees, whatever the abort does.
    Send(abort).Then([up, error](Result<http::Response>&) { up->promise.Set(error); });
  };

  auto complete = [this, up, abort_with]() {
    auto call = std::make_shared<Call>();
    call->method = "POST";
    call->full_key = up->full_key;
    call->query = {{"uploadId", up->upload_id}};
    std::vector<std::pair<int, std::string>> list;
    for (size_t i = 0; i < up->part_etags.size(); ++i) {
      list.emplace_back(static_cast<int>(i + 1), up->part_etags[i]);
    }
    std::string xml = BuildCompleteMultipartUpload(list);
    call->payload_hash = PayloadHash(settings_.signed_payloads, xml);
    call->headers.emplace_back("content-type", "application/xml");
    if (up->options.if_none_match_any) call->headers.emplace_back("if-none-match", "*");
    if (!up->options.if_match.empty()) call->headers.emplace_back("if-match", up->options.if_match);
    call->body = std::make_shared<const Buffer>(Buffer::CopyOf(xml));
    Send(call).Then([this, up, abort_with](Result<http::Response>& r) {
      if (!r.ok()) return abort_with(r.status());
      // CompleteMultipartUpload can fail with 200 and an <Error> body.
      S3Error e = ParseError(r->body.view());
      if (!e.code.empty()) {
        return abort_with(Status(ClassifyS3Error(500, e.code),
                                 "S3 CompleteMultipartUpload " + Where(up->full_key) + ": " +
                                     e.code + ": " + e.message));
      }
      std::string etag(r->Header("etag"));
      if (etag.empty()) {
        auto pos = r->body.view().find("<ETag>");
        auto end = r->body.view().find("</ETag>");
        if (pos != std::string_view::npos && end != std::string_view::npos) {
          etag = std::string(r->body.view().substr(pos + 6, end - pos - 6));
          // The XML escapes the quotes of the ETag value.
          for (size_t q; (q = etag.find("&quot;")) != std::string::npos;) etag.replace(q, 6, "\"");
        }
      }
      up->promise.Set(PutResult{etag});
    });
  };

  auto initiate = std::make_shared<Call>();
  initiate->method = "POST";
  initiate->full_key = up->full_key;
  initiate->query = {{"uploads", ""}};
  initiate->payload_hash = std::string(kEmptyPayloadSha256);
  initiate->headers.emplace_back("content-type", up->options.content_type);
  Send(initiate).Then([this, up, part_size, complete, abort_with](Result<http::Response>& r) {
    if (!r.ok()) return up->promise.Set(r.status());
    Result<std::string> id = ParseInitiateMultipartUpload(r->body.view());
    if (!id.ok()) return up->promise.Set(id.status().WithContext("S3 PUT " + Where(up->full_key)));
    up->upload_id = *id;
    for (size_t i = 0; i < up->part_etags.size(); ++i) {
      auto part = std::make_shared<Call>();
      part->method = "PUT";
      part->full_key = up->full_key;
      part->query = {{"partNumber", std::to_string(i + 1)}, {"uploadId", up->upload_id}};
      part->payload_hash = up->part_hashes[i];
      part->body = up->data;
      part->body_offset = i * part_size;
      part->body_length = part_size;
      Send(part).Then([up, i, complete, abort_with](Result<http::Response>& pr) {
        {
          std::lock_guard lock(up->mu);
          if (!pr.ok() && up->first_error.ok()) up->first_error = pr.status();
          if (pr.ok()) up->part_etags[i] = std::string(pr->Header("etag"));
        }
        if (--up->remaining > 0) return;
        if (!up->first_error.ok()) return abort_with(up->first_error);
        complete();
      });
    }
  });
  return future;
}

Future<Result<ObjectInfo>> S3Store::Head(std::string key) {
  auto call = std::make_shared<Call>();
  call->method = "HEAD";
  call->full_key = FullKey(key);
  call->payload_hash = std::string(kEmptyPayloadSha256);
  call->no_body = true;
  return Then<Result<ObjectInfo>>(
      Send(call), [key = std::move(key)](Result<http::Response>& r) -> Result<ObjectInfo> {
        if (!r.ok()) return r.status();
        return InfoFromHeaders(*r, key);
      });
}

Future<Status> S3Store::Delete(std::string key) {
  auto call = std::make_shared<Call>();
  call->method = "DELETE";
  call->full_key = FullKey(key);
  call->payload_hash = std::string(kEmptyPayloadSha256);
  call->accepted_statuses = {404};
  return Then<Status>(Send(call), [](Result<http::Response>& r) { return r.status(); });
}

Future<Status> S3Store::DeleteMany(std::vector<std::string> keys) {
  constexpr size_t kBatch = 1000;  // S3's limit per DeleteObjects request
  if (keys.empty()) return ReadyFuture(Status::Ok());
  struct State {
    std::atomic<size_t> remaining{0};
    std::mutex mu;
    Status first_error;
    Promise<Status> promise;
  };
  auto state = std::make_shared<State>();
  size_t batches = (keys.size() + kBatch - 1) / kBatch;
  state->remaining = batches;
  auto future = state->promise.future();
  for (size_t b = 0; b < batches; ++b) {
    std::vector<std::string> full_keys;
    for (size_t i = b * kBatch; i < std::min(keys.size(), (b + 1) * kBatch); ++i) {
      full_keys.push_back(FullKey(keys[i]));
    }
    std::string xml = BuildDeleteObjects(full_keys);
    auto call = std::make_shared<Call>();
    call->method = "POST";
    call->query = {{"delete", ""}};
    call->payload_hash = PayloadHash(settings_.signed_payloads, xml);
    call->headers.emplace_back("content-md5", Md5Base64(xml));
    call->headers.emplace_back("content-type", "application/xml");
    call->body = std::make_shared<const Buffer>(Buffer::CopyOf(xml));
    Send(call).Then([this, state](Result<http::Response>& r) {
      Status status = r.status();
      if (r.ok()) {
        auto errors = ParseDeleteObjectsErrors(r->body.view());
        if (!errors.empty()) {
          status = PermanentError("S3 DeleteObjects " + Where(errors[0].first) + ": " +
                                  errors[0].second + " (" + std::to_string(errors.size()) +
                                  " keys failed)");
        }
      }
      {
        std::lock_guard lock(state->mu);
        if (!status.ok() && state->first_error.ok()) state->first_error = status;
      }
      if (--state->remaining == 0) state->promise.Set(state->first_error);
    });
  }
  return future;
}

Future<Result<ListResult>> S3Store::List(ListOptions options) {
  struct State {
    ListOptions options;
    std::string full_prefix;
    ListResult result;
    Promise<Result<ListResult>> promise;
    std::function<void(std::string)> next_page;
  };
  auto state = std::make_shared<State>();
  state->options = std::move(options);
  state->full_prefix = prefix_.empty() ? state->options.prefix : prefix_ + "/" + state->options.prefix;
  auto future = state->promise.future();
  const size_t strip = prefix_.empty() ? 0 : prefix_.size() + 1;

  // Pages are sequential by nature (each needs the previous token). The recursion goes through
  // the network loop, so it does not grow the stack.
  std::weak_ptr<State> weak = state;
  state->next_page = [this, weak, strip](std::string token) {
    auto st = weak.lock();
    if (!st) return;
    auto call = std::make_shared<Call>();
    call->query = {{"list-type", "2"},
                   {"prefix", st->full_prefix},
                   {"max-keys", std::to_string(std::clamp(st->options.page_size, 1, 1000))}};
    if (!st->options.delimiter.empty()) call->query.emplace_back("delimiter", st->options.delimiter);
    if (!token.empty()) call->query.emplace_back("continuation-token", token);
    call->payload_hash = std::string(kEmptyPayloadSha256);
    Send(call).Then([this, st, strip](Result<http::Response>& r) {
      auto finish = [&st](Result<ListResult> result) {
        auto promise = st->promise;
        st->next_page = nullptr;  // break the state <-> closure cycle
        promise.Set(std::move(result));
      };
      if (!r.ok()) return finish(r.status());
      Result<ListPage> page = ParseListObjectsV2(r->body.view());
      if (!page.ok()) return finish(page.status().WithContext("listing " + Describe()));
      for (auto& obj : page->objects) {
        obj.key = obj.key.substr(std::min(strip, obj.key.size()));
        st->result.objects.push_back(std::move(obj));
      }
      for (auto& p : page->common_prefixes) {
        st->result.common_prefixes.push_back(p.substr(std::min(strip, p.size())));
      }
      if (page->truncated) return st->next_page(page->next_continuation_token);
      finish(std::move(st->result));
    });
  };
  // The closure holds only a weak reference (no cycle); each page's response callback holds the
  // state strongly until it completes the promise or asks for the next page.
  state->next_page("");
  return future;
}

Status S3Store::CreateBucketIfMissing() {
  auto call = std::make_shared<Call>();
  call->method = "PUT";
  call->payload_hash = std::string(kEmptyPayloadSha256);
  call->accepted_statuses = {409};  // judged here, by the error code in the body
  auto r = Send(call).Get();
  if (!r.ok() || r->status != 409) return r.status();
  S3Error e = ParseError(r->body.view());
  if (e.code == "BucketAlreadyOwnedByYou") return Status::Ok();
  return Status(ClassifyS3Error(409, e.code),
                "S3 PUT s3://" + bucket_ + ": HTTP 409 " + e.code + ": " + e.message, 409);
}

}  // namespace nimbus::s3
