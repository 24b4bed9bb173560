#include "vol/errors.h"

#include <cerrno>

namespace nimbus::vol {
namespace {

// Registered lazily (never at load or in `initialize`: HDF5 probes every plugin, see the notes).
// Re-registered if the library was closed and reopened, which invalidates every ID.
hid_t ErrorClass() {
  static hid_t error_class = H5I_INVALID_HID;
  if (error_class < 0 || H5Iis_valid(error_class) <= 0) {
    error_class = H5Eregister_class("nimbus", "nimbus", "0.1.0");
  }
  return error_class;
}

}  // namespace

int ErrnoFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNotFound: return ENOENT;
    case ErrorKind::kPreconditionFailed: return EEXIST;
    case ErrorKind::kAccessDenied: return EACCES;
    case ErrorKind::kThrottled:
    case ErrorKind::kTransient:
    case ErrorKind::kDeadlineExceeded:
    case ErrorKind::kPermanent: return EIO;
    case ErrorKind::kInvalidArgument: return EINVAL;
    case ErrorKind::kUnimplemented: return ENOSYS;
    case ErrorKind::kOk: return 0;
  }
  return 0;
}

void PushError(const char* func, ErrorSite site, const Status& status) {
  std::string text = status.message();
  if (status.http_status() != 0 && text.find("HTTP") == std::string::npos) {
    text += " (HTTP " + std::to_string(status.http_status()) + ")";
  }
  if (int e = ErrnoFor(status.kind()); e != 0) text += " (errno = " + std::to_string(e) + ")";
  hid_t cls = ErrorClass();
  if (cls < 0) return;  // nothing more we can do; the caller still returns failure
  // The message goes through "%s" so that '%' in keys or names is never read as a format.
  H5Epush2(H5E_DEFAULT, __FILE__, func, __LINE__, cls, site.major, site.minor, "%s", text.c_str());
}

Status Hdf5CallFailed(std::string_view what) {
  return Status(ErrorKind::kPermanent, "HDF5 call failed while " + std::string(what));
}

}  // namespace nimbus::vol
