// Status and Result: errors are values inside nimbus. Only the C ABI / HDF5 / HTTP edges turn
// them into something else (HDF5 error stack, HTTP status), once.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace nimbus {

// What a caller can do about an error: the kind decides retries and how the edge reports it.
enum class ErrorKind {
  kOk = 0,
  kNotFound,            // key, bucket or object absent
  kPreconditionFailed,  // If-Match / If-None-Match not met (HTTP 412, 409 on some stores)
  kAccessDenied,        // credentials refused (401/403)
  kThrottled,           // 429, 503 SlowDown: retried with backoff
  kTransient,           // 5xx, connection reset, timeout: retried with backoff
  kPermanent,           // any other failure the store reported; retrying will not help
  kInvalidArgument,     // caller input is wrong (bad URL, bad range, bad config)
  kDeadlineExceeded,    // total deadline reached (after retries)
  kUnimplemented,       // feature not supported by this driver
};

std::string_view ErrorKindName(ErrorKind kind);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorKind kind, std::string message, int http_status = 0)
      : kind_(kind), http_status_(http_status), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return kind_ == ErrorKind::kOk; }
  ErrorKind kind() const { return kind_; }
  // HTTP status of the response that caused the error, 0 when none (local error, no response).
  int http_status() const { return http_status_; }
  const std::string& message() const { return message_; }

  // "not found: <message>"; "OK" when ok.
  std::string ToString() const;

  // Returns a copy whose message is prefixed with context ("reading chunk c/0/1: ...").
  Status WithContext(std::string_view context) const;

 private:
  ErrorKind kind_ = ErrorKind::kOk;
  int http_status_ = 0;
  std::string message_;
};

inline Status NotFoundError(std::string m) { return Status(ErrorKind::kNotFound, std::move(m)); }
inline Status InvalidArgumentError(std::string m) {
  return Status(ErrorKind::kInvalidArgument, std::move(m));
}
inline Status PermanentError(std::string m) { return Status(ErrorKind::kPermanent, std::move(m)); }
inline Status TransientError(std::string m) { return Status(ErrorKind::kTransient, std::move(m)); }
inline Status UnimplementedError(std::string m) {
  return Status(ErrorKind::kUnimplemented, std::move(m));
}

// Result<T>: a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace nimbus

#define NIMBUS_CONCAT_INNER_(a, b) a##b
#define NIMBUS_CONCAT_(a, b) NIMBUS_CONCAT_INNER_(a, b)

#define NIMBUS_RETURN_IF_ERROR(expr)             \
  do {                                           \
    ::nimbus::Status nimbus_status_ = (expr);    \
    if (!nimbus_status_.ok()) return nimbus_status_; \
  } while (0)

#define NIMBUS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

// NIMBUS_ASSIGN_OR_RETURN(auto x, Compute()); returns the Status on error.
#define NIMBUS_ASSIGN_OR_RETURN(lhs, expr) \
  NIMBUS_ASSIGN_OR_RETURN_IMPL_(NIMBUS_CONCAT_(nimbus_result_, __LINE__), lhs, expr)
