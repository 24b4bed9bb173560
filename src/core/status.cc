#include "core/status.h"

namespace nimbus {

std::string_view ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk: return "OK";
    case ErrorKind::kNotFound: return "not found";
    case ErrorKind::kPreconditionFailed: return "precondition failed";
    case ErrorKind::kAccessDenied: return "access denied";
    case ErrorKind::kThrottled: return "throttled";
    case ErrorKind::kTransient: return "transient error";
    case ErrorKind::kPermanent: return "error";
    case ErrorKind::kInvalidArgument: return "invalid argument";
    case ErrorKind::kDeadlineExceeded: return "deadline exceeded";
    case ErrorKind::kUnimplemented: return "unimplemented";
  }
  return "error";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s(ErrorKindName(kind_));
  if (http_status_ != 0) s += " (HTTP " + std::to_string(http_status_) + ")";
  s += ": ";
  s += message_;
  return s;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  return Status(kind_, std::move(m), http_status_);
}

}  // namespace nimbus
